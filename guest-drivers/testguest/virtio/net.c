/* net.c: virtio-net frames: posted receive buffers, slotted transmits. */
#include "boot/kernel.h"
#include "rt/cmdline.h"
#include "rt/string.h"
#include "virtio/dma.h"
#include "virtio/net.h"

#define VNET_CFG_MAC	0
#define VNET_CFG_STATUS 6
#define VNET_CFG_MTU	10
#define VNET_S_LINK_UP	1

/* The cookie of a chain from vnet_tx_raw(): beyond every slot's. */
#define VNET_RAW_COOKIE ((void *)(uintptr_t)0x10000)

static uint32_t vnet_round64(uint32_t x)
{
	return (x + 63) & ~63u;
}

/* virtio-net.mrg=0|1 and virtio-net.rxbuf=BYTES; 0 or -TG_EINVAL. */
static int vnet_options(bool *mrg, uint32_t *rxbuf)
{
	const char *v = cmdline_value(&cmdline, "virtio-net.mrg"), *end;
	uint64_t x;

	*mrg = true;
	*rxbuf = VNET_RXBUF_DEFAULT;
	if (v && !strcmp(v, "0"))
		*mrg = false;
	else if (v && strcmp(v, "1"))
		return -TG_EINVAL;
	v = cmdline_value(&cmdline, "virtio-net.rxbuf");
	if (!v)
		return 0;
	end = str_to_u64(v, &x);
	if (!end || *end || x < VNET_RXBUF_MIN || x > VNET_RXBUF_MAX)
		return -TG_EINVAL;
	*rxbuf = (uint32_t)x;
	return 0;
}

/* MAC and MTU from the config space, or the defaults. */
static int vnet_read_config(struct vnet *n, unsigned nth)
{
	unsigned i;

	if (vmmio_has(n->dev, VNET_F_MAC)) {
		for (i = 0; i < 6; i++)
			n->mac[i] = vmmio_config8(n->dev, VNET_CFG_MAC + i);
	} else {
		/* Locally administered, unicast, one per device. */
		static const uint8_t base[6] = {0x02, 0x74, 0x67, 0, 0, 0};

		memcpy(n->mac, base, 6);
		n->mac[5] = (uint8_t)nth;
	}
	n->mtu = VNET_MTU_DEFAULT;
	if (vmmio_has(n->dev, VNET_F_MTU)) {
		n->mtu = vmmio_config16(n->dev, VNET_CFG_MTU);
		if (n->mtu < VNET_MTU_MIN)
			return -TG_EINVAL;
	}
	n->tx_max = (uint32_t)n->mtu + VNET_ETH_HLEN;
	n->frame_max = n->tx_max + VNET_VLAN_HLEN;
	return 0;
}

static uint8_t *vnet_rxbuf(const struct vnet *n, unsigned i)
{
	return n->rxmem + (size_t)i * n->rxbuf_size;
}

static uint8_t *vnet_slot(const struct vnet *n, unsigned s)
{
	return n->txmem + (size_t)s * n->tx_slot_size;
}

/* Gives receive buffer i to the device; published in batches. */
static int vnet_rx_post(struct vnet *n, unsigned i)
{
	struct virtq_buf b = {
		.addr = dma_pa(vnet_rxbuf(n, i)),
		.len = n->rxbuf_size,
		.write = true,
	};
	int ret = virtq_add(&n->rx, &b, 1, (void *)(uintptr_t)(i + 1));

	if (ret < 0)
		return ret;
	/* No notify before DRIVER_OK (virtio 3.1.1): vnet_open kicks once
	 * the device runs. */
	if (++n->rx_unkicked >= VNET_RX_BATCH && n->live) {
		virtq_kick(&n->rx);
		n->rx_unkicked = 0;
	}
	return 0;
}

/* Sizes both directions' buffers and allocates them (dma). */
static int vnet_alloc(struct vnet *n, bool mrg, uint32_t rxbuf)
{
	uint32_t need = VNET_HDR_LEN + n->frame_max;

	n->rx_bufs = n->rx.size;
	n->tx_slots = n->tx.size;
	/* Without merging every buffer holds the longest frame; with it,
	 * half the ring must still hold one, so a frame always fits. */
	if (!mrg || rxbuf * (n->rx_bufs / 2) < need)
		rxbuf = mrg ? need / (n->rx_bufs / 2) + 1 : need;
	n->rxbuf_size = vnet_round64(rxbuf);
	n->tx_slot_size = vnet_round64(need);
	n->rxmem = dma_alloc((size_t)n->rx_bufs * n->rxbuf_size, 4096);
	n->txmem = dma_alloc((size_t)n->tx_slots * n->tx_slot_size, 4096);
	if (!n->rxmem || !n->txmem)
		return -TG_ENOSPC;
	return 0;
}

