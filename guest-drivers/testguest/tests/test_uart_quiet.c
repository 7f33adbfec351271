/*
 * test_uart_quiet.c: UART output written blind (no LSR read, so no VM exit
 * at all) and followed by a long sleep must still reach the host while the
 * guest sleeps: the VMM may queue THR writes, but not hold them back.
 * The host checks the timing (tests/integration/kvm_boot.c).
 */
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/wait.h"
#include "tests/tests.h"

#define QUIET_BEFORE_US 100000u /* lets a VMM's poller slow down first */
#define QUIET_AFTER_US	300000u
#define COM1_THR	0x3f8

static void quiet_sleep(uint64_t us)
{
	static volatile uint64_t never;

	while (!wait_counter(&never, 0, clock_deadline_us(us)))
		;
}

void test_uart_quiet(const char *name)
{
	static const char line[] = "uart-quiet: written blind\n";
	const char *p;

	quiet_sleep(QUIET_BEFORE_US);
	for (p = line; *p; p++)
		outb(COM1_THR, (uint8_t)*p);
	quiet_sleep(QUIET_AFTER_US);
	report_result(name, true, "slept_ms=%u", QUIET_AFTER_US / 1000);
}
