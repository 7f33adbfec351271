/* e820.c: the guest memory map as the boot protocols describe it. */
#include <errno.h>
#include <string.h>

#include "vcpu/boot/boot.h"
#include "vcpu/boot/e820.h"

uint64_t e820_low_ram_end(const struct guest_mem *mem)
{
	unsigned n = mem->nr_regions;

	if (n > GUEST_MEM_MAX_REGIONS)
		n = GUEST_MEM_MAX_REGIONS;
	for (unsigned i = 0; i < n; i++)
		if (mem->region[i].gpa == 0)
			return mem->region[i].size;
	return 0;
}

static int e820_add(struct e820_entry *tab, unsigned max, unsigned *nr,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (!size)
		return 0;
	if (*nr >= max)
		return -E2BIG;
	tab[*nr].addr = addr;
	tab[*nr].size = size;
	tab[*nr].type = type;
	(*nr)++;
	return 0;
}

/* Index of the region with the lowest gpa above 'after' (or >= when first). */
static int e820_next_region(const struct guest_mem *mem, unsigned n,
			    uint64_t after, int first)
{
	int best = -1;

	for (unsigned i = 0; i < n; i++) {
		uint64_t g = mem->region[i].gpa;

		if (!mem->region[i].size)
			continue;
		if (first ? g < after : g <= after)
			continue;
		if (best < 0 || g < mem->region[best].gpa)
			best = (int)i;
	}
	return best;
}

int e820_build(const struct guest_mem *mem, struct e820_entry *tab,
	       unsigned max)
{
	unsigned n = mem->nr_regions, nr = 0, seen = 0, nonempty = 0;
	uint64_t prev_end = 0, low_end = e820_low_ram_end(mem);
	int err, i;

	if (n > GUEST_MEM_MAX_REGIONS || low_end <= BOOT_HIGH_RAM_START)
		return -EINVAL;
	/* Regions in address order; the first must be the one at 0. */
	for (i = e820_next_region(mem, n, 0, 1); i >= 0;
	     i = e820_next_region(mem, n, mem->region[i].gpa, 0)) {
		const struct guest_mem_region *r = &mem->region[i];

		if (r->gpa < prev_end || r->size > UINT64_MAX - r->gpa)
			return -EINVAL; /* overlapping or wrapping regions */
		if (r->gpa == 0) {
			err = e820_add(tab, max, &nr, 0, BOOT_LOW_RAM_END,
				       E820_RAM);
			if (!err)
				err = e820_add(tab, max, &nr, BOOT_LOW_RAM_END,
					       BOOT_HIGH_RAM_START -
						       BOOT_LOW_RAM_END,
					       E820_RESERVED);
			if (!err)
				err = e820_add(tab, max, &nr,
					       BOOT_HIGH_RAM_START,
					       r->size - BOOT_HIGH_RAM_START,
					       E820_RAM);
		} else {
			err = e820_add(tab, max, &nr, r->gpa, r->size,
				       E820_RAM);
		}
		if (err)
			return err;
		prev_end = r->gpa + r->size;
		seen++;
	}
	for (unsigned j = 0; j < n; j++)
		nonempty += mem->region[j].size != 0;
	/* Two regions at one gpa: the walk skipped one. */
	if (seen != nonempty)
		return -EINVAL;
	return (int)nr;
}