/* Queues, memory, every receive buffer posted (kicked after DRIVER_OK). */
static int vnet_setup(struct vnet *n, bool mrg, uint32_t rxbuf)
{
	unsigned i;
	int ret;

	ret = virtq_init(&n->rx, n->dev, 0, VIRTQ_SIZE_MAX, 0);
	if (!ret)
		ret = virtq_init(&n->tx, n->dev, 1, VIRTQ_SIZE_MAX, 0);
	if (!ret && n->rx.size < 2)
		ret = -TG_EINVAL;
	if (!ret)
		ret = vnet_alloc(n, mrg, rxbuf);
	if (ret)
		return ret;
	for (i = 0; i < n->tx_slots; i++)
		n->tx_free[n->tx_nfree++] = (uint16_t)(n->tx_slots - 1 - i);
	for (i = 0; i < n->rx_bufs; i++)
		if ((ret = vnet_rx_post(n, i)))
			return ret;
	return 0;
}

int vnet_open(struct vnet *n, unsigned nth)
{
	uint64_t want = (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VNET_F_MAC) |
			(1ull << VNET_F_STATUS) | (1ull << VNET_F_MTU);
	const char *mode = cmdline_value(&cmdline, "virtio-mode");
	uint32_t rxbuf;
	bool mrg;
	int ret;

	memset(n, 0, sizeof(*n));
	n->tx_cur = -1;
	if (vnet_options(&mrg, &rxbuf))
		return -TG_EINVAL;
	if (mrg)
		want |= 1ull << VNET_F_MRG_RXBUF;
	n->dev = vmmio_find(VIRTIO_ID_NET, nth);
	if (!n->dev)
		return -TG_ENODEV;
	ret = vmmio_begin(n->dev);
	if (ret)
		return ret;
	/* Polling unless interrupts are asked for by name. */
	n->dev->poll = !mode || strcmp(mode, "irq");
	ret = vmmio_negotiate(n->dev, want);
	if (!ret)
		ret = vnet_read_config(n, nth);
	if (ret)
		goto err_reset;
	n->mrg = vmmio_has(n->dev, VNET_F_MRG_RXBUF);
	ret = vnet_setup(n, n->mrg, rxbuf);
	if (!ret)
		ret = vmmio_driver_ok(n->dev);
	if (ret)
		goto err_reset;
	n->live = true;
	vnet_kick(n);
	return 0;

err_reset:
	vmmio_stop(n->dev);
	return ret;
}

void vnet_close(struct vnet *n)
{
	if (n->dev)
		vmmio_stop(n->dev);
	n->dev = NULL;
}

bool vnet_link_up(const struct vnet *n)
{
	if (!vmmio_has(n->dev, VNET_F_STATUS))
		return true;
	return vmmio_config16(n->dev, VNET_CFG_STATUS) & VNET_S_LINK_UP;
}

/* Takes one used receive buffer: 1 with its index and length, 0, -TG_EIO. */
static int vnet_rx_take(struct vnet *n, unsigned *i, uint32_t *len)
{
	void *cookie;
	uintptr_t c;
	int ret = virtq_get(&n->rx, &cookie, len);

	if (ret <= 0)
		return ret ? -TG_EIO : 0;
	c = (uintptr_t)cookie;
	if (c < 1 || c > n->rx_bufs)
		return -TG_EIO;
	*i = (unsigned)(c - 1);
	/* Longer than the buffer it was given: the device is broken, and
	 * the buffer stays out of the ring. */
	return *len > n->rxbuf_size ? -TG_EIO : 1;
}

/*
 * Copies one frame out of its nbufs buffers (the first one already
 * taken: index i, len bytes) and gives them back. *total is the frame's
 * length; *over says it did not fit in cap. 0 or -TG_EIO.
 */
static int vnet_rx_gather(struct vnet *n, unsigned i, uint32_t len,
			  uint32_t nbufs, uint8_t *frame, uint32_t cap,
			  uint32_t *total, bool *over)
{
	uint32_t off = VNET_HDR_LEN, k;
	int ret;

	*total = 0;
	*over = false;
	for (k = 0; k < nbufs; k++) {
		uint32_t part;

		/* All buffers of a frame are published together (5.1.6.4). */
		if (k && vnet_rx_take(n, &i, &len) <= 0)
			return -TG_EIO;
		part = len - off;
		if (*total + part > cap)
			*over = true;
		else
			memcpy(frame + *total, vnet_rxbuf(n, i) + off, part);
		*total += part;
		if ((ret = vnet_rx_post(n, i)))
			return ret;
		off = 0;
	}
	return 0;
}

/* One frame: 1 with *flen (0: dropped), 0 when none, or -TG_EIO. */
static int vnet_rx_frame(struct vnet *n, uint8_t *frame, uint32_t cap,
			 uint32_t *flen)
{
	struct vnet_hdr h;
	uint32_t len, nbufs;
	unsigned i;
	bool over;
	int ret = vnet_rx_take(n, &i, &len);

	if (ret <= 0)
		return ret;
	/* The header is copied once; only the copy is looked at. */
	memcpy(&h, vnet_rxbuf(n, i), sizeof(h));
	nbufs = n->mrg ? h.num_buffers : 1;
	if (len < VNET_HDR_LEN || !nbufs || nbufs > n->rx_bufs)
		return -TG_EIO;
	if ((ret = vnet_rx_gather(n, i, len, nbufs, frame, cap, flen, &over)))
		return ret;
	n->st.rx_bufs += nbufs;
	if (nbufs > 1)
		n->st.rx_merged++;
	if (over || *flen < VNET_ETH_HLEN) {
		n->st.rx_dropped++;
		*flen = 0;
	}
	return 1;
}

