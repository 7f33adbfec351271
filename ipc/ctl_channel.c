/* ctl_channel.c: ctl_msg encode/decode joined to framing and fd passing. */
#include "ipc/ctl_channel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ipc/arena.h"
#include "ipc/frame.h"
#include "ipc/ring.h"

/* What the decoder accepts must be what ipc/ can map. */
_Static_assert(CTL_RING_MIN == IPC_RING_MIN && CTL_RING_MAX == IPC_RING_MAX,
	       "ring bounds");
_Static_assert(CTL_SLOT_MIN == IPC_ARENA_SLOT_MIN &&
		       CTL_SLOT_MAX == IPC_ARENA_SLOT_MAX &&
		       CTL_SLOTS_MAX == IPC_ARENA_MAX_SLOTS,
	       "arena bounds");
_Static_assert(CTL_REGION_MAX == IPC_REGION_MAX_SIZE, "region bound");

static unsigned ctl_fds_expected(const struct ctl_msg *msg)
{
	if (msg->type == CTL_CLIENT)
		return msg->u.client.present ? 1 : 0;
	return msg->type == CTL_SETUP ? msg->u.setup.nfds : 0;
}

int ctl_send(int sock, const struct ctl_msg *msg, const int *fds,
	     unsigned nfds)
{
	uint8_t buf[CTL_MSG_MAX];
	int len;

	len = ctl_msg_encode(msg, buf, sizeof(buf));
	if (len < 0)
		return len;
	if (nfds != ctl_fds_expected(msg))
		return -EINVAL;
	return frame_send(sock, buf, (size_t)len, fds, nfds);
}

int ctl_recv(int sock, struct ctl_msg *out, int *fds, unsigned max_fds,
	     unsigned *nfds)
{
	uint8_t buf[CTL_MSG_MAX];
	unsigned want;
	long n;
	int ret;

	if (max_fds > CTL_SETUP_MAX_FDS)
		max_fds = CTL_SETUP_MAX_FDS;
	n = frame_recv(sock, buf, sizeof(buf), fds, max_fds, nfds);
	if (n < 0)
		return (int)n;
	ret = ctl_msg_decode(buf, (size_t)n, out);
	if (ret)
		goto err_close_fds;
	/* The fds must be exactly those the message announces. */
	want = ctl_fds_expected(out);
	if (*nfds != want) {
		ret = *nfds > want ? -ETOOMANYREFS : -EPROTO;
		goto err_close_fds;
	}
	return 0;

err_close_fds:
	fdpass_close(fds, *nfds);
	*nfds = 0;
	return ret;
}

int ctl_send_error(int sock, int err, const char *fmt, ...)
{
	struct ctl_msg msg;
	struct ctl_error *e = &msg.u.error;
	va_list ap;

	memset(&msg, 0, sizeof(msg));
	msg.type = CTL_ERROR;
	if (err < 0)
		err = -err;
	/* The wire wants 1..4095; anything else is reported as EIO. */
	e->code = (err > 0 && err <= 4095) ? (uint32_t)err : EIO;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	for (char *c = e->text; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	return ctl_send(sock, &msg, NULL, 0);
}

void ctl_geometry_to_ipc(const struct ctl_geometry *c, struct ipc_geom *g)
{
	g->sq_entries = c->sq_entries;
	g->cq_entries = c->cq_entries;
	g->arena_slot_size = c->arena_slot_size;
	g->arena_slots = c->arena_slots;
}

void ctl_geometry_from_ipc(const struct ipc_geom *g, uint64_t region_size,
			   struct ctl_geometry *c)
{
	c->sq_entries = g->sq_entries;
	c->cq_entries = g->cq_entries;
	c->arena_slot_size = g->arena_slot_size;
	c->arena_slots = g->arena_slots;
	c->region_size = region_size;
}
