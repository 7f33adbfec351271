/* console.c: virtio-console port 0: posted receive buffers, batched sends. */
#include "boot/kernel.h"
#include "rt/string.h"
#include "virtio/console.h"
#include "virtio/dma.h"

#define VCON_F_MULTIPORT 1 /* never negotiated: port 0 is the console */

static int vcon_post_rx(struct vcon *c, unsigned i)
{
	struct virtq_buf b = {
		.addr = dma_pa(c->rxbuf + (size_t)i * VCON_RX_SIZE),
		.len = VCON_RX_SIZE,
		.write = true,
	};
	int ret = virtq_add(&c->rx, &b, 1, (void *)(uintptr_t)(i + 1));

	return ret < 0 ? ret : 0;
}

int vcon_open(struct vcon *c, unsigned nth)
{
	uint64_t want =
		(1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_F_INDIRECT_DESC);
	unsigned i;
	int ret;

	memset(c, 0, sizeof(*c));
	c->cur = -1;
	c->dev = vmmio_find(VIRTIO_ID_CONSOLE, nth);
	if (!c->dev)
		return -TG_ENODEV;
	ret = vmmio_begin(c->dev);
	if (!ret)
		ret = vmmio_negotiate(c->dev, want);
	if (!ret)
		ret = virtq_init(&c->rx, c->dev, 0, VCON_RX_BUFS, 0);
	if (!ret)
		ret = virtq_init(&c->tx, c->dev, 1, VCON_TX_SLOTS, 0);
	if (ret)
		goto err_reset;
	c->rxbuf = dma_alloc((size_t)VCON_RX_BUFS * VCON_RX_SIZE, 4096);
	c->txbuf = dma_alloc((size_t)VCON_TX_SLOTS * VCON_TX_SIZE, 4096);
	ret = -TG_ENOSPC;
	if (!c->rxbuf || !c->txbuf)
		goto err_reset;
	for (i = 0; i < VCON_TX_SLOTS && i < c->tx.size; i++)
		c->tx_free[c->tx_nfree++] = (uint8_t)i;
	for (i = 0; i < VCON_RX_BUFS && i < c->rx.size; i++)
		if ((ret = vcon_post_rx(c, i)))
			goto err_reset;
	ret = vmmio_driver_ok(c->dev);
	if (ret)
		goto err_reset;
	virtq_kick(&c->rx);
	return 0;

err_reset:
	vmmio_stop(c->dev);
	return ret;
}

void vcon_close(struct vcon *c)
{
	if (c->dev)
		vmmio_stop(c->dev);
	c->dev = NULL;
}

/* Takes the next filled receive buffer into cur; 1, 0 (none) or -errno. */
static int vcon_take_rx(struct vcon *c)
{
	void *cookie;
	uint32_t len;
	uintptr_t i;
	int ret = virtq_get(&c->rx, &cookie, &len);

	if (ret <= 0)
		return ret ? -TG_EIO : 0;
	i = (uintptr_t)cookie;
	if (i < 1 || i > VCON_RX_BUFS)
		return -TG_EIO;
	c->cur = (int)(i - 1);
	c->cur_len = len > VCON_RX_SIZE ? VCON_RX_SIZE : len;
	c->cur_off = 0;
	return 1;
}

int vcon_read(struct vcon *c, void *buf, size_t max, uint64_t deadline)
{
	size_t n;
	int ret;

	while (c->cur < 0 || c->cur_off >= c->cur_len) {
		if (c->cur >= 0) {
			/* Used up: give it back to the device at once. */
			if ((ret = vcon_post_rx(c, (unsigned)c->cur)))
				return ret;
			virtq_kick(&c->rx);
			c->cur = -1;
		}
		ret = vcon_take_rx(c);
		if (ret < 0)
			return ret;
		if (!ret && (ret = virtq_wait(&c->rx, deadline)))
			return ret;
	}
	n = c->cur_len - c->cur_off;
	if (n > max)
		n = max;
	memcpy(buf, c->rxbuf + (size_t)c->cur * VCON_RX_SIZE + c->cur_off, n);
	c->cur_off += (uint32_t)n;
	return (int)n;
}

/* Returns finished transmit slots to the free stack. */
static int vcon_reap_tx(struct vcon *c)
{
	void *cookie;
	uint32_t len;
	uintptr_t i;
	int ret;

	while ((ret = virtq_get(&c->tx, &cookie, &len)) > 0) {
		i = (uintptr_t)cookie;
		if (i < 1 || i > VCON_TX_SLOTS || c->tx_nfree >= VCON_TX_SLOTS)
			return -TG_EIO;
		c->tx_free[c->tx_nfree++] = (uint8_t)(i - 1);
	}
	return ret ? -TG_EIO : 0;
}

static int vcon_send_slot(struct vcon *c, const uint8_t *p, size_t n)
{
	unsigned slot = c->tx_free[--c->tx_nfree];
	uint8_t *dst = c->txbuf + (size_t)slot * VCON_TX_SIZE;
	struct virtq_buf b = {.addr = dma_pa(dst), .len = (uint32_t)n};
	int ret;

	memcpy(dst, p, n);
	ret = virtq_add(&c->tx, &b, 1, (void *)(uintptr_t)(slot + 1));
	if (ret < 0) {
		c->tx_nfree++;
		return ret;
	}
	if (++c->tx_unkicked >= VCON_TX_BATCH) {
		virtq_kick(&c->tx);
		c->tx_unkicked = 0;
	}
	return 0;
}

int vcon_write(struct vcon *c, const void *buf, size_t len, uint64_t deadline)
{
	const uint8_t *p = buf;
	int ret;

	while (len) {
		size_t n = len < VCON_TX_SIZE ? len : VCON_TX_SIZE;

		if ((ret = vcon_reap_tx(c)))
			return ret;
		if (!c->tx_nfree) {
			/* All slots in flight: make sure the device knows. */
			virtq_kick(&c->tx);
			c->tx_unkicked = 0;
			if ((ret = virtq_wait(&c->tx, deadline)))
				return ret;
			continue;
		}
		if ((ret = vcon_send_slot(c, p, n)))
			return ret;
		p += n;
		len -= n;
	}
	return 0;
}

int vcon_flush(struct vcon *c, uint64_t deadline)
{
	int ret;

	virtq_kick(&c->tx);
	c->tx_unkicked = 0;
	for (;;) {
		if ((ret = vcon_reap_tx(c)))
			return ret;
		if (!c->tx.inflight)
			return 0;
		if ((ret = virtq_wait(&c->tx, deadline)))
			return ret;
	}
}
