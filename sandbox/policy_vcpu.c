/*
 * policy_vcpu.c: what a vCPU thread of the VMM may do once it runs the
 * guest: KVM_RUN, the interrupts and wake-ups its exits raise, its log.
 * It runs under the main thread's filter as well (policy_vmm.h).
 */
#include "sandbox/policy_vmm.h"

static const struct sandbox_syscall policy_vcpu_rows[] = {
	SANDBOX_VMM_COMMON_ROWS,
	SANDBOX_VMM_VCPU_ROWS,
};

const struct sandbox_policy sandbox_policy_vcpu =
	SANDBOX_POLICY("vcpu thread", policy_vcpu_rows);
