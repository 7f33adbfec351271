/*
 * front_blk.h: the virtio-blk device front (device id 2), VMM side: guest
 * request chains <-> isovm-blk requests on the generic front, the config
 * space the server announced, and per-op counters.
 *
 * Policy for bad requests (documented in vcpu/README.md): a chain without
 * a device-writable byte for the status breaks the virtio-blk layout and
 * puts the device in NEEDS_RESET (virtio_mmio_fail). Every other bad
 * request is answered by the VMM itself, without a server round trip:
 * VIRTIO_BLK_S_UNSUPP for an unknown type or a feature not offered,
 * VIRTIO_BLK_S_IOERR for a short header, data in the wrong direction, a
 * length that is zero, not a multiple of 512 or above seg_max * size_max,
 * sectors beyond the capacity, or a write to a read-only disk.
 */
#ifndef ISOVM_FRONT_BLK_H
#define ISOVM_FRONT_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/virtio_blk_config.h"
#include "proto/ctl_msg.h"
#include "vcpu/config/disk_cfg.h"
#include "vcpu/front/blk/front_blk_req.h"
#include "vcpu/front/front.h"
#include "vcpu/log.h"
#include "vcpu/supervisor/supervisor.h"
#include "vcpu/virtio/virtio_dev.h"

#define FRONT_BLK_QUEUE_SIZE 256
/* Data plane: 128 requests in flight, 32 MiB of arena in 4 KiB slots, so
 * 32 requests of the largest size (1 MiB) or 128 of 256 KiB fit at once. */
#define FRONT_BLK_RING	128u
#define FRONT_BLK_SLOT	4096u
#define FRONT_BLK_SLOTS 8192u

/* Counters by guest request type. */
enum front_blk_stat {
	FRONT_BLK_ST_IN,
	FRONT_BLK_ST_OUT,
	FRONT_BLK_ST_FLUSH,
	FRONT_BLK_ST_GET_ID,
	FRONT_BLK_ST_DISCARD,
	FRONT_BLK_ST_WRITE_ZEROES,
	FRONT_BLK_ST_OTHER, /* unknown types and unparsable headers */
	FRONT_BLK_ST_NR,
};

struct front_blk_op_stats {
	uint64_t requests; /* chains completed (any status) */
	uint64_t bytes;	   /* payload bytes of successful requests; sectors
			    * * 512 for DISCARD and WRITE_ZEROES */
	uint64_t errors;   /* completed with IOERR or UNSUPP */
};

struct front_blk {
	char name[16]; /* "blk0": log lines, transport name */
	const struct disk_cfg *disk;
	struct front_blk_limits lim;
	uint64_t features; /* device feature bits shown to the guest */
	uint8_t config[VIRTIO_BLK_CFG_LEN];
	struct virtio_dev_ops ops; /* the transport's view; outlives vdev */
	struct front front;
	struct virtio_dev vdev;
	struct supervisor sup;
	bool vdev_up, front_up, sup_up;
	/* Under the transport lock (vdev.lock). */
	struct front_blk_op_stats st[FRONT_BLK_ST_NR];
	struct log_ratelimit rl;
};

/*
 * Sets the front's own fields of b (nothing else: b->sup may already hold
 * the running server). Checks the server's READY against the disk (features the
 * front can serve, RO exactly when the disk is read-only, capacity equal to the
 * VMM's, config length) and fills b->lim, b->features, b->config and
 * b->ops. seg_max is lowered to what one virtqueue chain can carry, and
 * the discard/write-zeroes segment counts to the single one the front
 * accepts. Returns 0 or -EPROTO with one line in err.
 */
int front_blk_init(struct front_blk *b, const char *name,
		   const struct disk_cfg *disk, const struct ctl_ready *ready,
		   char *err, size_t errlen);

/* The generic front's operations for virtio-blk (f->opaque is the
 * struct front_blk). */
extern const struct front_ops front_blk_front_ops;

/*
 * Between vm_init() and vm_run(), disk already open (disk_set_open()):
 * start isovm-blk with the image fd, check its READY, put the device in
 * virtio-mmio slot 'slot' and watch the server on 'io', restarting it as
 * 'policy' says. b must stay put
 * until front_blk_stop(). Returns 0, or -errno with one line in err.
 */
int front_blk_start(struct front_blk *b, unsigned index,
		    const struct disk_cfg *disk, struct vm *vm,
		    struct iothread *io, unsigned slot, int log_level,
		    const struct supervisor_policy *policy, char *err,
		    size_t errlen);

/* After the I/O thread stopped and the VM ended: logs the counters at
 * debug level, stops the server, frees the front. Idempotent. */
void front_blk_stop(struct front_blk *b);

/* A consistent copy of the VMM-side counters (takes the transport lock). */
void front_blk_stats(struct front_blk *b,
		     struct front_blk_op_stats out[FRONT_BLK_ST_NR]);

/*
 * The counters as one log line (no newline), the format integration tests
 * read with --log-level debug:
 *   "blk0 stats: in=R/B out=R/B flush=R get_id=R discard=R/B
 *    write_zeroes=R/B other=R errors=E"
 * R requests, B bytes, E requests that did not end with VIRTIO_BLK_S_OK.
 */
void front_blk_stats_line(const struct front_blk_op_stats st[FRONT_BLK_ST_NR],
			  const char *name, char *out, size_t cap);

/*
 * The server's counters as one log line (no newline), logged at debug
 * level by front_blk_stop() before the server stops:
 *   "blk0 server stats: fdatasync=N read=R/B write=R/B flush=R get_id=R
 *    other=R errors=E"
 * fdatasync is the server's "syncs" counter (-1 when it sent none).
 */
void front_blk_server_line(const struct ctl_stats *st, const char *name,
			   char *out, size_t cap);

/*
 * The server's own per-op counters: supervisor_stats() on the disk's
 * server (same threads, time-out and results), -ESRCH before
 * front_blk_start() or after front_blk_stop().
 */
int front_blk_server_stats(struct front_blk *b, struct ctl_stats *st,
			   bool reset, unsigned timeout_ms);

#endif
