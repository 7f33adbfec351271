/* front_console.c: virtio-console and the UART stream through the pipes. */
#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vcpu/clock.h"
#include "vcpu/core/trace.h"
#include "vcpu/front/console/front_console.h"
#include "vcpu/log.h"
#include "vcpu/vm/vm.h"

#define FC_RX_QUEUE	0     /* receiveq of port 0 */
#define FC_TX_QUEUE	1     /* transmitq of port 0 */
#define FC_IN_RETRY_US	2000  /* UART FIFO full: look again this soon */
#define FC_IN_POLL_US	20000 /* UART not read by the guest: look again */
#define FC_DRAIN_NAP_MS 2     /* at exit: how often the pipe is looked at */
#define FC_F_SIZE	0     /* virtio-console feature bit: cols, rows */
#define FC_CFG_SIZE_LEN 4     /* config bytes F_SIZE needs: cols, rows */
/*
 * Device features this front serves. Not MULTIPORT (it has port 0 only)
 * nor EMERG_WRITE (config writes are ignored); SIZE is only the server's
 * config shown as is.
 */
#define FC_FEATURES VIRTIO_BIT(FC_F_SIZE)

/* Lock held: bytes that went into or out of a pipe, for trace listeners. */
static void fc_trace(const char *op, const char *call, unsigned qi,
		     unsigned head, uint32_t bytes)
{
	struct trace_event e = {
		.op = op,
		.syscall = call,
		.queue = qi,
		.head = head,
		.bytes = bytes,
	};

	trace_emit("console0", &e);
}

/* vCPU thread, UART lock held: queue, never wait. */
static void fc_uart_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct front_console *fc = opaque;
	uint64_t one = 1;
	size_t n, tail, k, before;

	pthread_mutex_lock(&fc->tx_lock);
	before = fc->tx_len;
	n = FRONT_CONSOLE_TX_BUF - fc->tx_len;
	if (n > len)
		n = len;
	for (size_t done = 0; done < n; done += k) {
		tail = (fc->tx_head + fc->tx_len) % FRONT_CONSOLE_TX_BUF;
		k = FRONT_CONSOLE_TX_BUF - tail;
		if (k > n - done)
			k = n - done;
		memcpy(fc->tx_buf + tail, buf + done, k);
		fc->tx_len += k;
	}
	fc->st.uart_dropped += len - n;
	pthread_mutex_unlock(&fc->tx_lock);
	/*
	 * The first byte of a burst wakes the I/O thread, which waits for
	 * more; so does a burst's crossing of the batch size.
	 */
	if (n && (before == 0 || (before < FRONT_CONSOLE_TX_BATCH &&
				  before + n >= FRONT_CONSOLE_TX_BATCH)) &&
	    write(fc->tx_efd, &one, sizeof(one)) < 0)
		log_debug("console: tx eventfd: %s", strerror(errno));
}

const struct uart_backend_ops front_console_uart_ops = {
	.tx = fc_uart_tx,
};

/* Run fc_in_timer() in 'us' unless it is due already. */
static void fc_in_retry(struct front_console *fc, long us)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = us};

	if (fc->in_timer && !evtimer_pending(fc->in_timer, NULL))
		evtimer_add(fc->in_timer, &tv);
}

/* Bytes of the UART buffer written: they leave it (tx_lock taken). */
static void fc_uart_sent(struct front_console *fc, size_t n)
{
	pthread_mutex_lock(&fc->tx_lock);
	fc->tx_head = (fc->tx_head + n) % FRONT_CONSOLE_TX_BUF;
	fc->tx_len -= n;
	pthread_mutex_unlock(&fc->tx_lock);
}

/*
 * Front lock held: queued UART bytes into the OUT pipe, as far as it
 * takes them; a full pipe is waited for. vCPUs only append behind the
 * queued bytes, so these are written without tx_lock held. True when
 * none is left.
 */
