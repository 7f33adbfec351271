/* coalesce.c: replaying KVM's coalesced-write ring onto the port bus. */
#include <string.h>

#include "vcpu/core/coalesce.h"
#include "vcpu/log.h"

void coalesce_init(struct coalesce *c, struct io_bus *pio)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	atomic_store(&c->ring, NULL);
	c->pio = pio;
}

void coalesce_fini(struct coalesce *c)
{
	pthread_mutex_destroy(&c->lock);
}

bool coalesce_attach(struct coalesce *c, void *ring, size_t ring_bytes)
{
	size_t head = sizeof(struct kvm_coalesced_mmio_ring);

	if (ring_bytes < head + sizeof(struct kvm_coalesced_mmio))
		return false;
	pthread_mutex_lock(&c->lock);
	/* KVM's own bound: as many entries as fit the page after the head. */
	c->nr_entries =
		(uint32_t)((ring_bytes - head) / sizeof(struct kvm_coalesced_mmio));
	atomic_store(&c->ring, (struct kvm_coalesced_mmio_ring *)ring);
	pthread_mutex_unlock(&c->lock);
	return true;
}

/* Lock held. The entry is copied before it is looked at. */
static unsigned coalesce_replay_locked(struct coalesce *c,
				       struct kvm_coalesced_mmio_ring *r)
{
	struct kvm_coalesced_mmio e;
	uint32_t first, last;
	unsigned n = 0;

	for (;;) {
		first = __atomic_load_n(&r->first, __ATOMIC_RELAXED);
		last = __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);
		if (first == last)
			break;
		if (first >= c->nr_entries || last >= c->nr_entries) {
			/* Not KVM's ring any more: stop replaying it. */
			if (!c->bad++)
				log_error("coalesced ring: index %u/%u out of "
					  "range; port writes are dropped",
					  first, last);
			atomic_store(&c->ring, NULL);
			break;
		}
		memcpy(&e, &r->coalesced_mmio[first], sizeof(e));
		/* Hands the slot back: KVM may refill it from now on. */
		__atomic_store_n(&r->first, (first + 1) % c->nr_entries,
				 __ATOMIC_RELEASE);
		if (!e.pio || e.len == 0 || e.len > 4) {
			if (!c->bad++)
				log_error("coalesced ring: malformed entry "
					  "(pio %u, len %u) dropped",
					  e.pio, e.len);
			continue;
		}
		io_bus_access(c->pio, e.phys_addr, e.data, e.len, true);
		n++;
	}
	c->replayed += n;
	return n;
}

static unsigned coalesce_replay_common(struct coalesce *c, bool poll)
{
	struct kvm_coalesced_mmio_ring *r;
	unsigned n = 0;

	pthread_mutex_lock(&c->lock);
	r = atomic_load(&c->ring);
	if (r)
		n = coalesce_replay_locked(c, r);
	if (poll)
		c->by_poll += n;
	pthread_mutex_unlock(&c->lock);
	if (n)
		atomic_store(&c->busy, true);
	return n;
}

unsigned coalesce_replay(struct coalesce *c)
{
	struct kvm_coalesced_mmio_ring *r = atomic_load(&c->ring);

	/*
	 * vCPU threads only, so the mapping outlives this look without the
	 * lock (it goes after every vCPU is joined).
	 */
	if (!r || __atomic_load_n(&r->first, __ATOMIC_RELAXED) ==
			  __atomic_load_n(&r->last, __ATOMIC_RELAXED))
		return 0;
	return coalesce_replay_common(c, false);
}

unsigned coalesce_replay_poll(struct coalesce *c)
{
	return coalesce_replay_common(c, true);
}

void coalesce_detach(struct coalesce *c)
{
	coalesce_replay_common(c, false);
	pthread_mutex_lock(&c->lock);
	atomic_store(&c->ring, NULL);
	pthread_mutex_unlock(&c->lock);
}

void coalesce_log_stats(struct coalesce *c)
{
	pthread_mutex_lock(&c->lock);
	log_debug("coalesced port writes: %llu replayed, %llu by the poller, "
		  "%llu bad",
		  (unsigned long long)c->replayed,
		  (unsigned long long)c->by_poll, (unsigned long long)c->bad);
	pthread_mutex_unlock(&c->lock);
}
