/* front.c: the generic device front: virtqueue chains <-> data plane. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/arena.h"
#include "vcpu/front/front.h"
#include "vcpu/log.h"

static void front_pass(void *arg);

int front_init(struct front *f, const struct front_ops *ops, void *opaque,
	       struct virtio_mmio_dev *vdev, pthread_mutex_t *lock,
	       struct ipc_dp_vmm *dp, struct iothread *io, unsigned nr_queues,
	       unsigned max_chains)
{
	if (!ops || !ops->chain || !ops->done || !vdev || !lock || !dp || !io ||
	    !nr_queues || nr_queues > VIRTIO_MMIO_MAX_QUEUES || !max_chains)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	f->pool = calloc(max_chains, sizeof(*f->pool));
	if (!f->pool)
		return -ENOMEM;
	f->next_pass = iothread_soon_new(io, front_pass, f);
	if (!f->next_pass) {
		free(f->pool);
		f->pool = NULL;
		return -ENOMEM;
	}
	f->ops = ops;
	f->opaque = opaque;
	f->vdev = vdev;
	f->lock = lock;
	f->dp = dp;
	f->max_inflight = dp->sq.cap;
	f->nr_queues = nr_queues;
	f->max_chains = max_chains;
	/* Free list in pool order, so the first pop takes pool[0]. */
	for (unsigned i = max_chains; i-- > 0;) {
		f->pool[i].next = f->free;
		f->free = &f->pool[i];
	}
	return 0;
}

void front_fini(struct front *f)
{
	const struct front_stats *st = &f->st;

	if (f->pool)
		log_debug("%s front: chains=%llu requests=%llu stalls=%llu "
			  "orphans=%llu errors=%llu yields=%llu "
			  "longest_pass=%llu",
			  f->vdev->name, (unsigned long long)st->chains,
			  (unsigned long long)st->requests,
			  (unsigned long long)st->stalls,
			  (unsigned long long)st->orphans,
			  (unsigned long long)st->errors,
			  (unsigned long long)st->yields,
			  (unsigned long long)st->longest);
	iothread_soon_free(f->next_pass);
	f->next_pass = NULL;
	free(f->pool);
	f->pool = NULL;
	f->free = NULL;
}

static struct front_chain *front_chain_get(struct front *f)
{
	struct front_chain *c = f->free;

	if (!c)
		return NULL;
	f->free = c->next;
	c->next = NULL;
	c->busy = true;
	c->orphan = false;
	c->npending = 0;
	c->nstaged = 0;
	c->written = 0;
	memset(c->priv, 0, sizeof(c->priv));
	return c;
}

static void front_chain_put(struct front *f, struct front_chain *c)
{
	c->busy = false;
	c->next = f->free;
	f->free = c;
}

/* A cookie names a chain when it points at one of the pool's entries. */
static struct front_chain *front_cookie_chain(struct front *f, void *cookie)
{
	uintptr_t p = (uintptr_t)cookie, b = (uintptr_t)f->pool;

	if (p < b || p >= b + (uintptr_t)f->max_chains * sizeof(*f->pool))
		return NULL;
	if ((p - b) % sizeof(*f->pool))
		return NULL;
	return cookie;
}

static void front_unstage(struct front *f, struct front_chain *c)
{
	for (unsigned i = 0; i < c->nstaged; i++)
		if (c->staged[i].arena_len)
			ipc_arena_free(&f->dp->arena, c->staged[i].arena_off,
				       c->staged[i].arena_len);
	f->inflight -= c->nstaged;
	c->nstaged = 0;
}

/* Submit a prepared request; on failure its arena buffer is freed. */
static int front_submit(struct front *f, struct ipc_req *req, void *cookie)
{
	int ret = ipc_dp_vmm_submit(f->dp, req, cookie);

	if (ret) {
		if (req->arena_len)
			ipc_arena_free(&f->dp->arena, req->arena_off,
				       req->arena_len);
		f->inflight--;
		return ret;
	}
	f->st.requests++;
	f->want_kick = true;
	return 0;
}

/* A request's own fields, its buffer, and its place in the in-flight
 * count, which front_submit() or front_unstage() gives back on failure. */
static void front_req_fill(struct front *f, struct ipc_req *req, uint64_t off,
			   uint32_t arena_len)
{
	req->id = 0;
	req->flags = 0;
	req->reserved = 0;
	req->arena_off = off;
	req->arena_len = arena_len;
	f->inflight++;
}

