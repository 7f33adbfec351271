/* virtq_evil.c: set up a queue correctly, then break exactly one rule. */
#include "boot/kernel.h"
#include "rt/string.h"
#include "virtio/dma.h"
#include "virtio/virtq.h"
#include "virtio/virtq_evil.h"

#define EVIL_QSIZE    8
#define EVIL_BAD_ADDR 0x7f0000000000ull /* far above any guest RAM */

static const char *const evil_rules[] = {
	"loop",	 "index",	 "addr", "overflow", "nested-indirect",
	"qsize", "early-notify",
};

static struct virtq evil_q;

int virtq_evil_known(const char *rule)
{
	unsigned i;

	for (i = 0; i < sizeof(evil_rules) / sizeof(evil_rules[0]); i++)
		if (!strcmp(rule, evil_rules[i]))
			return 1;
	return 0;
}

/*
 * The queue the device consumes without waiting for host input: a
 * console's transmitq (its receiveq is only read when data arrives),
 * queue 0 of anything else.
 */
static unsigned evil_queue(const struct vmmio_dev *d)
{
	return d->device_id == VIRTIO_ID_CONSOLE ? 1 : 0;
}

/* QueueNum 3 with valid rings, then QueueReady: only the size is wrong. */
static int evil_qsize(struct vmmio_dev *d, unsigned qi)
{
	void *desc = dma_alloc(4096, 4096), *avail = dma_alloc(4096, 4096);
	void *used = dma_alloc(4096, 4096);

	if (!desc || !avail || !used)
		return -TG_ENOSPC;
	if (vmmio_queue_max(d, qi) < 4)
		return -TG_ENOSYS;
	vmmio_write(d, VMMIO_QUEUE_NUM, 3);
	vmmio_write(d, VMMIO_QUEUE_DESC_LOW, (uint32_t)dma_pa(desc));
	vmmio_write(d, VMMIO_QUEUE_DESC_HIGH, 0);
	vmmio_write(d, VMMIO_QUEUE_DRIVER_LOW, (uint32_t)dma_pa(avail));
	vmmio_write(d, VMMIO_QUEUE_DRIVER_HIGH, 0);
	vmmio_write(d, VMMIO_QUEUE_DEVICE_LOW, (uint32_t)dma_pa(used));
	vmmio_write(d, VMMIO_QUEUE_DEVICE_HIGH, 0);
	vmmio_write(d, VMMIO_QUEUE_READY, 1);
	return 0;
}

/* Writes the bad chain at head 0 (or a bad head) for the ring rules. */
static int evil_chain(struct virtq *q, const char *rule, uint8_t *buf)
{
	struct virtq_desc *t;
	uint16_t head = 0;

	q->desc[0] = (struct virtq_desc){.addr = dma_pa(buf), .len = 64};
	if (!strcmp(rule, "loop")) {
		q->desc[0].flags = VIRTQ_DESC_F_NEXT;
		q->desc[0].next = 1;
		q->desc[1] = (struct virtq_desc){.addr = dma_pa(buf + 64),
						 .len = 64,
						 .flags = VIRTQ_DESC_F_NEXT,
						 .next = 0};
	} else if (!strcmp(rule, "index")) {
		head = (uint16_t)(q->size + 3);
	} else if (!strcmp(rule, "addr")) {
		q->desc[0].addr = EVIL_BAD_ADDR;
	} else if (!strcmp(rule, "overflow")) {
		q->desc[0].addr = 0xfffffffffffff000ull;
		q->desc[0].len = 0x2000;
	} else if (!strcmp(rule, "nested-indirect")) {
		if (!q->indirect_max)
			return -TG_ENOSYS;
		/* Slot 0's table holds one INDIRECT entry naming slot 1's. */
		t = q->indirect;
		t[0] = (struct virtq_desc){.addr = dma_pa(t + q->indirect_max),
					   .len = 16,
					   .flags = VIRTQ_DESC_F_INDIRECT};
		t[q->indirect_max] =
			(struct virtq_desc){.addr = dma_pa(buf), .len = 64};
		q->desc[0] =
			(struct virtq_desc){.addr = dma_pa(t),
					    .len = 16,
					    .flags = VIRTQ_DESC_F_INDIRECT};
	}
	q->avail->ring[0] = head;
	q->avail_idx = 1;
	return 0;
}

int virtq_evil_break(struct vmmio_dev *d, const char *rule)
{
	uint64_t want = 1ull << VIRTIO_F_INDIRECT_DESC;
	unsigned qi = evil_queue(d);
	uint8_t *buf;
	int ret;

	if (!virtq_evil_known(rule))
		return -TG_EINVAL;
	if ((ret = vmmio_begin(d)) || (ret = vmmio_negotiate(d, want)))
		return ret;
	d->poll = true; /* no interrupt routing: only Status is looked at */
	if (!strcmp(rule, "qsize"))
		return evil_qsize(d, qi);
	buf = dma_alloc(4096, 4096);
	if (!buf)
		return -TG_ENOSPC;
	if ((ret = virtq_init(&evil_q, d, qi, EVIL_QSIZE, 2)))
		return ret;
	if (!strcmp(rule, "early-notify")) {
		vmmio_notify(d, qi);
		return 0;
	}
	if ((ret = vmmio_driver_ok(d)))
		return ret;
	if ((ret = evil_chain(&evil_q, rule, buf)))
		return ret;
	/* Publish and notify unconditionally: the device must look at it. */
	__atomic_store_n(&evil_q.avail->idx, evil_q.avail_idx,
			 __ATOMIC_RELEASE);
	vmmio_notify(d, qi);
	return 0;
}
