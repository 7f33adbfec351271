/*
 * virtio_mmio.h: the virtio-mmio version 2 (virtio 1.x) transport, VMM side:
 * the register state machine of one device window, feature negotiation,
 * queue set-up checks, and NEEDS_RESET on any rule the guest breaks.
 *
 * Locking: not thread-safe. The caller holds one lock per device around
 * every call (register accesses from vCPU threads, pops and pushes from the
 * I/O thread); callbacks run under that lock and may call
 * virtio_mmio_pop/push/signal_used/fail/config_changed, which take no lock.
 * Only InterruptStatus is atomic, so the irq callback may read it anywhere.
 */
#ifndef ISOVM_VIRTIO_MMIO_H
#define ISOVM_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/core/guest_mem.h"
#include "vcpu/log.h"
#include "vcpu/virtio/virtio_spec.h"
#include "vcpu/virtio/virtq.h"

#define VIRTIO_MMIO_MAX_QUEUES 8
#define VIRTIO_MMIO_WINDOW 0x1000u /* bytes of one device window */
#define VIRTIO_MMIO_CONFIG_MAX (VIRTIO_MMIO_WINDOW - VIRTIO_MMIO_CONFIG)
#define VIRTIO_MMIO_VENDOR 0x4d565349u /* "ISVM" little-endian */

/*
 * Feature bits of the transport range (24-49) the transport offers: what it
 * implements, split rings only. A device's bits in that range are dropped.
 */
#define VIRTIO_MMIO_TRANSPORT_FEATURES                                     \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) |                                  \
	 VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) |                             \
	 VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC))

/*
 * What a device type tells the transport. 'opaque' given to
 * virtio_mmio_init() is passed to every callback; any callback may be NULL.
 */
struct virtio_dev_ops {
	uint32_t device_id;  /* VIRTIO_ID_* */
	uint64_t features;   /* device-type bits offered (others dropped) */
	unsigned nr_queues;  /* 1..VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_max[VIRTIO_MMIO_MAX_QUEUES]; /* QueueNumMax, power of 2 */
	uint32_t config_size; /* bytes of config space, <= CONFIG_MAX */
	/* Config accesses: 'off' + 'len' <= config_size, len 1, 2 or 4. */
	void (*config_read)(void *opaque, uint32_t off, void *data,
			    unsigned len);
	void (*config_write)(void *opaque, uint32_t off, const void *data,
			     unsigned len);
	void (*driver_ok)(void *opaque);             /* DRIVER_OK accepted */
	void (*queue_ready)(void *opaque, unsigned qi); /* queue set up */
	void (*notify)(void *opaque, unsigned qi);   /* valid kick of queue */
	void (*reset)(void *opaque);                 /* driver reset device */
};

/*
 * The VMM's hooks. irq(level = true) on every new interrupt (an edge for
 * irqfd users, "raise" for level users), irq(false) once InterruptStatus
 * drops to zero. log() gets one complete line without newline.
 */
typedef void virtio_mmio_irq_fn(void *host_opaque, bool level);
typedef void virtio_mmio_log_fn(void *host_opaque, const char *line);

struct virtio_mmio_queue {
	struct virtq vq;  /* ready only after the set-up checks passed */
	uint32_t num;     /* QueueNum as written */
	uint64_t desc;    /* QueueDesc{Low,High} as written */
	uint64_t driver;  /* QueueDriver{Low,High}: the avail ring */
	uint64_t device;  /* QueueDevice{Low,High}: the used ring */
};

struct virtio_mmio_dev {
	char name[16];                     /* for log lines, e.g. "blk0" */
	const struct virtio_dev_ops *ops;
	void *opaque;                      /* the device's, for ops */
	const struct guest_mem *mem;
	virtio_mmio_irq_fn *irq;
	virtio_mmio_log_fn *log;
	void *host_opaque;                 /* the VMM's, for irq and log */

