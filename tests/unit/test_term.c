/*
 * test_term.c: the UART's terminal backend on pipes standing in for stdin
 * and stdout: output order, input to the UART with flow control, and a
 * stuck stdout that can neither hang a vCPU nor the shutdown.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vcpu/term.h"

static struct term t;
static struct uart u;
static int in_w, out_r; /* our ends of the fake stdin and stdout */

static void noirq(void *opaque, int level)
{
	(void)opaque;
	(void)level;
}

static void setup(void)
{
	int in[2], out[2];

	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(dup2(in[0], STDIN_FILENO), STDIN_FILENO);
	cr_assert_eq(dup2(out[1], STDOUT_FILENO), STDOUT_FILENO);
	close(in[0]);
	close(out[1]);
	in_w = in[1];
	out_r = out[0];
	cr_assert_eq(term_open(&t), 0);
	cr_assert(!t.raw, "a pipe is no tty");
	uart_init(&u, &term_uart_ops, &t, noirq, NULL);
}

TestSuite(term, .init = setup);

static uint8_t uart_rd(unsigned reg)
{
	uint8_t v;

	uart_io_ops.read(&u, reg, &v, 1);
	return v;
}

static void uart_wr(unsigned reg, uint8_t v)
{
	uart_io_ops.write(&u, reg, &v, 1);
}

static size_t read_some(int fd, char *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t n = 0;

	while (n < cap && poll(&p, 1, timeout_ms) > 0) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

Test(term, guest_bytes_reach_stdout_in_order)
{
	const char *msg = "hello, host\n";
	char buf[64] = {0};

	cr_assert_eq(term_start(&t, &u), 0);
	for (const char *p = msg; *p; p++)
		uart_wr(0, (uint8_t)*p);
	cr_assert_eq(read_some(out_r, buf, strlen(msg), 2000), strlen(msg));
	cr_assert_str_eq(buf, msg);
	term_close(&t);
}

Test(term, output_queued_before_start_is_flushed_at_close)
{
	char buf[8] = {0};

	uart_wr(0, 'o');
	uart_wr(0, 'k');
	term_close(&t);
	cr_assert_eq(read_some(out_r, buf, 2, 1000), 2);
	cr_assert_str_eq(buf, "ok");
}

Test(term, stdin_reaches_the_uart_without_loss_beyond_the_fifo)
{
	char in[3 * UART_RX_FIFO];
	size_t got = 0;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + i % 26);
	cr_assert_eq(term_start(&t, &u), 0);
	cr_assert_eq(write(in_w, in, sizeof(in)), (ssize_t)sizeof(in));
	for (int spins = 0; got < sizeof(in) && spins < 5000; spins++) {
		if (!(uart_rd(5) & 1)) {
			usleep(1000);
			continue;
		}
		cr_assert_eq(uart_rd(0), (uint8_t)in[got], "byte %zu", got);
		got++;
	}
	cr_assert_eq(got, sizeof(in));
	term_close(&t);
}

Test(term, a_stuck_stdout_drops_output_instead_of_hanging)
{
	struct timespec a, b;
	long ms;

	cr_assert_eq(fcntl(out_r, F_SETPIPE_SZ, 4096), 4096);
	cr_assert_eq(term_start(&t, &u), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	/* Nobody reads: pipe and ring fill, then the vCPU stops waiting. */
	for (unsigned i = 0; i < TERM_OUT_SIZE + 8192; i++)
		uart_wr(0, 'x');
	term_close(&t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	cr_assert_gt(t.out_dropped, 0, "nothing was dropped");
	cr_assert_lt(ms, 4 * TERM_STALL_MS, "took %ld ms", ms);
}
