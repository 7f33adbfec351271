/* main.c: isovm-blk, the block device server: an image behind virtio-blk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devsrv/blk/blk_backend.h"
#include "devsrv/blk/blk_config.h"
#include "devsrv/blk/blk_dev.h"
#include "devsrv/blk/blk_workers.h"
#include "devsrv/common/srv.h"
#include "ipc/devproto.h"
#include "sandbox/seccomp_policy.h"

/* Largest READ/WRITE run on the loop thread (see blk_srv_inline_ok). */
#define BLK_SRV_INLINE_MAX (64u * 1024)

struct blk_srv {
	struct srv *srv;
	unsigned workers; /* --workers N; 0: BLK_WORKERS_DEFAULT */
	struct blk_backend be;
	struct blk_dev dev;
	struct blk_workers pool;
	struct blk_bounce bb; /* the loop thread's, for inline requests */
	atomic_uint_fast64_t inlined; /* requests run on the loop thread */
};

/*
 * --workers N (1..BLK_WORKERS_MAX): the pool's threads. A bad count is
 * not worth refusing the disk for: warned about, and the default used.
 */
static int blk_srv_option(void *dev, const char *flag, const char *v)
{
	struct blk_srv *b = dev;
	unsigned long n;
	char *end;

	if (strcmp(flag, "--workers"))
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || !n || n > BLK_WORKERS_MAX) {
		srv_warn("--workers %s ignored (1..%u)", v, BLK_WORKERS_MAX);
		n = 0;
	}
	b->workers = (unsigned)n;
	return 0;
}

static unsigned blk_srv_nworkers(const struct blk_srv *b, uint32_t inflight_max)
{
	unsigned n = b->workers ? b->workers : BLK_WORKERS_DEFAULT;

	/* More threads than requests in flight would never all have work. */
	if (inflight_max && n > inflight_max)
		n = inflight_max;
	return n;
}

/*
 * The fd must fit the disk: writable unless read-only, positioned writes.
 * cache=none: the VMM may have opened the image with O_DIRECT already;
 * if not, switch it on here (F_SETFL can), so the host page cache holds
 * no copy of the guest's disk.
 */
static int blk_srv_check_fd(int fd, const struct ctl_blk_config *cfg)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	/* pwrite() on an O_APPEND fd ignores its offset: refuse it. */
	if (fl & O_APPEND) {
		srv_err("image fd is O_APPEND");
		return -EINVAL;
	}
	if (!cfg->read_only && (fl & O_ACCMODE) == O_RDONLY) {
		srv_err("a writable disk needs a writable image fd");
		return -EBADF;
	}
	if (cfg->cache != CTL_CACHE_NONE || (fl & O_DIRECT))
		return 0;
	if (fcntl(fd, F_SETFL, fl | O_DIRECT)) {
		int err = errno;

		srv_err("cache=none: O_DIRECT refused by the file system");
		return -err;
	}
	return 0;
}

/* The image must hold slice_offset + capacity sectors. */
static int blk_srv_check_size(const struct blk_backend *be,
			      const struct ctl_blk_config *cfg)
{
	uint64_t size, need;
	int ret;

	ret = blk_backend_size(be, &size);
	if (ret) {
		srv_err("image fd: neither a regular file nor a block device");
		return ret;
	}
	/* Decode bounds capacity below 2^63 bytes; keep the sum honest. */
	need = cfg->capacity_sectors * VIRTIO_BLK_SECTOR;
	if (need / VIRTIO_BLK_SECTOR != cfg->capacity_sectors ||
	    need + cfg->slice_offset < need ||
	    size < need + cfg->slice_offset) {
		srv_err("image of %llu bytes too small for %llu sectors at "
			"%llu",
			(unsigned long long)size,
			(unsigned long long)cfg->capacity_sectors,
			(unsigned long long)cfg->slice_offset);
		return -ERANGE;
	}
	return 0;
}

