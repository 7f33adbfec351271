/*
 * test_coalesce.c: replaying a coalesced-write ring (laid out as KVM lays
 * it out, filled here as KVM fills it) onto a port bus with a real UART.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <time.h>

#include "vcpu/core/coalesce.h"
#include "vcpu/core/coalesce_poll.h"
#include "vcpu/core/iothread.h"
#include "tests/unit/fake_uart.h"
#include "vcpu/platform/uart.h"

#define RING_BYTES 4096

static struct fake_uart fk;
static struct uart u;
static struct io_bus bus;
static struct coalesce co;
static union {
	struct kvm_coalesced_mmio_ring r;
	uint8_t bytes[RING_BYTES];
} page;
static uint32_t nr;

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	memset(&page, 0, sizeof(page));
	uart_init(&u, &fake_uart_ops, &fk, fake_uart_irq, &fk);
	io_bus_init(&bus, "pio");
	cr_assert_eq(io_bus_register(&bus, UART_COM1_BASE, UART_NR_REGS,
				     &uart_io_ops, &u, "com1"),
		     0);
	coalesce_init(&co, &bus);
	cr_assert(coalesce_attach(&co, &page, sizeof(page)));
	nr = (RING_BYTES - sizeof(struct kvm_coalesced_mmio_ring)) /
	     sizeof(struct kvm_coalesced_mmio);
}

static void teardown(void)
{
	coalesce_fini(&co);
	io_bus_fini(&bus);
	uart_fini(&u);
}

/* What KVM does for one queued write; false when the ring is full. */
static bool kvm_queue(uint64_t port, const void *data, uint32_t len,
		      uint32_t pio)
{
	uint32_t last = page.r.last;
	struct kvm_coalesced_mmio *e = &page.r.coalesced_mmio[last];

	if ((last + 1) % nr == page.r.first)
		return false;
	e->phys_addr = port;
	e->len = len;
	e->pio = pio;
	memcpy(e->data, data, len);
	__atomic_store_n(&page.r.last, (last + 1) % nr, __ATOMIC_RELEASE);
	return true;
}

static void queue_str(const char *s)
{
	for (; *s; s++)
		cr_assert(kvm_queue(UART_COM1_BASE, s, 1, 1));
}

static uint8_t uart_rd(unsigned reg)
{
	uint8_t v;

	io_bus_access(&bus, UART_COM1_BASE + reg, &v, 1, false);
	return v;
}

static void uart_wr(unsigned reg, uint8_t v)
{
	io_bus_access(&bus, UART_COM1_BASE + reg, &v, 1, true);
}

TestSuite(coalesce, .init = setup, .fini = teardown);

Test(coalesce, ring_holds_what_the_kernel_page_holds)
{
	/* KVM_COALESCED_MMIO_MAX for a 4 KiB page. */
	cr_assert_eq(co.nr_entries, 170);
	cr_assert_eq(co.nr_entries, nr);
}

Test(coalesce, empty_ring_replays_nothing)
{
	cr_assert_eq(coalesce_replay(&co), 0);
	cr_assert_eq(fk.tx_len, 0);
	cr_assert(!atomic_load(&co.busy));
}

Test(coalesce, writes_reach_the_uart_in_order_and_free_their_slots)
{
	queue_str("hello, world\n");
	cr_assert_eq(coalesce_replay(&co), 13);
	cr_assert_eq(fk.tx_len, 13);
	cr_assert_arr_eq(fk.tx, "hello, world\n", 13);
	cr_assert_eq(page.r.first, page.r.last, "slots handed back");
	cr_assert(atomic_load(&co.busy));
	cr_assert_eq(coalesce_replay(&co), 0, "nothing replayed twice");
}

Test(coalesce, order_holds_across_the_wrap_and_a_full_ring)
{
	char want[1024];
	unsigned n = 0, queued;

	/* Several laps of the ring, each filled until KVM would exit. */
	for (unsigned lap = 0; lap < 5; lap++) {
		queued = 0;
		for (;;) {
			char c = (char)('a' + (n + queued) % 26);

			if (!kvm_queue(UART_COM1_BASE, &c, 1, 1))
				break;
			want[n + queued] = c;
			queued++;
			if (n + queued == sizeof(want))
				break;
		}
		if (lap == 0)
			cr_assert_eq(queued, nr - 1, "one slot stays free");
		cr_assert_eq(coalesce_replay(&co), queued);
		n += queued;
		if (n == sizeof(want))
			break;
	}
	cr_assert_eq(fk.tx_len, n);
	cr_assert_arr_eq(fk.tx, want, n);
}

