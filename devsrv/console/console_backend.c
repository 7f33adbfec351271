/* console_backend.c: the console's flows between the VMM's pipes, backends. */
#include "devsrv/console/console_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void console_flow_run(struct console_flow *f);
static void console_flow_end(struct console_flow *f, ssize_t ret);

static const char *console_flow_name(const struct console_flow *f)
{
	return f->dir == CONSOLE_DIR_OUT ? "output" : "input";
}

/* Stop every event of the flow (none pending or active afterwards). */
static void console_flow_quiet(struct console_flow *f)
{
	if (event_initialized(&f->ev_src))
		event_del(&f->ev_src);
	if (event_initialized(&f->ev_dst))
		event_del(&f->ev_dst);
	if (event_initialized(&f->ev_timer))
		event_del(&f->ev_timer);
}

/*
 * Wait for the source (level-triggered; a regular file is "readable" at
 * once, so its flow just runs again at the loop's next turn) or for room
 * in the destination (one-shot).
 */
static void console_flow_wait(struct console_flow *f,
			      enum console_flow_state st)
{
	console_flow_quiet(f);
	f->state = st;
	if (st == CONSOLE_FLOW_DST) {
		event_add(&f->ev_dst, NULL);
	} else if (f->src_nopoll) {
		event_active(&f->ev_src, EV_READ, 0);
	} else if (event_add(&f->ev_src, NULL)) {
		/* Trying an fd we cannot watch would spin: this flow ends. */
		srv_warn("console %s: the loop cannot watch it; it ends",
			 console_flow_name(f));
		console_flow_quiet(f);
		f->state = CONSOLE_FLOW_OFF;
	}
}

static void console_flow_timer(struct console_flow *f, uint64_t us)
{
	struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
			     .tv_usec = (suseconds_t)(us % 1000000u)};

	console_flow_quiet(f);
	f->state = CONSOLE_FLOW_TIMER;
	evtimer_add(&f->ev_timer, &tv);
}

/*
 * Ask the fault table once per transfer (and not again while that
 * transfer waits for bytes or room). False when a fault holds it back.
 */
static bool console_flow_gate(struct console_flow *f)
{
	const struct console_backend *b = f->b;
	const struct ctl_fault *ft;

	if (f->decided)
		return true;
	f->decided = true;
	f->t0_ns = srv_now_ns();
	ft = b->cb && b->cb->fault ? b->cb->fault(b->ctx, f->dir) : NULL;
	if (!ft)
		return true;
	switch (ft->kind) {
	case CTL_FAULT_DELAY:
		console_flow_timer(f, ft->delay_us);
		return false;
	case CTL_FAULT_ERROR:
		/* Failed, not lost: the bytes wait for the next try. */
		if (b->cb->done)
			b->cb->done(b->ctx, f->dir, f->t0_ns,
				    -(ssize_t)ft->error_code);
		f->decided = false;
		console_flow_timer(f, CONSOLE_FAULT_RETRY_MS * 1000u);
		return false;
	case CTL_FAULT_DROP:
		console_flow_quiet(f);
		f->state = CONSOLE_FLOW_HUNG;
		return false;
	default:
		return true;
	}
}

static void console_flow_count(struct console_flow *f, ssize_t n)
{
	struct console_backend *b = f->b;

	if (f->dir == CONSOLE_DIR_OUT)
		b->st.out_bytes += (uint64_t)n;
	else
		b->st.in_bytes += (uint64_t)n;
	if (f->pump.fallback && !f->told_fallback) {
		srv_info("console %s: the kernel splices no bytes of this "
			 "backend: read and write (a server killed between "
			 "them loses what it read)",
			 console_flow_name(f));
		f->told_fallback = true;
	}
}

static void console_flow_run(struct console_flow *f)
{
	struct console_backend *b = f->b;
	/*
	 * Input whose flags are left alone (a terminal shared with a shell)
	 * may block once it has nothing: one move per wake-up, the loop
	 * reporting it readable. Output moves between non-blocking fds.
	 */
	int rounds = f->dir == CONSOLE_DIR_IN && !f->src_nopoll
			     ? 1
			     : CONSOLE_FLOW_ROUNDS;
	ssize_t n;

	for (int i = 0; i < rounds; i++) {
		if (!console_flow_gate(f))
			return;
		n = console_pump_move(&f->pump, CONSOLE_PUMP_CHUNK);
		if (n == -EAGAIN) {
			console_flow_wait(f,
					  f->pump.wait == CONSOLE_PUMP_WAIT_DST
						  ? CONSOLE_FLOW_DST
						  : CONSOLE_FLOW_SRC);
			return;
		}
		f->decided = false;
		if (n != 0 && b->cb && b->cb->done)
			b->cb->done(b->ctx, f->dir, f->t0_ns, n);
		if (n <= 0) {
			console_flow_end(f, n);
			return;
		}
		console_flow_count(f, n);
	}
	/* More may wait: other events first, then this flow again. */
	console_flow_wait(f, CONSOLE_FLOW_SRC);
}

