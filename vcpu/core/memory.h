/* memory.h: guest RAM in one memfd, split around the 32-bit hole. */
#ifndef ISOVM_MEMORY_H
#define ISOVM_MEMORY_H

#include <stdint.h>

#include "vcpu/core/guest_mem.h"

/*
 * Pure layout: RAM from gpa 0 up to ISOVM_HOLE_START, the rest from
 * ISOVM_HOLE_END. Fills mem->region[] (host pointers NULL, memfd offsets
 * set), nr_regions and ram_size. ram_size must be a non-zero multiple of
 * 4 KiB. Returns 0 or -EINVAL.
 */
int memory_layout(struct guest_mem *mem, uint64_t ram_size);

/*
 * Creates the memfd, sizes it and maps it once (shared, no reserve); fills
 * every region's host pointer. The caller owns mem and frees it with
 * memory_destroy(). Returns 0 or -errno.
 */
int memory_create(struct guest_mem *mem, uint64_t ram_size);

/*
 * Gives all of guest RAM back as zero pages (a reboot); the mapping and
 * host pointers stay valid. Returns 0 or -errno.
 */
int memory_clear(struct guest_mem *mem);

/* Registers every region as a KVM memory slot (slot i = region i). */
int memory_register(const struct guest_mem *mem, int vm_fd);

/* Unmaps and closes; safe on a zeroed, failed or already destroyed mem. */
void memory_destroy(struct guest_mem *mem);

#endif
