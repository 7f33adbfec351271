/* srv.c: a device server's life: arguments, handshake, route table, loop. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devsrv/common/srv_core.h"
#include "ipc/ctl_channel.h"
#include "proto/proto_version.h"

typedef int (*srv_route_fn)(struct srv *s, const struct ctl_msg *m, int *fds,
			    unsigned nfds);

/* One row per message a VMM may send: the states it is legal in. */
struct srv_route {
	enum ctl_type type;
	unsigned states;
	srv_route_fn fn;
};

void srv_fail(struct srv *s, int err, const char *fmt, ...)
{
	char text[CTL_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	srv_err("fatal: %s", text);
	if (s->ctl_fd >= 0)
		ctl_send_error(s->ctl_fd, err ? err : EPROTO, "%s", text);
	s->exit_code = 1;
	event_base_loopbreak(s->base);
}

static int srv_on_hello(struct srv *s, const struct ctl_msg *m, int *fds,
			unsigned nfds)
{
	(void)fds;
	(void)nfds;
	if (m->u.hello.role != CTL_ROLE_VMM)
		return -EPROTO;
	s->state = SRV_WAIT_SETUP;
	return 0;
}

/* Take the fd of @role out of fds[] (it becomes ours), or -1. */
static int srv_take_fd(const struct ctl_setup *st, int *fds, unsigned nfds,
		       enum ctl_fd_role role)
{
	int i = ctl_setup_fd_index(st, role), fd;

	if (i < 0 || (unsigned)i >= nfds)
		return -1;
	fd = fds[i];
	fds[i] = -1;
	return fd;
}

static int srv_on_setup(struct srv *s, const struct ctl_msg *m, int *fds,
			unsigned nfds)
{
	const struct ctl_setup *st = &m->u.setup;
	struct ctl_msg ready = {.type = CTL_READY};
	struct ipc_geom geo;
	int ret;

	if (st->dev_type != s->ops->dev_type)
		return -EPROTO;
	s->memfd = srv_take_fd(st, fds, nfds, CTL_FD_MEMFD);
	s->kick_fd = srv_take_fd(st, fds, nfds, CTL_FD_KICK);
	s->call_fd = srv_take_fd(st, fds, nfds, CTL_FD_CALL);
	s->fds.backend = srv_take_fd(st, fds, nfds, CTL_FD_BACKEND);
	s->fds.backend_out = srv_take_fd(st, fds, nfds, CTL_FD_BACKEND_OUT);
	s->fds.out_pipe = srv_take_fd(st, fds, nfds, CTL_FD_OUT_PIPE);
	s->fds.in_pipe = srv_take_fd(st, fds, nfds, CTL_FD_IN_PIPE);
	s->fds.client = srv_take_fd(st, fds, nfds, CTL_FD_CLIENT);
	if (s->memfd < 0 || s->kick_fd < 0 || s->call_fd < 0)
		return -EPROTO;
	ctl_geometry_to_ipc(&st->geo, &geo);
	ret = srv_core_attach(s, s->memfd, s->kick_fd, s->call_fd, &geo);
	if (ret) {
		srv_fail(s, -ret, "data plane: %s", strerror(-ret));
		return 0;
	}
	/* From here the shutdown op runs, also after a failed setup. */
	s->dev_set_up = true;
	ret = s->ops->setup(s, st, &s->fds, &ready.u.ready);
	s->fds.client = -1; /* the device's now */
	if (ret) {
		srv_fail(s, -ret, "%s setup: %s", s->ops->name, strerror(-ret));
		return 0;
	}
	/* Set up, threads started: confined before any request is read. */
	if (srv_sandbox_apply(s))
		return 0;
	ret = ctl_send(s->ctl_fd, &ready, NULL, 0);
	if (ret)
		return ret;
	s->state = SRV_RUNNING;
	/* Requests may already wait (a replay after a restart). */
	event_active(s->ev_kick, EV_TIMEOUT, 0);
	return 0;
}

static int srv_on_stats(struct srv *s, const struct ctl_msg *m, int *fds,
			unsigned nfds)
{
	/* The VMM matches the reply to its request by this number. */
	struct ctl_msg r = {.type = CTL_STATS_REPLY, .seq = m->seq};
	bool reset = m->u.stats_request.reset;

	(void)fds;
	(void)nfds;
	srv_ring_stats(s, &r.u.stats, reset);
	if (s->ops->stats)
		s->ops->stats(s, &r.u.stats, reset);
	return ctl_send(s->ctl_fd, &r, NULL, 0);
}

static int srv_on_reset(struct srv *s, const struct ctl_msg *m, int *fds,
			unsigned nfds)
{
	(void)m;
	(void)fds;
	(void)nfds;
	if (s->ops->reset)
		s->ops->reset(s);
	return 0;
}

static int srv_on_fault(struct srv *s, const struct ctl_msg *m, int *fds,
			unsigned nfds)
{
	(void)fds;
	(void)nfds;
	srv_fault_set(s, &m->u.fault);
	return 0;
}

static int srv_on_escape(struct srv *s, const struct ctl_msg *m, int *fds,
			 unsigned nfds)
{
	(void)fds;
	(void)nfds;
	return srv_sandbox_escape(s, &m->u.escape);
}

static int srv_on_shutdown(struct srv *s, const struct ctl_msg *m, int *fds,
			   unsigned nfds)
{
	(void)m;
	(void)fds;
	(void)nfds;
	s->exit_code = 0;
	event_base_loopbreak(s->base);
	return 0;
}

static const struct srv_route srv_routes[] = {
	{CTL_HELLO, SRV_WAIT_HELLO, srv_on_hello},
	{CTL_SETUP, SRV_WAIT_SETUP, srv_on_setup},
	{CTL_STATS_REQUEST, SRV_RUNNING, srv_on_stats},
	{CTL_RESET, SRV_RUNNING, srv_on_reset},
	{CTL_FAULT, SRV_RUNNING, srv_on_fault},
	{CTL_ESCAPE, SRV_RUNNING, srv_on_escape},
	{CTL_SHUTDOWN, SRV_WAIT_HELLO | SRV_WAIT_SETUP | SRV_RUNNING,
	 srv_on_shutdown},
};

/* The one place that decides whether a message is legal now. */
static int srv_dispatch(struct srv *s, const struct ctl_msg *m, int *fds,
			unsigned nfds)
{
	for (size_t i = 0; i < sizeof(srv_routes) / sizeof(srv_routes[0]);
	     i++) {
		const struct srv_route *r = &srv_routes[i];

		if (r->type != m->type)
			continue;
		if (!(r->states & s->state))
			break;
		return r->fn(s, m, fds, nfds);
	}
	srv_fail(s, EPROTO, "protocol error: %s in state %#x",
		 ctl_type_name(m->type), s->state);
	return 0;
}

static void srv_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	int fds[CTL_SETUP_MAX_FDS];
	unsigned nfds = 0;
	struct ctl_msg m;
	int ret;

	(void)what;
	ret = ctl_recv(fd, &m, fds, CTL_SETUP_MAX_FDS, &nfds);
	if (ret == -EPIPE || ret == -ECONNRESET) {
		srv_info("VMM closed the control socket");
		s->exit_code = 0;
		event_base_loopbreak(s->base);
		return;
	}
	if (ret == -EAGAIN || ret == -EINTR)
		return;
	if (ret) {
		srv_fail(s, -ret, "bad control message: %s", strerror(-ret));
		return;
	}
	ret = srv_dispatch(s, &m, fds, nfds);
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (ret)
		srv_fail(s, -ret, "%s: %s", ctl_type_name(m.type),
			 strerror(-ret));
}

