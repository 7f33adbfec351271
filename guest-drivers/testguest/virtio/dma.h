/*
 * dma.h: memory the virtio devices may see: a bump allocator over the free
 * RAM above the guest image (identity-mapped, so an address is also the
 * guest-physical address). Tests take a mark and give everything back.
 */
#ifndef TG_DMA_H
#define TG_DMA_H

#include <stddef.h>
#include <stdint.h>

/*
 * Zeroed memory of size bytes aligned to align (a power of two), or NULL
 * when RAM is exhausted. Never freed one by one: see dma_release().
 */
void *dma_alloc(size_t size, size_t align);

/* The current allocation point, to hand back to dma_release() later. */
uint64_t dma_mark(void);

/*
 * Frees everything allocated since mark. The caller must first reset any
 * device that was given that memory.
 */
void dma_release(uint64_t mark);

/* Bytes still free. */
uint64_t dma_free_bytes(void);

static inline uint64_t dma_pa(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity map below 3 GiB */
}

#endif
