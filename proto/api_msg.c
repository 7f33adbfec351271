/* api_msg.c: management API messages between C structs and the wire. */
#include "proto/api_msg.h"

#include <errno.h>
#include <string.h>

#include "proto/api.pb-c.h"
#include "proto/ctl_pb.h"
#include "proto/pb_alloc.h"

/* Allocation budget per decode: far above what a valid message needs. */
#define API_DECODE_BUDGET (1024u * 1024u)

#define API_SAME(c, pb) _Static_assert((int)(c) == (int)(pb), #c)
API_SAME(API_VM_SHUTTING_DOWN, ISOVM__API__VM_STATE__VM_STATE_SHUTTING_DOWN);
API_SAME(API_DEV_FAILED, ISOVM__API__DEVICE_STATE__DEVICE_STATE_FAILED);
API_SAME(API_REQ_SHUTDOWN, ISOVM__API__REQUEST__REQ_SHUTDOWN);
API_SAME(API_REQ_TRACE, ISOVM__API__REQUEST__REQ_TRACE);
API_SAME(API_REQ_ESCAPE, ISOVM__API__REQUEST__REQ_ESCAPE);
API_SAME(API_REPLY_STATS, ISOVM__API__REPLY__REP_STATS);
API_SAME(API_REPLY_TRACE, ISOVM__API__REPLY__REP_TRACE);

struct api_pb_req {
	Isovm__Api__Empty empty;
	Isovm__Api__DeviceRef ref;
	Isovm__Api__FaultRequest fault;
	Isovm__Ctl__FaultSettings settings;
	Isovm__Api__EscapeRequest escape;
};

struct api_pb_reply {
	Isovm__Api__Empty ok;
	Isovm__Api__ApiError error;
	Isovm__Api__Status status;
	Isovm__Api__DeviceList list;
	Isovm__Api__Device dev[API_MAX_DEVICES];
	Isovm__Api__Device *devp[API_MAX_DEVICES];
	Isovm__Api__DeviceStats stats;
	struct ctl_pb_stats ctl_stats;
	Isovm__Api__TraceEvent trace;
};

/* The wire's oneof case numbers equal enum api_req_type (checked above). */
static void api_req_fill(struct api_pb_req *s, const struct api_req *req,
			 Isovm__Api__Request *m)
{
	m->req_case = (Isovm__Api__Request__ReqCase)req->type;
	switch (req->type) {
	case API_REQ_STATS:
	case API_REQ_RESTART:
	case API_REQ_KILL:
	case API_REQ_TRACE:
		isovm__api__device_ref__init(&s->ref);
		s->ref.name = (char *)req->dev;
		/* All four members of the union are the same pointer type. */
		m->stats = &s->ref;
		break;
	case API_REQ_FAULT:
		isovm__api__fault_request__init(&s->fault);
		ctl_pb_fault_fill(&s->settings, &req->fault);
		s->fault.name = (char *)req->dev;
		s->fault.settings = &s->settings;
		m->fault = &s->fault;
		break;
	case API_REQ_ESCAPE:
		isovm__api__escape_request__init(&s->escape);
		s->escape.name = (char *)req->dev;
		s->escape.attempt = req->escape;
		m->escape = &s->escape;
		break;
	default:
		isovm__api__empty__init(&s->empty);
		m->status = &s->empty;
		break;
	}
}

int api_req_encode(const struct api_req *req, uint8_t *buf, size_t cap)
{
	Isovm__Api__Request m = ISOVM__API__REQUEST__INIT;
	struct api_pb_req s;
	size_t len;
	int ret;

	ret = api_req_validate(req);
	if (ret)
		return ret;
	api_req_fill(&s, req, &m);
	len = isovm__api__request__get_packed_size(&m);
	if (len > cap || len > API_MSG_MAX)
		return -ENOBUFS;
	return (int)isovm__api__request__pack(&m, buf);
}

