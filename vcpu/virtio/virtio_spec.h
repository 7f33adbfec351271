/*
 * virtio_spec.h: constants of the virtio 1.x specification used by the VMM's
 * virtio-mmio transport and split virtqueues (all fields little-endian).
 */
#ifndef ISOVM_VIRTIO_SPEC_H
#define ISOVM_VIRTIO_SPEC_H

#include <stdint.h>

/* virtio-mmio (version 2) register offsets, section 4.2.2. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000         /* R */
#define VIRTIO_MMIO_VERSION 0x004             /* R */
#define VIRTIO_MMIO_DEVICE_ID 0x008           /* R */
#define VIRTIO_MMIO_VENDOR_ID 0x00c           /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010     /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014 /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020     /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024 /* W */
#define VIRTIO_MMIO_QUEUE_SEL 0x030           /* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034       /* R */
#define VIRTIO_MMIO_QUEUE_NUM 0x038           /* W */
#define VIRTIO_MMIO_QUEUE_READY 0x044         /* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050        /* W */
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060    /* R */
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064       /* W */
#define VIRTIO_MMIO_STATUS 0x070              /* RW */
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080      /* W */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084     /* W */
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090    /* W: the avail ring */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094   /* W */
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0    /* W: the used ring */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4   /* W */
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc   /* R */
#define VIRTIO_MMIO_CONFIG 0x100              /* device-specific, RW */

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" little-endian */
#define VIRTIO_MMIO_VERSION_2 2u

/* InterruptStatus / InterruptACK bits. */
#define VIRTIO_MMIO_INT_VRING (1u << 0)  /* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG (1u << 1) /* configuration change */

/* Device status bits, section 2.1. */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01u
#define VIRTIO_STATUS_DRIVER 0x02u
#define VIRTIO_STATUS_DRIVER_OK 0x04u
#define VIRTIO_STATUS_FEATURES_OK 0x08u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u /* device sets it, never the driver */
#define VIRTIO_STATUS_FAILED 0x80u

/* Reserved (transport and ring) feature bits, section 6. */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_BIT(n) (1ull << (n))
/*
 * Bits a device type defines: 0-23 and 50 up. 24-49 are the transport's and
 * the ring's (section 6); a device never chooses them.
 */
#define VIRTIO_DEVICE_FEATURE_MASK (~0ull << 50 | (VIRTIO_BIT(24) - 1))

/* Device IDs, section 5. */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3

/* Split virtqueue, section 2.7. */
#define VIRTQ_DESC_F_NEXT 1u     /* the chain continues in 'next' */
#define VIRTQ_DESC_F_WRITE 2u    /* device writes the buffer (else reads) */
#define VIRTQ_DESC_F_INDIRECT 4u /* the buffer is a table of descriptors */

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u /* driver: do not interrupt me */
#define VIRTQ_USED_F_NO_NOTIFY 1u     /* device: do not notify me */

#define VIRTQ_MAX_SIZE 32768u /* largest queue size the spec allows */

/* Alignment of the three parts of a split virtqueue, section 2.7. */
#define VIRTQ_DESC_ALIGN 16u
#define VIRTQ_AVAIL_ALIGN 2u
#define VIRTQ_USED_ALIGN 4u

/* A descriptor as the driver writes it (16 bytes). */
struct virtq_desc {
	uint64_t addr;  /* guest-physical buffer address */
	uint32_t len;   /* buffer bytes */
	uint16_t flags; /* VIRTQ_DESC_F_* */
	uint16_t next;  /* next descriptor when F_NEXT */
};

/* A used ring element as the device writes it (8 bytes). */
struct virtq_used_elem {
	uint32_t id;  /* head of the completed chain */
	uint32_t len; /* bytes the device wrote into the chain */
};

/*
 * Ring layouts (byte offsets), for a queue of size n:
 *   avail: flags u16 @0, idx u16 @2, ring[n] u16 @4, used_event u16 @4+2n
 *   used:  flags u16 @0, idx u16 @2, ring[n] elem @4, avail_event u16 @4+8n
 */
#define VIRTQ_AVAIL_BYTES(n) (6u + 2u * (uint32_t)(n))
#define VIRTQ_USED_BYTES(n) (6u + 8u * (uint32_t)(n))
#define VIRTQ_DESC_BYTES(n) (16u * (uint32_t)(n))

#endif
