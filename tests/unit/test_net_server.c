/*
 * test_net_server.c: the real isovm-net behind a fake VMM, on a real tap
 * in a network namespace of the test's own: READY's features and config
 * bytes; TX frames reach the host side in order; host frames fill posted
 * RX buffers in the order they were posted, and wait in the tap's queue
 * while none is; short buffers and foreign headers are refused and
 * counted; the offload op reaches the tap; a reset keeps the buffers;
 * faults fail TX and RX by their own classes; the server runs on after
 * every bad request, under its seccomp filter.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_vmm.h"
#include "ipc/ctl_channel.h"
#include "ipc/devproto.h"
#include "ipc/virtio_net_config.h"
#include "tap_fixture.h"

#define HDR	  VIRTIO_NET_HDR_LEN
#define FRAME_MAX 1514 /* Ethernet, MTU 1500 */
#define BIT(b)	  (1ull << (b))

/* Room for 60 RX buffers of NET_RX_BUF_MIN (17 slots each) and TX. */
static const struct ipc_geom geom = {
	.sq_entries = 64,
	.cq_entries = 64,
	.arena_slot_size = 4096,
	.arena_slots = 1024,
};

/* More buffers in flight than one pass of the server reads. */
static const struct ipc_geom geom_big = {
	.sq_entries = 128,
	.cq_entries = 128,
	.arena_slot_size = 4096,
	.arena_slots = 2048,
};
static const struct ipc_geom *geo = &geom;

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static struct fake_vmm vmm;
static struct tap_fixture tap = {.fd = -1, .pkt = -1};
static int log_fd = -1;

static void srv_spawn(const char *const *args, int err_fd)
{
	int ret;

	signal(SIGPIPE, SIG_IGN);
	ret = tap_fixture_open(&tap, 0);
	cr_assert_eq(ret, 0, "tap (the unit tests run as root): %s",
		     strerror(-ret));
	cr_assert_eq(fake_vmm_spawn_args(&vmm, NET_BIN, geo, args, err_fd), 0);
	cr_assert_eq(fake_vmm_hello(&vmm, CTL_DEV_NET), 0);
}

/* SETUP with @fd (or none, fd < 0) as the tap: 0 and READY, or an error. */
static int srv_setup(int fd, struct ctl_ready *ready)
{
	static const enum ctl_fd_role role = CTL_FD_BACKEND;
	struct ctl_setup s = {.dev_type = CTL_DEV_NET};

	memcpy(s.cfg.net.mac, mac, sizeof(mac));
	s.cfg.net.mtu = 1500;
	return fake_vmm_setup(&vmm, &s, &fd, &role, fd >= 0 ? 1 : 0, ready);
}

static void srv_start(void)
{
	srv_spawn(NULL, -1);
	cr_assert_eq(srv_setup(tap.fd, NULL), 0);
}

