/*
 * test_api_msg.c: every management request and reply survives encode ->
 * decode field by field; malformed or out-of-range input is rejected.
 * Hostile wire bytes are built with the generated code (proto/ tests only).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/api.pb-c.h"
#include "proto/api_msg.h"

static uint8_t wire[API_MSG_MAX];

static struct api_req req_round_trip(const struct api_req *in)
{
	struct api_req out;
	int len = api_req_encode(in, wire, sizeof(wire));

	cr_assert_gt(len, 0, "encode of %s: %d", api_req_name(in->type), len);
	cr_assert_eq(api_req_decode(wire, (size_t)len, &out), 0);
	cr_assert_eq(out.type, in->type);
	return out;
}

static struct api_reply reply_round_trip(const struct api_reply *in)
{
	struct api_reply out;
	int len = api_reply_encode(in, wire, sizeof(wire));

	cr_assert_gt(len, 0, "encode of reply %d: %d", in->type, len);
	cr_assert_eq(api_reply_decode(wire, (size_t)len, &out), 0);
	cr_assert_eq(out.type, in->type);
	return out;
}

Test(api_msg, requests_without_arguments_round_trip)
{
	static const enum api_req_type types[] = {
		API_REQ_STATUS, API_REQ_DEVICES, API_REQ_PAUSE,
		API_REQ_RESUME, API_REQ_SHUTDOWN,
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct api_req in, out;

		memset(&in, 0, sizeof(in));
		in.type = types[i];
		out = req_round_trip(&in);
		cr_assert_str_eq(out.dev, "");
	}
}

Test(api_msg, device_requests_round_trip)
{
	static const enum api_req_type types[] = {
		API_REQ_STATS, API_REQ_RESTART, API_REQ_KILL,
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct api_req in, out;

		memset(&in, 0, sizeof(in));
		in.type = types[i];
		strcpy(in.dev, "blk.disk-0_A");
		out = req_round_trip(&in);
		cr_assert_str_eq(out.dev, "blk.disk-0_A");
		cr_assert_eq(out.fault.op, 0);
	}
}

Test(api_msg, fault_request_round_trips)
{
	struct api_req in, out;

	memset(&in, 0, sizeof(in));
	in.type = API_REQ_FAULT;
	memset(in.dev, 'n', API_NAME_MAX);
	in.fault = (struct ctl_fault){ .op = CTL_OP_TX,
				       .kind = CTL_FAULT_DROP,
				       .trigger = CTL_TRIGGER_EVERY_NTH,
				       .every_nth = 3,
				       .count = 100 };
	out = req_round_trip(&in);
	cr_assert_str_eq(out.dev, in.dev);
	cr_assert_eq(out.fault.op, CTL_OP_TX);
	cr_assert_eq(out.fault.kind, CTL_FAULT_DROP);
	cr_assert_eq(out.fault.trigger, CTL_TRIGGER_EVERY_NTH);
	cr_assert_eq(out.fault.every_nth, 3);
	cr_assert_eq(out.fault.count, 100);
	cr_assert_eq(out.fault.probability_ppm, 0);
	cr_assert_eq(out.fault.delay_us, 0);
	cr_assert_eq(out.fault.error_code, 0);
}

Test(api_msg, ok_and_error_replies_round_trip)
{
	struct api_reply in, out;

	memset(&in, 0, sizeof(in));
	in.type = API_REPLY_OK;
	reply_round_trip(&in);
	in.type = API_REPLY_ERROR;
	in.u.error.code = ENODEV;
	strcpy(in.u.error.text, "no device named 'x'");
	out = reply_round_trip(&in);
	cr_assert_eq(out.u.error.code, ENODEV);
	cr_assert_str_eq(out.u.error.text, "no device named 'x'");
}

Test(api_msg, status_reply_round_trips)
{
	struct api_reply in, out;

	memset(&in, 0, sizeof(in));
	in.type = API_REPLY_STATUS;
	in.u.status = (struct api_status){ .state = API_VM_PAUSED,
					   .uptime_ms = 123456789,
					   .vcpus = 8,
					   .memory_bytes = 1ull << 34 };
	out = reply_round_trip(&in);
	cr_assert_eq(out.u.status.state, API_VM_PAUSED);
	cr_assert_eq(out.u.status.uptime_ms, 123456789);
	cr_assert_eq(out.u.status.vcpus, 8);
	cr_assert_eq(out.u.status.memory_bytes, 1ull << 34);
}

Test(api_msg, full_device_list_round_trips)
{
	struct api_reply in, out;

	memset(&in, 0, sizeof(in));
	in.type = API_REPLY_DEVICES;
	in.u.devices.n = API_MAX_DEVICES;
	for (unsigned i = 0; i < API_MAX_DEVICES; i++) {
		struct api_device *d = &in.u.devices.dev[i];

		snprintf(d->name, sizeof(d->name), "dev%u", i);
		d->type = CTL_DEV_BLK + i % 3;
		d->state = API_DEV_STARTING + i % 6;
		d->pid = 1000 + i;
		d->restarts = i * 3;
		/* The longest cause in every slot: the list still fits. */
		memset(d->last_cause, 'a' + i % 26, API_CAUSE_MAX);
	}
	out = reply_round_trip(&in);
	cr_assert_eq(out.u.devices.n, API_MAX_DEVICES);
	for (unsigned i = 0; i < API_MAX_DEVICES; i++) {
		const struct api_device *a = &out.u.devices.dev[i];
		const struct api_device *b = &in.u.devices.dev[i];

		cr_assert_str_eq(a->name, b->name);
		cr_assert_eq(a->type, b->type);
		cr_assert_eq(a->state, b->state);
		cr_assert_eq(a->pid, b->pid);
		cr_assert_eq(a->restarts, b->restarts);
		cr_assert_str_eq(a->last_cause, b->last_cause);
	}
	/* A cause is printable text. */
	in.u.devices.dev[3].last_cause[5] = '\n';
	cr_assert_eq(api_reply_encode(&in, wire, sizeof(wire)), -EINVAL);
}

