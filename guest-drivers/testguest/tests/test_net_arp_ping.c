/*
 * test_net_arp_ping.c: just enough IPv4 to ping a host: ARP for the
 * peer's MAC, then net-arp-ping.count ICMP echo requests paced by
 * .interval_ms, replies matched by id and sequence (and their payload
 * checked); ARP requests for our address and echo requests to it are
 * answered all along. Passes when every request got its reply.
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/netutil.h"
#include "tests/testutil.h"
#include "tests/tests.h"
#include "virtio/dma.h"

#define PING_ID	       0x7467 /* "tg" */
#define PING_DATA      56     /* TSC at send, then a pattern */
#define PING_ARP_RETRY 200000 /* us between ARP requests */
#define PING_COUNT_MAX 65535  /* sequence numbers are 16 bits */

#define ARP_LEN	   28
#define IP_HLEN	   20
#define ICMP_HLEN  8
#define ICMP_REPLY 0
#define ICMP_ECHO  8

struct ping {
	struct vnet *n;
	uint8_t *frame; /* receive copy, frame_max bytes (dma) */
	uint8_t ip[4], peer_ip[4], peer_mac[6];
	bool resolved;
	uint64_t count, sent, received, answered, arp_answered, bad;
	uint64_t rtt_ns_sum, rtt_ns_max;
	uint8_t seen[(PING_COUNT_MAX + 8) / 8];
};

static struct vnet ping_net;
static struct ping ping;

