/*
 * test_ctl_msg.c: every control message survives encode -> decode field by
 * field, and malformed or out-of-range input is rejected. Hostile wire bytes
 * are built with the generated protobuf code, which only proto/ and its
 * tests see.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "proto/control.pb-c.h"
#include "proto/ctl_msg.h"
#include "proto/proto_version.h"

static uint8_t wire[CTL_MSG_MAX];

/* Encode, decode, and hand back the decoded copy. */
static struct ctl_msg round_trip(const struct ctl_msg *in)
{
	struct ctl_msg out;
	int len = ctl_msg_encode(in, wire, sizeof(wire));

	cr_assert_gt(len, 0, "encode of %s: %d", ctl_type_name(in->type), len);
	cr_assert_eq(ctl_msg_decode(wire, (size_t)len, &out), 0);
	cr_assert_eq(out.type, in->type);
	return out;
}

static struct ctl_msg msg_of(enum ctl_type type)
{
	struct ctl_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	return m;
}

static struct ctl_geometry geo_ok(void)
{
	return (struct ctl_geometry){ .sq_entries = 256,
				      .cq_entries = 128,
				      .arena_slot_size = 4096,
				      .arena_slots = 1000,
				      .region_size = 8 << 20 };
}

static void assert_geo_eq(const struct ctl_geometry *a,
			  const struct ctl_geometry *b)
{
	cr_assert_eq(a->sq_entries, b->sq_entries);
	cr_assert_eq(a->cq_entries, b->cq_entries);
	cr_assert_eq(a->arena_slot_size, b->arena_slot_size);
	cr_assert_eq(a->arena_slots, b->arena_slots);
	cr_assert_eq(a->region_size, b->region_size);
}

Test(ctl_msg, hello_round_trips)
{
	struct ctl_msg in = msg_of(CTL_HELLO), out;

	in.u.hello = (struct ctl_hello){ .version = ISOVM_PROTO_VERSION,
					 .role = CTL_ROLE_SERVER,
					 .dev_type = CTL_DEV_NET,
					 .pid = 4242 };
	out = round_trip(&in);
	cr_assert_eq(out.u.hello.version, ISOVM_PROTO_VERSION);
	cr_assert_eq(out.u.hello.role, CTL_ROLE_SERVER);
	cr_assert_eq(out.u.hello.dev_type, CTL_DEV_NET);
	cr_assert_eq(out.u.hello.pid, 4242);
}

Test(ctl_msg, blk_setup_round_trips)
{
	struct ctl_msg in = msg_of(CTL_SETUP), out;
	struct ctl_setup *s = &in.u.setup;

	s->dev_type = CTL_DEV_BLK;
	s->cfg.blk = (struct ctl_blk_config){ .capacity_sectors = 1ull << 33,
					      .read_only = true,
					      .block_size = 4096,
					      .cache = CTL_CACHE_NONE,
					      .slice_offset = 1 << 20 };
	strcpy(s->cfg.blk.id, "disk-0123456789abcde");
	s->geo = geo_ok();
	s->nfds = 4;
	s->fds[0] = CTL_FD_BACKEND;
	s->fds[1] = CTL_FD_MEMFD;
	s->fds[2] = CTL_FD_CALL;
	s->fds[3] = CTL_FD_KICK;
	out = round_trip(&in);
	cr_assert_eq(out.u.setup.dev_type, CTL_DEV_BLK);
	cr_assert_eq(out.u.setup.cfg.blk.capacity_sectors, 1ull << 33);
	cr_assert_eq(out.u.setup.cfg.blk.read_only, true);
	cr_assert_eq(out.u.setup.cfg.blk.block_size, 4096);
	cr_assert_str_eq(out.u.setup.cfg.blk.id, "disk-0123456789abcde");
	cr_assert_eq(out.u.setup.cfg.blk.cache, CTL_CACHE_NONE);
	cr_assert_eq(out.u.setup.cfg.blk.slice_offset, 1 << 20);
	assert_geo_eq(&out.u.setup.geo, &s->geo);
	cr_assert_eq(out.u.setup.nfds, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(out.u.setup.fds[i], s->fds[i]);
	cr_assert_eq(ctl_setup_fd_index(&out.u.setup, CTL_FD_MEMFD), 1);
	cr_assert_eq(ctl_setup_fd_index(&out.u.setup, CTL_FD_KICK), 3);
	out.u.setup.nfds = 3;
	cr_assert_eq(ctl_setup_fd_index(&out.u.setup, CTL_FD_KICK), -ENOENT);
}

Test(ctl_msg, net_setup_round_trips)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct ctl_msg in = msg_of(CTL_SETUP), out;

	in.u.setup.dev_type = CTL_DEV_NET;
	memcpy(in.u.setup.cfg.net.mac, mac, 6);
	in.u.setup.cfg.net.mtu = 9000;
	in.u.setup.geo = geo_ok();
	in.u.setup.nfds = 1;
	in.u.setup.fds[0] = CTL_FD_MEMFD;
	out = round_trip(&in);
	cr_assert_eq(out.u.setup.dev_type, CTL_DEV_NET);
	cr_assert_arr_eq(out.u.setup.cfg.net.mac, mac, 6);
	cr_assert_eq(out.u.setup.cfg.net.mtu, 9000);
	assert_geo_eq(&out.u.setup.geo, &in.u.setup.geo);
	cr_assert_eq(out.u.setup.nfds, 1);
	cr_assert_eq(out.u.setup.fds[0], CTL_FD_MEMFD);
}

