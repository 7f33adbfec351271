/* srv_ring.c: requests off the ring, through faults, to the device and back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devsrv/common/srv_core.h"

uint64_t srv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum ctl_op srv_ring_class(struct srv *s, uint32_t op)
{
	enum ctl_op c = s->ops->op_class ? s->ops->op_class(op) : 0;

	return (c > CTL_OP_ANY && c <= CTL_OP_MAX) ? c : CTL_OP_ANY;
}

/*
 * The crash fault. Not abort(): a jailed server is pid 1 of its pid
 * namespace, which ignores a SIGABRT it sends itself, and abort()'s next
 * steps are calls its filter refuses. A trap is a fault the kernel
 * delivers whatever the pid: the server dies of SIGILL, and its filter
 * needs no row for it.
 */
static _Noreturn void srv_crash(void)
{
	__builtin_trap();
}

/* Ops whose payload flows to the device: their bytes are the buffer's. */
static bool srv_ring_outbound(enum ctl_op c)
{
	return c == CTL_OP_WRITE || c == CTL_OP_TX || c == CTL_OP_CONSOLE_OUT;
}

/* One request or transfer of class cls, begun at t0: bytes, or an error. */
static void srv_ring_count(struct srv *s, enum ctl_op cls, uint64_t t0,
			   uint64_t bytes, int status)
{
	struct srv_opstat *o = &s->st[cls];
	uint64_t lat = srv_now_ns() - t0;

	o->requests++;
	if (status)
		o->errors++;
	else
		o->bytes += bytes;
	o->lat_sum_ns += lat;
	o->lat_hist[ctl_lat_bucket(lat)]++;
	if (lat > o->lat_max_ns)
		o->lat_max_ns = lat;
}

static void srv_ring_account(struct srv *s, enum ctl_op cls, uint64_t t0,
			     const struct ipc_req *req,
			     const struct ipc_cpl *cpl)
{
	srv_ring_count(s, cls, t0,
		       srv_ring_outbound(cls) ? req->arena_len : cpl->len,
		       cpl->status);
}

/* Queue a completion for the next flush; never allocates. */
static void srv_ring_queue(struct srv *s, const struct ipc_cpl *cpl)
{
	if (s->ncpl >= s->cap) {
		/* Only a VMM that posts more than it may gets here. */
		s->cst.cpl_overflow++;
		return;
	}
	s->cpl[s->ncpl] = *cpl;
	if (s->ncpl++ == 0)
		event_active(s->ev_flush, EV_TIMEOUT, 0);
}

/* Complete a request the core refused or a fault failed, untracked. */
static void srv_ring_refuse(struct srv *s, const struct ipc_req *req,
			    enum ctl_op cls, int status, uint64_t t0)
{
	struct ipc_cpl cpl = {.id = req->id, .status = status};

	srv_ring_account(s, cls, t0, req, &cpl);
	srv_ring_queue(s, &cpl);
}

static void srv_ring_to_device(struct srv *s, struct srv_pend *p)
{
	struct ipc_cpl cpl = {.id = p->req.id};
	void *buf = NULL;

	if (p->req.arena_len)
		buf = ipc_dp_srv_buf(&s->dp, &p->req);
	if (p->req.arena_len && !buf) {
		p->state = SRV_PEND_FREE;
		s->cst.bad_requests++;
		srv_ring_refuse(s, &p->req, p->cls, -ERANGE, p->t0_ns);
		return;
	}
	p->state = SRV_PEND_DEVICE;
	if (s->ops->handle(s, &p->req, buf, &cpl) == SRV_PENDING)
		return;
	cpl.id = p->req.id;
	if (cpl.len > p->req.arena_len)
		cpl.len = p->req.arena_len; /* device bug: never overrun */
	p->state = SRV_PEND_FREE;
	srv_ring_account(s, p->cls, p->t0_ns, &p->req, &cpl);
	srv_ring_queue(s, &cpl);
}

void srv_ring_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv_pend *p = arg;

	(void)fd;
	(void)what;
	if (p->state == SRV_PEND_DELAYED)
		srv_ring_to_device(p->srv, p);
}

