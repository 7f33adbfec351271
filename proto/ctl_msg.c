/* ctl_msg.c: control messages between C structs and the protobuf wire. */
#include "proto/ctl_msg.h"

#include <errno.h>
#include <string.h>

#include "proto/ctl_pb.h"
#include "proto/pb_alloc.h"

/* Allocation budget per decode: far above what a valid message needs. */
#define CTL_DECODE_BUDGET (256u * 1024u)

/* The C enums mirror the wire values; a renumbering must fail the build. */
#define CTL_SAME(c, pb) _Static_assert((int)(c) == (int)(pb), #c)
CTL_SAME(CTL_DEV_CONSOLE, ISOVM__CTL__DEVICE_TYPE__DEVICE_TYPE_CONSOLE);
CTL_SAME(CTL_FD_BACKEND, ISOVM__CTL__FD_ROLE__FD_ROLE_BACKEND);
CTL_SAME(CTL_FD_BACKEND_OUT, ISOVM__CTL__FD_ROLE__FD_ROLE_BACKEND_OUT);
CTL_SAME(CTL_FD_OUT_PIPE, ISOVM__CTL__FD_ROLE__FD_ROLE_OUT_PIPE);
CTL_SAME(CTL_FD_IN_PIPE, ISOVM__CTL__FD_ROLE__FD_ROLE_IN_PIPE);
CTL_SAME(CTL_FD_CLIENT, ISOVM__CTL__FD_ROLE__FD_ROLE_CLIENT);
CTL_SAME(CTL_OP_MAX, ISOVM__CTL__OP__OP_CONSOLE_IN);
CTL_SAME(CTL_FAULT_DROP, ISOVM__CTL__FAULT_KIND__FAULT_KIND_DROP);
CTL_SAME(CTL_FAULT_CORRUPT, ISOVM__CTL__FAULT_KIND__FAULT_KIND_CORRUPT);
CTL_SAME(CTL_CONSOLE_SOCKET,
	 ISOVM__CTL__CONSOLE_BACKEND__CONSOLE_BACKEND_SOCKET);
CTL_SAME(CTL_CACHE_NONE, ISOVM__CTL__CACHE_MODE__CACHE_MODE_NONE);
CTL_SAME(CTL_ROLE_SERVER, ISOVM__CTL__ROLE__ROLE_SERVER);

/* Everything an encoded envelope may point to, on the encoder's stack. */
struct ctl_pb_scratch {
	Isovm__Ctl__Hello hello;
	Isovm__Ctl__Setup setup;
	Isovm__Ctl__BlkConfig blk;
	Isovm__Ctl__NetConfig net;
	Isovm__Ctl__ConsoleConfig console;
	Isovm__Ctl__IpcGeometry geo;
	Isovm__Ctl__FdRole fds[CTL_SETUP_MAX_FDS];
	Isovm__Ctl__Ready ready;
	Isovm__Ctl__StatsRequest stats_request;
	struct ctl_pb_stats stats;
	Isovm__Ctl__Reset reset;
	Isovm__Ctl__Shutdown shutdown;
	Isovm__Ctl__Error error;
	Isovm__Ctl__FaultSettings fault;
	Isovm__Ctl__Escape escape;
	Isovm__Ctl__EscapeResult escape_result;
	Isovm__Ctl__Client client;
};

