/*
 * test_front_net.c: the virtio-net front: header rules both ways, the
 * READY checks, and guest chains through the transport and the generic
 * front against a fake net server on a real data plane: TX given back at
 * once, receive buffers kept posted, frames held without guest chains and
 * merged over several with MRG_RXBUF.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/devproto.h"
#include "vcpu/front/net/front_net.h"
#include "vcpu/front/net/front_net_hdr.h"
#include "vcpu/front/net/front_net_rx.h"
#include "vcpu/le.h"

#define F(bit) VIRTIO_BIT(VIRTIO_NET_F_##bit)

/* ---- header rules ---- */

static struct virtio_net_hdr hdr_of(uint8_t flags, uint8_t gso,
				    uint16_t gso_size, uint16_t cs,
				    uint16_t co)
{
	return (struct virtio_net_hdr){.flags = flags,
				       .gso_type = gso,
				       .gso_size = gso_size,
				       .csum_start = cs,
				       .csum_offset = co};
}

Test(front_net_hdr, tx_plain_frames_up_to_the_mtu)
{
	struct virtio_net_hdr h = hdr_of(0, 0, 0, 0, 0);
	const char *why = NULL;

	cr_assert_eq(front_net_tx_check(&h, 60, 0, 1500, &why), FRONT_NET_OK);
	cr_assert_eq(front_net_tx_check(&h, 1518, 0, 1500, &why),
		     FRONT_NET_OK, "VLAN tag allowed");
	cr_assert_eq(front_net_tx_check(&h, 1519, 0, 1500, &why),
		     FRONT_NET_OVERSIZE);
	cr_assert_eq(front_net_tx_check(&h, 13, 0, 1500, &why),
		     FRONT_NET_SHORT);
	cr_assert_eq(front_net_tx_check(&h, 9018, 0, 9000, &why),
		     FRONT_NET_OK);
}

Test(front_net_hdr, tx_offloads_need_their_features)
{
	struct virtio_net_hdr h = hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34,
					 16);
	uint64_t all = F(CSUM) | F(HOST_TSO4) | F(HOST_TSO6);
	const char *why = NULL;

	cr_assert_eq(front_net_tx_check(&h, 100, 0, 1500, &why),
		     FRONT_NET_BAD_HDR, "NEEDS_CSUM without CSUM");
	cr_assert_eq(front_net_tx_check(&h, 100, F(CSUM), 1500, &why),
		     FRONT_NET_OK);
	h.csum_offset = 65; /* field at 99..100: one byte past the end */
	cr_assert_eq(front_net_tx_check(&h, 100, F(CSUM), 1500, &why),
		     FRONT_NET_BAD_HDR);
	cr_assert_not_null(strstr(why, "outside"));
	h = hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448,
		   34, 16);
	cr_assert_eq(front_net_tx_check(&h, 60000, all, 1500, &why),
		     FRONT_NET_OK);
	cr_assert_eq(front_net_tx_check(&h, 60000, F(CSUM), 1500, &why),
		     FRONT_NET_BAD_HDR, "TSO4 not negotiated");
	cr_assert_eq(front_net_tx_check(&h, 70000, all, 1500, &why),
		     FRONT_NET_OVERSIZE);
	h.gso_size = 0;
	cr_assert_eq(front_net_tx_check(&h, 6000, all, 1500, &why),
		     FRONT_NET_BAD_HDR);
	h = hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 1448,
		   34, 6);
	cr_assert_eq(front_net_tx_check(&h, 6000, all, 1500, &why),
		     FRONT_NET_BAD_HDR, "UFO is never offered");
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	cr_assert_eq(front_net_tx_check(&h, 6000, all, 1500, &why),
		     FRONT_NET_BAD_HDR, "ECN is never offered");
	h = hdr_of(0x80, 0, 0, 0, 0);
	cr_assert_eq(front_net_tx_check(&h, 100, all, 1500, &why),
		     FRONT_NET_BAD_HDR, "unknown flag");
	h = hdr_of(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0);
	cr_assert_eq(front_net_tx_check(&h, 100, all, 1500, &why),
		     FRONT_NET_BAD_HDR, "DATA_VALID is RX only");
}