Test(api_msg, stats_reply_round_trips)
{
	struct api_reply in, out;
	struct ctl_stats *st = &in.u.stats.stats;

	memset(&in, 0, sizeof(in));
	in.type = API_REPLY_STATS;
	strcpy(in.u.stats.name, "net0");
	st->nops = 2;
	st->ops[0] = (struct ctl_op_stats){ .op = CTL_OP_TX, .requests = 10,
					    .bytes = 15000, .errors = 1,
					    .latency_sum_ns = 900,
					    .latency_max_ns = 300 };
	st->ops[1] = (struct ctl_op_stats){ .op = CTL_OP_RX, .requests = 7 };
	st->nextra = 1;
	strcpy(st->extra[0].key, "tap_drops");
	st->extra[0].value = 4;
	out = reply_round_trip(&in);
	cr_assert_str_eq(out.u.stats.name, "net0");
	cr_assert_eq(out.u.stats.stats.nops, 2);
	cr_assert_eq(out.u.stats.stats.ops[0].op, CTL_OP_TX);
	cr_assert_eq(out.u.stats.stats.ops[0].requests, 10);
	cr_assert_eq(out.u.stats.stats.ops[0].bytes, 15000);
	cr_assert_eq(out.u.stats.stats.ops[0].errors, 1);
	cr_assert_eq(out.u.stats.stats.ops[0].latency_sum_ns, 900);
	cr_assert_eq(out.u.stats.stats.ops[0].latency_max_ns, 300);
	cr_assert_eq(out.u.stats.stats.ops[1].op, CTL_OP_RX);
	cr_assert_eq(out.u.stats.stats.ops[1].requests, 7);
	cr_assert_eq(out.u.stats.stats.nextra, 1);
	cr_assert_str_eq(out.u.stats.stats.extra[0].key, "tap_drops");
	cr_assert_eq(out.u.stats.stats.extra[0].value, 4);
}

/* ---- malformed input ---- */

static int decode_req(Isovm__Api__Request *m)
{
	struct api_req out;
	size_t len = isovm__api__request__get_packed_size(m);

	cr_assert_leq(len, sizeof(wire));
	isovm__api__request__pack(m, wire);
	return api_req_decode(wire, len, &out);
}

static int decode_reply(Isovm__Api__Reply *m)
{
	struct api_reply out;
	size_t len = isovm__api__reply__get_packed_size(m);

	cr_assert_leq(len, sizeof(wire));
	isovm__api__reply__pack(m, wire);
	return api_reply_decode(wire, len, &out);
}