int front_req(struct front *f, struct front_chain *c,
	      const struct ipc_req *tmpl, uint32_t arena_len, const void *src,
	      size_t copy_off, size_t copy_len, void *tag)
{
	struct ipc_req req = *tmpl;
	uint64_t off = 0;
	void *buf;
	int ret;

	if (copy_len > arena_len)
		return -EINVAL;
	if (f->failed)
		return -EIO;
	if (c && c->nstaged >= FRONT_CHAIN_MAX_REQS)
		return -ENOSPC;
	if (f->inflight >= f->max_inflight || f->dp->err)
		return -ENOSPC;
	if (arena_len) {
		ret = ipc_arena_alloc(&f->dp->arena, arena_len, &off);
		if (ret)
			return ret == -ENOSPC ? -ENOSPC : -EINVAL;
		buf = ipc_arena_span(&f->dp->arena, off, arena_len);
		if (src)
			memcpy(buf, src, copy_len);
		else if (c && virtq_chain_read(f->vdev->mem, &c->vc, copy_off,
					       buf, copy_len) != copy_len)
			goto err_free;
	}
	front_req_fill(f, &req, off, arena_len);
	if (c) {
		c->staged[c->nstaged++] = req;
		return 0;
	}
	return front_submit(f, &req, tag) ? -ENOSPC : 0;

err_free:
	ipc_arena_free(&f->dp->arena, off, arena_len);
	return -EINVAL;
}

int front_req_copy(struct front *f, const struct front_chain *c,
		   const struct ipc_req *tmpl, uint32_t arena_len,
		   const void *head, uint32_t head_len, size_t copy_off,
		   uint32_t copy_len, void *tag)
{
	struct ipc_req req = *tmpl;
	uint64_t off;
	uint8_t *buf;
	int ret;

	if (!arena_len || (uint64_t)head_len + copy_len > arena_len)
		return -EINVAL;
	if (f->failed)
		return -EIO;
	if (f->inflight >= f->max_inflight || f->dp->err)
		return -ENOSPC;
	ret = ipc_arena_alloc(&f->dp->arena, arena_len, &off);
	if (ret)
		return ret == -ENOSPC ? -ENOSPC : -EINVAL;
	buf = ipc_arena_span(&f->dp->arena, off, arena_len);
	memcpy(buf, head, head_len);
	if (virtq_chain_read(f->vdev->mem, &c->vc, copy_off, buf + head_len,
			     copy_len) != copy_len) {
		ipc_arena_free(&f->dp->arena, off, arena_len);
		return -EINVAL;
	}
	front_req_fill(f, &req, off, arena_len);
	return front_submit(f, &req, tag) ? -ENOSPC : 0;
}

void front_keep_buffer(struct front *f)
{
	f->keep = true;
}

void front_release(struct front *f, uint64_t off, uint32_t len)
{
	if (len)
		ipc_arena_free(&f->dp->arena, off, len);
}

void *front_buffer(struct front *f, uint64_t off, uint32_t len)
{
	return ipc_arena_span(&f->dp->arena, off, len);
}

size_t front_copy_out(struct front *f, struct front_chain *c, size_t off,
		      const void *buf, size_t len)
{
	if (c->orphan)
		return 0;
	return virtq_chain_write(f->vdev->mem, &c->vc, off, buf, len);
}

void front_kick(struct front *f)
{
	if (!f->want_kick)
		return;
	f->want_kick = false;
	ipc_dp_vmm_kick(f->dp);
}

/* Give a finished live chain back to the guest. */
static void front_chain_push(struct front *f, struct front_chain *c)
{
	uint32_t written = c->written;

	if (written > c->vc.writable_len)
		written = c->vc.writable_len;
	if (virtio_mmio_push(f->vdev, c->qi, c->vc.head, written) == 0) {
		f->st.chains++;
		f->want_signal |= 1u << c->qi;
	}
	front_chain_put(f, c);
}

/* One interrupt decision per queue and batch, not per chain. */
static void front_signal(struct front *f)
{
	for (unsigned qi = 0; f->want_signal; qi++) {
		if (f->want_signal & (1u << qi))
			virtio_mmio_signal_used(f->vdev, qi);
		f->want_signal &= ~(1u << qi);
	}
}

/*
 * Offer chain c to the device front. Returns 0 when it was taken (its
 * requests submitted, or pushed at once), -ENOSPC when it must wait, or
 * -EINVAL when it was refused (the device is NEEDS_RESET; c is freed).
 */
