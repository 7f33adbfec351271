/* test_e820.c: the guest memory map for layouts below and across the 3 GiB hole. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/unit/boot_fixture.h"
#include "vcpu/boot/boot.h"
#include "vcpu/boot/e820.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct guest_mem mem;

static void teardown(void)
{
	fixture_mem_fini(&mem);
}

TestSuite(e820, .fini = teardown);

static void sums(const struct e820_entry *t, int n, uint64_t *ram,
		 uint64_t *all)
{
	*ram = *all = 0;
	for (int i = 0; i < n; i++) {
		*all += t[i].size;
		if (t[i].type == E820_RAM)
			*ram += t[i].size;
		if (i)
			cr_assert_geq(t[i].addr, t[i - 1].addr + t[i - 1].size,
				      "sorted, no overlap");
	}
}

Test(e820, map_of_256m_splits_off_the_ebda_and_bios_area)
{
	struct e820_entry t[E820_MAX_ENTRIES];
	uint64_t ram, all;
	int n;

	fixture_mem_init(&mem, 256 * MiB);
	n = e820_build(&mem, t, E820_MAX_ENTRIES);
	cr_assert_eq(n, 3);
	cr_assert_eq(t[0].addr, 0);
	cr_assert_eq(t[0].size, 0x9fc00);
	cr_assert_eq(t[0].type, E820_RAM);
	cr_assert_eq(t[1].addr, 0x9fc00);
	cr_assert_eq(t[1].addr + t[1].size, MiB);
	cr_assert_eq(t[1].type, E820_RESERVED);
	cr_assert_eq(t[2].addr, MiB);
	cr_assert_eq(t[2].addr + t[2].size, 256 * MiB);
	cr_assert_eq(t[2].type, E820_RAM);
	sums(t, n, &ram, &all);
	cr_assert_eq(all, 256 * MiB);
	cr_assert_eq(ram, 256 * MiB - (MiB - 0x9fc00));
	cr_assert_eq(e820_low_ram_end(&mem), 256 * MiB);
}

Test(e820, map_of_5g_crosses_the_hole_and_keeps_every_byte)
{
	struct e820_entry t[E820_MAX_ENTRIES];
	uint64_t ram, all;
	int n;

	fixture_mem_init(&mem, 5 * GiB);
	n = e820_build(&mem, t, E820_MAX_ENTRIES);
	cr_assert_eq(n, 4);
	cr_assert_eq(t[2].addr + t[2].size, ISOVM_HOLE_START, "low RAM ends at 3 GiB");
	cr_assert_eq(t[3].addr, ISOVM_HOLE_END, "rest from 4 GiB");
	cr_assert_eq(t[3].size, 2 * GiB);
	cr_assert_eq(t[3].type, E820_RAM);
	sums(t, n, &ram, &all);
	cr_assert_eq(all, mem.ram_size, "every configured byte is described");
	cr_assert_eq(ram, 5 * GiB - (MiB - 0x9fc00));
	cr_assert_eq(e820_low_ram_end(&mem), ISOVM_HOLE_START);
}

Test(e820, regions_out_of_order_are_sorted)
{
	struct e820_entry t[E820_MAX_ENTRIES];
	struct guest_mem_region r;

	fixture_mem_init(&mem, 4 * GiB);
	r = mem.region[0];
	mem.region[0] = mem.region[1];
	mem.region[1] = r;
	cr_assert_eq(e820_build(&mem, t, E820_MAX_ENTRIES), 4);
	cr_assert_eq(t[0].addr, 0);
	cr_assert_eq(t[3].addr, ISOVM_HOLE_END);
}

Test(e820, ram_that_ends_below_1mib_is_einval)
{
	struct e820_entry t[E820_MAX_ENTRIES];

	fixture_mem_init(&mem, 512 * 1024);
	cr_assert_eq(e820_build(&mem, t, E820_MAX_ENTRIES), -EINVAL);
}

Test(e820, overlapping_regions_are_einval)
{
	struct e820_entry t[E820_MAX_ENTRIES];

	fixture_mem_init(&mem, 5 * GiB);
	mem.region[1].gpa = 2 * GiB;
	cr_assert_eq(e820_build(&mem, t, E820_MAX_ENTRIES), -EINVAL);
	mem.region[1].gpa = 0;
	cr_assert_eq(e820_build(&mem, t, E820_MAX_ENTRIES), -EINVAL);
}

Test(e820, table_too_small_is_e2big)
{
	struct e820_entry t[E820_MAX_ENTRIES];

	fixture_mem_init(&mem, 5 * GiB);
	cr_assert_eq(e820_build(&mem, t, 3), -E2BIG);
}
