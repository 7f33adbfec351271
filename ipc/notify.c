/* notify.c: need-wakeup flag protocol and pipe kicks for one ring. */
#include "ipc/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

/*
 * Drain in a fixed stack buffer: no allocation on the ring path. A
 * well-behaved producer queues one byte per sleep, so one read nearly
 * always empties the pipe; the bound keeps a flooding peer from holding
 * the caller.
 */
#define NOTIFY_DRAIN_BYTES 64
#define NOTIFY_DRAIN_READS 4

int ipc_notify_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0 ? -errno : 0;
}

void ipc_notify_init(struct ipc_notify *n, struct ipc_ring *ring, int fd)
{
	n->ring = ring;
	n->fd = fd;
	n->st = (struct ipc_notify_stats){ 0 };
}

/*
 * The classic lost wake-up: the consumer finds the ring empty and decides to
 * sleep while the producer publishes an entry and decides nobody sleeps.
 * Both sides therefore do "write mine; full fence; read theirs":
 *   producer: store prod (push)  ; fence (A) ; load need_wakeup
 *   consumer: store need_wakeup=1; fence (B) ; load prod
 * With A and B seq_cst fences at least one side sees the other's store:
 * either the producer sees the flag and kicks, or the consumer sees the
 * entry and does not sleep.
 */
int ipc_notify_kick(struct ipc_notify *n)
{
	_Atomic uint32_t *flag = &n->ring->hdr->need_wakeup;
	static const unsigned char one = 1;

	/* Fence A: pairs with fence B in ipc_notify_arm(). */
	atomic_thread_fence(memory_order_seq_cst);
	/*
	 * Read first and only then claim the flag: a busy consumer's cache
	 * line stays shared and a suppressed kick costs no write. The
	 * exchange makes one sleep cost exactly one pipe write even when
	 * several pushes race with it.
	 */
	if (!atomic_load_explicit(flag, memory_order_relaxed) ||
	    !atomic_exchange_explicit(flag, 0, memory_order_relaxed)) {
		n->st.suppressed++;
		return 0;
	}
	while (write(n->fd, &one, sizeof(one)) < 0) {
		if (errno == EAGAIN) {
			/* Full: the consumer has wake-ups queued unread. */
			n->st.full++;
			break;
		}
		if (errno != EINTR)
			return -errno;
	}
	n->st.kicks++;
	return 1;
}

int ipc_notify_arm(struct ipc_notify *n)
{
	_Atomic uint32_t *flag = &n->ring->hdr->need_wakeup;
	int ret;

	atomic_store_explicit(flag, 1, memory_order_relaxed);
	/* Fence B: pairs with fence A in ipc_notify_kick(). */
	atomic_thread_fence(memory_order_seq_cst);
	ret = ipc_ring_pending(n->ring);
	if (ret)
		atomic_store_explicit(flag, 0, memory_order_relaxed);
	return ret;
}

void ipc_notify_disarm(struct ipc_notify *n)
{
	/* Usually clear already (the kicker cleared it): leave the line the
	 * producer reads untouched then. */
	if (atomic_load_explicit(&n->ring->hdr->need_wakeup,
				 memory_order_relaxed))
		atomic_store_explicit(&n->ring->hdr->need_wakeup, 0,
				      memory_order_relaxed);
}

int ipc_notify_drain(struct ipc_notify *n)
{
	unsigned char buf[NOTIFY_DRAIN_BYTES];
	int got = 0;
	ssize_t r;

	for (int i = 0; i < NOTIFY_DRAIN_READS; i++) {
		r = read(n->fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? got : -errno;
		if (r == 0) /* end of file: no write end is left */
			return got ? got : -EPIPE;
		got = 1;
		if (r < (ssize_t)sizeof(buf))
			break; /* a pipe reads short only when empty */
	}
	return got;
}

/* Sleep until the pipe has wake-ups and drain them: 1, 0 on time-out, or
 * -errno. Readable but empty (a stale poll) sleeps again. */
static int notify_sleep(struct ipc_notify *n, int timeout_ms)
{
	struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
	int ret;

	for (;;) {
		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return ret < 0 ? -errno : 0;
		ret = ipc_notify_drain(n);
		if (ret)
			return ret;
	}
}

int ipc_notify_wait(struct ipc_notify *n, int timeout_ms)
{
	struct ipc_ring *r = n->ring;
	int ret;

	/* Entries already known from the last index read: no shared access. */
	if (r->peer != r->own && !r->broken) {
		n->st.no_sleep++;
		return (int)(r->peer - r->own);
	}
	ret = ipc_notify_arm(n);
	if (ret) {
		if (ret > 0)
			n->st.no_sleep++;
		return ret;
	}
	n->st.sleeps++;
	ret = notify_sleep(n, timeout_ms);
	ipc_notify_disarm(n);
	return ret;
}
