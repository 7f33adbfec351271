/* virtq.c: split virtqueue, driver side: add, kick, reap, wait. */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/string.h"
#include "rt/wait.h"
#include "virtio/dma.h"
#include "virtio/virtq.h"

/* Sleeps are re-armed this often: a lost edge costs a slice, not a hang. */
#define VIRTQ_SLEEP_SLICE_US 20000
/* Polling reads Status once per this many spins (a few ms). */
#define VIRTQ_POLL_STATUS_MASK 0xffffu

int virtq_init(struct virtq *q, struct vmmio_dev *d, unsigned index,
	       unsigned size_wanted, unsigned indirect_max)
{
	uint32_t max = vmmio_queue_max(d, index);
	uint32_t n = 1, i;
	int ret;

	memset(q, 0, sizeof(*q));
	if (size_wanted > VIRTQ_SIZE_MAX)
		size_wanted = VIRTQ_SIZE_MAX;
	if (size_wanted > max)
		size_wanted = max;
	while (n * 2 <= size_wanted)
		n *= 2;
	if (!size_wanted)
		return -TG_EINVAL;
	q->dev = d;
	q->index = index;
	q->size = (uint16_t)n;
	q->event_idx = vmmio_has(d, VIRTIO_F_EVENT_IDX);
	/* No chain may be longer than the queue, indirect ones included. */
	if (indirect_max > VIRTQ_INDIRECT_MAX)
		indirect_max = VIRTQ_INDIRECT_MAX;
	if (indirect_max > n)
		indirect_max = n;
	if (vmmio_has(d, VIRTIO_F_INDIRECT_DESC))
		q->indirect_max = indirect_max;
	/* Each ring on its own page: alignment beyond what 2.7 asks. */
	q->desc = dma_alloc(16 * n, 4096);
	q->avail = dma_alloc(6 + 2 * n, 4096);
	q->used = dma_alloc(6 + 8 * n, 4096);
	if (q->indirect_max)
		q->indirect = dma_alloc(16ull * n * q->indirect_max, 16);
	if (!q->desc || !q->avail || !q->used ||
	    (q->indirect_max && !q->indirect))
		return -TG_ENOSPC;
	q->used_event = &q->avail->ring[n];
	q->avail_event = (volatile uint16_t *)&q->used->ring[n];
	for (i = 0; i < n; i++)
		q->link[i] = (uint16_t)(i + 1);
	q->nfree = (uint16_t)n;
	if (d->poll) {
		/* No interrupts: the flag, or an event index just behind
		 * (crossed only after 65535 more entries). */
		q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
		*q->used_event = 0xffff;
	}
	ret = vmmio_queue_setup(d, index, n, dma_pa(q->desc), dma_pa(q->avail),
				dma_pa(q->used));
	return ret;
}

static void virtq_fill(struct virtq_desc *dd, const struct virtq_buf *b)
{
	dd->addr = b->addr;
	dd->len = b->len;
	dd->flags = b->write ? VIRTQ_DESC_F_WRITE : 0;
}

/* One main-ring descriptor pointing at this head's own indirect table. */
static uint16_t virtq_add_indirect(struct virtq *q, const struct virtq_buf *b,
				   unsigned n)
{
	uint16_t head = q->free_head;
	struct virtq_desc *t = &q->indirect[(size_t)head * q->indirect_max];
	unsigned i;

	for (i = 0; i < n; i++) {
		virtq_fill(&t[i], &b[i]);
		if (i + 1 < n) {
			t[i].flags |= VIRTQ_DESC_F_NEXT;
			t[i].next = (uint16_t)(i + 1);
		}
	}
	q->desc[head].addr = dma_pa(t);
	q->desc[head].len = 16 * n;
	q->desc[head].flags = VIRTQ_DESC_F_INDIRECT;
	q->free_head = q->link[head];
	q->nfree--;
	q->ndesc[head] = 1;
	return head;
}

static uint16_t virtq_add_direct(struct virtq *q, const struct virtq_buf *b,
				 unsigned n)
{
	uint16_t head = q->free_head, d = head;
	unsigned i;

	for (i = 0; i < n; i++) {
		virtq_fill(&q->desc[d], &b[i]);
		if (i + 1 < n) {
			q->desc[d].flags |= VIRTQ_DESC_F_NEXT;
			q->desc[d].next = q->link[d];
			d = q->link[d];
		}
	}
	/* The chain keeps its links in link[]; free ones follow it. */
	q->free_head = q->link[d];
	q->nfree = (uint16_t)(q->nfree - n);
	q->ndesc[head] = (uint16_t)n;
	return head;
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n,
	      void *cookie)
{
	bool indirect = q->indirect_max && n > 1 && n <= q->indirect_max;
	uint16_t head;

	if (!n || n > q->size)
		return -TG_EINVAL;
	if (q->nfree < (indirect ? 1 : n))
		return -TG_ENOSPC;
	head = indirect ? virtq_add_indirect(q, bufs, n)
			: virtq_add_direct(q, bufs, n);
	q->cookie[head] = cookie;
	q->busy[head] = true;
	q->inflight++;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	return head;
}

