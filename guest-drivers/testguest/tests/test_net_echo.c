/*
 * test_net_echo.c: an Ethernet reflector on the first net device: every
 * frame addressed to its MAC goes back with source and destination
 * swapped, otherwise unchanged, received straight into a transmit slot.
 * Ends at the stop frame (reflected too; the test passes) or after
 * net-echo.timeout_ms of silence (it fails).
 */
#include "boot/kernel.h"
#include "guest-drivers/abi/net_test.h"
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/netutil.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/dma.h"

static struct vnet echo_net;

struct echo_count {
	uint64_t frames, bytes, ignored;
};

static bool echo_is_stop(const uint8_t *f, uint32_t len)
{
	return len >= NET_TEST_ETH_HLEN + NET_TEST_STOP_LEN &&
	       nu_be16(f + 12) == NET_TEST_ETHERTYPE_ECHO &&
	       !memcmp(f + NET_TEST_ETH_HLEN, NET_TEST_STOP, NET_TEST_STOP_LEN);
}

static void echo_swap(uint8_t *f)
{
	uint8_t t[6];

	memcpy(t, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, t, 6);
}

/*
 * Reflects frames until the stop frame (1) or idle ticks of silence (0).
 * -TG_ETIMEDOUT means transmit slots stayed in flight that long.
 */
static int echo_loop(struct vnet *n, uint64_t idle, struct echo_count *c)
{
	uint64_t deadline = rdtsc() + idle;
	uint8_t *f;
	bool stop;
	int len, ret;

	for (;;) {
		f = vnet_tx_buf(n);
		if (!f) {
			if ((ret = vnet_tx_reap(n)) ||
			    (ret = vnet_wait(n, VNET_WAIT_TX, deadline)))
				return ret;
			continue;
		}
		len = vnet_recv(n, f, n->frame_max);
		if (len < 0)
			return len;
		if (!len) {
			ret = vnet_wait(n, VNET_WAIT_RX, deadline);
			if (ret)
				return ret == -TG_ETIMEDOUT ? 0 : ret;
			continue;
		}
		deadline = rdtsc() + idle;
		if (memcmp(f, n->mac, 6) || (uint32_t)len > n->tx_max) {
			/* Not ours, or tagged at full MTU: not sent back. The
			 * slot is reused for the next frame. */
			c->ignored++;
			continue;
		}
		stop = echo_is_stop(f, (uint32_t)len);
		echo_swap(f);
		if ((ret = vnet_tx_queue(n, (uint32_t)len)))
			return ret;
		if (stop)
			return 1;
		c->frames++;
		c->bytes += (uint64_t)len;
	}
}

void test_net_echo(const char *name)
{
	int bad = 0, ret;
	uint64_t ms = tu_key_u64("net-echo.timeout_ms", 20000, &bad);
	uint64_t mark = dma_mark();
	struct echo_count c = {0};
	struct vnet *n = &echo_net;
	const char *reason = "";

	if (bad || !ms || ms > 3600000) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	if (nu_open(n, name))
		goto out_release;
	ret = echo_loop(n, nu_tsc_of_us(ms * 1000), &c);
	if (ret == 1)
		ret = vnet_tx_flush(n, clock_deadline_us(ms * 1000));
	else if (!ret)
		reason = " reason=no-stop-frame";
	if (ret < 0)
		reason = ret == -TG_ETIMEDOUT ? " reason=tx-stuck"
					      : " reason=io";
	report_result(name, !*reason,
		      "frames=%lu bytes=%lu%s err=%d ignored=%lu merged=%lu "
		      "rx_dropped=%lu kicks=%lu mode=%s mrg=%d",
		      c.frames, c.bytes, reason, ret, c.ignored,
		      n->st.rx_merged, n->st.rx_dropped,
		      n->tx.kicks + n->rx.kicks, nu_mode(n), n->mrg);
	vnet_close(n);
out_release:
	dma_release(mark);
}
