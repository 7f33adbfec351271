/* arena.h: shared data arena: VMM slot allocation, checked spans. */
#ifndef ISOVM_IPC_ARENA_H
#define ISOVM_IPC_ARENA_H

#include <stdbool.h>
#include <stdint.h>

#define IPC_ARENA_SLOT_MIN 64u
#define IPC_ARENA_SLOT_MAX (1u << 20)
#define IPC_ARENA_MAX_SLOTS 65536u

/*
 * The arena is nslots slots of slot_size bytes. Only the VMM allocates: a
 * buffer is a run of contiguous slots, tracked in a private bitmap (never in
 * shared memory, so the server cannot corrupt it). The server only turns
 * (offset, length) pairs from requests into pointers with ipc_arena_span().
 */
struct ipc_arena {
	unsigned char *base;  /* shared mapping; not owned */
	uint64_t size;        /* slot_size * nslots */
	uint32_t slot_size;   /* power of two */
	uint32_t slot_shift;
	uint32_t nslots;
	uint32_t nfree;       /* allocator only */
	uint32_t hint;        /* allocator only: next slot to try first */
	uint64_t *bitmap;     /* allocator only: 1 = slot in use; else NULL */
};

/* True if the geometry is acceptable (power-of-two slot size, limits). */
bool ipc_arena_geom_valid(uint32_t slot_size, uint32_t nslots);

/*
 * Set up a view of the arena at @base. With @allocator (the VMM) the bitmap
 * is allocated here, once; the ring path never allocates. Returns 0,
 * -EINVAL or -ENOMEM. ipc_arena_fini() frees the bitmap.
 */
int ipc_arena_init(struct ipc_arena *a, void *base, uint32_t slot_size,
		   uint32_t nslots, bool allocator);
void ipc_arena_fini(struct ipc_arena *a);

/*
 * VMM: reserve a contiguous buffer of at least @len bytes (len >= 1).
 * Stores its offset in *@off. Returns 0, -EINVAL (len 0, larger than the
 * arena, or not an allocator) or -ENOSPC.
 */
int ipc_arena_alloc(struct ipc_arena *a, uint64_t len, uint64_t *off);

/*
 * VMM: release a buffer returned by ipc_arena_alloc() with the same @len.
 * Returns 0, or -EINVAL when the range is outside the arena, not slot
 * aligned or has a slot that is not allocated (double free); the bitmap
 * is then left unchanged.
 */
int ipc_arena_free(struct ipc_arena *a, uint64_t off, uint64_t len);

/*
 * Both sides: pointer to [off, off + len) in the arena, or NULL when any
 * byte of it lies outside (the check cannot overflow). len 0 is allowed
 * for off <= size.
 */
void *ipc_arena_span(const struct ipc_arena *a, uint64_t off, uint64_t len);

#endif