/* Worker thread: run the job and hand the completion to the loop. */
static void blk_srv_run(void *ctx, const struct blk_job *job,
			const struct blk_bounce *bb)
{
	struct blk_srv *b = ctx;
	struct ipc_cpl cpl;
	uint32_t len;

	memset(&cpl, 0, sizeof(cpl));
	cpl.status = blk_dev_run(&b->dev, &job->req, job->buf, bb, &len);
	cpl.id = job->req.id;
	cpl.len = len;
	/* Only backend errors get here (checks ran on the loop); debug
	 * level, as a failing disk would repeat it per request. No strerror:
	 * this is a worker thread. */
	if (cpl.status)
		srv_debug("op %u sector %llu: errno %d", job->req.op,
			  (unsigned long long)job->req.args.blk.sector,
			  -cpl.status);
	if (srv_complete_async(b->srv, &cpl))
		srv_err("completion of id %llu refused",
			(unsigned long long)cpl.id);
}

/* A stable default serial when the VMM gave none: the image's identity. */
static void blk_srv_default_id(int fd, char *id, size_t cap)
{
	struct stat st;

	id[0] = '\0';
	if (!fstat(fd, &st))
		snprintf(id, cap, "isovm-%llx-%llx",
			 (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
}

static int blk_srv_setup(struct srv *srv, const struct ctl_setup *setup,
			 const struct srv_fds *fds, struct ctl_ready *ready)
{
	const struct ctl_blk_config *cfg = &setup->cfg.blk;
	struct blk_srv *b = srv_dev(srv);
	char id[VIRTIO_BLK_ID_BYTES + 1];
	size_t bounce;
	int ret;

	b->srv = srv;
	if (fds->backend < 0) {
		srv_err("no image fd in SETUP");
		return -EBADF;
	}
	ret = blk_srv_check_fd(fds->backend, cfg);
	if (ret)
		return ret;
	ret = blk_backend_init(&b->be, fds->backend, cfg->slice_offset);
	if (ret)
		return ret;
	ret = blk_srv_check_size(&b->be, cfg);
	if (ret)
		return ret;
	blk_srv_default_id(fds->backend, id, sizeof(id));
	ret = blk_dev_init(&b->dev, &b->be, cfg, id);
	if (ret)
		return ret;
	ready->features = blk_config_features(cfg);
	ret = blk_config_encode(cfg, ready->config, sizeof(ready->config));
	if (ret < 0)
		return ret;
	ready->config_len = (uint32_t)ret;
	/* Last, so a failed setup has no threads to join. */
	bounce = b->be.direct ? VIRTIO_BLK_MAX_RW_SECTORS * VIRTIO_BLK_SECTOR
			      : 0;
	if (bounce && blk_bounce_init(&b->bb, bounce))
		return -ENOMEM;
	ret = blk_workers_start(&b->pool,
				blk_srv_nworkers(b, setup->geo.sq_entries),
				setup->geo.sq_entries, bounce, blk_srv_run, b);
	if (ret) {
		blk_bounce_fini(&b->bb);
		return ret;
	}
	srv_info("disk: %llu sectors%s, %u workers%s",
		 (unsigned long long)cfg->capacity_sectors,
		 cfg->read_only ? " read-only" : "", b->pool.nthreads,
		 b->be.direct ? ", O_DIRECT" : "");
	return 0;
}

/*
 * A lone small read or write (queue depth 1: nothing behind it on the ring,
 * nothing at the workers) runs here on the loop thread: the hand-offs to a
 * worker and back cost more than the wait they would spare. FLUSH, the
 * range ops and large transfers stay on the workers: they take long, and
 * the loop must keep answering the control socket.
 */
static bool blk_srv_inline_ok(struct blk_srv *b, const struct ipc_req *req)
{
	if (req->op != IPC_OP_READ && req->op != IPC_OP_WRITE)
		return false;
	if (req->arena_len > BLK_SRV_INLINE_MAX)
		return false;
	return srv_sq_idle(b->srv) && blk_workers_idle(&b->pool);
}

static enum srv_verdict blk_srv_handle(struct srv *srv,
				       const struct ipc_req *req, void *buf,
				       struct ipc_cpl *cpl)
{
	struct blk_srv *b = srv_dev(srv);
	int ret;

	/* Refuse bad requests here, on the loop, before they cost a thread;
	 * GET_ID needs no I/O either. */
	ret = blk_dev_check(&b->dev, req, buf);
	if (ret) {
		cpl->status = ret;
		cpl->len = 0;
		return SRV_DONE;
	}
	if (req->op == BLK_OP_GET_ID) {
		cpl->status = blk_dev_run(&b->dev, req, buf, NULL, &cpl->len);
		return SRV_DONE;
	}
	if (blk_srv_inline_ok(b, req)) {
		cpl->status =
			blk_dev_run(&b->dev, req, buf, &b->bb, &cpl->len);
		atomic_fetch_add(&b->inlined, 1);
		return SRV_DONE;
	}
	ret = blk_workers_submit(&b->pool, req, buf);
	if (ret) {
		/* Cannot happen: the queue holds sq_entries jobs. */
		cpl->status = ret;
		cpl->len = 0;
		return SRV_DONE;
	}
	return SRV_PENDING;
}

/*
 * Loop thread, under the pool lock: a request the reset took off the queue
 * is completed unexecuted, so the core's in-flight slot is freed.
 */
static void blk_srv_cancel(void *ctx, const struct blk_job *job)
{
	struct blk_srv *b = ctx;
	struct ipc_cpl cpl;

	memset(&cpl, 0, sizeof(cpl));
	cpl.id = job->req.id;
	cpl.status = -ECANCELED;
	if (srv_complete(b->srv, &cpl))
		srv_err("cancel of id %llu refused",
			(unsigned long long)cpl.id);
}

/* Guest reset: nothing queued runs any more; running I/O is waited for. */
static void blk_srv_reset(struct srv *srv)
{
	struct blk_srv *b = srv_dev(srv);
	unsigned n = blk_workers_quiesce(&b->pool, blk_srv_cancel);

	if (n)
		srv_info("reset: %u queued requests cancelled", n);
}

static void blk_srv_shutdown(struct srv *srv)
{
	struct blk_srv *b = srv_dev(srv);

	blk_workers_stop(&b->pool);
	blk_bounce_fini(&b->bb);
}

static enum ctl_op blk_srv_op_class(uint32_t op)
{
	int cls = blk_dev_stat_op(op);

	return cls == CTL_OP_ANY ? 0 : (enum ctl_op)cls;
}

static uint64_t blk_srv_counter(atomic_uint_fast64_t *c, bool reset)
{
	return reset ? atomic_exchange(c, 0) : atomic_load(c);
}

static void blk_srv_stats(struct srv *srv, struct ctl_stats *st, bool reset)
{
	struct blk_srv *b = srv_dev(srv);

	srv_stats_add(st, "syncs", blk_srv_counter(&b->be.syncs, reset));
	srv_stats_add(st, "backend_errors",
		      blk_srv_counter(&b->dev.backend_errors, reset));
	srv_stats_add(st, "rejected", blk_srv_counter(&b->dev.rejected, reset));
	srv_stats_add(st, "bounced", blk_srv_counter(&b->be.bounced, reset));
	srv_stats_add(st, "zero_fallback",
		      blk_srv_counter(&b->be.zero_fallback, reset));
	srv_stats_add(st, "inline", blk_srv_counter(&b->inlined, reset));
	srv_stats_add(st, "workers", b->pool.nthreads);
}

static const struct srv_dev_ops blk_srv_ops = {
	.name = "blk",
	.dev_type = CTL_DEV_BLK,
	.policy = &sandbox_policy_blk,
	.option = blk_srv_option,
	.usage = "[--workers N]",
	.setup = blk_srv_setup,
	.handle = blk_srv_handle,
	.reset = blk_srv_reset,
	.shutdown = blk_srv_shutdown,
	.op_class = blk_srv_op_class,
	.stats = blk_srv_stats,
};

int main(int argc, char **argv)
{
	static struct blk_srv blk;

	return srv_main(argc, argv, &blk_srv_ops, &blk);
}
