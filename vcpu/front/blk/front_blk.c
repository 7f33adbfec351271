/* front_blk.c: the virtio-blk front: chains <-> isovm-blk requests, config. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipc/devproto.h"
#include "vcpu/clock.h"
#include "vcpu/core/trace.h"
#include "vcpu/front/blk/front_blk.h"
#include "vcpu/le.h"
#include "vcpu/log.h"

/* Device features the front knows how to serve. */
#define FRONT_BLK_FEATURES                                                    \
	(VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |                                  \
	 VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |                                   \
	 VIRTIO_BIT(VIRTIO_BLK_F_GEOMETRY) | VIRTIO_BIT(VIRTIO_BLK_F_RO) |    \
	 VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) |                                  \
	 VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |                                   \
	 VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES))

/* Data segments one chain can carry: header and status take two. */
#define FRONT_BLK_SEG_MAX (VIRTQ_CHAIN_MAX_SEGS - 2)

/* Per-chain state in front_chain.priv[]. */
enum {
	FRONT_BLK_PRIV_STATUS, /* VIRTIO_BLK_S_* to write */
	FRONT_BLK_PRIV_STAT,   /* enum front_blk_stat */
	FRONT_BLK_PRIV_BYTES,  /* payload bytes, counted on success */
	FRONT_BLK_PRIV_OFF,    /* status byte offset in the writable part */
	FRONT_BLK_PRIV_SECTOR, /* the guest's, for the trace */
	FRONT_BLK_PRIV_T0,     /* pop time (ns) while traced, else 0 */
	FRONT_BLK_PRIV_POSTED, /* 1: the server got it; 0: refused here */
};

static uint32_t front_blk_min32(uint64_t a, uint64_t b)
{
	return (uint32_t)(a < b ? a : b);
}

/*
 * A chain carries at most FRONT_BLK_SEG_MAX data segments. When the server
 * announces more, halve seg_max and double size_max (the server sees one
 * flat arena buffer, never segments), so that seg_max * size_max, the
 * largest request a driver builds, stays what the server accepts.
 */
static void front_blk_segments(struct front_blk *b, uint32_t *seg_max,
			       uint32_t *size_max)
{
	uint8_t *c = b->config;
	bool has_size = b->features & VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX);

	*size_max = has_size ? le32_get(c + VIRTIO_BLK_CFG_SIZE_MAX) : 0;
	*seg_max = le32_get(c + VIRTIO_BLK_CFG_SEG_MAX);
	while (has_size && *seg_max > FRONT_BLK_SEG_MAX && *size_max &&
	       *size_max <= UINT32_MAX / 2) {
		*seg_max = (*seg_max + 1) / 2;
		*size_max *= 2;
	}
	*seg_max = front_blk_min32(*seg_max, FRONT_BLK_SEG_MAX);
	if (!*seg_max)
		*seg_max = 1;
	le32_put(c + VIRTIO_BLK_CFG_SEG_MAX, *seg_max);
	if (has_size)
		le32_put(c + VIRTIO_BLK_CFG_SIZE_MAX, *size_max);
}

/* Request size limits from the announced config, clamped to ours. */
static void front_blk_limits(struct front_blk *b)
{
	uint8_t *c = b->config;
	uint64_t rw = VIRTIO_BLK_MAX_RW_SECTORS * VIRTIO_BLK_SECTOR;
	uint32_t seg_max = FRONT_BLK_SEG_MAX, size_max = 0;

	if (b->features & VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX))
		front_blk_segments(b, &seg_max, &size_max);
	if (size_max && (uint64_t)seg_max * size_max < rw)
		rw = (uint64_t)seg_max * size_max;
	b->lim.max_rw_bytes =
		(uint32_t)(rw & ~(uint64_t)(VIRTIO_BLK_SECTOR - 1));
	/* The front takes one range per request: say so. */
	b->lim.max_discard_sectors = front_blk_min32(
		le32_get(c + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS),
		VIRTIO_BLK_MAX_DISCARD_SECTORS);
	b->lim.max_zeroes_sectors =
		front_blk_min32(le32_get(c + VIRTIO_BLK_CFG_MAX_ZEROES_SECTORS),
				VIRTIO_BLK_MAX_ZERO_SECTORS);
	if (b->lim.discard)
		le32_put(c + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 1);
	if (b->lim.write_zeroes)
		le32_put(c + VIRTIO_BLK_CFG_MAX_ZEROES_SEG, 1);
}