	uint32_t status;          /* bits the driver set (no NEEDS_RESET) */
	bool needs_reset;         /* a rule was broken: queues stopped */
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint64_t driver_features;
	bool driver_features_high; /* a bit beyond 63 was written */
	uint32_t queue_sel;
	uint32_t interrupt_status; /* atomic: VIRTIO_MMIO_INT_* */
	uint32_t config_generation;
	struct virtio_mmio_queue queue[VIRTIO_MMIO_MAX_QUEUES];

	/* Log rate limit: at most VIRTIO_MMIO_LOG_BURST lines a second. */
	struct log_ratelimit log_rl;
};

#define VIRTIO_MMIO_LOG_BURST 5

/*
 * Set up a device in reset state. 'ops' and 'mem' must outlive it. Returns
 * 0, or -EINVAL when ops are inconsistent (queue count, QueueNumMax not a
 * power of two in 1..32768, config too large).
 */
int virtio_mmio_init(struct virtio_mmio_dev *dev, const char *name,
		     const struct virtio_dev_ops *ops, void *opaque,
		     const struct guest_mem *mem, virtio_mmio_irq_fn *irq,
		     virtio_mmio_log_fn *log, void *host_opaque);

/*
 * The interrupt registers, which need no device lock (interrupt_status is
 * atomic and dropping the line does nothing): a well-formed InterruptStatus
 * read or InterruptAck write is served and true returned; anything else
 * returns false and goes through virtio_mmio_read/write under the lock.
 * Any thread.
 */
bool virtio_mmio_irq_read(struct virtio_mmio_dev *dev, uint64_t offset,
			  void *data, unsigned len);
bool virtio_mmio_irq_write(struct virtio_mmio_dev *dev, uint64_t offset,
			   const void *data, unsigned len);

/*
 * A guest access at 'offset' inside the window. Registers take 4-byte
 * aligned accesses only; config space 1, 2 or 4 bytes, naturally aligned.
 * Anything else is a guest error: the device goes NEEDS_RESET, a read
 * returns zeros. Returns 0, or -EINVAL after such a guest error.
 */
int virtio_mmio_read(struct virtio_mmio_dev *dev, uint64_t offset, void *data,
		     unsigned len);
int virtio_mmio_write(struct virtio_mmio_dev *dev, uint64_t offset,
		      const void *data, unsigned len);

/*
 * A queue notification, from a QueueNotify write or from the VMM's
 * ioeventfd for that register. Before DRIVER_OK, for a queue that does not
 * exist or is not ready: guest error. Returns 0 or -EINVAL.
 */
int virtio_mmio_notify(struct virtio_mmio_dev *dev, uint32_t value);

/*
 * For fronts. pop: 1 with a validated chain, 0 when there is nothing to do
 * (ring empty, queue or device not running, device in NEEDS_RESET), or a
 * negative -VIRTQ_E_* after which the device is in NEEDS_RESET.
 * push: give back a popped chain (-VIRTQ_E_* on a front bug).
 * signal_used: raise the used-buffer interrupt if the driver wants one.
 */
int virtio_mmio_pop(struct virtio_mmio_dev *dev, unsigned qi,
		    struct virtq_chain *chain);
int virtio_mmio_push(struct virtio_mmio_dev *dev, unsigned qi, uint16_t head,
		     uint32_t written);
/* push for n chains made visible to the driver together. */
int virtio_mmio_push_n(struct virtio_mmio_dev *dev, unsigned qi,
		       const uint16_t *head, const uint32_t *written,
		       unsigned n);
void virtio_mmio_signal_used(struct virtio_mmio_dev *dev, unsigned qi);

/*
 * The guest broke a rule (also for fronts finding a bad request): set
 * NEEDS_RESET, raise a configuration-change interrupt, log one line naming
 * the rule. Later failures before the next reset are silent.
 */
void virtio_mmio_fail(struct virtio_mmio_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The device changed its config: new generation, config interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio_dev *dev);

/* Whether queues may be processed: DRIVER_OK, not FAILED, not broken. */
bool virtio_mmio_running(const struct virtio_mmio_dev *dev);

/* The features both sides agreed on (valid once FEATURES_OK is set). */
static inline uint64_t virtio_mmio_features(const struct virtio_mmio_dev *dev)
{
	return dev->driver_features;
}

#endif