Test(ctl_msg, console_setup_round_trips)
{
	struct ctl_msg in = msg_of(CTL_SETUP), out;

	in.u.setup.dev_type = CTL_DEV_CONSOLE;
	in.u.setup.cfg.console.backend = CTL_CONSOLE_SOCKET;
	in.u.setup.geo = geo_ok();
	in.u.setup.nfds = 2;
	in.u.setup.fds[0] = CTL_FD_MEMFD;
	in.u.setup.fds[1] = CTL_FD_BACKEND;
	out = round_trip(&in);
	cr_assert_eq(out.u.setup.cfg.console.backend, CTL_CONSOLE_SOCKET);
	cr_assert_eq(out.u.setup.fds[1], CTL_FD_BACKEND);
	assert_geo_eq(&out.u.setup.geo, &in.u.setup.geo);
}

Test(ctl_msg, stdio_setup_with_all_seven_fds_round_trips)
{
	struct ctl_msg in = msg_of(CTL_SETUP), out;

	in.u.setup.dev_type = CTL_DEV_CONSOLE;
	in.u.setup.cfg.console.backend = CTL_CONSOLE_STDIO;
	in.u.setup.geo = geo_ok();
	in.u.setup.nfds = 7;
	in.u.setup.fds[0] = CTL_FD_MEMFD;
	in.u.setup.fds[1] = CTL_FD_KICK;
	in.u.setup.fds[2] = CTL_FD_CALL;
	in.u.setup.fds[3] = CTL_FD_BACKEND;
	in.u.setup.fds[4] = CTL_FD_BACKEND_OUT;
	in.u.setup.fds[5] = CTL_FD_OUT_PIPE;
	in.u.setup.fds[6] = CTL_FD_IN_PIPE;
	out = round_trip(&in);
	cr_assert_eq(out.u.setup.nfds, 7);
	cr_assert_eq(out.u.setup.fds[4], CTL_FD_BACKEND_OUT);
	cr_assert_eq(ctl_setup_fd_index(&out.u.setup, CTL_FD_BACKEND_OUT), 4);
	cr_assert_eq(ctl_setup_fd_index(&out.u.setup, CTL_FD_IN_PIPE), 6);
}

Test(ctl_msg, ready_round_trips)
{
	struct ctl_msg in = msg_of(CTL_READY), out;

	in.u.ready.features = 0x1300000446ull;
	in.u.ready.config_len = CTL_CONFIG_MAX;
	for (int i = 0; i < CTL_CONFIG_MAX; i++)
		in.u.ready.config[i] = (uint8_t)(i * 7);
	out = round_trip(&in);
	cr_assert_eq(out.u.ready.features, 0x1300000446ull);
	cr_assert_eq(out.u.ready.config_len, CTL_CONFIG_MAX);
	cr_assert_arr_eq(out.u.ready.config, in.u.ready.config,
			 CTL_CONFIG_MAX);
}

Test(ctl_msg, stats_request_round_trips)
{
	struct ctl_msg in = msg_of(CTL_STATS_REQUEST), out;

	in.u.stats_request.reset = true;
	in.seq = 7;
	out = round_trip(&in);
	cr_assert_eq(out.u.stats_request.reset, true);
	cr_assert_eq(out.seq, 7);
}