static void front_blk_config_read(void *opaque, uint32_t off, void *data,
				  unsigned len)
{
	struct front_blk *b = opaque;

	/* The transport keeps off + len within config_size. */
	memcpy(data, b->config + off, len);
}

/* No CONFIG_WCE and nothing else writable: writes are ignored. */
static void front_blk_config_write(void *opaque, uint32_t off, const void *data,
				   unsigned len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
}

static void front_blk_notify(void *opaque, unsigned qi)
{
	struct front_blk *b = opaque;

	front_notify(&b->front, qi);
}

static void front_blk_reset(void *opaque)
{
	struct front_blk *b = opaque;

	if (b->front.pool)
		front_reset(&b->front);
}

static int front_blk_check_ready(struct front_blk *b,
				 const struct ctl_ready *ready, char *err,
				 size_t errlen)
{
	const struct disk_cfg *d = b->disk;
	uint64_t cap;
	bool ro;

	if (ready->config_len < VIRTIO_BLK_CFG_LEN ||
	    ready->config_len > CTL_CONFIG_MAX)
		return errf(err, errlen, -EPROTO,
			    "%s: server config of %u bytes, want %u", b->name,
			    ready->config_len, VIRTIO_BLK_CFG_LEN);
	if (ready->features & ~(uint64_t)FRONT_BLK_FEATURES)
		return errf(
			err, errlen, -EPROTO,
			"%s: server offers features %#llx the "
			"front cannot serve",
			b->name,
			(unsigned long long)(ready->features &
					     ~(uint64_t)FRONT_BLK_FEATURES));
	ro = ready->features & VIRTIO_BIT(VIRTIO_BLK_F_RO);
	if (ro != d->read_only)
		return errf(err, errlen, -EPROTO,
			    "%s: server says read-only=%d for a "
			    "disk opened read-only=%d",
			    b->name, ro, d->read_only);
	cap = le64_get(ready->config + VIRTIO_BLK_CFG_CAPACITY);
	if (cap != d->capacity)
		return errf(err, errlen, -EPROTO,
			    "%s: server capacity %llu sectors, the "
			    "slice has %llu",
			    b->name, (unsigned long long)cap,
			    (unsigned long long)d->capacity);
	return 0;
}

int front_blk_init(struct front_blk *b, const char *name,
		   const struct disk_cfg *disk, const struct ctl_ready *ready,
		   char *err, size_t errlen)
{
	int ret;

	/* Only the front's own fields: b->sup may hold a running server. */
	memset(&b->lim, 0, sizeof(b->lim));
	memset(b->st, 0, sizeof(b->st));
	memset(b->config, 0, sizeof(b->config));
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->disk = disk;
	b->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000, 5);
	ret = front_blk_check_ready(b, ready, err, errlen);
	if (ret)
		return ret;
	b->features = ready->features;
	memcpy(b->config, ready->config, VIRTIO_BLK_CFG_LEN);
	b->lim.capacity = disk->capacity;
	b->lim.read_only = disk->read_only;
	b->lim.flush = b->features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	b->lim.discard = b->features & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD);
	b->lim.write_zeroes =
		b->features & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	front_blk_limits(b);
	b->ops = (struct virtio_dev_ops){
		.device_id = VIRTIO_ID_BLOCK,
		.features = b->features,
		.nr_queues = 1,
		.queue_max = {FRONT_BLK_QUEUE_SIZE},
		.config_size = VIRTIO_BLK_CFG_LEN,
		.config_read = front_blk_config_read,
		.config_write = front_blk_config_write,
		.notify = front_blk_notify,
		.reset = front_blk_reset,
	};
	return 0;
}

static enum front_blk_stat front_blk_stat_of(uint32_t type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return FRONT_BLK_ST_IN;
	case VIRTIO_BLK_T_OUT:
		return FRONT_BLK_ST_OUT;
	case VIRTIO_BLK_T_FLUSH:
		return FRONT_BLK_ST_FLUSH;
	case VIRTIO_BLK_T_GET_ID:
		return FRONT_BLK_ST_GET_ID;
	case VIRTIO_BLK_T_DISCARD:
		return FRONT_BLK_ST_DISCARD;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return FRONT_BLK_ST_WRITE_ZEROES;
	default:
		return FRONT_BLK_ST_OTHER;
	}
}

static void front_blk_refused(struct front_blk *b,
			      const struct front_blk_req *r)
{
	unsigned dropped = 0;

	if (log_ratelimit_ok(&b->rl, &dropped))
		log_warn("%s: request type %u refused: %s%s", b->name, r->type,
			 r->why,
			 dropped ? " (and earlier ones not logged)" : "");
}

