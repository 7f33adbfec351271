/* virtio_mmio.c: virtio-mmio v2 register state machine of one device. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vcpu/core/trace.h"
#include "vcpu/virtio/virtio_mmio.h"

/* One line through the VMM's hook, at most LOG_BURST a second. */
static void virtio_mmio_vlog(struct virtio_mmio_dev *dev, const char *fmt,
			     va_list ap)
{
	char msg[160], line[224];
	unsigned dropped;

	if (!dev->log || !log_ratelimit_ok(&dev->log_rl, &dropped))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (dropped)
		snprintf(line, sizeof(line),
			 "virtio-mmio %s: %s (%u suppressed)", dev->name, msg,
			 dropped);
	else
		snprintf(line, sizeof(line), "virtio-mmio %s: %s", dev->name,
			 msg);
	dev->log(dev->host_opaque, line);
}

static void __attribute__((format(printf, 2, 3)))
virtio_mmio_log(struct virtio_mmio_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	virtio_mmio_vlog(dev, fmt, ap);
	va_end(ap);
}

static void virtio_mmio_raise(struct virtio_mmio_dev *dev, uint32_t bits)
{
	__atomic_fetch_or(&dev->interrupt_status, bits, __ATOMIC_SEQ_CST);
	if (dev->irq)
		dev->irq(dev->host_opaque, true);
}