static bool fc_out_uart(struct front_console *fc)
{
	size_t head, len;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&fc->tx_lock);
		if (atomic_load(&fc->server_dead)) {
			/* Nobody will empty the pipe: count, do not pile up. */
			fc->st.uart_dropped += fc->tx_len;
			fc->tx_head = fc->tx_len = 0;
		}
		head = fc->tx_head;
		len = fc->tx_len;
		pthread_mutex_unlock(&fc->tx_lock);
		if (len > FRONT_CONSOLE_TX_BUF - head)
			len = FRONT_CONSOLE_TX_BUF - head;
		if (!len)
			return true;
		n = console_pipe_put(&fc->out, fc->tx_buf + head, len);
		if (n < 0) {
			/* Cannot happen while we hold the read end. */
			log_warn("console: UART output: %s; dropped",
				 strerror((int)-n));
			fc_uart_sent(fc, len);
			pthread_mutex_lock(&fc->tx_lock);
			fc->st.uart_dropped += len;
			pthread_mutex_unlock(&fc->tx_lock);
			continue;
		}
		if (n) {
			fc_uart_sent(fc, (size_t)n);
			fc->st.uart_out += (uint64_t)n;
			if (trace_on())
				fc_trace("uart_out", "write", 0, 0,
					 (uint32_t)n);
		}
		if ((size_t)n < len) {
			console_pipe_wait(&fc->out);
			return false;
		}
	}
}

/* Front lock held: hand pending input to the UART; true when all went. */
static bool fc_feed_uart(struct front_console *fc)
{
	size_t n;

	while (fc->in_len) {
		n = uart_receive(fc->uart, fc->in_pend + fc->in_off,
				 fc->in_len);
		if (!n)
			break;
		fc->st.uart_in += n;
		fc->in_off += n;
		fc->in_len -= n;
	}
	if (!fc->in_len) {
		fc->in_off = 0;
		return true;
	}
	fc_in_retry(fc, FC_IN_RETRY_US);
	return false;
}

/*
 * Front lock held: input for the UART, only while no virtio receive
 * buffer waits for it (those come first) and only as much as the guest
 * takes now; the rest stays in the pipe. While input waits that nobody
 * takes, the UART is looked at again now and then (the guest may turn
 * its received-data interrupt on, or read its FIFO).
 */
static void fc_in_uart(struct front_console *fc)
{
	size_t room;
	ssize_t n;

	while (!fc->rx_waiting && fc_feed_uart(fc)) {
		room = uart_rx_room(fc->uart);
		if (!room) {
			if (console_pipe_queued(&fc->in) > 0)
				fc_in_retry(fc, uart_rx_wanted(fc->uart)
							? FC_IN_RETRY_US
							: FC_IN_POLL_US);
			else
				console_pipe_wait(&fc->in);
			return;
		}
		if (room > sizeof(fc->in_pend))
			room = sizeof(fc->in_pend);
		n = console_pipe_get(&fc->in, fc->in_pend, room);
		if (n <= 0) {
			console_pipe_wait(&fc->in);
			return;
		}
		if (trace_on())
			fc_trace("uart_in", "read", 0, 0, (uint32_t)n);
		fc->in_off = 0;
		fc->in_len = (size_t)n;
	}
}

/*
 * Front lock held: the front's own work (ops->pump): UART output, unless
 * a transmit chain is half written (its rest goes first).
 */
static void fc_pump(struct front *f)
{
	struct front_console *fc = f->opaque;

	if (!fc->tx_midway)
		fc_out_uart(fc);
}

/* I/O thread: the UART FIFO may have room, or the guest reads it now. */
static void fc_in_timer(evutil_socket_t fd, short what, void *arg)
{
	struct front_console *fc = arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(fc->front.lock);
	fc_in_uart(fc);
	pthread_mutex_unlock(fc->front.lock);
}

/*
 * I/O thread: the OUT pipe has room: a stalled chain (which writes the
 * UART bytes queued before it first), then the UART bytes.
 */
static void fc_out_ready(void *arg)
{
	struct front_console *fc = arg;

	pthread_mutex_lock(fc->front.lock);
	if (fc->tx_stalled)
		front_notify(&fc->front, FC_TX_QUEUE);
	if (!fc->tx_midway)
		fc_out_uart(fc);
	pthread_mutex_unlock(fc->front.lock);
}

