/*
 * test_emul_fail.c: the guest makes KVM fail to emulate an instruction (an
 * x87 load from MMIO in ring 0). The VMM must end the VM with its guest
 * fault status and a report line (tests/integration/test_boot.c); a line
 * from here after the gate means the instruction was emulated after all.
 */
#include "rt/console.h"
#include "rt/report.h"
#include "rt/sys.h"
#include "tests/tests.h"

void test_emul_fail(const char *name)
{
	int64_t ret;

	con_printf("isovm-testguest: emul-fail: x87 load from MMIO in ring 0\n");
	ret = sys_emul_fail();
	report_result(name, false, "reason=emulated ret=%ld", (long)ret);
}
