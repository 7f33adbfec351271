/*
 * fuzz_ctl_msg.c: ctl_msg_decode on hostile bytes. Whatever it accepts must
 * re-encode, and the re-encoding must be a fixed point (decode(encode(m))
 * encodes to the same bytes): validation and encoding agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ctl_msg.h"
#include "proto/proto_version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t a[CTL_MSG_MAX], b[CTL_MSG_MAX];
	struct ctl_msg m;
	int la, lb;

	if (ctl_msg_decode(data, size, &m))
		return 0;
	la = ctl_msg_encode(&m, a, sizeof(a));
	if (la < 0 || ctl_msg_decode(a, (size_t)la, &m))
		abort();
	lb = ctl_msg_encode(&m, b, sizeof(b));
	if (lb != la || memcmp(a, b, (size_t)la))
		abort();
	return 0;
}

/* A blk Setup touches the most fields; the driver mutates it. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	struct ctl_msg m;
	struct ctl_setup *s = &m.u.setup;
	int len;

	memset(&m, 0, sizeof(m));
	m.type = CTL_SETUP;
	s->dev_type = CTL_DEV_BLK;
	s->cfg.blk.capacity_sectors = 1 << 21;
	s->cfg.blk.read_only = true;
	s->cfg.blk.block_size = 4096;
	strcpy(s->cfg.blk.id, "fuzz-disk");
	s->cfg.blk.cache = CTL_CACHE_WRITEBACK;
	s->cfg.blk.slice_offset = 1 << 20;
	s->geo = (struct ctl_geometry){ .sq_entries = 128,
					.cq_entries = 128,
					.arena_slot_size = 4096,
					.arena_slots = 512,
					.region_size = 1 << 22 };
	s->nfds = 4;
	s->fds[0] = CTL_FD_MEMFD;
	s->fds[1] = CTL_FD_KICK;
	s->fds[2] = CTL_FD_CALL;
	s->fds[3] = CTL_FD_BACKEND;
	len = ctl_msg_encode(&m, buf, cap);
	return len > 0 ? (size_t)len : 0;
}
