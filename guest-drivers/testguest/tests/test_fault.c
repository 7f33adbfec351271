/*
 * test_fault.c: faults in ring 3 reach the ring-0 trap report: `fault`, a
 * page fault beyond the identity map; `fault-io`, port I/O the TSS bitmap
 * denies (#GP). The trap handler prints the pass line (it expects the
 * vector), then reports the panic (the VMM exits with its panic status).
 */
#include <stddef.h>

#include "boot/kernel.h"
#include "rt/io.h"
#include "rt/report.h"
#include "tests/tests.h"

/* Beyond the identity map (4 GiB): no PML4 entry. */
#define FAULT_TEST_ADDR 0x100000000000ull

void test_fault(const char *name)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)FAULT_TEST_ADDR;

	kernel_expect_trap(name, 14);
	(void)*p;
	kernel_expect_trap(NULL, 0);
	report_result(name, false, "reason=no-fault");
}

/* Port 0x80 (POST codes) is not in the ring-3 I/O bitmap. */
#define FAULT_TEST_DENIED_PORT 0x80

void test_fault_io(const char *name)
{
	kernel_expect_trap(name, 13);
	outb(FAULT_TEST_DENIED_PORT, 0);
	kernel_expect_trap(NULL, 0);
	report_result(name, false, "reason=port-allowed");
}
