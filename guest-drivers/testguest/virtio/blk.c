/* blk.c: virtio-blk requests: header, data segments, status, per slot. */
#include "boot/kernel.h"
#include "rt/io.h"
#include "rt/string.h"
#include "virtio/blk.h"
#include "virtio/dma.h"

#define VBLK_CFG_CAPACITY 0
#define VBLK_CFG_SIZE_MAX 8
#define VBLK_CFG_SEG_MAX  12
#define VBLK_CFG_BLK_SIZE 20
#define VBLK_BUFS_MAX	  (VIRTQ_INDIRECT_MAX + 2)

static void vblk_read_config(struct vblk *b)
{
	struct vmmio_dev *d = b->dev;

	b->capacity = vmmio_config64(d, VBLK_CFG_CAPACITY);
	if (vmmio_has(d, VBLK_F_SIZE_MAX))
		b->size_max = vmmio_config32(d, VBLK_CFG_SIZE_MAX);
	if (vmmio_has(d, VBLK_F_SEG_MAX))
		b->seg_max = vmmio_config32(d, VBLK_CFG_SEG_MAX);
	b->blk_size = VBLK_SECTOR;
	if (vmmio_has(d, VBLK_F_BLK_SIZE))
		b->blk_size = vmmio_config32(d, VBLK_CFG_BLK_SIZE);
	b->ro = vmmio_has(d, VBLK_F_RO);
}

int vblk_open(struct vblk *b, unsigned nth, unsigned qd)
{
	uint64_t want = (1ull << VIRTIO_F_EVENT_IDX) |
			(1ull << VIRTIO_F_INDIRECT_DESC) |
			(1ull << VBLK_F_SIZE_MAX) | (1ull << VBLK_F_SEG_MAX) |
			(1ull << VBLK_F_RO) | (1ull << VBLK_F_BLK_SIZE) |
			(1ull << VBLK_F_FLUSH) | (1ull << VBLK_F_DISCARD) |
			(1ull << VBLK_F_WRITE_ZEROES);
	unsigned i, slots;
	int ret;

	memset(b, 0, sizeof(*b));
	b->dev = vmmio_find(VIRTIO_ID_BLOCK, nth);
	if (!b->dev)
		return -TG_ENODEV;
	ret = vmmio_begin(b->dev);
	if (!ret)
		ret = vmmio_negotiate(b->dev, want);
	if (ret)
		goto err_reset;
	vblk_read_config(b);
	/* The whole queue: qd need not be a power of two. */
	ret = virtq_init(&b->q, b->dev, 0, VIRTQ_SIZE_MAX, VIRTQ_INDIRECT_MAX);
	if (ret)
		goto err_reset;
	/* Indirect: one descriptor per request; direct: at least three. */
	slots = b->q.indirect_max ? b->q.size : b->q.size / 3;
	b->nslots = qd < slots ? qd : slots;
	if (!b->nslots)
		b->nslots = 1;
	b->slots = dma_alloc(sizeof(*b->slots) * b->nslots, 64);
	ret = -TG_ENOSPC;
	if (!b->slots)
		goto err_reset;
	for (i = 0; i < b->nslots; i++)
		b->slot_free[b->nfree++] = (uint16_t)(b->nslots - 1 - i);
	ret = vmmio_driver_ok(b->dev);
	if (ret)
		goto err_reset;
	return 0;

err_reset:
	vmmio_stop(b->dev);
	return ret;
}

void vblk_close(struct vblk *b)
{
	if (b->dev)
		vmmio_stop(b->dev);
	b->dev = NULL;
}

/* Splits [buf, buf+len) into segments within size_max and seg_max. */
static int vblk_segments(const struct vblk *b, struct virtq_buf *bufs,
			 unsigned cap, uint8_t *buf, uint32_t len, bool write)
{
	uint32_t seg = b->size_max ? b->size_max : len;
	unsigned n = 0, limit = cap;

	if (b->seg_max && b->seg_max < limit)
		limit = b->seg_max;
	while (len) {
		uint32_t l = len < seg ? len : seg;

		if (n == limit)
			return -TG_EINVAL;
		bufs[n].addr = dma_pa(buf);
		bufs[n].len = l;
		bufs[n].write = write;
		n++;
		buf += l;
		len -= l;
	}
	return (int)n;
}

