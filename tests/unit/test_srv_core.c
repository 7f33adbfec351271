/* test_srv_core.c: the device-server core in one process with a fake device. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "devsrv/common/srv_core.h"

#define OP_DONE	 100 /* fake device: complete now, len = arena_len + 8 */
#define OP_LATER 101 /* fake device: keep it, complete later */

static const struct ipc_geom geo = {
	.sq_entries = 64,
	.cq_entries = 64,
	.arena_slot_size = 256,
	.arena_slots = 64,
};

static struct ipc_dp_vmm vmm;
static struct srv *s;
static uint64_t later[64];
static unsigned nlater, handled;
static bool idle_seen[64]; /* srv_sq_idle() as each request was handled */

static enum srv_verdict fake_handle(struct srv *srv, const struct ipc_req *req,
				    void *buf, struct ipc_cpl *cpl)
{
	(void)buf;
	idle_seen[handled % 64] = srv_sq_idle(srv);
	handled++;
	if (req->op == OP_LATER) {
		later[nlater++ % 64] = req->id;
		return SRV_PENDING;
	}
	cpl->status = req->op == OP_DONE ? 0 : -EOPNOTSUPP;
	cpl->len = req->arena_len + 8; /* too long on purpose */
	return SRV_DONE;
}

static enum ctl_op fake_class(uint32_t op)
{
	return op == OP_DONE ? CTL_OP_READ : op == OP_LATER ? CTL_OP_FLUSH : 0;
}

static const struct srv_dev_ops fake_ops = {
	.name = "fake",
	.dev_type = CTL_DEV_BLK,
	.handle = fake_handle,
	.op_class = fake_class,
};

static void core_init(void)
{
	nlater = handled = 0;
	cr_assert_eq(ipc_dp_vmm_open(&vmm, &geo, 1), 0);
	s = srv_core_new(&fake_ops, NULL);
	cr_assert_not_null(s);
	cr_assert_eq(
		srv_core_attach(s, vmm.reg.fd, vmm.srv_kick_fd,
				vmm.srv_call_fd, &geo),
		0);
}

static void core_fini(void)
{
	srv_core_free(s);
	ipc_dp_vmm_close(&vmm);
}

TestSuite(srv_core, .init = core_init, .fini = core_fini, .timeout = 30);

static uint64_t post(uint32_t op, uint32_t len)
{
	struct ipc_req r = {.op = op, .arena_len = len};

	if (len)
		cr_assert_eq(ipc_arena_alloc(&vmm.arena, len, &r.arena_off), 0);
	cr_assert_eq(ipc_dp_vmm_submit(&vmm, &r, NULL), 0);
	return r.id;
}

/* Run the server's loop without blocking until @want completions came. */
static unsigned reap(struct ipc_dp_done *d, unsigned want)
{
	unsigned got = 0;

	srv_ring_drain(s);
	for (int i = 0; i < 2000 && got < want; i++) {
		int n;

		event_base_loop(srv_base(s), EVLOOP_NONBLOCK);
		n = ipc_dp_vmm_reap(&vmm, d + got, want - got);
		cr_assert_geq(n, 0);
		got += (unsigned)n;
		if (got < want)
			usleep(1000);
	}
	return got;
}

Test(srv_core, done_request_completes_with_its_length_clamped)
{
	struct ipc_dp_done d[1];
	uint64_t id = post(OP_DONE, 100);

	cr_assert_eq(reap(d, 1), 1);
	cr_assert_eq(d[0].req.id, id);
	cr_assert_eq(d[0].status, 0);
	cr_assert_eq(d[0].len, 100);
}

