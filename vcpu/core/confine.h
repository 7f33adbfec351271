/*
 * confine.h: each thread of the VMM loads its seccomp filter once its
 * set-up is done (the policies are tables in sandbox/policy_*.c).
 *
 * Where (vcpu/README.md says why there): the I/O thread before its loop
 * turns, the main thread once the devices run and before the first boot,
 * each vCPU thread before its first KVM_RUN. A thread keeps its filter and
 * hands it to the threads it creates, which add their own: the vCPU
 * threads of every boot start under the main thread's.
 */
#ifndef ISOVM_CONFINE_H
#define ISOVM_CONFINE_H

#include <stdbool.h>
#include <stddef.h>

enum confine_mode {
	CONFINE_OFF,	 /* no filter (the default) */
	CONFINE_RELAXED, /* a filter that cannot be loaded is a warning */
	CONFINE_ON,	 /* a filter that cannot be loaded is an error */
};

enum confine_role {
	CONFINE_MAIN,
	CONFINE_IOTHREAD,
	CONFINE_VCPU,
};

/*
 * Once, on the main thread, before it creates any thread: what every later
 * confine_thread() does. debug: a refused call is logged by name and fails
 * with ENOSYS instead of killing isovm.
 */
void confine_init(enum confine_mode mode, bool debug);

/*
 * The calling thread loads the filter of its role, for good; who names it
 * in the log ("vcpu0"). Logs one info line when it did, a warning when it
 * could not under CONFINE_RELAXED. Returns 0 (also when off), or -errno
 * under CONFINE_ON when it could not, with one line in err.
 */
int confine_thread(enum confine_role role, const char *who, char *err,
		   size_t errlen);

#endif
