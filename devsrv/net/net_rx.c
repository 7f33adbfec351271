/* net_rx.c: frames from the tap into the oldest posted RX buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devsrv/net/net_rx.h"
#include "devsrv/net/net_tap.h"
#include "ipc/devproto.h"
#include "ipc/virtio_net_config.h"

/* Where num_buffers sits in the header (struct virtio_net_hdr). */
#define NET_RX_NUM_BUFFERS 10

static void net_rx_watch(struct net_rx *rx)
{
	if (rx->watching || rx->dead)
		return;
	if (event_add(&rx->ev, NULL)) {
		srv_fail(rx->srv, ENOMEM, "rx: cannot watch the tap");
		return;
	}
	rx->watching = true;
}

static void net_rx_unwatch(struct net_rx *rx)
{
	if (!rx->watching)
		return;
	event_del(&rx->ev);
	rx->watching = false;
}

static void net_rx_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/*
 * The oldest buffer holds a frame of @n bytes, header included, after its
 * record. The record first: from here on a death of this server loses
 * nothing (the VMM takes the frame from the record).
 */
static void net_rx_complete(struct net_rx *rx, size_t n, int32_t status)
{
	struct net_rx_buf *b = &rx->q[rx->head];
	struct ipc_cpl cpl = {.id = b->id,
			      .status = status,
			      .len = (uint32_t)(NET_RX_REC_LEN + n)};
	unsigned char *rec = b->buf;
	unsigned char *nb = rec + NET_RX_REC_LEN + NET_RX_NUM_BUFFERS;

	/* The tap leaves num_buffers alone: one buffer holds the frame. */
	nb[0] = 1;
	nb[1] = 0;
	if (!status) {
		net_rx_le32(rec + 4, (uint32_t)n);
		net_rx_le32(rec, NET_RX_MAGIC);
	}
	if (++rx->head == rx->cap)
		rx->head = 0;
	rx->n--;
	if (!status) {
		rx->st.frames++;
		rx->st.bytes += n - VIRTIO_NET_HDR_LEN;
	}
	if (srv_complete(rx->srv, &cpl))
		srv_err("rx: completion of id %llu refused",
			(unsigned long long)cpl.id);
}

/*
 * A read failed. The tap has dropped that frame; the pass goes on unless
 * the tap is detached from its interface for good (EBADFD: the interface
 * was deleted), when reading stops and the buffers wait for a new
 * server. Returns true to end the pass.
 */
static bool net_rx_failed(struct net_rx *rx, ssize_t err)
{
	if (err == -EBADFD) {
		srv_err("rx: the tap has no interface any more; not reading");
		rx->dead = true;
		net_rx_unwatch(rx);
		return true;
	}
	rx->st.drop_error++;
	srv_debug("rx: read: %s", strerror((int)-err));
	return false;
}

/*
 * A frame read into the oldest buffer: delivered, or, under a drop
 * fault, completed with -ECANCELED (the VMM counts it as taken from the
 * tap and posts the buffer again); a corrupt fault damages it first.
 */
static void net_rx_fault(struct net_rx *rx, struct net_rx_buf *b, size_t n)
{
	const struct ctl_fault *f = srv_frame_fault(rx->srv, CTL_OP_RX);

	if (f && f->kind == CTL_FAULT_DROP) {
		net_rx_complete(rx, n, -ECANCELED);
		return;
	}
	if (f)
		net_frame_damage((unsigned char *)b->buf + NET_RX_REC_LEN, n);
	net_rx_complete(rx, n, 0);
}

/* One pass: a frame per read, each into the oldest buffer, up to a
 * burst, until the tap is empty or no buffer is left. */
static void net_rx_pass(struct net_rx *rx)
{
	for (int i = 0; i < NET_RX_BURST && rx->n; i++) {
		struct net_rx_buf *b = &rx->q[rx->head];
		ssize_t n = net_tap_recv(rx->fd,
					 (unsigned char *)b->buf + NET_RX_REC_LEN,
					 b->len - NET_RX_REC_LEN);

		if (n == -EAGAIN)
			return;
		if (n < 0) {
			if (net_rx_failed(rx, n))
				return;
			continue;
		}
		/* Never truncated: a frame too long for the buffer is lost,
		 * and the buffer waits for the next one. */
		if ((size_t)n > b->len - NET_RX_REC_LEN) {
			rx->st.drop_oversize++;
			srv_debug("rx: frame of %zd bytes dropped, buffer %u",
				  n, b->len);
			continue;
		}
		if (n < VIRTIO_NET_HDR_LEN) {
			rx->st.drop_error++;
			continue;
		}
		net_rx_fault(rx, b, (size_t)n);
	}
}

static void net_rx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_rx *rx = arg;

	(void)fd;
	(void)what;
	net_rx_pass(rx);
	/* Nowhere to put a frame: leave them in the tap's queue. A pass cut
	 * short by the burst comes again: the event is level-triggered. */
	if (!rx->n)
		net_rx_unwatch(rx);
}

int net_rx_init(struct net_rx *rx, struct srv *srv, int fd, uint32_t cap)
{
	memset(rx, 0, sizeof(*rx));
	rx->srv = srv;
	rx->fd = fd;
	rx->q = calloc(cap, sizeof(*rx->q));
	if (!rx->q)
		return -ENOMEM;
	rx->cap = cap;
	if (event_assign(&rx->ev, srv_base(srv), fd, EV_READ | EV_PERSIST,
			 net_rx_cb, rx))
		return -ENOMEM;
	rx->ev_set = true;
	return 0;
}

void net_rx_fini(struct net_rx *rx)
{
	if (rx->ev_set)
		net_rx_unwatch(rx);
	rx->ev_set = false;
	free(rx->q);
	rx->q = NULL;
	rx->cap = rx->n = 0;
}

int net_rx_post(struct net_rx *rx, const struct ipc_req *req, void *buf)
{
	uint32_t tail;

	if (!buf || req->arena_len < NET_RX_BUF_MIN) {
		rx->st.buf_short++;
		return -EINVAL;
	}
	if (rx->n == rx->cap)
		return -ENOBUFS;
	tail = (rx->head + rx->n) % rx->cap;
	rx->q[tail] = (struct net_rx_buf){
		.id = req->id, .buf = buf, .len = req->arena_len};
	rx->n++;
	net_rx_watch(rx);
	return 0;
}
