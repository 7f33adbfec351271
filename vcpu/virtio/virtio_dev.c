/* virtio_dev.c: a virtio-mmio device slot: window, ioeventfds, irqfd. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/core/kvm.h"
#include "vcpu/log.h"
#include "vcpu/virtio/virtio_dev.h"

static void virtio_dev_mmio_read(void *opaque, uint64_t offset, uint8_t *data,
				 unsigned len)
{
	struct virtio_dev *d = opaque;

	/* The guest's interrupt handler never waits behind a bulk copy. */
	if (virtio_mmio_irq_read(&d->mmio, offset, data, len))
		return;
	pthread_mutex_lock(&d->lock);
	virtio_mmio_read(&d->mmio, offset, data, len);
	pthread_mutex_unlock(&d->lock);
}

static void virtio_dev_mmio_write(void *opaque, uint64_t offset,
				  const uint8_t *data, unsigned len)
{
	struct virtio_dev *d = opaque;

	if (virtio_mmio_irq_write(&d->mmio, offset, data, len))
		return;
	pthread_mutex_lock(&d->lock);
	virtio_mmio_write(&d->mmio, offset, data, len);
	pthread_mutex_unlock(&d->lock);
}

static const struct io_bus_ops virtio_dev_io_ops = {
	.read = virtio_dev_mmio_read,
	.write = virtio_dev_mmio_write,
};

/*
 * The line is edge-triggered: one eventfd write per new interrupt. Between
 * boots there is no irqfd and the write only bumps a counter nobody reads,
 * so no interrupt leaks into the next boot (attach drains it).
 */
static void virtio_dev_irq(void *host_opaque, bool level)
{
	struct virtio_dev *d = host_opaque;
	uint64_t one = 1;

	if (level && write(d->irq_efd, &one, sizeof(one)) < 0)
		log_debug("%s: irq eventfd: %s", d->mmio.name, strerror(errno));
}

static void virtio_dev_log(void *host_opaque, const char *line)
{
	(void)host_opaque;
	log_warn("%s", line);
}

/* I/O thread: the guest wrote QueueNotify for this queue. */
static void virtio_dev_kicked(int fd, void *arg)
{
	struct virtio_dev_kick *k = arg;
	struct virtio_dev *d = k->d;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return; /* spurious: the counter was drained already */
	pthread_mutex_lock(&d->lock);
	/* Between boots (or before DRIVER_OK) the transport refuses it. */
	if (d->attached_fd >= 0)
		virtio_mmio_notify(&d->mmio, k->qi);
	pthread_mutex_unlock(&d->lock);
}

static void virtio_dev_drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

static int virtio_dev_attach(void *opaque, struct vm *vm, int vm_fd)
{
	struct virtio_dev *d = opaque;
	uint64_t notify = d->base + VIRTIO_MMIO_QUEUE_NOTIFY;
	unsigned qi;
	int ret;

	(void)vm;
	virtio_dev_drain(d->irq_efd);
	ret = kvm_irqfd_add(vm_fd, d->gsi, d->irq_efd, -1);
	if (ret)
		return ret;
	for (qi = 0; qi < d->nr_queues; qi++) {
		ret = kvm_ioeventfd_add(vm_fd, notify, 4, d->kick_efd[qi],
					false, qi);
		if (ret)
			goto err_del_kicks;
	}
	pthread_mutex_lock(&d->lock);
	d->attached_fd = vm_fd;
	pthread_mutex_unlock(&d->lock);
	return 0;

err_del_kicks:
	while (qi-- > 0)
		kvm_ioeventfd_del(vm_fd, notify, 4, d->kick_efd[qi], false, qi);
	kvm_irqfd_del(vm_fd, d->gsi, d->irq_efd);
	return ret;
}