/* I/O thread: input came: a waiting receive buffer first, else the UART. */
static void fc_in_ready(void *arg)
{
	struct front_console *fc = arg;

	pthread_mutex_lock(fc->front.lock);
	if (fc->rx_waiting)
		front_notify(&fc->front, FC_RX_QUEUE);
	fc_in_uart(fc);
	pthread_mutex_unlock(fc->front.lock);
}

/* No request of the console's reaches its server: nothing completes. */
static void fc_done(struct front *f, struct front_chain *c,
		    const struct ipc_dp_done *d, const void *buf)
{
	(void)f;
	(void)c;
	(void)d;
	(void)buf;
}

/* Front lock held: the transmit chain waits for room in the pipe. */
static int fc_tx_stall(struct front_console *fc, bool midway)
{
	fc->tx_stalled = true;
	fc->tx_midway = midway;
	console_pipe_wait(&fc->out);
	return -ENOSPC;
}

/*
 * A transmit chain: its bytes into the OUT pipe, after the UART bytes
 * that reached the VMM before it, from where an earlier try stopped
 * (c->priv[0]). Given back to the guest once all are in; a full pipe
 * stalls the chain (and the queue behind it) until it has room.
 */
static int fc_chain_tx(struct front *f, struct front_chain *c)
{
	struct front_console *fc = f->opaque;
	uint32_t total = c->vc.readable_len;
	uint64_t off = c->priv[0];
	size_t want, got;
	ssize_t n;

	if (!off && !fc_out_uart(fc))
		return fc_tx_stall(fc, false);
	while (off < total) {
		want = total - off < sizeof(fc->bounce) ? total - off
							: sizeof(fc->bounce);
		got = virtq_chain_read(f->vdev->mem, &c->vc, off, fc->bounce,
				       want);
		if (got != want) {
			virtio_mmio_fail(f->vdev,
					 "transmitq buffer %u is unreadable",
					 c->vc.head);
			return -EINVAL;
		}
		n = console_pipe_put(&fc->out, fc->bounce, got);
		if (n < 0) {
			log_warn("console: output: %s; dropped",
				 strerror((int)-n));
			n = (ssize_t)got;
		}
		off += (uint64_t)n;
		if ((size_t)n < got) {
			c->priv[0] = off;
			return fc_tx_stall(fc, off != 0);
		}
	}
	fc->tx_stalled = fc->tx_midway = false;
	fc->st.virtio_out += total;
	if (trace_on())
		fc_trace("out", "write", c->qi, c->vc.head, total);
	return 0;
}

/*
 * A receive chain: filled with what input the IN pipe holds (up to its
 * size) and given back at once; with none, it waits (stalled) until input
 * comes, and input goes to no one else meanwhile.
 */
static int fc_chain_rx(struct front *f, struct front_chain *c)
{
	struct front_console *fc = f->opaque;
	size_t want = c->vc.writable_len;
	ssize_t n;

	if (!want) {
		virtio_mmio_fail(f->vdev,
				 "receiveq buffer %u has no device-writable "
				 "bytes",
				 c->vc.head);
		return -EINVAL;
	}
	if (want > sizeof(fc->bounce))
		want = sizeof(fc->bounce);
	n = console_pipe_get(&fc->in, fc->bounce, want);
	if (n <= 0) {
		if (n < 0)
			log_debug("console: input: %s", strerror((int)-n));
		fc->rx_waiting = true;
		console_pipe_wait(&fc->in);
		return -ENOSPC;
	}
	fc->rx_waiting = false;
	c->written = (uint32_t)front_copy_out(f, c, 0, fc->bounce, (size_t)n);
	fc->st.virtio_in += c->written;
	if (trace_on())
		fc_trace("in", "read", c->qi, c->vc.head, c->written);
	return 0;
}

static int fc_chain(struct front *f, struct front_chain *c)
{
	return c->qi == FC_RX_QUEUE ? fc_chain_rx(f, c) : fc_chain_tx(f, c);
}

/*
 * The guest reset the device: the stalled chains are gone (front_reset
 * dropped them; bytes of a transmit chain already in the pipe stay). Input
 * may go to the UART now, and UART output that waited behind a chain may
 * go (the I/O thread writes it: this may be a vCPU thread).
 */
