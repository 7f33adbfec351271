/* ipc_entry.h: the 64-byte request and completion ring entries. */
#ifndef ISOVM_IPC_ENTRY_H
#define ISOVM_IPC_ENTRY_H

#include <assert.h>
#include <stdint.h>

/* Every ring slot holds exactly one entry of this many bytes. */
#define IPC_ENTRY_SIZE 64

/*
 * Error codes of the data plane (negative errno values), one meaning each:
 *   -EPROTO     a ring index read from shared memory is impossible
 *               (peer index ahead by more than the capacity, or moving
 *               backwards); the ring stays broken afterwards.
 *   -ERANGE     an arena reference [off, off + len) outside the arena, a
 *               completion length larger than the request's buffer, or a
 *               completion id whose slot number is out of range.
 *   -EBADMSG    a completion naming an id that is not in flight (never
 *               issued, or stale from an earlier use of the slot).
 *   -EALREADY   a completion naming an id that was already completed.
 * Region mapping errors are listed in region.h.
 */

/* Request operations: the device decides what they mean. */
enum ipc_op {
	IPC_OP_NOP = 0,
	IPC_OP_READ = 1,   /* device -> arena */
	IPC_OP_WRITE = 2,  /* arena -> device */
	IPC_OP_FLUSH = 3,
	IPC_OP_DEV = 16,   /* first device-specific op */
};

/* Request flags. */
#define IPC_REQ_F_REPLAY (1u << 0) /* re-posted after a server restart */

/* Submission ring entry: VMM writes, server reads (and validates). */
struct ipc_req {
	uint64_t id;        /* VMM-chosen, echoed in the completion */
	uint32_t op;        /* enum ipc_op or device-specific */
	uint32_t flags;     /* IPC_REQ_F_* */
	uint64_t arena_off; /* payload/buffer offset in the data arena */
	uint32_t arena_len; /* payload/buffer bytes */
	uint32_t reserved;  /* zero */
	union {
		struct {
			uint64_t sector; /* 512-byte sectors */
			uint32_t count;  /* sectors */
			uint32_t pad;
		} blk;
		struct {
			uint32_t hdr_len; /* virtio-net header bytes */
			uint32_t pad;
			/* NET_OP_OFFLOAD: the VIRTIO_NET_F_* bits the
			 * driver accepted */
			uint64_t features;
		} net;
		uint8_t raw[32];
	} args;
};

/* Completion ring entry: server writes, VMM reads (and validates). */
struct ipc_cpl {
	uint64_t id;       /* id of the request being completed */
	int32_t status;    /* 0 or a negative errno of the backend */
	uint32_t len;      /* bytes the server wrote into the arena buffer */
	uint8_t reserved[48];
};

static_assert(sizeof(struct ipc_req) == IPC_ENTRY_SIZE, "request size");
static_assert(sizeof(struct ipc_cpl) == IPC_ENTRY_SIZE, "completion size");

#endif
