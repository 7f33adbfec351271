/* front_net_rx.c: frames from the tap into the guest's receive chains. */
#include <errno.h>
#include <string.h>

#include "ipc/devproto.h"
#include "vcpu/front/net/front_net_hdr.h"
#include "vcpu/front/net/front_net_rx.h"
#include "vcpu/le.h"
#include "vcpu/virtio/virtio_spec.h"

char front_net_rx_tag;

static bool front_net_mrg(const struct front_net *n)
{
	return virtio_mmio_features(n->front.vdev) &
	       VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
}

void front_net_rx_pump(struct front_net *n)
{
	/* No record, and a header whose flags no tap writes (0xff): a
	 * buffer the tap wrote into is told from one it did not. */
	static const uint8_t fresh[NET_RX_REC_LEN + VIRTIO_NET_HDR_LEN] = {
		[NET_RX_REC_LEN] = 0xff};
	struct ipc_req tmpl = {.op = IPC_OP_READ};

	if (!n->rx_on)
		return;
	while (n->rx_posted + n->held_n < FRONT_NET_RX_POSTED) {
		/* The record zeroed: an arena buffer used before must not
		 * look filled to front_net_rx_salvage(). */
		if (front_req(&n->front, NULL, &tmpl, NET_RX_BUF_MIN, fresh, 0,
			      sizeof(fresh), &front_net_rx_tag))
			return; /* no room: again after completions */
		n->rx_posted++;
	}
}

static void front_net_rx_drop(struct front_net *n, enum front_net_drop why,
			      const char *rule)
{
	unsigned dropped = 0;

	n->st.drops[why]++;
	front_net_trace(n, false, 0, 0,
			rule ? rule
			: why == FRONT_NET_RX_FAULT ? "dropped by a fault"
			: why == FRONT_NET_RX_NO_DRIVER ? "no driver running"
							: "the server failed it");
	if (rule && log_ratelimit_ok(&n->rl, &dropped))
		log_warn("%s: received frame dropped: %s%s", n->name, rule,
			 dropped ? " (and earlier ones not logged)" : "");
}

/* The frame's bytes (header included) per the buffer's record, or 0. */
static uint32_t front_net_rx_record(const uint8_t *buf, uint32_t cap)
{
	uint8_t rec[NET_RX_REC_LEN];
	uint32_t len;

	memcpy(rec, buf, sizeof(rec));
	len = le32_get(rec + 4);
	if (le32_get(rec) != NET_RX_MAGIC || len > cap - NET_RX_REC_LEN)
		return 0;
	return len;
}

bool front_net_rx_salvage(struct front_net *n, const struct ipc_req *req,
			  void *cookie, const void *buf, uint32_t *len)
{
	uint8_t rec[NET_RX_REC_LEN];
	uint32_t frame;

	if (cookie != &front_net_rx_tag || req->arena_len < NET_RX_BUF_MIN)
		return false;
	frame = front_net_rx_record(buf, req->arena_len);
	if (!frame && n->unrecorded &&
	    ((const uint8_t *)buf)[NET_RX_REC_LEN] != 0xff) {
		/* The oldest buffer without a record holds the frame the
		 * tap says was read: write the record its reader could not
		 * (the arena is the VMM's). */
		frame = n->unrecorded;
		n->unrecorded = 0;
		le32_put(rec, NET_RX_MAGIC);
		le32_put(rec + 4, frame);
		memcpy((void *)buf, rec, sizeof(rec));
	}
	if (!frame)
		return false;
	*len = NET_RX_REC_LEN + frame;
	return true;
}

/* Lock held: a completion that says a frame left the tap. */
static void front_net_rx_taken(struct front_net *n, const struct ipc_dp_done *d)
{
	if (d->status && d->status != -ECANCELED && d->status != -EMSGSIZE)
		return; /* refused without a read */
	n->taken_frames++;
	if (d->len >= NET_RX_REC_LEN + VIRTIO_NET_HDR_LEN)
		n->taken_bytes += d->len - NET_RX_REC_LEN - VIRTIO_NET_HDR_LEN;
}