static void fc_reset(struct front *f)
{
	struct front_console *fc = f->opaque;
	uint64_t one = 1;

	fc->rx_waiting = false;
	fc->tx_stalled = fc->tx_midway = false;
	console_pipe_wait(&fc->in);
	if (write(fc->tx_efd, &one, sizeof(one)) < 0)
		log_debug("console: tx eventfd: %s", strerror(errno));
}

static const struct front_ops fc_front_ops = {
	.chain = fc_chain,
	.done = fc_done,
	.reset = fc_reset,
	.pump = fc_pump,
};

/* Transport callbacks (device lock held). */
static void fc_config_read(void *opaque, uint32_t off, void *data, unsigned len)
{
	struct front_console *fc = opaque;

	memcpy(data, fc->sup.ready.config + off, len);
}

static void fc_notify(void *opaque, unsigned qi)
{
	struct front_console *fc = opaque;

	front_notify(&fc->front, qi);
}

static void fc_vreset(void *opaque)
{
	struct front_console *fc = opaque;

	if (fc->front_ready)
		front_reset(&fc->front);
}

/* I/O thread callbacks. */
static void fc_completions(void *opaque)
{
	struct front_console *fc = opaque;

	/* The console posts nothing: any completion breaks the protocol. */
	if (front_reap(&fc->front) < 0)
		supervisor_kill(&fc->sup, "bad completion");
}

/* A new server took over the same pipes: go on as before. */
static void fc_restarted(void *opaque)
{
	struct front_console *fc = opaque;

	front_restarted(&fc->front);
}

/* No server any more: UART output is counted as dropped from now on. */
static void fc_failed(void *opaque)
{
	struct front_console *fc = opaque;

	atomic_store(&fc->server_dead, true);
	front_failed(&fc->front);
	front_pump(&fc->front);
}

static const struct supervisor_ops fc_sup_ops = {
	.completions = fc_completions,
	.restarted = fc_restarted,
	.failed = fc_failed,
};

static void fc_tx_timer(evutil_socket_t fd, short what, void *arg)
{
	struct front_console *fc = arg;

	(void)fd;
	(void)what;
	front_pump(&fc->front);
}

static void fc_tx_event(int fd, void *arg)
{
	struct front_console *fc = arg;
	struct timeval tv = {.tv_sec = 0, .tv_usec = FRONT_CONSOLE_TX_DELAY_US};
	size_t queued;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&fc->tx_lock);
	queued = fc->tx_len;
	pthread_mutex_unlock(&fc->tx_lock);
	if (queued >= FRONT_CONSOLE_TX_BATCH || !fc->tx_timer ||
	    atomic_load(&fc->draining)) {
		front_pump(&fc->front);
		return;
	}
	if (!evtimer_pending(fc->tx_timer, NULL))
		evtimer_add(fc->tx_timer, &tv);
}

int front_console_init(struct front_console *fc)
{
	int ret;

	memset(fc, 0, sizeof(*fc));
	fc->out.vmm_fd = fc->out.srv_fd = -1;
	fc->in.vmm_fd = fc->in.srv_fd = -1;
	ret = pthread_mutex_init(&fc->tx_lock, NULL);
	if (ret)
		return -ret;
	fc->tx_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fc->tx_efd < 0) {
		ret = -errno;
		pthread_mutex_destroy(&fc->tx_lock);
		return ret;
	}
	return 0;
}

uint64_t front_console_features(const struct ctl_ready *ready)
{
	uint64_t f = ready->features & FC_FEATURES;

	/* A guest with SIZE reads cols and rows: they must be there. */
	if (ready->config_len < FC_CFG_SIZE_LEN)
		f &= ~VIRTIO_BIT(FC_F_SIZE);
	return f;
}

