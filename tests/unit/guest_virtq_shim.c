/* guest_virtq_shim.c: host stand-ins for the runtime under the guest's virtq.c.
 */
#include <stdlib.h>
#include <string.h>

#include "guest-drivers/testguest/boot/kernel.h"
#include "guest-drivers/testguest/rt/wait.h"
#include "guest-drivers/testguest/virtio/dma.h"
#include "guest-drivers/testguest/virtio/virtq.h"
#include "tests/unit/guest_virtq_shim.h"

#define GQ_ARENA (4u << 20)

volatile uint64_t irq_counts[256];

static _Alignas(4096) uint8_t gq_mem[GQ_ARENA];
static size_t gq_used_bytes;
static struct vmmio_dev gq_dev;
static struct virtq gq_q;
static uint32_t gq_qmax;
static uint64_t gq_desc, gq_avail, gq_usedr;
static uint32_t gq_num;
static unsigned gq_notify_count;
static void (*gq_device_cb)(void);
static int gq_deadline_due;
static uint32_t gq_status;

void *dma_alloc(size_t size, size_t align)
{
	size_t at = (gq_used_bytes + align - 1) & ~(align - 1);

	if (at > GQ_ARENA || size > GQ_ARENA - at)
		return NULL;
	gq_used_bytes = at + size;
	memset(gq_mem + at, 0, size);
	return gq_mem + at;
}

uint32_t vmmio_queue_max(struct vmmio_dev *d, unsigned q)
{
	(void)d;
	(void)q;
	return gq_qmax;
}

int vmmio_queue_setup(struct vmmio_dev *d, unsigned q, uint32_t num,
		      uint64_t desc, uint64_t driver, uint64_t device)
{
	(void)d;
	(void)q;
	gq_num = num;
	gq_desc = desc;
	gq_avail = driver;
	gq_usedr = device;
	return 0;
}

void vmmio_write(struct vmmio_dev *d, uint32_t off, uint32_t v)
{
	(void)d;
	(void)v;
	if (off == VMMIO_QUEUE_NOTIFY)
		gq_notify_count++;
}

uint32_t vmmio_status(const struct vmmio_dev *d)
{
	(void)d;
	return gq_status;
}

uint32_t vmmio_isr_ack(struct vmmio_dev *d)
{
	(void)d;
	return 0;
}

uint64_t clock_deadline_us(uint64_t us)
{
	return us;
}

int clock_expired(uint64_t deadline)
{
	(void)deadline;
	return gq_deadline_due;
}

int wait_counter(const volatile uint64_t *counter, uint64_t seen,
		 uint64_t deadline)
{
	(void)counter;
	(void)seen;
	(void)deadline;
	gq_deadline_due = 1; /* one sleep, then the deadline has passed */
	if (gq_device_cb) {
		gq_device_cb();
		return 0;
	}
	return -TG_ETIMEDOUT; /* a silent device: the slice ran out */
}

void gq_arena(uint8_t **base, uint64_t *size)
{
	*base = gq_mem;
	*size = GQ_ARENA;
}

int gq_new(uint32_t qmax, unsigned size, bool event_idx, bool indirect,
	   bool poll)
{
	gq_used_bytes = 0;
	gq_notify_count = 0;
	gq_status = 0;
	gq_qmax = qmax;
	memset(&gq_dev, 0, sizeof(gq_dev));
	gq_dev.features = 1ull << VIRTIO_F_VERSION_1;
	if (event_idx)
		gq_dev.features |= 1ull << VIRTIO_F_EVENT_IDX;
	if (indirect)
		gq_dev.features |= 1ull << VIRTIO_F_INDIRECT_DESC;
	gq_dev.poll = poll;
	gq_dev.pin = poll ? -1 : 5;
	return virtq_init(&gq_q, &gq_dev, 0, size, VIRTQ_INDIRECT_MAX);
}

void gq_rings(uint64_t *desc, uint64_t *avail, uint64_t *used, uint32_t *num)
{
	*desc = gq_desc;
	*avail = gq_avail;
	*used = gq_usedr;
	*num = gq_num;
}

int gq_add(const uint64_t *addr, const uint32_t *len, const bool *write,
	   unsigned n, uintptr_t cookie)
{
	struct virtq_buf b[VIRTQ_SIZE_MAX];
	unsigned i;

	if (n > VIRTQ_SIZE_MAX)
		return -TG_EINVAL;
	for (i = 0; i < n; i++)
		b[i] = (struct virtq_buf){addr[i], len[i], write[i]};
	return virtq_add(&gq_q, b, n, (void *)cookie);
}

void gq_kick(void)
{
	virtq_kick(&gq_q);
}

int gq_get(uintptr_t *cookie, uint32_t *len)
{
	void *c = NULL;
	int ret = virtq_get(&gq_q, &c, len);

	*cookie = (uintptr_t)c;
	return ret;
}

unsigned gq_nfree(void)
{
	return gq_q.nfree;
}

unsigned gq_notifies(void)
{
	return gq_notify_count;
}

unsigned gq_indirect_max(void)
{
	return gq_q.indirect_max;
}

void gq_set_status(uint32_t status)
{
	gq_status = status;
}

int gq_wait(void (*device_cb)(void))
{
	int ret;

	gq_device_cb = device_cb;
	gq_deadline_due = 0;
	ret = virtq_wait(&gq_q, 1000);
	gq_device_cb = NULL;
	return ret;
}
