/* cpu.h: the architectural state of each vCPU before it first runs. */
#ifndef ISOVM_CPU_H
#define ISOVM_CPU_H

#include <linux/kvm.h>

#include "vcpu/boot/boot.h"

/* KVM_GET_SUPPORTED_CPUID, fetched once per process (read-only after). */
struct cpu_cpuid {
	struct kvm_cpuid2 *table; /* owned, malloc'd */
};

/*
 * Fetches the supported CPUID table, with the TSC-deadline timer added when
 * KVM has it. 0 or -errno.
 */
int cpu_cpuid_fetch(struct cpu_cpuid *c, int kvm_sys_fd);
void cpu_cpuid_free(struct cpu_cpuid *c);

/*
 * Sets CPUID (topology per id: one package of nr_cpus cores, one thread
 * each, APIC id = id), MSRs, FPU and LAPIC LINT0/LINT1 of a new vCPU. With
 * entry (the BSP) also the registers the boot protocol asks for; APs wait
 * for INIT/SIPI. Returns 0 or -errno.
 */
int cpu_setup(int vcpu_fd, const struct cpu_cpuid *c, unsigned id,
	      unsigned nr_cpus, const struct boot_entry *entry);

/*
 * Pure: rewrites a copy of the supported CPUID entries for vCPU id. Exposed
 * for tests.
 */
void cpu_cpuid_fixup(struct kvm_cpuid2 *t, unsigned id, unsigned nr_cpus);

/*
 * Pure: sets CPUID.1:ECX.TSC_DEADLINE. Linux then arms its timer by MSR and
 * skips calibrating the LAPIC timer against the PIT, which waits for 25
 * PIT ticks (100 ms) and never ends when a tick is lost. Exposed for tests.
 */
void cpu_cpuid_set_tsc_deadline(struct kvm_cpuid2 *t);

#endif