int vnet_recv(struct vnet *n, void *frame, uint32_t cap)
{
	uint32_t len = 0;
	int ret;

	while ((ret = vnet_rx_frame(n, frame, cap, &len)) > 0) {
		if (!len)
			continue;
		n->st.rx_frames++;
		n->st.rx_bytes += len;
		return (int)len;
	}
	if (!ret && n->rx_unkicked) {
		/* Nothing more: the buffers given back so far go out now. */
		virtq_kick(&n->rx);
		n->rx_unkicked = 0;
	}
	return ret;
}

int vnet_tx_reap(struct vnet *n)
{
	void *cookie;
	uint32_t len;
	uintptr_t c;
	int ret;

	while ((ret = virtq_get(&n->tx, &cookie, &len)) > 0) {
		n->st.tx_done++;
		if (cookie == VNET_RAW_COOKIE) {
			if (!n->raw_inflight)
				return -TG_EIO;
			n->raw_inflight--;
			continue;
		}
		c = (uintptr_t)cookie;
		if (c < 1 || c > n->tx_slots || n->tx_nfree >= n->tx_slots)
			return -TG_EIO;
		n->tx_free[n->tx_nfree++] = (uint16_t)(c - 1);
	}
	return ret ? -TG_EIO : 0;
}

uint8_t *vnet_tx_buf(struct vnet *n)
{
	if (n->tx_cur < 0) {
		if (!n->tx_nfree && vnet_tx_reap(n))
			return NULL;
		if (!n->tx_nfree)
			return NULL;
		n->tx_cur = n->tx_free[--n->tx_nfree];
	}
	return vnet_slot(n, (unsigned)n->tx_cur) + VNET_HDR_LEN;
}

int vnet_tx_queue(struct vnet *n, uint32_t len)
{
	struct virtq_buf b;
	uint8_t *p;
	int ret;

	if (n->tx_cur < 0 || len < VNET_ETH_HLEN || len > n->tx_max)
		return -TG_EINVAL;
	p = vnet_slot(n, (unsigned)n->tx_cur);
	/* No offload asked: flags 0, GSO_NONE (5.1.6.2). */
	memset(p, 0, VNET_HDR_LEN);
	b = (struct virtq_buf){.addr = dma_pa(p), .len = VNET_HDR_LEN + len};
	ret = virtq_add(&n->tx, &b, 1, (void *)(uintptr_t)(n->tx_cur + 1));
	if (ret < 0)
		return ret; /* raw chains hold the descriptors: keep the slot */
	n->tx_cur = -1;
	n->st.tx_frames++;
	n->st.tx_bytes += len;
	if (++n->tx_unkicked >= VNET_TX_BATCH) {
		virtq_kick(&n->tx);
		n->tx_unkicked = 0;
	}
	return 0;
}

int vnet_send(struct vnet *n, const void *frame, uint32_t len)
{
	uint8_t *p;

	if (len < VNET_ETH_HLEN || len > n->tx_max)
		return -TG_EINVAL;
	p = vnet_tx_buf(n);
	if (!p)
		return -TG_ENOSPC;
	memcpy(p, frame, len);
	return vnet_tx_queue(n, len);
}

int vnet_tx_raw(struct vnet *n, const struct virtq_buf *bufs, unsigned nbufs)
{
	int ret = virtq_add(&n->tx, bufs, nbufs, VNET_RAW_COOKIE);

	if (ret < 0)
		return ret;
	n->raw_inflight++;
	n->st.tx_raw++;
	vnet_kick(n);
	return ret;
}

void vnet_kick(struct vnet *n)
{
	virtq_kick(&n->tx);
	virtq_kick(&n->rx);
	n->tx_unkicked = 0;
	n->rx_unkicked = 0;
}

int vnet_wait(struct vnet *n, unsigned what, uint64_t deadline)
{
	struct virtq *qs[2];
	unsigned k = 0;

	vnet_kick(n);
	if (what & VNET_WAIT_RX)
		qs[k++] = &n->rx;
	if (what & VNET_WAIT_TX)
		qs[k++] = &n->tx;
	if (!k)
		return -TG_EINVAL;
	return virtq_wait_any(qs, k, deadline);
}

int vnet_tx_flush(struct vnet *n, uint64_t deadline)
{
	int ret;

	vnet_kick(n);
	for (;;) {
		if ((ret = vnet_tx_reap(n)))
			return ret;
		if (!n->tx.inflight)
			return 0;
		if ((ret = vnet_wait(n, VNET_WAIT_TX, deadline)))
			return ret;
	}
}
