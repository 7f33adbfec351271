/* notify.h: eventfd wake-ups for a ring, suppressed while busy. */
#ifndef ISOVM_IPC_NOTIFY_H
#define ISOVM_IPC_NOTIFY_H

#include <stdint.h>

#include "ipc/ring.h"

/* Private counters of one side; the tests use them to prove suppression. */
struct ipc_notify_stats {
	uint64_t kicks;        /* producer: eventfd writes issued */
	uint64_t suppressed;   /* producer: eventfd writes avoided */
	uint64_t sleeps;       /* consumer: times it blocked on the eventfd */
	uint64_t no_sleep;     /* consumer: waits answered from the ring */
};

/*
 * The flag lives in shared memory, so a hostile peer can flip it: the worst
 * it can do is cost the producer one eventfd write per kick, or leave the
 * consumer asleep, which the VMM's watchdog covers. It never affects what
 * is read from the ring.
 *
 * One side of a ring's wake-up channel. The producer side writes @efd (the
 * consumer's eventfd); the consumer side reads it. Neither owns @efd.
 */
struct ipc_notify {
	struct ipc_ring *ring;
	int efd;
	struct ipc_notify_stats st;
};

/* Create an eventfd for ipc_notify (close-on-exec; blocking unless asked). */
int ipc_notify_eventfd(int nonblock);

void ipc_notify_init(struct ipc_notify *n, struct ipc_ring *ring, int efd);

/*
 * Producer, after ipc_ring_push(): wake the consumer only if it said it is
 * going to sleep. Returns 1 when an eventfd write was made, 0 when it was
 * suppressed (no syscall), or -errno of write().
 */
int ipc_notify_kick(struct ipc_notify *n);

/*
 * Consumer, before sleeping (for an event loop that polls the eventfd
 * itself): announce the sleep, then look at the ring again. Returns >0 when
 * entries are waiting (do not sleep; the announcement is withdrawn), 0 when
 * it is safe to sleep, or -EPROTO for a corrupt ring.
 */
int ipc_notify_arm(struct ipc_notify *n);

/*
 * Consumer, after waking: withdraw the announcement. Reading the eventfd
 * counter is the caller's job (its event loop saw it readable).
 */
void ipc_notify_disarm(struct ipc_notify *n);

/*
 * Consumer convenience: return at once if entries are waiting; otherwise
 * arm, and block on the eventfd for up to @timeout_ms (-1: forever).
 * Returns >0 (entries may be waiting; the caller pops, and may find none
 * after a stale wake-up), 0 on time-out, -EPROTO or -errno.
 */
int ipc_notify_wait(struct ipc_notify *n, int timeout_ms);

#endif
