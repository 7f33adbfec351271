/* virtq.c: split virtqueue walker, device side: pop, validate, push. */
#include <string.h>

#include "vcpu/virtio/virtq.h"

/*
 * Everything the guest can write is read through these: one load of each
 * value into a local, after which the guest can no longer influence it.
 */
static uint16_t virtq_load16(const uint8_t *p, int order)
{
	return __atomic_load_n((const uint16_t *)p, order);
}

static void virtq_desc_copy(struct virtq_desc *d, const uint8_t *table,
			    uint32_t idx)
{
	memcpy(d, table + (size_t)idx * sizeof(*d), sizeof(*d));
	/*
	 * The memory clobber forbids the compiler to re-load any field of *d
	 * from guest memory later: the checks below see the one copy.
	 */
	__asm__ __volatile__("" ::: "memory");
}

static const char *const virtq_err_names[] = {
	[VIRTQ_E_AVAIL_IDX - VIRTQ_E_AVAIL_IDX] =
		"more available buffers than queue size",
	[VIRTQ_E_HEAD_RANGE - VIRTQ_E_AVAIL_IDX] = "head index out of range",
	[VIRTQ_E_NEXT_RANGE - VIRTQ_E_AVAIL_IDX] = "next index out of range",
	[VIRTQ_E_LOOP - VIRTQ_E_AVAIL_IDX] = "chain longer than queue (loop)",
	[VIRTQ_E_INDIRECT_FEATURE - VIRTQ_E_AVAIL_IDX] =
		"indirect descriptor not negotiated",
	[VIRTQ_E_INDIRECT_LEN - VIRTQ_E_AVAIL_IDX] =
		"indirect table length zero or not a multiple of 16",
	[VIRTQ_E_INDIRECT_SIZE - VIRTQ_E_AVAIL_IDX] =
		"indirect table larger than queue",
	[VIRTQ_E_INDIRECT_NESTED - VIRTQ_E_AVAIL_IDX] =
		"nested indirect descriptor",
	[VIRTQ_E_INDIRECT_NEXT - VIRTQ_E_AVAIL_IDX] =
		"indirect descriptor with NEXT",
	[VIRTQ_E_ADDR - VIRTQ_E_AVAIL_IDX] = "buffer outside guest RAM",
	[VIRTQ_E_ORDER - VIRTQ_E_AVAIL_IDX] =
		"device-readable buffer after device-writable",
	[VIRTQ_E_TOTAL_LEN - VIRTQ_E_AVAIL_IDX] = "chain length above limit",
	[VIRTQ_E_TOO_MANY_SEGS - VIRTQ_E_AVAIL_IDX] =
		"more buffers than segment limit",
	[VIRTQ_E_NOT_READY - VIRTQ_E_AVAIL_IDX] = "queue not ready",
	[VIRTQ_E_SIZE - VIRTQ_E_AVAIL_IDX] = "queue size not a power of 2",
	[VIRTQ_E_RING_ALIGN - VIRTQ_E_AVAIL_IDX] = "ring misaligned",
	[VIRTQ_E_RING_ADDR - VIRTQ_E_AVAIL_IDX] = "ring outside guest RAM",
	[VIRTQ_E_USED_ID - VIRTQ_E_AVAIL_IDX] = "used id not in flight",
};

const char *virtq_err_str(int err)
{
	if (err < 0)
		err = -err;
	if (err < VIRTQ_E_AVAIL_IDX || err >= VIRTQ_E_MAX_)
		return "unknown virtqueue error";
	return virtq_err_names[err - VIRTQ_E_AVAIL_IDX];
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_setup(struct virtq *q, const struct guest_mem *mem, uint32_t size,
		gpa_t desc, gpa_t avail, gpa_t used, bool event_idx,
		bool indirect)
{
	void *d, *a, *u;

	virtq_reset(q);
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -VIRTQ_E_SIZE;
	if (desc % VIRTQ_DESC_ALIGN || avail % VIRTQ_AVAIL_ALIGN ||
	    used % VIRTQ_USED_ALIGN)
		return -VIRTQ_E_RING_ALIGN;
	d = guest_mem_ptr(mem, desc, VIRTQ_DESC_BYTES(size));
	a = guest_mem_ptr(mem, avail, VIRTQ_AVAIL_BYTES(size));
	u = guest_mem_ptr(mem, used, VIRTQ_USED_BYTES(size));
	if (!d || !a || !u)
		return -VIRTQ_E_RING_ADDR;
	/*
	 * The rings are accessed with 16- and 32-bit atomics: the host
	 * mapping must keep the guest's alignment (it does for page-aligned
	 * regions; a misplaced region must not turn into a misaligned access).
	 */
	if ((uintptr_t)a % VIRTQ_AVAIL_ALIGN || (uintptr_t)u % VIRTQ_USED_ALIGN)
		return -VIRTQ_E_RING_ALIGN;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->size = (uint16_t)size;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->ready = true;
	return 0;
}

/* Append one data descriptor (already copied) to the chain. */
static int virtq_add_seg(const struct guest_mem *mem,
			 struct virtq_chain *chain, const struct virtq_desc *d,
			 uint64_t *total)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	struct virtq_seg *seg;

	if (chain->nr_segs && chain->seg[chain->nr_segs - 1].write && !write)
		return -VIRTQ_E_ORDER;
	/* guest_mem_ptr() also refuses addr + len wrapping around. */
	if (!guest_mem_ptr(mem, d->addr, d->len))
		return -VIRTQ_E_ADDR;
	if (chain->nr_segs == VIRTQ_CHAIN_MAX_SEGS)
		return -VIRTQ_E_TOO_MANY_SEGS;
	/* Each len < 2^32 and at most 32768 of them: no 64-bit overflow. */
	*total += d->len;
	if (*total > VIRTQ_CHAIN_MAX_BYTES)
		return -VIRTQ_E_TOTAL_LEN;
	seg = &chain->seg[chain->nr_segs++];
	seg->gpa = d->addr;
	seg->len = d->len;
	seg->write = write;
	if (write)
		chain->writable_len += d->len;
	else
		chain->readable_len += d->len;
	return 0;
}