/* Returns the slot of a well-formed request, or NULL after refusing it. */
static struct srv_pend *srv_ring_check(struct srv *s, const struct ipc_req *req,
				       enum ctl_op cls, uint64_t t0)
{
	uint32_t slot = (uint32_t)req->id;
	int err = 0;

	if (req->reserved || (req->flags & ~IPC_REQ_F_REPLAY))
		err = -EINVAL;
	else if (slot >= s->cap || s->pend[slot].state != SRV_PEND_FREE)
		err = -EBUSY; /* an id the VMM cannot have in flight */
	if (!err)
		return &s->pend[slot];
	s->cst.bad_requests++;
	srv_ring_refuse(s, req, cls, err, t0);
	return NULL;
}

void srv_ring_dispatch(struct srv *s, const struct ipc_req *req)
{
	enum ctl_op cls = srv_ring_class(s, req->op);
	const struct ctl_fault *f;
	uint64_t t0 = srv_now_ns();
	struct srv_pend *p = srv_ring_check(s, req, cls, t0);
	struct timeval tv;

	if (!p)
		return;
	p->req = *req;
	p->t0_ns = t0;
	p->cls = cls;
	f = srv_fault_on_frames(s, cls) ? NULL : srv_fault_pick(s, cls, req);
	if (!f) {
		srv_ring_to_device(s, p);
		return;
	}
	switch (f->kind) {
	case CTL_FAULT_ERROR:
		srv_ring_refuse(s, req, cls, -(int)f->error_code, t0);
		break;
	case CTL_FAULT_DELAY:
		p->state = SRV_PEND_DELAYED;
		tv.tv_sec = f->delay_us / 1000000u;
		tv.tv_usec = f->delay_us % 1000000u;
		evtimer_add(&p->timer, &tv);
		break;
	case CTL_FAULT_DROP:
		s->cst.faults_dropped++; /* never completed, on purpose */
		break;
	case CTL_FAULT_CORRUPT: {
		/* Another sequence in the id: one the VMM never issued. */
		struct ipc_cpl bad = {.id = req->id ^ (1ull << 63)};

		s->cst.faults_dropped++;
		srv_ring_queue(s, &bad);
		break;
	}
	case CTL_FAULT_CRASH:
		srv_err("fault injection: crash on request op %u", req->op);
		srv_crash();
	default:
		srv_ring_to_device(s, p);
		break;
	}
}

const struct ctl_fault *srv_transfer_fault(struct srv *s, enum ctl_op cls)
{
	struct ipc_req none = {0}; /* no sectors: range rules never fire */
	const struct ctl_fault *f;

	if (cls <= CTL_OP_ANY || cls > CTL_OP_MAX)
		return NULL;
	f = srv_fault_pick(s, cls, &none);
	if (!f)
		return NULL;
	switch (f->kind) {
	case CTL_FAULT_CRASH:
		srv_err("fault injection: crash on a transfer of op %d", cls);
		srv_crash();
	case CTL_FAULT_CORRUPT: {
		/* No request is in flight: any id is one never issued. */
		struct ipc_cpl bad = {.id = 1ull << 63};

		s->cst.faults_dropped++;
		srv_ring_queue(s, &bad);
		return NULL;
	}
	case CTL_FAULT_DROP:
		s->cst.faults_dropped++;
		return f;
	default:
		return f;
	}
}

void srv_transfer_done(struct srv *s, enum ctl_op cls, uint64_t t0_ns,
		       uint64_t bytes, int status)
{
	if (cls > CTL_OP_ANY && cls <= CTL_OP_MAX)
		srv_ring_count(s, cls, t0_ns, bytes, status);
}

void srv_ring_flush(struct srv *s)
{
	int n;

	if (!s->ncpl || !s->dp_open)
		return;
	n = ipc_dp_srv_complete(&s->dp, s->cpl, s->ncpl);
	if (n < 0) {
		srv_fail(s, -n, "completion ring: %s", strerror(-n));
		return;
	}
	/* A short push means the VMM holds too many: keep the rest. */
	memmove(s->cpl, s->cpl + n, (s->ncpl - n) * sizeof(*s->cpl));
	s->ncpl -= n;
}

