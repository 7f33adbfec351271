/*
 * guest_virtq_shim.h: the test guest's virtqueue driver
 * (guest-drivers/testguest/virtio/virtq.c) built for the host, behind
 * plain-typed gq_* calls: its struct virtq cannot share a file with the
 * VMM's. Guest addresses are host addresses inside one arena.
 */
#ifndef GUEST_VIRTQ_SHIM_H
#define GUEST_VIRTQ_SHIM_H

#include <stdbool.h>
#include <stdint.h>

/* The arena dma_alloc() carves from: map it 1:1 as guest RAM. */
void gq_arena(uint8_t **base, uint64_t *size);

/*
 * Resets the arena and sets up one driver queue (QueueNumMax qmax, the
 * features given, polling or interrupt mode). Returns virtq_init()'s value.
 */
int gq_new(uint32_t qmax, unsigned size, bool event_idx, bool indirect,
	   bool poll);

/* What the driver programmed into the (fake) transport. */
void gq_rings(uint64_t *desc, uint64_t *avail, uint64_t *used, uint32_t *num);

/* virtq_add() of n buffers (addr, len, device-writable). */
int gq_add(const uint64_t *addr, const uint32_t *len, const bool *write,
	   unsigned n, uintptr_t cookie);
void gq_kick(void);
int gq_get(uintptr_t *cookie, uint32_t *len);
unsigned gq_nfree(void);
unsigned gq_notifies(void);
unsigned gq_indirect_max(void);

/* What the device's Status register reads from now on. */
void gq_set_status(uint32_t status);

/*
 * virtq_wait() with a deadline that is already due after the first sleep;
 * device_cb (may be NULL) runs inside each sleep, as the device would.
 */
int gq_wait(void (*device_cb)(void));

#endif
