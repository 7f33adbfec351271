/* term.c: stdout/stdin backend for the UART, with tty raw mode. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <time.h>
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

static void term_wake(struct term *t)
{
	uint64_t one = 1;

	if (write(t->wake_efd, &one, sizeof(one)) < 0)
		log_warn("term: cannot wake the console thread");
}

/* Lock held: waits for ring space; false when the wait gave up. */
static bool term_wait_space(struct term *t)
{
	struct timespec ts;

	if (t->out_stalled)
		return false;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += TERM_STALL_MS / 1000;
	while (t->out_len == TERM_OUT_SIZE && !atomic_load(&t->stop) &&
	       !atomic_load(&t->out_dead)) {
		if (pthread_cond_timedwait(&t->out_space, &t->out_lock, &ts)) {
			t->out_stalled = true;
			log_warn("console: stdout stalled, dropping guest "
				 "output");
			return false;
		}
	}
	return t->out_len < TERM_OUT_SIZE;
}

/* vCPU side: queue bytes; waits a bounded time while the ring is full. */
static void term_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct term *t = opaque;
	bool was_empty;

	if (atomic_load(&t->out_dead))
		return;
	pthread_mutex_lock(&t->out_lock);
	was_empty = t->out_len == 0;
	for (; len; len--, buf++) {
		if (t->out_len == TERM_OUT_SIZE && !term_wait_space(t)) {
			t->out_dropped += len;
			break;
		}
		t->out[(t->out_head + t->out_len) % TERM_OUT_SIZE] = *buf;
		t->out_len++;
	}
	pthread_mutex_unlock(&t->out_lock);
	if (was_empty)
		term_wake(t);
}

const struct uart_backend_ops term_uart_ops = {
	.tx = term_tx,
};

int term_open(struct term *t)
{
	static const int fatal_sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL,
					 SIGFPE};
	struct termios raw;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->out_lock, NULL);
	pthread_cond_init(&t->out_space, NULL);
	t->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->wake_efd < 0)
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

/*
 * Writes at most PIPE_BUF contiguous queued bytes: after POLLOUT that much
 * never blocks on a pipe. Returns false when stdout is gone.
 */
static bool term_drain_some(struct term *t)
{
	uint8_t chunk[PIPE_BUF];
	size_t n;
	ssize_t w;

	pthread_mutex_lock(&t->out_lock);
	n = t->out_len < sizeof(chunk) ? t->out_len : sizeof(chunk);
	for (size_t i = 0; i < n; i++)
		chunk[i] = t->out[(t->out_head + i) % TERM_OUT_SIZE];
	pthread_mutex_unlock(&t->out_lock);
	if (!n)
		return true;
	do {
		w = write(STDOUT_FILENO, chunk, n);
	} while (w < 0 && errno == EINTR);
	if (w < 0 && errno == EAGAIN)
		return true;
	pthread_mutex_lock(&t->out_lock);
	/* A dead stdout drops everything: guest output must not pile up. */
	n = w <= 0 ? t->out_len : (size_t)w;
	if (w <= 0)
		atomic_store(&t->out_dead, true);
	t->out_head = (t->out_head + n) % TERM_OUT_SIZE;
	t->out_len -= n;
	if (t->out_stalled && t->out_len < TERM_OUT_SIZE / 2)
		t->out_stalled = false;
	pthread_cond_broadcast(&t->out_space);
	pthread_mutex_unlock(&t->out_lock);
	return w > 0;
}

static bool term_out_pending(struct term *t)
{
	bool pending;

	pthread_mutex_lock(&t->out_lock);
	pending = t->out_len > 0;
	pthread_mutex_unlock(&t->out_lock);
	return pending;
}

/* Moves held input into the UART; true when none is left over. */
static bool term_feed(struct term *t)
{
	if (t->in_off < t->in_len)
		t->in_off += uart_receive(t->uart, t->in + t->in_off,
					  t->in_len - t->in_off);
	return t->in_off == t->in_len;
}

/*
 * On a tty the guest gets every key, Ctrl-C included; Ctrl-A x stops isovm
 * (as in QEMU) and Ctrl-A Ctrl-A sends one Ctrl-A. Filters t->in in place.
 */
static void term_escapes(struct term *t)
{
	size_t out = 0;

	for (size_t i = 0; i < t->in_len; i++) {
		uint8_t c = t->in[i];

		if (!t->escape && c == TERM_ESCAPE) {
			t->escape = true;
			continue;
		}
		if (t->escape) {
			t->escape = false;
			if (c == 'x' || c == 'X') {
				/* The main thread's signalfd turns it into a
				 * stop. */
				kill(getpid(), SIGTERM);
				continue;
			}
			if (c != TERM_ESCAPE)
				continue; /* unknown escapes are swallowed */
		}
		t->in[out++] = c;
	}
	t->in_len = out;
}

/* stdin readable: false at end of input. */
static bool term_read_input(struct term *t)
{
	ssize_t n = read(STDIN_FILENO, t->in, sizeof(t->in));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	t->in_off = 0;
	t->in_len = (size_t)n;
	if (t->raw)
		term_escapes(t);
	term_feed(t);
	return true;
}

/*
 * Whatever the guest printed before the end still goes out, unless stdout
 * stays stuck for TERM_STALL_MS: exit must not hang on a full pipe.
 */
static void term_flush(struct term *t, bool out_open)
{
	struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};

	while (out_open && term_out_pending(t)) {
		if (poll(&pfd, 1, TERM_STALL_MS) <= 0) {
			log_warn("console: stdout stalled, guest output lost");
			return;
		}
		out_open = term_drain_some(t);
	}
}

static void *term_thread(void *arg)
{
	struct term *t = arg;
	bool in_open = true, out_open = true;
	uint64_t drain;

	for (;;) {
		bool in_held = !term_feed(t);
		struct pollfd pfd[3] = {
			{.fd = in_open && !in_held ? STDIN_FILENO : -1,
			 .events = POLLIN},
			{.fd = out_open && term_out_pending(t) ? STDOUT_FILENO
							       : -1,
			 .events = POLLOUT},
			{.fd = t->wake_efd, .events = POLLIN},
		};

		/* Held input: retry soon, the guest drains its FIFO meanwhile.
		 */
		if (poll(pfd, 3, in_held ? 10 : -1) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents &&
		    read(t->wake_efd, &drain, sizeof(drain)) < 0 &&
		    errno != EAGAIN)
			break;
		if (pfd[1].revents)
			out_open = term_drain_some(t);
		if (pfd[0].revents)
			in_open = term_read_input(t);
		if (atomic_load(&t->stop))
			break;
	}
	term_flush(t, out_open);
	return NULL;
}

int term_start(struct term *t, struct uart *u)
{
	int ret;

	t->uart = u;
	ret = pthread_create(&t->thread, NULL, term_thread, t);
	if (ret)
		return -ret;
	t->thread_started = true;
	return 0;
}

void term_close(struct term *t)
{
	atomic_store(&t->stop, true);
	pthread_mutex_lock(&t->out_lock);
	pthread_cond_broadcast(&t->out_space);
	pthread_mutex_unlock(&t->out_lock);
	if (t->thread_started) {
		term_wake(t);
		pthread_join(t->thread, NULL);
		t->thread_started = false;
	} else if (t->wake_efd >= 0) {
		/* Never started (a failed set-up): output may still be queued.
		 */
		term_flush(t, !atomic_load(&t->out_dead));
	}
	if (t->wake_efd >= 0)
		close(t->wake_efd);
	t->wake_efd = -1;
	term_restore();
	t->raw = false;
}
