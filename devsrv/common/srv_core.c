/* srv_core.c: the server core's state, its loop events and its tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devsrv/common/srv_core.h"
#include "ipc/ctl_channel.h"

static void srv_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	int ret;

	(void)fd;
	/* EV_TIMEOUT is our own re-activation: no wake-up to read. */
	ret = (what & EV_READ) ? ipc_notify_drain(&s->dp.sq_wait) : 0;
	if (ret < 0) {
		srv_fail(s, -ret, "kick pipe: %s", strerror(-ret));
		return;
	}
	ipc_notify_disarm(&s->dp.sq_wait);
	srv_ring_drain(s);
}

static void srv_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	srv_ring_flush(arg);
}

static void srv_async_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	struct ipc_cpl *tmp = s->aq + s->cap; /* second half: loop's copy */
	uint32_t n;
	uint64_t v;
	int err;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
		srv_fail(s, errno, "completion eventfd: %s", strerror(errno));
		return;
	}
	err = pthread_mutex_lock(&s->aq_lock);
	if (err) {
		srv_fail(s, err, "completion queue lock: %s", strerror(err));
		return;
	}
	n = s->naq;
	memcpy(tmp, s->aq, n * sizeof(*tmp));
	s->naq = 0;
	pthread_mutex_unlock(&s->aq_lock);
	for (uint32_t i = 0; i < n; i++)
		if (srv_complete(s, &tmp[i]))
			srv_warn("device completed id %#llx not pending",
				 (unsigned long long)tmp[i].id);
}

struct srv *srv_core_new(const struct srv_dev_ops *ops, void *dev)
{
	struct srv *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = ops;
	s->dev = dev;
	s->ctl_fd = s->memfd = s->kick_fd = s->call_fd = -1;
	s->fds.backend = s->fds.backend_out = -1;
	s->fds.out_pipe = s->fds.in_pipe = s->fds.client = -1;
	s->aq_efd = -1;
	s->state = SRV_WAIT_HELLO;
	s->rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
	if (pthread_mutex_init(&s->aq_lock, NULL))
		goto err_free;
	s->base = event_base_new();
	if (!s->base || event_base_priority_init(s->base, SRV_NPRIO))
		goto err_base;
	s->ev_flush = event_new(s->base, -1, 0, srv_flush_cb, s);
	if (!s->ev_flush || event_priority_set(s->ev_flush, SRV_PRIO_NORMAL))
		goto err_base;
	return s;

err_base:
	if (s->ev_flush)
		event_free(s->ev_flush);
	if (s->base)
		event_base_free(s->base);
	pthread_mutex_destroy(&s->aq_lock);
err_free:
	free(s);
	return NULL;
}

static int srv_core_tables(struct srv *s, uint32_t cap)
{
	s->cap = cap;
	s->pend = calloc(cap, sizeof(*s->pend));
	s->cpl = calloc(cap, sizeof(*s->cpl));
	s->aq = calloc(2 * (size_t)cap, sizeof(*s->aq));
	if (!s->pend || !s->cpl || !s->aq)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++) {
		s->pend[i].srv = s;
		if (evtimer_assign(&s->pend[i].timer, s->base,
				   srv_ring_delay_cb, &s->pend[i]))
			return -ENOMEM;
	}
	return 0;
}

/* Map the region and make the kick/async events; called once. */
int srv_core_attach(struct srv *s, int memfd, int kick_fd, int call_fd,
		    const struct ipc_geom *geo)
{
	int ret;

	ret = ipc_dp_srv_open(&s->dp, memfd, kick_fd, call_fd, geo);
	if (ret)
		return ret;
	s->dp_open = true;
	ret = srv_core_tables(s, geo->sq_entries);
	if (ret)
		return ret;
	s->aq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->aq_efd < 0)
		return -errno;
	s->ev_kick = event_new(s->base, kick_fd, EV_READ | EV_PERSIST,
			       srv_kick_cb, s);
	s->ev_async = event_new(s->base, s->aq_efd, EV_READ | EV_PERSIST,
				srv_async_cb, s);
	if (!s->ev_kick || !s->ev_async ||
	    event_priority_set(s->ev_kick, SRV_PRIO_NORMAL) ||
	    event_add(s->ev_kick, NULL) || event_add(s->ev_async, NULL))
		return -ENOMEM;
	return 0;
}

static void srv_core_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Frees everything; each part may be absent (any failure path ends here). */
void srv_core_free(struct srv *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; s->pend && i < s->cap; i++)
		if (evtimer_initialized(&s->pend[i].timer))
			evtimer_del(&s->pend[i].timer);
	if (s->ev_ctl)
		event_free(s->ev_ctl);
	if (s->ev_kick)
		event_free(s->ev_kick);
	if (s->ev_async)
		event_free(s->ev_async);
	event_free(s->ev_flush);
	event_base_free(s->base);
	if (s->dp_open)
		ipc_dp_srv_close(&s->dp);
	srv_core_close(&s->aq_efd);
	srv_core_close(&s->memfd);
	srv_core_close(&s->kick_fd);
	srv_core_close(&s->call_fd);
	srv_core_close(&s->fds.backend);
	srv_core_close(&s->fds.backend_out);
	srv_core_close(&s->fds.out_pipe);
	srv_core_close(&s->fds.in_pipe);
	srv_core_close(&s->fds.client);
	srv_core_close(&s->ctl_fd);
	free(s->pend);
	free(s->cpl);
	free(s->aq);
	pthread_mutex_destroy(&s->aq_lock);
	free(s);
}

void *srv_dev(struct srv *s)
{
	return s->dev;
}

struct event_base *srv_base(struct srv *s)
{
	return s->base;
}

int srv_send(struct srv *s, const struct ctl_msg *msg, const int *fds,
	     unsigned nfds)
{
	return ctl_send(s->ctl_fd, msg, fds, nfds);
}
