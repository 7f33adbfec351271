/* term.c: stdout/stdin backend for the UART, with tty raw mode. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include "vcpu/log.h"
#include "vcpu/term.h"

/* Process-wide: the signal handler and atexit need them. */
static struct termios term_saved;
static volatile sig_atomic_t term_raw_active;

static void term_restore(void)
{
	if (term_raw_active) {
		tcsetattr(STDIN_FILENO, TCSANOW, &term_saved);
		term_raw_active = 0;
	}
}

/* A crash must not leave the user's terminal raw: restore, then die. */
static void term_fatal_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void term_tx(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* stdout gone: guest output is dropped */
		buf += n;
		len -= (size_t)n;
	}
}

const struct uart_backend_ops term_uart_ops = {
	.tx = term_tx,
};

int term_open(struct term *t)
{
	static const int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL,
					  SIGFPE };
	struct termios raw;

	memset(t, 0, sizeof(*t));
	t->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (t->stop_efd < 0)
		return -errno;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &term_saved) < 0)
		return 0;
	raw = term_saved;
	cfmakeraw(&raw);
	/* Keep output processing: guests that print bare "\n" stay readable. */
	raw.c_oflag |= OPOST | ONLCR;
	for (size_t i = 0; i < sizeof(fatal_sigs) / sizeof(*fatal_sigs); i++)
		signal(fatal_sigs[i], term_fatal_signal);
	atexit(term_restore);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
		return 0; /* not fatal: the console just stays cooked */
	term_raw_active = 1;
	t->raw = true;
	return 0;
}

/* Feeds buf to the UART, waiting for FIFO space; false when told to stop. */
static bool term_feed(struct term *t, const uint8_t *buf, size_t len)
{
	struct pollfd stop = { .fd = t->stop_efd, .events = POLLIN };

	while (len) {
		size_t n = uart_receive(t->uart, buf, len);

		buf += n;
		len -= n;
		if (len && !uart_wait_rx_space(t->uart, 100) &&
		    poll(&stop, 1, 0) > 0)
			return false;
	}
	return true;
}

static void *term_reader(void *arg)
{
	struct term *t = arg;
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = t->stop_efd, .events = POLLIN },
	};
	uint8_t buf[256];

	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* end of input: the guest just gets no more */
		if (!term_feed(t, buf, (size_t)n))
			break;
	}
	return NULL;
}

int term_start_input(struct term *t, struct uart *u)
{
	int ret;

	t->uart = u;
	ret = pthread_create(&t->reader, NULL, term_reader, t);
	if (ret)
		return -ret;
	t->reader_started = true;
	return 0;
}

void term_close(struct term *t)
{
	uint64_t one = 1;

	if (t->reader_started) {
		if (write(t->stop_efd, &one, sizeof(one)) < 0)
			log_warn("term: cannot stop the stdin reader");
		pthread_join(t->reader, NULL);
		t->reader_started = false;
	}
	if (t->stop_efd > 0)
		close(t->stop_efd);
	t->stop_efd = -1;
	term_restore();
	t->raw = false;
}