static int front_offer(struct front *f, struct front_chain *c)
{
	int ret = f->ops->chain(f, c);
	bool broken = false;

	if (ret) {
		front_unstage(f, c);
		if (ret == -ENOSPC)
			return -ENOSPC;
		if (virtio_mmio_running(f->vdev))
			virtio_mmio_fail(f->vdev, "%s: request refused (%d)",
					 f->vdev->name, ret);
		front_chain_put(f, c);
		return -EINVAL;
	}
	for (unsigned i = 0; i < c->nstaged; i++) {
		/* The stage was checked against the in-flight limit. */
		if (front_submit(f, &c->staged[i], c) == 0) {
			c->npending++;
			continue;
		}
		/* Ring broken: the requests already posted stay in flight
		 * for a restart; the rest is dropped from the stage. */
		for (unsigned j = i + 1; j < c->nstaged; j++) {
			if (c->staged[j].arena_len)
				ipc_arena_free(&f->dp->arena,
					       c->staged[j].arena_off,
					       c->staged[j].arena_len);
			f->inflight--;
		}
		broken = true;
		break;
	}
	c->nstaged = 0;
	/* Nothing went out: keep the chain for later, never push it as if
	 * the device had served it. */
	if (broken && !c->npending)
		return -ENOSPC;
	if (!c->npending) {
		if (f->ops->finish)
			f->ops->finish(f, c);
		front_chain_push(f, c);
	}
	return 0;
}

/*
 * Out of budget with queue qi not done: its next pass waits for the I/O
 * thread's next turn. False when that cannot be arranged: the pass goes
 * on now, since a guest waiting for an avail_event it already passed
 * would never kick again.
 */
static bool front_yield(struct front *f, unsigned qi)
{
	static bool warned;

	if (!f->pass_armed) {
		if (iothread_soon(f->next_pass)) {
			if (!warned)
				log_warn("%s: cannot defer a pass: out of "
					 "memory",
					 f->vdev->name);
			warned = true;
			return false;
		}
		f->pass_armed = true;
	}
	f->want_pass |= 1u << qi;
	f->st.yields++;
	return true;
}

/*
 * Pop and offer chains of queue qi until it is empty, room runs out, or
 * FRONT_BUDGET chains were taken.
 */
static void front_process(struct front *f, unsigned qi)
{
	unsigned budget = FRONT_BUDGET, taken = 0;
	struct front_chain *c;
	int ret;

	f->want_pass &= ~(1u << qi);
	if (f->own_queues & (1u << qi))
		return;
	while (virtio_mmio_running(f->vdev)) {
		if (!budget--) {
			if (front_yield(f, qi))
				return;
			budget = FRONT_BUDGET;
		}
		c = f->stalled[qi];
		if (c) {
			f->stalled[qi] = NULL;
		} else {
			if (!f->free || f->inflight >= f->max_inflight) {
				f->st.stalls++;
				return; /* resumed by front_reap() */
			}
			c = front_chain_get(f);
			ret = virtio_mmio_pop(f->vdev, qi, &c->vc);
			if (ret != 1) {
				front_chain_put(f, c);
				return;
			}
			c->qi = qi;
		}
		if (front_offer(f, c) == -ENOSPC) {
			f->stalled[qi] = c;
			f->st.stalls++;
			return;
		}
		if (++taken > f->st.longest)
			f->st.longest = taken;
	}
}

void front_notify(struct front *f, unsigned qi)
{
	if (qi >= f->nr_queues)
		return;
	front_process(f, qi);
	front_signal(f);
	front_kick(f);
}

/* I/O thread: the passes that ran out of budget go on. */
static void front_pass(void *arg)
{
	struct front *f = arg;
	uint32_t want;

	pthread_mutex_lock(f->lock);
	f->pass_armed = false;
	want = f->want_pass;
	for (unsigned qi = 0; qi < f->nr_queues; qi++)
		if (want & (1u << qi))
			front_process(f, qi);
	front_signal(f);
	front_kick(f);
	pthread_mutex_unlock(f->lock);
}

void front_reset(struct front *f)
{
	f->want_pass = 0; /* a pass armed already finds nothing */
	for (unsigned qi = 0; qi < VIRTIO_MMIO_MAX_QUEUES; qi++) {
		if (f->stalled[qi])
			front_chain_put(f, f->stalled[qi]);
		f->stalled[qi] = NULL;
	}
	/* Chains at the server are freed when their completions come. */
	for (unsigned i = 0; i < f->max_chains; i++) {
		if (f->pool[i].busy && !f->pool[i].orphan) {
			f->pool[i].orphan = true;
			f->st.orphans++;
		}
	}
	if (f->ops->reset)
		f->ops->reset(f);
	front_kick(f);
}

