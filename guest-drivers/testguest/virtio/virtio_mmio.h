/*
 * virtio_mmio.h: the driver side of the virtio-mmio version 2 transport
 * (virtio 1.x, section 4.2): discovery from the command line, the status
 * handshake, feature negotiation, queue set-up, notification, interrupt
 * status and the device config space. Ring 3, on the identity map.
 */
#ifndef TG_VIRTIO_MMIO_H
#define TG_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

/* Registers (offsets in the window). */
#define VMMIO_MAGIC		0x000
#define VMMIO_VERSION		0x004
#define VMMIO_DEVICE_ID		0x008
#define VMMIO_VENDOR_ID		0x00c
#define VMMIO_DEV_FEATURES	0x010
#define VMMIO_DEV_FEATURES_SEL	0x014
#define VMMIO_DRV_FEATURES	0x020
#define VMMIO_DRV_FEATURES_SEL	0x024
#define VMMIO_QUEUE_SEL		0x030
#define VMMIO_QUEUE_NUM_MAX	0x034
#define VMMIO_QUEUE_NUM		0x038
#define VMMIO_QUEUE_READY	0x044
#define VMMIO_QUEUE_NOTIFY	0x050
#define VMMIO_INTERRUPT_STATUS	0x060
#define VMMIO_INTERRUPT_ACK	0x064
#define VMMIO_STATUS		0x070
#define VMMIO_QUEUE_DESC_LOW	0x080
#define VMMIO_QUEUE_DESC_HIGH	0x084
#define VMMIO_QUEUE_DRIVER_LOW	0x090
#define VMMIO_QUEUE_DRIVER_HIGH 0x094
#define VMMIO_QUEUE_DEVICE_LOW	0x0a0
#define VMMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VMMIO_CONFIG_GENERATION 0x0fc
#define VMMIO_CONFIG		0x100

#define VMMIO_MAGIC_VALUE 0x74726976u /* "virt" */

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER	  0x02
#define VIRTIO_STATUS_DRIVER_OK	  0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED	  0x80

/* Device-independent feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3

/* InterruptStatus bits. */
#define VMMIO_INT_USED	 0x1
#define VMMIO_INT_CONFIG 0x2

#define VMMIO_DEVS_MAX 16

struct vmmio_dev {
	volatile uint8_t *base; /* the window (uncached, identity-mapped) */
	uint64_t size;
	uint32_t irq; /* as announced on the command line */
	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t features; /* negotiated (after vmmio_negotiate) */
	int pin;	   /* I/O APIC pin, -1 when not routed */
	bool poll;	   /* completion by polling, not interrupts */
};

/*
 * Probes every virtio_mmio.device= window of the command line once and
 * keeps those with the right magic, version 2 and a device id != 0.
 * Returns how many were kept. Later calls return the same table.
 */
unsigned vmmio_scan(void);

/* The nth device (in command-line order) with device_id (0: any), or NULL. */
struct vmmio_dev *vmmio_find(uint32_t device_id, unsigned nth);

/* True when virtio-mode=poll was asked (the default is interrupts). */
bool vmmio_mode_poll(void);

uint32_t vmmio_read(const struct vmmio_dev *d, uint32_t off);
void vmmio_write(struct vmmio_dev *d, uint32_t off, uint32_t v);

/* Writes 0 to Status and waits (bounded) until the device reads back 0. */
int vmmio_reset(struct vmmio_dev *d);

/* Reset, then ACKNOWLEDGE | DRIVER. 0 or -TG_EINVAL (device vanished). */
int vmmio_begin(struct vmmio_dev *d);

/*
 * Accepts the offered features among wanted (VERSION_1 is always wanted
 * and required), sets FEATURES_OK and checks the device kept it. Fills
 * d->features. 0, or -TG_EINVAL and Status FAILED.
 */
int vmmio_negotiate(struct vmmio_dev *d, uint64_t wanted);

static inline bool vmmio_has(const struct vmmio_dev *d, unsigned bit)
{
	return (d->features >> bit) & 1;
}

/* QueueNumMax of queue q (0: the queue does not exist). */
uint32_t vmmio_queue_max(struct vmmio_dev *d, unsigned q);

/*
 * Programs queue q with num entries and the rings' guest-physical
 * addresses, then QueueReady = 1. num must be a power of two <= QueueNumMax.
 */
int vmmio_queue_setup(struct vmmio_dev *d, unsigned q, uint32_t num,
		      uint64_t desc, uint64_t driver, uint64_t device);

/* Sets DRIVER_OK; routes the interrupt first unless polling. */
int vmmio_driver_ok(struct vmmio_dev *d);

static inline void vmmio_notify(struct vmmio_dev *d, unsigned q)
{
	vmmio_write(d, VMMIO_QUEUE_NOTIFY, q);
}

/* Reads InterruptStatus and acknowledges what it saw; returns it. */
uint32_t vmmio_isr_ack(struct vmmio_dev *d);

uint32_t vmmio_status(const struct vmmio_dev *d);

/* Device config space, consistent across ConfigGeneration. */
uint8_t vmmio_config8(const struct vmmio_dev *d, uint32_t off);
uint16_t vmmio_config16(const struct vmmio_dev *d, uint32_t off);
uint32_t vmmio_config32(const struct vmmio_dev *d, uint32_t off);
uint64_t vmmio_config64(const struct vmmio_dev *d, uint32_t off);

/* Masks the interrupt and resets the device; its memory may then be reused. */
void vmmio_stop(struct vmmio_dev *d);

#endif