Test(srv_core, pending_request_completes_once_from_the_loop)
{
	struct ipc_dp_done d[1];
	struct ipc_cpl c = {.len = 4};

	post(OP_LATER, 16);
	cr_assert_eq(reap(d, 1), 0);
	cr_assert_eq(nlater, 1);
	c.id = later[0];
	cr_assert_eq(srv_complete(s, &c), 0);
	cr_assert_eq(srv_complete(s, &c), -EBADMSG, "completed twice");
	c.id ^= 1ull << 40;
	cr_assert_eq(srv_complete(s, &c), -EBADMSG, "stale id taken");
	cr_assert_eq(reap(d, 1), 1);
	cr_assert_eq(d[0].req.id, later[0]);
	cr_assert_eq(d[0].len, 4);
}

Test(srv_core, sq_idle_only_for_the_last_request_of_an_empty_ring)
{
	struct ipc_dp_done d[3];

	post(OP_DONE, 8);
	post(OP_DONE, 8);
	post(OP_DONE, 8);
	cr_assert_eq(reap(d, 3), 3);
	cr_assert_eq(handled, 3);
	cr_assert_not(idle_seen[0], "two more were waiting behind it");
	cr_assert_not(idle_seen[1], "one more was waiting behind it");
	cr_assert(idle_seen[2], "the last one had nothing behind it");
	post(OP_DONE, 8);
	cr_assert_eq(reap(d, 1), 1);
	cr_assert(idle_seen[3], "a lone request is idle");
}

static void *worker(void *arg)
{
	struct ipc_cpl c = {.status = -EIO};

	(void)arg;
	for (unsigned i = 0; i < 32; i++) {
		c.id = later[i];
		cr_assert_eq(srv_complete_async(s, &c), 0);
		usleep(100);
	}
	return NULL;
}

Test(srv_core, completions_from_a_worker_thread_reach_the_ring)
{
	struct ipc_dp_done d[32];
	pthread_t t;

	for (int i = 0; i < 32; i++)
		post(OP_LATER, 0);
	cr_assert_eq(reap(d, 32), 0);
	cr_assert_eq(nlater, 32);
	cr_assert_eq(pthread_create(&t, NULL, worker, NULL), 0);
	cr_assert_eq(reap(d, 32), 32);
	cr_assert_eq(pthread_join(t, NULL), 0);
	for (int i = 0; i < 32; i++)
		cr_assert_eq(d[i].status, -EIO);
}

Test(srv_core, malformed_requests_never_reach_the_device)
{
	struct ipc_req r = {.op = OP_DONE, .arena_len = 64};
	struct ipc_dp_done d[2];

	/* Arena range outside the arena. */
	r.arena_off = (uint64_t)geo.arena_slots * geo.arena_slot_size;
	cr_assert_eq(ipc_dp_vmm_submit(&vmm, &r, NULL), 0);
	/* Reserved field set. */
	r = (struct ipc_req){.op = OP_DONE, .reserved = 1};
	cr_assert_eq(ipc_dp_vmm_submit(&vmm, &r, NULL), 0);
	cr_assert_eq(reap(d, 2), 2);
	cr_assert_eq(d[0].status, -ERANGE);
	cr_assert_eq(d[1].status, -EINVAL);
	cr_assert_eq(handled, 0);
}

Test(srv_core, a_slot_still_pending_is_refused_busy)
{
	struct ipc_req r = {.op = OP_LATER};
	struct ipc_cpl c[2];
	int n;

	post(OP_LATER, 0);
	srv_ring_drain(s);
	/* Forge a second request on the same slot, past the VMM's table. */
	r.id = later[0] + (1ull << 32);
	cr_assert_eq(ipc_ring_push(&vmm.sq, &r, 1), 1);
	srv_ring_drain(s);
	event_base_loop(srv_base(s), EVLOOP_NONBLOCK);
	n = ipc_ring_pop(&vmm.cq, c, 2);
	cr_assert_eq(n, 1);
	cr_assert_eq(c[0].id, r.id);
	cr_assert_eq(c[0].status, -EBUSY);
	cr_assert_eq(handled, 1);
}

