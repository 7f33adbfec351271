/* front_net.c: the virtio-net front: config, transport hooks, TX. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipc/devproto.h"
#include "vcpu/front/net/front_net.h"
#include "vcpu/front/net/front_net_hdr.h"
#include "vcpu/front/net/front_net_rx.h"
#include "vcpu/core/trace.h"
#include "vcpu/le.h"

static_assert(NET_MTU_MIN == VIRTIO_NET_MTU_MIN &&
		      NET_MTU_MAX == VIRTIO_NET_MTU_MAX &&
		      NET_MTU_DEFAULT == VIRTIO_NET_MTU_DEFAULT &&
		      NET_VNET_HDR_LEN == VIRTIO_NET_HDR_LEN,
	      "--net's limits are the device's");

/* Device features the front knows how to serve. */
#define FRONT_NET_FEATURES                                                  \
	(VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
	 VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |         \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |                                 \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) |                                 \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) |                                  \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) |                                  \
	 VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_NET_F_STATUS))

/* Offloads NET_OP_OFFLOAD carries: what the tap may hand the guest. */
#define FRONT_NET_GUEST_OFFLOADS                                            \
	(VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) |                                \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |                                \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6))

/* Tags of the front's own requests. */
static char front_net_tx_tag, front_net_offload_tag;

static const char *const front_net_drop_names[FRONT_NET_DROP_NR] = {
	[FRONT_NET_TX_SHORT] = "tx_short",
	[FRONT_NET_TX_OVERSIZE] = "tx_oversize",
	[FRONT_NET_TX_BAD_HDR] = "tx_bad_hdr",
	[FRONT_NET_TX_SERVER] = "tx_server",
	[FRONT_NET_RX_SHORT] = "rx_short",
	[FRONT_NET_RX_BAD_HDR] = "rx_bad_hdr",
	[FRONT_NET_RX_OVERSIZE] = "rx_oversize",
	[FRONT_NET_RX_NO_DRIVER] = "rx_no_driver",
	[FRONT_NET_RX_SERVER] = "rx_server",
	[FRONT_NET_RX_FAULT] = "rx_fault",
};

static void front_net_config_read(void *opaque, uint32_t off, void *data,
				  unsigned len)
{
	struct front_net *n = opaque;

	/* The transport keeps off + len within config_size. */
	memcpy(data, n->config + off, len);
}

/* Nothing is writable without CTRL_MAC_ADDR: writes are ignored. */
static void front_net_config_write(void *opaque, uint32_t off,
				   const void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
}

/* Post the driver's offloads to the server if one is due. */
static void front_net_offload(struct front_net *n)
{
	struct ipc_req tmpl = {.op = NET_OP_OFFLOAD};

	if (!n->offload_due)
		return;
	tmpl.args.net.features = n->offload;
	if (front_req(&n->front, NULL, &tmpl, 0, NULL, 0, 0,
		      &front_net_offload_tag) == 0)
		n->offload_due = false;
}

/* DRIVER_OK: the tap's offloads follow the driver, receiving starts. */
static void front_net_driver_ok(void *opaque)
{
	struct front_net *n = opaque;

	n->offload = virtio_mmio_features(n->front.vdev) &
		     FRONT_NET_GUEST_OFFLOADS;
	n->offload_due = true;
	n->rx_on = true;
	front_net_offload(n);
	front_net_rx_pump(n);
	front_kick(&n->front);
}

static void front_net_notify(void *opaque, unsigned qi)
{
	struct front_net *n = opaque;

	if (qi == VIRTIO_NET_Q_RX) {
		front_net_rx_deliver(n);
		front_kick(&n->front);
		return;
	}
	front_notify(&n->front, qi);
}

static void front_net_reset(void *opaque)
{
	struct front_net *n = opaque;

	if (n->front.pool)
		front_reset(&n->front);
}

