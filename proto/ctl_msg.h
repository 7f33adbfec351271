/*
 * ctl_msg.h: typed VMM <-> device-server control messages. Plain C structs
 * with fixed bounds; ctl_msg_decode() validates every field, so a decoded
 * message can be used as is. The protobuf encoding stays inside proto/.
 */
#ifndef ISOVM_PROTO_CTL_MSG_H
#define ISOVM_PROTO_CTL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest encoded control message; well under the frame limit. */
#define CTL_MSG_MAX 8192
#define CTL_LAT_BUCKETS 16	/* latency histogram: see ctl_lat_bucket() */
#define CTL_BLK_ID_MAX 20	/* virtio-blk serial: 20 bytes */
#define CTL_MAC_LEN 6
#define CTL_CONFIG_MAX 256	/* virtio device config space */
#define CTL_SETUP_MAX_FDS 7
#define CTL_STATS_MAX_OPS 16
#define CTL_STATS_MAX_EXTRA 16
#define CTL_KEY_MAX 31
#define CTL_TEXT_MAX 255
/* Geometry bounds; ipc/ctl_channel.c checks they match ipc/'s own. */
#define CTL_RING_MIN 2u		/* entries per ring, a power of two */
#define CTL_RING_MAX 65536u
#define CTL_SLOT_MIN 64u	/* arena slot bytes, a power of two */
#define CTL_SLOT_MAX (1u << 20)
#define CTL_SLOTS_MAX 65536u
#define CTL_REGION_MAX (1ull << 30)
#define CTL_PAGE 4096u
#define CTL_ESCAPE_MAX 63u	/* escape attempts are 1..this */

enum ctl_type {
	CTL_HELLO = 1,
	CTL_SETUP,
	CTL_READY,
	CTL_STATS_REQUEST,
	CTL_STATS_REPLY,
	CTL_RESET,
	CTL_SHUTDOWN,
	CTL_ERROR,
	CTL_FAULT,
	CTL_ESCAPE,
	CTL_ESCAPE_RESULT,
	CTL_CLIENT,
	CTL_TYPE_MAX = CTL_CLIENT,
};

enum ctl_dev_type { CTL_DEV_BLK = 1, CTL_DEV_NET, CTL_DEV_CONSOLE };
enum ctl_role { CTL_ROLE_VMM = 1, CTL_ROLE_SERVER };
enum ctl_cache { CTL_CACHE_WRITEBACK = 1, CTL_CACHE_NONE };
enum ctl_console_backend {
	CTL_CONSOLE_STDIO = 1,
	CTL_CONSOLE_PTY,
	CTL_CONSOLE_FILE,
	CTL_CONSOLE_SOCKET,
};
enum ctl_fd_role {
	CTL_FD_MEMFD = 1,
	CTL_FD_KICK,
	CTL_FD_CALL,
	CTL_FD_BACKEND,
	CTL_FD_BACKEND_OUT,	/* second backend fd (console stdio output) */
	CTL_FD_OUT_PIPE,	/* console: read end of the guest output pipe */
	CTL_FD_IN_PIPE,		/* console: write end of the guest input pipe */
	CTL_FD_CLIENT,		/* console socket: the client the VMM kept */
	CTL_FD_ROLE_MAX = CTL_FD_CLIENT,
};
enum ctl_op {
	CTL_OP_ANY = 1,
	CTL_OP_READ,
	CTL_OP_WRITE,
	CTL_OP_FLUSH,
	CTL_OP_GET_ID,
	CTL_OP_TX,
	CTL_OP_RX,
	CTL_OP_CONSOLE_OUT,
	CTL_OP_CONSOLE_IN,
	CTL_OP_MAX = CTL_OP_CONSOLE_IN,
};
enum ctl_fault_kind {
	CTL_FAULT_NONE = 1,	/* clear the faults of this op */
	CTL_FAULT_ERROR,
	CTL_FAULT_DELAY,
	CTL_FAULT_CRASH,
	CTL_FAULT_DROP,
	CTL_FAULT_CORRUPT,	/* a completion with an id never issued */
};
enum ctl_trigger { CTL_TRIGGER_PROBABILITY = 1, CTL_TRIGGER_EVERY_NTH };