/* One completion: device op, arena back, chain pushed after its last. */
static void front_complete(struct front *f, const struct ipc_dp_done *d)
{
	struct front_chain *c = front_cookie_chain(f, d->cookie);
	const void *buf = NULL;

	if (d->req.arena_len)
		buf = ipc_arena_span(&f->dp->arena, d->req.arena_off, d->len);
	f->keep = false;
	f->ops->done(f, c, d, buf);
	if (d->req.arena_len && !f->keep)
		ipc_arena_free(&f->dp->arena, d->req.arena_off,
			       d->req.arena_len);
	f->inflight--;
	if (!c || --c->npending)
		return;
	if (c->orphan) {
		front_chain_put(f, c);
		return;
	}
	if (f->ops->finish)
		f->ops->finish(f, c);
	front_chain_push(f, c);
}

/* Retry stalled chains and pending notifies now that there is room. */
static void front_resume(struct front *f)
{
	for (unsigned qi = 0; qi < f->nr_queues; qi++)
		front_process(f, qi);
	if (f->ops->pump)
		f->ops->pump(f);
}

int front_reap(struct front *f)
{
	struct ipc_dp_done done[FRONT_REAP_BATCH];
	int n, total = 0, err = 0;

	pthread_mutex_lock(f->lock);
	ipc_notify_disarm(&f->dp->cq_wait);
	for (;;) {
		n = ipc_dp_vmm_reap(f->dp, done, FRONT_REAP_BATCH);
		if (n <= 0) {
			err = n;
			/* Arming looks once more: a completion pushed
			 * meanwhile is reaped now, not after a kick. */
			if (!n && ipc_notify_arm(&f->dp->cq_wait) > 0)
				continue;
			break;
		}
		for (int i = 0; i < n; i++)
			front_complete(f, &done[i]);
		total += n;
	}
	if (err < 0 && !f->dead) {
		f->dead = true;
		f->st.errors++;
	}
	if (total || f->ops->pump)
		front_resume(f);
	front_signal(f);
	front_kick(f);
	pthread_mutex_unlock(f->lock);
	return err < 0 ? err : total;
}

/* Requests salvaged per walk of the in-flight table (it must not change
 * during a walk: each batch is completed after it). */
#define FRONT_SALVAGE_BATCH 32

int front_salvage(struct front *f)
{
	struct ipc_cpl cpl[FRONT_SALVAGE_BATCH];
	struct ipc_dp_done d;
	struct ipc_req req;
	void *cookie;
	int total = 0;
	unsigned n;

	if (!f->ops->salvage)
		return 0;
	pthread_mutex_lock(f->lock);
	do {
		uint32_t pos = 0;

		n = 0;
		while (n < FRONT_SALVAGE_BATCH &&
		       ipc_inflight_next(&f->dp->inf, &pos, &req, &cookie)) {
			const void *buf = ipc_arena_span(
				&f->dp->arena, req.arena_off, req.arena_len);
			uint32_t len = 0;

			if (buf && f->ops->salvage(f, &req, cookie, buf, &len) &&
			    len <= req.arena_len)
				cpl[n++] = (struct ipc_cpl){.id = req.id,
							    .len = len};
		}
		for (unsigned i = 0; i < n; i++) {
			memset(&d, 0, sizeof(d));
			if (ipc_inflight_complete(&f->dp->inf, &cpl[i], &d.req,
						  &d.cookie))
				continue;
			d.len = cpl[i].len;
			front_complete(f, &d);
			total++;
		}
	} while (n == FRONT_SALVAGE_BATCH);
	front_signal(f);
	pthread_mutex_unlock(f->lock);
	return total;
}

void front_pump(struct front *f)
{
	pthread_mutex_lock(f->lock);
	if (f->ops->pump)
		f->ops->pump(f);
	front_kick(f);
	pthread_mutex_unlock(f->lock);
}

void front_restarted(struct front *f)
{
	pthread_mutex_lock(f->lock);
	f->dead = false;
	pthread_mutex_unlock(f->lock);
	front_reap(f);
}

void front_failed(struct front *f)
{
	pthread_mutex_lock(f->lock);
	f->failed = true;
	if (virtio_mmio_running(f->vdev))
		virtio_mmio_fail(f->vdev, "%s: its device server failed",
				 f->vdev->name);
	pthread_mutex_unlock(f->lock);
}