Test(srv_core, probability_fault_fires_count_times_then_stops)
{
	struct ctl_fault f = {.op = CTL_OP_READ,
			      .kind = CTL_FAULT_ERROR,
			      .trigger = CTL_TRIGGER_PROBABILITY,
			      .probability_ppm = 1000000,
			      .count = 3,
			      .error_code = ENOSPC};
	struct ipc_dp_done d[6];

	srv_fault_set(s, &f);
	for (int i = 0; i < 6; i++)
		post(OP_DONE, 0);
	cr_assert_eq(reap(d, 6), 6);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(d[i].status, i < 3 ? -ENOSPC : 0, "request %d", i);
	cr_assert_eq(handled, 3);
}

Test(srv_core, fault_on_another_op_leaves_this_one_alone)
{
	struct ctl_fault f = {.op = CTL_OP_WRITE,
			      .kind = CTL_FAULT_ERROR,
			      .trigger = CTL_TRIGGER_EVERY_NTH,
			      .every_nth = 1,
			      .error_code = EIO};
	struct ipc_dp_done d[1];

	srv_fault_set(s, &f);
	post(OP_DONE, 0);
	cr_assert_eq(reap(d, 1), 1);
	cr_assert_eq(d[0].status, 0);
}

/* A sector range: only reads touching it fail, and only they count. */
Test(srv_core, a_ranged_fault_hits_only_requests_touching_its_sectors)
{
	struct ctl_fault f = {.op = CTL_OP_READ,
			      .kind = CTL_FAULT_ERROR,
			      .trigger = CTL_TRIGGER_EVERY_NTH,
			      .every_nth = 2, /* every 2nd of those seen */
			      .error_code = EIO,
			      .sector_start = 100,
			      .sector_count = 10};
	/* first sector, count: before, touching the start, inside,
	 * touching the end, after, inside again. */
	static const uint64_t at[][2] = {{0, 100}, {96, 8},   {104, 2},
					 {109, 1}, {110, 50}, {100, 10}};
	static const int want[] = {0, 0, -EIO, 0, 0, -EIO};
	struct ipc_dp_done d[6];

	srv_fault_set(s, &f);
	for (int i = 0; i < 6; i++) {
		struct ipc_req r = {.op = OP_DONE};

		r.args.blk.sector = at[i][0];
		r.args.blk.count = (uint32_t)at[i][1];
		cr_assert_eq(ipc_dp_vmm_submit(&vmm, &r, NULL), 0);
	}
	cr_assert_eq(reap(d, 6), 6);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++)
			if (d[j].req.args.blk.sector == at[i][0] &&
			    d[j].req.args.blk.count == at[i][1])
				cr_assert_eq(d[j].status, want[i],
					     "request %d", i);
}

Test(srv_core, stats_count_per_op_and_reset)
{
	struct ctl_stats st = {0};
	struct ipc_dp_done d[3];

	post(OP_DONE, 32);
	post(OP_DONE, 16);
	post(7, 0);
	cr_assert_eq(reap(d, 3), 3);
	srv_ring_stats(s, &st, true);
	cr_assert_eq(ctl_stats_validate(&st), 0);
	cr_assert_eq(st.nops, 2);
	cr_assert_eq(st.ops[0].op, CTL_OP_ANY);
	cr_assert_eq(st.ops[0].errors, 1);
	cr_assert_eq(st.ops[1].op, CTL_OP_READ);
	cr_assert_eq(st.ops[1].requests, 2);
	cr_assert_eq(st.ops[1].bytes, 48);
	/* Each request in the bucket of its latency, once. */
	uint64_t in_hist = 0;

	for (unsigned b = 0; b < CTL_LAT_BUCKETS; b++)
		in_hist += st.ops[1].latency_hist[b];
	cr_assert_eq(in_hist, 2);
	cr_assert_geq(st.ops[1].latency_hist[ctl_lat_bucket(
			      st.ops[1].latency_max_ns)],
		      1, "the slowest one is in its bucket");
	memset(&st, 0, sizeof(st));
	srv_ring_stats(s, &st, false);
	cr_assert_eq(st.nops, 0, "reset did not zero");
}