void srv_ring_drain(struct srv *s)
{
	for (int pass = 0; pass < SRV_BATCHES_PER_PASS; pass++) {
		int n = ipc_dp_srv_next(&s->dp, s->batch, SRV_BATCH);

		if (n == 0) {
			n = ipc_notify_arm(&s->dp.sq_wait);
			if (n == 0)
				return; /* armed: the next post kicks us */
			if (n > 0)
				continue;
		}
		if (n < 0) {
			srv_fail(s, -n, "submission ring: %s", strerror(-n));
			return;
		}
		for (int i = 0; i < n; i++) {
			s->batch_rest = (uint32_t)(n - i - 1);
			srv_ring_dispatch(s, &s->batch[i]);
		}
		s->batch_rest = 0;
		srv_ring_flush(s);
	}
	/* Still busy: let control and backends run, then go on. */
	event_active(s->ev_kick, EV_TIMEOUT, 0);
}

bool srv_sq_idle(struct srv *s)
{
	/* The peek reads only the VMM's index: a lie costs speed, not
	 * safety, as every request is still popped and checked. */
	return !s->batch_rest && s->dp_open && ipc_ring_pending(&s->dp.sq) == 0;
}

int srv_complete(struct srv *s, const struct ipc_cpl *cpl)
{
	uint32_t slot = (uint32_t)cpl->id;
	struct srv_pend *p;
	struct ipc_cpl c;

	if (slot >= s->cap)
		return -EBADMSG;
	p = &s->pend[slot];
	if (p->state != SRV_PEND_DEVICE || p->req.id != cpl->id)
		return -EBADMSG;
	c = *cpl;
	if (c.len > p->req.arena_len)
		c.len = p->req.arena_len;
	p->state = SRV_PEND_FREE;
	srv_ring_account(s, p->cls, p->t0_ns, &p->req, &c);
	srv_ring_queue(s, &c);
	return 0;
}

int srv_complete_async(struct srv *s, const struct ipc_cpl *cpl)
{
	uint64_t one = 1;
	bool wake;
	int ret;

	ret = pthread_mutex_lock(&s->aq_lock);
	if (ret)
		return -ret;
	if (s->naq >= s->cap) {
		pthread_mutex_unlock(&s->aq_lock);
		return -ENOSPC;
	}
	s->aq[s->naq] = *cpl;
	wake = s->naq++ == 0; /* later ones ride on the same wake-up */
	pthread_mutex_unlock(&s->aq_lock);
	if (wake && write(s->aq_efd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

void srv_ring_stats(struct srv *s, struct ctl_stats *st, bool reset)
{
	for (int c = CTL_OP_ANY; c <= CTL_OP_MAX; c++) {
		const struct srv_opstat *o = &s->st[c];
		struct ctl_op_stats *d;

		if (!o->requests || st->nops >= CTL_STATS_MAX_OPS)
			continue;
		d = &st->ops[st->nops++];
		d->op = c;
		d->requests = o->requests;
		d->bytes = o->bytes;
		d->errors = o->errors;
		d->latency_sum_ns = o->lat_sum_ns;
		d->latency_max_ns = o->lat_max_ns;
		memcpy(d->latency_hist, o->lat_hist, sizeof(d->latency_hist));
	}
	srv_stats_add(st, "bad_requests", s->cst.bad_requests);
	srv_stats_add(st, "faults_fired", s->cst.faults_fired);
	srv_stats_add(st, "faults_dropped", s->cst.faults_dropped);
	srv_stats_add(st, "cpl_overflow", s->cst.cpl_overflow);
	if (reset) {
		memset(s->st, 0, sizeof(s->st));
		memset(&s->cst, 0, sizeof(s->cst));
	}
}

void srv_stats_add(struct ctl_stats *st, const char *key, uint64_t value)
{
	struct ctl_kv *kv;

	if (st->nextra >= CTL_STATS_MAX_EXTRA || strlen(key) > CTL_KEY_MAX ||
	    !ctl_name_ok(key, strlen(key) + 1))
		return;
	kv = &st->extra[st->nextra++];
	memset(kv->key, 0, sizeof(kv->key));
	memcpy(kv->key, key, strlen(key));
	kv->value = value;
}