void virtio_mmio_fail(struct virtio_mmio_dev *dev, const char *fmt, ...)
{
	char rule[160];
	va_list ap;

	if (dev->needs_reset)
		return;
	dev->needs_reset = true;
	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	virtio_mmio_log(dev, "needs reset: %s", rule);
	if (trace_on()) {
		struct trace_event e = {
			.op = "violation", .syscall = "none", .text = rule};

		trace_emit(dev->name, &e);
	}
	virtio_mmio_raise(dev, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio_dev *dev)
{
	dev->config_generation++;
	virtio_mmio_raise(dev, VIRTIO_MMIO_INT_CONFIG);
}

bool virtio_mmio_running(const struct virtio_mmio_dev *dev)
{
	return !dev->needs_reset && (dev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(dev->status & VIRTIO_STATUS_FAILED);
}

/*
 * The device's own bits, and of the transport range only what this
 * transport implements: a device (or the server behind it) cannot make the
 * guest use packed rings or in-order completion, which nothing here serves.
 */
static uint64_t virtio_mmio_offered(const struct virtio_mmio_dev *dev)
{
	return (dev->ops->features & VIRTIO_DEVICE_FEATURE_MASK) |
	       VIRTIO_MMIO_TRANSPORT_FEATURES;
}

/* Back to the state after power-on; the config generation keeps counting. */
static void virtio_mmio_reset(struct virtio_mmio_dev *dev)
{
	uint32_t had_irq;

	dev->status = 0;
	dev->needs_reset = false;
	dev->device_features_sel = 0;
	dev->driver_features_sel = 0;
	dev->driver_features = 0;
	dev->driver_features_high = false;
	dev->queue_sel = 0;
	memset(dev->queue, 0, sizeof(dev->queue));
	had_irq = __atomic_exchange_n(&dev->interrupt_status, 0,
				      __ATOMIC_SEQ_CST);
	if (had_irq && dev->irq)
		dev->irq(dev->host_opaque, false);
	if (dev->ops->reset)
		dev->ops->reset(dev->opaque);
}

int virtio_mmio_init(struct virtio_mmio_dev *dev, const char *name,
		     const struct virtio_dev_ops *ops, void *opaque,
		     const struct guest_mem *mem, virtio_mmio_irq_fn *irq,
		     virtio_mmio_log_fn *log, void *host_opaque)
{
	if (!ops->nr_queues || ops->nr_queues > VIRTIO_MMIO_MAX_QUEUES ||
	    ops->config_size > VIRTIO_MMIO_CONFIG_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < ops->nr_queues; i++) {
		uint16_t max = ops->queue_max[i];

		if (!max || (max & (max - 1)))
			return -EINVAL;
	}
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->ops = ops;
	dev->opaque = opaque;
	dev->mem = mem;
	dev->irq = irq;
	dev->log = log;
	dev->host_opaque = host_opaque;
	dev->log_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(
		1000, VIRTIO_MMIO_LOG_BURST);
	return 0;
}

/*
 * FEATURES_OK is granted only for a subset of what was offered that
 * includes VERSION_1 (this transport has no legacy mode).
 */
static bool virtio_mmio_features_ok(struct virtio_mmio_dev *dev)
{
	uint64_t extra = dev->driver_features & ~virtio_mmio_offered(dev);

	if (!(dev->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		virtio_mmio_log(dev, "features refused: no VERSION_1");
		return false;
	}
	if (extra || dev->driver_features_high) {
		virtio_mmio_log(dev,
				"features refused: not offered %#llx%s",
				(unsigned long long)extra,
				dev->driver_features_high ? " and bits >63" :
							    "");
		return false;
	}
	return true;
}

/*
 * Status writes: only 0 clears bits; each new bit needs the one before it
 * in the initialization sequence. A refused FEATURES_OK is simply not set
 * (the driver reads Status back); other disorder is a guest error.
 */
static void virtio_mmio_set_status(struct virtio_mmio_dev *dev, uint32_t val)
{
	const uint32_t known = VIRTIO_STATUS_ACKNOWLEDGE |
			       VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK |
			       VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED;
	uint32_t added;

	if (val == 0) {
		virtio_mmio_reset(dev);
		return;
	}
	/* NEEDS_RESET is the device's bit; a driver echoing it is fine. */
	val &= ~VIRTIO_STATUS_NEEDS_RESET;
	if (dev->status & ~val) {
		virtio_mmio_fail(dev, "status %#x clears bits of %#x", val,
				 dev->status);
		return;
	}
	added = val & ~dev->status;
	if (added & ~known) {
		virtio_mmio_fail(dev, "status %#x has unknown bits", val);
		return;
	}
	if ((added & VIRTIO_STATUS_DRIVER) &&
	    !(val & VIRTIO_STATUS_ACKNOWLEDGE)) {
		virtio_mmio_fail(dev, "status DRIVER before ACKNOWLEDGE");
		return;
	}
	if ((added & VIRTIO_STATUS_FEATURES_OK) &&
	    !(val & VIRTIO_STATUS_DRIVER)) {
		virtio_mmio_fail(dev, "status FEATURES_OK before DRIVER");
		return;
	}
	if ((added & VIRTIO_STATUS_FEATURES_OK) &&
	    !virtio_mmio_features_ok(dev)) {
		val &= ~VIRTIO_STATUS_FEATURES_OK;
		added &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((added & VIRTIO_STATUS_DRIVER_OK) &&
	    !(val & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_mmio_fail(dev, "status DRIVER_OK before FEATURES_OK");
		return;
	}
	dev->status = val;
	if ((added & VIRTIO_STATUS_DRIVER_OK) && dev->ops->driver_ok)
		dev->ops->driver_ok(dev->opaque);
}

/* The selected queue, or NULL (and a guest error) if it does not exist. */
static struct virtio_mmio_queue *virtio_mmio_sel(struct virtio_mmio_dev *dev,
						 const char *reg)
{
	if (dev->queue_sel >= dev->ops->nr_queues) {
		virtio_mmio_fail(dev, "%s of queue %u, which does not exist",
				 reg, dev->queue_sel);
		return NULL;
	}
	return &dev->queue[dev->queue_sel];
}

/* QueueReady = 1: every check of the driver's queue geometry. */
static void virtio_mmio_queue_enable(struct virtio_mmio_dev *dev,
				     struct virtio_mmio_queue *mq, unsigned qi)
{
	uint64_t f = dev->driver_features;
	int ret;

	if (!(dev->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_mmio_fail(dev, "queue %u enabled before FEATURES_OK",
				 qi);
		return;
	}
	if (mq->num > dev->ops->queue_max[qi]) {
		virtio_mmio_fail(dev, "queue %u: size %u above QueueNumMax %u",
				 qi, mq->num, dev->ops->queue_max[qi]);
		return;
	}
	ret = virtq_setup(&mq->vq, dev->mem, mq->num, mq->desc, mq->driver,
			  mq->device, f & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX),
			  f & VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC));
	if (ret) {
		virtio_mmio_fail(dev, "queue %u: %s", qi, virtq_err_str(ret));
		return;
	}
	if (dev->ops->queue_ready)
		dev->ops->queue_ready(dev->opaque, qi);
}

static void virtio_mmio_queue_ready(struct virtio_mmio_dev *dev,
				    uint32_t val)
{
	struct virtio_mmio_queue *mq = virtio_mmio_sel(dev, "QueueReady");

	if (!mq)
		return;
	if (val > 1) {
		virtio_mmio_fail(dev, "QueueReady %#x is neither 0 nor 1", val);
		return;
	}
	if (val == 0) {
		/*
		 * The driver may take an idle queue down (Linux does on
		 * removal, after a reset). With buffers still at the device
		 * their completions would land in whatever ring comes next:
		 * only a device reset takes those back.
		 */
		if (mq->vq.ready && mq->vq.inflight) {
			virtio_mmio_fail(dev,
					 "queue %u taken down with %u buffers "
					 "in flight",
					 dev->queue_sel, mq->vq.inflight);
			return;
		}
		virtq_reset(&mq->vq);
		return;
	}
	if (!mq->vq.ready)
		virtio_mmio_queue_enable(dev, mq, dev->queue_sel);
}

/* A write to QueueNum or an address half: only while the queue is down. */
static void virtio_mmio_queue_reg(struct virtio_mmio_dev *dev,
				  uint64_t offset, uint32_t val)
{
	struct virtio_mmio_queue *mq = virtio_mmio_sel(dev, "queue register");
	uint64_t *addr;

	if (!mq)
		return;
	if (mq->vq.ready) {
		virtio_mmio_fail(dev, "queue %u register %#llx written while ready",
				 dev->queue_sel, (unsigned long long)offset);
		return;
	}
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		mq->num = val;
		return;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		addr = &mq->desc;
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		addr = &mq->driver;
		break;
	default:
		addr = &mq->device;
		break;
	}
	if (offset & 4)
		*addr = (*addr & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*addr = (*addr & ~0xffffffffull) | val;
}

static void virtio_mmio_driver_features(struct virtio_mmio_dev *dev,
					uint32_t val)
{
	if (dev->status & VIRTIO_STATUS_FEATURES_OK) {
		virtio_mmio_fail(dev, "DriverFeatures written after FEATURES_OK");
		return;
	}
	if (dev->driver_features_sel == 0)
		dev->driver_features = (dev->driver_features &
					~0xffffffffull) | val;
	else if (dev->driver_features_sel == 1)
		dev->driver_features = (dev->driver_features &
					0xffffffffull) | ((uint64_t)val << 32);
	else if (val)
		dev->driver_features_high = true;
}

int virtio_mmio_notify(struct virtio_mmio_dev *dev, uint32_t value)
{
	if (dev->needs_reset)
		return 0;
	if (value >= dev->ops->nr_queues) {
		virtio_mmio_fail(dev, "notify of queue %u, which does not exist",
				 value);
		return -EINVAL;
	}
	if (!(dev->status & VIRTIO_STATUS_DRIVER_OK)) {
		virtio_mmio_fail(dev, "notify of queue %u before DRIVER_OK",
				 value);
		return -EINVAL;
	}
	if (!dev->queue[value].vq.ready) {
		virtio_mmio_fail(dev, "notify of queue %u, which is not ready",
				 value);
		return -EINVAL;
	}
	if (virtio_mmio_running(dev) && dev->ops->notify)
		dev->ops->notify(dev->opaque, value);
	return 0;
}

static void virtio_mmio_ack(struct virtio_mmio_dev *dev, uint32_t val)
{
	uint32_t left = __atomic_and_fetch(&dev->interrupt_status, ~val,
					   __ATOMIC_SEQ_CST);

	if (!left && dev->irq)
		dev->irq(dev->host_opaque, false);
}

bool virtio_mmio_irq_read(struct virtio_mmio_dev *dev, uint64_t offset,
			  void *data, unsigned len)
{
	uint32_t v;

	if (offset != VIRTIO_MMIO_INTERRUPT_STATUS || len != 4)
		return false;
	v = __atomic_load_n(&dev->interrupt_status, __ATOMIC_SEQ_CST);
	memcpy(data, &v, sizeof(v));
	return true;
}

bool virtio_mmio_irq_write(struct virtio_mmio_dev *dev, uint64_t offset,
			   const void *data, unsigned len)
{
	uint32_t v;

	if (offset != VIRTIO_MMIO_INTERRUPT_ACK || len != 4)
		return false;
	memcpy(&v, data, sizeof(v));
	virtio_mmio_ack(dev, v);
	return true;
}

/* Config space: naturally aligned 1, 2 or 4 bytes inside config_size. */
static bool virtio_mmio_config_ok(struct virtio_mmio_dev *dev,
				  uint64_t offset, unsigned len)
{
	uint64_t off = offset - VIRTIO_MMIO_CONFIG;

	if ((len != 1 && len != 2 && len != 4) || off % len ||
	    off >= dev->ops->config_size ||
	    len > dev->ops->config_size - off) {
		virtio_mmio_fail(dev, "config access of %u bytes at %#llx",
				 len, (unsigned long long)off);
		return false;
	}
	return true;
}

static uint32_t virtio_mmio_reg_read(struct virtio_mmio_dev *dev,
				     uint64_t offset)
{
	uint64_t features = virtio_mmio_offered(dev);
	unsigned qs = dev->queue_sel;
	bool q_ok = qs < dev->ops->nr_queues;

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (dev->device_features_sel > 1)
			return 0;
		return (uint32_t)(features >> (32 * dev->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q_ok ? dev->ops->queue_max[qs] : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q_ok && dev->queue[qs].vq.ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&dev->interrupt_status,
				       __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return dev->status |
		       (dev->needs_reset ? VIRTIO_STATUS_NEEDS_RESET : 0);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return dev->config_generation;
	default:
		/* Write-only and reserved registers read as zero. */
		return 0;
	}
}

int virtio_mmio_read(struct virtio_mmio_dev *dev, uint64_t offset, void *data,
		     unsigned len)
{
	uint32_t v;

	memset(data, 0, len);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		if (!virtio_mmio_config_ok(dev, offset, len))
			return -EINVAL;
		if (dev->ops->config_read)
			dev->ops->config_read(dev->opaque,
					      (uint32_t)(offset -
							 VIRTIO_MMIO_CONFIG),
					      data, len);
		return 0;
	}
	if (len != 4 || offset % 4) {
		virtio_mmio_fail(dev, "register read of %u bytes at %#llx",
				 len, (unsigned long long)offset);
		return -EINVAL;
	}
	v = virtio_mmio_reg_read(dev, offset);
	memcpy(data, &v, 4);
	return 0;
}

static int virtio_mmio_reg_write(struct virtio_mmio_dev *dev, uint64_t offset,
				 uint32_t val)
{
	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->device_features_sel = val;
		return 0;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_mmio_driver_features(dev, val);
		return 0;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = val;
		return 0;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val;
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		virtio_mmio_queue_reg(dev, offset, val);
		return 0;
	case VIRTIO_MMIO_QUEUE_READY:
		virtio_mmio_queue_ready(dev, val);
		return 0;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		return virtio_mmio_notify(dev, val);
	case VIRTIO_MMIO_INTERRUPT_ACK:
		virtio_mmio_ack(dev, val);
		return 0;
	case VIRTIO_MMIO_STATUS:
		virtio_mmio_set_status(dev, val);
		return 0;
	default:
		virtio_mmio_fail(dev, "write to read-only or unknown register %#llx",
				 (unsigned long long)offset);
		return -EINVAL;
	}
}

int virtio_mmio_write(struct virtio_mmio_dev *dev, uint64_t offset,
		      const void *data, unsigned len)
{
	uint32_t v;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		if (!virtio_mmio_config_ok(dev, offset, len))
			return -EINVAL;
		if (dev->ops->config_write)
			dev->ops->config_write(dev->opaque,
					       (uint32_t)(offset -
							  VIRTIO_MMIO_CONFIG),
					       data, len);
		return 0;
	}
	if (len != 4 || offset % 4) {
		virtio_mmio_fail(dev, "register write of %u bytes at %#llx",
				 len, (unsigned long long)offset);
		return -EINVAL;
	}
	memcpy(&v, data, 4);
	return virtio_mmio_reg_write(dev, offset, v);
}

int virtio_mmio_pop(struct virtio_mmio_dev *dev, unsigned qi,
		    struct virtq_chain *chain)
{
	int ret;

	if (qi >= dev->ops->nr_queues || !virtio_mmio_running(dev) ||
	    !dev->queue[qi].vq.ready)
		return 0;
	ret = virtq_pop(&dev->queue[qi].vq, dev->mem, chain);
	if (ret < 0)
		virtio_mmio_fail(dev, "queue %u: %s", qi, virtq_err_str(ret));
	return ret;
}

int virtio_mmio_push(struct virtio_mmio_dev *dev, unsigned qi, uint16_t head,
		     uint32_t written)
{
	if (qi >= dev->ops->nr_queues || dev->needs_reset)
		return -VIRTQ_E_NOT_READY;
	return virtq_push(&dev->queue[qi].vq, dev->mem, head, written);
}

int virtio_mmio_push_n(struct virtio_mmio_dev *dev, unsigned qi,
		       const uint16_t *head, const uint32_t *written,
		       unsigned n)
{
	if (qi >= dev->ops->nr_queues || dev->needs_reset)
		return -VIRTQ_E_NOT_READY;
	return virtq_push_n(&dev->queue[qi].vq, dev->mem, head, written, n);
}

void virtio_mmio_signal_used(struct virtio_mmio_dev *dev, unsigned qi)
{
	if (qi >= dev->ops->nr_queues || !virtio_mmio_running(dev))
		return;
	if (virtq_needs_interrupt(&dev->queue[qi].vq, dev->mem))
		virtio_mmio_raise(dev, VIRTIO_MMIO_INT_VRING);
}
