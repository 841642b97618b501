/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_SYSINFO_H
#define PGFREE_BENCH_SYSINFO_H
void sysinfo_record(const char *pin_list);
#endif
