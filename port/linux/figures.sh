#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The benchmark figures that the patches quote, taken from the committed
# bench/results/<machine>/summary.txt by table, row and column label (never
# by line number), so that make-patch.sh can be rerun after a new run
# replaces a summary.  Sourced by make-patch.sh and check-patch.sh; the
# caller sets `here` (port/linux) and `set -eu` first.
#
#   figures_fill TEMPLATE        print TEMPLATE with each {{...}} replaced
#   figures_check FILE WHAT [figures]
#                                fail unless every number in FILE (or
#                                every measurement) appears in a
#                                committed summary.txt
#
# Placeholders, MACHINE being a directory of bench/results:
#
#   {{MACHINE producer-nodelay ROW COLUMN}}   enqueue, producer side, policy
#   {{MACHINE producer-delay ROW COLUMN}}     nodelay / delay: the median, M/s
#   {{MACHINE cost ROW/POLICY COLUMN}}        enqueue cost: ns per defer
#   {{MACHINE e2e ROW/POLICY COLUMN}}         end_to_end: the median, M/s
#   {{MACHINE reps}}          the enqueue repetitions ("enqueue: N repetitions")
#   {{MACHINE cpus}}          "N CPUs online" of the machine line
#   {{MACHINE e2e-producers}} N of "end_to_end (N producers)"
#   {{MACHINE v5-lock}}       what the v5_kernel row's lock is: "a queued
#                             lock" when the run also has a v5_kernel_tas
#                             row, else "a pthread spinlock"
#
# ROW is the row's first word (v5_kernel, not "v5_kernel (kernel)"); COLUMN
# a column label of the table's header (threads=16, flush=10000ns).  A
# missing summary, table, row or column, or a cell that is not a figure,
# stops with a message that names it.
#
# A paragraph of the template (lines between blank lines, or an item that
# starts with "- ") that held a placeholder is re-wrapped to 72 columns
# once the figures are in, keeping the indentation of its first line (and
# for an item, hanging its other lines under its text).

# shellcheck disable=SC2154  # here: set by the caller
results=$here/../../bench/results

figures_die() {
	echo "figures.sh: $*" >&2
	exit 1
}

# figures_summary MACHINE: the path of its summary, which must exist.
figures_summary() {
	f=$results/$1/summary.txt
	[ -f "$f" ] || figures_die "no $f (placeholder machine '$1')"
	echo "$f"
}

# figures_cell FILE TITLE WIDTH ROW COLUMN: the first field of ROW's cell
# under COLUMN, in the table whose title line starts with TITLE; a cell is
# WIDTH fields, or the two of "(see sustained)".
figures_cell() {
	awk -v title="$2" -v width="$3" -v row="$4" -v col="$5" '
	function die(msg) { print "figures.sh: " FILENAME ": " msg > "/dev/stderr"; bad = 1; exit 1 }
	state == 0 && index($0, title) == 1 { state = 1; next }
	state == 1 {
		# The header: column labels are the fields with an "=".
		for (i = 2; i <= NF; i++)
			if ($i ~ /=/)
				cols[++ncols] = $i
		for (c = 1; c <= ncols; c++)
			if (cols[c] == col)
				want = c
		if (!want)
			die("table \"" title "\" has no column " col)
		state = 2
		next
	}
	state == 2 && NF == 0 { state = 3 }
	state == 2 && $1 == row {
		i = 2
		if ($2 ~ /^\([a-z]+\)$/)	# the fixed policy of the row
			i = 3
		n = 0
		while (i <= NF) {
			if ($i == "(see") {
				cell[++n] = "(see sustained)"
				i += 2
			} else {
				cell[++n] = $i
				i += width
			}
		}
		if (n != ncols)
			die("row " row " of table \"" title "\" has " n " cells for " ncols " columns")
		v = cell[want]
		if (v !~ /^[0-9]+(\.[0-9]+)?$/)
			die("row " row ", column " col " of table \"" title "\" is \"" v "\", not a figure")
		print v
		found = 1
		exit
	}
	END {
		if (bad)
			exit 1
		if (state == 0)
			die("no table \"" title "\"")
		if (!found)
			die("table \"" title "\" has no row " row)
	}
	' "$1"
}

# figures_value MACHINE KIND [ROW COLUMN]: the text of one placeholder.
figures_value() {
	f=$(figures_summary "$1") || return 1
	case "$2" in
	producer-nodelay) figures_cell "$f" "enqueue, producer side, policy nodelay:" 3 "$3" "$4" ;;
	producer-delay) figures_cell "$f" "enqueue, producer side, policy delay:" 3 "$3" "$4" ;;
	cost) figures_cell "$f" "enqueue cost, producer side:" 3 "$3" "$4" ;;
	e2e) figures_cell "$f" "end_to_end (" 3 "$3" "$4" ;;
	reps | cpus | e2e-producers | v5-lock)
		awk -v kind="$2" '
		kind == "reps" && $1 == "enqueue:" && $3 == "repetitions" { print $2; found = 1; exit }
		kind == "cpus" && $1 == "machine:" && match($0, /, [0-9]+ CPUs online/) {
			s = substr($0, RSTART + 2, RLENGTH - 2); sub(/ .*/, "", s); print s; found = 1; exit
		}
		kind == "e2e-producers" && match($0, /^end_to_end \([0-9]+ producers\)/) {
			s = substr($0, 13); sub(/ .*/, "", s); print s; found = 1; exit
		}
		kind == "v5-lock" && $1 == "v5_kernel_tas" { tas = 1 }
		END {
			if (kind == "v5-lock") {
				print tas ? "a queued lock" : "a pthread spinlock"
				exit 0
			}
			if (!found) {
				print "figures.sh: " FILENAME ": no line gives " kind > "/dev/stderr"
				exit 1
			}
		}
		' "$f"
		;;
	*) figures_die "unknown placeholder kind '$2' (machine $1)" ;;
	esac
}

