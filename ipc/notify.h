/* notify.h: pipe wake-ups for a ring, suppressed while busy. */
#ifndef ISOVM_IPC_NOTIFY_H
#define ISOVM_IPC_NOTIFY_H

#include <stdint.h>

#include "ipc/ring.h"

/* Private counters of one side; the tests use them to prove suppression. */
struct ipc_notify_stats {
	uint64_t kicks;        /* producer: wake-ups sent (or already queued) */
	uint64_t suppressed;   /* producer: wake-ups avoided (no syscall) */
	uint64_t full;         /* producer: kicks that found the pipe full */
	uint64_t sleeps;       /* consumer: times it blocked on the pipe */
	uint64_t no_sleep;     /* consumer: waits answered from the ring */
};

/*
 * A ring's wake-up channel is a pipe: the producer holds the write end,
 * the consumer the read end. Each end is its own file description, so
 * neither side can change the other's O_NONBLOCK with F_SETFL, nor drain
 * or fill the other's end (an eventfd passed over a socket would be one
 * description with one counter: a peer could fill it to block the
 * producer's write, or make it blocking and drain it under the consumer's
 * read). Both ends are non-blocking; a full pipe means wake-ups are already
 * queued, so a kick that finds it full has done its job.
 *
 * The need-wakeup flag lives in shared memory, so a hostile peer can flip
 * it: the worst it can do is cost the producer one pipe write per kick, or
 * leave the consumer asleep, which the VMM's watchdog covers. It never
 * affects what is read from the ring.
 *
 * One side of a ring's wake-up channel: @fd is the write end for the
 * producer, the read end for the consumer. Neither side owns @fd.
 */
struct ipc_notify {
	struct ipc_ring *ring;
	int fd;
	struct ipc_notify_stats st;
};

/*
 * Create a wake-up pipe: fds[0] the read end (the consumer's), fds[1] the
 * write end (the producer's); both close-on-exec and non-blocking.
 * Returns 0 or -errno.
 */
int ipc_notify_pipe(int fds[2]);

void ipc_notify_init(struct ipc_notify *n, struct ipc_ring *ring, int fd);

/*
 * Producer, after ipc_ring_push(): wake the consumer only if it said it is
 * going to sleep. Returns 1 when a wake-up was written or the pipe was
 * already full of them (never waits on a non-blocking fd), 0 when it was
 * suppressed (no syscall), or -errno of write() (-EPIPE once no read end
 * is open anywhere; the VMM keeps the server's ends open, so never there).
 */
int ipc_notify_kick(struct ipc_notify *n);

/*
 * Consumer, before sleeping (for an event loop that polls the pipe
 * itself): announce the sleep, then look at the ring again. Returns >0 when
 * entries are waiting (do not sleep; the announcement is withdrawn), 0 when
 * it is safe to sleep, or -EPROTO for a corrupt ring.
 */
int ipc_notify_arm(struct ipc_notify *n);

/*
 * Consumer, after waking: withdraw the announcement. Reading the pipe is
 * the caller's job (its event loop saw it readable): ipc_notify_drain().
 */
void ipc_notify_disarm(struct ipc_notify *n);

/*
 * Consumer: read the wake-ups queued in the pipe, a bounded amount per
 * call (a flooding peer gets the fd reported readable again, not a loop
 * here). Never waits when the fd is non-blocking, also when the pipe is
 * empty after all. Returns 1 when bytes were read, 0 when none, or -errno.
 */
int ipc_notify_drain(struct ipc_notify *n);

/*
 * Consumer convenience: return at once if entries are waiting; otherwise
 * arm, and sleep on the pipe for up to @timeout_ms (-1: forever).
 * Returns >0 (entries may be waiting; the caller pops, and may find none
 * after a stale wake-up), 0 on time-out, -EPROTO or -errno.
 */
int ipc_notify_wait(struct ipc_notify *n, int timeout_ms);

#endif
