/*
 * front.h: the generic device front: guest virtqueue chains <-> requests on
 * a device server's data plane (ipc/dataplane.h), VMM side.
 *
 * Flow: a queue notify pops validated chains (virtio_mmio_pop), the device
 * front's chain op turns each into one or more requests with front_req()
 * (arena space allocated, guest payload copied in), the front submits them
 * and kicks the server once per batch. Each completion goes to the done op
 * (which copies arena bytes back with front_copy_out()); after the last
 * request of a chain the front pushes it as used with c->written bytes and
 * signals the guest. When the arena, the ring or the chain pool is full,
 * popping stops and resumes after completions: no chain is lost. Nothing
 * on this path allocates: the chain pool is made once by front_init().
 *
 * Fairness: one pass over a queue takes at most FRONT_BUDGET chains. A
 * queue with more is taken up again on the I/O thread's next turn, after
 * the other events ready by then (other devices' kicks and completions,
 * UART output, a server's death), so a guest that refills a queue as fast
 * as the VMM empties it (requests the VMM answers itself never wait for a
 * server) slows its own device, not the I/O thread.
 *
 * Locking: one mutex (the transport's, given to front_init) guards the
 * transport, the front and the data plane. front_notify(), front_reset()
 * and front_req() run with it held (transport callbacks already hold it);
 * front_reap() and front_pump() take it themselves.
 */
#ifndef ISOVM_FRONT_H
#define ISOVM_FRONT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/dataplane.h"
#include "vcpu/core/iothread.h"
#include "vcpu/virtio/virtio_mmio.h"

#define FRONT_CHAIN_MAX_REQS 4 /* requests one chain may become */
#define FRONT_REAP_BATCH     32
/*
 * Chains one pass over a queue may take. A chain the VMM refuses itself
 * costs about 1-5 us (its walk, the status, the push), so a pass stays
 * well under a millisecond; a pass of real requests is bounded by the
 * ring and arena room anyway.
 */
#define FRONT_BUDGET 64

struct front;

/* A chain popped from the guest, in flight until pushed. */
struct front_chain {
	struct virtq_chain vc; /* the validated copy: never re-read guest */
	unsigned qi;	       /* queue it came from */
	uint32_t written;      /* used length to push: the device sets it */
	uint16_t npending;     /* requests still at the server */
	bool orphan;	       /* device reset since the pop: never pushed */
	bool busy;	       /* taken from the pool */
	uint64_t priv[8];      /* the device front's own per-chain data */
	/* Staged by front_req() until the chain op returns 0. */
	unsigned nstaged;
	struct ipc_req staged[FRONT_CHAIN_MAX_REQS];
	struct front_chain *next; /* free list / stalled list */
};

/*
 * What a device front (console, blk, ...) does. 'f->opaque' is its state.
 * All ops run with the lock held; none may block or allocate.
 */
struct front_ops {
	/*
	 * A chain popped from queue c->qi: describe it with front_req()
	 * calls (or none: the chain is then pushed at once with c->written).
	 * Return 0; -ENOSPC when a front_req() failed for lack of room, or
	 * the device front cannot serve the chain yet (the console: no room
	 * in its output pipe, no input): the front drops what was staged,
	 * keeps the chain (c->priv included) as its queue's stalled one and
	 * offers it again, first, after completions or at the next
	 * front_notify() of its queue; or -EINVAL when the chain breaks the
	 * device's rules (call virtio_mmio_fail() first: the device is then
	 * NEEDS_RESET).
	 */
	int (*chain)(struct front *f, struct front_chain *c);
	/*
	 * One completion. c is the chain of the request, or NULL for a
	 * request the device front posted on its own (d->cookie is then the
	 * tag it gave). 'buf' is the request's arena buffer holding d->len
	 * bytes the server wrote (copy them out now: the front frees the
	 * buffer after this returns). For an orphaned chain (c->orphan) only
	 * bookkeeping is allowed: the guest's buffers are gone.
	 */
	void (*done)(struct front *f, struct front_chain *c,
		     const struct ipc_dp_done *d, const void *buf);
	/* After the last completion of a live chain, before the push. May
	 * be NULL (write status bytes, set c->written). */
	void (*finish)(struct front *f, struct front_chain *c);
	/* The guest reset the device; every chain is already orphaned.
	 * May be NULL. */
	void (*reset)(struct front *f);
	/* Room came back (completions reaped): post the device's own
	 * requests that waited. May be NULL. */
	void (*pump)(struct front *f);
	/*
	 * The server died: did it finish request 'req' (cookie as posted)
	 * without completing it? 'buf' is its arena buffer (arena_len
	 * bytes, shared memory the dead server wrote: hostile). True with
	 * *len set (<= arena_len) to complete it now as if the server had;
	 * false to replay it. May be NULL (everything is replayed).
	 */
	bool (*salvage)(struct front *f, const struct ipc_req *req,
			void *cookie, const void *buf, uint32_t *len);
};