/*
 * Check an INDIRECT descriptor and find its table. The WRITE flag of such a
 * descriptor means nothing (the spec says to ignore it).
 */
static int virtq_indirect_table(const struct virtq *q,
				const struct guest_mem *mem,
				const struct virtq_desc *d, bool in_indirect,
				const uint8_t **table, uint32_t *entries)
{
	if (in_indirect)
		return -VIRTQ_E_INDIRECT_NESTED;
	if (!q->indirect)
		return -VIRTQ_E_INDIRECT_FEATURE;
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return -VIRTQ_E_INDIRECT_NEXT;
	if (d->len == 0 || d->len % sizeof(struct virtq_desc))
		return -VIRTQ_E_INDIRECT_LEN;
	if (d->len / sizeof(struct virtq_desc) > q->size)
		return -VIRTQ_E_INDIRECT_SIZE;
	*table = guest_mem_ptr(mem, d->addr, d->len);
	if (!*table)
		return -VIRTQ_E_ADDR;
	*entries = d->len / sizeof(struct virtq_desc);
	return 0;
}

/*
 * Follow the chain from 'head'. Data descriptors are counted across the
 * main table and the indirect one: more than the queue size means a loop
 * (or a chain the spec forbids anyway).
 */
static int virtq_walk(const struct virtq *q, const struct guest_mem *mem,
		      const uint8_t *table, uint16_t head,
		      struct virtq_chain *chain)
{
	uint32_t entries = q->size, idx = head, count = 0;
	bool in_indirect = false;
	uint64_t total = 0;
	struct virtq_desc d;
	int ret;

	chain->head = head;
	chain->nr_segs = 0;
	chain->readable_len = 0;
	chain->writable_len = 0;
	for (;;) {
		virtq_desc_copy(&d, table, idx);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			ret = virtq_indirect_table(q, mem, &d, in_indirect,
						   &table, &entries);
			if (ret)
				return ret;
			in_indirect = true;
			idx = 0;
			continue;
		}
		if (++count > q->size)
			return -VIRTQ_E_LOOP;
		ret = virtq_add_seg(mem, chain, &d, &total);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= entries)
			return -VIRTQ_E_NEXT_RANGE;
		idx = d.next;
	}
}

int virtq_pop(struct virtq *q, const struct guest_mem *mem,
	      struct virtq_chain *chain)
{
	const uint8_t *avail, *table;
	uint16_t avail_idx, head;
	int ret;