Test(front_net_hdr, rx_offloads_only_as_negotiated)
{
	struct virtio_net_hdr h = hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM,
					 VIRTIO_NET_HDR_GSO_TCPV6, 1428, 54,
					 16);
	uint64_t all = F(GUEST_CSUM) | F(GUEST_TSO4) | F(GUEST_TSO6);
	const char *why = NULL;

	cr_assert_eq(front_net_rx_check(&h, 30000, all, &why), FRONT_NET_OK);
	cr_assert_eq(front_net_rx_check(&h, 30000, F(GUEST_CSUM), &why),
		     FRONT_NET_BAD_HDR);
	cr_assert_eq(front_net_rx_check(&h, 30000, 0, &why),
		     FRONT_NET_BAD_HDR);
	h = hdr_of(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0);
	cr_assert_eq(front_net_rx_check(&h, 60, 0, &why), FRONT_NET_BAD_HDR);
	cr_assert_eq(front_net_rx_check(&h, 60, F(GUEST_CSUM), &why),
		     FRONT_NET_OK);
	h = hdr_of(0, 0, 0, 0, 0);
	cr_assert_eq(front_net_rx_check(&h, 10, 0, &why), FRONT_NET_SHORT);
	cr_assert_eq(front_net_rx_check(&h, 70000, all, &why),
		     FRONT_NET_OVERSIZE);
}

Test(front_net_hdr, header_bytes_round_trip_little_endian)
{
	uint8_t raw[12] = {1, 4, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0, 3, 0};
	uint8_t out[12];
	struct virtio_net_hdr h;

	front_net_hdr_get(raw, &h);
	cr_assert_eq(h.flags, 1);
	cr_assert_eq(h.gso_type, 4);
	cr_assert_eq(h.hdr_len, 0x36);
	cr_assert_eq(h.gso_size, 1448);
	cr_assert_eq(h.csum_start, 34);
	cr_assert_eq(h.csum_offset, 16);
	cr_assert_eq(h.num_buffers, 3);
	front_net_hdr_put(&h, out);
	cr_assert_arr_eq(raw, out, 12);
}

/* ---- READY ---- */

static struct net_cfg netc = {
	.ifname = "tap0",
	.mac = {0x52, 0x54, 0, 1, 2, 3},
	.mtu = 1500,
	.fd = -1,
};

static void ready_for(struct ctl_ready *r, uint64_t features)
{
	memset(r, 0, sizeof(*r));
	r->features = features;
	r->config_len = VIRTIO_NET_CFG_LEN;
	memcpy(r->config + VIRTIO_NET_CFG_MAC, netc.mac, 6);
	le16_put(r->config + VIRTIO_NET_CFG_MTU, (uint16_t)netc.mtu);
}

#define ALL_FEATURES                                                        \
	(F(CSUM) | F(GUEST_CSUM) | F(MTU) | F(MAC) | F(GUEST_TSO4) |           \
	 F(GUEST_TSO6) | F(HOST_TSO4) | F(HOST_TSO6) | F(MRG_RXBUF) |          \
	 F(STATUS))

