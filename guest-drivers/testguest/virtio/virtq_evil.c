/*
 * virtq_evil.c: set up a queue correctly, then break exactly one rule; or
 * keep a queue full of requests the device refuses (spin).
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/string.h"
#include "virtio/blk.h"
#include "virtio/dma.h"
#include "virtio/virtq.h"
#include "virtio/virtq_evil.h"

#define EVIL_QSIZE	   8
#define EVIL_BAD_ADDR	   0x7f0000000000ull /* far above any guest RAM */
#define EVIL_SPIN_TYPE	   0x7fffu /* no virtio-blk request has this type */
#define EVIL_SPIN_DRAIN_US 2000000ull

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

/* One spinning request: header, then the status the device writes. */
struct evil_spin_req {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
	uint8_t status;
	uint8_t pad[15];
};

static struct evil_spin_req *evil_spin_reqs; /* evil_q.size, dma */
static uint8_t *evil_spin_data;		     /* what every segment names */
static uint16_t evil_spin_free[VIRTQ_SIZE_MAX];
static unsigned evil_spin_nfree, evil_spin_segs;

int virtq_evil_spin_init(struct virtq_evil_spin *s, struct vmmio_dev *d,
			 unsigned segs)
{
	uint64_t want =
		(1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_F_INDIRECT_DESC);
	unsigned i;
	int ret;

	memset(s, 0, sizeof(*s));
	if (d->device_id != VIRTIO_ID_BLOCK || segs > VIRTQ_INDIRECT_MAX - 2)
		return -TG_EINVAL;
	s->dev = d;
	if ((ret = vmmio_begin(d)) || (ret = vmmio_negotiate(d, want)))
		return ret;
	d->poll = true; /* the spinning CPU never sleeps */
	/* One ring entry per request when indirect: the whole queue. */
	if ((ret = virtq_init(&evil_q, d, 0, VIRTQ_SIZE_MAX, segs + 2)))
		return ret;
	if (!evil_q.indirect_max && segs + 2 > evil_q.size)
		return -TG_ENOSYS;
	evil_spin_segs = segs;
	evil_spin_reqs = dma_alloc(sizeof(*evil_spin_reqs) * evil_q.size, 64);
	evil_spin_data = dma_alloc(VBLK_SECTOR, VBLK_SECTOR);
	if (!evil_spin_reqs || !evil_spin_data)
		return -TG_ENOSPC;
	evil_spin_nfree = 0;
	for (i = 0; i < evil_q.size; i++)
		evil_spin_free[evil_spin_nfree++] = (uint16_t)i;
	return vmmio_driver_ok(d);
}

/* Takes every completed request back; <0 when the device broke a rule. */
static int evil_spin_reap(struct virtq_evil_spin *s)
{
	struct evil_spin_req *r;
	uint32_t len;
	void *c;
	int ret;

	while ((ret = virtq_get(&evil_q, &c, &len)) == 1) {
		r = c;
		s->served++;
		if (*(volatile uint8_t *)&r->status == VBLK_S_UNSUPP)
			s->unsupp++;
		evil_spin_free[evil_spin_nfree++] =
			(uint16_t)(r - evil_spin_reqs);
	}
	if (ret < 0)
		s->error = -TG_EIO;
	return ret;
}

/* Every free slot becomes a request again. */
static void evil_spin_fill(void)
{
	static struct virtq_buf b[VIRTQ_INDIRECT_MAX];
	unsigned n = evil_spin_segs + 2, i;
	struct evil_spin_req *r;
	uint16_t k;

	for (i = 1; i + 1 < n; i++)
		b[i] = (struct virtq_buf){.addr = dma_pa(evil_spin_data),
					  .len = VBLK_SECTOR};
	while (evil_spin_nfree) {
		k = evil_spin_free[evil_spin_nfree - 1];
		r = &evil_spin_reqs[k];
		r->type = EVIL_SPIN_TYPE;
		r->reserved = 0;
		r->sector = 0;
		r->status = 0xff;
		b[0] = (struct virtq_buf){.addr = dma_pa(r), .len = 16};
		b[n - 1] = (struct virtq_buf){
			.addr = dma_pa(&r->status), .len = 1, .write = true};
		if (virtq_add(&evil_q, b, n, r) < 0)
			return;
		evil_spin_nfree--;
	}
}

void virtq_evil_spin_run(struct virtq_evil_spin *s)
{
	uint64_t kicks = evil_q.kicks, deadline;

	__atomic_store_n(&s->active, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) && !s->error) {
		if (evil_spin_reap(s) < 0)
			break;
		evil_spin_fill();
		virtq_kick(&evil_q);
	}
	/* The next phase starts from an idle queue. */
	deadline = clock_deadline_us(EVIL_SPIN_DRAIN_US);
	while (evil_q.inflight && !s->error && !clock_expired(deadline)) {
		if (evil_spin_reap(s) < 0)
			break;
		cpu_relax();
	}
	s->kicks += evil_q.kicks - kicks;
	__atomic_store_n(&s->active, 0, __ATOMIC_RELEASE);
}
