/*
 * selfstat.h: facts about the isovm process that only it can measure,
 * logged at debug level for benchmarks: when the first KVM_RUN happened and
 * how much memory the VMM holds apart from guest RAM.
 */
#ifndef ISOVM_SELFSTAT_H
#define ISOVM_SELFSTAT_H

/*
 * Any vCPU thread, right before its KVM_RUN loop: the first call of the
 * process logs "first_kvm_run_mono=S" (CLOCK_MONOTONIC seconds); later calls
 * cost one atomic exchange.
 */
void selfstat_first_run(void);

/*
 * Logs "rss_excl_guest_kb=N" (resident anonymous + file pages: everything
 * but the guest's shared-memory RAM) and the peak, from /proc/self/status.
 */
void selfstat_log_memory(void);

#endif