Test(ctl_msg, stats_reply_round_trips)
{
	struct ctl_msg in = msg_of(CTL_STATS_REPLY), out;
	struct ctl_stats *st = &in.u.stats;

	st->nops = CTL_STATS_MAX_OPS;
	for (unsigned i = 0; i < st->nops; i++)
		st->ops[i] = (struct ctl_op_stats){
			.op = CTL_OP_ANY + i % CTL_OP_MAX,
			.requests = 1000 + i,
			.bytes = (uint64_t)i << 40,
			.errors = i,
			.latency_sum_ns = 99999999999ull,
			.latency_max_ns = 12345 };
	st->nextra = 2;
	strcpy(st->extra[0].key, "flushes");
	st->extra[0].value = 17;
	strcpy(st->extra[1].key, "queue.depth_max-1");
	st->extra[1].value = UINT64_MAX;
	in.seq = UINT64_MAX;
	out = round_trip(&in);
	cr_assert_eq(out.seq, UINT64_MAX, "the request's number comes back");
	cr_assert_eq(out.u.stats.nops, CTL_STATS_MAX_OPS);
	for (unsigned i = 0; i < st->nops; i++) {
		const struct ctl_op_stats *a = &out.u.stats.ops[i];

		cr_assert_eq(a->op, st->ops[i].op);
		cr_assert_eq(a->requests, st->ops[i].requests);
		cr_assert_eq(a->bytes, st->ops[i].bytes);
		cr_assert_eq(a->errors, st->ops[i].errors);
		cr_assert_eq(a->latency_sum_ns, st->ops[i].latency_sum_ns);
		cr_assert_eq(a->latency_max_ns, st->ops[i].latency_max_ns);
	}
	cr_assert_eq(out.u.stats.nextra, 2);
	cr_assert_str_eq(out.u.stats.extra[0].key, "flushes");
	cr_assert_eq(out.u.stats.extra[0].value, 17);
	cr_assert_str_eq(out.u.stats.extra[1].key, "queue.depth_max-1");
	cr_assert_eq(out.u.stats.extra[1].value, UINT64_MAX);
}

Test(ctl_msg, empty_stats_reply_round_trips)
{
	struct ctl_msg in = msg_of(CTL_STATS_REPLY), out;

	out = round_trip(&in);
	cr_assert_eq(out.u.stats.nops, 0);
	cr_assert_eq(out.u.stats.nextra, 0);
}

Test(ctl_msg, reset_and_shutdown_round_trip)
{
	struct ctl_msg in = msg_of(CTL_RESET);

	cr_assert_eq(round_trip(&in).type, CTL_RESET);
	in = msg_of(CTL_SHUTDOWN);
	cr_assert_eq(round_trip(&in).type, CTL_SHUTDOWN);
}

Test(ctl_msg, error_round_trips)
{
	struct ctl_msg in = msg_of(CTL_ERROR), out;

	in.u.error.code = EIO;
	memset(in.u.error.text, 'e', CTL_TEXT_MAX);
	memcpy(in.u.error.text, "pread: Input/output error ", 26);
	out = round_trip(&in);
	cr_assert_eq(out.u.error.code, EIO);
	cr_assert_str_eq(out.u.error.text, in.u.error.text);
	cr_assert_eq(strlen(out.u.error.text), CTL_TEXT_MAX);
}