static void srv_stop(void)
{
	fake_vmm_free(&vmm);
	tap_fixture_close(&tap);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

TestSuite(net_server, .fini = srv_stop, .timeout = 60);

/* ---- frames ---- */

/* Frame number @seq of @len bytes: broadcast, our EtherType, then seq and
 * a pattern of it. */
static size_t frame_make(uint8_t *f, uint32_t seq, size_t len)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = TAP_FIXTURE_ETHERTYPE >> 8;
	f[13] = TAP_FIXTURE_ETHERTYPE & 0xff;
	memcpy(f + 14, &seq, sizeof(seq));
	for (size_t i = 18; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
	return len;
}

static uint32_t frame_seq(const uint8_t *f)
{
	uint32_t seq;

	memcpy(&seq, f + 14, sizeof(seq));
	return seq;
}

/* Sizes that vary, from the smallest Ethernet frame to a full one. */
static size_t frame_len(uint32_t seq)
{
	return 60 + (seq * 97) % (FRAME_MAX - 59);
}

/* ---- requests ---- */

static struct ipc_dp_done done;
static uint8_t got[NET_RX_BUF_MIN + 16];

/* One completion within 5 s; its bytes in got[]. */
static void reap(void)
{
	int ret = fake_vmm_reap(&vmm, &done, got, sizeof(got), 5000);

	cr_assert_eq(ret, 1, "no completion: %d", ret);
}

static void reap_none(int ms)
{
	cr_assert_eq(fake_vmm_reap(&vmm, &done, got, sizeof(got), ms), 0,
		     "a completion of id %llu, status %d",
		     (unsigned long long)done.req.id, done.status);
}

/* A TX request of header @h (NULL: zeros) and @flen bytes of frame @f,
 * posted with args.net.hdr_len @hdr_len. */
static uint64_t tx_post_hdr(const struct virtio_net_hdr *h, uint32_t hdr_len,
			    const uint8_t *f, size_t flen)
{
	static uint8_t buf[HDR + FRAME_MAX];
	struct ipc_req req = {.op = IPC_OP_WRITE};

	memset(buf, 0, HDR);
	if (h)
		memcpy(buf, h, HDR);
	memcpy(buf + HDR, f, flen);
	req.args.net.hdr_len = hdr_len;
	cr_assert_eq(fake_vmm_post_req(&vmm, &req, buf, HDR + flen), 0);
	return req.id;
}

/* Send frame @seq as the guest: the status it completes with. */
static int tx(uint32_t seq)
{
	uint8_t f[FRAME_MAX];
	uint64_t id =
		tx_post_hdr(NULL, HDR, f, frame_make(f, seq, frame_len(seq)));

	reap();
	cr_assert_eq(done.req.id, id);
	cr_assert_eq(done.len, 0);
	return done.status;
}

/* The host got frame @seq, whole. */
static void host_got(uint32_t seq)
{
	uint8_t f[FRAME_MAX], want[FRAME_MAX];
	size_t len = frame_make(want, seq, frame_len(seq));
	ssize_t n = tap_fixture_recv(&tap, f, sizeof(f), 5000);

	cr_assert_eq(n, (ssize_t)len, "frame %u: %zd bytes", seq, n);
	cr_assert_eq(frame_seq(f), seq);
	cr_assert_eq(memcmp(f, want, len), 0, "frame %u differs", seq);
}

static void host_got_none(void)
{
	uint8_t f[FRAME_MAX];
	ssize_t n = tap_fixture_recv(&tap, f, sizeof(f), 200);

	cr_assert_eq(n, -ETIMEDOUT, "the host got %zd bytes", n);
}

static void host_send(uint32_t seq)
{
	uint8_t f[FRAME_MAX];

	cr_assert_eq(
		tap_fixture_send(&tap, f, frame_make(f, seq, frame_len(seq))),
		0);
}

/* An RX buffer of @len bytes: its id. */
static uint64_t rx_post(uint32_t len)
{
	uint64_t id;

	cr_assert_eq(fake_vmm_post(&vmm, IPC_OP_READ, 0, NULL, len, &id), 0);
	return id;
}

/* The next completion is RX buffer @id holding frame @seq. */
static void rx_got(uint64_t id, uint32_t seq)
{
	uint8_t want[FRAME_MAX];
	size_t len = frame_make(want, seq, frame_len(seq));
	/* No offload, no checksum to vouch for; num_buffers 1. */
	static const uint8_t hdr[HDR] = {[10] = 1};

	const uint8_t *f = got + NET_RX_REC_LEN;
	uint32_t magic, flen;

	reap();
	cr_assert_eq(done.req.id, id, "frame %u in the wrong buffer", seq);
	cr_assert_eq(done.status, 0);
	cr_assert_eq(done.len, NET_RX_REC_LEN + HDR + len, "frame %u: %u bytes",
		     seq, done.len);
	/* The record says what a VMM would salvage from a dead server. */
	memcpy(&magic, got, 4);
	memcpy(&flen, got + 4, 4);
	cr_assert_eq(magic, NET_RX_MAGIC);
	cr_assert_eq(flen, HDR + len);
	cr_assert_eq(memcmp(f, hdr, HDR), 0, "header of frame %u", seq);
	cr_assert_eq(frame_seq(f + HDR), seq, "frame %u: got %u", seq,
		     frame_seq(f + HDR));
	cr_assert_eq(memcmp(f + HDR, want, len), 0, "frame %u differs", seq);
}

static int offload(uint64_t features)
{
	struct ipc_req req = {.op = NET_OP_OFFLOAD};

	req.args.net.features = features;
	cr_assert_eq(fake_vmm_post_req(&vmm, &req, NULL, 0), 0);
	reap();
	cr_assert_eq(done.req.id, req.id);
	return done.status;
}

/* ---- control ---- */

static struct ctl_stats stats(void)
{
	struct ctl_msg m = {.type = CTL_STATS_REQUEST, .seq = 1};

	cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
	cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0, "server gone");
	cr_assert_eq(m.type, CTL_STATS_REPLY);
	return m.u.stats;
}