static int srv_hello(struct srv *s)
{
	struct ctl_msg h = {.type = CTL_HELLO};

	h.u.hello.version = ISOVM_PROTO_VERSION;
	h.u.hello.role = CTL_ROLE_SERVER;
	h.u.hello.dev_type = s->ops->dev_type;
	h.u.hello.pid = (uint32_t)getpid();
	return ctl_send(s->ctl_fd, &h, NULL, 0);
}

int srv_main(int argc, char **argv, const struct srv_dev_ops *ops, void *dev)
{
	struct srv_args a;
	struct srv *s;
	int ret;

	srv_log_init(ops->name, SRV_LOG_WARN, 0);
	if (srv_args_parse(argc, argv, ops, dev, &a)) {
		srv_err("usage: isovm-%s --ctl-fd N [--log-level L] "
			"[--seccomp on|debug|off] [--outer-pid N]%s%s",
			ops->name, ops->usage ? " " : "",
			ops->usage ? ops->usage : "");
		return 2;
	}
	srv_log_init(ops->name, a.level, a.outer_pid);
	srv_log_init_libevent();
	/* A peer gone shows as EPIPE on its fd, never as a signal. */
	signal(SIGPIPE, SIG_IGN);
	s = srv_core_new(ops, dev);
	if (!s) {
		srv_err("out of memory");
		return 1;
	}
	s->ctl_fd = a.ctl_fd;
	s->seccomp = a.seccomp;
	s->ev_ctl = event_new(s->base, s->ctl_fd, EV_READ | EV_PERSIST,
			      srv_ctl_cb, s);
	if (!s->ev_ctl || event_priority_set(s->ev_ctl, SRV_PRIO_HIGH) ||
	    event_add(s->ev_ctl, NULL)) {
		srv_fail(s, ENOMEM, "control socket event");
		goto out;
	}
	ret = srv_hello(s);
	if (ret) {
		srv_err("hello: %s", strerror(-ret));
		s->exit_code = ret == -EPIPE ? 0 : 1;
		goto out;
	}
	if (event_base_dispatch(s->base) < 0)
		srv_fail(s, EIO, "event loop failed");
out:
	if (s->dev_set_up && ops->shutdown)
		ops->shutdown(s);
	ret = s->exit_code;
	srv_core_free(s);
	return ret;
}
