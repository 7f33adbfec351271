/* blk_config.h: the virtio-blk features and config bytes a disk announces. */
#ifndef ISOVM_DEVSRV_BLK_CONFIG_H
#define ISOVM_DEVSRV_BLK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ctl_msg.h"

/* Device feature bits (VIRTIO_BIT of VIRTIO_BLK_F_*) for @cfg. */
uint64_t blk_config_features(const struct ctl_blk_config *cfg);

/*
 * Write struct virtio_blk_config for @cfg (little-endian) into out[0..cap).
 * Returns its length (VIRTIO_BLK_CFG_LEN) or -ENOBUFS.
 */
int blk_config_encode(const struct ctl_blk_config *cfg, uint8_t *out,
		      size_t cap);

/* Cylinders of the 16-head, 63-sector geometry, capped at 65535. */
uint16_t blk_config_cylinders(uint64_t capacity_sectors);

#endif
