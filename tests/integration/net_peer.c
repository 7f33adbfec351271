/* net_peer.c: raw Ethernet frames on a tap for the guest's net tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/abi/net_test.h"
#include "tests/integration/net_peer.h"

#define NET_PEER_RCVBUF	   (8 << 20)
#define NET_PEER_BATCH	   64 /* frames per sendmmsg/recvmmsg */
#define NET_PEER_FRAME_MAX 65536
#define NET_PEER_STOP_WAIT 1000 /* ms for the stop frame's echo */
#define NET_PEER_SLICE_MS  100	/* poll slices of the timed loops */

static uint64_t np_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t np_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t np_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void np_put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (; n--; v >>= 8)
		*p++ = (uint8_t)v;
}

static void np_eth_header(uint8_t *f, const uint8_t dst[6],
			  const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
}

/* The interface's index, address and MTU. */
static int np_if_info(struct net_peer *p)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->ifname, sizeof(ifr.ifr_name));
	if (ioctl(p->fd, SIOCGIFINDEX, &ifr))
		return -errno;
	p->ifindex = ifr.ifr_ifindex;
	if (ioctl(p->fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(p->fd, SIOCGIFMTU, &ifr))
		return -errno;
	p->mtu = (unsigned)ifr.ifr_mtu;
	return 0;
}

int net_peer_open(struct net_peer *p, const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL)};
	int one = 1, size = NET_PEER_RCVBUF, ret;

	memset(p, 0, sizeof(*p));
	if (strlen(ifname) >= sizeof(p->ifname))
		return -EINVAL;
	strcpy(p->ifname, ifname);
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (p->fd < 0)
		return -errno;
	if ((ret = np_if_info(p)))
		goto err_close;
	/* Larger queues than the defaults: the guest sends in bursts. Root
	 * may pass rmem_max; others get what the limit allows. */
	if (setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/* Our own frames are filtered by packet type too, on older kernels. */
	setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		   sizeof(one));
	sll.sll_ifindex = p->ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		ret = -errno;
		goto err_close;
	}
	return 0;

err_close:
	close(p->fd);
	p->fd = -1;
	return ret;
}

void net_peer_close(struct net_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int net_peer_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6 ||
	    strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int net_peer_send(struct net_peer *p, const void *frame, size_t len)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
	int tries;

	/* A full device queue is brief: wait for room a few times. */
	for (tries = 0; tries < 100; tries++) {
		if (send(p->fd, frame, len, 0) == (ssize_t)len)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
		poll(&pfd, 1, 1);
	}
	return -ENOBUFS;
}

/* Waits until a frame can be read or timeout_ms pass: 1, 0 or -errno. */
static int np_poll_in(struct net_peer *p, int timeout_ms)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	int n = poll(&pfd, 1, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n > 0;
}

int net_peer_recv(struct net_peer *p, void *buf, size_t cap, int timeout_ms)
{
	uint64_t end = np_now_ns() + (uint64_t)timeout_ms * 1000000;
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t n;
	int ret;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(p->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n >= 0 && from.sll_pkttype != PACKET_OUTGOING)
			return (int)n;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n >= 0)
			continue;
		if (np_now_ns() >= end)
			return -ETIMEDOUT;
		ret = np_poll_in(p, (int)((end - np_now_ns()) / 1000000) + 1);
		if (ret < 0)
			return ret;
	}
}

size_t net_peer_echo_size(uint64_t seq, unsigned min, unsigned max)
{
	uint64_t x = (seq + 1) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	return min + (size_t)(x % (max - min + 1));
}

uint8_t net_peer_echo_byte(uint64_t seq, size_t i)
{
	return (uint8_t)(seq * 31 + i * 7 + (i >> 8) + (seq >> 8));
}

static size_t np_echo_frame(struct net_peer *p, const uint8_t dst[6],
			    uint64_t seq, const struct net_peer_echo_opts *o,
			    uint8_t *f)
{
	size_t len = net_peer_echo_size(seq, o->min_size, o->max_size), i;

	np_eth_header(f, dst, p->mac, NET_TEST_ETHERTYPE_ECHO);
	np_put_le(f + NET_TEST_ECHO_SEQ_OFF, seq, 4);
	np_put_le(f + NET_TEST_ECHO_LEN_OFF, len, 2);
	for (i = NET_TEST_ECHO_PAT_OFF; i < len; i++)
		f[i] = net_peer_echo_byte(seq, i);
	return len;
}

/*
 * Checks a reflected frame; 1 when it is the next one, 2 when it is an
 * intact copy of one already received (with o->allow_dups), 0 when not
 * ours.
 */
