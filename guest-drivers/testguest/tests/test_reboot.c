/* test_reboot.c: resets through the i8042 at boot 0, passes at boot >= 1. */
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/console.h"
#include "rt/io.h"
#include "rt/power.h"
#include "rt/report.h"
#include "tests/tests.h"

#define REBOOT_WAIT_US 1000000u

void test_reboot(const char *name)
{
	uint64_t deadline;

	if (cmdline.boot < 0) {
		report_result(name, false, "reason=no-boot-counter");
		return;
	}
	if (cmdline.boot >= 1) {
		report_result(name, true, "boot=%ld", (long)cmdline.boot);
		return;
	}
	con_printf("isovm-testguest: resetting through the i8042 at boot 0\n");
	power_reset_i8042();
	/* A VMM acts on the port write at once; give it a second anyway. */
	deadline = clock_deadline_us(REBOOT_WAIT_US);
	while (!clock_expired(deadline))
		cpu_relax();
	report_result(name, false, "boot=0 reason=reset-ignored");
}