/* Lock held: one popped chain becomes one server request, or a status. */
static int front_blk_chain(struct front *f, struct front_chain *c)
{
	struct front_blk *b = f->opaque;
	struct front_blk_req r;
	enum front_blk_verdict v;
	int ret;

	v = front_blk_req_parse(f->vdev->mem, &c->vc, &b->lim, &r);
	if (v == FRONT_BLK_BROKEN) {
		virtio_mmio_fail(f->vdev, "%s: %s", b->name, r.why);
		return -EINVAL;
	}
	c->priv[FRONT_BLK_PRIV_STAT] = front_blk_stat_of(r.type);
	c->priv[FRONT_BLK_PRIV_OFF] = r.status_off;
	c->priv[FRONT_BLK_PRIV_STATUS] = r.status;
	c->priv[FRONT_BLK_PRIV_SECTOR] = r.req.args.blk.sector;
	c->priv[FRONT_BLK_PRIV_T0] = trace_on() ? clock_now_ns() : 0;
	c->priv[FRONT_BLK_PRIV_POSTED] = v != FRONT_BLK_STATUS;
	if (v == FRONT_BLK_STATUS) {
		front_blk_refused(b, &r);
		return 0; /* no request: finish() writes the status now */
	}
	c->priv[FRONT_BLK_PRIV_BYTES] =
		r.data_len ? r.data_len
			   : (uint64_t)r.req.args.blk.count * VIRTIO_BLK_SECTOR;
	if (r.req.op == IPC_OP_FLUSH || r.req.op == BLK_OP_GET_ID)
		c->priv[FRONT_BLK_PRIV_BYTES] =
			r.req.op == BLK_OP_GET_ID ? r.arena_len : 0;
	ret = front_req(f, c, &r.req, r.arena_len, NULL, r.copy_off, r.copy_len,
			NULL);
	if (ret == -ENOSPC)
		return ret;
	if (ret) /* cannot happen: the lengths came from this chain */
		c->priv[FRONT_BLK_PRIV_STATUS] = VIRTIO_BLK_S_IOERR;
	return 0;
}

/* Lock held: a completion; data of a read goes back into the guest now. */
static void front_blk_done(struct front *f, struct front_chain *c,
			   const struct ipc_dp_done *d, const void *buf)
{
	uint8_t st = front_blk_req_status(d->status);

	if (!c || c->orphan)
		return;
	if (st == VIRTIO_BLK_S_OK &&
	    (d->req.op == IPC_OP_READ || d->req.op == BLK_OP_GET_ID)) {
		/* A read that returned less than asked is an error, never
		 * stale guest memory presented as data. */
		if (d->len != d->req.arena_len || !buf ||
		    front_copy_out(f, c, 0, buf, d->len) != d->len)
			st = VIRTIO_BLK_S_IOERR;
	}
	c->priv[FRONT_BLK_PRIV_STATUS] = st;
}

/* Lock held: one finished chain for the trace's listeners. */
static void front_blk_trace(struct front_blk *b, const struct front_chain *c,
			    uint8_t st)
{
	static const char *const ops[FRONT_BLK_ST_NR] = {
		"read", "write", "flush", "get_id", "discard", "write_zeroes",
		"other",
	};
	static const char *const calls[FRONT_BLK_ST_NR] = {
		"pread", "pwrite", "fdatasync", "none", "fallocate",
		"fallocate", "none",
	};
	uint64_t stat = c->priv[FRONT_BLK_PRIV_STAT], t0;
	uint64_t sector = c->priv[FRONT_BLK_PRIV_SECTOR];
	bool sectors = stat == FRONT_BLK_ST_IN || stat == FRONT_BLK_ST_OUT ||
		       stat == FRONT_BLK_ST_DISCARD ||
		       stat == FRONT_BLK_ST_WRITE_ZEROES;
	struct trace_event e = {
		.op = ops[stat < FRONT_BLK_ST_NR ? stat : FRONT_BLK_ST_OTHER],
		.syscall = calls[stat < FRONT_BLK_ST_NR ? stat
							 : FRONT_BLK_ST_OTHER],
		.queue = c->qi,
		.head = c->vc.head,
		.sector = sectors ? sector : 0,
		.bytes = (uint32_t)c->priv[FRONT_BLK_PRIV_BYTES],
		.file_offset =
			sectors ? b->disk->offset + sector * VIRTIO_BLK_SECTOR
				: 0,
		.status = st,
	};

	t0 = c->priv[FRONT_BLK_PRIV_T0];
	if (t0)
		e.latency_us = (clock_now_ns() - t0) / 1000u;
	/* A refused request reached no file. */
	if (!c->priv[FRONT_BLK_PRIV_POSTED])
		e.syscall = "none";
	trace_emit(b->name, &e);
}

