/*
 * test_front.c: the generic device front between a guest virtqueue (the
 * real transport on fake guest RAM) and a real data plane whose server
 * side this test plays. The I/O thread's loop is turned by hand.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ipc/dataplane.h"
#include "vcpu/core/iothread.h"
#include "vcpu/front/front.h"

#define RAM_GPA	  0x100000ull
#define RAM_SIZE  (1ull << 20)
#define DESC_GPA  (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x4000)
#define USED_GPA  (RAM_GPA + 0x8000)
#define BUF_GPA	  (RAM_GPA + 0x10000)
#define QSIZE	  16
#define OP_UPPER  100 /* the fake device: upper-case the payload back */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct guest_mem mem;
static struct virtio_mmio_dev dev;
static struct ipc_dp_vmm dp;
static struct ipc_dp_srv srv;
static struct front fr;
static struct iothread io;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint16_t avail_idx, next_desc;
static int resets_seen, pumps_seen;
static unsigned spin_left; /* 'S' chains the guest still adds */

static void *gp(uint64_t gpa)
{
	return guest_mem_ptr(&mem, gpa, 1);
}

static uint16_t post(const char *in, uint32_t wlen);

/* Fake device front: one request per chain, readable bytes in. */
static int fake_chain(struct front *f, struct front_chain *c)
{
	struct ipc_req r;
	uint8_t first = 0;
	uint32_t len = c->vc.readable_len > c->vc.writable_len
			       ? c->vc.readable_len
			       : c->vc.writable_len;

	virtq_chain_read(f->vdev->mem, &c->vc, 0, &first, 1);
	if (first == 'X') {
		virtio_mmio_fail(f->vdev, "fake: request starts with X");
		return -EINVAL;
	}
	if (first == 'Z')
		return 0; /* done at once, nothing written */
	if (first == 'S') {
		/* A guest on another vCPU refills the ring meanwhile. */
		if (spin_left) {
			spin_left--;
			post("S", 0);
		}
		return 0;
	}
	memset(&r, 0, sizeof(r));
	r.op = OP_UPPER;
	r.args.blk.count = c->vc.readable_len;
	return front_req(f, c, &r, len ? len : 1, NULL, 0, c->vc.readable_len,
			 NULL);
}

static void fake_done(struct front *f, struct front_chain *c,
		      const struct ipc_dp_done *d, const void *buf)
{
	if (!c || c->orphan || d->status)
		return;
	c->written = (uint32_t)front_copy_out(f, c, 0, buf, d->len);
}

static void fake_reset(struct front *f)
{
	(void)f;
	resets_seen++;
}

static void fake_pump(struct front *f)
{
	(void)f;
	pumps_seen++;
}

static const struct front_ops fake_front_ops = {
	.chain = fake_chain,
	.done = fake_done,
	.reset = fake_reset,
	.pump = fake_pump,
};

static void t_notify(void *opaque, unsigned qi)
{
	front_notify(opaque, qi);
}

static void t_reset(void *opaque)
{
	front_reset(opaque);
}

static const struct virtio_dev_ops t_ops = {
	.device_id = 99,
	.nr_queues = 1,
	.queue_max = {QSIZE},
	.notify = t_notify,
	.reset = t_reset,
};

static int wr(uint64_t off, uint32_t v)
{
	return virtio_mmio_write(&dev, off, &v, 4);
}

