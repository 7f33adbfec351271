/*
 * test_net_evil.c: sends, one at a time, transmit chains a device must
 * drop (and count) without breaking: a frame longer than MTU + 14 with no
 * GSO, a header with an unknown gso_type, NEEDS_CSUM with the checksum
 * beyond the frame, a chain shorter than the header, a header and no
 * frame; then a good frame with the payload NET_TEST_EVIL_DONE for the
 * host to see. Passes when every chain came back used. Whether the device
 * dropped the bad ones is for the host to check (isovm's counters).
 * net-evil.cases=a,b,... sends only the named bad chains (QEMU fails the
 * device on "short", as the spec allows).
 */
#include "boot/kernel.h"
#include "guest-drivers/abi/net_test.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/netutil.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/dma.h"

#define EVIL_OVER 100 /* bytes past MTU + 14 of the oversize frame */

static struct vnet evil_net;

static const uint8_t evil_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

enum evil_case { EVIL_OVERSIZE, EVIL_GSO, EVIL_CSUM, EVIL_SHORT, EVIL_EMPTY };

static const char *const evil_names[] = {
	[EVIL_OVERSIZE] = "oversize", [EVIL_GSO] = "gso",
	[EVIL_CSUM] = "csum",	      [EVIL_SHORT] = "short",
	[EVIL_EMPTY] = "empty",
};
#define EVIL_CASES (sizeof(evil_names) / sizeof(evil_names[0]))

/* True when name is one of the comma-separated words of list. */
static bool evil_listed(const char *list, const char *name)
{
	size_t len = strlen(name);

	while (*list) {
		if (!strncmp(list, name, len) &&
		    (list[len] == ',' || !list[len]))
			return true;
		list = strchr(list, ',');
		if (!list)
			break;
		list++;
	}
	return false;
}

/* Header and frame of case c in buf; returns the chain's length. */
static uint32_t evil_build(const struct vnet *n, enum evil_case c, uint8_t *buf)
{
	struct vnet_hdr *h = (struct vnet_hdr *)buf;
	uint8_t *f = buf + VNET_HDR_LEN;
	uint32_t flen = NET_TEST_FRAME_MIN;

	memset(buf, 0, VNET_HDR_LEN + NET_TEST_FRAME_MIN);
	nu_eth_header(f, evil_bcast, n->mac, NET_TEST_ETHERTYPE_ECHO);
	memcpy(f + NET_TEST_ETH_HLEN, "net-evil-", 9);
	memcpy(f + NET_TEST_ETH_HLEN + 9, evil_names[c], strlen(evil_names[c]));
	switch (c) {
	case EVIL_OVERSIZE:
		flen = (uint32_t)n->mtu + NET_TEST_ETH_HLEN + EVIL_OVER;
		break;
	case EVIL_GSO:
		h->gso_type = 0x42; /* no such type */
		h->gso_size = 100;
		break;
	case EVIL_CSUM:
		h->flags = VNET_HDR_F_NEEDS_CSUM;
		h->csum_start = NET_TEST_FRAME_MIN - 4;
		h->csum_offset = 16; /* the field would end 14 bytes past */
		break;
	case EVIL_SHORT:
		return VNET_HDR_LEN - 4;
	case EVIL_EMPTY:
		return VNET_HDR_LEN;
	}
	return VNET_HDR_LEN + flen;
}

/* Sends one chain and waits until the device gave it back. */
static int evil_send(struct vnet *n, uint8_t *buf, uint32_t len,
		     uint64_t deadline)
{
	struct virtq_buf b = {.addr = dma_pa(buf), .len = len};
	int ret = vnet_tx_raw(n, &b, 1);

	return ret < 0 ? ret : vnet_tx_flush(n, deadline);
}

static int evil_done(struct vnet *n, uint64_t deadline)
{
	uint8_t f[NET_TEST_FRAME_MIN] = {0};
	int ret;

	nu_eth_header(f, evil_bcast, n->mac, NET_TEST_ETHERTYPE_ECHO);
	memcpy(f + NET_TEST_ETH_HLEN, NET_TEST_EVIL_DONE,
	       NET_TEST_EVIL_DONE_LEN);
	if ((ret = vnet_send(n, f, sizeof(f))))
		return ret;
	return vnet_tx_flush(n, deadline);
}

void test_net_evil(const char *name)
{
	const char *cases = cmdline_value(&cmdline, "net-evil.cases");
	struct vnet *n = &evil_net;
	uint64_t mark = dma_mark(), ms, wait_ms, deadline;
	unsigned c, sent = 0;
	const char *failed = NULL;
	int bad = 0, ret = 0;
	uint8_t *buf;

	ms = tu_key_u64("net-evil.timeout_ms", 10000, &bad);
	/* Time for a host to start watching (a trace) before the frames. */
	wait_ms = tu_key_u64("net-evil.wait_ms", 0, &bad);
	if (bad || !ms || ms > 600000 || wait_ms > 60000) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	if (nu_open(n, name))
		goto out_release;
	deadline = clock_deadline_us(wait_ms * 1000);
	while (!clock_expired(deadline))
		cpu_relax();
	deadline = clock_deadline_us(ms * 1000);
	buf = dma_alloc(VNET_HDR_LEN + n->mtu + NET_TEST_ETH_HLEN + EVIL_OVER,
			64);
	if (!buf) {
		failed = "no-memory";
		ret = -TG_ENOSPC;
	}
	for (c = 0; !failed && c < EVIL_CASES; c++) {
		if (cases && !evil_listed(cases, evil_names[c]))
			continue;
		if ((ret = evil_send(n, buf, evil_build(n, c, buf), deadline)))
			failed = evil_names[c];
		else
			sent++;
	}
	if (!failed && (ret = evil_done(n, deadline)))
		failed = "done";
	report_result(name, !failed,
		      "sent_bad=%u%s%s%s%s err=%d tx_done=%lu mode=%s", sent,
		      failed ? " reason=" : "",
		      !failed		     ? ""
		      : ret == -TG_ETIMEDOUT ? "timeout"
					     : "io",
		      failed ? " case=" : "", failed ? failed : "", ret,
		      n->st.tx_done, nu_mode(n));
	vnet_close(n);
out_release:
	dma_release(mark);
}
