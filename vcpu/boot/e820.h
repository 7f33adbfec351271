/*
 * e820.h: the guest's physical memory map, derived from struct guest_mem,
 * in the form both boot protocols hand to the guest.
 */
#ifndef ISOVM_E820_H
#define ISOVM_E820_H

#include <stdint.h>

#include "vcpu/core/guest_mem.h"

#define E820_RAM 1
#define E820_RESERVED 2

/* Room for the low split (3 entries) plus one per further RAM region. */
#define E820_MAX_ENTRIES (GUEST_MEM_MAX_REGIONS + 2)

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * Fills tab (sorted by address) from the RAM regions of mem:
 *   [0, 0x9fc00)            RAM
 *   [0x9fc00, 1 MiB)        reserved (EBDA with the MP table, VGA, BIOS)
 *   [1 MiB, low RAM end)    RAM
 *   every other region      RAM (normally the part above the 4 GiB hole)
 * The region at gpa 0 must reach past 1 MiB. Returns the number of entries
 * (at most max), -EINVAL for a layout it cannot describe, -E2BIG when tab is
 * too small.
 */
int e820_build(const struct guest_mem *mem, struct e820_entry *tab,
	       unsigned max);

/* End of the RAM region at gpa 0 (exclusive), 0 when there is none. */
uint64_t e820_low_ram_end(const struct guest_mem *mem);

#endif