/* Drop output waiting in the OUT pipe: up to @max bytes, counted. */
static void console_flow_drop(struct console_flow *f, size_t max)
{
	f->b->st.dropped += console_pump_discard(&f->pump, max);
}

/* No client: keep the newest CONSOLE_KEEP_BYTES in the pipe. */
static void console_flow_keep(struct console_flow *f)
{
	int q = console_pump_queued(&f->pump);

	if (q > 0 && (size_t)q > f->b->keep)
		console_flow_drop(f, (size_t)q - f->b->keep);
}

static void console_src_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console_flow *f = arg;

	(void)fd;
	(void)what;
	switch (f->state) {
	case CONSOLE_FLOW_SRC:
		console_flow_run(f);
		break;
	case CONSOLE_FLOW_KEEP:
		console_flow_keep(f);
		break;
	case CONSOLE_FLOW_DROP:
		console_flow_drop(f, SIZE_MAX);
		break;
	default:
		break;
	}
}

static void console_dst_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console_flow *f = arg;

	(void)fd;
	(void)what;
	if (f->state == CONSOLE_FLOW_DST)
		console_flow_run(f);
}

static void console_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console_flow *f = arg;

	(void)fd;
	(void)what;
	if (f->state == CONSOLE_FLOW_TIMER)
		console_flow_run(f);
}

/*
 * Point a flow at its source and destination and make its events: the
 * source level-triggered (edge-triggered for output kept without a
 * client, so that each write of the VMM is looked at once), the
 * destination one-shot.
 */
static void console_flow_assign(struct console_flow *f, int src, int dst,
				bool keep)
{
	struct console_backend *b = f->b;
	short ev = EV_READ | EV_PERSIST | (keep ? EV_ET : 0);

	console_flow_quiet(f);
	console_pump_init(&f->pump, src, dst);
	f->decided = false;
	f->told_fallback = false;
	if (f->src_nopoll)
		event_assign(&f->ev_src, b->base, -1, 0, console_src_cb, f);
	else
		event_assign(&f->ev_src, b->base, src, ev, console_src_cb, f);
	event_assign(&f->ev_dst, b->base, dst, EV_WRITE, console_dst_cb, f);
	evtimer_assign(&f->ev_timer, b->base, console_timer_cb, f);
}

static void console_out_keep(struct console_backend *b)
{
	console_flow_assign(&b->out, b->out_pipe, -1, true);
	b->out.state = CONSOLE_FLOW_KEEP;
	event_add(&b->out.ev_src, NULL);
	console_flow_keep(&b->out);
}

static void console_backend_drop_client(struct console_backend *b)
{
	/* No event may watch the fd once it is closed. */
	console_flow_quiet(&b->in);
	console_flow_quiet(&b->out);
	b->in.state = CONSOLE_FLOW_OFF;
	close(b->client_fd);
	b->client_fd = b->in_fd = b->out_fd = -1;
	if (b->cb && b->cb->client)
		b->cb->client(b->ctx, -1);
	/* What the client did not take stays for the next one. */
	console_out_keep(b);
}

/* Output failed for good: stop the guest stalling on it. */
static void console_out_failed(struct console_backend *b, int err)
{
	struct console_flow *f = &b->out;

	if (b->kind == CTL_CONSOLE_SOCKET) {
		console_backend_drop_client(b);
		return;
	}
	b->st.write_errors++;
	/* A pty master fails while no one holds the slave: drop, go on. */
	if (b->kind == CTL_CONSOLE_PTY) {
		console_flow_drop(f, SIZE_MAX);
		console_flow_wait(f, CONSOLE_FLOW_SRC);
		return;
	}
	srv_warn("console output: %s; output is dropped from now on",
		 strerror(err));
	b->out_dead = true;
	console_flow_drop(f, SIZE_MAX);
	console_flow_wait(f, CONSOLE_FLOW_DROP);
}

