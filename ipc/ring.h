/* ring.h: SPSC ring of 64-byte entries in shared memory. */
#ifndef ISOVM_IPC_RING_H
#define ISOVM_IPC_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc_entry.h"

#define IPC_CACHELINE 64
#define IPC_RING_MIN 2u
#define IPC_RING_MAX 65536u

/*
 * Shared ring header; the IPC_ENTRY_SIZE-byte slots follow it. Indices are
 * free-running uint32 counters (slot = index & (capacity - 1)) and each sits
 * on its own cache line so the two sides never write the same line.
 */
struct ipc_ring_hdr {
	/* producer writes (store-release), consumer reads (load-acquire) */
	alignas(IPC_CACHELINE) _Atomic uint32_t prod;
	/* consumer writes (store-release), producer reads (load-acquire) */
	alignas(IPC_CACHELINE) _Atomic uint32_t cons;
	/*
	 * consumer sets it before sleeping, producer clears it when it sends
	 * the wake-up (see notify.h)
	 */
	alignas(IPC_CACHELINE) _Atomic uint32_t need_wakeup;
};

/*
 * One side's private view of a ring. Only this side's own index and the last
 * validated copy of the peer's index live here; shared memory is only read
 * for the peer's index and only written for our own. One thread uses a
 * struct ipc_ring; the other side has its own, in its own process.
 */
struct ipc_ring {
	struct ipc_ring_hdr *hdr;
	unsigned char *slots;
	uint32_t cap;     /* entries, a power of two */
	uint32_t own;     /* our index (prod or cons), private master copy */
	uint32_t peer;    /* peer index as last read and validated */
	bool producer;
	bool broken;      /* corruption seen: every later call fails */
};

/* Bytes of shared memory a ring of @cap entries needs (header + slots). */
size_t ipc_ring_bytes(uint32_t cap);

/* True if @cap is a power of two in [IPC_RING_MIN, IPC_RING_MAX]. */
bool ipc_ring_cap_valid(uint32_t cap);

/*
 * Creator only (the VMM), before any peer sees @mem: an empty ring whose
 * indices both start at @start (tests use values near UINT32_MAX).
 */
void ipc_ring_format(void *mem, uint32_t start);

/*
 * Attach one side to a formatted ring at @mem (IPC_CACHELINE aligned) of
 * @cap entries. Reads both indices once and checks they describe at most
 * @cap entries. Returns 0, -EINVAL (bad cap/alignment) or -EPROTO.
 */
int ipc_ring_attach(struct ipc_ring *r, void *mem, uint32_t cap,
		    bool producer);

/*
 * Producer: copy up to @n entries (IPC_ENTRY_SIZE bytes each, contiguous at
 * @entries) into the ring and publish them. Returns how many were pushed
 * (0 when full) or -EPROTO when the consumer index is corrupt.
 */
int ipc_ring_push(struct ipc_ring *r, const void *entries, unsigned int n);

/*
 * Consumer: copy up to @max entries out of the ring into @entries and
 * release their slots. The caller validates its copies. Returns how many
 * were popped (0 when empty) or -EPROTO when the producer index is corrupt.
 */
int ipc_ring_pop(struct ipc_ring *r, void *entries, unsigned int max);

/* Consumer: entries waiting, reading the producer index afresh; or -EPROTO. */
int ipc_ring_pending(struct ipc_ring *r);

/* Producer: free slots, reading the consumer index afresh; or -EPROTO. */
int ipc_ring_space(struct ipc_ring *r);

#endif
