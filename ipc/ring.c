/* ring.c: SPSC push/pop over shared memory, validating peer indices. */
#include "ipc/ring.h"

#include <errno.h>
#include <string.h>

static_assert(sizeof(struct ipc_ring_hdr) == 3 * IPC_CACHELINE,
	      "ring header is three cache lines");

size_t ipc_ring_bytes(uint32_t cap)
{
	return sizeof(struct ipc_ring_hdr) + (size_t)cap * IPC_ENTRY_SIZE;
}

bool ipc_ring_cap_valid(uint32_t cap)
{
	return cap >= IPC_RING_MIN && cap <= IPC_RING_MAX &&
	       (cap & (cap - 1)) == 0;
}

void ipc_ring_format(void *mem, uint32_t start)
{
	struct ipc_ring_hdr *h = mem;

	/* No peer exists yet: the later handing over of the fd orders these. */
	atomic_store_explicit(&h->prod, start, memory_order_relaxed);
	atomic_store_explicit(&h->cons, start, memory_order_relaxed);
	atomic_store_explicit(&h->need_wakeup, 0, memory_order_relaxed);
}

static int ring_break(struct ipc_ring *r)
{
	r->broken = true;
	return -EPROTO;
}

int ipc_ring_attach(struct ipc_ring *r, void *mem, uint32_t cap,
		    bool producer)
{
	struct ipc_ring_hdr *h = mem;
	uint32_t p, c;

	memset(r, 0, sizeof(*r));
	if (!ipc_ring_cap_valid(cap) || ((uintptr_t)mem % IPC_CACHELINE))
		return -EINVAL;
	/* Acquire: pairs with the release stores in push/pop of a peer. */
	p = atomic_load_explicit(&h->prod, memory_order_acquire);
	c = atomic_load_explicit(&h->cons, memory_order_acquire);
	r->hdr = h;
	r->slots = (unsigned char *)mem + sizeof(*h);
	r->cap = cap;
	r->producer = producer;
	r->own = producer ? p : c;
	r->peer = producer ? c : p;
	if ((uint32_t)(p - c) > cap)
		return ring_break(r);
	return 0;
}

/*
 * Producer: re-read the consumer index. It may only have moved forward from
 * the last value we saw and never past our own producer index.
 */
static int ring_load_cons(struct ipc_ring *r)
{
	uint32_t c;

	/*
	 * Acquire pairs with the consumer's store-release of cons in
	 * ipc_ring_pop(): its copies out of the slots happen before we
	 * overwrite those slots.
	 */
	c = atomic_load_explicit(&r->hdr->cons, memory_order_acquire);
	if ((uint32_t)(c - r->peer) > (uint32_t)(r->own - r->peer))
		return ring_break(r);
	r->peer = c;
	return 0;
}

/*
 * Consumer: re-read the producer index. It may only have moved forward from
 * the last value we saw and never more than cap entries past our own index.
 */
static int ring_load_prod(struct ipc_ring *r)
{
	uint32_t p;

	/*
	 * Acquire pairs with the producer's store-release of prod in
	 * ipc_ring_push(): the slot contents are visible before the index.
	 */
	p = atomic_load_explicit(&r->hdr->prod, memory_order_acquire);
	if ((uint32_t)(p - r->peer) > (uint32_t)(r->own + r->cap - r->peer))
		return ring_break(r);
	r->peer = p;
	return 0;
}

int ipc_ring_space(struct ipc_ring *r)
{
	int ret;

	if (r->broken || !r->producer)
		return -EPROTO;
	ret = ring_load_cons(r);
	if (ret)
		return ret;
	return (int)(r->cap - (r->own - r->peer));
}

int ipc_ring_pending(struct ipc_ring *r)
{
	int ret;

	if (r->broken || r->producer)
		return -EPROTO;
	ret = ring_load_prod(r);
	if (ret)
		return ret;
	return (int)(r->peer - r->own);
}

int ipc_ring_push(struct ipc_ring *r, const void *entries, unsigned int n)
{
	const unsigned char *src = entries;
	uint32_t space, idx, first;
	int ret;

	if (r->broken || !r->producer)
		return -EPROTO;
	space = r->cap - (r->own - r->peer);
	if (space < n) {
		/* Only touch the consumer's cache line when we must. */
		ret = ring_load_cons(r);
		if (ret)
			return ret;
		space = r->cap - (r->own - r->peer);
	}
	if (n > space)
		n = space;
	if (!n)
		return 0;
	idx = r->own & (r->cap - 1);
	first = r->cap - idx < n ? r->cap - idx : n;
	memcpy(r->slots + (size_t)idx * IPC_ENTRY_SIZE, src,
	       (size_t)first * IPC_ENTRY_SIZE);
	memcpy(r->slots, src + (size_t)first * IPC_ENTRY_SIZE,
	       (size_t)(n - first) * IPC_ENTRY_SIZE);
	r->own += n;
	/*
	 * Release pairs with the consumer's load-acquire of prod in
	 * ring_load_prod(): the entries are written before they are visible.
	 */
	atomic_store_explicit(&r->hdr->prod, r->own, memory_order_release);
	return (int)n;
}

int ipc_ring_pop(struct ipc_ring *r, void *entries, unsigned int max)
{
	unsigned char *dst = entries;
	uint32_t avail, idx, first, n;
	int ret;

	if (r->broken || r->producer)
		return -EPROTO;
	avail = r->peer - r->own;
	if (avail < max) {
		ret = ring_load_prod(r);
		if (ret)
			return ret;
		avail = r->peer - r->own;
	}
	n = avail < max ? avail : max;
	if (!n)
		return 0;
	idx = r->own & (r->cap - 1);
	first = r->cap - idx < n ? r->cap - idx : n;
	memcpy(dst, r->slots + (size_t)idx * IPC_ENTRY_SIZE,
	       (size_t)first * IPC_ENTRY_SIZE);
	memcpy(dst + (size_t)first * IPC_ENTRY_SIZE, r->slots,
	       (size_t)(n - first) * IPC_ENTRY_SIZE);
	r->own += n;
	/*
	 * Release pairs with the producer's load-acquire of cons in
	 * ring_load_cons(): our copies are done before it reuses the slots.
	 */
	atomic_store_explicit(&r->hdr->cons, r->own, memory_order_release);
	return (int)n;
}
