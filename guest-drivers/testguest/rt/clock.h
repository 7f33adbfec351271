/* clock.h: a calibrated TSC clock for timeouts and benchmarks. */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <stdint.h>

struct clock {
	uint64_t tsc_khz;   /* TSC ticks per millisecond */
	const char *source; /* "hv-leaf", "kvmclock", "cpuid15", "pit",
			       "cpuid16", "guess" */
	uint64_t pit_khz;   /* PIT measurement, 0 if not made or failed */
	uint64_t kvm_tsc;   /* kvmclock sample: TSC ... */
	uint64_t kvm_ns;    /* ... and KVM's ns since the VM's clock began */
};

extern struct clock clock;

/*
 * Takes the TSC rate from the hypervisor leaf 0x40000010, else KVM's
 * pvclock scale factors, else CPUID 0x15,
 * else measures it against PIT channel 0 over 10 ms (needs the 8259 masked:
 * ring 0 did that), else CPUID 0x16, else guesses 2 GHz.
 */
void clock_calibrate(void);

/* Measures against the PIT now; returns kHz or 0. */
uint64_t clock_measure_pit(void);

uint64_t clock_ns(uint64_t tsc_delta);
/* KVM clock time (ns since the VM's clock began) at tsc, or -1 unknown. */
int64_t clock_kvm_ns_at(uint64_t tsc);
/* The TSC value us microseconds from now. */
uint64_t clock_deadline_us(uint64_t us);
int clock_expired(uint64_t deadline);

#endif