Test(api_msg_bad, garbage_empty_and_unknown_rejected)
{
	static const uint8_t junk[] = { 0x1a, 0x05, 0x0a };
	static const uint8_t unknown[] = { 0x50, 0x01 }; /* field 10 */
	struct api_req rq;
	struct api_reply rp;

	cr_assert_eq(api_req_decode(junk, sizeof(junk), &rq), -EBADMSG);
	cr_assert_eq(api_req_decode(junk, 0, &rq), -EBADMSG);
	cr_assert_eq(api_req_decode(unknown, sizeof(unknown), &rq), -EBADMSG);
	cr_assert_eq(api_reply_decode(junk, sizeof(junk), &rp), -EBADMSG);
	cr_assert_eq(api_reply_decode(junk, 0, &rp), -EBADMSG);
	cr_assert_eq(api_reply_decode(unknown, sizeof(unknown), &rp),
		     -EBADMSG);
	cr_assert_eq(api_req_decode(wire, API_MSG_MAX + 1, &rq), -EMSGSIZE);
}

Test(api_msg_bad, device_names_checked)
{
	Isovm__Api__Request m = ISOVM__API__REQUEST__INIT;
	Isovm__Api__DeviceRef ref = ISOVM__API__DEVICE_REF__INIT;
	char long_name[API_NAME_MAX + 2];

	m.req_case = ISOVM__API__REQUEST__REQ_RESTART;
	m.restart = &ref;
	ref.name = "blk0";
	cr_assert_eq(decode_req(&m), 0);
	ref.name = "";
	cr_assert_eq(decode_req(&m), -EINVAL);
	ref.name = "../etc";
	cr_assert_eq(decode_req(&m), -EINVAL);
	ref.name = "a b";
	cr_assert_eq(decode_req(&m), -EINVAL);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ref.name = long_name;
	cr_assert_eq(decode_req(&m), -EINVAL);
}

Test(api_msg_bad, fault_request_needs_valid_settings)
{
	Isovm__Api__Request m = ISOVM__API__REQUEST__INIT;
	Isovm__Api__FaultRequest fr = ISOVM__API__FAULT_REQUEST__INIT;
	Isovm__Ctl__FaultSettings fs = ISOVM__CTL__FAULT_SETTINGS__INIT;

	m.req_case = ISOVM__API__REQUEST__REQ_FAULT;
	m.fault = &fr;
	fr.name = "blk0";
	cr_assert_eq(decode_req(&m), -EINVAL); /* no settings */
	fr.settings = &fs;
	fs.op = ISOVM__CTL__OP__OP_FLUSH;
	fs.kind = ISOVM__CTL__FAULT_KIND__FAULT_KIND_ERROR;
	fs.trigger_case = ISOVM__CTL__FAULT_SETTINGS__TRIGGER_EVERY_NTH;
	fs.every_nth = 2;
	cr_assert_eq(decode_req(&m), -EINVAL); /* error without errno */
	fs.error_code = EIO;
	cr_assert_eq(decode_req(&m), 0);
	fs.every_nth = 0;
	cr_assert_eq(decode_req(&m), -EINVAL);
}