	if (!q->ready)
		return -VIRTQ_E_NOT_READY;
	avail = guest_mem_ptr(mem, q->avail, VIRTQ_AVAIL_BYTES(q->size));
	table = guest_mem_ptr(mem, q->desc, VIRTQ_DESC_BYTES(q->size));
	if (!avail || !table)
		return -VIRTQ_E_RING_ADDR;
	/* Acquire pairs with the driver's write barrier before avail->idx. */
	avail_idx = virtq_load16(avail + 2, __ATOMIC_ACQUIRE);
	if (avail_idx == q->last_avail_idx) {
		if (!q->event_idx)
			return 0;
		virtq_set_avail_event(q, mem, q->last_avail_idx);
		/*
		 * Full barrier: our avail_event store must be visible before
		 * we look at avail->idx again, or a buffer the driver adds
		 * meanwhile could be left without a notification. Pairs with
		 * the driver's barrier between its avail->idx store and its
		 * avail_event load.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = virtq_load16(avail + 2, __ATOMIC_ACQUIRE);
		if (avail_idx == q->last_avail_idx)
			return 0;
	}
	if ((uint16_t)(avail_idx - q->last_avail_idx) > q->size ||
	    q->inflight >= q->size)
		return -VIRTQ_E_AVAIL_IDX;
	head = virtq_load16(avail + 4 + 2 * (q->last_avail_idx & (q->size - 1)),
			    __ATOMIC_RELAXED);
	if (head >= q->size)
		return -VIRTQ_E_HEAD_RANGE;
	ret = virtq_walk(q, mem, table, head, chain);
	if (ret)
		return ret;
	q->last_avail_idx++;
	q->inflight++;
	return 1;
}

int virtq_push_n(struct virtq *q, const struct guest_mem *mem,
		 const uint16_t *head, const uint32_t *written, unsigned n)
{
	uint8_t *used;
	uint32_t *elem;

	if (!q->ready)
		return -VIRTQ_E_NOT_READY;
	if (n > q->inflight)
		return -VIRTQ_E_USED_ID;
	for (unsigned i = 0; i < n; i++)
		if (head[i] >= q->size)
			return -VIRTQ_E_USED_ID;
	used = guest_mem_ptr(mem, q->used, VIRTQ_USED_BYTES(q->size));
	if (!used)
		return -VIRTQ_E_RING_ADDR;
	for (unsigned i = 0; i < n; i++) {
		elem = (uint32_t *)(used + 4 +
				    8 * ((uint16_t)(q->used_idx + i) &
					 (q->size - 1)));
		__atomic_store_n(&elem[0], (uint32_t)head[i], __ATOMIC_RELAXED);
		__atomic_store_n(&elem[1], written[i], __ATOMIC_RELAXED);
	}
	q->used_idx += (uint16_t)n;
	q->inflight -= (uint16_t)n;
	/* Release pairs with the driver's read barrier after used->idx:
	 * the n elements become visible together. */
	__atomic_store_n((uint16_t *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
	return 0;
}

int virtq_push(struct virtq *q, const struct guest_mem *mem, uint16_t head,
	       uint32_t written)
{
	return virtq_push_n(q, mem, &head, &written, 1);
}

bool virtq_needs_interrupt(struct virtq *q, const struct guest_mem *mem)
{
	uint16_t old_idx = q->signalled_used, new_idx = q->used_idx;
	const uint8_t *avail;
	uint16_t v;

	if (!q->ready || old_idx == new_idx)
		return false;
	avail = guest_mem_ptr(mem, q->avail, VIRTQ_AVAIL_BYTES(q->size));
	if (!avail)
		return false;
	/*
	 * Full barrier: the used->idx store must be visible before we read
	 * the driver's used_event / flags. Pairs with the driver's barrier
	 * between writing used_event and re-reading used->idx.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->signalled_used = new_idx;
	if (q->event_idx) {
		v = virtq_load16(avail + 4 + 2 * (uint32_t)q->size,
				 __ATOMIC_RELAXED);
		return virtq_need_event(v, new_idx, old_idx);
	}
	v = virtq_load16(avail, __ATOMIC_RELAXED);
	return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void virtq_set_avail_event(struct virtq *q, const struct guest_mem *mem,
			   uint16_t idx)
{
	uint8_t *used;

	if (!q->ready || !q->event_idx)
		return;
	used = guest_mem_ptr(mem, q->used, VIRTQ_USED_BYTES(q->size));
	if (!used)
		return;
	__atomic_store_n((uint16_t *)(used + 4 + 8 * (uint32_t)q->size), idx,
			 __ATOMIC_RELAXED);
}

/* Walk the segments of one direction, copying in or out. */
static size_t virtq_chain_copy(const struct guest_mem *mem,
			       const struct virtq_chain *chain, bool write,
			       size_t off, uint8_t *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0;
	     i < chain->nr_segs && i < VIRTQ_CHAIN_MAX_SEGS && done < len;
	     i++) {
		const struct virtq_seg *seg = &chain->seg[i];
		size_t n;
		uint8_t *p;

		if (seg->write != write)
			continue;
		if (off >= seg->len) {
			off -= seg->len;
			continue;
		}
		n = seg->len - off;
		if (n > len - done)
			n = len - done;
		p = guest_mem_ptr(mem, seg->gpa + off, n);
		if (!p)
			break;
		if (write)
			memcpy(p, buf + done, n);
		else
			memcpy(buf + done, p, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtq_chain_read(const struct guest_mem *mem,
			const struct virtq_chain *chain, size_t off, void *dst,
			size_t len)
{
	return virtq_chain_copy(mem, chain, false, off, dst, len);
}

size_t virtq_chain_write(const struct guest_mem *mem,
			 const struct virtq_chain *chain, size_t off,
			 const void *src, size_t len)
{
	/* The copy helper only reads 'buf' in this direction. */
	return virtq_chain_copy(mem, chain, true, off, (uint8_t *)src, len);
}