static uint64_t extra(const struct ctl_stats *st, const char *key)
{
	for (unsigned i = 0; i < st->nextra; i++)
		if (!strcmp(st->extra[i].key, key))
			return st->extra[i].value;
	cr_assert_fail("no stats key %s", key);
	return 0;
}

static uint64_t stat_of(const char *key)
{
	struct ctl_stats st = stats();

	return extra(&st, key);
}

static const struct ctl_op_stats *op_stats(const struct ctl_stats *st,
					   enum ctl_op op)
{
	for (unsigned i = 0; i < st->nops; i++)
		if (st->ops[i].op == op)
			return &st->ops[i];
	cr_assert_fail("no stats of op %d", op);
	return NULL;
}

static void send_msg(enum ctl_type type)
{
	struct ctl_msg m = {.type = type};

	cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
}

/* A fault rule of @kind on every request of class @op, @count times; in
 * place once a stats round trip came back. */
static void fault(enum ctl_op op, enum ctl_fault_kind kind, uint32_t count)
{
	struct ctl_msg m = {.type = CTL_FAULT};

	m.u.fault.op = op;
	m.u.fault.kind = kind;
	m.u.fault.trigger = CTL_TRIGGER_EVERY_NTH;
	m.u.fault.every_nth = 1;
	m.u.fault.count = count;
	m.u.fault.error_code = kind == CTL_FAULT_ERROR ? EIO : 0;
	cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
	stats();
}

/* ---- tests ---- */

Test(net_server, ready_offers_the_features_and_the_config_bytes)
{
	static const uint8_t cfg[VIRTIO_NET_CFG_LEN] = {
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, /* mac */
		0x01, 0x00,			    /* status: LINK_UP */
		0x00, 0x00,			    /* max_virtqueue_pairs */
		0xdc, 0x05,			    /* mtu 1500 */
	};
	uint64_t want =
		BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
		BIT(VIRTIO_NET_F_MTU) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
		BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
		BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
		BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6);
	struct ctl_ready r;

	srv_spawn(NULL, -1);
	cr_assert_eq(srv_setup(tap.fd, &r), 0);
	cr_assert_eq(r.features, want, "features %#llx",
		     (unsigned long long)r.features);
	cr_assert_eq(r.config_len, VIRTIO_NET_CFG_LEN);
	cr_assert_eq(memcmp(r.config, cfg, sizeof(cfg)), 0);
}

Test(net_server, tx_frames_reach_the_host_in_order, .init = srv_start)
{
	for (uint32_t i = 0; i < 40; i++)
		cr_assert_eq(tx(i), 0, "frame %u", i);
	for (uint32_t i = 0; i < 40; i++)
		host_got(i);
	host_got_none();
}

Test(net_server, host_frames_fill_posted_buffers_in_their_order,
     .init = srv_start)
{
	uint64_t id[8];

	for (int i = 0; i < 8; i++)
		id[i] = rx_post(NET_RX_BUF_MIN);
	for (uint32_t i = 0; i < 8; i++)
		host_send(i);
	for (uint32_t i = 0; i < 8; i++)
		rx_got(id[i], i);
}

