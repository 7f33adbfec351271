/*
 * policy_vmm.h: the layers the VMM's own policies are built of: rows every
 * VMM thread needs, and the rows of a vCPU thread (policy_vcpu.c,
 * policy_iothread.c, policy_vmm_main.c).
 *
 * Each thread of the VMM loads its filter once it is set up
 * (vcpu/core/confine.h). A thread starts under its creator's filter and
 * adds its own, and the main thread creates the vCPU threads at every
 * boot: a vCPU thread runs under both filters, so the main thread's policy
 * holds the vCPU layer too.
 *
 * fd arguments are not pinned: the VMM makes its fds at run time (a VM fd
 * and vCPU fds at every boot), and these tables are fixed at build time.
 */
#ifndef ISOVM_SANDBOX_POLICY_VMM_H
#define ISOVM_SANDBOX_POLICY_VMM_H

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "sandbox/seccomp_policy.h"

/* One row: every form of the call, or one argument checked. */
#define SB_ALLOW(n, why) {#n, (why), SANDBOX_ARG_ANY, 0, 0, 0}
#define SB_ALLOW_EQ(n, a, v, why) {#n, (why), SANDBOX_ARG_EQ, (a), 0, (v)}
#define SB_ALLOW_MASKED(n, a, m, v, why) \
	{#n, (why), SANDBOX_ARG_MASKED_EQ, (a), (m), (v)}
/* ioctl by request number (the kernel reads its low 32 bits). */
#define SB_ALLOW_IOCTL(req, why) \
	{"ioctl", (why), SANDBOX_ARG_MASKED_EQ, 1, 0xffffffffu, (req)}

/* The flags ipc/fdpass.c always passes. */
#define SB_SENDMSG_FLAGS MSG_NOSIGNAL
#define SB_RECVMSG_FLAGS (MSG_CMSG_CLOEXEC | MSG_TRUNC)

// clang-format off

/*
 * Sanitizer builds (ISOVM_SANITIZE, for tests) only: the ASan runtime's own
 * calls, at thread start and exit and when it reads its memory map.
 */
#ifdef ISOVM_SANITIZE
#define SANDBOX_VMM_SANITIZER_ROWS \
	SB_ALLOW(sigaltstack, "sanitizer: its signal stack"), \
	SB_ALLOW(gettid, "sanitizer: its thread registry"), \
	SB_ALLOW(sched_getaffinity, \
		 "sanitizer: a new thread's stack (pthread_getattr_np)"), \
	SB_ALLOW_EQ(madvise, 2, MADV_NOHUGEPAGE, \
		    "sanitizer: the shadow of a new thread's stack"), \
	SB_ALLOW_EQ(madvise, 2, MADV_DONTDUMP, \
		    "sanitizer: the shadow of a new thread's stack"), \
	SB_ALLOW_MASKED(open, 1, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY, \
			"sanitizer: /proc/self/maps, read-only"),
#else
#define SANDBOX_VMM_SANITIZER_ROWS
#endif

/* Every thread of the VMM. */
#define SANDBOX_VMM_COMMON_ROWS \
	SANDBOX_VMM_SANITIZER_ROWS \
	SB_ALLOW(futex, "locks and condition variables"), \
	SB_ALLOW(write, "log lines on stderr; eventfd and pipe wake-ups"), \
	SB_ALLOW(clock_gettime, \
		 "clocks, where the vDSO cannot read the host's clock source"), \
	SB_ALLOW(gettimeofday, "libevent's clock, the same fallback"), \
	SB_ALLOW(time, "the CMOS clock, the same fallback"), \
	SB_ALLOW(rt_sigreturn, \
		 "return from a signal handler (the vCPU kick; --sandbox-debug's " \
		 "SIGSYS)"), \
	SB_ALLOW(rt_sigprocmask, \
		 "glibc masks signals at thread start and exit and in " \
		 "pthread_kill"), \
	SB_ALLOW(restart_syscall, "a timed wait a signal interrupted goes on"), \
	SB_ALLOW_MASKED(mmap, 2, PROT_EXEC, 0, \
			"malloc arenas, thread stacks, kvm_run; never " \
			"executable"), \
	SB_ALLOW_MASKED(mprotect, 2, PROT_EXEC, 0, \
			"malloc grows an arena, a stack gets its guard; " \
			"never executable"), \
	SB_ALLOW(munmap, "malloc gives memory back"), \
	SB_ALLOW(brk, "malloc's main arena"), \
	SB_ALLOW_EQ(madvise, 2, MADV_DONTNEED, \
		    "an ending thread and free() give pages back"), \
	SB_ALLOW(exit, "a thread ends (the vCPUs' at every reboot)"), \
	SB_ALLOW(exit_group, "the process ends")

/* A vCPU thread: KVM_RUN and the exits it serves. */
#define SANDBOX_VMM_VCPU_ROWS \
	SB_ALLOW_IOCTL(KVM_RUN, "run the guest"), \
	SB_ALLOW_IOCTL(KVM_IRQ_LINE, "UART and i8042 interrupts"), \
	SB_ALLOW_IOCTL(KVM_GET_REGS, "the report of a guest fault"), \
	SB_ALLOW_IOCTL(KVM_GET_SREGS, "the report of a guest fault"), \
	SB_ALLOW_EQ(sendmsg, 2, SB_SENDMSG_FLAGS, \
		    "trace events to API clients (a virtqueue rule broken " \
		    "in a register write)")

// clang-format on

#endif
