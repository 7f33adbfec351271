/*
 * api_msg.h: typed requests and replies of the VMM's management socket
 * (isovmctl). Plain C structs with fixed bounds; the decoders validate every
 * field. The protobuf encoding stays inside proto/.
 */
#ifndef ISOVM_PROTO_API_MSG_H
#define ISOVM_PROTO_API_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ctl_msg.h"

/* Largest encoded API message (a full device list or stats reply fits). */
#define API_MSG_MAX 16384
#define API_NAME_MAX 31		/* device names: [A-Za-z0-9_.-] */
#define API_TEXT_MAX 255
#define API_MAX_DEVICES 32
#define API_CAUSE_MAX 79

enum api_req_type {
	API_REQ_STATUS = 1,
	API_REQ_DEVICES,
	API_REQ_STATS,		/* dev */
	API_REQ_RESTART,	/* dev */
	API_REQ_KILL,		/* dev */
	API_REQ_FAULT,		/* dev, fault */
	API_REQ_PAUSE,
	API_REQ_RESUME,
	API_REQ_SHUTDOWN,
	API_REQ_TRACE,		/* dev: then API_REPLY_TRACE until it goes */
	API_REQ_ESCAPE,		/* dev, escape (test only) */
	API_REQ_TYPE_MAX = API_REQ_ESCAPE,
};

/* dev is set (and must be a valid name) exactly for the types marked dev. */
struct api_req {
	enum api_req_type type;
	char dev[API_NAME_MAX + 1];
	struct ctl_fault fault;	/* API_REQ_FAULT only */
	uint32_t escape;	/* API_REQ_ESCAPE only: 1..CTL_ESCAPE_MAX */
};

enum api_reply_type {
	API_REPLY_OK = 1,
	API_REPLY_ERROR,
	API_REPLY_STATUS,
	API_REPLY_DEVICES,
	API_REPLY_STATS,
	API_REPLY_TRACE,
};

#define API_WORD_MAX 15	/* op and syscall words: [a-z_] */

/* One traced request or violation (fields as proto/api.proto says). */
struct api_trace {
	char device[API_NAME_MAX + 1];
	uint64_t seq;			/* >= 1 */
	uint32_t queue, head;
	char op[API_WORD_MAX + 1];
	uint64_t sector;
	uint32_t bytes;
	uint64_t file_offset;
	char syscall[API_WORD_MAX + 1];
	uint32_t status;		/* 0..255 */
	uint64_t latency_us;
	char text[API_TEXT_MAX + 1];	/* printable ASCII, may be "" */
};

enum api_vm_state {
	API_VM_STARTING = 1,
	API_VM_RUNNING,
	API_VM_PAUSED,
	API_VM_SHUTTING_DOWN,
};

enum api_dev_state {
	API_DEV_STARTING = 1,
	API_DEV_RUNNING,
	API_DEV_RESTARTING,
	API_DEV_NEEDS_RESET,
	API_DEV_STOPPED,
	API_DEV_FAILED,
};

struct api_error {
	uint32_t code;			/* positive errno, 1..4095 */
	char text[API_TEXT_MAX + 1];	/* printable ASCII */
};

struct api_status {
	enum api_vm_state state;
	uint64_t uptime_ms;
	uint32_t vcpus;			/* >= 1 */
	uint64_t memory_bytes;		/* >= 1 */
	uint64_t exits_io, exits_mmio, exits_other;
};

struct api_device {
	char name[API_NAME_MAX + 1];
	enum ctl_dev_type type;
	enum api_dev_state state;
	uint32_t pid;			/* 0 when no server runs */
	uint32_t restarts;
	char last_cause[API_CAUSE_MAX + 1]; /* printable ASCII, may be "" */
};

struct api_devices {
	unsigned n;
	struct api_device dev[API_MAX_DEVICES];
};

struct api_dev_stats {
	char name[API_NAME_MAX + 1];
	struct ctl_stats stats;
};

struct api_reply {
	enum api_reply_type type;
	union {
		struct api_error error;
		struct api_status status;
		struct api_devices devices;
		struct api_dev_stats stats;
		struct api_trace trace;
	} u;	/* API_REPLY_OK carries nothing */
};

/*
 * Encoders validate first and return the length, -EINVAL or -ENOBUFS.
 * Decoders take hostile bytes and return 0, -EBADMSG (bad encoding, unknown
 * or absent message), -EINVAL (field out of range) or -EMSGSIZE
 * (len > API_MSG_MAX); on failure *out is zeroed. No allocation survives.
 */
int api_req_encode(const struct api_req *req, uint8_t *buf, size_t cap);
int api_req_decode(const uint8_t *buf, size_t len, struct api_req *out);
int api_reply_encode(const struct api_reply *rep, uint8_t *buf, size_t cap);
int api_reply_decode(const uint8_t *buf, size_t len, struct api_reply *out);

/* The checks of the decoders on C structs: 0 or -EINVAL. */
int api_req_validate(const struct api_req *req);
int api_reply_validate(const struct api_reply *rep);

/* Short name of a request type, for logs; "?" if unknown. */
const char *api_req_name(enum api_req_type type);

#endif