Test(net_server, without_buffers_frames_wait_in_the_taps_queue,
     .init = srv_start)
{
	uint64_t id[8];

	for (uint32_t i = 0; i < 8; i++)
		host_send(i);
	reap_none(300);
	cr_assert_eq(stat_of("rx_frames"), 0);
	/* Fewer buffers than frames: the rest wait on. */
	for (int i = 0; i < 3; i++)
		id[i] = rx_post(NET_RX_BUF_MIN);
	for (uint32_t i = 0; i < 3; i++)
		rx_got(id[i], i);
	reap_none(200);
	for (int i = 3; i < 8; i++)
		id[i] = rx_post(NET_RX_BUF_MIN);
	for (uint32_t i = 3; i < 8; i++)
		rx_got(id[i], i);
	cr_assert_eq(stat_of("rx_frames"), 8);
}

/* More frames than one pass reads, through buffers posted again as they
 * come back: none lost, none out of order. */
Test(net_server, many_frames_pass_few_buffers_in_order, .init = srv_start)
{
	enum { FRAMES = 400, BUFS = 16 };
	uint64_t id[FRAMES];
	uint32_t next = 0;

	for (uint32_t i = 0; i < FRAMES; i++)
		host_send(i);
	for (; next < BUFS; next++)
		id[next] = rx_post(NET_RX_BUF_MIN);
	for (uint32_t i = 0; i < FRAMES; i++) {
		rx_got(id[i], i);
		if (next < FRAMES) {
			id[next] = rx_post(NET_RX_BUF_MIN);
			next++;
		}
	}
	cr_assert_eq(stat_of("rx_frames"), FRAMES);
}

/* 100 buffers and 100 frames waiting: the passes after the first go on
 * where it stopped. */
Test(net_server, frames_past_one_pass_follow_in_the_next)
{
	enum { N = 100 };
	uint64_t id[N];

	geo = &geom_big;
	srv_start();
	for (uint32_t i = 0; i < N; i++)
		host_send(i);
	for (int i = 0; i < N; i++)
		id[i] = rx_post(NET_RX_BUF_MIN);
	for (uint32_t i = 0; i < N; i++)
		rx_got(id[i], i);
}

/* RX buffers wait while TX requests go by them, both ways at once. */
Test(net_server, tx_runs_while_rx_buffers_wait, .init = srv_start)
{
	uint64_t id = rx_post(NET_RX_BUF_MIN);

	cr_assert_eq(tx(1), 0);
	host_got(1);
	host_send(2);
	rx_got(id, 2);
}

Test(net_server, a_short_tx_buffer_is_refused_and_counted, .init = srv_start)
{
	static const uint8_t b[HDR] = {0};
	struct ctl_stats st;
	uint64_t id;

	cr_assert_eq(fake_vmm_post(&vmm, IPC_OP_WRITE, HDR, b, HDR - 1, &id),
		     0);
	reap();
	cr_assert_eq(done.req.id, id);
	cr_assert_eq(done.status, -EINVAL);
	cr_assert_eq(fake_vmm_post(&vmm, IPC_OP_WRITE, HDR, NULL, 0, &id), 0);
	reap();
	cr_assert_eq(done.status, -EINVAL);
	/* A header and no frame: the tap's own refusal. */
	cr_assert_eq(fake_vmm_post(&vmm, IPC_OP_WRITE, HDR, b, HDR, &id), 0);
	reap();
	cr_assert_eq(done.status, -EINVAL);
	st = stats();
	cr_assert_eq(extra(&st, "tx_drop_short"), 2);
	cr_assert_eq(extra(&st, "tx_drop_hdr"), 1);
	cr_assert_eq(extra(&st, "tx_frames"), 0);
	host_got_none();
	cr_assert_eq(tx(5), 0);
	host_got(5);
}

