/*
 * test_blk_server.c: the real isovm-blk binary driven by a fake VMM:
 * handshake, setup with an image fd, writes, reads, flush, stats, shutdown.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/ctl_channel.h"
#include "ipc/dataplane.h"
#include "ipc/devproto.h"
#include "ipc/virtio_blk_config.h"
#include "proto/proto_version.h"

#define CAP	  256u /* sectors */
#define SLICE_OFF 8192u
#define IMG_SIZE  (SLICE_OFF + CAP * 512u + 4096u)

static const struct ipc_geom geom = {64, 64, 4096, 128};

struct fake_vmm {
	struct ipc_dp_vmm dp;
	int sock;
	int img;
	pid_t pid;
	struct ctl_ready ready;
	struct ipc_geom geom; /* zero: the default geometry */
	enum ctl_cache cache; /* zero: writeback */
	const char *workers;  /* --workers, or NULL for the server's default */
};

static void vmm_spawn(struct fake_vmm *v)
{
	int sv[2];
	char fdarg[16];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
		     0);
	v->pid = fork();
	cr_assert_geq(v->pid, 0);
	if (v->pid == 0) {
		/* The server's end crosses exec; nothing else does. */
		if (fcntl(sv[1], F_SETFD, 0))
			_exit(126);
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		if (v->workers)
			execl(BLK_SERVER_PATH, "isovm-blk", "--ctl-fd", fdarg,
			      "--workers", v->workers, (char *)NULL);
		else
			execl(BLK_SERVER_PATH, "isovm-blk", "--ctl-fd", fdarg,
			      (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	v->sock = sv[0];
}

static void vmm_recv(struct fake_vmm *v, struct ctl_msg *m, enum ctl_type t)
{
	int fds[CTL_SETUP_MAX_FDS];
	unsigned nfds = 0;
	int ret = ctl_recv(v->sock, m, fds, CTL_SETUP_MAX_FDS, &nfds);

	cr_assert_eq(ret, 0, "ctl_recv: %d", ret);
	cr_assert_eq(nfds, 0);
	if (m->type == CTL_ERROR)
		cr_assert_fail("server error %u: %s", m->u.error.code,
			       m->u.error.text);
	cr_assert_eq(m->type, t, "got %s", ctl_type_name(m->type));
}

/* Image of @size bytes of 0xa5, server started, SETUP sent. */
static void vmm_setup(struct fake_vmm *v, bool ro, size_t size)
{
	struct ctl_msg m = {.type = CTL_HELLO};
	struct ctl_setup *st;
	char path[] = "/tmp/isovm-blk-srv-XXXXXX";
	static unsigned char fill[IMG_SIZE];
	int fds[4];

	v->img = mkstemp(path);
	cr_assert_geq(v->img, 0);
	unlink(path);
	memset(fill, 0xa5, sizeof(fill));
	cr_assert_leq(size, sizeof(fill));
	cr_assert_eq(pwrite(v->img, fill, size, 0), (ssize_t)size);
	if (!v->geom.sq_entries)
		v->geom = geom;
	if (!v->cache)
		v->cache = CTL_CACHE_WRITEBACK;
	cr_assert_eq(ipc_dp_vmm_open(&v->dp, &v->geom, 1), 0);
	vmm_spawn(v);

	vmm_recv(v, &m, CTL_HELLO);
	cr_assert_eq(m.u.hello.dev_type, CTL_DEV_BLK);
	cr_assert_eq(m.u.hello.pid, (uint32_t)v->pid);
	memset(&m, 0, sizeof(m));
	m.type = CTL_HELLO;
	m.u.hello.version = ISOVM_PROTO_VERSION;
	m.u.hello.role = CTL_ROLE_VMM;
	cr_assert_eq(ctl_send(v->sock, &m, NULL, 0), 0);

	memset(&m, 0, sizeof(m));
	m.type = CTL_SETUP;
	st = &m.u.setup;
	st->dev_type = CTL_DEV_BLK;
	st->cfg.blk.capacity_sectors = CAP;
	st->cfg.blk.read_only = ro;
	st->cfg.blk.block_size = 512;
	strcpy(st->cfg.blk.id, "e2e-disk");
	st->cfg.blk.cache = v->cache;
	st->cfg.blk.slice_offset = SLICE_OFF;
	ctl_geometry_from_ipc(&v->geom, v->dp.reg.size, &st->geo);
	st->nfds = 4;
	st->fds[0] = CTL_FD_MEMFD;
	st->fds[1] = CTL_FD_KICK;
	st->fds[2] = CTL_FD_CALL;
	st->fds[3] = CTL_FD_BACKEND;
	fds[0] = v->dp.reg.fd;
	fds[1] = v->dp.srv_kick_fd;
	fds[2] = v->dp.srv_call_fd;
	fds[3] = v->img;
	cr_assert_eq(ctl_send(v->sock, &m, fds, 4), 0);
}

static void vmm_start(struct fake_vmm *v, bool ro)
{
	struct ctl_msg m;

	vmm_setup(v, ro, IMG_SIZE);
	vmm_recv(v, &m, CTL_READY);
	v->ready = m.u.ready;
}

static int vmm_stop(struct fake_vmm *v)
{
	struct ctl_msg m = {.type = CTL_SHUTDOWN};
	int status;

	cr_assert_eq(ctl_send(v->sock, &m, NULL, 0), 0);
	cr_assert_eq(waitpid(v->pid, &status, 0), v->pid);
	close(v->sock);
	ipc_dp_vmm_close(&v->dp);
	return status;
}

/* Post one request; its arena buffer gets @len bytes of @data (or 0s). */
static struct ipc_req vmm_post(struct fake_vmm *v, uint32_t op, uint64_t sector,
			       uint32_t count, const void *data, uint32_t len)
{
	struct ipc_req r = {.op = op, .arena_len = len};

	r.args.blk.sector = sector;
	r.args.blk.count = count;
	if (len) {
		void *p;

		cr_assert_eq(ipc_arena_alloc(&v->dp.arena, len, &r.arena_off),
			     0);
		p = ipc_arena_span(&v->dp.arena, r.arena_off, len);
		if (data)
			memcpy(p, data, len);
		else
			memset(p, 0, len);
	}
	cr_assert_eq(ipc_dp_vmm_submit(&v->dp, &r, NULL), 0);
	return r;
}

/* Collect @n completions (5 s at most), freeing their arena buffers. */
static void vmm_reap(struct fake_vmm *v, struct ipc_dp_done *done, unsigned n)
{
	unsigned got = 0;

	cr_assert_geq(ipc_dp_vmm_kick(&v->dp), 0);
	for (int spins = 0; got < n && spins < 500; spins++) {
		struct pollfd pfd = {.fd = v->dp.call_fd, .events = POLLIN};
		int k = ipc_dp_vmm_reap(&v->dp, done + got, n - got);

		cr_assert_geq(k, 0, "reap: %d", k);
		got += (unsigned)k;
		if (got == n || ipc_notify_arm(&v->dp.cq_wait) > 0)
			continue;
		poll(&pfd, 1, 10);
		k = ipc_notify_drain(&v->dp.cq_wait);
		if (k < 0)
			cr_assert_fail("cq pipe: %s", strerror(-k));
		ipc_notify_disarm(&v->dp.cq_wait);
	}
	cr_assert_eq(got, n, "%u of %u completions", got, n);
}

static const void *vmm_buf(struct fake_vmm *v, const struct ipc_dp_done *d)
{
	return ipc_arena_span(&v->dp.arena, d->req.arena_off, d->req.arena_len);
}

static void vmm_free(struct fake_vmm *v, const struct ipc_dp_done *d)
{
	if (d->req.arena_len)
		cr_assert_eq(ipc_arena_free(&v->dp.arena, d->req.arena_off,
					    d->req.arena_len),
			     0);
}

static const struct ctl_op_stats *stat_of(const struct ctl_stats *st,
					  enum ctl_op op)
{
	for (unsigned i = 0; i < st->nops; i++)
		if (st->ops[i].op == op)
			return &st->ops[i];
	return NULL;
}

static uint64_t extra_of(const struct ctl_stats *st, const char *key)
{
	for (unsigned i = 0; i < st->nextra; i++)
		if (!strcmp(st->extra[i].key, key))
			return st->extra[i].value;
	return UINT64_MAX;
}

Test(blk_server, ready_announces_blk_features_and_config)
{
	struct fake_vmm v = {0};
	const uint8_t *c;
	uint64_t cap = 0;

	vmm_start(&v, false);
	c = v.ready.config;
	cr_assert_eq(v.ready.config_len, VIRTIO_BLK_CFG_LEN);
	for (int i = 7; i >= 0; i--)
		cap = cap << 8 | c[VIRTIO_BLK_CFG_CAPACITY + i];
	cr_assert_eq(cap, CAP);
	cr_assert(v.ready.features & 1ull << VIRTIO_BLK_F_FLUSH);
	cr_assert(v.ready.features & 1ull << VIRTIO_BLK_F_DISCARD);
	cr_assert_not(v.ready.features & 1ull << VIRTIO_BLK_F_RO);
	cr_assert_eq(vmm_stop(&v), 0, "clean exit after SHUTDOWN");
	close(v.img);
}

Test(blk_server, writes_reads_and_flush_through_the_real_server)
{
	static unsigned char w[48][2048];
	struct ipc_dp_done done[64];
	struct ctl_msg m = {.type = CTL_STATS_REQUEST};
	const struct ctl_op_stats *fl, *wr;
	struct fake_vmm v = {0};
	unsigned char chk[2048];

	vmm_start(&v, false);
	/* 48 writes of 4 sectors in flight at once, each its own range. */
	for (unsigned i = 0; i < 48; i++) {
		memset(w[i], (int)(i + 1), sizeof(w[i]));
		w[i][0] = (unsigned char)(0x80 | i);
		vmm_post(&v, IPC_OP_WRITE, i * 4u, 4, w[i], 2048);
	}
	vmm_reap(&v, done, 48);
	for (unsigned i = 0; i < 48; i++) {
		cr_assert_eq(done[i].status, 0);
		cr_assert_eq(done[i].len, 0);
		vmm_free(&v, &done[i]);
	}
	/* Flush, then read every written range back, all in flight. */
	vmm_post(&v, IPC_OP_FLUSH, 0, 0, NULL, 0);
	vmm_reap(&v, done, 1);
	cr_assert_eq(done[0].status, 0);
	for (unsigned i = 0; i < 48; i++)
		vmm_post(&v, IPC_OP_READ, i * 4u, 4, NULL, 2048);
	vmm_reap(&v, done, 48);
	for (unsigned i = 0; i < 48; i++) {
		unsigned k = (unsigned)(done[i].req.args.blk.sector / 4);

		cr_assert_eq(done[i].status, 0);
		cr_assert_eq(done[i].len, 2048);
		cr_assert_arr_eq(vmm_buf(&v, &done[i]), w[k], 2048);
		vmm_free(&v, &done[i]);
	}
	/* In the image: at slice_offset + sector * 512. */
	cr_assert_eq(pread(v.img, chk, 2048, SLICE_OFF + 20 * 512), 2048);
	cr_assert_arr_eq(chk, w[5], 2048);
	cr_assert_eq(pread(v.img, chk, 512, SLICE_OFF - 512), 512);
	for (int i = 0; i < 512; i++)
		cr_assert_eq(chk[i], 0xa5, "byte before the slice");

	/* A request past the end: -ERANGE, nothing written. */
	vmm_post(&v, IPC_OP_WRITE, CAP - 2, 4, w[0], 2048);
	vmm_post(&v, BLK_OP_GET_ID, 0, 0, NULL, 20);
	vmm_reap(&v, done, 2);
	for (unsigned i = 0; i < 2; i++) {
		if (done[i].req.op == IPC_OP_WRITE) {
			cr_assert_eq(done[i].status, -ERANGE);
		} else {
			cr_assert_eq(done[i].status, 0);
			cr_assert_eq(done[i].len, 20);
			cr_assert_arr_eq(vmm_buf(&v, &done[i]),
					 "e2e-disk\0\0\0\0\0\0\0\0\0\0\0", 20);
		}
		vmm_free(&v, &done[i]);
	}
	cr_assert_eq(pread(v.img, chk, 512, SLICE_OFF + CAP * 512), 512);
	for (int i = 0; i < 512; i++)
		cr_assert_eq(chk[i], 0xa5, "byte after the slice");

	cr_assert_eq(ctl_send(v.sock, &m, NULL, 0), 0);
	vmm_recv(&v, &m, CTL_STATS_REPLY);
	fl = stat_of(&m.u.stats, CTL_OP_FLUSH);
	wr = stat_of(&m.u.stats, CTL_OP_WRITE);
	cr_assert_not_null(fl);
	cr_assert_eq(fl->requests, 1);
	cr_assert_eq(fl->errors, 0);
	cr_assert_not_null(wr);
	cr_assert_eq(wr->requests, 49);
	cr_assert_eq(wr->errors, 1);
	cr_assert_eq(extra_of(&m.u.stats, "syncs"), 1);
	cr_assert_eq(extra_of(&m.u.stats, "rejected"), 1);
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

Test(blk_server, read_only_disk_refuses_writes_with_erofs)
{
	static unsigned char w[512];
	struct ipc_dp_done done[2];
	struct fake_vmm v = {0};
	unsigned char chk[512];

	vmm_start(&v, true);
	cr_assert(v.ready.features & 1ull << VIRTIO_BLK_F_RO);
	memset(w, 0x11, sizeof(w));
	vmm_post(&v, IPC_OP_WRITE, 0, 1, w, 512);
	vmm_post(&v, IPC_OP_READ, 0, 1, NULL, 512);
	vmm_reap(&v, done, 2);
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(done[i].status,
			     done[i].req.op == IPC_OP_WRITE ? -EROFS : 0);
	cr_assert_eq(pread(v.img, chk, 512, SLICE_OFF), 512);
	for (int i = 0; i < 512; i++)
		cr_assert_eq(chk[i], 0xa5);
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

Test(blk_server, image_too_small_is_a_setup_error)
{
	struct fake_vmm v = {0};
	struct ctl_msg m;
	int fds[CTL_SETUP_MAX_FDS], status;
	unsigned nfds;

	/* One sector short of slice_offset + capacity. */
	vmm_setup(&v, false, SLICE_OFF + CAP * 512 - 512);
	cr_assert_eq(ctl_recv(v.sock, &m, fds, CTL_SETUP_MAX_FDS, &nfds), 0);
	cr_assert_eq(m.type, CTL_ERROR);
	cr_assert_eq(m.u.error.code, ERANGE);
	cr_assert_eq(waitpid(v.pid, &status, 0), v.pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	close(v.sock);
	ipc_dp_vmm_close(&v.dp);
	close(v.img);
}

Test(blk_server, cache_none_sets_o_direct_and_bounces_unaligned_slots)
{
	static unsigned char w[8][1024];
	struct ipc_dp_done done[16];
	struct ctl_msg m = {.type = CTL_STATS_REQUEST};
	struct fake_vmm v = {0};

	int probe =
		open("/tmp", O_TMPFILE | O_RDWR | O_DIRECT | O_CLOEXEC, 0600);

	if (probe < 0)
		cr_skip_test("no O_DIRECT on /tmp");
	close(probe);
	/* 512-byte slots: arena buffers are not 4K aligned. */
	v.geom = (struct ipc_geom){16, 16, 512, 64};
	v.cache = CTL_CACHE_NONE;
	vmm_start(&v, false);
	/* The server switched the shared open file description. */
	cr_assert(fcntl(v.img, F_GETFL) & O_DIRECT);
	for (unsigned i = 0; i < 8; i++) {
		memset(w[i], (int)(0x40 + i), sizeof(w[i]));
		vmm_post(&v, IPC_OP_WRITE, i * 2u + 1, 2, w[i], 1024);
	}
	vmm_reap(&v, done, 8);
	for (unsigned i = 0; i < 8; i++) {
		cr_assert_eq(done[i].status, 0);
		vmm_free(&v, &done[i]);
	}
	for (unsigned i = 0; i < 8; i++)
		vmm_post(&v, IPC_OP_READ, i * 2u + 1, 2, NULL, 1024);
	vmm_reap(&v, done, 8);
	for (unsigned i = 0; i < 8; i++) {
		unsigned k = (unsigned)(done[i].req.args.blk.sector / 2);

		cr_assert_eq(done[i].status, 0);
		cr_assert_arr_eq(vmm_buf(&v, &done[i]), w[k], 1024);
		vmm_free(&v, &done[i]);
	}
	cr_assert_eq(ctl_send(v.sock, &m, NULL, 0), 0);
	vmm_recv(&v, &m, CTL_STATS_REPLY);
	cr_assert_geq(extra_of(&m.u.stats, "bounced"), 1);
	cr_assert_leq(extra_of(&m.u.stats, "bounced"), 16);
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

Test(blk_server, reset_completes_every_request_and_frees_its_slot)
{
	static unsigned char w[4096];
	struct ipc_dp_done done[64];
	struct ctl_msg m = {.type = CTL_RESET};
	/* One worker: most of the 64 requests still wait when RESET comes. */
	struct fake_vmm v = {.workers = "1"};
	unsigned ok = 0, cancelled = 0;

	vmm_start(&v, false);
	memset(w, 0x6b, sizeof(w));
	for (unsigned i = 0; i < 64; i++)
		vmm_post(&v, IPC_OP_WRITE, (i % 32) * 8u, 8, w, 4096);
	cr_assert_geq(ipc_dp_vmm_kick(&v.dp), 0);
	cr_assert_eq(ctl_send(v.sock, &m, NULL, 0), 0);
	vmm_reap(&v, done, 64);
	for (unsigned i = 0; i < 64; i++) {
		cr_assert(done[i].status == 0 || done[i].status == -ECANCELED,
			  "status %d", done[i].status);
		ok += done[i].status == 0;
		cancelled += done[i].status == -ECANCELED;
		vmm_free(&v, &done[i]);
	}
	cr_assert_eq(ok + cancelled, 64);
	/* Every slot is free again: a full second round is served. */
	for (unsigned i = 0; i < 64; i++)
		vmm_post(&v, IPC_OP_READ, (i % 32) * 8u, 8, NULL, 4096);
	vmm_reap(&v, done, 64);
	for (unsigned i = 0; i < 64; i++) {
		cr_assert_eq(done[i].status, 0);
		vmm_free(&v, &done[i]);
	}
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

Test(blk_server, injected_flush_error_reaches_the_completion_not_the_disk)
{
	struct ipc_dp_done done[2];
	struct ctl_msg m = {.type = CTL_FAULT};
	struct fake_vmm v = {0};

	vmm_start(&v, false);
	m.u.fault.op = CTL_OP_FLUSH;
	m.u.fault.kind = CTL_FAULT_ERROR;
	m.u.fault.trigger = CTL_TRIGGER_EVERY_NTH;
	m.u.fault.every_nth = 1;
	m.u.fault.count = 1;
	m.u.fault.error_code = EIO;
	cr_assert_eq(ctl_send(v.sock, &m, NULL, 0), 0);
	/* The server reads its socket in order: once a stats request is
	 * answered, the fault rule is in place (the ring is another fd, and
	 * a request posted now could otherwise overtake it). */
	memset(&m, 0, sizeof(m));
	m.type = CTL_STATS_REQUEST;
	m.seq = 1;
	cr_assert_eq(ctl_send(v.sock, &m, NULL, 0), 0);
	vmm_recv(&v, &m, CTL_STATS_REPLY);
	/* The fault is for FLUSH only: a READ passes, the flush fails. */
	vmm_post(&v, IPC_OP_READ, 0, 1, NULL, 512);
	vmm_post(&v, IPC_OP_FLUSH, 0, 0, NULL, 0);
	vmm_reap(&v, done, 2);
	for (unsigned i = 0; i < 2; i++) {
		cr_assert_eq(done[i].status,
			     done[i].req.op == IPC_OP_FLUSH ? -EIO : 0);
		vmm_free(&v, &done[i]);
	}
	/* Fired once: the next flush reaches fdatasync. */
	vmm_post(&v, IPC_OP_FLUSH, 0, 0, NULL, 0);
	vmm_reap(&v, done, 1);
	cr_assert_eq(done[0].status, 0);
	memset(&m, 0, sizeof(m));
	m.type = CTL_STATS_REQUEST;
	cr_assert_eq(ctl_send(v.sock, &m, NULL, 0), 0);
	vmm_recv(&v, &m, CTL_STATS_REPLY);
	cr_assert_eq(extra_of(&m.u.stats, "syncs"), 1);
	cr_assert_not_null(stat_of(&m.u.stats, CTL_OP_FLUSH));
	cr_assert_eq(stat_of(&m.u.stats, CTL_OP_FLUSH)->errors, 1);
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

static uint64_t vmm_extra(struct fake_vmm *v, const char *key)
{
	struct ctl_msg m = {.type = CTL_STATS_REQUEST};

	cr_assert_eq(ctl_send(v->sock, &m, NULL, 0), 0);
	vmm_recv(v, &m, CTL_STATS_REPLY);
	return extra_of(&m.u.stats, key);
}

Test(blk_server, a_lone_request_runs_inline_a_burst_goes_to_the_workers)
{
	static unsigned char w[16][1024];
	struct ipc_dp_done done[16];
	struct fake_vmm v = {0};

	vmm_start(&v, false);
	memset(w[0], 0x3c, sizeof(w[0]));
	vmm_post(&v, IPC_OP_WRITE, 8, 2, w[0], 1024);
	vmm_reap(&v, done, 1);
	cr_assert_eq(done[0].status, 0);
	vmm_free(&v, &done[0]);
	vmm_post(&v, IPC_OP_READ, 8, 2, NULL, 1024);
	vmm_reap(&v, done, 1);
	cr_assert_eq(done[0].status, 0);
	cr_assert_eq(done[0].len, 1024);
	cr_assert_arr_eq(vmm_buf(&v, &done[0]), w[0], 1024);
	vmm_free(&v, &done[0]);
	cr_assert_eq(vmm_extra(&v, "inline"), 2, "queue depth 1 runs inline");

	/* Sixteen at once: the loop hands them out; at most the last one
	 * finds the workers done already and runs inline. */
	for (unsigned i = 0; i < 16; i++) {
		memset(w[i], (int)(0x40 + i), sizeof(w[i]));
		vmm_post(&v, IPC_OP_WRITE, 16 + i * 2u, 2, w[i], 1024);
	}
	vmm_reap(&v, done, 16);
	for (unsigned i = 0; i < 16; i++) {
		cr_assert_eq(done[i].status, 0);
		vmm_free(&v, &done[i]);
	}
	cr_assert_leq(vmm_extra(&v, "inline"), 3, "a burst used the workers");
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

Test(blk_server, a_lone_large_transfer_still_goes_to_a_worker)
{
	struct ipc_dp_done done[1];
	struct fake_vmm v = {0};

	vmm_start(&v, false);
	/* 128 KiB: over the inline limit, though nothing else is in flight. */
	vmm_post(&v, IPC_OP_READ, 0, CAP, NULL, CAP * 512u);
	vmm_reap(&v, done, 1);
	cr_assert_eq(done[0].status, 0);
	cr_assert_eq(done[0].len, CAP * 512u);
	vmm_free(&v, &done[0]);
	cr_assert_eq(vmm_extra(&v, "inline"), 0);
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

Test(blk_server, workers_are_capped_at_the_requests_in_flight)
{
	/* Asked for 64, but at most 8 requests are ever in flight. */
	struct fake_vmm v = {.geom = {8, 8, 4096, 16}, .workers = "64"};

	vmm_start(&v, false);
	cr_assert_eq(vmm_extra(&v, "workers"), 8);
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

Test(blk_server, workers_come_from_the_command_line)
{
	struct fake_vmm v = {.workers = "3"};

	vmm_start(&v, false);
	cr_assert_eq(vmm_extra(&v, "workers"), 3);
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

Test(blk_server, a_bad_worker_count_falls_back_to_the_default)
{
	struct fake_vmm v = {.workers = "lots"};

	vmm_start(&v, false);
	cr_assert_eq(vmm_extra(&v, "workers"), 16);
	cr_assert_eq(vmm_stop(&v), 0);
	close(v.img);
}

/* fallocate (or the zero-writing fall-back) under the server's filter. */
Test(blk_server, discard_and_write_zeroes_pass_the_seccomp_filter)
{
	static unsigned char w[8 * 512], z[2 * 512];
	struct ipc_dp_done done[2];
	struct fake_vmm v = {0};

	vmm_start(&v, false);
	memset(w, 0x5a, sizeof(w));
	vmm_post(&v, IPC_OP_WRITE, 0, 8, w, sizeof(w));
	vmm_reap(&v, done, 1);
	cr_assert_eq(done[0].status, 0);
	vmm_free(&v, &done[0]);
	vmm_post(&v, BLK_OP_WRITE_ZEROES, 2, 2, NULL, 0);
	vmm_post(&v, BLK_OP_DISCARD, 4, 2, NULL, 0);
	vmm_reap(&v, done, 2);
	cr_assert_eq(done[0].status, 0);
	cr_assert_eq(done[1].status, 0);
	vmm_post(&v, IPC_OP_READ, 2, 2, NULL, sizeof(z));
	vmm_reap(&v, done, 1);
	cr_assert_eq(done[0].status, 0);
	cr_assert_arr_eq(vmm_buf(&v, &done[0]), z, sizeof(z));
	vmm_free(&v, &done[0]);
	cr_assert_eq(vmm_stop(&v), 0, "clean exit, not killed");
	close(v.img);
}
