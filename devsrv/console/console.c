/* console.c: console device semantics: OUT, IN and CANCEL_IN requests. */
#include "devsrv/console/console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/devproto.h"
#include "sandbox/seccomp_policy.h"

static int console_fifo_init(struct console_fifo *f, uint32_t cap)
{
	f->e = calloc(cap, sizeof(*f->e));
	f->cap = f->e ? cap : 0;
	f->head = f->n = 0;
	return f->e ? 0 : -ENOMEM;
}

static void console_fifo_fini(struct console_fifo *f)
{
	free(f->e);
	memset(f, 0, sizeof(*f));
}

static struct console_waiter *console_fifo_front(struct console_fifo *f)
{
	return f->n ? &f->e[f->head] : NULL;
}

static void console_fifo_pop(struct console_fifo *f)
{
	f->head = (f->head + 1) % f->cap;
	f->n--;
}

static struct console_waiter *console_fifo_push(struct console_fifo *f)
{
	if (f->n >= f->cap)
		return NULL;
	return &f->e[(f->head + f->n++) % f->cap];
}

static void console_done(struct console *c, uint64_t id, uint32_t len)
{
	struct ipc_cpl cpl = {.id = id, .len = len};

	if (srv_complete(c->srv, &cpl))
		srv_warn("console: completion of %#llx refused",
			 (unsigned long long)id);
}

/* Give buffered input to the posted INs: virtio first, then UART. */
static void console_deliver(struct console *c)
{
	while (c->inbuf.len) {
		struct console_fifo *f = c->in[CONSOLE_STREAM_VIRTIO].n
						 ? &c->in[CONSOLE_STREAM_VIRTIO]
						 : &c->in[CONSOLE_STREAM_UART];
		struct console_waiter *w = console_fifo_front(f);
		size_t n;

		if (!w)
			break;
		n = console_bytes_get(&c->inbuf, w->buf, w->len);
		c->in_bytes[w->stream] += n;
		console_done(c, w->id, (uint32_t)n);
		console_fifo_pop(f);
	}
	console_backend_input_resume(&c->be);
}

static void console_on_input(void *ctx)
{
	console_deliver(ctx);
}

/* Queue room came back: finish held OUTs in order. */
static void console_on_space(void *ctx)
{
	struct console *c = ctx;
	struct console_waiter *w;

	while ((w = console_fifo_front(&c->outw))) {
		w->done += console_backend_write(&c->be, w->buf + w->done,
						 w->len - w->done);
		if (w->done < w->len)
			break;
		c->out_bytes[w->stream] += w->len;
		console_done(c, w->id, 0);
		console_fifo_pop(&c->outw);
	}
}

static const struct console_backend_cb console_cb = {
	.on_input = console_on_input,
	.on_space = console_on_space,
};

static void console_cancel_in(struct console *c)
{
	for (int s = 0; s < 2; s++) {
		struct console_waiter *w;

		while ((w = console_fifo_front(&c->in[s]))) {
			console_done(c, w->id, 0);
			console_fifo_pop(&c->in[s]);
		}
	}
}

static enum srv_verdict console_out(struct console *c,
				    const struct ipc_req *req, uint8_t *buf,
				    uint8_t stream, struct ipc_cpl *cpl)
{
	struct console_waiter *w;
	uint32_t taken = 0;

	/* Order: nothing overtakes an OUT already held back. */
	if (!c->outw.n)
		taken = (uint32_t)console_backend_write(&c->be, buf,
							req->arena_len);
	if (taken == req->arena_len) {
		c->out_bytes[stream] += taken;
		return SRV_DONE;
	}
	w = console_fifo_push(&c->outw);
	if (!w) {
		cpl->status = -EBUSY; /* more than the VMM may post */
		return SRV_DONE;
	}
	*w = (struct console_waiter){.id = req->id,
				     .buf = buf,
				     .len = req->arena_len,
				     .done = taken,
				     .stream = stream};
	return SRV_PENDING;
}

static enum srv_verdict console_in(struct console *c, const struct ipc_req *req,
				   uint8_t *buf, uint8_t stream,
				   struct ipc_cpl *cpl)
{
	struct console_waiter *w;

	if (!req->arena_len) {
		cpl->status = -EINVAL;
		return SRV_DONE;
	}
	/* Buffered bytes mean no IN was waiting: this one takes them. */
	if (c->inbuf.len) {
		cpl->len = (uint32_t)console_bytes_get(&c->inbuf, buf,
						       req->arena_len);
		c->in_bytes[stream] += cpl->len;
		console_backend_input_resume(&c->be);
		return SRV_DONE;
	}
	w = console_fifo_push(&c->in[stream]);
	if (!w) {
		cpl->status = -EBUSY;
		return SRV_DONE;
	}
	*w = (struct console_waiter){.id = req->id,
				     .buf = buf,
				     .len = req->arena_len,
				     .stream = stream};
	return SRV_PENDING;
}

