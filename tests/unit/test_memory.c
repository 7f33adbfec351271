/* test_memory.c: guest RAM layout around the 32-bit hole, and its mapping. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/core/memory.h"

Test(memory, small_ram_is_one_region_from_zero)
{
	struct guest_mem m;

	cr_assert_eq(memory_layout(&m, 256ull << 20), 0);
	cr_assert_eq(m.nr_regions, 1);
	cr_assert_eq(m.region[0].gpa, 0);
	cr_assert_eq(m.region[0].size, 256ull << 20);
	cr_assert_eq(m.ram_size, 256ull << 20);
}

Test(memory, ram_exactly_up_to_the_hole_stays_one_region)
{
	struct guest_mem m;

	cr_assert_eq(memory_layout(&m, ISOVM_HOLE_START), 0);
	cr_assert_eq(m.nr_regions, 1);
	cr_assert_eq(m.region[0].size, ISOVM_HOLE_START);
}

Test(memory, large_ram_continues_above_4g)
{
	struct guest_mem m;

	cr_assert_eq(memory_layout(&m, 5ull << 30), 0);
	cr_assert_eq(m.nr_regions, 2);
	cr_assert_eq(m.region[0].gpa, 0);
	cr_assert_eq(m.region[0].size, ISOVM_HOLE_START);
	cr_assert_eq(m.region[1].gpa, ISOVM_HOLE_END);
	cr_assert_eq(m.region[1].size, (5ull << 30) - ISOVM_HOLE_START);
	cr_assert_eq(m.region[1].memfd_off, ISOVM_HOLE_START);
	cr_assert_eq(m.region[0].size + m.region[1].size, m.ram_size);
}

Test(memory, unaligned_or_empty_sizes_are_refused)
{
	struct guest_mem m;

	cr_assert_eq(memory_layout(&m, 0), -EINVAL);
	cr_assert_eq(memory_layout(&m, (16ull << 20) + 1), -EINVAL);
}

Test(memory, nothing_in_the_hole_translates)
{
	struct guest_mem m;

	cr_assert_eq(memory_create(&m, 5ull << 30), 0);
	cr_assert_null(guest_mem_ptr(&m, ISOVM_HOLE_START, 1));
	cr_assert_null(guest_mem_ptr(&m, ISOVM_HOLE_END - 1, 1));
	cr_assert_null(guest_mem_ptr(&m, ISOVM_HOLE_START - 4, 8),
		       "a range may not straddle the hole");
	cr_assert_not_null(guest_mem_ptr(&m, ISOVM_HOLE_START - 4, 4));
	cr_assert_not_null(guest_mem_ptr(&m, ISOVM_HOLE_END, 4));
	cr_assert_null(guest_mem_ptr(&m, ISOVM_HOLE_END + m.region[1].size, 1));
	memory_destroy(&m);
}

Test(memory, both_regions_are_backed_by_one_memfd_at_their_offsets)
{
	struct guest_mem m;
	uint8_t *low, *high, buf[4];

	cr_assert_eq(memory_create(&m, 4ull << 30), 0);
	cr_assert_geq(m.memfd, 0);
	low = guest_mem_ptr(&m, 0x1000, 4);
	high = guest_mem_ptr(&m, ISOVM_HOLE_END, 4);
	cr_assert_not_null(low);
	cr_assert_not_null(high);
	memcpy(low, "LOW!", 4);
	memcpy(high, "HIGH", 4);
	cr_assert_eq(pread(m.memfd, buf, 4, 0x1000), 4);
	cr_assert_arr_eq(buf, "LOW!", 4);
	cr_assert_eq(pread(m.memfd, buf, 4, ISOVM_HOLE_START), 4);
	cr_assert_arr_eq(buf, "HIGH", 4);
	cr_assert_eq(ftruncate(m.memfd, 0), -1, "the memfd is sealed");
	memory_destroy(&m);
	cr_assert_eq(m.nr_regions, 0);
	memory_destroy(&m); /* twice is harmless */
}

Test(memory, clear_zeroes_ram_and_keeps_host_pointers)
{
	struct guest_mem m;
	uint8_t *p;

	cr_assert_eq(memory_create(&m, 32ull << 20), 0);
	p = guest_mem_ptr(&m, 0x200000, 8);
	memcpy(p, "OLD BOOT", 8);
	cr_assert_eq(memory_clear(&m), 0);
	cr_assert_eq(guest_mem_ptr(&m, 0x200000, 8), p);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(p[i], 0, "byte %d survived the clear", i);
	memory_destroy(&m);
}