static int api_req_read(const Isovm__Api__Request *m, struct api_req *out)
{
	if (m->req_case < ISOVM__API__REQUEST__REQ_STATUS ||
	    m->req_case > ISOVM__API__REQUEST__REQ_ESCAPE)
		return -EBADMSG;
	out->type = (enum api_req_type)m->req_case;
	switch (m->req_case) {
	case ISOVM__API__REQUEST__REQ_STATS:
	case ISOVM__API__REQUEST__REQ_RESTART:
	case ISOVM__API__REQUEST__REQ_KILL:
	case ISOVM__API__REQUEST__REQ_TRACE:
		return ctl_pb_copy_str(out->dev, sizeof(out->dev),
				       m->stats->name);
	case ISOVM__API__REQUEST__REQ_FAULT:
		if (!m->fault->settings)
			return -EINVAL;
		if (ctl_pb_copy_str(out->dev, sizeof(out->dev), m->fault->name))
			return -EINVAL;
		return ctl_pb_fault_read(m->fault->settings, &out->fault);
	case ISOVM__API__REQUEST__REQ_ESCAPE:
		out->escape = m->escape->attempt;
		return ctl_pb_copy_str(out->dev, sizeof(out->dev),
				       m->escape->name);
	default:
		return 0;
	}
}

static int api_req_read_pb(const ProtobufCMessage *msg, void *out)
{
	return api_req_read((const Isovm__Api__Request *)msg, out);
}

static int api_req_validate_any(const void *out)
{
	return api_req_validate(out);
}

int api_req_decode(const uint8_t *buf, size_t len, struct api_req *out)
{
	return pb_decode(&isovm__api__request__descriptor, buf, len, API_MSG_MAX,
			 API_DECODE_BUDGET, api_req_read_pb, api_req_validate_any, out,
			 sizeof(*out));
}

static void api_devices_fill(struct api_pb_reply *s, const struct api_devices *d)
{
	isovm__api__device_list__init(&s->list);
	for (unsigned i = 0; i < d->n; i++) {
		Isovm__Api__Device *m = &s->dev[i];

		isovm__api__device__init(m);
		m->name = (char *)d->dev[i].name;
		m->type = (Isovm__Ctl__DeviceType)d->dev[i].type;
		m->state = (Isovm__Api__DeviceState)d->dev[i].state;
		m->pid = d->dev[i].pid;
		m->restarts = d->dev[i].restarts;
		m->last_cause = (char *)d->dev[i].last_cause;
		s->devp[i] = m;
	}
	s->list.n_devices = d->n;
	s->list.devices = d->n ? s->devp : NULL;
}

static void api_reply_fill(struct api_pb_reply *s, const struct api_reply *rep,
			   Isovm__Api__Reply *m)
{
	m->rep_case = (Isovm__Api__Reply__RepCase)rep->type;
	switch (rep->type) {
	case API_REPLY_OK:
		isovm__api__empty__init(&s->ok);
		m->ok = &s->ok;
		break;
	case API_REPLY_ERROR:
		isovm__api__api_error__init(&s->error);
		s->error.code = rep->u.error.code;
		s->error.text = (char *)rep->u.error.text;
		m->error = &s->error;
		break;
	case API_REPLY_STATUS:
		isovm__api__status__init(&s->status);
		s->status.state = (Isovm__Api__VmState)rep->u.status.state;
		s->status.uptime_ms = rep->u.status.uptime_ms;
		s->status.vcpus = rep->u.status.vcpus;
		s->status.memory_bytes = rep->u.status.memory_bytes;
		s->status.exits_io = rep->u.status.exits_io;
		s->status.exits_mmio = rep->u.status.exits_mmio;
		s->status.exits_other = rep->u.status.exits_other;
		m->status = &s->status;
		break;
	case API_REPLY_DEVICES:
		api_devices_fill(s, &rep->u.devices);
		m->devices = &s->list;
		break;
	case API_REPLY_STATS:
		isovm__api__device_stats__init(&s->stats);
		ctl_pb_stats_fill(&s->ctl_stats, &rep->u.stats.stats);
		s->stats.name = (char *)rep->u.stats.name;
		s->stats.stats = &s->ctl_stats.msg;
		m->stats = &s->stats;
		break;
	case API_REPLY_TRACE: {
		const struct api_trace *t = &rep->u.trace;
		Isovm__Api__TraceEvent *e = &s->trace;

		isovm__api__trace_event__init(e);
		e->device = (char *)t->device;
		e->seq = t->seq;
		e->queue = t->queue;
		e->head = t->head;
		e->op = (char *)t->op;
		e->sector = t->sector;
		e->bytes = t->bytes;
		e->file_offset = t->file_offset;
		e->syscall = (char *)t->syscall;
		e->status = t->status;
		e->latency_us = t->latency_us;
		e->text = (char *)t->text;
		m->trace = e;
		break;
	}
	}
}

