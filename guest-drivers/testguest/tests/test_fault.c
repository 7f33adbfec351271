/*
 * test_fault.c: a ring-3 page fault reaches the ring-0 trap report: the
 * trap handler prints this test's pass line (it expects vector 14), then
 * reports the panic (the VMM exits with its guest-panic status).
 */
#include <stddef.h>

#include "boot/kernel.h"
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