Test(net_server, a_tx_header_outside_the_offered_features_is_refused,
     .init = srv_start)
{
	static const struct virtio_net_hdr bad[] = {
		{.gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 1000},
		{.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		 .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		 .gso_size = 1000},
		{.flags = VIRTIO_NET_HDR_F_DATA_VALID},
		{.gso_type = 2},
	};
	uint8_t f[FRAME_MAX];
	size_t len = frame_make(f, 9, 100);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tx_post_hdr(&bad[i], HDR, f, len);
		reap();
		cr_assert_eq(done.status, -EINVAL, "header %zu", i);
	}
	/* The header length the request names must be the tap's. */
	tx_post_hdr(NULL, 10, f, len);
	reap();
	cr_assert_eq(done.status, -EINVAL);
	cr_assert_eq(stat_of("tx_drop_hdr"), 5);
	host_got_none();
}

Test(net_server, an_rx_buffer_below_the_minimum_is_refused, .init = srv_start)
{
	uint64_t id = rx_post(NET_RX_BUF_MIN - 1);

	reap();
	cr_assert_eq(done.req.id, id);
	cr_assert_eq(done.status, -EINVAL);
	cr_assert_eq(fake_vmm_post(&vmm, IPC_OP_READ, 0, NULL, 0, &id), 0);
	reap();
	cr_assert_eq(done.status, -EINVAL);
	cr_assert_eq(stat_of("rx_buf_short"), 2);
	/* The frame goes into the next good buffer. */
	host_send(3);
	id = rx_post(NET_RX_BUF_MIN);
	rx_got(id, 3);
}

/* The kernel's view of the tap's offloads after each op. */
static void assert_tap_offloads(int csum, int tso)
{
	int c, t;

	cr_assert_eq(tap_fixture_offloads(&tap, &c, &t), 0);
	cr_assert_eq(c, csum, "checksum offload %d", c);
	cr_assert_eq(t, tso, "TSO %d", t);
}