/* Both sides send one first; version must equal ISOVM_PROTO_VERSION. */
struct ctl_hello {
	uint32_t version;
	enum ctl_role role;
	enum ctl_dev_type dev_type;	/* 0 when role is VMM */
	uint32_t pid;
};

struct ctl_blk_config {
	uint64_t capacity_sectors;	/* 512-byte sectors, >= 1 */
	bool read_only;
	uint32_t block_size;		/* power of two, 512..65536 */
	char id[CTL_BLK_ID_MAX + 1];	/* printable ASCII, may be empty */
	enum ctl_cache cache;
	uint64_t slice_offset;		/* bytes, 512-aligned */
};

struct ctl_net_config {
	uint8_t mac[CTL_MAC_LEN];	/* unicast */
	uint32_t mtu;			/* 68..65535 */
};

struct ctl_console_config {
	enum ctl_console_backend backend;
};

/*
 * Geometry of the shared memfd (mirrors struct ipc_geom). Decode checks the
 * bounds below; ipc_region_layout()/ipc_region_map() check the exact layout.
 */
struct ctl_geometry {
	uint32_t sq_entries;		/* power of two, CTL_RING_MIN..MAX */
	uint32_t cq_entries;		/* power of two, CTL_RING_MIN..MAX */
	uint32_t arena_slot_size;	/* power of two, CTL_SLOT_MIN..MAX */
	uint32_t arena_slots;		/* 1..CTL_SLOTS_MAX */
	uint64_t region_size;		/* page multiple, holds the arena,
					 * <= CTL_REGION_MAX */
};

/*
 * Sent by the VMM with fds[i] describing the i-th fd of the SCM_RIGHTS array
 * of the same datagram. Roles are unique; a memfd is always present.
 */
struct ctl_setup {
	enum ctl_dev_type dev_type;	/* selects the member of cfg */
	union {
		struct ctl_blk_config blk;
		struct ctl_net_config net;
		struct ctl_console_config console;
	} cfg;
	struct ctl_geometry geo;
	unsigned nfds;
	enum ctl_fd_role fds[CTL_SETUP_MAX_FDS];
};

/* Server -> VMM once set up: what the VMM shows the guest. */
struct ctl_ready {
	uint64_t features;
	uint32_t config_len;
	uint8_t config[CTL_CONFIG_MAX];
};

struct ctl_stats_request {
	bool reset;
};

struct ctl_op_stats {
	enum ctl_op op;
	uint64_t requests;
	uint64_t bytes;
	uint64_t errors;
	uint64_t latency_sum_ns;
	uint64_t latency_max_ns;	/* <= latency_sum_ns when requests */
	/* [0] under 2 us, [i] 2^i..2^(i+1) us, [15] 32768 us and more;
	 * the counts add up to at most requests. */
	uint64_t latency_hist[CTL_LAT_BUCKETS];
};

