/* test_blk_config.c: virtio-blk features and config bytes of a disk. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "devsrv/blk/blk_config.h"
#include "ipc/virtio_blk_config.h"

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static struct ctl_blk_config disk(uint64_t cap, bool ro, uint32_t bs)
{
	struct ctl_blk_config c = {
		.capacity_sectors = cap,
		.read_only = ro,
		.block_size = bs,
		.cache = CTL_CACHE_WRITEBACK,
	};

	return c;
}

Test(blk_config, fields_sit_at_their_spec_offsets_little_endian)
{
	struct ctl_blk_config c = disk(0x0102030405ull, false, 4096);
	uint8_t b[CTL_CONFIG_MAX];

	memset(b, 0xff, sizeof(b));
	cr_assert_eq(blk_config_encode(&c, b, sizeof(b)), 60);
	cr_assert_eq(le(b + 0, 8), 0x0102030405ull);
	cr_assert_eq(le(b + 8, 4), VIRTIO_BLK_SIZE_MAX);
	cr_assert_eq(le(b + 12, 4), VIRTIO_BLK_SEG_MAX);
	cr_assert_eq(le(b + 16, 2), 65535, "cylinders capped");
	cr_assert_eq(b[18], 16);
	cr_assert_eq(b[19], 63);
	cr_assert_eq(le(b + 20, 4), 4096);
	cr_assert_eq(b[24], 0);
	cr_assert_eq(b[25], 0);
	cr_assert_eq(le(b + 26, 2), 1);
	cr_assert_eq(le(b + 28, 4), 0);
	cr_assert_eq(le(b + 34, 2), 1, "one queue");
	cr_assert_eq(le(b + 36, 4), VIRTIO_BLK_MAX_DISCARD_SECTORS);
	cr_assert_eq(le(b + 40, 4), 1);
	cr_assert_eq(le(b + 44, 4), 8, "discard aligned to a 4K block");
	cr_assert_eq(le(b + 48, 4), VIRTIO_BLK_MAX_ZERO_SECTORS);
	cr_assert_eq(le(b + 52, 4), 1);
	cr_assert_eq(b[56], 1);
	cr_assert_eq(b[57] | b[58] | b[59], 0);
	cr_assert_eq(b[60], 0xff, "nothing written past the layout");
}

Test(blk_config, cylinders_follow_the_capacity)
{
	cr_assert_eq(blk_config_cylinders(0), 0);
	cr_assert_eq(blk_config_cylinders(16 * 63 * 100 + 5), 100);
	cr_assert_eq(blk_config_cylinders(16ull * 63 * 65535), 65535);
	cr_assert_eq(blk_config_cylinders(16ull * 63 * 65536), 65535);
}

Test(blk_config, read_only_disk_offers_ro_and_no_discard)
{
	struct ctl_blk_config ro = disk(2048, true, 512);
	struct ctl_blk_config rw = disk(2048, false, 512);
	uint64_t fro = blk_config_features(&ro), frw = blk_config_features(&rw);
	uint8_t b[64];

	cr_assert(fro & 1ull << VIRTIO_BLK_F_RO);
	cr_assert_not(fro & 1ull << VIRTIO_BLK_F_DISCARD);
	cr_assert_not(fro & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	cr_assert_not(frw & 1ull << VIRTIO_BLK_F_RO);
	cr_assert(frw & 1ull << VIRTIO_BLK_F_DISCARD);
	cr_assert(frw & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	for (int bit = 0; bit < 64; bit++) {
		bool common = bit == VIRTIO_BLK_F_SEG_MAX ||
			      bit == VIRTIO_BLK_F_SIZE_MAX ||
			      bit == VIRTIO_BLK_F_BLK_SIZE ||
			      bit == VIRTIO_BLK_F_FLUSH ||
			      bit == VIRTIO_BLK_F_GEOMETRY ||
			      bit == VIRTIO_BLK_F_TOPOLOGY;

		if (common)
			cr_assert(fro & frw & 1ull << bit, "bit %d", bit);
	}
	cr_assert_eq(frw >> 15, 0, "no transport bits from the device");
	cr_assert_eq(blk_config_encode(&ro, b, sizeof(b)), 60);
	cr_assert_eq(le(b + 36, 4), 0);
	cr_assert_eq(blk_config_encode(&ro, b, 59), -ENOBUFS);
}