int api_reply_encode(const struct api_reply *rep, uint8_t *buf, size_t cap)
{
	Isovm__Api__Reply m = ISOVM__API__REPLY__INIT;
	struct api_pb_reply s;
	size_t len;
	int ret;

	ret = api_reply_validate(rep);
	if (ret)
		return ret;
	api_reply_fill(&s, rep, &m);
	len = isovm__api__reply__get_packed_size(&m);
	if (len > cap || len > API_MSG_MAX)
		return -ENOBUFS;
	return (int)isovm__api__reply__pack(&m, buf);
}

static int api_devices_read(const Isovm__Api__DeviceList *m,
			    struct api_devices *d)
{
	if (m->n_devices > API_MAX_DEVICES)
		return -EINVAL;
	d->n = (unsigned)m->n_devices;
	for (size_t i = 0; i < m->n_devices; i++) {
		const Isovm__Api__Device *dm = m->devices[i];
		struct api_device *dev = &d->dev[i];

		if (!dm || ctl_pb_copy_str(dev->name, sizeof(dev->name),
					   dm->name))
			return -EINVAL;
		dev->type = (enum ctl_dev_type)dm->type;
		dev->state = (enum api_dev_state)dm->state;
		dev->pid = dm->pid;
		dev->restarts = dm->restarts;
		if (ctl_pb_copy_str(dev->last_cause, sizeof(dev->last_cause),
				    dm->last_cause))
			return -EINVAL;
	}
	return 0;
}

static int api_reply_read(const Isovm__Api__Reply *m, struct api_reply *out)
{
	switch (m->rep_case) {
	case ISOVM__API__REPLY__REP_OK:
		out->type = API_REPLY_OK;
		return 0;
	case ISOVM__API__REPLY__REP_ERROR:
		out->type = API_REPLY_ERROR;
		out->u.error.code = m->error->code;
		return ctl_pb_copy_str(out->u.error.text,
				       sizeof(out->u.error.text),
				       m->error->text);
	case ISOVM__API__REPLY__REP_STATUS:
		out->type = API_REPLY_STATUS;
		out->u.status.state = (enum api_vm_state)m->status->state;
		out->u.status.uptime_ms = m->status->uptime_ms;
		out->u.status.vcpus = m->status->vcpus;
		out->u.status.memory_bytes = m->status->memory_bytes;
		out->u.status.exits_io = m->status->exits_io;
		out->u.status.exits_mmio = m->status->exits_mmio;
		out->u.status.exits_other = m->status->exits_other;
		return 0;
	case ISOVM__API__REPLY__REP_DEVICES:
		out->type = API_REPLY_DEVICES;
		return api_devices_read(m->devices, &out->u.devices);
	case ISOVM__API__REPLY__REP_STATS:
		out->type = API_REPLY_STATS;
		if (!m->stats->stats ||
		    ctl_pb_copy_str(out->u.stats.name, sizeof(out->u.stats.name),
				    m->stats->name))
			return -EINVAL;
		return ctl_pb_stats_read(m->stats->stats, &out->u.stats.stats);
	case ISOVM__API__REPLY__REP_TRACE: {
		const Isovm__Api__TraceEvent *e = m->trace;
		struct api_trace *t = &out->u.trace;

		out->type = API_REPLY_TRACE;
		t->seq = e->seq;
		t->queue = e->queue;
		t->head = e->head;
		t->sector = e->sector;
		t->bytes = e->bytes;
		t->file_offset = e->file_offset;
		t->status = e->status;
		t->latency_us = e->latency_us;
		if (ctl_pb_copy_str(t->device, sizeof(t->device), e->device) ||
		    ctl_pb_copy_str(t->op, sizeof(t->op), e->op) ||
		    ctl_pb_copy_str(t->syscall, sizeof(t->syscall),
				    e->syscall) ||
		    ctl_pb_copy_str(t->text, sizeof(t->text), e->text))
			return -EINVAL;
		return 0;
	}
	default:
		return -EBADMSG;
	}
}

static int api_reply_read_pb(const ProtobufCMessage *msg, void *out)
{
	return api_reply_read((const Isovm__Api__Reply *)msg, out);
}

static int api_reply_validate_any(const void *out)
{
	return api_reply_validate(out);
}

int api_reply_decode(const uint8_t *buf, size_t len, struct api_reply *out)
{
	return pb_decode(&isovm__api__reply__descriptor, buf, len, API_MSG_MAX,
			 API_DECODE_BUDGET, api_reply_read_pb, api_reply_validate_any, out,
			 sizeof(*out));
}
