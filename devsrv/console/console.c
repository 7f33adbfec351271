/* console.c: the console device: its backend's flows, faults and counters. */
#include "devsrv/console/console.h"

#include <errno.h>
#include <string.h>

#include "sandbox/seccomp_policy.h"

static enum ctl_op console_class(enum console_dir dir)
{
	return dir == CONSOLE_DIR_OUT ? CTL_OP_CONSOLE_OUT : CTL_OP_CONSOLE_IN;
}

/* Faults and per-op statistics see each transfer as the core's request. */
static const struct ctl_fault *console_fault(void *ctx, enum console_dir dir)
{
	struct console *c = ctx;

	return srv_transfer_fault(c->srv, console_class(dir));
}

static void console_done(void *ctx, enum console_dir dir, uint64_t t0_ns,
			 ssize_t ret)
{
	struct console *c = ctx;

	srv_transfer_done(c->srv, console_class(dir), t0_ns,
			  ret > 0 ? (uint64_t)ret : 0, ret < 0 ? (int)ret : 0);
}

/*
 * The VMM holds every client too (CTL_CLIENT): a killed server then drops
 * no connection, and a restarted one gets it back in SETUP. A message
 * that cannot go means the VMM is gone: its loss is logged, no more.
 */
static void console_client(void *ctx, int fd)
{
	struct console *c = ctx;
	struct ctl_msg m = {.type = CTL_CLIENT};
	int ret;

	m.u.client.present = fd >= 0;
	ret = srv_send(c->srv, &m, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
	if (ret)
		srv_warn("console: cannot tell the VMM of a client: %s",
			 strerror(-ret));
}

static const struct console_backend_cb console_cb = {
	.fault = console_fault,
	.done = console_done,
	.client = console_client,
};

/* No request carries console bytes any more: whatever comes is refused. */
static enum srv_verdict console_handle(struct srv *srv,
				       const struct ipc_req *req, void *buf,
				       struct ipc_cpl *cpl)
{
	(void)srv;
	(void)req;
	(void)buf;
	cpl->status = -EOPNOTSUPP;
	return SRV_DONE;
}

static int console_setup(struct srv *srv, const struct ctl_setup *setup,
			 const struct srv_fds *fds, struct ctl_ready *ready)
{
	struct console *c = srv_dev(srv);
	int ret;

	c->srv = srv;
	ret = console_backend_open(&c->be, srv_base(srv),
				   setup->cfg.console.backend, fds, &console_cb,
				   c);
	if (ret)
		return ret;
	c->be_open = true;
	/* No VIRTIO_CONSOLE_F_SIZE: cols, rows, max_nr_ports read as 0. */
	ready->features = 0;
	ready->config_len = 8;
	return 0;
}

static void console_shutdown(struct srv *srv)
{
	struct console *c = srv_dev(srv);

	if (c->be_open)
		console_backend_close(&c->be);
	c->be_open = false;
}

static void console_stats(struct srv *srv, struct ctl_stats *st, bool reset)
{
	struct console *c = srv_dev(srv);
	struct console_backend_stats *b = &c->be.st;

	srv_stats_add(st, "out_bytes", b->out_bytes);
	srv_stats_add(st, "in_bytes", b->in_bytes);
	srv_stats_add(st, "dropped_bytes", b->dropped);
	srv_stats_add(st, "clients_accepted", b->clients_accepted);
	srv_stats_add(st, "clients_refused", b->clients_refused);
	srv_stats_add(st, "write_errors", b->write_errors);
	/* 1 where the kernel would not splice: read and write instead. */
	srv_stats_add(st, "out_read_write", c->be.out.pump.fallback);
	srv_stats_add(st, "in_read_write", c->be.in.pump.fallback);
	if (reset)
		memset(b, 0, sizeof(*b));
}

const struct srv_dev_ops console_ops = {
	.name = "console",
	.dev_type = CTL_DEV_CONSOLE,
	.setup = console_setup,
	.handle = console_handle,
	.shutdown = console_shutdown,
	.stats = console_stats,
	.policy = &sandbox_policy_console,
};