static void console_in_ended(struct console_backend *b, ssize_t ret)
{
	struct console_flow *f = &b->in;

	if (b->kind == CTL_CONSOLE_SOCKET) {
		console_backend_drop_client(b);
		return;
	}
	if (b->kind == CTL_CONSOLE_PTY) {
		/* No one holds the slave (EIO), or it hung up: later. */
		console_flow_timer(f, CONSOLE_PTY_RETRY_MS * 1000u);
		return;
	}
	if (ret < 0)
		srv_warn("console input: %s; input ends", strerror((int)-ret));
	console_flow_quiet(f);
	f->state = CONSOLE_FLOW_OFF;
}

/* A move returned 0 (the source's end) or an error. */
static void console_flow_end(struct console_flow *f, ssize_t ret)
{
	if (f->dir == CONSOLE_DIR_IN) {
		console_in_ended(f->b, ret);
		return;
	}
	/* The OUT pipe ends only if the VMM is gone: nothing to do. */
	if (ret == 0) {
		console_flow_quiet(f);
		f->state = CONSOLE_FLOW_OFF;
		return;
	}
	console_out_failed(f->b, (int)-ret);
}

/*
 * How to read input from @fd. epoll refuses fds whose reads never block
 * (regular files, /dev/null and other devices without poll): ask it here,
 * once, instead of letting libevent's add fail and log.
 */
enum console_in_mode { CONSOLE_IN_POLL, CONSOLE_IN_FILE, CONSOLE_IN_NONE };

static enum console_in_mode console_backend_in_mode(int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct stat st;
	int ep, err;

	if (fstat(fd, &st))
		return CONSOLE_IN_POLL; /* let the loop find out */
	if (S_ISREG(st.st_mode))
		return CONSOLE_IN_FILE;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return CONSOLE_IN_POLL;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return CONSOLE_IN_POLL;
	err = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
	close(ep);
	/* /dev/null and the like: no input, as if at end of file. */
	return err == EPERM ? CONSOLE_IN_NONE : CONSOLE_IN_POLL;
}

static int console_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Start both flows on the backend's input and output fds (-1: none). */
static int console_backend_watch(struct console_backend *b, int in, int out)
{
	enum console_in_mode mode =
		in >= 0 ? console_backend_in_mode(in) : CONSOLE_IN_NONE;
	int ret;

	b->in_fd = mode == CONSOLE_IN_NONE ? -1 : in;
	b->out_fd = out;
	if (out >= 0) {
		ret = console_nonblock(out);
		if (ret)
			return ret;
		console_flow_assign(&b->out, b->out_pipe, out, false);
		console_flow_wait(&b->out, CONSOLE_FLOW_SRC);
	}
	if (b->in_fd >= 0) {
		b->in.src_nopoll = mode == CONSOLE_IN_FILE;
		console_flow_assign(&b->in, b->in_fd, b->in_pipe, false);
		console_flow_wait(&b->in, CONSOLE_FLOW_SRC);
	}
	return 0;
}

static void console_backend_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct console_backend *b = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)what;
	if (c < 0)
		return;
	if (b->client_fd >= 0) {
		b->st.clients_refused++; /* one client at a time */
		close(c);
		return;
	}
	b->client_fd = c;
	b->st.clients_accepted++;
	if (b->cb && b->cb->client)
		b->cb->client(b->ctx, c);
	/* The new client first gets what was kept for it. */
	if (console_backend_watch(b, c, c))
		console_backend_drop_client(b);
}

static int console_backend_listen(struct console_backend *b, int fd)
{
	int ret;

	b->listen_fd = fd;
	/* A client that left before accept() must not block us. */
	ret = console_nonblock(fd);
	if (ret)
		return ret;
	event_assign(&b->ev_listen, b->base, fd, EV_READ | EV_PERSIST,
		     console_backend_accept_cb, b);
	if (event_add(&b->ev_listen, NULL))
		return -ENOMEM;
	b->listening = true;
	/* A client an earlier server had: the VMM kept it for us. */
	if (b->client_fd >= 0) {
		srv_info("console: resuming with the client the VMM kept");
		if (!console_backend_watch(b, b->client_fd, b->client_fd))
			return 0;
		/* Not told (no message before READY): the VMM's copy goes
		 * when the next client replaces it. */
		console_flow_quiet(&b->in);
		console_flow_quiet(&b->out);
		close(b->client_fd);
		b->client_fd = b->in_fd = b->out_fd = -1;
	}
	console_out_keep(b);
	return 0;
}

