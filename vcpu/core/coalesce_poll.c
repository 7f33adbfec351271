/* coalesce_poll.c: replaying the coalesced ring on an I/O-thread timer. */
#include <errno.h>
#include <event2/event.h>
#include <string.h>

#include "vcpu/core/coalesce_poll.h"

static void coalesce_poll_arm(struct coalesce_poll *p, bool slow)
{
	struct timeval fast = {.tv_sec = 0, .tv_usec = COALESCE_POLL_FAST_US};
	struct timeval quiet = {.tv_sec = 0,
				.tv_usec = COALESCE_POLL_SLOW_MS * 1000};

	atomic_store(&p->slow, slow);
	evtimer_add(p->timer, slow ? &quiet : &fast);
}

static void coalesce_poll_fire(evutil_socket_t fd, short what, void *arg)
{
	struct coalesce_poll *p = arg;
	bool busy;

	(void)fd;
	(void)what;
	busy = coalesce_replay_poll(p->c) > 0;
	/* Replays at vCPU exits count too: the guest is still writing. */
	busy |= atomic_exchange(&p->c->busy, false);
	if (busy)
		p->quiet = 0;
	else if (p->quiet < COALESCE_POLL_QUIET)
		p->quiet++;
	coalesce_poll_arm(p, p->quiet >= COALESCE_POLL_QUIET);
}

int coalesce_poll_start(struct coalesce_poll *p, struct coalesce *c,
			struct iothread *io)
{
	memset(p, 0, sizeof(*p));
	p->c = c;
	p->timer = evtimer_new(io->base, coalesce_poll_fire, p);
	if (!p->timer)
		return -ENOMEM;
	p->quiet = COALESCE_POLL_QUIET;
	coalesce_poll_arm(p, true);
	return 0;
}

void coalesce_poll_stop(struct coalesce_poll *p)
{
	if (p->timer)
		event_free(p->timer);
	p->timer = NULL;
}

void coalesce_poll_hurry(struct coalesce_poll *p)
{
	if (!p->timer || !atomic_load(&p->slow))
		return;
	/* busy first: a timer firing meanwhile then stays fast too. */
	atomic_store(&p->c->busy, true);
	if (atomic_exchange(&p->slow, false))
		coalesce_poll_arm(p, false);
}
