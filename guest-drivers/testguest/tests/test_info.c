/* test_info.c: reports CPUs, memory and the echoed command line. */
#include <stddef.h>

#include "boot/kernel.h"
#include "rt/bootinfo.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/report.h"
#include "rt/runtime.h"
#include "tests/tests.h"

#define INFO_CMDLINE_ECHO_MAX 1024

/* Quotes the command line for a key="..." word: \" and \\ escaped. */
static void info_quote(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; *src && n + 3 < cap; src++) {
		if (*src == '"' || *src == '\\')
			dst[n++] = '\\';
		dst[n++] = *src;
	}
	dst[n] = '\0';
}

void test_info(const char *name)
{
	static char quoted[INFO_CMDLINE_ECHO_MAX];
	uint64_t mem_kb = bootinfo.ram_bytes / 1024;
	bool pass = bootinfo.valid && runtime.cpus >= 1 && mem_kb > 0;
	/* Guest entry on the VM's clock, and the ring-0 set-up time. */
	int64_t entry_ns = clock_kvm_ns_at(boot_entry_tsc);
	uint64_t ring0_us = clock_ns(runtime.boot_tsc - boot_entry_tsc) / 1000;

	info_quote(quoted, sizeof(quoted), bootinfo.cmdline);
	report_result(name, pass,
		      "cpus=%u cpus_src=%s mem_kb=%lu memmap=%u tsc_khz=%lu "
		      "clock=%s entry_at_us=%ld ring0_us=%lu virtio=%u vmm=%s "
		      "cmdline=\"%s\"",
		      runtime.cpus, runtime.cpus_src, mem_kb,
		      bootinfo.memmap_entries, clock.tsc_khz, clock.source,
		      entry_ns < 0 ? -1L : (long)(entry_ns / 1000), ring0_us,
		      cmdline.nvirtio, runtime.vmm, quoted);
}