static int console_backend_fds(struct console_backend *b,
			       const struct srv_fds *fds)
{
	if (fds->backend < 0)
		return -EBADF;
	switch (b->kind) {
	case CTL_CONSOLE_STDIO:
		return console_backend_watch(b, fds->backend,
					     fds->backend_out >= 0
						     ? fds->backend_out
						     : fds->backend);
	case CTL_CONSOLE_PTY:
		return console_backend_watch(b, fds->backend, fds->backend);
	case CTL_CONSOLE_FILE:
		return console_backend_watch(b, -1, fds->backend);
	case CTL_CONSOLE_SOCKET:
		return console_backend_listen(b, fds->backend);
	default:
		return -EINVAL;
	}
}

int console_backend_open(struct console_backend *b, struct event_base *base,
			 enum ctl_console_backend kind,
			 const struct srv_fds *fds,
			 const struct console_backend_cb *cb, void *ctx)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->base = base;
	b->in_fd = b->out_fd = b->listen_fd = b->client_fd = -1;
	b->out_pipe = fds->out_pipe;
	b->in_pipe = fds->in_pipe;
	/* Ours from here: closed by console_backend_close() if not used. */
	b->client_fd = fds->client;
	b->cb = cb;
	b->ctx = ctx;
	b->out.dir = CONSOLE_DIR_OUT;
	b->in.dir = CONSOLE_DIR_IN;
	b->out.b = b->in.b = b;
	if (b->out_pipe < 0 || b->in_pipe < 0 ||
	    (b->client_fd >= 0 && kind != CTL_CONSOLE_SOCKET)) {
		console_backend_close(b);
		return -EBADF;
	}
	/*
	 * Kept output must stay well under what fills the pipe (pages half
	 * used by small writes count whole): a full pipe would stop the
	 * guest, and no write of the VMM would wake us to make room.
	 */
	ret = fcntl(b->out_pipe, F_GETPIPE_SZ);
	b->keep = ret > 0 && (size_t)ret / 4 < CONSOLE_KEEP_BYTES
			  ? (size_t)ret / 4
			  : CONSOLE_KEEP_BYTES;
	/* Ours and the VMM's: it made them non-blocking already. */
	ret = console_nonblock(b->out_pipe);
	if (!ret)
		ret = console_nonblock(b->in_pipe);
	if (!ret)
		ret = console_backend_fds(b, fds);
	if (ret) {
		console_backend_close(b);
		return ret;
	}
	return 0;
}

static int console_backend_ms_left(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int)((end->tv_sec - now.tv_sec) * 1000 +
		     (end->tv_nsec - now.tv_nsec) / 1000000);
}

/*
 * At exit the OUT pipe may still hold bytes the guest was told are
 * written: the guest may power off right after its last write while the
 * reader is behind. Move them, waiting for room up to
 * CONSOLE_CLOSE_DRAIN_MS. A hang-up or an error on the fd ends the wait
 * at once: no one is reading.
 */
static void console_backend_drain(struct console_backend *b)
{
	struct console_flow *f = &b->out;
	struct timespec end;
	struct pollfd p;
	ssize_t n;
	int left;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += CONSOLE_CLOSE_DRAIN_MS / 1000;
	end.tv_nsec += (CONSOLE_CLOSE_DRAIN_MS % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		n = console_pump_move(&f->pump, CONSOLE_PUMP_CHUNK);
		if (n > 0) {
			console_flow_count(f, n);
			continue;
		}
		if (n != -EAGAIN)
			break;
		if (f->pump.wait == CONSOLE_PUMP_WAIT_SRC &&
		    !console_pump_held(&f->pump))
			return; /* all written */
		left = console_backend_ms_left(&end);
		if (left <= 0)
			break;
		p = (struct pollfd){.fd = f->pump.dst, .events = POLLOUT};
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			break;
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			break;
	}
	left = console_pump_queued(&f->pump);
	left = (left > 0 ? left : 0) + (int)console_pump_held(&f->pump);
	if (left) {
		srv_warn("console output: %d bytes not written at exit", left);
		b->st.dropped += (uint64_t)left;
	}
}

void console_backend_close(struct console_backend *b)
{
	bool writing = b->out.state == CONSOLE_FLOW_SRC ||
		       b->out.state == CONSOLE_FLOW_DST ||
		       b->out.state == CONSOLE_FLOW_TIMER;

	if (writing && b->out_fd >= 0)
		console_backend_drain(b);
	console_flow_quiet(&b->out);
	console_flow_quiet(&b->in);
	b->out.state = b->in.state = CONSOLE_FLOW_OFF;
	if (b->listening)
		event_del(&b->ev_listen);
	b->listening = false;
	if (b->client_fd >= 0)
		close(b->client_fd);
	b->client_fd = b->in_fd = b->out_fd = -1;
}