void front_net_rx_unrecorded(struct front_net *n)
{
	uint64_t frames, bytes;

	n->unrecorded = 0;
	if (tap_stats_read(&n->ts, &frames, &bytes))
		return;
	frames -= n->tap_frames0;
	bytes -= n->tap_bytes0;
	/* One read at a time per server: one frame at most is missing. */
	if (frames == n->taken_frames + 1 && bytes >= n->taken_bytes &&
	    bytes - n->taken_bytes >= VIRTIO_NET_ETH_HLEN &&
	    bytes - n->taken_bytes <= VIRTIO_NET_GSO_FRAME_MAX)
		n->unrecorded = (uint32_t)(bytes - n->taken_bytes) +
				VIRTIO_NET_HDR_LEN;
	/* From here on the counts agree again, whatever a server's read
	 * error took from the tap unreported: a drift never outlives one
	 * death. */
	n->tap_frames0 += frames - n->taken_frames - (n->unrecorded ? 1 : 0);
	n->tap_bytes0 += bytes - n->taken_bytes -
			 (n->unrecorded ? n->unrecorded - VIRTIO_NET_HDR_LEN
					: 0);
}

void front_net_rx_unrecorded_done(struct front_net *n)
{
	if (!n->unrecorded)
		return;
	n->tap_frames0++;
	n->tap_bytes0 += n->unrecorded - VIRTIO_NET_HDR_LEN;
	n->unrecorded = 0;
}

void front_net_rx_done(struct front_net *n, const struct ipc_dp_done *d)
{
	struct front_net_held *h;
	struct virtio_net_hdr hdr;
	uint8_t raw[VIRTIO_NET_HDR_LEN];
	const uint8_t *buf;
	uint32_t len;
	const char *why = NULL;
	enum front_net_verdict v;

	if (n->rx_posted)
		n->rx_posted--;
	front_net_rx_taken(n, d);
	if (d->status) {
		front_net_rx_drop(n,
				  d->status == -ECANCELED ? FRONT_NET_RX_FAULT
							  : FRONT_NET_RX_SERVER,
				  NULL);
		return;
	}
	if (!n->rx_on || !virtio_mmio_running(n->front.vdev)) {
		front_net_rx_drop(n, FRONT_NET_RX_NO_DRIVER, NULL);
		return;
	}
	buf = front_buffer(&n->front, d->req.arena_off, d->req.arena_len);
	/* The record must say what the completion says. */
	len = d->len >= NET_RX_REC_LEN && buf
		      ? front_net_rx_record(buf, d->req.arena_len)
		      : 0;
	if (len != d->len - NET_RX_REC_LEN || len < VIRTIO_NET_HDR_LEN) {
		front_net_rx_drop(n, FRONT_NET_RX_SHORT,
				  "no header, or a record that disagrees");
		return;
	}
	/* Shared memory: the header is checked on a copy, and that copy is
	 * what the guest gets (front_net_rx_fill writes it). */
	buf += NET_RX_REC_LEN;
	memcpy(raw, buf, sizeof(raw));
	front_net_hdr_get(raw, &hdr);
	v = front_net_rx_check(&hdr, len - VIRTIO_NET_HDR_LEN,
			       virtio_mmio_features(n->front.vdev), &why);
	if (v != FRONT_NET_OK) {
		front_net_rx_drop(n,
				  v == FRONT_NET_SHORT	      ? FRONT_NET_RX_SHORT
				  : v == FRONT_NET_OVERSIZE ? FRONT_NET_RX_OVERSIZE
							    : FRONT_NET_RX_BAD_HDR,
				  why);
		return;
	}
	if (n->held_n >= FRONT_NET_RX_POSTED) { /* cannot happen: pump bounds it */
		front_net_rx_drop(n, FRONT_NET_RX_SERVER, "no room to hold");
		return;
	}
	h = &n->held[(n->held_head + n->held_n++) % FRONT_NET_RX_POSTED];
	h->off = d->req.arena_off;
	h->cap = d->req.arena_len;
	h->len = len;
	front_keep_buffer(&n->front);
}

/* Pop one more guest receive chain into n->part. 1, 0 (none), -1 (bad). */
static int front_net_rx_pop(struct front_net *n)
{
	struct virtq_chain *c = &n->part[n->npart];
	int ret = virtio_mmio_pop(n->front.vdev, VIRTIO_NET_Q_RX, c);

	if (ret != 1)
		return ret < 0 ? -1 : 0;
	/* A receive buffer the device cannot write, or too small for a
	 * header, breaks the virtio-net rules. */
	if (c->readable_len || c->writable_len < VIRTIO_NET_HDR_LEN) {
		virtio_mmio_fail(n->front.vdev,
				 "%s: receive buffer %s", n->name,
				 c->readable_len ? "is device-readable"
						 : "smaller than the header");
		return -1;
	}
	n->npart++;
	return 1;
}

