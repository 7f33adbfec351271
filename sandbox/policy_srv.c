/*
 * policy_srv.c: what every device server needs once it is set up (the
 * libevent loop, the control socket, the wake-ups, malloc, logging), the
 * base layer of policy_blk.c, policy_console.c and policy_net.c.
 * Nothing here opens a path, makes a socket, maps executable memory or
 * starts a process or thread: the server did all its set-up before the
 * filter was loaded.
 */
#include <linux/futex.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox/seccomp_policy.h"

/* The futex command, without its PRIVATE and CLOCK_REALTIME flags. */
#define SRV_FUTEX_CMD \
	(0xffffffffu & ~(unsigned)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

static const struct sandbox_syscall sandbox_srv_rows[] = {
	/* The loop (libevent's epoll back end). */
	SANDBOX_ROW(epoll_wait, "the loop waits"),
	SANDBOX_ROW(epoll_ctl, "the loop's fd set"),
	SANDBOX_ROW(clock_gettime, "loop time, if the vDSO is missing"),
	/* The VMM. */
	SANDBOX_ROW_SLOT(recvmsg, 0, SANDBOX_SLOT_CTL, "control messages"),
	SANDBOX_ROW_SLOT(sendmsg, 0, SANDBOX_SLOT_CTL, "control replies"),
	SANDBOX_ROW_SLOT(read, 0, SANDBOX_SLOT_KICK, "ring kicks"),
	SANDBOX_ROW_SLOT(write, 0, SANDBOX_SLOT_CALL, "completion wake-ups"),
	SANDBOX_ROW_SLOT(read, 0, SANDBOX_SLOT_WAKE, "async completions in"),
	SANDBOX_ROW_SLOT(write, 0, SANDBOX_SLOT_WAKE, "async completions out"),
	SANDBOX_ROW_EQ(write, 0, STDERR_FILENO, "log lines"),
	SANDBOX_ROW(close, "fds done with, shutdown"),
	/* Locks: wait and wake only (no PI, no requeue). */
	SANDBOX_ROW_MASKED(futex, 1, SRV_FUTEX_CMD, FUTEX_WAIT, "lock waits"),
	SANDBOX_ROW_MASKED(futex, 1, SRV_FUTEX_CMD, FUTEX_WAIT_BITSET,
			   "timed lock waits"),
	SANDBOX_ROW_MASKED(futex, 1, SRV_FUTEX_CMD, FUTEX_WAKE, "lock wakes"),
	/* malloc: never executable memory. */
	SANDBOX_ROW(brk, "malloc"),
	SANDBOX_ROW_MASKED(mmap, 2, PROT_EXEC, 0, "malloc, no PROT_EXEC"),
	SANDBOX_ROW(munmap, "free; a joined thread's stack"),
	SANDBOX_ROW_EQ(madvise, 2, MADV_DONTNEED,
		       "free; an ending thread's stack"),
	SANDBOX_ROW(rt_sigprocmask, "libc: a thread's signal mask at its end"),
	SANDBOX_ROW(exit_group, "the end"),
#ifdef ISOVM_SANITIZE
	/*
	 * Sanitizer build only. ASan asks for a thread's alternate signal
	 * stack before every noreturn call (abort()) and drops it when the
	 * thread ends; it gives an ended thread's shadow memory back with a
	 * fresh mapping it marks so; its spin locks yield the CPU when
	 * threads end together on a busy host.
	 */
	SANDBOX_ROW(sigaltstack, "ASan: a thread's signal stack"),
	SANDBOX_ROW_EQ(madvise, 2, MADV_NOHUGEPAGE, "ASan: shadow given back"),
	SANDBOX_ROW_EQ(madvise, 2, MADV_DONTDUMP, "ASan: shadow given back"),
	SANDBOX_ROW(sched_yield, "ASan: a contended spin lock"),
#endif
};

const struct sandbox_policy sandbox_policy_srv =
	SANDBOX_POLICY("isovm device server", sandbox_srv_rows);