static int np_echo_check(struct net_peer *p, const uint8_t dst[6],
			 const struct net_peer_echo_opts *o, const uint8_t *f,
			 size_t len, struct net_peer_echo_result *r)
{
	uint64_t want = r->received, seq;
	size_t size, i;

	if (len < NET_TEST_ECHO_PAT_OFF ||
	    np_be16(f + 12) != NET_TEST_ETHERTYPE_ECHO ||
	    memcmp(f + 6, dst, 6) ||
	    !memcmp(f + NET_TEST_ETH_HLEN, NET_TEST_STOP, NET_TEST_STOP_LEN))
		return 0;
	seq = np_le(f + NET_TEST_ECHO_SEQ_OFF, 4);
	if (o->allow_dups && seq < (want & 0xffffffffu) && want < 0xffffffffu) {
		/* A frame sent twice (a transmit replayed after a restart):
		 * the copy must be as intact as the first. */
		want = seq;
		size = net_peer_echo_size(want, o->min_size, o->max_size);
		if (len != size)
			return 0;
		for (i = NET_TEST_ECHO_PAT_OFF; i < len; i++)
			if (f[i] != net_peer_echo_byte(want, i))
				return 0;
		return 2;
	}
	size = net_peer_echo_size(want, o->min_size, o->max_size);
	if (memcmp(f, p->mac, 6)) {
		snprintf(r->msg, sizeof(r->msg),
			 "seq %lu: not addressed back to the sender", seq);
		return -EPROTO;
	}
	if (seq != (want & 0xffffffffu) || len != size ||
	    np_le(f + NET_TEST_ECHO_LEN_OFF, 2) != size) {
		snprintf(r->msg, sizeof(r->msg),
			 "got seq %lu of %zu bytes where seq %lu of %zu bytes "
			 "was due",
			 seq, len, want, size);
		return -EPROTO;
	}
	for (i = NET_TEST_ECHO_PAT_OFF; i < len; i++) {
		if (f[i] != net_peer_echo_byte(want, i)) {
			snprintf(r->msg, sizeof(r->msg),
				 "seq %lu: byte %zu is 0x%02x, sent 0x%02x",
				 want, i, f[i], net_peer_echo_byte(want, i));
			return -EPROTO;
		}
	}
	return 1;
}

/* Takes every reflected frame already there; 0 or -errno. */
static int np_echo_drain(struct net_peer *p, const uint8_t dst[6],
			 const struct net_peer_echo_opts *o, uint8_t *f,
			 struct net_peer_echo_result *r)
{
	int n, ret;

	while (r->received < r->sent) {
		n = net_peer_recv(p, f, NET_PEER_FRAME_MAX, 0);
		if (n == -ETIMEDOUT)
			return 0;
		if (n < 0)
			return n;
		ret = np_echo_check(p, dst, o, f, (size_t)n, r);
		if (ret < 0)
			return ret;
		if (!ret) {
			r->ignored++;
			continue;
		}
		if (ret == 2) {
			r->dups++;
			continue;
		}
		r->received++;
		r->bytes += (uint64_t)n;
	}
	return 0;
}

/* Whether another numbered frame is due. */
static bool np_echo_more(const struct net_peer_echo_opts *o, uint64_t sent)
{
	return sent < o->count &&
	       !(o->until && __atomic_load_n(o->until, __ATOMIC_ACQUIRE));
}

static int np_echo_run(struct net_peer *p, const uint8_t dst[6],
		       const struct net_peer_echo_opts *o, uint8_t *f,
		       struct net_peer_echo_result *r)
{
	uint64_t t0 = np_now_ns(), last = t0;
	size_t len;
	int ret;

	while (r->received < r->sent || np_echo_more(o, r->sent)) {
		while (np_echo_more(o, r->sent) &&
		       r->sent - r->received < o->window) {
			len = np_echo_frame(p, dst, r->sent, o, f);
			if ((ret = net_peer_send(p, f, len)))
				return ret;
			r->sent++;
		}
		if ((ret = np_echo_drain(p, dst, o, f, r)))
			return ret;
		if (r->received == r->sent && !np_echo_more(o, r->sent))
			break;
		if (r->received != last) {
			last = r->received;
			t0 = np_now_ns();
		} else if (np_now_ns() - t0 > o->timeout_ms * 1000000ull) {
			snprintf(r->msg, sizeof(r->msg),
				 "seq %lu did not come back within %u ms",
				 r->received, o->timeout_ms);
			return -ETIMEDOUT;
		}
		if ((ret = np_poll_in(p, NET_PEER_SLICE_MS)) < 0)
			return ret;
	}
	return 0;
}

