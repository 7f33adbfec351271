/* smp.h: starting the APs and handing ring-3 work to every CPU. */
#ifndef TG_SMP_H
#define TG_SMP_H

#include <stdint.h>

typedef void (*smp_fn)(unsigned cpu, void *arg);

struct smp {
	volatile uint32_t online;   /* CPUs running ring 3, BSP included */
	volatile uint32_t work_gen; /* BSP bumps it to hand out work_fn */
	smp_fn work_fn;             /* BSP writes before bumping work_gen */
	void *work_arg;
	int started;
	const char *error;          /* why a start failed, or NULL */
};

extern struct smp smp;

/*
 * BSP only. Starts the APs of the MP table one by one (INIT, SIPI to the
 * trampoline, a second SIPI if it has not reported in 200 ms) and waits up
 * to 2 s for each. Returns the number of CPUs online; smp.error tells why
 * some did not come. Idempotent.
 */
unsigned smp_start(void);

/*
 * BSP only: runs fn on every online AP (woken by an IPI) and on the BSP
 * itself, and returns once the BSP's share is done. Callers synchronise
 * completion themselves (with deadlines).
 */
void smp_run(smp_fn fn, void *arg);

/* Ring-3 life of an AP: reports in, then serves smp_run forever. */
void smp_ap_main(unsigned cpu) __attribute__((noreturn));

#endif
