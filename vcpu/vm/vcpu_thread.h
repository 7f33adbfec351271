/* vcpu_thread.h: one host thread per vCPU running the KVM_RUN loop. */
#ifndef ISOVM_VCPU_THREAD_H
#define ISOVM_VCPU_THREAD_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Interrupts KVM_RUN; its handler does nothing (installed by
 * vcpu_signals_init). */
#define VCPU_KICK_SIGNAL SIGUSR1

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;		     /* owned */
	struct kvm_run *run; /* shared with KVM, run_size bytes */
	size_t run_size;
	pthread_t thread;
	bool thread_started;
	/* Exit counters of this boot, written by the vCPU thread only;
	 * atomic (relaxed) so that the API may read them while it runs. */
	_Atomic uint64_t exits_io, exits_mmio, exits_other;
};

/* Installs the kick signal handler; once per process. 0 or -errno. */
int vcpu_signals_init(void);

/* KVM_CREATE_VCPU and the kvm_run mapping. 0 or -errno; nothing to undo. */
int vcpu_create(struct vcpu *v, struct vm *vm, int vm_fd, unsigned id,
		size_t run_size);

/* Starts the thread. 0 or -errno. */
int vcpu_start(struct vcpu *v);

/* Makes KVM_RUN return at once, now and on every later entry. */
void vcpu_kick(struct vcpu *v);

/*
 * Undoes vcpu_kick() so KVM_RUN runs the guest again. vm->lock held and
 * no stop under way (a stop's kick must stay).
 */
void vcpu_unkick(struct vcpu *v);

/* Waits for the thread (call vcpu_kick first). */
void vcpu_join(struct vcpu *v);

/* Logs the exit counters at debug level (after vcpu_join). */
void vcpu_log_stats(const struct vcpu *v);

/* Unmaps and closes; the thread must be joined. Safe to call twice. */
void vcpu_destroy(struct vcpu *v);

#endif
