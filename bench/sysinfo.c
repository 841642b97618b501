// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The machine's description, recorded in the JSON context of every run:
 * CPU model, online CPUs, caches, NUMA nodes, kernel, compiler.  (Google
 * Benchmark adds its own num_cpus, mhz_per_cpu, caches and load average.)
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "gbench.h"
#include "sysinfo.h"

static void cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (colon && !strncmp(line, "model name", 10)) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = 0;
			break;
		}
	}
	fclose(f);
}

static int numa_nodes(void)
{
	DIR *d = opendir("/sys/devices/system/node");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
			n++;
	closedir(d);
	return n ? n : 1;
}

static void caches(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; i < 8; i++) {
		char path[128], level[16] = "", type[32] = "", size[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		if (!(f = fopen(path, "r")))
			break;
		if (!fgets(level, sizeof(level), f))
			level[0] = 0;
		fclose(f);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
		if ((f = fopen(path, "r"))) {
			if (!fgets(type, sizeof(type), f))
				type[0] = 0;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		if ((f = fopen(path, "r"))) {
			if (!fgets(size, sizeof(size), f))
				size[0] = 0;
			fclose(f);
		}
		level[strcspn(level, "\n")] = 0;
		type[strcspn(type, "\n")] = 0;
		size[strcspn(size, "\n")] = 0;
		off += (size_t)snprintf(buf + off, len - off, "%sL%s %s %s", off ? ", " : "", level,
					type, size);
		if (off >= len)
			break;
	}
}

void sysinfo_record(const char *pin_list)
{
	char buf[512];
	struct utsname u;

	cpu_model(buf, sizeof(buf));
	gb_add_context("pgfree_cpu_model", buf);
	snprintf(buf, sizeof(buf), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	gb_add_context("pgfree_cpus_online", buf);
	caches(buf, sizeof(buf));
	gb_add_context("pgfree_caches_cpu0", buf);
	snprintf(buf, sizeof(buf), "%d", numa_nodes());
	gb_add_context("pgfree_numa_nodes", buf);
	if (!uname(&u)) {
		snprintf(buf, sizeof(buf), "%s %s %s", u.sysname, u.release, u.machine);
		gb_add_context("pgfree_kernel", buf);
	}
#ifdef __clang__
	gb_add_context("pgfree_compiler", "clang " __clang_version__);
#else
	gb_add_context("pgfree_compiler", "gcc " __VERSION__);
#endif
	gb_add_context("pgfree_pinning", pin_list ? pin_list : "none");
}
