/* api_server.c: the management socket, served on the I/O thread. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/api_channel.h"
#include "vcpu/api/api_server.h"
#include "vcpu/core/trace.h"
#include "vcpu/log.h"

int api_server_open(struct api_server *a, const char *path, struct vm *vm,
		    char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, ret;

	memset(a, 0, sizeof(*a));
	a->listen_fd = -1;
	pthread_mutex_init(&a->trace_lock, NULL);
	for (unsigned i = 0; i < API_CLIENTS_MAX; i++) {
		a->client[i].fd = -1;
		a->client[i].trace_dev = -1;
	}
	a->vm = vm;
	if (strlen(path) >= sizeof(addr.sun_path))
		return errf(err, errlen, -ENAMETOOLONG,
			    "--api-socket: '%s' is too long (at most %zu "
			    "bytes)",
			    path, sizeof(addr.sun_path) - 1);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, errlen, -errno, "--api-socket: socket: %s",
			    strerror(errno));
	/* Created 0600 from the start: no window with wider rights. */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (ret < 0) {
		ret = -errno;
		close(fd);
		return errf(err, errlen, ret, "--api-socket: %s: %s", path,
			    ret == -EADDRINUSE ? "exists already"
					       : strerror(-ret));
	}
	if (listen(fd, API_CLIENTS_MAX) < 0) {
		ret = -errno;
		close(fd);
		unlink(path);
		return errf(err, errlen, ret, "--api-socket: listen: %s",
			    strerror(-ret));
	}
	a->listen_fd = fd;
	snprintf(a->path, sizeof(a->path), "%s", path);
	return 0;
}

int api_server_add(struct api_server *a, const struct api_device_ref *d)
{
	if (a->ndev >= API_MAX_DEVICES)
		return -ENOSPC;
	a->dev[a->ndev++] = *d;
	return 0;
}

