/*
 * test_timer.c: a device interrupt end to end: PIT channel 0 at 1 kHz on
 * ISA IRQ 0, routed by the MP table to an I/O APIC pin, delivered to the
 * BSP asleep in SYS_WAIT (rt/wait.c); about one tick per ms arrives.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/ioapic.h"
#include "rt/report.h"
#include "rt/wait.h"
#include "tests/tests.h"

#define TIMER_PIT_HZ 1193182u
#define TIMER_HZ 1000u
#define TIMER_TEST_MS 50u
#define PIT_CH0 0x40
#define PIT_CMD 0x43

static void timer_pit_periodic(void)
{
	uint16_t div = TIMER_PIT_HZ / TIMER_HZ;

	outb(PIT_CMD, 0x34); /* channel 0, lo/hi byte, mode 2 (rate) */
	outb(PIT_CH0, div & 0xff);
	outb(PIT_CH0, div >> 8);
}

static void timer_pit_stop(void)
{
	outb(PIT_CMD, 0x30); /* mode 0 with no count written: stopped */
}

void test_timer(const char *name)
{
	int pins = ioapic_init(), pin = ioapic_pin_of_irq(0);
	uint64_t before, slices, ticks, deadline;
	unsigned vec;

	if (pins <= 0 || pin < 0 || ioapic_route((unsigned)pin, 0)) {
		report_result(name, false, "reason=no-ioapic-route pins=%d", pins);
		return;
	}
	vec = ioapic_vector((unsigned)pin);
	before = irq_counts[vec];
	slices = irq_counts[VEC_TIMEOUT];
	timer_pit_periodic();
	deadline = clock_deadline_us(TIMER_TEST_MS * 1000);
	/* Asleep between ticks; the LAPIC timer bounds each sleep. */
	while (!wait_counter(&irq_counts[vec], irq_counts[vec], deadline))
		;
	timer_pit_stop();
	ioapic_mask((unsigned)pin);
	ticks = irq_counts[vec] - before;
	/* Generous bounds: ticks may be coalesced or late on a loaded host. */
	report_result(name, ticks >= TIMER_TEST_MS / 5 &&
				    ticks <= TIMER_TEST_MS * 3 / 2,
		      "pin=%d vector=%u ticks=%lu expected=%u slice_wakeups=%lu",
		      pin, vec, ticks, TIMER_TEST_MS,
		      irq_counts[VEC_TIMEOUT] - slices);
}