static void fc_fill_ops(struct front_console *fc)
{
	struct virtio_dev_ops *o = &fc->ops;
	uint32_t clen = fc->sup.ready.config_len;

	memset(o, 0, sizeof(*o));
	o->device_id = VIRTIO_ID_CONSOLE;
	o->features = front_console_features(&fc->sup.ready);
	if (fc->sup.ready.features & ~o->features)
		log_warn("console: server offers features %#llx the front "
			 "does not serve; not offered",
			 (unsigned long long)(fc->sup.ready.features &
					      ~o->features));
	o->nr_queues = 2;
	o->queue_max[FC_RX_QUEUE] = FRONT_CONSOLE_QUEUE_MAX;
	o->queue_max[FC_TX_QUEUE] = FRONT_CONSOLE_QUEUE_MAX;
	o->config_size =
		clen < VIRTIO_MMIO_CONFIG_MAX ? clen : VIRTIO_MMIO_CONFIG_MAX;
	o->config_read = fc_config_read;
	o->notify = fc_notify;
	o->reset = fc_vreset;
}

static int fc_start_server(struct front_console *fc,
			   const struct console_res *res, int log_level,
			   const struct supervisor_policy *policy, char *err,
			   size_t errlen)
{
	struct supervisor_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.dev = "console";
	spec.type = CTL_DEV_CONSOLE;
	spec.setup.cfg.console.backend = res->kind;
	/* The rings carry nothing of the console's: the smallest there is. */
	spec.geom.sq_entries = 2;
	spec.geom.cq_entries = 2;
	spec.geom.arena_slot_size = 4096;
	spec.geom.arena_slots = 1;
	/* The same fds for every server: the bytes in the pipes survive. */
	if (supervisor_spec_fd(&spec, CTL_FD_BACKEND, res->fd) ||
	    supervisor_spec_fd(&spec, CTL_FD_BACKEND_OUT, res->out_fd) ||
	    supervisor_spec_fd(&spec, CTL_FD_OUT_PIPE, fc->out.srv_fd) ||
	    supervisor_spec_fd(&spec, CTL_FD_IN_PIPE, fc->in.srv_fd))
		return errf(err, errlen, -E2BIG,
			    "console server: too many fds");
	spec.log_level = log_level;
	spec.policy = *policy;
	/* One loop thread. */
	spec.limits = (struct sandbox_limits){
		.as_bytes = SANDBOX_AS(1ull << 30),
		.nofile = 64,
		.nproc = 16,
	};
	/* Input waits for the user as long as it takes. */
	spec.policy.watchdog_ms = 0;
	return supervisor_start(&fc->sup, &spec, err, errlen);
}

static int fc_open_pipes(struct front_console *fc, struct iothread *io,
			 char *err, size_t errlen)
{
	int ret = console_pipe_open(&fc->out, CONSOLE_PIPE_OUT,
				    FRONT_CONSOLE_OUT_PIPE, io->base,
				    fc_out_ready, fc);

	if (ret)
		return errf(err, errlen, ret, "console output pipe: %s",
			    strerror(-ret));
	ret = console_pipe_open(&fc->in, CONSOLE_PIPE_IN, 0, io->base,
				fc_in_ready, fc);
	if (ret) {
		console_pipe_close(&fc->out);
		return errf(err, errlen, ret, "console input pipe: %s",
			    strerror(-ret));
	}
	fc->pipes_open = true;
	return 0;
}

int front_console_start(struct front_console *fc, struct vm *vm,
			struct iothread *io, const struct console_res *res,
			int log_level, const struct supervisor_policy *policy,
			char *err, size_t errlen)
{
	int ret;

	fc->uart = &vm->uart;
	fc->io = io;
	ret = fc_open_pipes(fc, io, err, errlen);
	if (ret)
		return ret;
	ret = fc_start_server(fc, res, log_level, policy, err, errlen);
	if (ret)
		return ret;
	fc->started = true;
	fc_fill_ops(fc);
	ret = virtio_dev_init(&fc->vdev, vm, io, FRONT_CONSOLE_SLOT, "console0",
			      &fc->ops, fc);
	if (ret) {
		snprintf(err, errlen, "virtio console: %s", strerror(-ret));
		return ret;
	}
	fc->vdev_ready = true;
	ret = front_init(&fc->front, &fc_front_ops, fc, &fc->vdev.mmio,
			 &fc->vdev.lock, &fc->sup.dp, io, 2,
			 2 * FRONT_CONSOLE_QUEUE_MAX + 8);
	if (ret) {
		snprintf(err, errlen, "console front: %s", strerror(-ret));
		return ret;
	}
	fc->front_ready = true;
	fc->in_timer = evtimer_new(io->base, fc_in_timer, fc);
	fc->tx_timer = evtimer_new(io->base, fc_tx_timer, fc);
	fc->tx_ev = iothread_watch(io, fc->tx_efd, fc_tx_event, fc);
	if (!fc->in_timer || !fc->tx_timer || !fc->tx_ev) {
		snprintf(err, errlen, "console front: out of memory");
		return -ENOMEM;
	}
	ret = supervisor_watch(&fc->sup, io, &fc_sup_ops, fc, &fc->vdev.lock);
	if (ret) {
		snprintf(err, errlen, "console server watch: %s",
			 strerror(-ret));
		return ret;
	}
	/* Input is looked at once it comes; arms the completion wake-up. */
	console_pipe_wait(&fc->in);
	front_reap(&fc->front);
	return 0;
}

