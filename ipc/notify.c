/* notify.c: need-wakeup flag protocol and eventfd kicks for one ring. */
#include "ipc/notify.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int ipc_notify_eventfd(int nonblock)
{
	int fd = eventfd(0, EFD_CLOEXEC | (nonblock ? EFD_NONBLOCK : 0));

	return fd < 0 ? -errno : fd;
}

void ipc_notify_init(struct ipc_notify *n, struct ipc_ring *ring, int efd)
{
	n->ring = ring;
	n->efd = efd;
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
	uint64_t one = 1;

	/* Fence A: pairs with fence B in ipc_notify_arm(). */
	atomic_thread_fence(memory_order_seq_cst);
	/*
	 * Read first and only then claim the flag: a busy consumer's cache
	 * line stays shared and a suppressed kick costs no write. The
	 * exchange makes one sleep cost exactly one eventfd write even when
	 * several pushes race with it.
	 */
	if (!atomic_load_explicit(flag, memory_order_relaxed) ||
	    !atomic_exchange_explicit(flag, 0, memory_order_relaxed)) {
		n->st.suppressed++;
		return 0;
	}
	while (write(n->efd, &one, sizeof(one)) < 0) {
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

/* Block until the eventfd is signalled: 1, 0 on time-out, or -errno. */
static int notify_sleep(int efd, int timeout_ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t v;
	int ret;

	for (;;) {
		/* With no time-out a blocking fd needs only the read. */
		if (timeout_ms < 0) {
			if (read(efd, &v, sizeof(v)) == sizeof(v))
				return 1;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
		}
		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return ret < 0 ? -errno : 0;
		if (read(efd, &v, sizeof(v)) == sizeof(v))
			return 1;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
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
	ret = notify_sleep(n->efd, timeout_ms);
	ipc_notify_disarm(n);
	return ret;
}