Test(srv_core, a_busy_ring_costs_the_server_no_wake_ups)
{
	struct ipc_dp_done d[48];

	/* The VMM never sleeps on the completion ring: no eventfd writes. */
	for (int i = 0; i < 48; i++)
		post(OP_DONE, 0);
	cr_assert_eq(reap(d, 48), 48);
	cr_assert_eq(s->dp.cq_kick.st.kicks, 0);
	cr_assert_gt(s->dp.cq_kick.st.suppressed, 0);
}

Test(srv_core, arguments_are_checked)
{
	struct srv_args a;
	char *ok[] = {"x", "--ctl-fd", "5", "--log-level", "debug"};
	char *nofd[] = {"x", "--log-level", "info"};
	char *badlvl[] = {"x", "--ctl-fd", "5", "--log-level", "loud"};
	char *lowfd[] = {"x", "--ctl-fd", "1"};
	char *junk[] = {"x", "--ctl-fd", "5x"};
	char *extra[] = {"x", "--ctl-fd", "5", "--disk"};

	cr_assert_eq(srv_args_parse(5, ok, &fake_ops, NULL, &a), 0);
	cr_assert_eq(a.ctl_fd, 5);
	cr_assert_eq(a.level, SRV_LOG_DEBUG);
	cr_assert_eq(a.seccomp, SRV_SECCOMP_ON, "on unless told otherwise");
	cr_assert_eq(srv_args_parse(3, nofd, &fake_ops, NULL, &a), -EINVAL);
	cr_assert_eq(srv_args_parse(5, badlvl, &fake_ops, NULL, &a), -EINVAL);
	cr_assert_eq(srv_args_parse(3, lowfd, &fake_ops, NULL, &a), -EINVAL);
	cr_assert_eq(srv_args_parse(3, junk, &fake_ops, NULL, &a), -EINVAL);
	cr_assert_eq(srv_args_parse(4, extra, &fake_ops, NULL, &a), -EINVAL);
}

Test(srv_core, seccomp_mode_is_one_of_three_words)
{
	struct srv_args a;
	char *dbg[] = {"x", "--seccomp", "debug", "--ctl-fd", "5"};
	char *off[] = {"x", "--ctl-fd", "5", "--seccomp", "off"};
	char *bad[] = {"x", "--ctl-fd", "5", "--seccomp", "maybe"};
	char *none[] = {"x", "--ctl-fd", "5", "--seccomp"};

	cr_assert_eq(srv_args_parse(5, dbg, &fake_ops, NULL, &a), 0);
	cr_assert_eq(a.seccomp, SRV_SECCOMP_DEBUG);
	cr_assert_eq(srv_args_parse(5, off, &fake_ops, NULL, &a), 0);
	cr_assert_eq(a.seccomp, SRV_SECCOMP_OFF);
	cr_assert_eq(srv_args_parse(5, bad, &fake_ops, NULL, &a), -EINVAL);
	cr_assert_eq(srv_args_parse(4, none, &fake_ops, NULL, &a), -EINVAL);
}

static int opt_flag_seen;

static int fake_option(void *dev, const char *flag, const char *v)
{
	(void)dev;
	if (strcmp(flag, "--depth") || strcmp(v, "7"))
		return -EINVAL;
	opt_flag_seen++;
	return 0;
}

Test(srv_core, a_device_takes_the_flags_the_core_does_not_know)
{
	struct srv_dev_ops ops = fake_ops;
	struct srv_args a;
	char *mine[] = {"x", "--depth", "7", "--ctl-fd", "5"};
	char *other[] = {"x", "--ctl-fd", "5", "--width", "7"};

	ops.option = fake_option;
	cr_assert_eq(srv_args_parse(5, mine, &ops, NULL, &a), 0);
	cr_assert_eq(opt_flag_seen, 1);
	cr_assert_eq(srv_args_parse(5, other, &ops, NULL, &a), -EINVAL);
	cr_assert_eq(opt_flag_seen, 1);
}

