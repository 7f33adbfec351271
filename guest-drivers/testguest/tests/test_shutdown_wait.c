/*
 * test_shutdown_wait.c: the power button end to end: ISA IRQ
 * ISOVM_EVENT_IRQ routed to an I/O APIC pin, the guest asleep until it
 * fires, then the isovm port's events read (and cleared) to find
 * ISOVM_EVENT_POWEROFF; the test then passes and the guest powers off as
 * after any test, as a driver of a real guest would.
 */
#include "boot/kernel.h"
#include "guest-drivers/abi/isovm_abi.h"
#include "rt/clock.h"
#include "rt/console.h"
#include "rt/io.h"
#include "rt/ioapic.h"
#include "rt/power.h"
#include "rt/report.h"
#include "rt/wait.h"
#include "tests/testutil.h"
#include "tests/tests.h"

void test_shutdown_wait(const char *name)
{
	int bad = 0, pins = ioapic_init();
	int pin = ioapic_pin_of_irq(ISOVM_EVENT_IRQ);
	uint64_t ms = tu_key_u64("shutdown-wait.timeout_ms", 60000, &bad);
	uint64_t deadline, t0 = rdtsc(), irqs = 0;
	uint32_t ev = 0;
	unsigned vec;

	if (bad || !ms) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	if (pins <= 0 || pin < 0 || ioapic_route((unsigned)pin, 0)) {
		report_result(name, false, "reason=no-ioapic-route pins=%d",
			      pins);
		return;
	}
	vec = ioapic_vector((unsigned)pin);
	power_events(); /* nothing from before this boot's wait counts */
	con_printf("isovm-testguest: shutdown-wait ready pin=%d\n", pin);
	deadline = clock_deadline_us(ms * 1000);
	while (!(ev & ISOVM_EVENT_POWEROFF) && !clock_expired(deadline)) {
		uint64_t seen = irq_counts[vec];

		/* Asleep until the button's interrupt (or a LAPIC slice). */
		if (!wait_counter(&irq_counts[vec], seen, deadline))
			irqs++;
		ev |= power_events();
	}
	ioapic_mask((unsigned)pin);
	report_result(name, (ev & ISOVM_EVENT_POWEROFF) && irqs,
		      "events=%#x irqs=%lu waited_ms=%lu%s", ev, irqs,
		      clock_ns(rdtsc() - t0) / 1000000,
		      ev & ISOVM_EVENT_POWEROFF ? "" : " reason=no-button");
}
