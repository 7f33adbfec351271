/* iothread.c: one libevent loop on its own thread. */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/core/confine.h"
#include "vcpu/core/iothread.h"
#include "vcpu/log.h"

/* libevent keeps one argument per callback: the fn and its arg, packed. */
struct iothread_watch {
	iothread_fd_fn fn;
	void *arg;
};

struct iothread_call {
	iothread_fn fn;
	void *arg;
};

static pthread_once_t iothread_once = PTHREAD_ONCE_INIT;
static int iothread_locking = -1;

static void iothread_use_pthreads(void)
{
	iothread_locking = evthread_use_pthreads();
}

int iothread_init(struct iothread *io)
{
	memset(io, 0, sizeof(*io));
	/* Lets vCPU and main threads add events while the loop runs. */
	pthread_once(&iothread_once, iothread_use_pthreads);
	if (iothread_locking != 0)
		return -ENOSYS;
	io->base = event_base_new();
	if (!io->base)
		return -ENOMEM;
	return 0;
}

static void *iothread_main(void *arg)
{
	struct iothread *io = arg;

	/* Before the loop turns: every callback runs confined. */
	io->start_ret = confine_thread(CONFINE_IOTHREAD, "I/O thread",
				       io->start_err, sizeof(io->start_err));
	sem_post(&io->confined);
	if (io->start_ret)
		return NULL;
	event_base_loop(io->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int iothread_start(struct iothread *io)
{
	int ret;

	io->start_ret = 0;
	io->start_err[0] = '\0';
	if (sem_init(&io->confined, 0, 0) < 0)
		return errf(io->start_err, sizeof(io->start_err), -errno,
			    "%s", strerror(errno));
	ret = pthread_create(&io->thread, NULL, iothread_main, io);
	if (ret) {
		sem_destroy(&io->confined);
		return errf(io->start_err, sizeof(io->start_err), -ret, "%s",
			    strerror(ret));
	}
	while (sem_wait(&io->confined) < 0 && errno == EINTR)
		;
	sem_destroy(&io->confined);
	if (io->start_ret) {
		pthread_join(io->thread, NULL);
		return io->start_ret;
	}
	io->started = true;
	return 0;
}

static void iothread_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct iothread_watch *w = arg;

	(void)what;
	w->fn(fd, w->arg);
}

struct event *iothread_watch(struct iothread *io, int fd, iothread_fd_fn fn,
			     void *arg)
{
	struct iothread_watch *w = malloc(sizeof(*w));
	struct event *ev;

	if (!w)
		return NULL;
	w->fn = fn;
	w->arg = arg;
	ev = event_new(io->base, fd, EV_READ | EV_PERSIST, iothread_dispatch,
		       w);
	if (!ev)
		goto err_free_watch;
	if (event_add(ev, NULL) < 0)
		goto err_free_event;
	return ev;

err_free_event:
	event_free(ev);
err_free_watch:
	free(w);
	return NULL;
}

void iothread_unwatch(struct event *ev)
{
	struct iothread_watch *w;

	if (!ev)
		return;
	w = event_get_callback_arg(ev);
	/* event_free waits for a running callback of ev on the loop thread. */
	event_free(ev);
	free(w);
}

static void iothread_call_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct iothread_call *c = arg;

	(void)fd;
	(void)what;
	c->fn(c->arg);
}

struct event *iothread_soon_new(struct iothread *io, iothread_fn fn, void *arg)
{
	struct iothread_call *c = malloc(sizeof(*c));
	struct event *ev;

	if (!c)
		return NULL;
	c->fn = fn;
	c->arg = arg;
	ev = evtimer_new(io->base, iothread_call_dispatch, c);
	if (!ev)
		free(c);
	return ev;
}

int iothread_soon(struct event *ev)
{
	/*
	 * A timer due now, not event_active(): an active event re-armed from
	 * its own callback runs again in the same turn, before the loop
	 * polls, so ready fds would wait. An expired timer fires after the
	 * next poll, behind the fds that poll found. The base's timer heap
	 * only grows past its largest size so far, so this rarely allocates.
	 */
	static const struct timeval now = {0, 0};

	return event_add(ev, &now) < 0 ? -ENOMEM : 0;
}

int iothread_later(struct event *ev, unsigned ms)
{
	struct timeval tv = {ms / 1000u, (ms % 1000u) * 1000};

	return event_add(ev, &tv) < 0 ? -ENOMEM : 0;
}

void iothread_cancel(struct event *ev)
{
	if (ev)
		event_del(ev);
}

void iothread_soon_free(struct event *ev)
{
	struct iothread_call *c;

	if (!ev)
		return;
	c = event_get_callback_arg(ev);
	event_free(ev);
	free(c);
}

void iothread_stop(struct iothread *io)
{
	if (!io->started)
		return;
	event_base_loopbreak(io->base);
	pthread_join(io->thread, NULL);
	io->started = false;
}

void iothread_fini(struct iothread *io)
{
	if (io->base)
		event_base_free(io->base);
	io->base = NULL;
}