/* Front lock held: guest output not yet handed to the backend. */
static bool fc_out_pending(struct front_console *fc)
{
	bool queued;

	pthread_mutex_lock(&fc->tx_lock);
	queued = fc->tx_len != 0;
	pthread_mutex_unlock(&fc->tx_lock);
	return queued || fc->tx_stalled || console_pipe_queued(&fc->out) > 0;
}

void front_console_drain(struct front_console *fc)
{
	struct timespec nap = {0, FC_DRAIN_NAP_MS * 1000000L};
	uint64_t end = clock_now_ms() + FRONT_CONSOLE_DRAIN_MS;
	uint64_t one = 1;
	bool pending;

	if (!fc->front_ready)
		return;
	atomic_store(&fc->draining, true);
	/* Bytes waiting for the batch timer go now. */
	if (write(fc->tx_efd, &one, sizeof(one)) < 0)
		return;
	/* A server restarting meanwhile takes the pipe up where it was. */
	while (!atomic_load(&fc->server_dead)) {
		pthread_mutex_lock(fc->front.lock);
		pending = fc_out_pending(fc);
		pthread_mutex_unlock(fc->front.lock);
		if (!pending)
			return;
		if (clock_now_ms() >= end) {
			log_warn("console: output still queued at exit");
			return;
		}
		nanosleep(&nap, NULL);
	}
}

void front_console_stop(struct front_console *fc)
{
	char line[256];

	if (fc->started) {
		supervisor_stop(&fc->sup, FRONT_CONSOLE_STOP_MS);
		supervisor_record_line(&fc->sup, "console", line, sizeof(line));
		if (fc->sup.rec.deaths)
			log_info("%s", line);
		else
			log_debug("%s", line);
	}
	fc->started = false;
	if (fc->tx_ev)
		iothread_unwatch(fc->tx_ev);
	fc->tx_ev = NULL;
	if (fc->in_timer)
		event_free(fc->in_timer);
	fc->in_timer = NULL;
	if (fc->tx_timer)
		event_free(fc->tx_timer);
	fc->tx_timer = NULL;
	if (fc->front_ready) {
		front_fini(&fc->front);
		fc->front_ready = false;
	}
	if (fc->vdev_ready)
		virtio_dev_fini(&fc->vdev);
	fc->vdev_ready = false;
	if (fc->st.uart_dropped)
		log_warn("console: %llu UART bytes dropped",
			 (unsigned long long)fc->st.uart_dropped);
	log_debug("console stats: uart_out=%llu uart_in=%llu virtio_out=%llu "
		  "virtio_in=%llu uart_dropped=%llu",
		  (unsigned long long)fc->st.uart_out,
		  (unsigned long long)fc->st.uart_in,
		  (unsigned long long)fc->st.virtio_out,
		  (unsigned long long)fc->st.virtio_in,
		  (unsigned long long)fc->st.uart_dropped);
	if (fc->pipes_open) {
		console_pipe_close(&fc->out);
		console_pipe_close(&fc->in);
	}
	fc->pipes_open = false;
	if (fc->tx_efd >= 0)
		close(fc->tx_efd);
	fc->tx_efd = -1;
	pthread_mutex_destroy(&fc->tx_lock);
}