struct front_stats {
	uint64_t chains;   /* pushed as used */
	uint64_t requests; /* submitted */
	uint64_t stalls;   /* times popping stopped for lack of room */
	uint64_t orphans;  /* chains dropped by a device reset */
	uint64_t errors;   /* server protocol errors seen by front_reap */
	uint64_t yields;   /* passes the budget ended, the rest deferred */
	uint64_t longest;  /* most chains one pass took */
};

struct front {
	const struct front_ops *ops;
	void *opaque;
	struct virtio_mmio_dev *vdev; /* transport; not owned */
	pthread_mutex_t *lock;	      /* the transport's; not owned */
	struct ipc_dp_vmm *dp;	      /* the data plane; not owned */
	uint32_t max_inflight;	      /* dp's sq_entries */
	uint32_t inflight;	      /* requests submitted, not reaped */
	unsigned nr_queues;
	/* Queues the device front pops itself (virtio-net's RX): never
	 * popped here. Set after front_init(). */
	uint32_t own_queues;
	struct front_chain *pool; /* max_chains, made by front_init */
	unsigned max_chains;
	struct front_chain *free;
	/* A chain that did not fit, per queue: offered again first. */
	struct front_chain *stalled[VIRTIO_MMIO_MAX_QUEUES];
	bool want_kick;	      /* submitted since the last kick */
	uint32_t want_signal; /* queues pushed since the last signal */
	uint32_t want_pass;   /* queues whose pass ran out of budget */
	bool pass_armed;      /* next_pass will run */
	bool dead;	      /* the server broke the protocol (counted once) */
	bool keep;	      /* ops->done kept the arena buffer */
	bool failed;	      /* no server any more (front_failed) */
	/* Owned: runs the passes of want_pass on the I/O thread. */
	struct event *next_pass;
	struct front_stats st;
};

/*
 * Set up a front over transport 'vdev' (its queues 0..nr_queues-1) and
 * data plane 'dp', guarded by 'lock'; a pass cut short by the budget goes
 * on from I/O thread 'io' (running or not yet). Allocates the pool of
 * 'max_chains' chains (at least the sum of the queue sizes the device
 * offers, so that a full ring never stalls on the pool) and the event of
 * the next pass. Returns 0, -EINVAL or -ENOMEM.
 */
int front_init(struct front *f, const struct front_ops *ops, void *opaque,
	       struct virtio_mmio_dev *vdev, pthread_mutex_t *lock,
	       struct ipc_dp_vmm *dp, struct iothread *io, unsigned nr_queues,
	       unsigned max_chains);
/*
 * Lock not held: waits for a pass running on the I/O thread. Logs the
 * counters at debug level, one line: "NAME front: chains=N requests=N
 * stalls=N orphans=N errors=N yields=N longest_pass=N".
 */
void front_fini(struct front *f);

/*
 * Lock held (the transport's notify callback): process queue qi, at most
 * FRONT_BUDGET chains now and the rest from the I/O thread's next turn.
 */
void front_notify(struct front *f, unsigned qi);

