/* ctl_validate.c: field checks shared by ctl_msg encode and decode. */
#include "proto/ctl_msg.h"

#include <errno.h>
#include <string.h>

#include "proto/proto_version.h"

#define CTL_ERRNO_MAX 4095u
#define CTL_DELAY_MAX_US 60000000u
#define CTL_BLK_SIZE_MIN 512u
#define CTL_BLK_SIZE_MAX 65536u

static bool ctl_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* A NUL within the array, and only bytes 0x20..0x7e before it. */
static bool ctl_printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* Names and stat keys: non-empty [A-Za-z0-9_.-]. */
bool ctl_name_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == 0 || n == cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

static int ctl_hello_validate(const struct ctl_hello *h)
{
	if (h->version != ISOVM_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	switch (h->role) {
	case CTL_ROLE_VMM:
		return h->dev_type == 0 ? 0 : -EINVAL;
	case CTL_ROLE_SERVER:
		/* A server names its device and its pid. */
		if (h->dev_type < CTL_DEV_BLK || h->dev_type > CTL_DEV_CONSOLE)
			return -EINVAL;
		return h->pid ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int ctl_blk_validate(const struct ctl_blk_config *b)
{
	/* Bytes of the disk stay below 2^63, so the next line cannot wrap. */
	if (b->capacity_sectors == 0 ||
	    b->capacity_sectors > ((uint64_t)INT64_MAX >> 9))
		return -EINVAL;
	/* The slice must end inside a 64-bit file offset. */
	if (b->slice_offset % 512 ||
	    b->slice_offset > INT64_MAX - (b->capacity_sectors << 9))
		return -EINVAL;
	if (!ctl_pow2(b->block_size) || b->block_size < CTL_BLK_SIZE_MIN ||
	    b->block_size > CTL_BLK_SIZE_MAX)
		return -EINVAL;
	if (b->cache != CTL_CACHE_WRITEBACK && b->cache != CTL_CACHE_NONE)
		return -EINVAL;
	return ctl_printable(b->id, sizeof(b->id)) ? 0 : -EINVAL;
}

static int ctl_net_validate(const struct ctl_net_config *n)
{
	static const uint8_t zero[CTL_MAC_LEN];

	/* Multicast bit set or all zeroes: not a station address. */
	if ((n->mac[0] & 1) || !memcmp(n->mac, zero, sizeof(zero)))
		return -EINVAL;
	/* An MTU the virtio config's le16 holds and IPv4 allows. */
	if (n->mtu < 68 || n->mtu > 65535)
		return -EINVAL;
	return 0;
}

static bool ctl_ring_ok(uint32_t n)
{
	return ctl_pow2(n) && n >= CTL_RING_MIN && n <= CTL_RING_MAX;
}

static int ctl_geometry_validate(const struct ctl_geometry *g)
{
	uint64_t arena = (uint64_t)g->arena_slot_size * g->arena_slots;

	if (!ctl_ring_ok(g->sq_entries) || !ctl_ring_ok(g->cq_entries))
		return -EINVAL;
	if (!ctl_pow2(g->arena_slot_size) ||
	    g->arena_slot_size < CTL_SLOT_MIN ||
	    g->arena_slot_size > CTL_SLOT_MAX || g->arena_slots == 0 ||
	    g->arena_slots > CTL_SLOTS_MAX)
		return -EINVAL;
	if (g->region_size == 0 || g->region_size % CTL_PAGE ||
	    g->region_size > CTL_REGION_MAX)
		return -EINVAL;
	/* The header and rings come first, so the arena alone must fit. */
	return arena < g->region_size ? 0 : -EINVAL;
}

static int ctl_setup_validate(const struct ctl_setup *s)
{
	unsigned seen = 0;
	int ret;

	switch (s->dev_type) {
	case CTL_DEV_BLK:
		ret = ctl_blk_validate(&s->cfg.blk);
		break;
	case CTL_DEV_NET:
		ret = ctl_net_validate(&s->cfg.net);
		break;
	case CTL_DEV_CONSOLE:
		ret = (s->cfg.console.backend >= CTL_CONSOLE_STDIO &&
		       s->cfg.console.backend <= CTL_CONSOLE_SOCKET) ?
			      0 : -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	ret = ctl_geometry_validate(&s->geo);
	if (ret)
		return ret;
	if (s->nfds > CTL_SETUP_MAX_FDS)
		return -EINVAL;
	for (unsigned i = 0; i < s->nfds; i++) {
		if (s->fds[i] < CTL_FD_MEMFD || s->fds[i] > CTL_FD_ROLE_MAX)
			return -EINVAL;
		if (seen & (1u << s->fds[i]))
			return -EINVAL;
		seen |= 1u << s->fds[i];
	}
	return (seen & (1u << CTL_FD_MEMFD)) ? 0 : -EINVAL;
}

int ctl_stats_validate(const struct ctl_stats *st)
{
	if (st->nops > CTL_STATS_MAX_OPS || st->nextra > CTL_STATS_MAX_EXTRA)
		return -EINVAL;
	for (unsigned i = 0; i < st->nops; i++) {
		const struct ctl_op_stats *o = &st->ops[i];

		if (o->op < CTL_OP_ANY || o->op > CTL_OP_MAX)
			return -EINVAL;
		uint64_t in_hist = 0;

		if (o->errors > o->requests ||
		    o->latency_max_ns > o->latency_sum_ns)
			return -EINVAL;
		for (unsigned b = 0; b < CTL_LAT_BUCKETS; b++) {
			if (o->latency_hist[b] > o->requests - in_hist)
				return -EINVAL;
			in_hist += o->latency_hist[b];
		}
	}
	for (unsigned i = 0; i < st->nextra; i++)
		if (!ctl_name_ok(st->extra[i].key, sizeof(st->extra[i].key)))
			return -EINVAL;
	return 0;
}

/* Canonical: fields that do not apply to the kind or trigger are zero. */
int ctl_fault_validate(const struct ctl_fault *f)
{
	if (f->op < CTL_OP_ANY || f->op > CTL_OP_MAX)
		return -EINVAL;
	if (f->kind < CTL_FAULT_NONE || f->kind > CTL_FAULT_CORRUPT)
		return -EINVAL;
	if (f->sector_count ? f->sector_start > UINT64_MAX - f->sector_count
			    : f->sector_start != 0)
		return -EINVAL;
	if (f->kind == CTL_FAULT_NONE)
		return (f->trigger || f->probability_ppm || f->every_nth ||
			f->count || f->delay_us || f->error_code ||
			f->sector_count) ? -EINVAL : 0;
	switch (f->trigger) {
	case CTL_TRIGGER_PROBABILITY:
		if (f->probability_ppm == 0 || f->probability_ppm > 1000000 ||
		    f->every_nth)
			return -EINVAL;
		break;
	case CTL_TRIGGER_EVERY_NTH:
		if (f->every_nth == 0 || f->probability_ppm)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (f->kind == CTL_FAULT_DELAY ?
		    (f->delay_us == 0 || f->delay_us > CTL_DELAY_MAX_US) :
		    f->delay_us != 0)
		return -EINVAL;
	if (f->kind == CTL_FAULT_ERROR ?
		    (f->error_code == 0 || f->error_code > CTL_ERRNO_MAX) :
		    f->error_code != 0)
		return -EINVAL;
	return 0;
}

static int ctl_error_validate(const struct ctl_error *e)
{
	if (e->code == 0 || e->code > CTL_ERRNO_MAX)
		return -EINVAL;
	return ctl_printable(e->text, sizeof(e->text)) ? 0 : -EINVAL;
}

static int ctl_escape_validate(uint32_t attempt)
{
	return attempt >= 1 && attempt <= CTL_ESCAPE_MAX ? 0 : -EINVAL;
}

int ctl_msg_validate(const struct ctl_msg *msg)
{
	/* A number only where a reply is matched to its request. */
	if (msg->seq && msg->type != CTL_STATS_REQUEST &&
	    msg->type != CTL_STATS_REPLY)
		return -EINVAL;
	switch (msg->type) {
	case CTL_HELLO:
		return ctl_hello_validate(&msg->u.hello);
	case CTL_SETUP:
		return ctl_setup_validate(&msg->u.setup);
	case CTL_READY:
		return msg->u.ready.config_len <= CTL_CONFIG_MAX ? 0 : -EINVAL;
	case CTL_STATS_REPLY:
		return ctl_stats_validate(&msg->u.stats);
	case CTL_ERROR:
		return ctl_error_validate(&msg->u.error);
	case CTL_FAULT:
		return ctl_fault_validate(&msg->u.fault);
	case CTL_ESCAPE:
		return ctl_escape_validate(msg->u.escape.attempt);
	case CTL_ESCAPE_RESULT:
		if (msg->u.escape_result.error > CTL_ERRNO_MAX)
			return -EINVAL;
		return ctl_escape_validate(msg->u.escape_result.attempt);
	case CTL_STATS_REQUEST:
	case CTL_CLIENT:
	case CTL_RESET:
	case CTL_SHUTDOWN:
		return 0;
	}
	return -EINVAL;
}

int ctl_setup_fd_index(const struct ctl_setup *s, enum ctl_fd_role role)
{
	for (unsigned i = 0; i < s->nfds && i < CTL_SETUP_MAX_FDS; i++)
		if (s->fds[i] == role)
			return (int)i;
	return -ENOENT;
}

const char *ctl_table_name(const char *const *names, size_t n, unsigned i)
{
	return i < n && names[i] ? names[i] : "?";
}

const char *ctl_type_name(enum ctl_type type)
{
	static const char *const names[] = {
		[CTL_HELLO] = "hello",		[CTL_SETUP] = "setup",
		[CTL_READY] = "ready",		[CTL_STATS_REQUEST] = "stats-req",
		[CTL_STATS_REPLY] = "stats",	[CTL_RESET] = "reset",
		[CTL_SHUTDOWN] = "shutdown",	[CTL_ERROR] = "error",
		[CTL_FAULT] = "fault",		[CTL_ESCAPE] = "escape",
		[CTL_ESCAPE_RESULT] = "escape-result",
		[CTL_CLIENT] = "client",
	};

	return ctl_table_name(names, sizeof(names) / sizeof(names[0]), type);
}