int ctl_pb_copy_str(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (!src)
		return -EINVAL;
	n = strnlen(src, cap);
	if (n == cap)
		return -EINVAL;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

void ctl_pb_stats_fill(struct ctl_pb_stats *pb, const struct ctl_stats *st)
{
	isovm__ctl__stats_reply__init(&pb->msg);
	for (unsigned i = 0; i < st->nops; i++) {
		const struct ctl_op_stats *o = &st->ops[i];
		Isovm__Ctl__OpStats *m = &pb->ops[i];

		isovm__ctl__op_stats__init(m);
		m->op = (Isovm__Ctl__Op)o->op;
		m->requests = o->requests;
		m->bytes = o->bytes;
		m->errors = o->errors;
		m->latency_sum_ns = o->latency_sum_ns;
		m->latency_max_ns = o->latency_max_ns;
		/* pack() only reads it. */
		m->n_latency_hist = CTL_LAT_BUCKETS;
		m->latency_hist = (uint64_t *)o->latency_hist;
		pb->opp[i] = m;
	}
	for (unsigned i = 0; i < st->nextra; i++) {
		isovm__ctl__key_value__init(&pb->kv[i]);
		/* pack() only reads the string. */
		pb->kv[i].key = (char *)st->extra[i].key;
		pb->kv[i].value = st->extra[i].value;
		pb->kvp[i] = &pb->kv[i];
	}
	pb->msg.n_ops = st->nops;
	pb->msg.ops = st->nops ? pb->opp : NULL;
	pb->msg.n_extra = st->nextra;
	pb->msg.extra = st->nextra ? pb->kvp : NULL;
}

int ctl_pb_stats_read(const Isovm__Ctl__StatsReply *m, struct ctl_stats *st)
{
	if (m->n_ops > CTL_STATS_MAX_OPS || m->n_extra > CTL_STATS_MAX_EXTRA)
		return -EINVAL;
	st->nops = (unsigned)m->n_ops;
	for (size_t i = 0; i < m->n_ops; i++) {
		const Isovm__Ctl__OpStats *o = m->ops[i];

		if (!o || (o->n_latency_hist &&
			   o->n_latency_hist != CTL_LAT_BUCKETS))
			return -EINVAL;
		st->ops[i] = (struct ctl_op_stats){
			.op = (enum ctl_op)o->op,
			.requests = o->requests,
			.bytes = o->bytes,
			.errors = o->errors,
			.latency_sum_ns = o->latency_sum_ns,
			.latency_max_ns = o->latency_max_ns,
		};
		for (size_t b = 0; b < o->n_latency_hist; b++)
			st->ops[i].latency_hist[b] = o->latency_hist[b];
	}
	st->nextra = (unsigned)m->n_extra;
	for (size_t i = 0; i < m->n_extra; i++) {
		if (!m->extra[i] ||
		    ctl_pb_copy_str(st->extra[i].key, sizeof(st->extra[i].key),
				    m->extra[i]->key))
			return -EINVAL;
		st->extra[i].value = m->extra[i]->value;
	}
	return 0;
}

void ctl_pb_fault_fill(Isovm__Ctl__FaultSettings *m, const struct ctl_fault *f)
{
	isovm__ctl__fault_settings__init(m);
	m->op = (Isovm__Ctl__Op)f->op;
	m->kind = (Isovm__Ctl__FaultKind)f->kind;
	m->count = f->count;
	m->delay_us = f->delay_us;
	m->error_code = f->error_code;
	m->sector_start = f->sector_start;
	m->sector_count = f->sector_count;
	if (f->trigger == CTL_TRIGGER_PROBABILITY) {
		m->trigger_case =
			ISOVM__CTL__FAULT_SETTINGS__TRIGGER_PROBABILITY_PPM;
		m->probability_ppm = f->probability_ppm;
	} else if (f->trigger == CTL_TRIGGER_EVERY_NTH) {
		m->trigger_case = ISOVM__CTL__FAULT_SETTINGS__TRIGGER_EVERY_NTH;
		m->every_nth = f->every_nth;
	}
}

int ctl_pb_fault_read(const Isovm__Ctl__FaultSettings *m, struct ctl_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->op = (enum ctl_op)m->op;
	f->kind = (enum ctl_fault_kind)m->kind;
	f->count = m->count;
	f->delay_us = m->delay_us;
	f->error_code = m->error_code;
	f->sector_start = m->sector_start;
	f->sector_count = m->sector_count;
	switch (m->trigger_case) {
	case ISOVM__CTL__FAULT_SETTINGS__TRIGGER__NOT_SET:
		break;
	case ISOVM__CTL__FAULT_SETTINGS__TRIGGER_PROBABILITY_PPM:
		f->trigger = CTL_TRIGGER_PROBABILITY;
		f->probability_ppm = m->probability_ppm;
		break;
	case ISOVM__CTL__FAULT_SETTINGS__TRIGGER_EVERY_NTH:
		f->trigger = CTL_TRIGGER_EVERY_NTH;
		f->every_nth = m->every_nth;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static void ctl_setup_fill(struct ctl_pb_scratch *s, const struct ctl_setup *c)
{
	Isovm__Ctl__Setup *m = &s->setup;

	isovm__ctl__setup__init(m);
	m->device_type = (Isovm__Ctl__DeviceType)c->dev_type;
	switch (c->dev_type) {
	case CTL_DEV_BLK:
		isovm__ctl__blk_config__init(&s->blk);
		s->blk.capacity_sectors = c->cfg.blk.capacity_sectors;
		s->blk.read_only = c->cfg.blk.read_only;
		s->blk.block_size = c->cfg.blk.block_size;
		s->blk.id = (char *)c->cfg.blk.id;
		s->blk.cache_mode = (Isovm__Ctl__CacheMode)c->cfg.blk.cache;
		s->blk.slice_offset = c->cfg.blk.slice_offset;
		m->config_case = ISOVM__CTL__SETUP__CONFIG_BLK;
		m->blk = &s->blk;
		break;
	case CTL_DEV_NET:
		isovm__ctl__net_config__init(&s->net);
		s->net.mac.len = CTL_MAC_LEN;
		s->net.mac.data = (uint8_t *)c->cfg.net.mac;
		s->net.mtu = c->cfg.net.mtu;
		m->config_case = ISOVM__CTL__SETUP__CONFIG_NET;
		m->net = &s->net;
		break;
	case CTL_DEV_CONSOLE:
		isovm__ctl__console_config__init(&s->console);
		s->console.backend =
			(Isovm__Ctl__ConsoleBackend)c->cfg.console.backend;
		m->config_case = ISOVM__CTL__SETUP__CONFIG_CONSOLE;
		m->console = &s->console;
		break;
	}
	isovm__ctl__ipc_geometry__init(&s->geo);
	s->geo.sq_entries = c->geo.sq_entries;
	s->geo.cq_entries = c->geo.cq_entries;
	s->geo.arena_slot_size = c->geo.arena_slot_size;
	s->geo.arena_slots = c->geo.arena_slots;
	s->geo.region_size = c->geo.region_size;
	m->geometry = &s->geo;
	for (unsigned i = 0; i < c->nfds; i++)
		s->fds[i] = (Isovm__Ctl__FdRole)c->fds[i];
	m->n_fds = c->nfds;
	m->fds = s->fds;
}

/* Point env at a protobuf image of msg built in s. msg is valid. */
static void ctl_msg_fill(struct ctl_pb_scratch *s, const struct ctl_msg *msg,
			 Isovm__Ctl__Envelope *env)
{
	switch (msg->type) {
	case CTL_HELLO:
		isovm__ctl__hello__init(&s->hello);
		s->hello.version = msg->u.hello.version;
		s->hello.role = (Isovm__Ctl__Role)msg->u.hello.role;
		s->hello.device_type =
			(Isovm__Ctl__DeviceType)msg->u.hello.dev_type;
		s->hello.pid = msg->u.hello.pid;
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_HELLO;
		env->hello = &s->hello;
		break;
	case CTL_SETUP:
		ctl_setup_fill(s, &msg->u.setup);
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_SETUP;
		env->setup = &s->setup;
		break;
	case CTL_READY:
		isovm__ctl__ready__init(&s->ready);
		s->ready.features = msg->u.ready.features;
		s->ready.config_space.len = msg->u.ready.config_len;
		s->ready.config_space.data = (uint8_t *)msg->u.ready.config;
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_READY;
		env->ready = &s->ready;
		break;
	case CTL_STATS_REQUEST:
		isovm__ctl__stats_request__init(&s->stats_request);
		s->stats_request.reset = msg->u.stats_request.reset;
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_STATS_REQUEST;
		env->stats_request = &s->stats_request;
		break;
	case CTL_STATS_REPLY:
		ctl_pb_stats_fill(&s->stats, &msg->u.stats);
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_STATS_REPLY;
		env->stats_reply = &s->stats.msg;
		break;
	case CTL_RESET:
		isovm__ctl__reset__init(&s->reset);
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_RESET;
		env->reset = &s->reset;
		break;
	case CTL_SHUTDOWN:
		isovm__ctl__shutdown__init(&s->shutdown);
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_SHUTDOWN;
		env->shutdown = &s->shutdown;
		break;
	case CTL_ERROR:
		isovm__ctl__error__init(&s->error);
		s->error.code = msg->u.error.code;
		s->error.text = (char *)msg->u.error.text;
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_ERROR;
		env->error = &s->error;
		break;
	case CTL_FAULT:
		ctl_pb_fault_fill(&s->fault, &msg->u.fault);
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_FAULT;
		env->fault = &s->fault;
		break;
	case CTL_ESCAPE:
		isovm__ctl__escape__init(&s->escape);
		s->escape.attempt = msg->u.escape.attempt;
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_ESCAPE;
		env->escape = &s->escape;
		break;
	case CTL_ESCAPE_RESULT:
		isovm__ctl__escape_result__init(&s->escape_result);
		s->escape_result.attempt = msg->u.escape_result.attempt;
		s->escape_result.error = msg->u.escape_result.error;
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_ESCAPE_RESULT;
		env->escape_result = &s->escape_result;
		break;
	case CTL_CLIENT:
		isovm__ctl__client__init(&s->client);
		s->client.present = msg->u.client.present;
		env->msg_case = ISOVM__CTL__ENVELOPE__MSG_CLIENT;
		env->client = &s->client;
		break;
	}
}

int ctl_msg_encode(const struct ctl_msg *msg, uint8_t *buf, size_t cap)
{
	Isovm__Ctl__Envelope env = ISOVM__CTL__ENVELOPE__INIT;
	struct ctl_pb_scratch s;
	size_t len;
	int ret;

	ret = ctl_msg_validate(msg);
	if (ret)
		return ret;
	ctl_msg_fill(&s, msg, &env);
	env.seq = msg->seq;
	len = isovm__ctl__envelope__get_packed_size(&env);
	if (len > cap || len > CTL_MSG_MAX)
		return -ENOBUFS;
	return (int)isovm__ctl__envelope__pack(&env, buf);
}

static int ctl_setup_read(const Isovm__Ctl__Setup *m, struct ctl_setup *c)
{
	static const Isovm__Ctl__Setup__ConfigCase want[] = {
		[CTL_DEV_BLK] = ISOVM__CTL__SETUP__CONFIG_BLK,
		[CTL_DEV_NET] = ISOVM__CTL__SETUP__CONFIG_NET,
		[CTL_DEV_CONSOLE] = ISOVM__CTL__SETUP__CONFIG_CONSOLE,
	};
	const Isovm__Ctl__IpcGeometry *g = m->geometry;

	/* The config present must be the one of the announced device. */
	if (m->device_type < ISOVM__CTL__DEVICE_TYPE__DEVICE_TYPE_BLK ||
	    m->device_type > ISOVM__CTL__DEVICE_TYPE__DEVICE_TYPE_CONSOLE ||
	    m->config_case != want[m->device_type] || !g ||
	    m->n_fds > CTL_SETUP_MAX_FDS)
		return -EINVAL;
	c->dev_type = (enum ctl_dev_type)m->device_type;
	switch (m->config_case) {
	case ISOVM__CTL__SETUP__CONFIG_BLK:
		c->cfg.blk.capacity_sectors = m->blk->capacity_sectors;
		c->cfg.blk.read_only = m->blk->read_only;
		c->cfg.blk.block_size = m->blk->block_size;
		c->cfg.blk.cache = (enum ctl_cache)m->blk->cache_mode;
		c->cfg.blk.slice_offset = m->blk->slice_offset;
		if (ctl_pb_copy_str(c->cfg.blk.id, sizeof(c->cfg.blk.id),
				    m->blk->id))
			return -EINVAL;
		break;
	case ISOVM__CTL__SETUP__CONFIG_NET:
		if (m->net->mac.len != CTL_MAC_LEN)
			return -EINVAL;
		memcpy(c->cfg.net.mac, m->net->mac.data, CTL_MAC_LEN);
		c->cfg.net.mtu = m->net->mtu;
		break;
	default:
		c->cfg.console.backend =
			(enum ctl_console_backend)m->console->backend;
		break;
	}
	c->geo = (struct ctl_geometry){
		.sq_entries = g->sq_entries,
		.cq_entries = g->cq_entries,
		.arena_slot_size = g->arena_slot_size,
		.arena_slots = g->arena_slots,
		.region_size = g->region_size,
	};
	c->nfds = (unsigned)m->n_fds;
	for (size_t i = 0; i < m->n_fds; i++)
		c->fds[i] = (enum ctl_fd_role)m->fds[i];
	return 0;
}

/* Copy the unpacked envelope into out; ranges are checked afterwards. */
static int ctl_msg_read(const Isovm__Ctl__Envelope *env, struct ctl_msg *out)
{
	switch (env->msg_case) {
	case ISOVM__CTL__ENVELOPE__MSG_HELLO:
		out->type = CTL_HELLO;
		out->u.hello.version = env->hello->version;
		out->u.hello.role = (enum ctl_role)env->hello->role;
		out->u.hello.dev_type =
			(enum ctl_dev_type)env->hello->device_type;
		out->u.hello.pid = env->hello->pid;
		return 0;
	case ISOVM__CTL__ENVELOPE__MSG_SETUP:
		out->type = CTL_SETUP;
		return ctl_setup_read(env->setup, &out->u.setup);
	case ISOVM__CTL__ENVELOPE__MSG_READY:
		out->type = CTL_READY;
		if (env->ready->config_space.len > CTL_CONFIG_MAX)
			return -EINVAL;
		out->u.ready.features = env->ready->features;
		out->u.ready.config_len = (uint32_t)env->ready->config_space.len;
		if (out->u.ready.config_len)
			memcpy(out->u.ready.config,
			       env->ready->config_space.data,
			       out->u.ready.config_len);
		return 0;
	case ISOVM__CTL__ENVELOPE__MSG_STATS_REQUEST:
		out->type = CTL_STATS_REQUEST;
		out->u.stats_request.reset = env->stats_request->reset;
		return 0;
	case ISOVM__CTL__ENVELOPE__MSG_STATS_REPLY:
		out->type = CTL_STATS_REPLY;
		return ctl_pb_stats_read(env->stats_reply, &out->u.stats);
	case ISOVM__CTL__ENVELOPE__MSG_RESET:
		out->type = CTL_RESET;
		return 0;
	case ISOVM__CTL__ENVELOPE__MSG_SHUTDOWN:
		out->type = CTL_SHUTDOWN;
		return 0;
	case ISOVM__CTL__ENVELOPE__MSG_ERROR:
		out->type = CTL_ERROR;
		out->u.error.code = env->error->code;
		return ctl_pb_copy_str(out->u.error.text,
				       sizeof(out->u.error.text),
				       env->error->text);
	case ISOVM__CTL__ENVELOPE__MSG_FAULT:
		out->type = CTL_FAULT;
		return ctl_pb_fault_read(env->fault, &out->u.fault);
	case ISOVM__CTL__ENVELOPE__MSG_ESCAPE:
		out->type = CTL_ESCAPE;
		out->u.escape.attempt = env->escape->attempt;
		return 0;
	case ISOVM__CTL__ENVELOPE__MSG_ESCAPE_RESULT:
		out->type = CTL_ESCAPE_RESULT;
		out->u.escape_result.attempt = env->escape_result->attempt;
		out->u.escape_result.error = env->escape_result->error;
		return 0;
	case ISOVM__CTL__ENVELOPE__MSG_CLIENT:
		out->type = CTL_CLIENT;
		out->u.client.present = env->client->present;
		return 0;
	default:
		/* Absent, or a message this version does not know. */
		return -EBADMSG;
	}
}

static int ctl_msg_read_pb(const ProtobufCMessage *msg, void *out)
{
	const Isovm__Ctl__Envelope *env = (const Isovm__Ctl__Envelope *)msg;

	((struct ctl_msg *)out)->seq = env->seq;
	return ctl_msg_read(env, out);
}

static int ctl_msg_validate_any(const void *out)
{
	return ctl_msg_validate(out);
}

int ctl_msg_decode(const uint8_t *buf, size_t len, struct ctl_msg *out)
{
	return pb_decode(&isovm__ctl__envelope__descriptor, buf, len, CTL_MSG_MAX,
			 CTL_DECODE_BUDGET, ctl_msg_read_pb, ctl_msg_validate_any, out,
			 sizeof(*out));
}
