/* test_io_bus.c: port/MMIO dispatch: ranges, offsets, overlaps, unknowns. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vcpu/core/io_bus.h"

struct dev {
	uint64_t last_off;
	unsigned last_len;
	uint8_t last_data[8];
	unsigned reads, writes;
};

static void dev_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct dev *d = opaque;

	d->reads++;
	d->last_off = off;
	d->last_len = len;
	for (unsigned i = 0; i < len; i++)
		data[i] = (uint8_t)(0x10 + i);
}

static void dev_write(void *opaque, uint64_t off, const uint8_t *data,
		      unsigned len)
{
	struct dev *d = opaque;

	d->writes++;
	d->last_off = off;
	d->last_len = len;
	memcpy(d->last_data, data, len);
}

static const struct io_bus_ops dev_ops = {.read = dev_read, .write = dev_write};

static struct io_bus bus;

static void setup(void)
{
	io_bus_init(&bus, "test");
}

static void teardown(void)
{
	io_bus_fini(&bus);
}

TestSuite(io_bus, .init = setup, .fini = teardown);

Test(io_bus, an_access_reaches_its_device_with_the_offset_from_base)
{
	struct dev a = {0}, b = {0};
	uint8_t data[4] = {1, 2, 3, 4};

	cr_assert_eq(
		io_bus_register(&bus, 0xd0000000, 0x1000, &dev_ops, &a, "a"),
		0);
	cr_assert_eq(
		io_bus_register(&bus, 0xd0001000, 0x1000, &dev_ops, &b, "b"),
		0);
	cr_assert(io_bus_access(&bus, 0xd0001070, data, 4, true));
	cr_assert_eq(b.writes, 1);
	cr_assert_eq(a.writes, 0);
	cr_assert_eq(b.last_off, 0x70);
	cr_assert_eq(b.last_len, 4);
	cr_assert_arr_eq(b.last_data, data, 4);
	cr_assert(io_bus_access(&bus, 0xd0000ffc, data, 4, false));
	cr_assert_eq(a.reads, 1);
	cr_assert_eq(a.last_off, 0xffc);
	cr_assert_eq(data[0], 0x10);
	cr_assert_eq(data[3], 0x13);
}

Test(io_bus, unknown_reads_return_all_ones_and_writes_are_dropped)
{
	struct dev a = {0};
	uint8_t data[8] = {0};

	cr_assert_eq(io_bus_register(&bus, 0x3f8, 8, &dev_ops, &a, "a"), 0);
	cr_assert(!io_bus_access(&bus, 0x2f8, data, 2, false));
	cr_assert_eq(data[0], 0xff);
	cr_assert_eq(data[1], 0xff);
	cr_assert_eq(data[2], 0x00, "only len bytes are written");
	cr_assert(!io_bus_access(&bus, 0x2f8, data, 1, true));
	cr_assert_eq(a.reads + a.writes, 0);
	cr_assert_eq(bus.unknown_count, 2);
}

Test(io_bus, an_access_straddling_the_end_of_a_range_is_unknown)
{
	struct dev a = {0};
	uint8_t data[4];

	cr_assert_eq(io_bus_register(&bus, 0x100, 4, &dev_ops, &a, "a"), 0);
	cr_assert(!io_bus_access(&bus, 0x102, data, 4, false));
	cr_assert_eq(a.reads, 0);
	cr_assert(io_bus_access(&bus, 0x102, data, 2, false));
}

Test(io_bus, overlapping_or_empty_or_wrapping_ranges_are_refused)
{
	struct dev a = {0};

	cr_assert_eq(io_bus_register(&bus, 0x1000, 0x100, &dev_ops, &a, "a"),
		     0);
	cr_assert_eq(io_bus_register(&bus, 0x10ff, 1, &dev_ops, &a, "b"),
		     -EEXIST);
	cr_assert_eq(io_bus_register(&bus, 0xf00, 0x101, &dev_ops, &a, "c"),
		     -EEXIST);
	cr_assert_eq(io_bus_register(&bus, 0xf00, 0x100, &dev_ops, &a, "d"), 0);
	cr_assert_eq(io_bus_register(&bus, 0x2000, 0, &dev_ops, &a, "e"),
		     -EINVAL);
	cr_assert_eq(io_bus_register(&bus, ~0ull, 2, &dev_ops, &a, "f"),
		     -EINVAL);
}

Test(io_bus, the_table_has_a_fixed_size)
{
	struct dev a = {0};
	unsigned i;

	for (i = 0; i < IO_BUS_MAX_RANGES; i++)
		cr_assert_eq(io_bus_register(&bus, i * 0x10, 0x10, &dev_ops, &a,
					     "x"),
			     0);
	cr_assert_eq(io_bus_register(&bus, i * 0x10, 0x10, &dev_ops, &a, "x"),
		     -ENOSPC);
}

Test(io_bus, a_device_without_a_read_callback_reads_as_all_ones)
{
	static const struct io_bus_ops wo = {.write = dev_write};
	struct dev a = {0};
	uint8_t data[2] = {0};

	cr_assert_eq(io_bus_register(&bus, 0x80, 1, &wo, &a, "post"), 0);
	cr_assert(io_bus_access(&bus, 0x80, data, 1, false));
	cr_assert_eq(data[0], 0xff);
}

Test(io_bus, oversized_accesses_are_refused)
{
	struct dev a = {0};
	uint8_t data[16];

	cr_assert_eq(io_bus_register(&bus, 0, 0x100, &dev_ops, &a, "a"), 0);
	cr_assert(!io_bus_access(&bus, 0, data, 16, false));
	cr_assert(!io_bus_access(&bus, 0, data, 0, false));
	cr_assert_eq(a.reads, 0);
}

Test(io_bus, unknown_addresses_are_remembered_up_to_the_table_size)
{
	uint8_t data[1];

	for (unsigned i = 0; i < IO_BUS_MAX_LOGGED + 10; i++) {
		cr_assert(!io_bus_access(&bus, 0x1000 + i, data, 1, false));
		cr_assert(!io_bus_access(&bus, 0x1000 + i, data, 1, false));
	}
	cr_assert_eq(bus.nr_logged, IO_BUS_MAX_LOGGED + 1);
	cr_assert_eq(bus.unknown_count, 2 * (IO_BUS_MAX_LOGGED + 10));
}
