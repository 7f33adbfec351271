/*
 * virtio_blk_config.h: virtio-blk feature bits, config space layout and the
 * request limits isovm-blk announces, shared by the VMM's block front and
 * the block server (virtio 1.x spec, section 5.2; all fields little-endian).
 */
#ifndef ISOVM_IPC_VIRTIO_BLK_CONFIG_H
#define ISOVM_IPC_VIRTIO_BLK_CONFIG_H

#include <stdint.h>

/* Device feature bits (section 5.2.3). Transport bits are the VMM's. */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types of the guest's request header (section 5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte the device writes last. */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR 512u
#define VIRTIO_BLK_ID_BYTES 20u

/*
 * Limits isovm-blk enforces and announces. A READ/WRITE carries at most
 * VIRTIO_BLK_MAX_RW_SECTORS (= SEG_MAX * SIZE_MAX bytes), a DISCARD or
 * WRITE_ZEROES one range of at most VIRTIO_BLK_MAX_ZERO_SECTORS.
 */
#define VIRTIO_BLK_SEG_MAX 128u
#define VIRTIO_BLK_SIZE_MAX 8192u
#define VIRTIO_BLK_MAX_RW_SECTORS \
	(VIRTIO_BLK_SEG_MAX * VIRTIO_BLK_SIZE_MAX / VIRTIO_BLK_SECTOR)
#define VIRTIO_BLK_MAX_DISCARD_SECTORS (1u << 22)
#define VIRTIO_BLK_MAX_ZERO_SECTORS (1u << 22)

/* Geometry a disk reports for this capacity (CHS, as BIOS disks do). */
#define VIRTIO_BLK_GEOM_HEADS 16u
#define VIRTIO_BLK_GEOM_SECTORS 63u
#define VIRTIO_BLK_GEOM_CYL_MAX 65535u

/* Byte offsets in struct virtio_blk_config (virtio 1.1 layout). */
#define VIRTIO_BLK_CFG_CAPACITY 0	   /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX 8	   /* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX 12	   /* le32 */
#define VIRTIO_BLK_CFG_CYLINDERS 16	   /* le16 */
#define VIRTIO_BLK_CFG_HEADS 18		   /* u8 */
#define VIRTIO_BLK_CFG_SECTORS 19	   /* u8 */
#define VIRTIO_BLK_CFG_BLK_SIZE 20	   /* le32 */
#define VIRTIO_BLK_CFG_PHYS_BLOCK_EXP 24   /* u8 */
#define VIRTIO_BLK_CFG_ALIGNMENT_OFFSET 25 /* u8 */
#define VIRTIO_BLK_CFG_MIN_IO_SIZE 26	   /* le16, in blk_size units */
#define VIRTIO_BLK_CFG_OPT_IO_SIZE 28	   /* le32, in blk_size units */
#define VIRTIO_BLK_CFG_WRITEBACK 32	   /* u8 */
#define VIRTIO_BLK_CFG_NUM_QUEUES 34	   /* le16 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 36 /* le32 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG 40     /* le32 */
#define VIRTIO_BLK_CFG_DISCARD_ALIGN 44	      /* le32, sectors */
#define VIRTIO_BLK_CFG_MAX_ZEROES_SECTORS 48  /* le32 */
#define VIRTIO_BLK_CFG_MAX_ZEROES_SEG 52      /* le32 */
#define VIRTIO_BLK_CFG_ZEROES_MAY_UNMAP 56    /* u8 */
#define VIRTIO_BLK_CFG_LEN 60

#endif