Test(coalesce, divisor_latch_writes_replay_as_latch_writes)
{
	uint8_t lo = 0x01;

	/* LCR writes exit; the queued write between them sets DLL. */
	uart_wr(3, 0x80);
	cr_assert(kvm_queue(UART_COM1_BASE, &lo, 1, 1));
	coalesce_replay(&co);
	uart_wr(3, 0x03);
	cr_assert_eq(fk.tx_len, 0, "a divisor byte is not output");
	uart_wr(3, 0x80);
	cr_assert_eq(uart_rd(0), 0x01);
}

Test(coalesce, replayed_transmit_raises_the_thr_interrupt)
{
	uart_wr(1, 0x02); /* IER: THR empty interrupt */
	cr_assert_eq(fk.level, 1);
	cr_assert_eq(uart_rd(2) & 0x0f, 0x02, "THRI pending");
	cr_assert_eq(fk.level, 0, "reading IIR acknowledged it");
	queue_str("0123456789abcdef");
	cr_assert_eq(fk.level, 0, "queued, not yet seen by the UART");
	coalesce_replay_poll(&co);
	cr_assert_eq(fk.level, 1, "the poller's replay transmits");
	cr_assert_eq(co.by_poll, 16);
}

Test(coalesce, malformed_entries_are_dropped_and_counted)
{
	uint8_t x = 'x', y = 'y';

	cr_assert(kvm_queue(UART_COM1_BASE, &x, 1, 0));  /* not port I/O */
	cr_assert(kvm_queue(UART_COM1_BASE, "12345678", 8, 1)); /* too wide */
	cr_assert(kvm_queue(UART_COM1_BASE, &x, 0, 1));  /* empty */
	cr_assert(kvm_queue(UART_COM1_BASE, &y, 1, 1));
	cr_assert_eq(coalesce_replay(&co), 1);
	cr_assert_eq(co.bad, 3);
	cr_assert_eq(fk.tx_len, 1);
	cr_assert_eq(fk.tx[0], 'y');
}

Test(coalesce, a_corrupt_index_stops_the_replay_for_good)
{
	queue_str("ok");
	page.r.last = nr + 7;
	cr_assert_eq(coalesce_replay(&co), 0);
	cr_assert_eq(co.bad, 1);
	cr_assert_null(atomic_load(&co.ring));
	page.r.last = 2;
	cr_assert_eq(coalesce_replay(&co), 0, "the ring is not read again");
	cr_assert_eq(fk.tx_len, 0);
}

Test(coalesce, detach_replays_the_last_words_then_forgets_the_ring)
{
	queue_str("bye\n");
	coalesce_detach(&co);
	cr_assert_eq(fk.tx_len, 4);
	cr_assert_arr_eq(fk.tx, "bye\n", 4);
	queue_str("late");
	cr_assert_eq(coalesce_replay(&co), 0);
	cr_assert_eq(coalesce_replay_poll(&co), 0);
	cr_assert_eq(fk.tx_len, 4);
}

Test(coalesce, too_small_a_ring_is_refused)
{
	struct coalesce c2;

	coalesce_init(&c2, &bus);
	cr_assert(!coalesce_attach(&c2, &page,
				   sizeof(struct kvm_coalesced_mmio_ring)));
	cr_assert_null(atomic_load(&c2.ring));
	coalesce_fini(&c2);
}

/* The poller alone, on a real I/O thread: no vCPU exit ever replays. */
static bool wait_tx(size_t want)
{
	for (int i = 0; i < 2000 && fk.tx_len < want; i++) {
		struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};

		nanosleep(&ms, NULL);
	}
	return fk.tx_len >= want;
}

Test(coalesce, the_poller_replays_writes_no_exit_would)
{
	struct iothread io;
	struct coalesce_poll p;

	cr_assert_eq(iothread_init(&io), 0);
	cr_assert_eq(coalesce_poll_start(&p, &co, &io), 0);
	cr_assert(atomic_load(&p.slow), "starts slow: nothing written yet");
	cr_assert_eq(iothread_start(&io), 0);
	queue_str("quiet\n");
	cr_assert(wait_tx(6), "the slow poll replays too");
	cr_assert_arr_eq(fk.tx, "quiet\n", 6);
	/* A UART access: the guest is about to write, look every ms. */
	coalesce_poll_hurry(&p);
	cr_assert(!atomic_load(&p.slow));
	queue_str("fast\n");
	cr_assert(wait_tx(11));
	iothread_stop(&io);
	coalesce_poll_stop(&p);
	iothread_fini(&io);
	cr_assert_geq(co.by_poll, 11);
}

Test(coalesce, hurry_before_start_is_harmless)
{
	struct coalesce_poll p;

	memset(&p, 0, sizeof(p));
	coalesce_poll_hurry(&p);
	coalesce_poll_stop(&p);
}
