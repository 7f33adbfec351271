/* blk_config.c: encode the virtio-blk config space from the disk's Setup. */
#include <errno.h>
#include <string.h>

#include "devsrv/blk/blk_config.h"
#include "ipc/virtio_blk_config.h"

static void blk_config_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void blk_config_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void blk_config_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t blk_config_features(const struct ctl_blk_config *cfg)
{
	uint64_t f =
		1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
		1ull << VIRTIO_BLK_F_GEOMETRY | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_TOPOLOGY;

	/* A read-only disk offers no way to change it, not even a hint. */
	if (cfg->read_only)
		f |= 1ull << VIRTIO_BLK_F_RO;
	else
		f |= 1ull << VIRTIO_BLK_F_DISCARD |
		     1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

uint16_t blk_config_cylinders(uint64_t capacity_sectors)
{
	uint64_t c = capacity_sectors /
		     (VIRTIO_BLK_GEOM_HEADS * VIRTIO_BLK_GEOM_SECTORS);

	return c > VIRTIO_BLK_GEOM_CYL_MAX ? VIRTIO_BLK_GEOM_CYL_MAX
					   : (uint16_t)c;
}

int blk_config_encode(const struct ctl_blk_config *cfg, uint8_t *out,
		      size_t cap)
{
	uint32_t bs = cfg->block_size ? cfg->block_size : VIRTIO_BLK_SECTOR;
	uint8_t *c = out;

	if (cap < VIRTIO_BLK_CFG_LEN)
		return -ENOBUFS;
	memset(c, 0, VIRTIO_BLK_CFG_LEN);
	blk_config_le64(c + VIRTIO_BLK_CFG_CAPACITY, cfg->capacity_sectors);
	blk_config_le32(c + VIRTIO_BLK_CFG_SIZE_MAX, VIRTIO_BLK_SIZE_MAX);
	blk_config_le32(c + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX);
	blk_config_le16(c + VIRTIO_BLK_CFG_CYLINDERS,
			blk_config_cylinders(cfg->capacity_sectors));
	c[VIRTIO_BLK_CFG_HEADS] = VIRTIO_BLK_GEOM_HEADS;
	c[VIRTIO_BLK_CFG_SECTORS] = VIRTIO_BLK_GEOM_SECTORS;
	blk_config_le32(c + VIRTIO_BLK_CFG_BLK_SIZE, bs);
	/* Topology: physical blocks are logical blocks, aligned at 0; the
	 * smallest efficient I/O is one block, no preferred size. */
	c[VIRTIO_BLK_CFG_PHYS_BLOCK_EXP] = 0;
	c[VIRTIO_BLK_CFG_ALIGNMENT_OFFSET] = 0;
	blk_config_le16(c + VIRTIO_BLK_CFG_MIN_IO_SIZE, 1);
	blk_config_le32(c + VIRTIO_BLK_CFG_OPT_IO_SIZE, 0);
	blk_config_le16(c + VIRTIO_BLK_CFG_NUM_QUEUES, 1);
	if (!cfg->read_only) {
		blk_config_le32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS,
				VIRTIO_BLK_MAX_DISCARD_SECTORS);
		blk_config_le32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 1);
		blk_config_le32(c + VIRTIO_BLK_CFG_DISCARD_ALIGN,
				bs / VIRTIO_BLK_SECTOR);
		blk_config_le32(c + VIRTIO_BLK_CFG_MAX_ZEROES_SECTORS,
				VIRTIO_BLK_MAX_ZERO_SECTORS);
		blk_config_le32(c + VIRTIO_BLK_CFG_MAX_ZEROES_SEG, 1);
		/* Zeroed ranges may become holes (ZERO_RANGE may free). */
		c[VIRTIO_BLK_CFG_ZEROES_MAY_UNMAP] = 1;
	}
	return VIRTIO_BLK_CFG_LEN;
}
