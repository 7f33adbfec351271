/*
 * guest_mem.h: guest RAM as seen by the VMM. The only way from a
 * guest-physical address to a host pointer is guest_mem_ptr().
 */
#ifndef ISOVM_GUEST_MEM_H
#define ISOVM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t gpa_t;

#define GUEST_MEM_MAX_REGIONS 4

struct guest_mem_region {
	gpa_t gpa;      /* first guest-physical byte */
	uint64_t size;  /* bytes */
	uint8_t *host;  /* where it is mapped in the VMM */
	uint64_t memfd_off; /* offset of the region in the backing memfd */
};

struct guest_mem {
	struct guest_mem_region region[GUEST_MEM_MAX_REGIONS];
	unsigned nr_regions;
	uint64_t ram_size; /* total RAM bytes */
	int memfd;         /* backing memfd, -1 when memory is not memfd-backed */
};

/*
 * Host pointer for [gpa, gpa + len), or NULL unless the whole range lies in
 * one RAM region (a range never straddles the 32-bit hole).
 */
void *guest_mem_ptr(const struct guest_mem *mem, gpa_t gpa, uint64_t len);

#endif