# figures_fill TEMPLATE: the template with its placeholders filled.
figures_fill() {
	ftmp=$(mktemp "${TMPDIR:-/tmp}/pgfree-figures.XXXXXX")
	# One "placeholder<TAB>value" line per distinct placeholder.
	grep -o '{{[^}]*}}' "$1" | sort -u | while IFS= read -r ph; do
		# shellcheck disable=SC2046  # the words of the placeholder
		set -- $(echo "$ph" | sed 's/^{{//; s/}}$//')
		[ $# -eq 2 ] || [ $# -eq 4 ] || figures_die "$1: malformed placeholder $ph"
		v=$(figures_value "$@") || exit 1
		printf '%s\t%s\n' "$ph" "$v"
	done >"$ftmp" || { rm -f "$ftmp"; exit 1; }
	awk -v values="$ftmp" '
	BEGIN {
		FS = "\t"
		while ((getline line < values) > 0) {
			split(line, kv, "\t")
			val[kv[1]] = kv[2]
		}
		FS = " "
	}
	function flush(   i, s, indent, hang, n, out, sep) {
		if (!np)
			return
		if (!filled) {
			for (i = 1; i <= np; i++)
				print para[i]
		} else {
			match(para[1], /^ */)
			indent = substr(para[1], 1, RLENGTH)
			hang = indent
			if (substr(para[1], RLENGTH + 1, 2) == "- ")
				hang = indent "  "
			# The words, and whether two spaces follow each: where
			# the text has two, and after a sentence at a line end.
			n = 0
			for (i = 1; i <= np; i++) {
				s = para[i]
				sub(/^ +/, "", s)
				sub(/ +$/, "", s)
				while (match(s, / +/)) {
					w[++n] = substr(s, 1, RSTART - 1)
					two[n] = RLENGTH > 1
					s = substr(s, RSTART + RLENGTH)
				}
				w[++n] = s
				two[n] = s ~ /[.?!]$/
			}
			out = indent w[1]
			for (i = 2; i <= n; i++) {
				sep = two[i - 1] ? "  " : " "
				if (length(out) + length(sep) + length(w[i]) > 72) {
					print out
					out = hang w[i]
				} else {
					out = out sep w[i]
				}
			}
			print out
		}
		np = 0
		filled = 0
	}
	{
		line = $0
		lf = 0
		while (match(line, /\{\{[^}]*\}\}/)) {
			ph = substr(line, RSTART, RLENGTH)
			line = substr(line, 1, RSTART - 1) val[ph] substr(line, RSTART + RLENGTH)
			lf = 1
		}
		if (line == "") {
			flush()
			print ""
		} else {
			if (np && line ~ /^ *- /)	# an item starts a paragraph
				flush()
			para[++np] = line
			if (lf)
				filled = 1
		}
	}
	END { flush() }
	' "$1"
	rm -f "$ftmp"
}

# figures_numbers [figures]: the numbers of stdin, one a line: digits with
# an optional decimal part, standing alone (not part of a word such as v6
# or x86_64, though "2.5x" counts as 2.5).  With "figures", only those that
# read as measurements: with decimals, or followed by a unit (ns, us, ms,
# s, M/s, %) or by "x"; so "nr_frees=16384" and "16 vCPUs" are left out.
figures_numbers() {
	awk -v only="${1:-all}" '{
		s = $0
		while (match(s, /[0-9]+(\.[0-9]+)?/)) {
			pre = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
			num = substr(s, RSTART, RLENGTH)
			s = substr(s, RSTART + RLENGTH)
			if (pre ~ /[A-Za-z0-9_.]/)
				continue
			ratio = s ~ /^x([^A-Za-z0-9_]|$)/
			if (s ~ /^[A-Za-z0-9_]/ && !ratio)
				continue
			if (only == "figures" && num !~ /\./ && !ratio &&
			    s !~ /^ ?(ns|us|ms|s|M\/s|%)([^A-Za-z0-9_]|$)/)
				continue
			print num
		}
	}'
}

# figures_check FILE WHAT [figures]: every number of FILE (with "figures",
# every measurement, see figures_numbers) appears in a summary.
figures_check() {
	ctmp=$(mktemp "${TMPDIR:-/tmp}/pgfree-figures.XXXXXX")
	file=$1 what=$2 only=${3:-all}
	set -- "$results"/*/summary.txt
	[ -f "$1" ] || { rm -f "$ctmp"; figures_die "no bench/results/*/summary.txt"; }
	# Every digit run of the summaries, with its decimals, counts there.
	cat "$@" | grep -o '[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}' | sort -u >"$ctmp"
	missing=$(figures_numbers "$only" <"$file" | sort -u | grep -vxF -f "$ctmp" || true)
	rm -f "$ctmp"
	if [ -n "$missing" ]; then
		echo "figures.sh: $what quotes numbers that no committed bench/results/*/summary.txt holds:" $missing >&2
		return 1
	fi
}
