/*
 * virtio_dev.h: one virtio-mmio device slot on the VM: its MMIO window,
 * the KVM ioeventfds of QueueNotify watched by the I/O thread, its irqfd,
 * and its per-boot attach/reset hooks.
 *
 * Slot i has the window ISOVM_VIRTIO_MMIO_BASE + i * 0x1000 and the
 * interrupt ISOVM_VIRTIO_MMIO_IRQ_BASE + i (edge-triggered, the MP table's
 * ISA default). Register accesses from vCPUs and notifications from the
 * I/O thread both run the transport under the device's lock, which device
 * code holds only while it works, never while it waits for a device
 * server. InterruptStatus and InterruptAck skip the lock, so the guest's
 * interrupt handler does not wait behind a completion's copy.
 */
#ifndef ISOVM_VIRTIO_DEV_H
#define ISOVM_VIRTIO_DEV_H

#include <pthread.h>
#include <stdint.h>

#include "vcpu/core/iothread.h"
#include "vcpu/virtio/virtio_mmio.h"
#include "vcpu/vm/vm.h"

struct virtio_dev;

/* What a kick watch hands the I/O thread: device and queue. */
struct virtio_dev_kick {
	struct virtio_dev *d;
	unsigned qi;
};

struct virtio_dev {
	struct virtio_mmio_dev mmio; /* under lock */
	pthread_mutex_t lock;
	struct iothread *io;
	uint64_t base; /* guest-physical window */
	unsigned gsi;
	unsigned nr_queues;
	int irq_efd; /* owned; irqfd of gsi while attached */
	int kick_efd[VIRTIO_MMIO_MAX_QUEUES]; /* owned; ioeventfds */
	struct event *kick_ev[VIRTIO_MMIO_MAX_QUEUES];
	struct virtio_dev_kick kick_arg[VIRTIO_MMIO_MAX_QUEUES];
	int attached_fd; /* the VM fd it is attached to, or -1 */
};

/*
 * Between vm_init() and vm_run(): set up the transport with 'ops'/'opaque'
 * (both outlive the device), register the window on vm->mmio, the per-boot
 * hooks and "virtio_mmio.device=4K@ADDR:IRQ" on the guest command line, and
 * the kick eventfds on 'io'. Returns 0 or -errno.
 */
int virtio_dev_init(struct virtio_dev *d, struct vm *vm, struct iothread *io,
		    unsigned slot, const char *name,
		    const struct virtio_dev_ops *ops, void *opaque);

/* After the I/O thread stopped and the VM ended: unwatch, close fds. */
void virtio_dev_fini(struct virtio_dev *d);

#endif