static enum srv_verdict console_handle(struct srv *srv,
				       const struct ipc_req *req, void *buf,
				       struct ipc_cpl *cpl)
{
	struct console *c = srv_dev(srv);
	uint8_t stream = req->args.raw[0];

	if (req->op == CONSOLE_OP_CANCEL_IN) {
		console_cancel_in(c);
		return SRV_DONE;
	}
	if (req->op != CONSOLE_OP_OUT && req->op != CONSOLE_OP_IN) {
		cpl->status = -EOPNOTSUPP;
		return SRV_DONE;
	}
	if (stream > CONSOLE_STREAM_VIRTIO) {
		cpl->status = -EINVAL;
		return SRV_DONE;
	}
	if (req->op == CONSOLE_OP_OUT)
		return console_out(c, req, buf, stream, cpl);
	return console_in(c, req, buf, stream, cpl);
}

static int console_setup(struct srv *srv, const struct ctl_setup *setup,
			 const struct srv_fds *fds, struct ctl_ready *ready)
{
	struct console *c = srv_dev(srv);
	uint32_t cap = setup->geo.sq_entries;
	int ret;

	c->srv = srv;
	ret = console_bytes_init(&c->inbuf, CONSOLE_INBUF_BYTES);
	if (!ret)
		ret = console_fifo_init(&c->in[0], cap);
	if (!ret)
		ret = console_fifo_init(&c->in[1], cap);
	if (!ret)
		ret = console_fifo_init(&c->outw, cap);
	if (!ret)
		ret = console_backend_open(&c->be, srv_base(srv),
					   setup->cfg.console.backend, fds,
					   &c->inbuf, &console_cb, c);
	if (ret)
		return ret; /* the shutdown op frees what was made */
	c->be_open = true;
	/* No VIRTIO_CONSOLE_F_SIZE: cols, rows, max_nr_ports read as 0. */
	ready->features = 0;
	ready->config_len = 8;
	return 0;
}

static void console_reset(struct srv *srv)
{
	struct console *c = srv_dev(srv);

	console_cancel_in(c);
	console_bytes_consume(&c->inbuf, c->inbuf.len);
	console_backend_input_resume(&c->be);
}

static void console_shutdown(struct srv *srv)
{
	struct console *c = srv_dev(srv);

	if (c->be_open)
		console_backend_close(&c->be);
	c->be_open = false;
	console_bytes_fini(&c->inbuf);
	console_fifo_fini(&c->in[0]);
	console_fifo_fini(&c->in[1]);
	console_fifo_fini(&c->outw);
}

static enum ctl_op console_op_class(uint32_t op)
{
	if (op == CONSOLE_OP_OUT)
		return CTL_OP_CONSOLE_OUT;
	if (op == CONSOLE_OP_IN)
		return CTL_OP_CONSOLE_IN;
	return 0;
}

static void console_stats(struct srv *srv, struct ctl_stats *st, bool reset)
{
	struct console *c = srv_dev(srv);

	srv_stats_add(st, "out_uart_bytes", c->out_bytes[0]);
	srv_stats_add(st, "out_virtio_bytes", c->out_bytes[1]);
	srv_stats_add(st, "in_uart_bytes", c->in_bytes[0]);
	srv_stats_add(st, "in_virtio_bytes", c->in_bytes[1]);
	srv_stats_add(st, "dropped_bytes", c->be.st.dropped);
	srv_stats_add(st, "clients_accepted", c->be.st.clients_accepted);
	srv_stats_add(st, "clients_refused", c->be.st.clients_refused);
	srv_stats_add(st, "write_errors", c->be.st.write_errors);
	srv_stats_add(st, "in_buffered", c->inbuf.len);
	if (reset) {
		memset(c->out_bytes, 0, sizeof(c->out_bytes));
		memset(c->in_bytes, 0, sizeof(c->in_bytes));
		memset(&c->be.st, 0, sizeof(c->be.st));
	}
}

const struct srv_dev_ops console_ops = {
	.name = "console",
	.dev_type = CTL_DEV_CONSOLE,
	.policy = &sandbox_policy_console,
	.setup = console_setup,
	.handle = console_handle,
	.reset = console_reset,
	.shutdown = console_shutdown,
	.op_class = console_op_class,
	.stats = console_stats,
};