static void api_drop(struct api_client *c)
{
	struct api_server *a = c->srv;

	if (c->ev)
		iothread_unwatch(c->ev);
	c->ev = NULL;
	if (a)
		pthread_mutex_lock(&a->trace_lock);
	if (c->trace_dev >= 0 && a) {
		c->trace_dev = -1;
		trace_set_listeners(--a->tracers);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (a)
		pthread_mutex_unlock(&a->trace_lock);
}


static void api_error(struct api_reply *r, int code, const char *fmt, ...)
{
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->type = API_REPLY_ERROR;
	r->u.error.code = (uint32_t)(code < 0 ? -code : code);
	if (!r->u.error.code || r->u.error.code > 4095)
		r->u.error.code = EIO;
	va_start(ap, fmt);
	vsnprintf(r->u.error.text, sizeof(r->u.error.text), fmt, ap);
	va_end(ap);
}

static struct api_device_ref *api_find(struct api_server *a, const char *name)
{
	for (unsigned i = 0; i < a->ndev; i++)
		if (!strcmp(a->dev[i].name, name))
			return &a->dev[i];
	return NULL;
}

static enum api_dev_state api_dev_state(const struct api_device_ref *d)
{
	bool needs_reset;

	switch (d->sup->state) {
	case SUPERVISOR_DOWN:
	case SUPERVISOR_STARTING:
		return API_DEV_RESTARTING;
	case SUPERVISOR_FAILED:
		return API_DEV_FAILED;
	case SUPERVISOR_STOPPED:
		return API_DEV_STOPPED;
	case SUPERVISOR_RUNNING:
		break;
	}
	pthread_mutex_lock(d->lock);
	needs_reset = d->vdev->needs_reset;
	pthread_mutex_unlock(d->lock);
	return needs_reset ? API_DEV_NEEDS_RESET : API_DEV_RUNNING;
}

static void api_status(struct api_server *a, struct api_reply *r)
{
	static const enum api_vm_state states[] = {
		[VM_STATE_STARTING] = API_VM_STARTING,
		[VM_STATE_RUNNING] = API_VM_RUNNING,
		[VM_STATE_PAUSED] = API_VM_PAUSED,
		[VM_STATE_SHUTTING_DOWN] = API_VM_SHUTTING_DOWN,
	};
	struct vm_status st;

	vm_get_status(a->vm, &st);
	r->type = API_REPLY_STATUS;
	r->u.status.state = states[st.state];
	r->u.status.uptime_ms = st.uptime_ms;
	r->u.status.vcpus = st.vcpus;
	r->u.status.memory_bytes = st.memory_bytes;
	r->u.status.exits_io = st.exits_io;
	r->u.status.exits_mmio = st.exits_mmio;
	r->u.status.exits_other = st.exits_other;
}

static void api_devices(struct api_server *a, struct api_reply *r)
{
	r->type = API_REPLY_DEVICES;
	for (unsigned i = 0; i < a->ndev; i++) {
		const struct api_device_ref *d = &a->dev[i];
		struct api_device *o = &r->u.devices.dev[i];

		snprintf(o->name, sizeof(o->name), "%s", d->name);
		o->type = d->type;
		o->state = api_dev_state(d);
		o->pid = atomic_load(&d->sup->alive) ? (uint32_t)d->sup->pid
						      : 0;
		o->restarts = (uint32_t)d->sup->rec.restarts;
		snprintf(o->last_cause, sizeof(o->last_cause), "%s",
			 d->sup->rec.last_cause);
	}
	r->u.devices.n = a->ndev;
}

/* The request's device; an error reply when there is none. */
static struct api_device_ref *api_dev(struct api_server *a,
				      const struct api_req *q,
				      struct api_reply *r)
{
	struct api_device_ref *d = api_find(a, q->dev);

	if (!d)
		api_error(r, ENODEV, "no device %s", q->dev);
	return d;
}

static void api_dev_call(struct api_server *a, const struct api_req *q,
			 struct api_reply *r)
{
	struct api_device_ref *d = api_dev(a, q, r);
	int ret = 0;

	if (!d)
		return;
	switch (q->type) {
	case API_REQ_STATS:
		ret = supervisor_stats(d->sup, &r->u.stats.stats, false,
				       API_STATS_WAIT_MS);
		if (!ret) {
			r->type = API_REPLY_STATS;
			snprintf(r->u.stats.name, sizeof(r->u.stats.name),
				 "%s", d->name);
		}
		break;
	case API_REQ_RESTART:
		log_warn("%s: restart asked through the API", d->name);
		ret = supervisor_restart_asked(d->sup);
		break;
	case API_REQ_KILL:
		log_warn("%s: SIGKILL asked through the API", d->name);
		ret = supervisor_sigkill(d->sup);
		break;
	case API_REQ_FAULT:
		ret = supervisor_fault(d->sup, &q->fault);
		break;
	case API_REQ_ESCAPE:
		log_warn("%s: escape attempt %u asked through the API (a test)",
			 d->name, q->escape);
		ret = supervisor_escape(d->sup, q->escape);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret == -ESRCH)
		api_error(r, ret, "%s: no server is running", d->name);
	else if (ret)
		api_error(r, ret, "%s: %s", d->name, strerror(-ret));
	else if (q->type != API_REQ_STATS)
		r->type = API_REPLY_OK;
}

/* I/O thread: the grace after the power button is over. */
static void api_halt(void *arg)
{
	struct api_server *a = arg;

	log_warn("shutdown: the guest did not power off within %u ms: "
		 "stopping it",
		 a->shutdown_grace_ms);
	vm_shutdown(a->vm);
}

/* The power button, then a hard stop if the guest takes too long. */
static void api_shutdown(struct api_server *a)
{
	if (!a->shutdown_grace_ms || !a->ev_halt ||
	    vm_power_button(a->vm) ||
	    iothread_later(a->ev_halt, a->shutdown_grace_ms)) {
		log_warn("shutdown asked through the API: stopping the VM");
		vm_shutdown(a->vm);
		return;
	}
	log_warn("shutdown asked through the API: power button pressed, "
		 "%u ms for the guest to power off",
		 a->shutdown_grace_ms);
}

static void api_vm_call(struct api_server *a, const struct api_req *q,
			struct api_reply *r)
{
	int ret = 0;

	switch (q->type) {
	case API_REQ_PAUSE:
		ret = vm_pause(a->vm);
		break;
	case API_REQ_RESUME:
		ret = vm_resume(a->vm);
		break;
	case API_REQ_SHUTDOWN:
		api_shutdown(a);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret == -EBUSY)
		api_error(r, ret, "the VM is not %s",
			  q->type == API_REQ_PAUSE ? "running" : "paused");
	else if (ret)
		api_error(r, ret, "%s", strerror(-ret));
	else
		r->type = API_REPLY_OK;
}

static void api_handle(struct api_server *a, const struct api_req *q,
		       struct api_reply *r)
{
	memset(r, 0, sizeof(*r));
	switch (q->type) {
	case API_REQ_STATUS:
		api_status(a, r);
		break;
	case API_REQ_DEVICES:
		api_devices(a, r);
		break;
	case API_REQ_STATS:
	case API_REQ_RESTART:
	case API_REQ_KILL:
	case API_REQ_FAULT:
	case API_REQ_ESCAPE:
		api_dev_call(a, q, r);
		break;
	case API_REQ_PAUSE:
	case API_REQ_RESUME:
	case API_REQ_SHUTDOWN:
		api_vm_call(a, q, r);
		break;
	case API_REQ_TRACE: /* answered by api_client_event() */
		break;
	}
}

/*
 * The trace sink, on any thread (the I/O thread's completions, a vCPU's
 * notify): the event to every client tracing dev, never waiting.
 */
static void api_trace_sink(void *opaque, const char *dev,
			   const struct trace_event *e)
{
	struct api_server *a = opaque;
	struct api_reply r;
	struct api_trace *t = &r.u.trace;

	memset(&r, 0, sizeof(r));
	r.type = API_REPLY_TRACE;
	snprintf(t->op, sizeof(t->op), "%s", e->op);
	snprintf(t->syscall, sizeof(t->syscall), "%s", e->syscall);
	snprintf(t->text, sizeof(t->text), "%s", e->text ? e->text : "");
	for (char *p = t->text; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	t->queue = e->queue;
	t->head = e->head;
	t->sector = e->sector;
	t->bytes = e->bytes;
	t->file_offset = e->file_offset;
	t->status = e->status;
	t->latency_us = e->latency_us;
	pthread_mutex_lock(&a->trace_lock);
	for (unsigned i = 0; i < API_CLIENTS_MAX; i++) {
		struct api_client *c = &a->client[i];

		if (c->trace_dev < 0 || c->fd < 0 ||
		    strcmp(a->dev[c->trace_dev].trace_name, dev))
			continue;
		t->seq = ++c->trace_seq;
		snprintf(t->device, sizeof(t->device), "%s",
			 a->dev[c->trace_dev].name);
		/* Full: this one is lost, the gap in seq says so. */
		api_reply_send(c->fd, &r);
	}
	pthread_mutex_unlock(&a->trace_lock);
}

/* The client's connection carries dev's trace from now on. */
static void api_trace_start(struct api_server *a, struct api_client *c,
			    const struct api_req *q, struct api_reply *r)
{
	struct api_device_ref *d = api_find(a, q->dev);

	if (!d) {
		api_error(r, ENODEV, "no device %s", q->dev);
		return;
	}
	r->type = API_REPLY_OK;
	if (api_reply_send(c->fd, r)) {
		api_drop(c);
		r->type = 0; /* nothing more to send */
		return;
	}
	pthread_mutex_lock(&a->trace_lock);
	if (c->trace_dev < 0)
		trace_set_listeners(++a->tracers);
	c->trace_dev = (int)(d - a->dev);
	c->trace_seq = 0;
	pthread_mutex_unlock(&a->trace_lock);
	r->type = 0;
}

/* I/O thread: a client sent something (or went away). */
static void api_client_event(int fd, void *arg)
{
	struct api_client *c = arg;
	struct api_req q;
	struct api_reply r;
	int ret = api_req_recv(fd, &q);

	if (ret == -EAGAIN || ret == -EINTR)
		return;
	if (ret == -EPIPE || ret == -ECONNRESET) {
		api_drop(c);
		return;
	}
	if (ret) {
		/* One error reply if it fits, then the door. */
		api_error(&r, ret, "bad request: %s", strerror(-ret));
		api_reply_send(fd, &r);
		api_drop(c);
		return;
	}
	if (q.type == API_REQ_TRACE) {
		memset(&r, 0, sizeof(r));
		api_trace_start(c->srv, c, &q, &r);
		if (!r.type)
			return;
	} else {
		api_handle(c->srv, &q, &r);
	}
	/* A client that does not read its replies is not waited for; one
	 * that traces gets its replies in between, under the trace lock. */
	pthread_mutex_lock(&c->srv->trace_lock);
	ret = api_reply_send(fd, &r);
	pthread_mutex_unlock(&c->srv->trace_lock);
	if (ret)
		api_drop(c);
}

/* I/O thread: a client connects. */
static void api_listen_event(int fd, void *arg)
{
	struct api_server *a = arg;
	struct api_client *c = NULL;
	struct api_reply r;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd < 0)
		return;
	for (unsigned i = 0; i < API_CLIENTS_MAX && !c; i++)
		if (a->client[i].fd < 0)
			c = &a->client[i];
	if (!c) {
		api_error(&r, EBUSY, "too many clients (at most %d)",
			  API_CLIENTS_MAX);
		api_reply_send(cfd, &r);
		close(cfd);
		return;
	}
	c->fd = cfd;
	c->srv = a;
	c->ev = iothread_watch(a->io, cfd, api_client_event, c);
	if (!c->ev)
		api_drop(c);
}

int api_server_start(struct api_server *a, struct iothread *io)
{
	a->io = io;
	a->ev_halt = iothread_soon_new(io, api_halt, a);
	if (!a->ev_halt)
		return -ENOMEM;
	trace_set_sink(api_trace_sink, a);
	a->ev_listen = iothread_watch(io, a->listen_fd, api_listen_event, a);
	return a->ev_listen ? 0 : -ENOMEM;
}

void api_server_close(struct api_server *a)
{
	trace_set_listeners(0);
	if (a->io)
		trace_set_sink(NULL, NULL);
	for (unsigned i = 0; i < API_CLIENTS_MAX; i++)
		api_drop(&a->client[i]);
	if (a->ev_listen)
		iothread_unwatch(a->ev_listen);
	a->ev_listen = NULL;
	iothread_soon_free(a->ev_halt);
	a->ev_halt = NULL;
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		unlink(a->path);
	}
	a->listen_fd = -1;
}