/* Chains 0..k-1 of n->part were used: the rest move to the front. */
static void front_net_rx_shift(struct front_net *n, unsigned k)
{
	if (k < n->npart)
		memmove(&n->part[0], &n->part[k],
			(n->npart - k) * sizeof(n->part[0]));
	n->npart -= k;
}

/*
 * Copy one held frame (header + data, len bytes) into part chains 0..k-1,
 * each filled in turn, num_buffers = k in the first; push them.
 */
static void front_net_rx_fill(struct front_net *n, const uint8_t *frame,
			      uint32_t len, unsigned k)
{
	const struct guest_mem *mem = n->front.vdev->mem;
	uint16_t heads[FRONT_NET_RX_PART];
	uint32_t lens[FRONT_NET_RX_PART];
	struct virtio_net_hdr hdr;
	uint8_t raw[VIRTIO_NET_HDR_LEN];
	uint32_t done = 0;

	memcpy(raw, frame, sizeof(raw));
	front_net_hdr_get(raw, &hdr);
	hdr.num_buffers = (uint16_t)k;
	front_net_hdr_put(&hdr, raw);
	for (unsigned i = 0; i < k; i++) {
		const struct virtq_chain *c = &n->part[i];
		uint32_t take = len - done, w = 0;

		if (take > c->writable_len)
			take = c->writable_len;
		if (i == 0) {
			/* The checked header, never the arena's bytes. */
			w = (uint32_t)virtq_chain_write(mem, c, 0, raw,
							sizeof(raw));
			w += (uint32_t)virtq_chain_write(
				mem, c, sizeof(raw), frame + sizeof(raw),
				take - sizeof(raw));
		} else {
			w = (uint32_t)virtq_chain_write(mem, c, 0,
							frame + done, take);
		}
		done += take;
		heads[i] = c->head;
		lens[i] = w;
	}
	/* A merged frame's buffers reach the driver together (5.1.6.4). */
	virtio_mmio_push_n(n->front.vdev, VIRTIO_NET_Q_RX, heads, lens, k);
	n->st.rx_frames++;
	n->st.rx_bytes += len - VIRTIO_NET_HDR_LEN;
	n->st.rx_buffers += k;
	front_net_trace(n, false, heads[0], len - VIRTIO_NET_HDR_LEN, NULL);
}

/*
 * Deliver the oldest held frame. Returns 1 (delivered or dropped: go on),
 * 0 (no guest chain: wait for the guest's notify).
 */
static int front_net_rx_one(struct front_net *n)
{
	struct front_net_held *h = &n->held[n->held_head];
	bool mrg = front_net_mrg(n);
	uint32_t room = 0;
	unsigned k = 0;
	int ret;

	for (;;) {
		if (k < n->npart) {
			room += n->part[k++].writable_len;
			if (room >= h->len || !mrg)
				break;
			continue;
		}
		if (n->npart == FRONT_NET_RX_PART) {
			k = 0; /* more chains than one frame may take */
			break;
		}
		ret = front_net_rx_pop(n);
		if (ret < 0)
			return 1; /* NEEDS_RESET: reset drops what is held */
		if (!ret)
			return 0;
	}
	if (k && room >= h->len)
		front_net_rx_fill(n,
				  (const uint8_t *)front_buffer(&n->front,
								h->off, h->cap) +
					  NET_RX_REC_LEN,
				  h->len, k);
	else
		front_net_rx_drop(n, FRONT_NET_RX_OVERSIZE,
				  "larger than the guest's receive buffers");
	/* Without MRG_RXBUF a chain too small for this frame stays for the
	 * next one; a filled chain was pushed. */
	front_net_rx_shift(n, room >= h->len ? k : 0);
	front_release(&n->front, h->off, h->cap);
	n->held_head = (n->held_head + 1) % FRONT_NET_RX_POSTED;
	n->held_n--;
	return 1;
}

void front_net_rx_deliver(struct front_net *n)
{
	bool pushed = false;

	while (n->held_n && virtio_mmio_running(n->front.vdev)) {
		uint64_t before = n->st.rx_frames;

		if (!front_net_rx_one(n))
			break;
		pushed |= n->st.rx_frames != before;
	}
	if (pushed)
		virtio_mmio_signal_used(n->front.vdev, VIRTIO_NET_Q_RX);
	front_net_rx_pump(n);
}

void front_net_rx_reset(struct front_net *n)
{
	while (n->held_n) {
		struct front_net_held *h = &n->held[n->held_head];

		front_release(&n->front, h->off, h->cap);
		n->held_head = (n->held_head + 1) % FRONT_NET_RX_POSTED;
		n->held_n--;
	}
	n->npart = 0;
	n->rx_on = false;
}