static int front_net_check_ready(struct front_net *n,
				 const struct ctl_ready *ready, char *err,
				 size_t errlen)
{
	const uint8_t *c = ready->config;

	if (ready->config_len != VIRTIO_NET_CFG_LEN)
		return errf(err, errlen, -EPROTO,
			    "%s: server config of %u bytes, want %u", n->name,
			    ready->config_len, VIRTIO_NET_CFG_LEN);
	if (ready->features & ~(uint64_t)FRONT_NET_FEATURES)
		return errf(err, errlen, -EPROTO,
			    "%s: server offers features %#llx the front "
			    "cannot serve",
			    n->name,
			    (unsigned long long)(ready->features &
						 ~(uint64_t)FRONT_NET_FEATURES));
	if (memcmp(c + VIRTIO_NET_CFG_MAC, n->net->mac, NET_MAC_LEN) ||
	    le16_get(c + VIRTIO_NET_CFG_MTU) != n->net->mtu)
		return errf(err, errlen, -EPROTO,
			    "%s: server announces another MAC or MTU than "
			    "it was given",
			    n->name);
	return 0;
}

int front_net_init(struct front_net *n, const char *name,
		   const struct net_cfg *net, const struct ctl_ready *ready,
		   char *err, size_t errlen)
{
	int ret;

	snprintf(n->name, sizeof(n->name), "%s", name);
	n->net = net;
	memset(&n->st, 0, sizeof(n->st));
	n->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000, 5);
	ret = front_net_check_ready(n, ready, err, errlen);
	if (ret)
		return ret;
	n->features = ready->features;
	memcpy(n->config, ready->config, VIRTIO_NET_CFG_LEN);
	/* Link up is the VMM's to say, whatever the server wrote. */
	le16_put(n->config + VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	le16_put(n->config + VIRTIO_NET_CFG_MAX_VQ_PAIRS, 0);
	n->ops = (struct virtio_dev_ops){
		.device_id = VIRTIO_ID_NET,
		.features = n->features,
		.nr_queues = 2,
		.queue_max = {FRONT_NET_QUEUE_SIZE, FRONT_NET_QUEUE_SIZE},
		.config_size = VIRTIO_NET_CFG_LEN,
		.config_read = front_net_config_read,
		.config_write = front_net_config_write,
		.driver_ok = front_net_driver_ok,
		.notify = front_net_notify,
		.reset = front_net_reset,
	};
	return 0;
}

void front_net_trace(const struct front_net *n, bool tx, uint16_t head,
		     uint32_t bytes, const char *why)
{
	struct trace_event e = {
		.op = tx ? "tx" : "rx",
		.syscall = why ? "none" : tx ? "writev" : "read",
		.queue = tx ? VIRTIO_NET_Q_TX : VIRTIO_NET_Q_RX,
		.head = head,
		.bytes = bytes,
		.status = why != NULL,
		.text = why,
	};

	if (trace_on())
		trace_emit(n->name, &e);
}

static void front_net_tx_drop(struct front_net *n, enum front_net_verdict v,
			      const char *why, const struct front_chain *c)
{
	enum front_net_drop d = v == FRONT_NET_SHORT	  ? FRONT_NET_TX_SHORT
				: v == FRONT_NET_OVERSIZE ? FRONT_NET_TX_OVERSIZE
							  : FRONT_NET_TX_BAD_HDR;
	unsigned dropped = 0;

	n->st.drops[d]++;
	front_net_trace(n, true, c->vc.head,
			c->vc.readable_len > VIRTIO_NET_HDR_LEN
				? c->vc.readable_len - VIRTIO_NET_HDR_LEN
				: 0,
			why);
	if (log_ratelimit_ok(&n->rl, &dropped))
		log_warn("%s: sent frame dropped: %s%s", n->name, why,
			 dropped ? " (and earlier ones not logged)" : "");
}

/*
 * Lock held: one TX chain becomes one request of the front's own, and the
 * chain goes back at once (nothing staged): the frame is in the arena.
 */
