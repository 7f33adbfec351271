/* tap_fixture.c: a tap and its host side in a private network namespace. */
#include "tap_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Best effort: a kernel without IPv6 has no such file, and nothing to
 * turn off. */
static void tap_fixture_sysctl(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, v, strlen(v)) < 0)
		perror(path);
	close(fd);
}

static int tap_fixture_netns(void)
{
	static bool done;

	if (done)
		return 0;
	if (unshare(CLONE_NEWNET))
		return -errno;
	/* No router solicitations, no MLD reports: the link carries only
	 * what a test sends. */
	tap_fixture_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	tap_fixture_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	done = true;
	return 0;
}

static int tap_fixture_tap(struct tap_fixture *t)
{
	struct ifreq ifr;
	int hdr = 12;

	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "srvDtap%d", (int)getpid());
	if (ioctl(t->fd, TUNSETIFF, &ifr) ||
	    ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) ||
	    ioctl(t->fd, TUNSETOFFLOAD, 0ul))
		return -errno;
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	return 0;
}

/* Up, with its MTU, through a socket's interface ioctls. */
static int tap_fixture_up(struct tap_fixture *t, unsigned mtu)
{
	struct ifreq ifr;
	int ret = 0;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
	if (mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(t->pkt, SIOCSIFMTU, &ifr))
			return -errno;
	}
	if (ioctl(t->pkt, SIOCGIFFLAGS, &ifr))
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(t->pkt, SIOCSIFFLAGS, &ifr) ||
	    ioctl(t->pkt, SIOCGIFINDEX, &ifr))
		ret = -errno;
	t->ifindex = ifr.ifr_ifindex;
	return ret;
}

int tap_fixture_open(struct tap_fixture *t, unsigned mtu)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};
	int ret;

	memset(t, 0, sizeof(*t));
	t->fd = t->pkt = -1;
	ret = tap_fixture_netns();
	if (!ret)
		ret = tap_fixture_tap(t);
	if (ret)
		return ret;
	t->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
			htons(TAP_FIXTURE_ETHERTYPE));
	if (t->pkt < 0)
		return -errno;
	ret = tap_fixture_up(t, mtu);
	if (ret)
		return ret;
	sll.sll_protocol = htons(TAP_FIXTURE_ETHERTYPE);
	sll.sll_ifindex = t->ifindex;
	if (bind(t->pkt, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	return 0;
}

void tap_fixture_close(struct tap_fixture *t)
{
	if (t->pkt >= 0)
		close(t->pkt);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = t->pkt = -1;
}

int tap_fixture_send(struct tap_fixture *t, const void *frame, size_t len)
{
	ssize_t n = send(t->pkt, frame, len, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

ssize_t tap_fixture_recv(struct tap_fixture *t, void *buf, size_t cap, int ms)
{
	struct pollfd p = {.fd = t->pkt, .events = POLLIN};
	int ret = poll(&p, 1, ms);
	ssize_t n;

	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	n = recv(t->pkt, buf, cap, MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

static int tap_fixture_ethtool(struct tap_fixture *t, uint32_t cmd, int *on)
{
	struct ethtool_value ev = {.cmd = cmd};
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(t->pkt, SIOCETHTOOL, &ifr))
		return -errno;
	*on = ev.data != 0;
	return 0;
}

int tap_fixture_offloads(struct tap_fixture *t, int *csum, int *tso)
{
	int ret = tap_fixture_ethtool(t, ETHTOOL_GTXCSUM, csum);

	return ret ? ret : tap_fixture_ethtool(t, ETHTOOL_GTSO, tso);
}