static void bring_up(void)
{
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	wr(VIRTIO_MMIO_STATUS, st);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	wr(VIRTIO_MMIO_STATUS, st |= VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(virtio_mmio_running(&dev));
}

static void open_all(uint32_t sq, uint32_t slot, uint32_t slots)
{
	struct ipc_geom g = {sq, sq, slot, slots};
	uint8_t *ram = calloc(1, RAM_SIZE);

	cr_assert_not_null(ram);
	memset(&mem, 0, sizeof(mem));
	mem.region[0] = (struct guest_mem_region){RAM_GPA, RAM_SIZE, ram, 0};
	mem.nr_regions = 1;
	mem.ram_size = RAM_SIZE;
	mem.memfd = -1;
	avail_idx = next_desc = 0;
	resets_seen = pumps_seen = 0;
	spin_left = 0;
	cr_assert_eq(iothread_init(&io), 0);
	cr_assert_eq(ipc_dp_vmm_open(&dp, &g, 1), 0);
	cr_assert_eq(
		ipc_dp_srv_open(&srv, dp.reg.fd, dp.srv_kick_fd, dp.srv_call_fd,
				NULL),
		0);
	cr_assert_eq(virtio_mmio_init(&dev, "fake0", &t_ops, &fr, &mem, NULL,
				      NULL, NULL),
		     0);
	cr_assert_eq(front_init(&fr, &fake_front_ops, NULL, &dev, &lock, &dp,
				&io, 1, QSIZE),
		     0);
	bring_up();
}

static void close_all(void)
{
	front_fini(&fr);
	iothread_fini(&io);
	ipc_dp_srv_close(&srv);
	ipc_dp_vmm_close(&dp);
	free(mem.region[0].host);
}

/* Guest: a chain of one readable buffer 'in' and one writable of wlen. */
static uint16_t post(const char *in, uint32_t wlen)
{
	struct desc *d = gp(DESC_GPA);
	uint16_t head = next_desc, i = next_desc;
	uint64_t buf = BUF_GPA + (uint64_t)head * 0x1000;
	uint16_t *avail = gp(AVAIL_GPA);

	memcpy(gp(buf), in, strlen(in));
	d[i] = (struct desc){buf, (uint32_t)strlen(in), 0, 0};
	if (wlen) {
		d[i].flags = 1; /* NEXT */
		d[i].next = (uint16_t)((i + 1) % QSIZE);
		i = d[i].next;
		d[i] = (struct desc){buf + 0x800, wlen, 2 /* WRITE */, 0};
	}
	next_desc = (uint16_t)((i + 1) % QSIZE);
	avail[2 + avail_idx % QSIZE] = head;
	__atomic_store_n(&avail[1], ++avail_idx, __ATOMIC_RELEASE);
	return head;
}

static void notify(void)
{
	pthread_mutex_lock(&lock);
	front_notify(&fr, 0);
	pthread_mutex_unlock(&lock);
}

/* One turn of the I/O thread's loop: whatever is ready runs, no wait. */
static void turn(void)
{
	cr_assert_geq(event_base_loop(io.base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		      0);
}

static uint16_t used_idx(void)
{
	return __atomic_load_n((uint16_t *)gp(USED_GPA) + 1, __ATOMIC_ACQUIRE);
}

static void used_elem(unsigned n, uint32_t *id, uint32_t *len)
{
	uint32_t *e = (uint32_t *)((uint8_t *)gp(USED_GPA) + 4 + 8 * n);

	*id = e[0];
	*len = e[1];
}

/* Server: answer up to max requests (upper-case); returns how many. */
static int serve(unsigned max)
{
	struct ipc_req req[64];
	struct ipc_cpl cpl[64];
	int n = ipc_dp_srv_next(&srv, req, max < 64 ? max : 64);

	cr_assert_geq(n, 0);
	for (int i = 0; i < n; i++) {
		uint8_t *b = ipc_dp_srv_buf(&srv, &req[i]);
		uint32_t k = req[i].args.blk.count;

		cr_assert_eq(req[i].op, OP_UPPER);
		cr_assert_not_null(b);
		for (uint32_t j = 0; j < k; j++)
			b[j] = (uint8_t)toupper(b[j]);
		memset(&cpl[i], 0, sizeof(cpl[i]));
		cpl[i].id = req[i].id;
		cpl[i].len = k;
	}
	if (n)
		cr_assert_eq(ipc_dp_srv_complete(&srv, cpl, (unsigned)n), n);
	return n;
}

TestSuite(front, .fini = close_all);

Test(front, a_chain_goes_to_the_server_and_comes_back_as_used)
{
	uint32_t id, len;
	uint16_t head;

	open_all(8, 64, 64);
	head = post("hello", 16);
	notify();
	cr_assert_eq(fr.inflight, 1);
	cr_assert_eq(used_idx(), 0, "not used before the server answered");
	cr_assert_eq(serve(8), 1);
	cr_assert_eq(front_reap(&fr), 1);
	cr_assert_eq(used_idx(), 1);
	used_elem(0, &id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(gp(BUF_GPA + head * 0x1000 + 0x800), "HELLO", 5),
		     0);
	cr_assert_eq(fr.inflight, 0);
	cr_assert_eq(dp.arena.nfree, 64, "arena given back");
}

Test(front, a_batch_kicks_a_sleeping_server_once)
{
	unsigned char b[8];

	open_all(8, 64, 64);
	cr_assert_eq(ipc_notify_arm(&srv.sq_wait), 0, "server goes to sleep");
	for (int i = 0; i < 4; i++)
		post("abc", 8);
	notify();
	cr_assert_eq(fr.st.requests, 4);
	cr_assert_eq(read(dp.srv_kick_fd, b, sizeof(b)), 1,
		     "one kick for the batch");
	ipc_notify_disarm(&srv.sq_wait);
	cr_assert_eq(serve(8), 4);
	cr_assert_eq(front_reap(&fr), 4);
	cr_assert_eq(used_idx(), 4);
}

Test(front, a_full_ring_stops_popping_and_completions_resume_it)
{
	uint32_t id, len;
	uint16_t heads[8];

	open_all(2, 64, 64); /* two requests in flight at most */
	for (int i = 0; i < 8; i++)
		heads[i] = post("xy", 4);
	notify();
	cr_assert_eq(fr.inflight, 2);
	for (int round = 0; round < 4; round++) {
		cr_assert_eq(serve(8), 2, "round %d", round);
		cr_assert_eq(front_reap(&fr), 2);
	}
	cr_assert_eq(used_idx(), 8, "no chain lost");
	for (unsigned i = 0; i < 8; i++) {
		used_elem(i, &id, &len);
		cr_assert_eq(id, heads[i], "in order");
		cr_assert_eq(len, 2);
	}
	cr_assert_geq(fr.st.stalls, 1);
}

Test(front, a_full_arena_stalls_the_chain_that_does_not_fit)
{
	char big[200];

	open_all(16, 64, 4); /* 256 bytes of arena */
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	post(big, 8);	  /* 199 bytes: 4 slots */
	post("small", 8); /* must wait for the first */
	notify();
	cr_assert_eq(fr.inflight, 1);
	cr_assert_not_null(fr.stalled[0]);
	cr_assert_eq(serve(8), 1);
	cr_assert_eq(front_reap(&fr), 1);
	cr_assert_eq(fr.inflight, 1, "the stalled chain went out");
	cr_assert_eq(serve(8), 1);
	cr_assert_eq(front_reap(&fr), 1);
	cr_assert_eq(used_idx(), 2);
}

Test(front, a_device_reset_orphans_chains_and_frees_them_on_completion)
{
	open_all(8, 64, 64);
	post("one", 8);
	post("two", 8);
	notify();
	cr_assert_eq(fr.inflight, 2);
	cr_assert_eq(wr(VIRTIO_MMIO_STATUS, 0), 0); /* guest resets */
	cr_assert_eq(resets_seen, 1);
	cr_assert_eq(fr.st.orphans, 2);
	cr_assert_eq(serve(8), 2);
	cr_assert_eq(front_reap(&fr), 2);
	cr_assert_eq(used_idx(), 0, "nothing pushed after the reset");
	cr_assert_eq(fr.inflight, 0);
	cr_assert_eq(dp.arena.nfree, 64);
	cr_assert_not_null(fr.free);
}

Test(front, a_refused_chain_puts_the_device_in_needs_reset)
{
	open_all(8, 64, 64);
	post("Xbad", 8);
	notify();
	cr_assert(dev.needs_reset);
	cr_assert_eq(fr.inflight, 0);
	cr_assert_eq(dp.arena.nfree, 64, "the stage was undone");
}

Test(front, a_chain_without_requests_is_used_at_once)
{
	uint32_t id, len;

	open_all(8, 64, 64);
	post("Z", 8);
	notify();
	cr_assert_eq(used_idx(), 1);
	used_elem(0, &id, &len);
	cr_assert_eq(len, 0);
}

Test(front, a_bad_completion_is_an_error_and_chains_stay)
{
	struct ipc_cpl bogus = {.id = 0x7777000000003ull, .len = 0};

	open_all(8, 64, 64);
	post("abc", 8);
	notify();
	cr_assert_eq(ipc_dp_srv_complete(&srv, &bogus, 1), 1);
	cr_assert_lt(front_reap(&fr), 0);
	cr_assert(fr.dead);
	cr_assert_eq(used_idx(), 0);
	cr_assert_eq(ipc_inflight_count(&dp.inf), 1, "kept for a restart");
}

Test(front, own_requests_complete_with_their_tag)
{
	static char tag;
	struct ipc_req r = {.op = OP_UPPER};

	open_all(8, 64, 64);
	pthread_mutex_lock(&lock);
	cr_assert_eq(front_req(&fr, NULL, &r, 4, "abcd", 0, 4, &tag), 0);
	pthread_mutex_unlock(&lock);
	cr_assert_eq(fr.inflight, 1);
	r.args.blk.count = 0;
	cr_assert_eq(serve(8), 1);
	cr_assert_eq(front_reap(&fr), 1);
	cr_assert_eq(fr.inflight, 0);
	cr_assert_geq(pumps_seen, 1, "pump runs after completions");
}

/* Another device's event on the same loop: when did it run? */
struct other {
	unsigned runs;
	uint16_t used_at; /* the spinning queue's used idx then */
};

static void other_ready(int fd, void *arg)
{
	struct other *o = arg;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	o->runs++;
	o->used_at = used_idx();
}

/*
 * The guest keeps adding chains the front completes itself: without a
 * budget one notify would take all of them while every other event of
 * the I/O thread waits.
 */
Test(front, a_queue_kept_full_yields_to_other_events_after_the_budget)
{
	const unsigned total = 8 + 1000; /* 14 budgets and 48 after the first */
	struct other o = {0};
	unsigned turns = 0;
	struct event *ev;
	uint16_t before;
	uint64_t one = 1;
	int efd;

	open_all(8, 64, 64);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	cr_assert_geq(efd, 0);
	ev = iothread_watch(&io, efd, other_ready, &o);
	cr_assert_not_null(ev);
	spin_left = total - 8;
	for (int i = 0; i < 8; i++)
		post("S", 0);
	notify();
	cr_assert_eq(used_idx(), FRONT_BUDGET, "one pass takes one budget");
	cr_assert_eq(fr.st.yields, 1);
	while (used_idx() != total && turns < 100) {
		before = used_idx();
		cr_assert_eq(write(efd, &one, sizeof(one)),
			     (ssize_t)sizeof(one));
		turn();
		turns++;
		cr_assert_eq(o.runs, turns, "the other event ran in turn %u",
			     turns);
		cr_assert_eq(o.used_at, before,
			     "it ran before the deferred pass, not after");
		cr_assert_leq((uint16_t)(used_idx() - before), FRONT_BUDGET);
		cr_assert_gt((uint16_t)(used_idx() - before), 0,
			     "each turn moves the queue on");
	}
	cr_assert_eq(used_idx(), total, "no chain lost");
	cr_assert_eq(turns, (total - 1) / FRONT_BUDGET);
	cr_assert_eq(fr.st.longest, FRONT_BUDGET);
	cr_assert_eq(event_base_loop(io.base, EVLOOP_ONCE | EVLOOP_NONBLOCK |
						      EVLOOP_NO_EXIT_ON_EMPTY),
		     0);
	cr_assert_eq(o.runs, turns, "nothing more ran");
	iothread_unwatch(ev);
	close(efd);
}

Test(front, a_pass_that_empties_the_queue_defers_nothing)
{
	open_all(8, 64, 64);
	for (int i = 0; i < 10; i++)
		post("Z", 8);
	notify();
	cr_assert_eq(used_idx(), 10);
	cr_assert_eq(fr.st.yields, 0);
	cr_assert_eq(event_base_loop(io.base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 1,
		     "no event armed");
}

Test(front, a_device_reset_drops_the_deferred_pass)
{
	open_all(8, 64, 64);
	spin_left = 1000;
	for (int i = 0; i < 8; i++)
		post("S", 0);
	notify();
	cr_assert_eq(used_idx(), FRONT_BUDGET);
	cr_assert_eq(wr(VIRTIO_MMIO_STATUS, 0), 0); /* guest resets */
	cr_assert_eq(fr.want_pass, 0);
	turn();
	cr_assert_eq(used_idx(), FRONT_BUDGET, "nothing served after reset");
	cr_assert_eq(spin_left, 1000 - FRONT_BUDGET);
}

/*
 * A device whose server is gone for good is NEEDS_RESET; after the guest
 * resets and starts it again, its requests are refused at once, never
 * left waiting for a server that will not come.
 */
Test(front, a_failed_device_queues_nothing_for_a_server)
{
	open_all(8, 64, 64);
	front_failed(&fr);
	cr_assert(dev.needs_reset);
	wr(VIRTIO_MMIO_STATUS, 0);
	bring_up();
	post("hello", 16);
	notify();
	cr_assert_eq(fr.inflight, 0, "a request went to the ring");
	cr_assert_eq(serve(8), 0);
	cr_assert(dev.needs_reset, "the refused chain marks it again");
}