Test(net_server, the_offload_op_sets_the_taps_offloads, .init = srv_start)
{
	uint64_t csum = BIT(VIRTIO_NET_F_GUEST_CSUM);
	uint64_t tso =
		BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6);
	/* Others the driver accepted, and a transport bit (VERSION_1). */
	uint64_t rest = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
			BIT(VIRTIO_NET_F_CSUM) | BIT(32);

	assert_tap_offloads(0, 0);
	cr_assert_eq(offload(csum | tso | rest), 0);
	cr_assert_eq(stat_of("offloads"), TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	assert_tap_offloads(1, 1);
	/* Segments need the checksum offload; bits never offered are
	 * refused; the tap keeps what it had. */
	cr_assert_eq(offload(tso), -EINVAL);
	cr_assert_eq(offload(csum | BIT(VIRTIO_NET_F_GUEST_ECN)), -EINVAL);
	cr_assert_eq(offload(csum | BIT(VIRTIO_NET_F_GUEST_UFO)), -EINVAL);
	cr_assert_eq(offload(csum | BIT(VIRTIO_NET_F_CTRL_VQ)), -EINVAL);
	cr_assert_eq(stat_of("offloads"), TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	cr_assert_eq(offload(csum), 0);
	cr_assert_eq(stat_of("offloads"), TUN_F_CSUM);
	assert_tap_offloads(1, 0);
	cr_assert_eq(offload(rest), 0);
	cr_assert_eq(stat_of("offloads"), 0);
	assert_tap_offloads(0, 0);
}

Test(net_server, a_reset_keeps_rx_buffers_and_turns_offloads_off,
     .init = srv_start)
{
	uint64_t id[2];

	cr_assert_eq(offload(BIT(VIRTIO_NET_F_GUEST_CSUM)), 0);
	id[0] = rx_post(NET_RX_BUF_MIN);
	id[1] = rx_post(NET_RX_BUF_MIN);
	send_msg(CTL_RESET);
	cr_assert_eq(stat_of("offloads"), 0);
	assert_tap_offloads(0, 0);
	host_send(0);
	host_send(1);
	rx_got(id[0], 0);
	rx_got(id[1], 1);
}

Test(net_server, stats_name_every_counter_and_both_classes, .init = srv_start)
{
	static const char *const keys[] = {
		"tx_frames",	 "tx_bytes",	 "tx_drop_short",
		"tx_drop_hdr",	 "tx_drop_busy", "tx_drop_error",
		"rx_frames",	 "rx_bytes",	 "rx_drop_oversize",
		"rx_drop_error", "rx_buf_short", "offloads",
		"bad_requests",	 "faults_fired", "faults_dropped",
		"cpl_overflow",
	};
	const struct ctl_op_stats *o;
	struct ctl_stats st;
	uint64_t id = rx_post(NET_RX_BUF_MIN);

	cr_assert_eq(tx(0), 0);
	cr_assert_eq(tx(1), 0);
	host_send(2);
	rx_got(id, 2);
	st = stats();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		extra(&st, keys[i]);
	cr_assert_eq(extra(&st, "tx_frames"), 2);
	cr_assert_eq(extra(&st, "tx_bytes"), frame_len(0) + frame_len(1));
	cr_assert_eq(extra(&st, "rx_frames"), 1);
	cr_assert_eq(extra(&st, "rx_bytes"), frame_len(2));
	/* The core's per-op numbers: arena bytes, headers (and the RX
	 * record) included. */
	o = op_stats(&st, CTL_OP_TX);
	cr_assert_eq(o->requests, 2);
	cr_assert_eq(o->bytes, 2 * HDR + frame_len(0) + frame_len(1));
	o = op_stats(&st, CTL_OP_RX);
	cr_assert_eq(o->requests, 1);
	cr_assert_eq(o->bytes, NET_RX_REC_LEN + HDR + frame_len(2));
	/* A reset of the counters, and the offloads are no counter. */
	cr_assert_eq(offload(BIT(VIRTIO_NET_F_GUEST_CSUM)), 0);
	{
		struct ctl_msg m = {.type = CTL_STATS_REQUEST, .seq = 2};

		m.u.stats_request.reset = true;
		cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
		cr_assert_eq(fake_vmm_recv(&vmm, &m, 5000), 0);
	}
	st = stats();
	cr_assert_eq(extra(&st, "tx_frames"), 0);
	cr_assert_eq(extra(&st, "rx_bytes"), 0);
	cr_assert_eq(extra(&st, "offloads"), TUN_F_CSUM);
}

Test(net_server, an_unknown_op_is_refused_and_the_server_runs_on,
     .init = srv_start)
{
	uint64_t id;

	cr_assert_eq(fake_vmm_post(&vmm, IPC_OP_FLUSH, 0, NULL, 0, &id), 0);
	reap();
	cr_assert_eq(done.status, -EOPNOTSUPP);
	cr_assert_eq(fake_vmm_post(&vmm, NET_OP_OFFLOAD + 1, 0, NULL, 0, &id),
		     0);
	reap();
	cr_assert_eq(done.status, -EOPNOTSUPP);
	cr_assert_eq(tx(4), 0);
	host_got(4);
}

/* The setup was refused: CTL_ERROR, exit 1. */
static void assert_setup_refused(int fd)
{
	int st;

	cr_assert_eq(srv_setup(fd, NULL), -EREMOTEIO);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		  "status %#x", st);
}

Test(net_server, a_setup_without_a_tap_is_refused)
{
	srv_spawn(NULL, -1);
	assert_setup_refused(-1);
}

Test(net_server, a_backend_that_is_no_tap_is_refused)
{
	int p[2];

	srv_spawn(NULL, -1);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	assert_setup_refused(p[0]);
	close(p[0]);
	close(p[1]);
}

/* A tap opened with @flags (and, with IFF_VNET_HDR, a header of @hdr). */
static int tap_other(short flags, int hdr)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	snprintf(ifr.ifr_name, IFNAMSIZ, "srvDx%d", (int)getpid());
	cr_assert_eq(ioctl(fd, TUNSETIFF, &ifr), 0, "%s", strerror(errno));
	if (hdr)
		cr_assert_eq(ioctl(fd, TUNSETVNETHDRSZ, &hdr), 0);
	return fd;
}

Test(net_server, a_tap_without_the_virtio_header_is_refused)
{
	int fd;

	srv_spawn(NULL, -1);
	fd = tap_other(IFF_TAP | IFF_NO_PI, 0);
	assert_setup_refused(fd);
	close(fd);
}

