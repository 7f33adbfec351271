/* wait.c: bounded sleeps in SYS_WAIT, woken by interrupts or the LAPIC timer. */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/sys.h"
#include "rt/wait.h"

#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3e0
#define LAPIC_TIMER_DIV_1 0xb
#define LAPIC_LVT_MASKED 0x10000u
/* 1 ms on KVM's 1 GHz APIC bus; at most ~1 s on any bus of >= 1 MHz. */
#define WAIT_SLICE_COUNT 1000000u

static void wait_lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

int wait_counter(const volatile uint64_t *counter, uint64_t seen,
		 uint64_t deadline)
{
	int ret = 0;

	wait_lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_1);
	wait_lapic_write(LAPIC_LVT_TIMER, VEC_TIMEOUT); /* one-shot */
	while (*counter == seen) {
		if (clock_expired(deadline)) {
			ret = -TG_ETIMEDOUT;
			break;
		}
		/* Low word: it moves with every increment. */
		sys_wait_timed((const volatile uint32_t *)counter,
			       (uint32_t)seen, WAIT_SLICE_COUNT);
	}
	wait_lapic_write(LAPIC_TIMER_INIT, 0);
	wait_lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	return ret;
}