int net_peer_send_stop(struct net_peer *p, const uint8_t dst[6])
{
	uint8_t f[NET_TEST_FRAME_MIN] = {0};

	np_eth_header(f, dst, p->mac, NET_TEST_ETHERTYPE_ECHO);
	memcpy(f + NET_TEST_ETH_HLEN, NET_TEST_STOP, NET_TEST_STOP_LEN);
	return net_peer_send(p, f, sizeof(f));
}

int net_peer_echo(struct net_peer *p, const uint8_t dst[6],
		  const struct net_peer_echo_opts *opts,
		  struct net_peer_echo_result *r)
{
	static uint8_t f[NET_PEER_FRAME_MAX];
	struct net_peer_echo_opts o = *opts;
	uint64_t t0;
	int ret, stop;

	memset(r, 0, sizeof(*r));
	o.window = o.window ? o.window : 64;
	o.min_size = o.min_size ? o.min_size : NET_TEST_FRAME_MIN;
	o.max_size = o.max_size ? o.max_size : p->mtu + NET_TEST_ETH_HLEN;
	o.timeout_ms = o.timeout_ms ? o.timeout_ms : 2000;
	if (o.min_size < NET_TEST_FRAME_MIN || o.max_size < o.min_size ||
	    o.max_size > NET_PEER_FRAME_MAX)
		return -EINVAL;
	t0 = np_now_ns();
	ret = np_echo_run(p, dst, &o, f, r);
	r->ns = np_now_ns() - t0;
	stop = net_peer_send_stop(p, dst);
	r->stop_sent = !stop;
	r->stop_echoed =
		!stop &&
		!net_peer_wait(p, NET_TEST_ETHERTYPE_ECHO, NET_TEST_STOP,
			       NET_TEST_STOP_LEN, NET_PEER_STOP_WAIT);
	return ret ? ret : stop;
}

int net_peer_wait(struct net_peer *p, uint16_t type, const void *payload,
		  size_t len, int timeout_ms)
{
	uint64_t end = np_now_ns() + (uint64_t)timeout_ms * 1000000;
	uint8_t f[2048];
	int n;

	if (len > sizeof(f) - NET_TEST_ETH_HLEN)
		return -EINVAL;
	for (;;) {
		uint64_t now = np_now_ns();

		if (now >= end)
			return -ETIMEDOUT;
		n = net_peer_recv(p, f, sizeof(f),
				  (int)((end - now) / 1000000) + 1);
		if (n == -ETIMEDOUT)
			return n;
		if (n < 0)
			return n;
		if ((size_t)n >= NET_TEST_ETH_HLEN + len &&
		    np_be16(f + 12) == type &&
		    !memcmp(f + NET_TEST_ETH_HLEN, payload, len))
			return 0;
	}
}

int net_peer_blast(struct net_peer *p, const uint8_t dst[6], unsigned size,
		   unsigned secs, struct net_peer_blast_result *r)
{
	struct mmsghdr m[NET_PEER_BATCH];
	struct iovec iov[NET_PEER_BATCH];
	uint64_t t0 = np_now_ns(), end = t0 + secs * 1000000000ull;
	uint8_t *frames;
	int i, n, ret = 0;

	memset(r, 0, sizeof(*r));
	if (size < NET_TEST_FRAME_MIN || size > p->mtu + NET_TEST_ETH_HLEN)
		return -EINVAL;
	if (!(frames = calloc(NET_PEER_BATCH, size)))
		return -ENOMEM;
	memset(m, 0, sizeof(m));
	for (i = 0; i < NET_PEER_BATCH; i++) {
		iov[i].iov_base = frames + (size_t)i * size;
		iov[i].iov_len = size;
		np_eth_header(iov[i].iov_base, dst, p->mac,
			      NET_TEST_ETHERTYPE_BLAST);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!ret && np_now_ns() < end) {
		for (i = 0; i < NET_PEER_BATCH; i++)
			np_put_le((uint8_t *)iov[i].iov_base +
					  NET_TEST_BLAST_SEQ_OFF,
				  r->frames + (uint64_t)i, 8);
		n = sendmmsg(p->fd, m, NET_PEER_BATCH, 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN &&
		    errno != EINTR)
			ret = -errno;
		if (n < NET_PEER_BATCH)
			r->refused++; /* the rest of the batch is tried anew */
		if (n > 0) {
			r->frames += (uint64_t)n;
			r->bytes += (uint64_t)n * size;
		}
	}
	r->ns = np_now_ns() - t0;
	free(frames);
	return ret;
}