Test(net_server, a_tap_with_another_header_size_is_refused)
{
	int fd;

	srv_spawn(NULL, -1);
	fd = tap_other(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, 10);
	assert_setup_refused(fd);
	close(fd);
}

Test(net_server, a_tun_is_refused)
{
	int fd;

	srv_spawn(NULL, -1);
	fd = tap_other(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, 12);
	assert_setup_refused(fd);
	close(fd);
}

/* Error faults by class: TX fails and sends nothing; an RX buffer comes
 * back failed, and the frame goes into the next. */
Test(net_server, error_faults_fail_tx_and_rx_each_by_its_class,
     .init = srv_start)
{
	const struct ctl_op_stats *o;
	struct ctl_stats st;
	uint64_t id;

	fault(CTL_OP_TX, CTL_FAULT_ERROR, 1);
	cr_assert_eq(tx(0), -EIO);
	host_got_none();
	cr_assert_eq(tx(1), 0);
	host_got(1);
	fault(CTL_OP_RX, CTL_FAULT_ERROR, 1);
	id = rx_post(NET_RX_BUF_MIN);
	reap();
	cr_assert_eq(done.req.id, id);
	cr_assert_eq(done.status, -EIO);
	host_send(2);
	id = rx_post(NET_RX_BUF_MIN);
	rx_got(id, 2);
	st = stats();
	o = op_stats(&st, CTL_OP_TX);
	cr_assert_eq(o->errors, 1);
	o = op_stats(&st, CTL_OP_RX);
	cr_assert_eq(o->errors, 1);
	cr_assert_eq(extra(&st, "faults_fired"), 2);
}

/*
 * Drop and corrupt act on frames, each way, and the requests complete as
 * usual: a dropped transmit completes 0 and never reaches the host; a
 * dropped receive completes -ECANCELED with the frame's length (it left
 * the tap) and the next frame takes the next buffer; a corrupt one
 * arrives with its last byte flipped.
 */
Test(net_server, drop_and_corrupt_faults_act_on_frames_both_ways,
     .init = srv_start)
{
	uint8_t want[FRAME_MAX], f[FRAME_MAX];
	size_t len;
	ssize_t n;
	uint64_t id;

	fault(CTL_OP_TX, CTL_FAULT_DROP, 1);
	cr_assert_eq(tx(0), 0, "a dropped frame is no error");
	host_got_none();
	fault(CTL_OP_TX, CTL_FAULT_CORRUPT, 1);
	cr_assert_eq(tx(1), 0);
	len = frame_make(want, 1, frame_len(1));
	n = tap_fixture_recv(&tap, f, sizeof(f), 5000);
	cr_assert_eq(n, (ssize_t)len);
	cr_assert_eq(memcmp(f, want, len - 1), 0);
	cr_assert_eq(f[len - 1], (uint8_t)(want[len - 1] ^ 0xff));
	cr_assert_eq(tx(2), 0);
	host_got(2);

	fault(CTL_OP_RX, CTL_FAULT_DROP, 1);
	id = rx_post(NET_RX_BUF_MIN);
	host_send(3);
	reap();
	cr_assert_eq(done.req.id, id);
	cr_assert_eq(done.status, -ECANCELED);
	cr_assert_eq(done.len, NET_RX_REC_LEN + HDR + frame_len(3));
	fault(CTL_OP_RX, CTL_FAULT_CORRUPT, 1);
	id = rx_post(NET_RX_BUF_MIN);
	host_send(4);
	reap();
	cr_assert_eq(done.req.id, id);
	cr_assert_eq(done.status, 0);
	len = frame_make(want, 4, frame_len(4));
	cr_assert_eq(got[NET_RX_REC_LEN + HDR + len - 1],
		     (uint8_t)(want[len - 1] ^ 0xff));
	host_send(5);
	rx_got(rx_post(NET_RX_BUF_MIN), 5);
}