/* Transfers a device makes itself: counted like requests of their op. */
Test(srv_core, transfers_are_counted_per_op_with_bytes_and_errors)
{
	struct ctl_stats st = {0};
	uint64_t t0 = srv_now_ns();

	srv_transfer_done(s, CTL_OP_CONSOLE_OUT, t0, 100, 0);
	srv_transfer_done(s, CTL_OP_CONSOLE_OUT, t0, 28, 0);
	srv_transfer_done(s, CTL_OP_CONSOLE_IN, t0, 0, -EIO);
	srv_transfer_done(s, 0, t0, 5, 0); /* no class: not counted */
	srv_ring_stats(s, &st, false);
	cr_assert_eq(ctl_stats_validate(&st), 0);
	cr_assert_eq(st.nops, 2);
	cr_assert_eq(st.ops[0].op, CTL_OP_CONSOLE_OUT);
	cr_assert_eq(st.ops[0].requests, 2);
	cr_assert_eq(st.ops[0].bytes, 128);
	cr_assert_eq(st.ops[1].op, CTL_OP_CONSOLE_IN);
	cr_assert_eq(st.ops[1].errors, 1);
	cr_assert_eq(st.ops[1].bytes, 0);
}

Test(srv_core, a_transfer_fault_fires_as_a_request_fault_would)
{
	struct ctl_fault f = {.op = CTL_OP_CONSOLE_OUT,
			      .kind = CTL_FAULT_DELAY,
			      .trigger = CTL_TRIGGER_EVERY_NTH,
			      .every_nth = 2,
			      .count = 2,
			      .delay_us = 1234};
	const struct ctl_fault *got[6];

	srv_fault_set(s, &f);
	for (int i = 0; i < 6; i++)
		got[i] = srv_transfer_fault(s, CTL_OP_CONSOLE_OUT);
	for (int i = 0; i < 6; i++) {
		if (i == 1 || i == 3) {
			cr_assert_not_null(got[i], "transfer %d", i);
			cr_assert_eq(got[i]->kind, CTL_FAULT_DELAY);
			cr_assert_eq(got[i]->delay_us, 1234);
		} else {
			cr_assert_null(got[i], "transfer %d", i);
		}
	}
	cr_assert_null(srv_transfer_fault(s, CTL_OP_CONSOLE_IN),
		       "the rule of another op fired");
}

/* A corrupt rule: a completion no request asked for, which the VMM
 * takes as a broken data plane. The transfer itself goes on. */
Test(srv_core, a_corrupt_transfer_fault_pushes_a_completion_never_asked_for)
{
	struct ctl_fault f = {.op = CTL_OP_CONSOLE_IN,
			      .kind = CTL_FAULT_CORRUPT,
			      .trigger = CTL_TRIGGER_EVERY_NTH,
			      .every_nth = 1,
			      .count = 1};
	struct ipc_dp_done d[1];
	int n = 0;

	srv_fault_set(s, &f);
	cr_assert_null(srv_transfer_fault(s, CTL_OP_CONSOLE_IN));
	for (int i = 0; i < 200 && n == 0; i++) {
		event_base_loop(srv_base(s), EVLOOP_NONBLOCK);
		n = ipc_dp_vmm_reap(&vmm, d, 1);
		if (!n)
			usleep(1000);
	}
	cr_assert_lt(n, 0, "the VMM side took the unasked completion");
}

Test(srv_core, a_crash_transfer_fault_traps, .signal = SIGILL)
{
	struct ctl_fault f = {.op = CTL_OP_CONSOLE_OUT,
			      .kind = CTL_FAULT_CRASH,
			      .trigger = CTL_TRIGGER_EVERY_NTH,
			      .every_nth = 1};

	srv_fault_set(s, &f);
	srv_transfer_fault(s, CTL_OP_CONSOLE_OUT);
}