Test(api_msg_bad, replies_checked)
{
	Isovm__Api__Reply m = ISOVM__API__REPLY__INIT;
	Isovm__Api__Status st = ISOVM__API__STATUS__INIT;
	Isovm__Api__DeviceList dl = ISOVM__API__DEVICE_LIST__INIT;
	Isovm__Api__Device d[API_MAX_DEVICES + 1], *dp[API_MAX_DEVICES + 1];
	Isovm__Api__ApiError e = ISOVM__API__API_ERROR__INIT;
	Isovm__Api__DeviceStats ds = ISOVM__API__DEVICE_STATS__INIT;

	m.rep_case = ISOVM__API__REPLY__REP_STATUS;
	m.status = &st;
	st.state = ISOVM__API__VM_STATE__VM_STATE_RUNNING;
	st.vcpus = 1;
	st.memory_bytes = 1 << 20;
	cr_assert_eq(decode_reply(&m), 0);
	st.vcpus = 0;
	cr_assert_eq(decode_reply(&m), -EINVAL);
	st.vcpus = 1;
	st.state = 9;
	cr_assert_eq(decode_reply(&m), -EINVAL);

	for (int i = 0; i <= API_MAX_DEVICES; i++) {
		isovm__api__device__init(&d[i]);
		d[i].name = "d";
		d[i].type = ISOVM__CTL__DEVICE_TYPE__DEVICE_TYPE_CONSOLE;
		d[i].state = ISOVM__API__DEVICE_STATE__DEVICE_STATE_RUNNING;
		dp[i] = &d[i];
	}
	m.rep_case = ISOVM__API__REPLY__REP_DEVICES;
	m.devices = &dl;
	dl.devices = dp;
	dl.n_devices = API_MAX_DEVICES;
	cr_assert_eq(decode_reply(&m), 0);
	dl.n_devices = API_MAX_DEVICES + 1;
	cr_assert_eq(decode_reply(&m), -EINVAL);
	dl.n_devices = 1;
	d[0].type = 0;
	cr_assert_eq(decode_reply(&m), -EINVAL);
	d[0].type = ISOVM__CTL__DEVICE_TYPE__DEVICE_TYPE_BLK;
	d[0].state = 0;
	cr_assert_eq(decode_reply(&m), -EINVAL);

	m.rep_case = ISOVM__API__REPLY__REP_ERROR;
	m.error = &e;
	e.code = 22;
	e.text = "tab\tinside";
	cr_assert_eq(decode_reply(&m), -EINVAL);
	e.text = "fine";
	cr_assert_eq(decode_reply(&m), 0);

	m.rep_case = ISOVM__API__REPLY__REP_STATS;
	m.stats = &ds;
	ds.name = "blk0";
	cr_assert_eq(decode_reply(&m), -EINVAL); /* stats absent */
}

Test(api_msg_bad, encoder_refuses_non_canonical_requests)
{
	struct api_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.type = API_REQ_STATUS;
	strcpy(rq.dev, "blk0"); /* status names no device */
	cr_assert_eq(api_req_encode(&rq, wire, sizeof(wire)), -EINVAL);
	memset(&rq, 0, sizeof(rq));
	rq.type = API_REQ_KILL;
	cr_assert_eq(api_req_encode(&rq, wire, sizeof(wire)), -EINVAL);
	strcpy(rq.dev, "blk0");
	rq.fault.op = CTL_OP_READ; /* fault settings on a kill */
	cr_assert_eq(api_req_encode(&rq, wire, sizeof(wire)), -EINVAL);
	memset(&rq, 0, sizeof(rq));
	rq.type = 0;
	cr_assert_eq(api_req_encode(&rq, wire, sizeof(wire)), -EINVAL);
}

Test(api_msg, trace_request_and_event_round_trip)
{
	struct api_req q = {.type = API_REQ_TRACE, .dev = "blk3"}, qo;
	struct api_reply in, out;
	struct api_trace *t = &in.u.trace;
	int len;

	len = api_req_encode(&q, wire, sizeof(wire));
	cr_assert_gt(len, 0);
	cr_assert_eq(api_req_decode(wire, (size_t)len, &qo), 0);
	cr_assert_eq(qo.type, API_REQ_TRACE);
	cr_assert_str_eq(qo.dev, "blk3");
	memset(&in, 0, sizeof(in));
	in.type = API_REPLY_TRACE;
	strcpy(t->device, "blk3");
	t->seq = 7;
	t->queue = 0;
	t->head = 129;
	strcpy(t->op, "write_zeroes");
	t->sector = 1ull << 33;
	t->bytes = 65536;
	t->file_offset = (1ull << 42) + 512;
	strcpy(t->syscall, "fallocate");
	t->status = 1;
	t->latency_us = 1234;
	out = reply_round_trip(&in);
	cr_assert_eq(memcmp(&out.u.trace, t, sizeof(*t)), 0);
	/* Words are lower-case letters; seq starts at 1; status is a byte. */
	strcpy(t->op, "Read");
	cr_assert_eq(api_reply_encode(&in, wire, sizeof(wire)), -EINVAL);
	strcpy(t->op, "violation");
	strcpy(t->text, "queue 1: head index out of range");
	t->seq = 0;
	cr_assert_eq(api_reply_encode(&in, wire, sizeof(wire)), -EINVAL);
	t->seq = 1;
	t->status = 256;
	cr_assert_eq(api_reply_encode(&in, wire, sizeof(wire)), -EINVAL);
	t->status = 0;
	out = reply_round_trip(&in);
	cr_assert_str_eq(out.u.trace.text, t->text);
}