/* PACKET_STATISTICS: reading them also resets them. */
static uint64_t np_sock_drops(struct net_peer *p)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return 0;
	return st.tp_drops;
}

static void np_count_frame(struct net_peer_count_result *r, const uint8_t *f,
			   size_t len)
{
	uint64_t seq = np_le(f + NET_TEST_BLAST_SEQ_OFF, 8);

	if (!r->frames)
		r->seq_first = r->seq_max = seq;
	else if (seq > r->seq_max)
		r->seq_max = seq;
	else
		r->seq_back++;
	r->frames++;
	r->bytes += len;
}

/* Counts the blast frames queued now; returns how many, or -errno. */
static int np_count_batch(struct net_peer *p, struct net_peer_count_result *r)
{
	static uint8_t heads[NET_PEER_BATCH][64];
	struct sockaddr_ll from[NET_PEER_BATCH];
	struct iovec iov[NET_PEER_BATCH];
	struct mmsghdr m[NET_PEER_BATCH];
	int i, n, seen = 0;

	memset(m, 0, sizeof(m));
	for (i = 0; i < NET_PEER_BATCH; i++) {
		iov[i] = (struct iovec){heads[i], sizeof(heads[i])};
		m[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
					       .msg_namelen = sizeof(from[i]),
					       .msg_iov = &iov[i],
					       .msg_iovlen = 1};
	}
	/* Only the headers are copied; MSG_TRUNC gives the full length. */
	n = recvmmsg(p->fd, m, NET_PEER_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		if (from[i].sll_pkttype == PACKET_OUTGOING ||
		    m[i].msg_len < NET_TEST_BLAST_SEQ_OFF + 8 ||
		    np_be16(heads[i] + 12) != NET_TEST_ETHERTYPE_BLAST)
			continue;
		np_count_frame(r, heads[i], m[i].msg_len);
		seen++;
	}
	return seen;
}

int net_peer_count(struct net_peer *p, unsigned secs, unsigned first_ms,
		   unsigned idle_ms, struct net_peer_count_result *r)
{
	uint64_t now = np_now_ns(), t0 = 0, end = now + first_ms * 1000000ull;
	uint64_t last = now, rx0 = 0, rx1 = 0;
	int n, ret;

	memset(r, 0, sizeof(*r));
	np_sock_drops(p);
	net_peer_if_counter(p->ifname, "rx_packets", &rx0);
	for (;;) {
		if ((n = np_count_batch(p, r)) < 0)
			return n;
		now = np_now_ns();
		if (n && !t0) {
			t0 = last = now;
			end = now + secs * 1000000000ull;
		}
		if (n)
			last = now;
		if (now >= end || (t0 && now - last >= idle_ms * 1000000ull))
			break;
		if (!n && (ret = np_poll_in(p, NET_PEER_SLICE_MS)) < 0)
			return ret;
	}
	r->ns = t0 ? last - t0 : 0;
	r->sock_drops = np_sock_drops(p);
	if (!net_peer_if_counter(p->ifname, "rx_packets", &rx1))
		r->if_rx_packets = rx1 - rx0;
	return r->frames ? 0 : -ETIMEDOUT;
}

/* The columns of /proc/net/dev after "IF:", by name. */
static int np_counter_column(const char *counter)
{
	static const char *const names[] = {
		"rx_bytes", "rx_packets", "rx_errors",	   "rx_dropped",
		"rx_fifo",  "rx_frame",	  "rx_compressed", "rx_multicast",
		"tx_bytes", "tx_packets", "tx_errors",	   "tx_dropped",
	};
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], counter))
			return (int)i;
	return -1;
}

int net_peer_if_counter(const char *ifname, const char *counter, uint64_t *v)
{
	int col = np_counter_column(counter), i, ret = -ENODEV;
	char line[512], *s, *tok, *save;
	size_t n = strlen(ifname);
	FILE *f;

	if (col < 0)
		return -EINVAL;
	if (!(f = fopen("/proc/net/dev", "re")))
		return -errno;
	while (ret == -ENODEV && fgets(line, sizeof(line), f)) {
		for (s = line; *s == ' '; s++)
			;
		if (strncmp(s, ifname, n) || s[n] != ':')
			continue;
		tok = strtok_r(s + n + 1, " \n", &save);
		for (i = 0; tok && i < col; i++)
			tok = strtok_r(NULL, " \n", &save);
		ret = tok && sscanf(tok, "%lu", v) == 1 ? 0 : -EINVAL;
	}
	fclose(f);
	return ret;
}