static const uint8_t ping_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* A 28-byte ARP packet for IPv4 over Ethernet, padded to 60 bytes. */
static int ping_send_arp(struct ping *p, uint16_t op, const uint8_t *to_mac,
			 const uint8_t *tha, const uint8_t *tpa)
{
	uint8_t *f = vnet_tx_buf(p->n), *a;

	if (!f)
		return -TG_ENOSPC;
	nu_eth_header(f, to_mac, p->n->mac, NU_ETHERTYPE_ARP);
	a = f + VNET_ETH_HLEN;
	memset(a, 0, 60 - VNET_ETH_HLEN);
	nu_put_be16(a, 1); /* Ethernet */
	nu_put_be16(a + 2, NU_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	nu_put_be16(a + 6, op);
	memcpy(a + 8, p->n->mac, 6);
	memcpy(a + 14, p->ip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return vnet_tx_queue(p->n, 60);
}

static void ping_pattern(uint8_t *d, uint16_t seq)
{
	unsigned k;

	for (k = 8; k < PING_DATA; k++)
		d[k] = (uint8_t)(seq + k);
}

/* IPv4 + ICMP headers (checksums included) around an ICMP body of len. */
static void ping_ip(uint8_t *ip, const uint8_t *src, const uint8_t *dst,
		    uint32_t icmp_len)
{
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	nu_put_be16(ip + 2, (uint16_t)(IP_HLEN + icmp_len));
	nu_put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 1; /* ICMP */
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	nu_put_be16(ip + 10, nu_csum(ip, IP_HLEN));
	nu_put_be16(ip + IP_HLEN + 2, 0);
	nu_put_be16(ip + IP_HLEN + 2, nu_csum(ip + IP_HLEN, icmp_len));
}

static int ping_send_echo(struct ping *p, uint16_t seq)
{
	uint8_t *f = vnet_tx_buf(p->n), *icmp;

	if (!f)
		return -TG_ENOSPC;
	nu_eth_header(f, p->peer_mac, p->n->mac, NU_ETHERTYPE_IPV4);
	icmp = f + VNET_ETH_HLEN + IP_HLEN;
	icmp[0] = ICMP_ECHO;
	icmp[1] = 0;
	nu_put_be16(icmp + 4, PING_ID);
	nu_put_be16(icmp + 6, seq);
	nu_put_le64(icmp + ICMP_HLEN, rdtsc());
	ping_pattern(icmp + ICMP_HLEN, seq);
	ping_ip(f + VNET_ETH_HLEN, p->ip, p->peer_ip, ICMP_HLEN + PING_DATA);
	return vnet_tx_queue(p->n,
			     VNET_ETH_HLEN + IP_HLEN + ICMP_HLEN + PING_DATA);
}

static int ping_rx_arp(struct ping *p, const uint8_t *a, uint32_t len)
{
	if (len < ARP_LEN || nu_be16(a) != 1 ||
	    nu_be16(a + 2) != NU_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4)
		return 0;
	if (!memcmp(a + 14, p->peer_ip, 4) && !memcmp(a + 24, p->ip, 4)) {
		memcpy(p->peer_mac, a + 8, 6); /* request or reply: learn */
		p->resolved = true;
	}
	if (nu_be16(a + 6) != 1 || memcmp(a + 24, p->ip, 4))
		return 0;
	p->arp_answered++;
	return ping_send_arp(p, 2, a + 8, a + 8, a + 14);
}

/* Our own echo request's reply: matched by id and sequence. */
static void ping_rx_reply(struct ping *p, const uint8_t *icmp, uint32_t len)
{
	uint16_t seq = nu_be16(icmp + 6);
	uint8_t want[PING_DATA];
	uint64_t ns;

	if (nu_be16(icmp + 4) != PING_ID || !seq || seq > p->sent ||
	    len != ICMP_HLEN + PING_DATA ||
	    (p->seen[seq / 8] & (1u << (seq % 8)))) {
		p->bad++;
		return;
	}
	ping_pattern(want, seq);
	if (memcmp(icmp + ICMP_HLEN + 8, want + 8, PING_DATA - 8)) {
		p->bad++;
		return;
	}
	p->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	p->received++;
	ns = clock_ns(rdtsc() - nu_le64(icmp + ICMP_HLEN));
	p->rtt_ns_sum += ns;
	if (ns > p->rtt_ns_max)
		p->rtt_ns_max = ns;
}

/* Somebody pings us: the same message back as a reply. */
static int ping_answer(struct ping *p, const uint8_t *f, const uint8_t *ip,
		       const uint8_t *icmp, uint32_t icmp_len)
{
	uint8_t *o;

	if (VNET_ETH_HLEN + IP_HLEN + icmp_len > p->n->tx_max)
		return 0;
	if (!(o = vnet_tx_buf(p->n)))
		return -TG_ENOSPC;
	nu_eth_header(o, f + 6, p->n->mac, NU_ETHERTYPE_IPV4);
	memcpy(o + VNET_ETH_HLEN + IP_HLEN, icmp, icmp_len);
	o[VNET_ETH_HLEN + IP_HLEN] = ICMP_REPLY;
	ping_ip(o + VNET_ETH_HLEN, p->ip, ip + 12, icmp_len);
	p->answered++;
	return vnet_tx_queue(p->n, VNET_ETH_HLEN + IP_HLEN + icmp_len);
}

static int ping_rx_ip(struct ping *p, const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + VNET_ETH_HLEN, *icmp;
	uint32_t ihl, total;

	len -= VNET_ETH_HLEN;
	if (len < IP_HLEN || ip[0] >> 4 != 4)
		return 0;
	ihl = (ip[0] & 15) * 4u;
	total = nu_be16(ip + 2);
	if (ihl < IP_HLEN || total < ihl + ICMP_HLEN || total > len ||
	    (nu_be16(ip + 6) & 0x3fff) || ip[9] != 1 ||
	    memcmp(ip + 16, p->ip, 4))
		return 0; /* not an unfragmented ICMP message to us */
	icmp = ip + ihl;
	if (nu_csum(ip, ihl) || nu_csum(icmp, total - ihl)) {
		p->bad++;
		return 0;
	}
	if (icmp[0] == ICMP_REPLY && !icmp[1] &&
	    !memcmp(ip + 12, p->peer_ip, 4))
		ping_rx_reply(p, icmp, total - ihl);
	else if (icmp[0] == ICMP_ECHO && !icmp[1])
		return ping_answer(p, f, ip, icmp, total - ihl);
	return 0;
}

/* Handles every frame that has arrived. 0 or -errno. */
static int ping_drain(struct ping *p)
{
	int len, ret = 0;

	while (!ret && (len = vnet_recv(p->n, p->frame, p->n->frame_max)) > 0) {
		uint16_t type = nu_be16(p->frame + 12);

		if (type == NU_ETHERTYPE_ARP)
			ret = ping_rx_arp(p, p->frame + VNET_ETH_HLEN,
					  (uint32_t)len - VNET_ETH_HLEN);
		else if (type == NU_ETHERTYPE_IPV4)
			ret = ping_rx_ip(p, p->frame, (uint32_t)len);
		if (ret == -TG_ENOSPC)
			ret = 0; /* no slot for an answer: the asker retries */
	}
	return ret ? ret : len < 0 ? len : 0;
}

/* Waits for frames until deadline; a timeout is not an error. */
static int ping_idle(struct ping *p, uint64_t deadline)
{
	int ret = vnet_wait(p->n, VNET_WAIT_RX, deadline);

	return ret == -TG_ETIMEDOUT ? 0 : ret;
}

static int ping_resolve(struct ping *p, uint64_t deadline)
{
	static const uint8_t zero[6];
	uint64_t next = rdtsc();
	int ret;

	while (!p->resolved) {
		if (clock_expired(deadline))
			return -TG_ETIMEDOUT;
		if (clock_expired(next)) {
			ret = ping_send_arp(p, 1, ping_bcast, zero, p->peer_ip);
			if (ret && ret != -TG_ENOSPC)
				return ret;
			next = clock_deadline_us(PING_ARP_RETRY);
		}
		if ((ret = ping_drain(p)) ||
		    (ret = ping_idle(p, next < deadline ? next : deadline)))
			return ret;
	}
	return 0;
}

/* Sends count requests interval apart; waits timeout past the last. */
static int ping_run(struct ping *p, uint64_t interval, uint64_t timeout)
{
	uint64_t next = rdtsc(), end = 0;
	int ret;

	while (p->received < p->count) {
		if (p->sent < p->count && clock_expired(next)) {
			ret = ping_send_echo(p, (uint16_t)(p->sent + 1));
			if (ret && ret != -TG_ENOSPC)
				return ret;
			if (!ret && ++p->sent == p->count)
				end = rdtsc() + timeout;
			next += interval;
		}
		if ((ret = ping_drain(p)))
			return ret;
		if (end && clock_expired(end))
			break;
		if ((ret = ping_idle(p, end ? end : next)))
			return ret;
	}
	return 0;
}

static int ping_parse(struct ping *p, uint64_t *interval_ms,
		      uint64_t *timeout_ms)
{
	const char *ip = cmdline_value(&cmdline, "net-arp-ping.ip");
	const char *peer = cmdline_value(&cmdline, "net-arp-ping.peer");
	int bad = 0;

	p->count = tu_key_u64("net-arp-ping.count", 10, &bad);
	*interval_ms = tu_key_u64("net-arp-ping.interval_ms", 10, &bad);
	*timeout_ms = tu_key_u64("net-arp-ping.timeout_ms", 5000, &bad);
	if (bad || !ip || !peer || nu_parse_ipv4(ip, p->ip) ||
	    nu_parse_ipv4(peer, p->peer_ip) || !p->count ||
	    p->count > PING_COUNT_MAX || *interval_ms > 60000 || !*timeout_ms ||
	    *timeout_ms > 600000)
		return -TG_EINVAL;
	return 0;
}

static void ping_report(const char *name, struct ping *p, const char *why,
			int err)
{
	char mac[NU_MAC_STR];
	uint64_t avg = p->received ? p->rtt_ns_sum / p->received / 1000 : 0;

	nu_mac_str(p->peer_mac, mac);
	report_result(name, !why && p->received == p->count,
		      "sent=%lu received=%lu loss=%lu%s%s err=%d answered=%lu "
		      "arp_answered=%lu bad=%lu peer_mac=%s rtt_us_avg=%lu "
		      "rtt_us_max=%lu mode=%s mrg=%d",
		      p->sent, p->received, p->count - p->received,
		      why ? " reason=" : "", why ? why : "", err, p->answered,
		      p->arp_answered, p->bad, mac, avg, p->rtt_ns_max / 1000,
		      nu_mode(p->n), p->n->mrg);
}

void test_net_arp_ping(const char *name)
{
	struct ping *p = &ping;
	uint64_t mark = dma_mark(), interval_ms, timeout_ms;
	const char *why = NULL;
	int ret;

	memset(p, 0, sizeof(*p));
	p->n = &ping_net;
	if (ping_parse(p, &interval_ms, &timeout_ms)) {
		report_result(name, false, "reason=bad-keys");
		return;
	}
	if (nu_open(p->n, name))
		goto out_release;
	p->frame = dma_alloc(p->n->frame_max, 64);
	ret = p->frame ? 0 : -TG_ENOSPC;
	if (!ret)
		ret = ping_resolve(p, clock_deadline_us(timeout_ms * 1000));
	if (ret)
		why = ret == -TG_ETIMEDOUT ? "no-arp-reply" : "io";
	else if ((ret = ping_run(p, nu_tsc_of_us(interval_ms * 1000),
				 nu_tsc_of_us(timeout_ms * 1000))))
		why = "io";
	else if ((ret = vnet_tx_flush(p->n, clock_deadline_us(1000000))))
		why = "tx-stuck";
	ping_report(name, p, why, ret);
	vnet_close(p->n);
out_release:
	dma_release(mark);
}