/* vCPUs stopped: the guest's driver is gone, so is the device state. */
static void virtio_dev_reset(void *opaque, struct vm *vm)
{
	struct virtio_dev *d = opaque;
	uint64_t notify = d->base + VIRTIO_MMIO_QUEUE_NOTIFY;
	uint32_t zero = 0;
	int fd;

	(void)vm;
	pthread_mutex_lock(&d->lock);
	fd = d->attached_fd;
	d->attached_fd = -1;
	/* A status write of 0 is the transport's own reset path. */
	virtio_mmio_write(&d->mmio, VIRTIO_MMIO_STATUS, &zero, sizeof(zero));
	pthread_mutex_unlock(&d->lock);
	if (fd < 0)
		return;
	for (unsigned qi = 0; qi < d->nr_queues; qi++)
		kvm_ioeventfd_del(fd, notify, 4, d->kick_efd[qi], false, qi);
	kvm_irqfd_del(fd, d->gsi, d->irq_efd);
}

static const struct vm_device_ops virtio_dev_vm_ops = {
	.attach = virtio_dev_attach,
	.reset = virtio_dev_reset,
};

static int virtio_dev_fds(struct virtio_dev *d)
{
	d->irq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->irq_efd < 0)
		return -errno;
	for (unsigned qi = 0; qi < d->nr_queues; qi++) {
		d->kick_efd[qi] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->kick_efd[qi] < 0)
			return -errno;
		d->kick_arg[qi].d = d;
		d->kick_arg[qi].qi = qi;
		d->kick_ev[qi] =
			iothread_watch(d->io, d->kick_efd[qi],
				       virtio_dev_kicked, &d->kick_arg[qi]);
		if (!d->kick_ev[qi])
			return -ENOMEM;
	}
	return 0;
}

int virtio_dev_init(struct virtio_dev *d, struct vm *vm, struct iothread *io,
		    unsigned slot, const char *name,
		    const struct virtio_dev_ops *ops, void *opaque)
{
	char words[64];
	int ret;

	if (slot >= ISOVM_VIRTIO_MMIO_MAX)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->io = io;
	d->base = ISOVM_VIRTIO_MMIO_BASE + slot * ISOVM_VIRTIO_MMIO_STRIDE;
	d->gsi = ISOVM_VIRTIO_MMIO_IRQ_BASE + slot;
	d->nr_queues = ops->nr_queues;
	d->attached_fd = -1;
	d->irq_efd = -1;
	for (unsigned qi = 0; qi < VIRTIO_MMIO_MAX_QUEUES; qi++)
		d->kick_efd[qi] = -1;
	ret = pthread_mutex_init(&d->lock, NULL);
	if (ret)
		return -ret;
	ret = virtio_mmio_init(&d->mmio, name, ops, opaque, &vm->mem,
			       virtio_dev_irq, virtio_dev_log, d);
	if (ret)
		goto err_fini;
	ret = virtio_dev_fds(d);
	if (ret)
		goto err_fini;
	ret = io_bus_register(&vm->mmio, d->base, VIRTIO_MMIO_WINDOW,
			      &virtio_dev_io_ops, d, d->mmio.name);
	if (ret)
		goto err_fini;
	ret = vm_add_device(vm, &virtio_dev_vm_ops, d);
	if (ret)
		goto err_fini;
	snprintf(words, sizeof(words), "virtio_mmio.device=4K@%#llx:%u",
		 (unsigned long long)d->base, d->gsi);
	ret = vm_cmdline_add(vm, words);
	if (ret)
		goto err_fini;
	return 0;

err_fini:
	/* A registered range or hook cannot be taken back: vm_init fails. */
	virtio_dev_fini(d);
	return ret;
}

void virtio_dev_fini(struct virtio_dev *d)
{
	for (unsigned qi = 0; qi < VIRTIO_MMIO_MAX_QUEUES; qi++) {
		if (d->kick_ev[qi])
			iothread_unwatch(d->kick_ev[qi]);
		d->kick_ev[qi] = NULL;
		if (d->kick_efd[qi] >= 0)
			close(d->kick_efd[qi]);
		d->kick_efd[qi] = -1;
	}
	if (d->irq_efd >= 0)
		close(d->irq_efd);
	d->irq_efd = -1;
	pthread_mutex_destroy(&d->lock);
}