Test(ctl_msg, fault_settings_round_trip)
{
	struct ctl_msg in = msg_of(CTL_FAULT), out;
	struct ctl_fault *f = &in.u.fault;

	*f = (struct ctl_fault){ .op = CTL_OP_WRITE,
				 .kind = CTL_FAULT_ERROR,
				 .trigger = CTL_TRIGGER_PROBABILITY,
				 .probability_ppm = 250000,
				 .count = 3,
				 .error_code = ENOSPC };
	out = round_trip(&in);
	cr_assert_eq(out.u.fault.op, CTL_OP_WRITE);
	cr_assert_eq(out.u.fault.kind, CTL_FAULT_ERROR);
	cr_assert_eq(out.u.fault.trigger, CTL_TRIGGER_PROBABILITY);
	cr_assert_eq(out.u.fault.probability_ppm, 250000);
	cr_assert_eq(out.u.fault.every_nth, 0);
	cr_assert_eq(out.u.fault.count, 3);
	cr_assert_eq(out.u.fault.error_code, ENOSPC);

	*f = (struct ctl_fault){ .op = CTL_OP_ANY,
				 .kind = CTL_FAULT_DELAY,
				 .trigger = CTL_TRIGGER_EVERY_NTH,
				 .every_nth = 10,
				 .delay_us = 5000 };
	out = round_trip(&in);
	cr_assert_eq(out.u.fault.kind, CTL_FAULT_DELAY);
	cr_assert_eq(out.u.fault.trigger, CTL_TRIGGER_EVERY_NTH);
	cr_assert_eq(out.u.fault.every_nth, 10);
	cr_assert_eq(out.u.fault.delay_us, 5000);
	cr_assert_eq(out.u.fault.count, 0);

	*f = (struct ctl_fault){ .op = CTL_OP_READ, .kind = CTL_FAULT_NONE };
	out = round_trip(&in);
	cr_assert_eq(out.u.fault.kind, CTL_FAULT_NONE);
	cr_assert_eq(out.u.fault.trigger, 0);

	*f = (struct ctl_fault){ .op = CTL_OP_READ,
				 .kind = CTL_FAULT_CORRUPT,
				 .trigger = CTL_TRIGGER_EVERY_NTH,
				 .every_nth = 1,
				 .sector_start = 1ull << 40,
				 .sector_count = 8 };
	out = round_trip(&in);
	cr_assert_eq(out.u.fault.kind, CTL_FAULT_CORRUPT);
	cr_assert_eq(out.u.fault.sector_start, 1ull << 40);
	cr_assert_eq(out.u.fault.sector_count, 8);
	/* A range that wraps, or a start without a count, is refused. */
	f->sector_start = UINT64_MAX - 3;
	cr_assert_eq(ctl_fault_validate(f), -EINVAL);
	f->sector_start = 5;
	f->sector_count = 0;
	cr_assert_eq(ctl_fault_validate(f), -EINVAL);
}

Test(ctl_msg, escape_and_its_result_round_trip)
{
	struct ctl_msg in = msg_of(CTL_ESCAPE), out;

	in.u.escape.attempt = 3;
	out = round_trip(&in);
	cr_assert_eq(out.u.escape.attempt, 3);
	cr_assert_str_eq(ctl_type_name(CTL_ESCAPE), "escape");

	in = msg_of(CTL_ESCAPE_RESULT);
	in.u.escape_result.attempt = CTL_ESCAPE_MAX;
	in.u.escape_result.error = 0; /* it succeeded: must be sayable */
	out = round_trip(&in);
	cr_assert_eq(out.u.escape_result.attempt, CTL_ESCAPE_MAX);
	cr_assert_eq(out.u.escape_result.error, 0);
	in.u.escape_result.error = EPERM;
	out = round_trip(&in);
	cr_assert_eq(out.u.escape_result.error, EPERM);
}

Test(ctl_msg, client_with_and_without_its_fd_round_trips)
{
	struct ctl_msg in = msg_of(CTL_CLIENT), out;

	out = round_trip(&in);
	cr_assert_not(out.u.client.present);
	in.u.client.present = true;
	out = round_trip(&in);
	cr_assert(out.u.client.present);
	cr_assert_str_eq(ctl_type_name(CTL_CLIENT), "client");
}

Test(ctl_msg, latency_histogram_round_trips_and_cannot_hold_more)
{
	struct ctl_msg in = msg_of(CTL_STATS_REPLY), out;
	struct ctl_op_stats *o = &in.u.stats.ops[0];

	in.u.stats.nops = 1;
	*o = (struct ctl_op_stats){.op = CTL_OP_READ,
				   .requests = 100,
				   .latency_sum_ns = 1000000,
				   .latency_max_ns = 90000};
	o->latency_hist[0] = 10;
	o->latency_hist[4] = 85;
	o->latency_hist[CTL_LAT_BUCKETS - 1] = 5;
	out = round_trip(&in);
	cr_assert_arr_eq(out.u.stats.ops[0].latency_hist, o->latency_hist,
			 sizeof(o->latency_hist));
	/* More requests in the buckets than there were. */
	o->latency_hist[1] = 1;
	cr_assert_eq(ctl_stats_validate(&in.u.stats), -EINVAL);
	/* Buckets: under 2 us, then powers of two, the last open. */
	cr_assert_eq(ctl_lat_bucket(0), 0);
	cr_assert_eq(ctl_lat_bucket(1999), 0);
	cr_assert_eq(ctl_lat_bucket(2000), 1);
	cr_assert_eq(ctl_lat_bucket(3999), 1);
	cr_assert_eq(ctl_lat_bucket(4000), 2);
	cr_assert_eq(ctl_lat_bucket(40000000), CTL_LAT_BUCKETS - 1);
}