/* Lock held: the status byte last, then the counters. */
static void front_blk_finish(struct front *f, struct front_chain *c)
{
	struct front_blk *b = f->opaque;
	uint8_t st = (uint8_t)c->priv[FRONT_BLK_PRIV_STATUS];
	struct front_blk_op_stats *s = &b->st[c->priv[FRONT_BLK_PRIV_STAT]];

	front_copy_out(f, c, c->priv[FRONT_BLK_PRIV_OFF], &st, 1);
	/* The whole writable part counts as written, as other VMMs do; the
	 * driver reads the status byte at its end. */
	c->written = c->vc.writable_len;
	s->requests++;
	if (st == VIRTIO_BLK_S_OK)
		s->bytes += c->priv[FRONT_BLK_PRIV_BYTES];
	else
		s->errors++;
	if (trace_on())
		front_blk_trace(b, c, st);
}

const struct front_ops front_blk_front_ops = {
	.chain = front_blk_chain,
	.done = front_blk_done,
	.finish = front_blk_finish,
};

void front_blk_stats_line(const struct front_blk_op_stats st[FRONT_BLK_ST_NR],
			  const char *name, char *out, size_t cap)
{
	uint64_t errors = 0;

	for (int i = 0; i < FRONT_BLK_ST_NR; i++)
		errors += st[i].errors;
	snprintf(out, cap,
		 "%s stats: in=%llu/%llu out=%llu/%llu flush=%llu "
		 "get_id=%llu discard=%llu/%llu write_zeroes=%llu/%llu "
		 "other=%llu errors=%llu",
		 name, (unsigned long long)st[FRONT_BLK_ST_IN].requests,
		 (unsigned long long)st[FRONT_BLK_ST_IN].bytes,
		 (unsigned long long)st[FRONT_BLK_ST_OUT].requests,
		 (unsigned long long)st[FRONT_BLK_ST_OUT].bytes,
		 (unsigned long long)st[FRONT_BLK_ST_FLUSH].requests,
		 (unsigned long long)st[FRONT_BLK_ST_GET_ID].requests,
		 (unsigned long long)st[FRONT_BLK_ST_DISCARD].requests,
		 (unsigned long long)st[FRONT_BLK_ST_DISCARD].bytes,
		 (unsigned long long)st[FRONT_BLK_ST_WRITE_ZEROES].requests,
		 (unsigned long long)st[FRONT_BLK_ST_WRITE_ZEROES].bytes,
		 (unsigned long long)st[FRONT_BLK_ST_OTHER].requests,
		 (unsigned long long)errors);
}

static const struct ctl_op_stats *front_blk_srv_op(const struct ctl_stats *st,
						   enum ctl_op op)
{
	static const struct ctl_op_stats none;

	for (unsigned i = 0; i < st->nops && i < CTL_STATS_MAX_OPS; i++)
		if (st->ops[i].op == op)
			return &st->ops[i];
	return &none;
}

void front_blk_server_line(const struct ctl_stats *st, const char *name,
			   char *out, size_t cap)
{
	const struct ctl_op_stats *rd = front_blk_srv_op(st, CTL_OP_READ),
				  *wr = front_blk_srv_op(st, CTL_OP_WRITE),
				  *fl = front_blk_srv_op(st, CTL_OP_FLUSH),
				  *id = front_blk_srv_op(st, CTL_OP_GET_ID),
				  *any = front_blk_srv_op(st, CTL_OP_ANY);
	long long syncs = -1;

	for (unsigned i = 0; i < st->nextra && i < CTL_STATS_MAX_EXTRA; i++)
		if (strcmp(st->extra[i].key, "syncs") == 0)
			syncs = (long long)st->extra[i].value;
	snprintf(
		out, cap,
		"%s server stats: fdatasync=%lld read=%llu/%llu "
		"write=%llu/%llu flush=%llu get_id=%llu other=%llu "
		"errors=%llu",
		name, syncs, (unsigned long long)rd->requests,
		(unsigned long long)rd->bytes, (unsigned long long)wr->requests,
		(unsigned long long)wr->bytes, (unsigned long long)fl->requests,
		(unsigned long long)id->requests,
		(unsigned long long)any->requests,
		(unsigned long long)(rd->errors + wr->errors + fl->errors +
				     id->errors + any->errors));
}
