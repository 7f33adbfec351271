/* dma.c: a bump allocator over the RAM the guest image does not use. */
#include "guest-drivers/abi/isovm_abi.h"
#include "rt/bootinfo.h"
#include "rt/string.h"
#include "virtio/dma.h"

extern char __image_end[];

/* Next free byte and end of the arena (0 until first use). */
static uint64_t dma_next, dma_end;

/* The RAM entry holding the image bounds the arena; only < 3 GiB is mapped. */
static void dma_init(void)
{
	uint64_t start = ((uint64_t)(uintptr_t)__image_end + 0xfff) & ~0xfffull;
	uint32_t i;

	dma_end = start;
	for (i = 0; i < bootinfo.memmap_entries; i++) {
		const struct hvm_memmap_table_entry *e = &bootinfo.memmap[i];
		uint64_t end;

		if (e->type != HVM_MEMMAP_TYPE_RAM || e->addr > start ||
		    e->size > UINT64_MAX - e->addr)
			continue;
		end = e->addr + e->size;
		if (end > ISOVM_HOLE_START)
			end = ISOVM_HOLE_START;
		if (end > dma_end)
			dma_end = end;
	}
	dma_next = start;
}

void *dma_alloc(size_t size, size_t align)
{
	uint64_t at;

	if (!dma_next)
		dma_init();
	if (!align || (align & (align - 1)))
		return NULL;
	at = (dma_next + align - 1) & ~(uint64_t)(align - 1);
	if (at < dma_next || at > dma_end || size > dma_end - at)
		return NULL;
	dma_next = at + size;
	memset((void *)(uintptr_t)at, 0, size);
	return (void *)(uintptr_t)at;
}

uint64_t dma_mark(void)
{
	if (!dma_next)
		dma_init();
	return dma_next;
}

void dma_release(uint64_t mark)
{
	if (mark && mark <= dma_next)
		dma_next = mark;
}

uint64_t dma_free_bytes(void)
{
	if (!dma_next)
		dma_init();
	return dma_end - dma_next;
}