/* ---- malformed input ---- */

static int decode_env(Isovm__Ctl__Envelope *env)
{
	struct ctl_msg out;
	size_t len = isovm__ctl__envelope__get_packed_size(env);
	int ret;

	cr_assert_leq(len, sizeof(wire));
	isovm__ctl__envelope__pack(env, wire);
	ret = ctl_msg_decode(wire, len, &out);
	if (ret) {
		static const struct ctl_msg zero;

		cr_assert_eq(memcmp(&out, &zero, sizeof(out)), 0,
			     "output not cleared on failure");
	}
	return ret;
}

Test(ctl_msg_bad, garbage_and_empty_rejected)
{
	static const uint8_t junk[] = { 0x0a, 0xff, 0x01, 0x02 };
	static const uint8_t unknown_field[] = { 0x78, 0x01 }; /* field 15 */
	struct ctl_msg out;

	cr_assert_eq(ctl_msg_decode(junk, sizeof(junk), &out), -EBADMSG);
	cr_assert_eq(ctl_msg_decode(junk, 0, &out), -EBADMSG);
	cr_assert_eq(ctl_msg_decode(unknown_field, sizeof(unknown_field),
				    &out), -EBADMSG);
	cr_assert_eq(ctl_msg_decode(wire, CTL_MSG_MAX + 1, &out), -EMSGSIZE);
}

Test(ctl_msg_bad, truncated_encodings_never_decode_wrongly)
{
	struct ctl_msg in = msg_of(CTL_ERROR), out;
	int len;

	in.u.error.code = EIO;
	strcpy(in.u.error.text, "a longer text that the cut will damage");
	len = ctl_msg_encode(&in, wire, sizeof(wire));
	cr_assert_gt(len, 0);
	for (int cut = 1; cut < len; cut++)
		cr_assert_lt(ctl_msg_decode(wire, (size_t)cut, &out), 0,
			     "prefix of %d bytes accepted", cut);
}

Test(ctl_msg_bad, hello_of_another_version_rejected)
{
	Isovm__Ctl__Envelope env = ISOVM__CTL__ENVELOPE__INIT;
	Isovm__Ctl__Hello h = ISOVM__CTL__HELLO__INIT;

	h.version = ISOVM_PROTO_VERSION + 1;
	h.role = ISOVM__CTL__ROLE__ROLE_VMM;
	env.msg_case = ISOVM__CTL__ENVELOPE__MSG_HELLO;
	env.hello = &h;
	cr_assert_eq(decode_env(&env), -EPROTONOSUPPORT);
	h.version = ISOVM_PROTO_VERSION;
	cr_assert_eq(decode_env(&env), 0);
	h.role = 7;
	cr_assert_eq(decode_env(&env), -EINVAL);
	/* A server must say what it serves. */
	h.role = ISOVM__CTL__ROLE__ROLE_SERVER;
	h.pid = 10;
	cr_assert_eq(decode_env(&env), -EINVAL);
}

/* A valid blk Setup in protobuf form, for the tests to damage. */
struct pb_setup {
	Isovm__Ctl__Envelope env;
	Isovm__Ctl__Setup s;
	Isovm__Ctl__BlkConfig blk;
	Isovm__Ctl__NetConfig net;
	Isovm__Ctl__IpcGeometry geo;
	Isovm__Ctl__FdRole fds[CTL_SETUP_MAX_FDS + 1];
};

