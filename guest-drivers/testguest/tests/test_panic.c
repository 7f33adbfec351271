/* test_panic.c: reports a panic through the isovm port (VMM exits with 3). */
#include "boot/kernel.h"
#include "rt/power.h"
#include "rt/report.h"
#include "tests/tests.h"

void test_panic(const char *name)
{
	report_result(name, true, "code=0x%x", PANIC_CODE_TEST);
	power_panic(PANIC_CODE_TEST);
}