static int front_net_chain(struct front *f, struct front_chain *c)
{
	struct front_net *n = f->opaque;
	struct ipc_req tmpl = {.op = IPC_OP_WRITE};
	uint8_t raw[VIRTIO_NET_HDR_LEN];
	struct virtio_net_hdr hdr;
	enum front_net_verdict v;
	const char *why = "shorter than a header";
	uint32_t len = c->vc.readable_len;
	int ret;

	c->written = 0;
	if (len < VIRTIO_NET_HDR_LEN) {
		front_net_tx_drop(n, FRONT_NET_SHORT, why, c);
		return 0;
	}
	virtq_chain_read(f->vdev->mem, &c->vc, 0, raw, sizeof(raw));
	front_net_hdr_get(raw, &hdr);
	v = front_net_tx_check(&hdr, len - VIRTIO_NET_HDR_LEN,
			       virtio_mmio_features(f->vdev), n->net->mtu,
			       &why);
	if (v != FRONT_NET_OK) {
		front_net_tx_drop(n, v, why, c);
		return 0;
	}
	/* The tap reads num_buffers as padding; send it as zero. */
	hdr.num_buffers = 0;
	front_net_hdr_put(&hdr, raw);
	tmpl.args.net.hdr_len = VIRTIO_NET_HDR_LEN;
	ret = front_req_copy(f, c, &tmpl, len, raw, sizeof(raw),
			     VIRTIO_NET_HDR_LEN, len - VIRTIO_NET_HDR_LEN,
			     &front_net_tx_tag);
	if (ret == -ENOSPC)
		return ret;
	if (ret) { /* -EIO: no server any more; the frame is lost */
		n->st.drops[FRONT_NET_TX_SERVER]++;
		return 0;
	}
	n->st.tx_frames++;
	n->st.tx_bytes += len - VIRTIO_NET_HDR_LEN;
	front_net_trace(n, true, c->vc.head, len - VIRTIO_NET_HDR_LEN, NULL);
	return 0;
}

/* Lock held: a completion of the front's own requests. */
static void front_net_done(struct front *f, struct front_chain *c,
			   const struct ipc_dp_done *d, const void *buf)
{
	struct front_net *n = f->opaque;

	(void)buf;
	if (c) /* no request is ever tied to a chain */
		return;
	if (d->cookie == &front_net_rx_tag) {
		front_net_rx_done(n, d);
	} else if (d->cookie == &front_net_tx_tag) {
		if (d->status)
			n->st.drops[FRONT_NET_TX_SERVER]++;
	} else if (d->cookie == &front_net_offload_tag && d->status) {
		log_warn("%s: the tap refused the offloads %#llx (%d)",
			 n->name, (unsigned long long)n->offload, d->status);
	}
}

/* Lock held: room came back (completions): deliver, post, retry. */
static void front_net_pump(struct front *f)
{
	struct front_net *n = f->opaque;

	front_net_rx_deliver(n);
	front_net_offload(n);
}

static void front_net_front_reset(struct front *f)
{
	struct front_net *n = f->opaque;

	front_net_rx_reset(n);
	n->offload_due = false;
}

static bool front_net_salvage(struct front *f, const struct ipc_req *req,
			      void *cookie, const void *buf, uint32_t *len)
{
	return front_net_rx_salvage(f->opaque, req, cookie, buf, len);
}

const struct front_ops front_net_front_ops = {
	.salvage = front_net_salvage,
	.chain = front_net_chain,
	.done = front_net_done,
	.reset = front_net_front_reset,
	.pump = front_net_pump,
};

void front_net_stats_line(const struct front_net_stats *st, const char *name,
			  char *out, size_t cap)
{
	int w = snprintf(out, cap, "%s stats: tx=%llu/%llu rx=%llu/%llu "
				   "rx_buffers=%llu drops:",
			 name, (unsigned long long)st->tx_frames,
			 (unsigned long long)st->tx_bytes,
			 (unsigned long long)st->rx_frames,
			 (unsigned long long)st->rx_bytes,
			 (unsigned long long)st->rx_buffers);

	for (int i = 0; i < FRONT_NET_DROP_NR && w > 0 && (size_t)w < cap;
	     i++)
		w += snprintf(out + w, cap - (size_t)w, " %s=%llu",
			      front_net_drop_names[i],
			      (unsigned long long)st->drops[i]);
}