/* A delayed RX buffer is posted late, and frames wait for it. */
Test(net_server, a_delay_fault_posts_an_rx_buffer_late, .init = srv_start)
{
	struct ctl_msg m = {.type = CTL_FAULT};
	uint64_t id;

	m.u.fault.op = CTL_OP_RX;
	m.u.fault.kind = CTL_FAULT_DELAY;
	m.u.fault.trigger = CTL_TRIGGER_EVERY_NTH;
	m.u.fault.every_nth = 1;
	m.u.fault.count = 1;
	m.u.fault.delay_us = 300000;
	cr_assert_eq(ctl_send(vmm.ctl, &m, NULL, 0), 0);
	stats();
	host_send(7);
	id = rx_post(NET_RX_BUF_MIN);
	reap_none(150);
	rx_got(id, 7);
}

Test(net_server, a_crash_fault_on_tx_ends_the_server_by_a_trap,
     .init = srv_start)
{
	uint8_t f[FRAME_MAX];
	int st;

	fault(CTL_OP_TX, CTL_FAULT_CRASH, 1);
	tx_post_hdr(NULL, HDR, f, frame_make(f, 0, 60));
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGILL,
		  "status %#x", st);
	host_got_none();
}

Test(net_server, shutdown_ends_the_server_with_buffers_posted,
     .init = srv_start)
{
	int st;

	rx_post(NET_RX_BUF_MIN);
	send_msg(CTL_SHUTDOWN);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "status %#x", st);
}

/* The "Seccomp:" field of the server's /proc/PID/status. */
static int seccomp_mode(void)
{
	char path[64], line[128];
	int mode = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)vmm.pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

/* Every kind of request, both ways, and the control messages. */
static void serve_everything(void)
{
	uint64_t id[2];

	id[0] = rx_post(NET_RX_BUF_MIN);
	cr_assert_eq(tx(0), 0);
	host_got(0);
	host_send(1);
	rx_got(id[0], 1);
	cr_assert_eq(offload(BIT(VIRTIO_NET_F_GUEST_CSUM) |
			     BIT(VIRTIO_NET_F_GUEST_TSO4)),
		     0);
	id[0] = rx_post(NET_RX_BUF_MIN - 1);
	reap();
	cr_assert_eq(done.status, -EINVAL);
	cr_assert_eq(fake_vmm_post(&vmm, IPC_OP_WRITE, HDR, NULL, 0, id), 0);
	reap();
	cr_assert_eq(done.status, -EINVAL);
	send_msg(CTL_RESET);
	id[1] = rx_post(NET_RX_BUF_MIN);
	host_send(2);
	rx_got(id[1], 2);
	cr_assert_eq(stat_of("rx_frames"), 2);
}

Test(net_server, under_its_filter_it_serves_both_ways)
{
	int st;

	srv_spawn(NULL, -1);
	cr_assert_eq(srv_setup(tap.fd, NULL), 0);
	cr_assert_eq(seccomp_mode(), 2);
	serve_everything();
	send_msg(CTL_SHUTDOWN);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "status %#x", st);
}

/* In debug mode the filter would name any call it refused: none. */
Test(net_server, its_filter_refuses_nothing_it_needs)
{
	static const char *const args[] = {"--seccomp", "debug", "--log-level",
					   "debug", NULL};
	char path[] = "/tmp/isovm-net-log-XXXXXX", log[65536];
	ssize_t n;
	int st;

	log_fd = mkstemp(path);
	cr_assert_geq(log_fd, 0);
	unlink(path);
	srv_spawn(args, log_fd);
	cr_assert_eq(srv_setup(tap.fd, NULL), 0);
	cr_assert_eq(seccomp_mode(), 2);
	serve_everything();
	send_msg(CTL_SHUTDOWN);
	st = fake_vmm_wait(&vmm, 5000);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "status %#x", st);
	n = pread(log_fd, log, sizeof(log) - 1, 0);
	cr_assert_geq(n, 0);
	log[n] = '\0';
	cr_assert_null(strstr(log, "seccomp: isovm-net refused"), "log: %s",
		       log);
	cr_assert_not_null(strstr(log, "tap srvDtap"), "log: %s", log);
}