/* The data part of a request, by type; returns segments or -TG_EINVAL. */
static int vblk_data(const struct vblk *b, struct vblk_slot *s,
		     struct virtq_buf *bufs, unsigned cap, uint32_t type,
		     void *buf, uint32_t len)
{
	switch (type) {
	case VBLK_T_IN:
	case VBLK_T_OUT:
		if (!len || len % VBLK_SECTOR)
			return -TG_EINVAL;
		return vblk_segments(b, bufs, cap, buf, len, type == VBLK_T_IN);
	case VBLK_T_GET_ID:
		return vblk_segments(b, bufs, cap, buf, VBLK_ID_BYTES, true);
	case VBLK_T_FLUSH:
		return 0;
	case VBLK_T_DISCARD:
	case VBLK_T_WRITE_ZEROES:
		if (!len || len % VBLK_SECTOR)
			return -TG_EINVAL;
		s->range_sector = s->sector;
		s->range_sectors = len / VBLK_SECTOR;
		s->range_flags = 0;
		bufs[0].addr = dma_pa(&s->range_sector);
		bufs[0].len = 16;
		bufs[0].write = false;
		return 1;
	}
	return -TG_EINVAL;
}

int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
		uint32_t len, void *cookie)
{
	struct virtq_buf bufs[VBLK_BUFS_MAX];
	unsigned cap = b->q.indirect_max ? b->q.indirect_max : b->q.size;
	struct vblk_slot *s;
	uint16_t slot;
	int n, ret;

	if (!b->nfree)
		return -TG_ENOSPC;
	if (cap > VBLK_BUFS_MAX)
		cap = VBLK_BUFS_MAX;
	slot = b->slot_free[b->nfree - 1];
	s = &b->slots[slot];
	s->type = type;
	s->reserved = 0;
	s->sector = sector;
	s->status = 0xff; /* a device that never writes it is caught */
	bufs[0] = (struct virtq_buf){.addr = dma_pa(s), .len = 16};
	n = vblk_data(b, s, bufs + 1, cap - 2, type, buf, len);
	if (n < 0)
		return n;
	bufs[n + 1] = (struct virtq_buf){
		.addr = dma_pa(&s->status), .len = 1, .write = true};
	ret = virtq_add(&b->q, bufs, (unsigned)n + 2,
			(void *)(uintptr_t)(slot + 1));
	if (ret < 0)
		return ret;
	b->nfree--;
	b->cookie[slot] = cookie;
	b->submit_tsc[slot] = rdtsc();
	b->unkicked++;
	return slot;
}

int vblk_reap(struct vblk *b, void **cookie, uint8_t *status,
	      uint64_t *submit_tsc)
{
	void *qc;
	uint32_t len;
	uintptr_t slot;
	int ret = virtq_get(&b->q, &qc, &len);

	if (ret <= 0)
		return ret ? -TG_EIO : 0;
	slot = (uintptr_t)qc - 1;
	if (slot >= b->nslots || b->nfree >= b->nslots)
		return -TG_EIO;
	b->slot_free[b->nfree++] = (uint16_t)slot;
	*cookie = b->cookie[slot];
	*status = *(volatile uint8_t *)&b->slots[slot].status;
	*submit_tsc = b->submit_tsc[slot];
	return 1;
}

int vblk_sync(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
	      uint32_t len, uint64_t deadline)
{
	void *cookie;
	uint64_t t;
	uint8_t status;
	int ret = vblk_submit(b, type, sector, buf, len, NULL);

	if (ret < 0)
		return ret;
	vblk_kick(b);
	for (;;) {
		ret = vblk_reap(b, &cookie, &status, &t);
		if (ret < 0)
			return ret;
		if (ret)
			return status;
		if ((ret = vblk_wait(b, deadline)))
			return ret;
	}
}
