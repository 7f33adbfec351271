/* front_console.c: virtio-console and the UART stream on isovm-console. */
#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ipc/devproto.h"
#include "vcpu/clock.h"
#include "vcpu/core/trace.h"
#include "vcpu/front/console/front_console.h"
#include "vcpu/log.h"
#include "vcpu/vm/vm.h"

#define FC_RX_QUEUE    0
#define FC_TX_QUEUE    1
#define FC_IN_RETRY_US 2000  /* UART FIFO full: look again this soon */
#define FC_IN_POLL_US  20000 /* UART not read by the guest: look again */
#define FC_F_SIZE      0     /* virtio-console feature bit: cols, rows */
#define FC_CFG_SIZE_LEN 4    /* config bytes F_SIZE needs: cols, rows */
/*
 * Device features this front serves. Not MULTIPORT (it has port 0 only)
 * nor EMERG_WRITE (config writes are ignored); SIZE is only the server's
 * config shown as is.
 */
#define FC_FEATURES VIRTIO_BIT(FC_F_SIZE)

static struct ipc_req fc_req(uint32_t op, enum console_stream stream)
{
	struct ipc_req r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.args.raw[0] = (uint8_t)stream;
	return r;
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

/* Front lock held: post queued UART bytes, as much as the limit allows. */
static void fc_post_uart_out(struct front_console *fc)
{
	struct ipc_req r = fc_req(CONSOLE_OP_OUT, CONSOLE_STREAM_UART);
	size_t n;

	pthread_mutex_lock(&fc->tx_lock);
	if (atomic_load(&fc->server_dead)) {
		/* Nobody to write it: count it instead of piling it up. */
		fc->st.uart_dropped += fc->tx_len;
		fc->tx_head = fc->tx_len = 0;
	}
	while (fc->tx_len && fc->tx_inflight < FRONT_CONSOLE_TX_INFLIGHT) {
		n = FRONT_CONSOLE_TX_BUF - fc->tx_head;
		if (n > fc->tx_len)
			n = fc->tx_len;
		if (n > FRONT_CONSOLE_TX_REQ)
			n = FRONT_CONSOLE_TX_REQ;
		if (front_req(&fc->front, NULL, &r, (uint32_t)n,
			      fc->tx_buf + fc->tx_head, 0, n, &fc->tag_out))
			break; /* no room: the next completion pumps again */
		fc->tx_inflight++;
		fc->tx_head = (fc->tx_head + n) % FRONT_CONSOLE_TX_BUF;
		fc->tx_len -= n;
	}
	pthread_mutex_unlock(&fc->tx_lock);
}

/* Front lock held: the front's own work (ops->pump). */
static void fc_pump(struct front *f)
{
	struct front_console *fc = f->opaque;
	struct ipc_req r;

	if (fc->cancel_pending) {
		r = fc_req(CONSOLE_OP_CANCEL_IN, CONSOLE_STREAM_VIRTIO);
		if (!front_req(f, NULL, &r, 0, NULL, 0, 0, &fc->tag_cancel))
			fc->cancel_pending = false;
	}
	fc_post_uart_out(fc);
	/* Completions pump: front_console_drain() looks again. */
	if (atomic_load(&fc->draining))
		pthread_cond_broadcast(&fc->drained);
	if (fc->in_posted || fc->in_len || atomic_load(&fc->server_dead))
		return;
	/*
	 * The server gives input to any pending IN: a UART IN posted while
	 * the guest does not read the UART would take what a virtio console
	 * reader is waiting for. Ask again later.
	 */
	if (!uart_rx_wanted(fc->uart)) {
		fc_in_retry(fc, FC_IN_POLL_US);
		return;
	}
	r = fc_req(CONSOLE_OP_IN, CONSOLE_STREAM_UART);
	if (!front_req(f, NULL, &r, UART_RX_FIFO, NULL, 0, 0, &fc->tag_in))
		fc->in_posted = true;
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

/* I/O thread: the UART FIFO may have room now. */
static void fc_in_timer(evutil_socket_t fd, short what, void *arg)
{
	struct front_console *fc = arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(fc->front.lock);
	if (fc_feed_uart(fc))
		fc_pump(&fc->front);
	front_kick(&fc->front);
	pthread_mutex_unlock(fc->front.lock);
}

/* A completion of the front's own requests (c == NULL). */
/* Lock held: bytes that went through the server, for trace listeners. */
static void fc_trace(const char *op, const char *call, unsigned qi,
		     unsigned head, uint32_t bytes, int32_t status)
{
	struct trace_event e = {
		.op = op,
		.syscall = call,
		.queue = qi,
		.head = head,
		.bytes = bytes,
		.status = status ? 1 : 0,
	};

	trace_emit("console0", &e);
}

static void fc_done_own(struct front_console *fc, const struct ipc_dp_done *d,
			const void *buf)
{
	if (d->cookie == &fc->tag_out) {
		fc->tx_inflight--;
		if (d->status == 0)
			fc->st.uart_out += d->req.arena_len;
		if (trace_on())
			fc_trace("uart_out", "write", 0, 0, d->req.arena_len,
				 d->status);
		return;
	}
	if (d->cookie != &fc->tag_in)
		return; /* CANCEL_IN: nothing to do */
	fc->in_posted = false;
	if (d->status || !d->len || !buf)
		return; /* cancelled by a reset: pump posts it again */
	if (trace_on())
		fc_trace("uart_in", "read", 0, 0, d->len, 0);
	memcpy(fc->in_pend, buf, d->len);
	fc->in_off = 0;
	fc->in_len = d->len;
	fc_feed_uart(fc);
}

static void fc_done(struct front *f, struct front_chain *c,
		    const struct ipc_dp_done *d, const void *buf)
{
	struct front_console *fc = f->opaque;
	size_t n;

	if (!c) {
		fc_done_own(fc, d, buf);
		return;
	}
	if (c->orphan || d->status)
		return;
	if (c->qi == FC_RX_QUEUE) {
		n = buf ? front_copy_out(f, c, 0, buf, d->len) : 0;
		c->written = (uint32_t)n;
		fc->st.virtio_in += n;
		if (trace_on() && n)
			fc_trace("in", "read", c->qi, c->vc.head, (uint32_t)n, 0);
	} else {
		fc->st.virtio_out += d->req.arena_len;
		if (trace_on())
			fc_trace("out", "write", c->qi, c->vc.head,
				 d->req.arena_len, 0);
	}
}

static int fc_chain(struct front *f, struct front_chain *c)
{
	struct front_console *fc = f->opaque;
	struct ipc_req r;
	uint32_t len, off = 0;
	int ret;

	if (c->qi == FC_RX_QUEUE) {
		if (!c->vc.writable_len) {
			virtio_mmio_fail(f->vdev,
					 "receiveq buffer %u has no "
					 "device-writable bytes",
					 c->vc.head);
			return -EINVAL;
		}
		len = c->vc.writable_len < FRONT_CONSOLE_IN_MAX
			      ? c->vc.writable_len
			      : FRONT_CONSOLE_IN_MAX;
		r = fc_req(CONSOLE_OP_IN, CONSOLE_STREAM_VIRTIO);
		return front_req(f, c, &r, len, NULL, 0, 0, NULL);
	}
	r = fc_req(CONSOLE_OP_OUT, CONSOLE_STREAM_VIRTIO);
	while (off < c->vc.readable_len && c->nstaged < FRONT_CHAIN_MAX_REQS) {
		len = c->vc.readable_len - off;
		if (len > FRONT_CONSOLE_OUT_MAX)
			len = FRONT_CONSOLE_OUT_MAX;
		ret = front_req(f, c, &r, len, NULL, off, len, NULL);
		if (ret)
			return ret;
		off += len;
	}
	/* Past four requests the rest is not sent (a 1 MiB+ buffer). */
	fc->st.virtio_truncated += c->vc.readable_len - off;
	return 0;
}

/* The guest reset the device: input buffers it had posted are gone. */
static void fc_reset(struct front *f)
{
	struct front_console *fc = f->opaque;

	fc->cancel_pending = true;
	fc_pump(f);
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

	if (front_reap(&fc->front) < 0)
		supervisor_kill(&fc->sup, "bad completion");
}

/* Requests in flight were posted again: the new server serves them. */
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
	pthread_condattr_t ca;
	int ret;

	memset(fc, 0, sizeof(*fc));
	ret = pthread_mutex_init(&fc->tx_lock, NULL);
	if (ret)
		return -ret;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	ret = pthread_cond_init(&fc->drained, &ca);
	pthread_condattr_destroy(&ca);
	if (ret) {
		pthread_mutex_destroy(&fc->tx_lock);
		return -ret;
	}
	fc->tx_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fc->tx_efd < 0) {
		ret = -errno;
		pthread_cond_destroy(&fc->drained);
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
	/* Room for both full queues of input buffers plus output. */
	spec.geom.sq_entries = 4 * FRONT_CONSOLE_QUEUE_MAX;
	spec.geom.cq_entries = 4 * FRONT_CONSOLE_QUEUE_MAX;
	spec.geom.arena_slot_size = 4096;
	spec.geom.arena_slots = 1024;
	supervisor_spec_fd(&spec, CTL_FD_BACKEND, res->fd);
	supervisor_spec_fd(&spec, CTL_FD_BACKEND_OUT, res->out_fd);
	spec.log_level = log_level;
	spec.policy = *policy;
	/* One loop thread (and a stdin reader where stdin cannot poll). */
	spec.limits = (struct sandbox_limits){
		.as_bytes = SANDBOX_AS(1ull << 30),
		.nofile = 64,
		.nproc = 16,
	};
	/* Input requests wait for the user as long as it takes. */
	spec.policy.watchdog_ms = 0;
	return supervisor_start(&fc->sup, &spec, err, errlen);
}

int front_console_start(struct front_console *fc, struct vm *vm,
			struct iothread *io, const struct console_res *res,
			int log_level, const struct supervisor_policy *policy,
			char *err, size_t errlen)
{
	int ret;

	fc->uart = &vm->uart;
	fc->io = io;
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
	/* Arms the completion wake-up and posts the UART's first IN. */
	front_reap(&fc->front);
	return 0;
}

/* Front lock held. */
static bool fc_tx_pending(struct front_console *fc)
{
	bool pending;

	pthread_mutex_lock(&fc->tx_lock);
	pending = fc->tx_len || fc->tx_inflight;
	pthread_mutex_unlock(&fc->tx_lock);
	return pending && !atomic_load(&fc->server_dead);
}

void front_console_drain(struct front_console *fc)
{
	struct timespec deadline;
	uint64_t one = 1;
	bool late = false;

	if (!fc->front_ready)
		return;
	atomic_store(&fc->draining, true);
	/* Bytes waiting for the batch timer go now; completions do the rest. */
	if (write(fc->tx_efd, &one, sizeof(one)) < 0)
		return;
	deadline = deadline_after_ms(CLOCK_MONOTONIC, FRONT_CONSOLE_DRAIN_MS);
	pthread_mutex_lock(fc->front.lock);
	while (!late && fc_tx_pending(fc))
		late = pthread_cond_timedwait(&fc->drained, fc->front.lock,
					      &deadline) == ETIMEDOUT;
	pthread_mutex_unlock(fc->front.lock);
	if (late)
		log_warn("console: output still queued at exit");
}

void front_console_stop(struct front_console *fc)
{
	if (fc->started)
		supervisor_stop(&fc->sup, FRONT_CONSOLE_STOP_MS);
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
	if (fc->st.uart_dropped || fc->st.virtio_truncated)
		log_warn("console: %llu UART bytes dropped, %llu virtio bytes "
			 "truncated",
			 (unsigned long long)fc->st.uart_dropped,
			 (unsigned long long)fc->st.virtio_truncated);
	if (fc->tx_efd >= 0)
		close(fc->tx_efd);
	fc->tx_efd = -1;
	pthread_cond_destroy(&fc->drained);
	pthread_mutex_destroy(&fc->tx_lock);
}
