/*
 * coalesce.h: guest port writes that KVM queues in a ring instead of
 * exiting (the UART's transmit register), replayed in order onto the port
 * bus. Every vCPU exit replays the ring first, so no device ever sees an
 * access before an earlier queued write; coalesce_poll.c replays it when
 * the guest makes no exits at all.
 */
#ifndef ISOVM_COALESCE_H
#define ISOVM_COALESCE_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/core/io_bus.h"

struct coalesce {
	pthread_mutex_t lock; /* one replayer at a time keeps the order */
	/* The VM's ring (in a vCPU mapping); NULL between boots. */
	_Atomic(struct kvm_coalesced_mmio_ring *) ring;
	uint32_t nr_entries;
	struct io_bus *pio;
	/* Set when a replay found writes: the poller should look soon. */
	atomic_bool busy;
	/* Statistics, under lock. */
	uint64_t replayed, by_poll, bad;
};

void coalesce_init(struct coalesce *c, struct io_bus *pio);
void coalesce_fini(struct coalesce *c);

/*
 * Starts replaying the ring of ring_bytes at ring (no vCPU running yet).
 * Returns false when the ring is too small to hold one entry.
 */
bool coalesce_attach(struct coalesce *c, void *ring, size_t ring_bytes);

/* Replays what is left, then forgets the ring (every vCPU stopped). */
void coalesce_detach(struct coalesce *c);

/*
 * vCPU threads (the ring's mapping is theirs): replays every queued write
 * in order and returns how many. Cheap when the ring is empty (two loads,
 * no lock).
 */
unsigned coalesce_replay(struct coalesce *c);

/* Any thread (takes the lock first); counted apart as the poller's. */
unsigned coalesce_replay_poll(struct coalesce *c);

/* Logs the counters at debug level. */
void coalesce_log_stats(struct coalesce *c);

#endif