static void pb_setup_init(struct pb_setup *p)
{
	isovm__ctl__envelope__init(&p->env);
	isovm__ctl__setup__init(&p->s);
	isovm__ctl__blk_config__init(&p->blk);
	isovm__ctl__net_config__init(&p->net);
	isovm__ctl__ipc_geometry__init(&p->geo);
	p->blk.capacity_sectors = 2048;
	p->blk.block_size = 512;
	p->blk.cache_mode = ISOVM__CTL__CACHE_MODE__CACHE_MODE_WRITEBACK;
	p->geo.sq_entries = 64;
	p->geo.cq_entries = 64;
	p->geo.arena_slot_size = 4096;
	p->geo.arena_slots = 64;
	p->geo.region_size = 1 << 20;
	p->fds[0] = ISOVM__CTL__FD_ROLE__FD_ROLE_MEMFD;
	p->fds[1] = ISOVM__CTL__FD_ROLE__FD_ROLE_KICK;
	p->s.device_type = ISOVM__CTL__DEVICE_TYPE__DEVICE_TYPE_BLK;
	p->s.config_case = ISOVM__CTL__SETUP__CONFIG_BLK;
	p->s.blk = &p->blk;
	p->s.geometry = &p->geo;
	p->s.n_fds = 2;
	p->s.fds = p->fds;
	p->env.msg_case = ISOVM__CTL__ENVELOPE__MSG_SETUP;
	p->env.setup = &p->s;
	cr_assert_eq(decode_env(&p->env), 0, "baseline setup must be valid");
}

Test(ctl_msg_bad, setup_config_must_match_device_type)
{
	struct pb_setup p;

	pb_setup_init(&p);
	p.s.device_type = ISOVM__CTL__DEVICE_TYPE__DEVICE_TYPE_NET;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	p.s.device_type = 0;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	p.s.device_type = 99;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.s.config_case = ISOVM__CTL__SETUP__CONFIG__NOT_SET;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
}

Test(ctl_msg_bad, setup_without_geometry_rejected)
{
	struct pb_setup p;

	pb_setup_init(&p);
	p.s.geometry = NULL;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
}

Test(ctl_msg_bad, geometry_out_of_range_rejected)
{
	struct pb_setup p;

	pb_setup_init(&p);
	p.geo.sq_entries = 48; /* not a power of two */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.geo.cq_entries = CTL_RING_MAX * 2;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.geo.sq_entries = 1;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.geo.region_size = 4097;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.geo.arena_slot_size = 32;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.geo.arena_slot_size = 3000;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.geo.arena_slots = 0;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.geo.arena_slots = 256; /* 1 MiB of arena in a 1 MiB region */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	/* 2^20 * 2^16 would wrap a 32-bit product to 0. */
	p.geo.arena_slot_size = CTL_SLOT_MAX;
	p.geo.arena_slots = CTL_SLOTS_MAX;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.geo.region_size = CTL_REGION_MAX * 2;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
}

Test(ctl_msg_bad, fd_roles_checked)
{
	struct pb_setup p;

	pb_setup_init(&p);
	p.fds[1] = ISOVM__CTL__FD_ROLE__FD_ROLE_MEMFD; /* duplicate */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.fds[0] = ISOVM__CTL__FD_ROLE__FD_ROLE_CALL; /* no memfd */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.fds[1] = 17;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.fds[1] = -1;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.fds[2] = ISOVM__CTL__FD_ROLE__FD_ROLE_CALL;
	p.fds[3] = ISOVM__CTL__FD_ROLE__FD_ROLE_BACKEND;
	p.fds[4] = ISOVM__CTL__FD_ROLE__FD_ROLE_BACKEND_OUT;
	p.fds[5] = ISOVM__CTL__FD_ROLE__FD_ROLE_OUT_PIPE;
	p.fds[6] = ISOVM__CTL__FD_ROLE__FD_ROLE_IN_PIPE;
	p.s.n_fds = 7;
	cr_assert_eq(decode_env(&p.env), 0, "every role once");
	p.fds[7] = ISOVM__CTL__FD_ROLE__FD_ROLE_BACKEND;
	p.s.n_fds = 8; /* more than a Setup may carry */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
}

Test(ctl_msg_bad, blk_config_checked)
{
	struct pb_setup p;
	char long_id[CTL_BLK_ID_MAX + 2];

	pb_setup_init(&p);
	p.blk.capacity_sectors = 0;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.blk.capacity_sectors = UINT64_MAX;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.blk.capacity_sectors = ((uint64_t)INT64_MAX >> 9) + 1; /* >= 2^63 B */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.blk.slice_offset = INT64_MAX; /* slice would end past 2^63 */
	p.blk.slice_offset -= p.blk.slice_offset % 512;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.blk.slice_offset = 100; /* not sector aligned */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.blk.block_size = 1000;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.blk.cache_mode = 5;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	p.blk.id = long_id;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	pb_setup_init(&p);
	p.blk.id = "bad\nid";
	cr_assert_eq(decode_env(&p.env), -EINVAL);
}