Test(front_net_ready, mac_mtu_features_and_length_are_checked)
{
	static struct front_net n;
	struct ctl_ready r;
	char err[256];

	ready_for(&r, ALL_FEATURES);
	cr_assert_eq(front_net_init(&n, "net0", &netc, &r, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(n.ops.device_id, VIRTIO_ID_NET);
	cr_assert_eq(n.ops.nr_queues, 2);
	cr_assert_eq(le16_get(n.config + VIRTIO_NET_CFG_STATUS),
		     VIRTIO_NET_S_LINK_UP);
	ready_for(&r, ALL_FEATURES | F(CTRL_VQ));
	cr_assert_eq(front_net_init(&n, "net0", &netc, &r, err, sizeof(err)),
		     -EPROTO);
	cr_assert_not_null(strstr(err, "cannot serve"), "%s", err);
	ready_for(&r, ALL_FEATURES);
	r.config[VIRTIO_NET_CFG_MAC + 5] ^= 1;
	cr_assert_eq(front_net_init(&n, "net0", &netc, &r, err, sizeof(err)),
		     -EPROTO);
	ready_for(&r, ALL_FEATURES);
	le16_put(r.config + VIRTIO_NET_CFG_MTU, 9000);
	cr_assert_eq(front_net_init(&n, "net0", &netc, &r, err, sizeof(err)),
		     -EPROTO);
	ready_for(&r, ALL_FEATURES);
	r.config_len = 6;
	cr_assert_eq(front_net_init(&n, "net0", &netc, &r, err, sizeof(err)),
		     -EPROTO);
}

/* ---- chains through transport, front and a fake server ---- */

#define RAM_GPA	 0x100000ull
#define RAM_SIZE (8ull << 20)
#define QSIZE	 FRONT_NET_QUEUE_SIZE
/* Queue q's rings: desc, avail, used. */
#define DESC_GPA(q)  (RAM_GPA + 0x10000ull * (q))
#define AVAIL_GPA(q) (DESC_GPA(q) + 0x1000)
#define USED_GPA(q)  (DESC_GPA(q) + 0x2000)
#define BUF_GPA	     (RAM_GPA + 0x100000ull)

static struct guest_mem mem;

static struct {
	struct front_net n;
	struct virtio_mmio_dev mmio;
	pthread_mutex_t lock;
	struct iothread io;
	struct ipc_dp_vmm dp;
	struct ipc_dp_srv srv;
	uint16_t avail_idx[2], used_seen[2], next_desc[2];
	gpa_t next_buf;
	struct ipc_req rx[FRONT_NET_RX_POSTED * 2];
	unsigned nrx;
	struct ipc_req offload[4];
	unsigned noffload;
} t;

static void *gptr(gpa_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(&mem, gpa, len);

	cr_assert_not_null(p);
	return p;
}

static void e2e_irq(void *opaque, bool level)
{
	(void)opaque;
	(void)level;
}

static void e2e_log(void *opaque, const char *line)
{
	(void)opaque;
	(void)line;
}

static void wr(uint64_t off, uint32_t v)
{
	cr_assert_eq(virtio_mmio_write(&t.mmio, off, &v, 4), 0);
}

static void queue_up(unsigned q)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC_GPA(q));
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL_GPA(q));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED_GPA(q));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void bring_up(uint64_t f)
{
	f |= VIRTIO_BIT(VIRTIO_F_VERSION_1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				       VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	queue_up(0);
	queue_up(1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(virtio_mmio_running(&t.mmio));
}

static void e2e_setup_with(uint64_t features)
{
	struct ipc_geom g = {FRONT_NET_RING, FRONT_NET_RING, FRONT_NET_SLOT,
			     FRONT_NET_SLOTS};
	struct ctl_ready r;
	char err[256];
	uint8_t *ram = calloc(1, RAM_SIZE);

	cr_assert(ram);
	memset(&mem, 0, sizeof(mem));
	mem.region[0] = (struct guest_mem_region){RAM_GPA, RAM_SIZE, ram, 0};
	mem.nr_regions = 1;
	mem.ram_size = RAM_SIZE;
	mem.memfd = -1;
	memset(&t, 0, sizeof(t));
	t.next_buf = BUF_GPA;
	ready_for(&r, ALL_FEATURES);
	cr_assert_eq(front_net_init(&t.n, "net0", &netc, &r, err, sizeof(err)),
		     0, "%s", err);
	t.n.part = calloc(FRONT_NET_RX_PART, sizeof(*t.n.part));
	cr_assert(t.n.part);
	cr_assert_eq(pthread_mutex_init(&t.lock, NULL), 0);
	cr_assert_eq(ipc_dp_vmm_open(&t.dp, &g, 1), 0);
	cr_assert_eq(ipc_dp_srv_open(&t.srv, t.dp.reg.fd, t.dp.srv_kick_fd,
				     t.dp.srv_call_fd, NULL),
		     0);
	cr_assert_eq(virtio_mmio_init(&t.mmio, "net0", &t.n.ops, &t.n, &mem,
				      e2e_irq, e2e_log, NULL),
		     0);
	cr_assert_eq(iothread_init(&t.io), 0);
	cr_assert_eq(front_init(&t.n.front, &front_net_front_ops, &t.n,
				&t.mmio, &t.lock, &t.dp, &t.io, 2, QSIZE),
		     0);
	t.n.front.own_queues = 1u << VIRTIO_NET_Q_RX;
	bring_up(features);
}

static void e2e_setup(void)
{
	e2e_setup_with(ALL_FEATURES);
}

static void e2e_teardown(void)
{
	pthread_mutex_lock(&t.lock);
	front_net_rx_reset(&t.n);
	pthread_mutex_unlock(&t.lock);
	front_fini(&t.n.front);
	iothread_fini(&t.io);
	ipc_dp_srv_close(&t.srv);
	ipc_dp_vmm_close(&t.dp);
	pthread_mutex_destroy(&t.lock);
	free(t.n.part);
	free(mem.region[0].host);
}

/* Add a one-segment chain of len bytes (device-writable or not) to q. */
static gpa_t add_chain(unsigned q, uint32_t len, bool write)
{
	uint8_t *d;
	uint16_t idx = t.next_desc[q]++ % QSIZE;
	gpa_t buf = t.next_buf;

	t.next_buf += (len + 63) & ~63u;
	d = gptr(DESC_GPA(q) + 16u * idx, 16);
	memset(d, 0, 16);
	memcpy(d, &buf, 8);
	memcpy(d + 8, &len, 4);
	d[12] = write ? 2 : 0; /* VIRTQ_DESC_F_WRITE */
	memcpy(gptr(AVAIL_GPA(q) + 4 + 2u * (t.avail_idx[q] % QSIZE), 2),
	       &idx, 2);
	t.avail_idx[q]++;
	__atomic_store_n((uint16_t *)gptr(AVAIL_GPA(q) + 2, 2), t.avail_idx[q],
			 __ATOMIC_RELEASE);
	return buf;
}

static void notify(unsigned q)
{
	pthread_mutex_lock(&t.lock);
	t.n.ops.notify(&t.n, q);
	pthread_mutex_unlock(&t.lock);
}

static uint16_t used_idx(unsigned q)
{
	return __atomic_load_n((uint16_t *)gptr(USED_GPA(q) + 2, 2),
			       __ATOMIC_ACQUIRE);
}

/* The used element i of queue q: its length. */
static uint32_t used_len(unsigned q, uint16_t i)
{
	uint32_t len;

	memcpy(&len, gptr(USED_GPA(q) + 4 + 8u * (i % QSIZE) + 4, 4), 4);
	return len;
}

/* Server side: take every request posted, keep the RX ones. */
static unsigned srv_take(struct ipc_req *tx, unsigned max_tx)
{
	struct ipc_req r[64];
	unsigned ntx = 0;
	int n;

	while ((n = ipc_dp_srv_next(&t.srv, r, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			if (r[i].op == IPC_OP_READ)
				t.rx[t.nrx++] = r[i];
			else if (r[i].op == NET_OP_OFFLOAD)
				t.offload[t.noffload++ % 4] = r[i];
			else if (ntx < max_tx)
				tx[ntx++] = r[i];
		}
	}
	return ntx;
}

/*
 * Fill the oldest posted receive buffer with a frame of len bytes as the
 * server does (the record, then the header and frame after it); complete
 * it unless 'die' (the server is killed before its completion).
 */
static void srv_fill(uint32_t len, uint8_t seed, bool die)
{
	struct ipc_req r = t.rx[0];
	struct ipc_cpl c = {.id = r.id,
			    .len = NET_RX_REC_LEN + VIRTIO_NET_HDR_LEN + len};
	uint8_t *b = ipc_dp_srv_buf(&t.srv, &r);

	cr_assert(t.nrx > 0);
	cr_assert_geq(r.arena_len, NET_RX_BUF_MIN);
	cr_assert_eq(le32_get(b), 0, "posted with the record zeroed");
	le32_put(b, NET_RX_MAGIC);
	le32_put(b + 4, VIRTIO_NET_HDR_LEN + len);
	b += NET_RX_REC_LEN;
	memset(b, 0, VIRTIO_NET_HDR_LEN);
	b[10] = 0x77; /* num_buffers from the tap: the front sets it */
	for (uint32_t i = 0; i < len; i++)
		b[VIRTIO_NET_HDR_LEN + i] = (uint8_t)(seed + i);
	memmove(&t.rx[0], &t.rx[1], --t.nrx * sizeof(t.rx[0]));
	if (die)
		return;
	cr_assert_eq(ipc_dp_srv_complete(&t.srv, &c, 1), 1);
	front_reap(&t.n.front);
}

static void srv_frame(uint32_t len, uint8_t seed)
{
	srv_fill(len, seed, false);
}

TestSuite(front_net_e2e, .init = e2e_setup, .fini = e2e_teardown);

Test(front_net_e2e, tx_chains_come_back_at_once_and_the_server_gets_them)
{
	struct ipc_req tx[4];
	uint8_t *g, *a;
	gpa_t buf;

	buf = add_chain(1, VIRTIO_NET_HDR_LEN + 100, false);
	g = gptr(buf, VIRTIO_NET_HDR_LEN + 100);
	memset(g, 0, VIRTIO_NET_HDR_LEN);
	g[10] = 9; /* num_buffers: sent as zero */
	for (int i = 0; i < 100; i++)
		g[VIRTIO_NET_HDR_LEN + i] = (uint8_t)i;
	notify(1);
	cr_assert_eq(used_idx(1), 1, "the chain is back before the server");
	cr_assert_eq(used_len(1, 0), 0);
	cr_assert_eq(srv_take(tx, 4), 1);
	cr_assert_eq(tx[0].op, IPC_OP_WRITE);
	cr_assert_eq(tx[0].arena_len, VIRTIO_NET_HDR_LEN + 100);
	cr_assert_eq(tx[0].args.net.hdr_len, VIRTIO_NET_HDR_LEN);
	a = ipc_dp_srv_buf(&t.srv, &tx[0]);
	cr_assert_eq(a[10], 0);
	cr_assert_arr_eq(a + VIRTIO_NET_HDR_LEN, g + VIRTIO_NET_HDR_LEN, 100);
	cr_assert_eq(t.n.st.tx_frames, 1);
	cr_assert_eq(t.n.st.tx_bytes, 100);
	cr_assert_eq(t.nrx, FRONT_NET_RX_POSTED, "receive buffers posted");
}

Test(front_net_e2e, bad_tx_chains_are_dropped_counted_and_given_back)
{
	struct ipc_req tx[4];
	uint8_t *g;
	gpa_t buf;

	add_chain(1, 5, false);				 /* short */
	add_chain(1, VIRTIO_NET_HDR_LEN, false);	 /* empty */
	add_chain(1, VIRTIO_NET_HDR_LEN + 1600, false);	 /* oversize */
	buf = add_chain(1, VIRTIO_NET_HDR_LEN + 60, false);
	g = gptr(buf, VIRTIO_NET_HDR_LEN);
	memset(g, 0, VIRTIO_NET_HDR_LEN);
	g[1] = 3; /* GSO UDP: never offered */
	notify(1);
	cr_assert_eq(used_idx(1), 4);
	cr_assert_eq(srv_take(tx, 4), 0, "nothing reached the server");
	cr_assert_eq(t.n.st.drops[FRONT_NET_TX_SHORT], 2);
	cr_assert_eq(t.n.st.drops[FRONT_NET_TX_OVERSIZE], 1);
	cr_assert_eq(t.n.st.drops[FRONT_NET_TX_BAD_HDR], 1);
	cr_assert(virtio_mmio_running(&t.mmio), "the device goes on");
}

Test(front_net_e2e, a_frame_without_guest_buffers_waits_then_arrives)
{
	struct ipc_req tx[1];
	const uint8_t *g;
	gpa_t buf;

	srv_take(tx, 1);
	cr_assert_eq(t.nrx, FRONT_NET_RX_POSTED);
	srv_frame(200, 5);
	cr_assert_eq(t.n.held_n, 1, "held: the guest posted nothing");
	srv_take(tx, 1);
	cr_assert_eq(t.nrx, FRONT_NET_RX_POSTED - 1,
		     "no buffer posted in its place: backpressure");
	buf = add_chain(0, 2048, true);
	notify(0);
	cr_assert_eq(used_idx(0), 1);
	cr_assert_eq(used_len(0, 0), VIRTIO_NET_HDR_LEN + 200);
	g = gptr(buf, VIRTIO_NET_HDR_LEN + 200);
	cr_assert_eq(le16_get(g + 10), 1, "num_buffers");
	for (int i = 0; i < 200; i++)
		cr_assert_eq(g[VIRTIO_NET_HDR_LEN + i], (uint8_t)(5 + i));
	cr_assert_eq(t.n.held_n, 0);
	srv_take(tx, 1);
	cr_assert_eq(t.nrx, FRONT_NET_RX_POSTED, "posted again");
	cr_assert_eq(t.n.st.rx_frames, 1);
}

Test(front_net_e2e, mergeable_buffers_take_a_large_frame_in_order)
{
	struct ipc_req tx[1];
	gpa_t b0, b1, b2;
	const uint8_t *g;

	srv_take(tx, 1);
	b0 = add_chain(0, 1000, true);
	b1 = add_chain(0, 1000, true);
	b2 = add_chain(0, 1000, true);
	notify(0);
	srv_frame(2500, 1);
	cr_assert_eq(used_idx(0), 3);
	cr_assert_eq(used_len(0, 0), 1000);
	cr_assert_eq(used_len(0, 1), 1000);
	cr_assert_eq(used_len(0, 2), VIRTIO_NET_HDR_LEN + 2500 - 2000);
	cr_assert_eq(le16_get(gptr(b0, 12) + 10), 3, "num_buffers");
	g = gptr(b0, 1000);
	cr_assert_eq(g[VIRTIO_NET_HDR_LEN], 1);
	g = gptr(b1, 1000);
	cr_assert_eq(g[0], (uint8_t)(1 + 1000 - VIRTIO_NET_HDR_LEN));
	g = gptr(b2, 100);
	cr_assert_eq(g[0], (uint8_t)(1 + 2000 - VIRTIO_NET_HDR_LEN));
	cr_assert_eq(t.n.st.rx_buffers, 3);
}

Test(front_net_e2e, without_mergeable_buffers_a_small_chain_waits_for_a_fit,
     .init = NULL)
{
	struct ipc_req tx[1];

	e2e_setup_with(ALL_FEATURES & ~F(MRG_RXBUF));
	srv_take(tx, 1);
	add_chain(0, 512, true);
	notify(0);
	srv_frame(1000, 1);
	cr_assert_eq(used_idx(0), 0, "too small: not used");
	cr_assert_eq(t.n.st.drops[FRONT_NET_RX_OVERSIZE], 1);
	srv_frame(100, 2);
	cr_assert_eq(used_idx(0), 1, "the next frame fits the same chain");
	cr_assert_eq(used_len(0, 0), VIRTIO_NET_HDR_LEN + 100);
}

/*
 * One guest receive buffer posted; the oldest server buffer taken off the
 * list for the test to fill by hand: its bytes, and its request in *r.
 */
static uint8_t *srv_raw_buffer(struct ipc_req *r)
{
	struct ipc_req tx[1];

	srv_take(tx, 1);
	add_chain(0, 2048, true);
	notify(0);
	*r = t.rx[0];
	memmove(&t.rx[0], &t.rx[1], --t.nrx * sizeof(t.rx[0]));
	return ipc_dp_srv_buf(&t.srv, r);
}

Test(front_net_e2e, bad_frames_from_the_server_never_reach_the_guest)
{
	struct ipc_req r;
	struct ipc_cpl c;
	uint8_t *b = srv_raw_buffer(&r);

	memset(b, 0, 72);
	le32_put(b, NET_RX_MAGIC);
	le32_put(b + 4, 64);
	b[NET_RX_REC_LEN + 1] = 3; /* GSO UDP */
	c = (struct ipc_cpl){.id = r.id, .len = 72};
	cr_assert_eq(ipc_dp_srv_complete(&t.srv, &c, 1), 1);
	front_reap(&t.n.front);
	cr_assert_eq(used_idx(0), 0);
	cr_assert_eq(t.n.st.drops[FRONT_NET_RX_BAD_HDR], 1);
	srv_frame(60, 0);
	cr_assert_eq(used_idx(0), 1, "a good one after it goes through");
}

Test(front_net_e2e, a_record_that_disagrees_with_the_completion_is_dropped)
{
	struct ipc_req r;
	struct ipc_cpl c;
	uint8_t *b = srv_raw_buffer(&r);

	le32_put(b, NET_RX_MAGIC);
	le32_put(b + 4, 100);
	c = (struct ipc_cpl){.id = r.id, .len = NET_RX_REC_LEN + 200};
	cr_assert_eq(ipc_dp_srv_complete(&t.srv, &c, 1), 1);
	front_reap(&t.n.front);
	cr_assert_eq(used_idx(0), 0);
	cr_assert_eq(t.n.st.drops[FRONT_NET_RX_SHORT], 1);
}

Test(front_net_e2e, frames_a_dead_server_read_are_salvaged_not_lost)
{
	struct ipc_req tx[1];
	gpa_t b0, b1;

	srv_take(tx, 1);
	b0 = add_chain(0, 2048, true);
	b1 = add_chain(0, 2048, true);
	notify(0);
	/* Two frames read from the tap, the server killed before it
	 * completed them; a third buffer is posted and untouched. */
	srv_fill(100, 1, true);
	srv_fill(300, 2, true);
	cr_assert_eq(front_salvage(&t.n.front), 2);
	cr_assert_eq(t.n.held_n, 2);
	front_reap(&t.n.front); /* what a restart does next: pump */
	cr_assert_eq(used_idx(0), 2);
	cr_assert_eq(used_len(0, 0), VIRTIO_NET_HDR_LEN + 100);
	cr_assert_eq(used_len(0, 1), VIRTIO_NET_HDR_LEN + 300);
	cr_assert_eq(((const uint8_t *)gptr(b0, 13))[12], 1);
	cr_assert_eq(((const uint8_t *)gptr(b1, 13))[12], 2);
	/* The rest stay in flight for the replay. */
	cr_assert_eq(ipc_inflight_count(&t.dp.inf), FRONT_NET_RX_POSTED + 1);
	cr_assert_eq(front_salvage(&t.n.front), 0, "nothing twice");
}

Test(front_net_e2e, a_receive_buffer_the_device_cannot_write_breaks_the_rules)
{
	struct ipc_req tx[1];

	srv_take(tx, 1);
	add_chain(0, 2048, false); /* device-readable: not a receive buffer */
	notify(0);
	srv_frame(60, 0);
	cr_assert_not(virtio_mmio_running(&t.mmio), "NEEDS_RESET");
	cr_assert_eq(used_idx(0), 0, "nothing written into it");
}

Test(front_net_e2e, the_driver_offloads_reach_the_server)
{
	struct ipc_req tx[4];

	cr_assert_eq(srv_take(tx, 4), 0);
	cr_assert_eq(t.noffload, 1);
	cr_assert_eq(t.offload[0].args.net.features,
		     F(GUEST_CSUM) | F(GUEST_TSO4) | F(GUEST_TSO6));
}

Test(front_net, stats_line_names_every_drop)
{
	struct front_net_stats st = {.tx_frames = 3, .tx_bytes = 180};
	char line[512];

	st.drops[FRONT_NET_TX_OVERSIZE] = 2;
	front_net_stats_line(&st, "net0", line, sizeof(line));
	cr_assert_not_null(strstr(line, "net0 stats: tx=3/180 rx=0/0"), "%s",
			   line);
	cr_assert_not_null(strstr(line, "tx_oversize=2"), "%s", line);
	cr_assert_not_null(strstr(line, "rx_server=0"), "%s", line);
}