/* The histogram bucket of a latency. */
static inline unsigned ctl_lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned b = 0;

	while (us >= 2 && b < CTL_LAT_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

struct ctl_kv {
	char key[CTL_KEY_MAX + 1];	/* [A-Za-z0-9_.-], non-empty */
	uint64_t value;
};

struct ctl_stats {
	unsigned nops;
	struct ctl_op_stats ops[CTL_STATS_MAX_OPS];
	unsigned nextra;
	struct ctl_kv extra[CTL_STATS_MAX_EXTRA];
};

/* A server reports a fatal error before it exits. */
struct ctl_error {
	uint32_t code;			/* positive errno, 1..4095 */
	char text[CTL_TEXT_MAX + 1];	/* printable ASCII */
};

struct ctl_fault {
	enum ctl_op op;
	enum ctl_fault_kind kind;
	enum ctl_trigger trigger;	/* ignored for CTL_FAULT_NONE */
	uint32_t probability_ppm;	/* 1..1000000 for PROBABILITY */
	uint32_t every_nth;		/* >= 1 for EVERY_NTH */
	uint32_t count;			/* times to fire; 0 = no limit */
	uint32_t delay_us;		/* DELAY only, <= 60 s */
	uint32_t error_code;		/* ERROR only, 1..4095 */
	/* Block requests that touch [sector_start, +sector_count) only;
	 * a count of 0 (start 0 then too) is every request. */
	uint64_t sector_start;
	uint64_t sector_count;
};

/* Test only: one sandbox escape attempt (sandbox/escape.h), and what
 * came of it when the server lived through it. */
struct ctl_escape {
	uint32_t attempt;		/* 1..CTL_ESCAPE_MAX */
};

struct ctl_escape_result {
	uint32_t attempt;		/* 1..CTL_ESCAPE_MAX */
	uint32_t error;			/* errno, 0..4095; 0: it SUCCEEDED */
};

/*
 * Server -> VMM, console socket backend. present: the client just
 * accepted comes with it (one fd), and the VMM keeps a copy for the next
 * server; !present: no fd, the server dropped its client.
 */
struct ctl_client {
	bool present;
};

struct ctl_msg {
	enum ctl_type type;
	/*
	 * STATS_REQUEST: the VMM's number for it (from 1, increasing);
	 * STATS_REPLY: the number of the request it answers. 0 elsewhere.
	 */
	uint64_t seq;
	union {
		struct ctl_hello hello;
		struct ctl_setup setup;
		struct ctl_ready ready;
		struct ctl_stats_request stats_request;
		struct ctl_stats stats;
		struct ctl_error error;
		struct ctl_fault fault;
		struct ctl_escape escape;
		struct ctl_escape_result escape_result;
		struct ctl_client client;
	} u;	/* CTL_RESET and CTL_SHUTDOWN carry nothing */
};

/*
 * Encode msg into buf[0..cap). The message is validated first (as decode
 * would), so nothing invalid leaves. Returns the length, -EINVAL (invalid
 * message), -EPROTONOSUPPORT (hello of another version) or -ENOBUFS.
 */
int ctl_msg_encode(const struct ctl_msg *msg, uint8_t *buf, size_t cap);

/*
 * Decode and validate buf[0..len) (hostile bytes) into *out. Returns 0, or
 * -EBADMSG (not a valid encoding, unknown or absent message), -EINVAL (a
 * field out of range), -EPROTONOSUPPORT (hello of another version),
 * -EMSGSIZE (len > CTL_MSG_MAX). *out is zeroed on failure. Never keeps any
 * allocation.
 */
int ctl_msg_decode(const uint8_t *buf, size_t len, struct ctl_msg *out);

/* The checks of decode on a C struct: 0, -EINVAL or -EPROTONOSUPPORT. */
int ctl_msg_validate(const struct ctl_msg *msg);

/* Helpers for the checks (also used by api_msg). */
int ctl_stats_validate(const struct ctl_stats *st);
int ctl_fault_validate(const struct ctl_fault *f);
/* s is NUL-terminated within cap and a non-empty [A-Za-z0-9_.-] word. */
bool ctl_name_ok(const char *s, size_t cap);

/* names[i] of a table of n, or "?" past its end or at a gap (log lines). */
const char *ctl_table_name(const char *const *names, size_t n, unsigned i);

/* Index in the SCM_RIGHTS array of the fd with this role, or -ENOENT. */
int ctl_setup_fd_index(const struct ctl_setup *s, enum ctl_fd_role role);

/* Short name of a message type, for logs; "?" if unknown. */
const char *ctl_type_name(enum ctl_type type);

#endif