Test(ctl_msg_bad, mac_and_mtu_checked)
{
	static uint8_t mac[7] = { 0x52, 0x54, 0, 1, 2, 3, 4 };
	struct pb_setup p;

	pb_setup_init(&p);
	p.s.device_type = ISOVM__CTL__DEVICE_TYPE__DEVICE_TYPE_NET;
	p.s.config_case = ISOVM__CTL__SETUP__CONFIG_NET;
	p.s.net = &p.net;
	p.net.mac.data = mac;
	p.net.mac.len = 6;
	p.net.mtu = 1500;
	cr_assert_eq(decode_env(&p.env), 0);
	p.net.mtu = 67; /* below what IPv4 needs */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	p.net.mtu = 65536; /* beyond the config's le16 */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	p.net.mtu = 1500;
	p.net.mac.len = 5;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	p.net.mac.len = 7;
	cr_assert_eq(decode_env(&p.env), -EINVAL);
	p.net.mac.len = 6;
	mac[0] = 0x01; /* multicast */
	cr_assert_eq(decode_env(&p.env), -EINVAL);
}

Test(ctl_msg_bad, oversized_config_space_rejected)
{
	Isovm__Ctl__Envelope env = ISOVM__CTL__ENVELOPE__INIT;
	Isovm__Ctl__Ready r = ISOVM__CTL__READY__INIT;
	static uint8_t cfg[CTL_CONFIG_MAX + 1];

	r.config_space.data = cfg;
	r.config_space.len = sizeof(cfg);
	env.msg_case = ISOVM__CTL__ENVELOPE__MSG_READY;
	env.ready = &r;
	cr_assert_eq(decode_env(&env), -EINVAL);
}

/* Only a statistics request and its reply carry a sequence number. */
Test(ctl_msg_bad, seq_on_any_other_message_is_refused)
{
	Isovm__Ctl__Envelope env = ISOVM__CTL__ENVELOPE__INIT;
	Isovm__Ctl__Shutdown sd = ISOVM__CTL__SHUTDOWN__INIT;
	struct ctl_msg m = msg_of(CTL_READY);

	m.seq = 1;
	cr_assert_eq(ctl_msg_encode(&m, wire, sizeof(wire)), -EINVAL);
	m = msg_of(CTL_SHUTDOWN);
	m.seq = 1;
	cr_assert_eq(ctl_msg_encode(&m, wire, sizeof(wire)), -EINVAL);
	env.msg_case = ISOVM__CTL__ENVELOPE__MSG_SHUTDOWN;
	env.shutdown = &sd;
	cr_assert_eq(decode_env(&env), 0);
	env.seq = 3;
	cr_assert_eq(decode_env(&env), -EINVAL);
}

Test(ctl_msg_bad, stats_bounds_checked)
{
	Isovm__Ctl__Envelope env = ISOVM__CTL__ENVELOPE__INIT;
	Isovm__Ctl__StatsReply r = ISOVM__CTL__STATS_REPLY__INIT;
	Isovm__Ctl__OpStats o[CTL_STATS_MAX_OPS + 1], *op[CTL_STATS_MAX_OPS + 1];
	Isovm__Ctl__KeyValue kv = ISOVM__CTL__KEY_VALUE__INIT, *kvp = &kv;

	for (int i = 0; i <= CTL_STATS_MAX_OPS; i++) {
		isovm__ctl__op_stats__init(&o[i]);
		o[i].op = ISOVM__CTL__OP__OP_READ;
		op[i] = &o[i];
	}
	env.msg_case = ISOVM__CTL__ENVELOPE__MSG_STATS_REPLY;
	env.stats_reply = &r;
	r.ops = op;
	r.n_ops = CTL_STATS_MAX_OPS;
	cr_assert_eq(decode_env(&env), 0);
	r.n_ops = CTL_STATS_MAX_OPS + 1;
	cr_assert_eq(decode_env(&env), -EINVAL);
	r.n_ops = 1;
	o[0].op = 0;
	cr_assert_eq(decode_env(&env), -EINVAL);
	o[0].op = ISOVM__CTL__OP__OP_READ;
	o[0].errors = 5; /* more errors than requests */
	cr_assert_eq(decode_env(&env), -EINVAL);
	o[0].errors = 0;
	r.extra = &kvp;
	r.n_extra = 1;
	kv.key = "";
	cr_assert_eq(decode_env(&env), -EINVAL);
	kv.key = "has space";
	cr_assert_eq(decode_env(&env), -EINVAL);
	kv.key = "ok_key";
	cr_assert_eq(decode_env(&env), 0);
}

