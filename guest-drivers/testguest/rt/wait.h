/*
 * wait.h: sleeping until an interrupt counter moves, with a deadline. Each
 * sleep is bounded by a one-shot LAPIC timer (VEC_TIMEOUT), so a device
 * that never interrupts costs a timeout, not a hung CPU.
 */
#ifndef TG_WAIT_H
#define TG_WAIT_H

#include <stdint.h>

/*
 * Returns 0 once *counter != seen, -TG_ETIMEDOUT at deadline (a TSC value,
 * see clock_deadline_us). Callable on any CPU, from ring 3.
 */
int wait_counter(const volatile uint64_t *counter, uint64_t seen,
		 uint64_t deadline);

#endif