void virtq_kick(struct virtq *q)
{
	uint16_t old = q->kicked_idx, now = q->avail_idx;
	bool notify;

	if (old == now)
		return;
	/* Descriptors and ring entries before idx: pairs with the device's
	 * acquire of avail->idx. */
	__atomic_store_n(&q->avail->idx, now, __ATOMIC_RELEASE);
	/* idx store before the avail_event/flags load: the device stores
	 * avail_event then re-reads idx (store-load needs a full fence). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t ev = *q->avail_event;

		notify = (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	} else {
		notify = !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
			   VIRTQ_USED_F_NO_NOTIFY);
	}
	q->kicked_idx = now;
	if (notify) {
		vmmio_notify(q->dev, q->index);
		q->kicks++;
	}
}

bool virtq_pending(const struct virtq *q)
{
	/* Pairs with the device's release store of used->idx. */
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used;
}

static void virtq_free_chain(struct virtq *q, uint16_t head)
{
	uint16_t d = head, i;

	for (i = 1; i < q->ndesc[head]; i++)
		d = q->link[d];
	q->link[d] = q->free_head;
	q->free_head = head;
	q->nfree = (uint16_t)(q->nfree + q->ndesc[head]);
}

int virtq_get(struct virtq *q, void **cookie, uint32_t *len)
{
	uint16_t uidx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	struct virtq_used_elem e;

	if (uidx == q->last_used)
		return 0;
	if ((uint16_t)(uidx - q->last_used) > q->inflight)
		return -TG_EINVAL; /* more completions than requests */
	/* Copy the entry once; everything below uses the copy. */
	e.id = ((volatile struct virtq_used_elem *)
			q->used->ring)[q->last_used & (q->size - 1)]
		       .id;
	e.len = ((volatile struct virtq_used_elem *)
			 q->used->ring)[q->last_used & (q->size - 1)]
			.len;
	if (e.id >= q->size || !q->busy[e.id])
		return -TG_EINVAL;
	q->last_used++;
	q->busy[e.id] = false;
	q->inflight--;
	virtq_free_chain(q, (uint16_t)e.id);
	*cookie = q->cookie[e.id];
	*len = e.len;
	return 1;
}

static bool virtq_any_pending(struct virtq **qs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (virtq_pending(qs[i]))
			return true;
	return false;
}

/* Asks for an interrupt at the next used entry of every queue. */
static void virtq_arm(struct virtq **qs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (qs[i]->event_idx)
			*qs[i]->used_event = qs[i]->last_used;
		else
			qs[i]->avail->flags = 0;
	}
	/* used_event store before the used->idx re-check: pairs with the
	 * device's idx store then used_event load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* A device that gave up (NEEDS_RESET) will never complete anything. */
static bool virtq_dev_broken(const struct vmmio_dev *d)
{
	return vmmio_status(d) &
	       (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED);
}

int virtq_wait_any(struct virtq **qs, unsigned n, uint64_t deadline)
{
	struct vmmio_dev *d = qs[0]->dev;
	unsigned spins = 0;

	while (!virtq_any_pending(qs, n)) {
		uint64_t seen, slice;
		unsigned vec;

		if (d->poll || d->pin < 0) {
			cpu_relax();
			if (!(++spins & 255) && clock_expired(deadline))
				return -TG_ETIMEDOUT;
			/* Status costs an exit: look only now and then. */
			if (!(spins & VIRTQ_POLL_STATUS_MASK) &&
			    virtq_dev_broken(d))
				return -TG_EIO;
			continue;
		}
		vec = VEC_IRQ_BASE + (unsigned)d->pin;
		/* Ack first: a level line (QEMU) must drop to edge again. */
		vmmio_isr_ack(d);
		seen = irq_counts[vec];
		virtq_arm(qs, n);
		if (virtq_any_pending(qs, n))
			break;
		if (clock_expired(deadline))
			return -TG_ETIMEDOUT;
		slice = clock_deadline_us(VIRTQ_SLEEP_SLICE_US);
		qs[0]->irq_waits++;
		/* A whole slice without an interrupt: is the device alive? */
		if (wait_counter(&irq_counts[vec], seen,
				 slice < deadline ? slice : deadline) &&
		    virtq_dev_broken(d))
			return -TG_EIO;
	}
	return 0;
}

int virtq_wait(struct virtq *q, uint64_t deadline)
{
	return virtq_wait_any(&q, 1, deadline);
}