Test(ctl_msg_bad, error_and_fault_checked)
{
	Isovm__Ctl__Envelope env = ISOVM__CTL__ENVELOPE__INIT;
	Isovm__Ctl__Error e = ISOVM__CTL__ERROR__INIT;
	Isovm__Ctl__FaultSettings f = ISOVM__CTL__FAULT_SETTINGS__INIT;

	env.msg_case = ISOVM__CTL__ENVELOPE__MSG_ERROR;
	env.error = &e;
	e.text = "boom";
	cr_assert_eq(decode_env(&env), -EINVAL); /* code 0 */
	e.code = 5;
	cr_assert_eq(decode_env(&env), 0);
	e.text = "esc\x1b[2J";
	cr_assert_eq(decode_env(&env), -EINVAL);

	env.msg_case = ISOVM__CTL__ENVELOPE__MSG_FAULT;
	env.fault = &f;
	f.op = ISOVM__CTL__OP__OP_READ;
	f.kind = ISOVM__CTL__FAULT_KIND__FAULT_KIND_CRASH;
	cr_assert_eq(decode_env(&env), -EINVAL); /* no trigger */
	f.trigger_case = ISOVM__CTL__FAULT_SETTINGS__TRIGGER_PROBABILITY_PPM;
	f.probability_ppm = 1000001;
	cr_assert_eq(decode_env(&env), -EINVAL);
	f.probability_ppm = 1000000;
	cr_assert_eq(decode_env(&env), 0);
	f.delay_us = 10; /* not a delay fault */
	cr_assert_eq(decode_env(&env), -EINVAL);
	f.delay_us = 0;
	f.kind = ISOVM__CTL__FAULT_KIND__FAULT_KIND_DELAY;
	cr_assert_eq(decode_env(&env), -EINVAL); /* delay of 0 */
	f.kind = 42;
	cr_assert_eq(decode_env(&env), -EINVAL);
}

Test(ctl_msg_bad, escape_attempt_and_errno_checked)
{
	Isovm__Ctl__Envelope env = ISOVM__CTL__ENVELOPE__INIT;
	Isovm__Ctl__Escape e = ISOVM__CTL__ESCAPE__INIT;
	Isovm__Ctl__EscapeResult r = ISOVM__CTL__ESCAPE_RESULT__INIT;

	env.msg_case = ISOVM__CTL__ENVELOPE__MSG_ESCAPE;
	env.escape = &e;
	cr_assert_eq(decode_env(&env), -EINVAL); /* attempt 0 */
	e.attempt = CTL_ESCAPE_MAX + 1;
	cr_assert_eq(decode_env(&env), -EINVAL);
	e.attempt = 1;
	cr_assert_eq(decode_env(&env), 0);
	env.seq = 9; /* nothing to pair it with */
	cr_assert_eq(decode_env(&env), -EINVAL);
	env.seq = 0;

	env.msg_case = ISOVM__CTL__ENVELOPE__MSG_ESCAPE_RESULT;
	env.escape_result = &r;
	r.attempt = 2;
	r.error = 4096;
	cr_assert_eq(decode_env(&env), -EINVAL);
	r.error = 4095;
	cr_assert_eq(decode_env(&env), 0);
	r.attempt = 0;
	cr_assert_eq(decode_env(&env), -EINVAL);
}

Test(ctl_msg_bad, encoder_refuses_invalid_messages)
{
	struct ctl_msg m = msg_of(CTL_SETUP);

	cr_assert_eq(ctl_msg_encode(&m, wire, sizeof(wire)), -EINVAL);
	m = msg_of(0);
	cr_assert_eq(ctl_msg_encode(&m, wire, sizeof(wire)), -EINVAL);
	m = msg_of(CTL_HELLO);
	m.u.hello.version = 99;
	m.u.hello.role = CTL_ROLE_VMM;
	cr_assert_eq(ctl_msg_encode(&m, wire, sizeof(wire)), -EPROTONOSUPPORT);
	m = msg_of(CTL_READY);
	m.u.ready.config_len = 16;
	cr_assert_eq(ctl_msg_encode(&m, wire, 4), -ENOBUFS);
}
