/*
 * fuzz_srv_request.c: the device-server core's request path (checks, fault
 * table, console device) given arbitrary submission-ring entries, in one
 * process. Input: 64-byte ring entries, pushed raw (ids, ops, arena ranges
 * and flags all hostile); a trailing partial entry becomes guest output
 * and backend input bytes, which the console moves through its pipes
 * meanwhile. It must never crash, with no fault set every posted entry
 * must come back exactly once (the console refuses them all: its bytes
 * never ride the rings), and every byte must come out of its pipe once.
 */
#include <event2/event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devsrv/common/srv_core.h"
#include "devsrv/console/console.h"
#include "ipc/devproto.h"

static const struct ipc_geom fuzz_geom = {
	.sq_entries = 16,
	.cq_entries = 16,
	.arena_slot_size = 256,
	.arena_slots = 16,
};

static struct ipc_dp_vmm fuzz_vmm;
static struct srv *fuzz_srv;
static struct console fuzz_console;
static int fuzz_peer = -1;
static int fuzz_out[2], fuzz_in[2]; /* the console's pipes, as a VMM's */
static uint64_t fuzz_posted, fuzz_completed;
static uint64_t fuzz_out_sent, fuzz_out_got, fuzz_in_sent, fuzz_in_got;

static void fuzz_init(void)
{
	struct ctl_setup st = {.dev_type = CTL_DEV_CONSOLE};
	struct ctl_ready ready;
	struct srv_fds fds = {.backend = -1, .backend_out = -1, .client = -1};
	int sp[2];

	if (ipc_dp_vmm_open(&fuzz_vmm, &fuzz_geom, 1) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) ||
	    pipe2(fuzz_out, O_NONBLOCK) || pipe2(fuzz_in, O_NONBLOCK))
		abort();
	fds.out_pipe = fuzz_out[0];
	fds.in_pipe = fuzz_in[1];
	fuzz_srv = srv_core_new(&console_ops, &fuzz_console);
	if (!fuzz_srv ||
	    srv_core_attach(fuzz_srv, fuzz_vmm.reg.fd, fuzz_vmm.srv_kick_fd,
			    fuzz_vmm.srv_call_fd, &fuzz_geom))
		abort();
	fds.backend = sp[1];
	fuzz_peer = sp[0];
	st.cfg.console.backend = CTL_CONSOLE_STDIO;
	st.geo.sq_entries = fuzz_geom.sq_entries;
	if (console_ops.setup(fuzz_srv, &st, &fds, &ready))
		abort();
}

/* Take completions off the ring as the VMM would, and check them. */
static void fuzz_pop(void)
{
	struct ipc_cpl cpl[16];
	int n;

	while ((n = ipc_ring_pop(&fuzz_vmm.cq, cpl, 16)) > 0) {
		fuzz_completed += (unsigned)n;
		for (int i = 0; i < n; i++)
			if (cpl[i].len >
			    fuzz_geom.arena_slot_size * fuzz_geom.arena_slots)
				abort();
	}
	if (n < 0 || fuzz_completed > fuzz_posted)
		abort();
}

/* Take what came out of the console: backend output, guest input. */
static void fuzz_sink(void)
{
	char sink[4096];
	ssize_t n;

	while ((n = read(fuzz_peer, sink, sizeof(sink))) > 0)
		fuzz_out_got += (uint64_t)n;
	while ((n = read(fuzz_in[0], sink, sizeof(sink))) > 0)
		fuzz_in_got += (uint64_t)n;
}

static void fuzz_run_loop(void)
{
	for (int i = 0; i < 4; i++) {
		event_base_loop(srv_base(fuzz_srv), EVLOOP_NONBLOCK);
		fuzz_sink();
	}
	fuzz_pop();
}

/* Bytes both ways: into the OUT pipe (guest output), the backend (input). */
static void fuzz_bytes(const uint8_t *p, size_t n)
{
	ssize_t w = write(fuzz_out[1], p, n);

	if (w > 0)
		fuzz_out_sent += (uint64_t)w;
	w = write(fuzz_peer, p, n);
	if (w > 0)
		fuzz_in_sent += (uint64_t)w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = size / sizeof(struct ipc_req);

	if (!fuzz_srv)
		fuzz_init();
	for (size_t i = 0; i < n; i++) {
		struct ipc_req req;

		memcpy(&req, data + i * sizeof(req), sizeof(req));
		/* Keep some ops near the device's so it is reached. */
		if (req.op & 0x80000000u)
			req.op = IPC_OP_DEV + req.op % 4;
		while (ipc_ring_push(&fuzz_vmm.sq, &req, 1) == 0) {
			srv_ring_drain(fuzz_srv);
			fuzz_run_loop();
		}
		fuzz_posted++;
		if (i % 8 == 7) {
			srv_ring_drain(fuzz_srv);
			fuzz_run_loop();
		}
	}
	if (size % sizeof(struct ipc_req))
		fuzz_bytes(data + n * sizeof(struct ipc_req),
			   size % sizeof(struct ipc_req));
	srv_ring_drain(fuzz_srv);
	fuzz_run_loop();
	/* No fault is set and the backend is drained: all came back, once. */
	if (fuzz_completed != fuzz_posted)
		abort();
	/* And every byte went through its pipe, once. */
	for (int i = 0; i < 100 && (fuzz_out_got != fuzz_out_sent ||
				    fuzz_in_got != fuzz_in_sent);
	     i++)
		fuzz_run_loop();
	if (fuzz_out_got != fuzz_out_sent || fuzz_in_got != fuzz_in_sent)
		abort();
	return 0;
}

/* Two well-formed requests and some bytes: the driver mutates them. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	struct ipc_req r[2] = {0};

	if (cap < sizeof(r) + 3)
		return 0;
	r[0].id = 1;
	r[0].op = IPC_OP_DEV;
	r[0].arena_len = 5;
	r[0].args.raw[0] = 1;
	r[1].id = 2;
	r[1].op = IPC_OP_DEV + 1;
	r[1].arena_off = 256;
	r[1].arena_len = 16;
	memcpy(buf, r, sizeof(r));
	memcpy(buf + sizeof(r), "in!", 3);
	return sizeof(r) + 3;
}
