/*
 * test_net_blast.c: frames as fast as they go, one way, for
 * net-blast.secs seconds. dir=tx sends frames of net-blast.size bytes
 * (Ethernet header included) to net-blast.dst (broadcast by default);
 * dir=rx counts the blast frames that arrive in the secs after the first
 * one. Frames carry EtherType NET_TEST_ETHERTYPE_BLAST and a sequence
 * number. Rates on the guest clock; mbps is Mbit/s.
 */
#include "boot/kernel.h"
#include "guest-drivers/abi/net_test.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/fmt.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/netutil.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/dma.h"

/* How long the device may take to give back the last frames. */
#define BLAST_DRAIN_US 10000000ull

static struct vnet blast_net;

struct blast {
	bool tx;
	uint64_t size, secs, timeout_ms;
	uint8_t dst[6];
	uint64_t frames, bytes, ns;
	uint64_t seq_first, seq_max, seq_back; /* rx: order of the seqs */
};

static int blast_send(struct vnet *n, struct blast *b)
{
	uint64_t t0 = rdtsc(), end = clock_deadline_us(b->secs * 1000000);
	uint8_t *f;
	int ret;

	while (!clock_expired(end)) {
		f = vnet_tx_buf(n);
		if (!f) {
			if ((ret = vnet_tx_reap(n)) ||
			    (ret = vnet_wait(
				     n, VNET_WAIT_TX,
				     end + nu_tsc_of_us(BLAST_DRAIN_US))))
				return ret;
			continue;
		}
		nu_eth_header(f, b->dst, n->mac, NET_TEST_ETHERTYPE_BLAST);
		nu_put_le64(f + NET_TEST_BLAST_SEQ_OFF, b->frames);
		if ((ret = vnet_tx_queue(n, (uint32_t)b->size)))
			return ret;
		b->frames++;
	}
	ret = vnet_tx_flush(n, clock_deadline_us(BLAST_DRAIN_US));
	b->ns = clock_ns(rdtsc() - t0);
	b->bytes = b->frames * b->size;
	return ret;
}

static void blast_count(struct blast *b, const uint8_t *f, int len)
{
	uint64_t seq = nu_le64(f + NET_TEST_BLAST_SEQ_OFF);

	if (!b->frames)
		b->seq_first = b->seq_max = seq;
	else if (seq > b->seq_max)
		b->seq_max = seq;
	else
		b->seq_back++; /* repeated or late */
	b->frames++;
	b->bytes += (uint64_t)len;
}

static int blast_recv(struct vnet *n, struct blast *b, uint8_t *frame)
{
	uint64_t t0 = 0, end = clock_deadline_us(b->timeout_ms * 1000);
	int len, ret;

	for (;;) {
		len = vnet_recv(n, frame, n->frame_max);
		if (len < 0)
			return len;
		if (len >= NET_TEST_BLAST_SEQ_OFF + 8 &&
		    nu_be16(frame + 12) == NET_TEST_ETHERTYPE_BLAST) {
			if (!b->frames) {
				t0 = rdtsc();
				end = clock_deadline_us(b->secs * 1000000);
			}
			blast_count(b, frame, len);
		}
		if (clock_expired(end))
			break;
		if (!len && (ret = vnet_wait(n, VNET_WAIT_RX, end)) &&
		    ret != -TG_ETIMEDOUT)
			return ret;
	}
	b->ns = t0 ? clock_ns(rdtsc() - t0) : 0;
	return b->frames ? 0 : -TG_ETIMEDOUT;
}

static int blast_parse(struct blast *b, uint32_t tx_max)
{
	const char *dir = cmdline_value(&cmdline, "net-blast.dir");
	const char *dst = cmdline_value(&cmdline, "net-blast.dst");
	int bad = 0;

	b->tx = !dir || !strcmp(dir, "tx");
	if (dir && !b->tx && strcmp(dir, "rx"))
		return -TG_EINVAL;
	b->size = tu_key_u64("net-blast.size", tx_max, &bad);
	b->secs = tu_key_u64("net-blast.secs", 5, &bad);
	b->timeout_ms = tu_key_u64("net-blast.timeout_ms", 30000, &bad);
	memset(b->dst, 0xff, 6);
	if (dst && nu_parse_mac(dst, b->dst))
		return -TG_EINVAL;
	if (bad || b->size < NET_TEST_FRAME_MIN || b->size > tx_max ||
	    !b->secs || b->secs > 3600 || !b->timeout_ms ||
	    b->timeout_ms > 3600000)
		return -TG_EINVAL;
	return 0;
}

static void blast_report(const char *name, const struct blast *b,
			 const struct vnet *n, int ret)
{
	uint64_t fps = b->ns ? b->frames * 1000000000ull / b->ns : 0;
	uint64_t mbit = tu_rate_tenths(b->bytes * 8, b->ns);
	char seqs[96] = "";

	if (!b->tx)
		fmt_snprintf(seqs, sizeof(seqs),
			     " seq_first=%lu seq_max=%lu seq_back=%lu",
			     b->seq_first, b->seq_max, b->seq_back);
	report_result(name, !ret,
		      "dir=%s size=%lu frames=%lu bytes=%lu fps=%lu "
		      "mbps=%lu.%lu%s err=%d%s kicks=%lu irq_waits=%lu "
		      "mode=%s mrg=%d",
		      b->tx ? "tx" : "rx", b->size, b->frames, b->bytes, fps,
		      mbit / 10, mbit % 10,
		      !ret		     ? ""
		      : ret == -TG_ETIMEDOUT ? " reason=timeout"
					     : " reason=io",
		      ret, seqs, n->tx.kicks + n->rx.kicks,
		      n->tx.irq_waits + n->rx.irq_waits, nu_mode(n), n->mrg);
}

void test_net_blast(const char *name)
{
	static struct blast b;
	struct vnet *n = &blast_net;
	uint64_t mark = dma_mark();
	uint8_t *frame;
	int ret;

	memset(&b, 0, sizeof(b));
	if (nu_open(n, name))
		goto out_release;
	if (blast_parse(&b, n->tx_max)) {
		report_result(name, false, "reason=bad-keys");
		goto out_close;
	}
	if (b.tx) {
		ret = blast_send(n, &b);
	} else {
		frame = dma_alloc(n->frame_max, 64);
		ret = frame ? blast_recv(n, &b, frame) : -TG_ENOSPC;
	}
	blast_report(name, &b, n, ret);
out_close:
	vnet_close(n);
out_release:
	dma_release(mark);
}