/*
 * Lock held (the transport's reset callback, or the VM's reset hook):
 * orphan every chain in flight (their requests complete later and are
 * only freed), drop stalled chains, then call ops->reset.
 */
void front_reset(struct front *f);

/*
 * Lock NOT held (I/O thread, the data plane's cq eventfd): reap every
 * completion, hand each to ops->done, push finished chains, signal the
 * guest, retry stalled chains, call ops->pump, kick once. Returns the
 * number reaped, or a negative error of ipc_dp_vmm_reap(): the server
 * broke the protocol (the supervisor then kills it; chains stay).
 */
int front_reap(struct front *f);

/* Lock NOT held: run ops->pump and kick (new device-own work). */
void front_pump(struct front *f);

/*
 * Lock NOT held (I/O thread): a new server took over the data plane (the
 * requests in flight were posted again): forget the old one's protocol
 * error, arm the completion wake-up and go on as after completions.
 */
void front_restarted(struct front *f);

/*
 * Lock NOT held (I/O thread), once the dead server's completions were
 * reaped and before its requests in flight are posted again: completes
 * every one ops->salvage says it finished. Returns how many.
 */
int front_salvage(struct front *f);

/* Lock NOT held: the device's server is gone for good: NEEDS_RESET, and
 * from now on front_req() refuses (-EIO) instead of queueing requests
 * nobody will serve, also after the guest resets the device. */
void front_failed(struct front *f);

/*
 * Lock held, from ops->chain (c != NULL) or from the device front itself
 * (c == NULL, e.g. UART bytes; 'tag' then comes back as d->cookie).
 * Allocates arena_len bytes (none for 0), copies 'copy_len' bytes into it
 * from 'src' when src != NULL, otherwise from c's readable part at offset
 * 'copy_off'. op/flags/args are taken from 'tmpl'. For a chain the request
 * is staged and submitted after ops->chain returned 0; without one it is
 * submitted now. Returns 0, -ENOSPC (no arena, ring or stage room; nothing
 * kept), -EINVAL (copy_len > arena_len, or the chain has fewer bytes),
 * -EIO (the device's server is gone for good: front_failed()).
 */
int front_req(struct front *f, struct front_chain *c,
	      const struct ipc_req *tmpl, uint32_t arena_len, const void *src,
	      size_t copy_off, size_t copy_len, void *tag);

/*
 * Lock held, from ops->chain: a request of the device front's own (its
 * completion reaches ops->done with c == NULL and d->cookie == tag) whose
 * arena buffer of arena_len bytes holds 'head' (head_len bytes of a
 * private copy the front checked) followed by copy_len bytes of c's
 * readable part from copy_off. Submitted now; chain c is not tied to it,
 * so the chain op may let c go back to the guest at once (the bytes are
 * in the arena, replayed to a restarted server if need be). Returns 0,
 * -ENOSPC (no arena or ring room; nothing kept), -EINVAL (lengths), -EIO
 * (front_failed()).
 */
int front_req_copy(struct front *f, const struct front_chain *c,
		   const struct ipc_req *tmpl, uint32_t arena_len,
		   const void *head, uint32_t head_len, size_t copy_off,
		   uint32_t copy_len, void *tag);

/*
 * From ops->done: keep the completed request's arena buffer (e.g. a
 * received frame with nowhere to go yet) instead of letting the front free
 * it; give it back later with front_release(f, d->req.arena_off,
 * d->req.arena_len).
 */
void front_keep_buffer(struct front *f);
void front_release(struct front *f, uint64_t off, uint32_t len);

/* Lock held: the bytes of an arena buffer the front kept. */
void *front_buffer(struct front *f, uint64_t off, uint32_t len);

/*
 * From ops->done: copy 'len' bytes of 'buf' into c's writable part at
 * 'off'. Returns the bytes copied (fewer when the chain is shorter).
 */
size_t front_copy_out(struct front *f, struct front_chain *c, size_t off,
		      const void *buf, size_t len);

/* Kick the server if something was submitted since the last kick. */
void front_kick(struct front *f);

#endif
