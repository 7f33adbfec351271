/* net_cfg.c: parse --net, then open and set up each tap. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vcpu/config/net_cfg.h"
#include "vcpu/log.h"

static int net_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "xx:xx:xx:xx:xx:xx", exactly. */
static int net_parse_mac(const char *v, uint8_t mac[NET_MAC_LEN])
{
	static const uint8_t zero[NET_MAC_LEN];

	if (strlen(v) != 17)
		return -EINVAL;
	for (unsigned i = 0; i < NET_MAC_LEN; i++) {
		int hi = net_hex(v[3 * i]), lo = net_hex(v[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && v[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	/* A group address or all zeroes names no station. */
	if ((mac[0] & 1) || !memcmp(mac, zero, NET_MAC_LEN))
		return -EINVAL;
	return 0;
}

static int net_parse_mtu(const char *v, uint32_t *mtu)
{
	unsigned long n;
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < NET_MTU_MIN || n > NET_MTU_MAX)
		return -EINVAL;
	*mtu = (uint32_t)n;
	return 0;
}

/* Names the kernel takes: 1..15 bytes, no '/', ':' or white space. */
static int net_parse_ifname(const char *v, struct net_cfg *n, char *err,
			    size_t errlen)
{
	size_t len = strlen(v);

	if (len >= NET_IFNAMSIZ)
		return errf(err, errlen, -EINVAL,
			    "--net: tap=%s: an interface name has at most "
			    "%u characters",
			    v, NET_IFNAMSIZ - 1);
	if (!strcmp(v, ".") || !strcmp(v, "..") || strpbrk(v, "/: \t\n"))
		return errf(err, errlen, -EINVAL,
			    "--net: tap=%s is not a valid interface name", v);
	memcpy(n->ifname, v, len + 1);
	return 0;
}

static int net_parse_item(char *item, struct net_cfg *n, char *err,
			  size_t errlen)
{
	char *eq = strchr(item, '=');
	const char *v = eq ? eq + 1 : NULL;

	if (eq)
		*eq = '\0';
	if (!v || !*v)
		return errf(err, errlen, -EINVAL,
			    "--net: '%s' needs a value (or is unknown)", item);
	if (!strcmp(item, "tap"))
		return net_parse_ifname(v, n, err, errlen);
	if (!strcmp(item, "mac")) {
		if (net_parse_mac(v, n->mac))
			return errf(err, errlen, -EINVAL,
				    "--net: mac=%s is not a unicast MAC "
				    "address (six hex pairs, e.g. "
				    "52:54:00:12:34:56)",
				    v);
		n->has_mac = true;
		return 0;
	}
	if (!strcmp(item, "mtu")) {
		if (net_parse_mtu(v, &n->mtu))
			return errf(err, errlen, -EINVAL,
				    "--net: mtu=%s is not a number in %u..%u",
				    v, NET_MTU_MIN, NET_MTU_MAX);
		return 0;
	}
	return errf(err, errlen, -EINVAL, "--net: unknown key '%s'", item);
}

int net_cfg_parse(const char *spec, struct net_cfg *n, char *err,
		  size_t errlen)
{
	char buf[256], *item, *save = NULL;
	int ret;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->mtu = NET_MTU_DEFAULT;
	if (strlen(spec) >= sizeof(buf))
		return errf(err, errlen, -EINVAL, "--net: too long");
	strcpy(buf, spec);
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		ret = net_parse_item(item, n, err, errlen);
		if (ret)
			return ret;
	}
	if (!n->ifname[0])
		return errf(err, errlen, -EINVAL,
			    "--net: tap=IFNAME is required");
	return 0;
}

void net_default_mac(unsigned index, const char *ifname,
		     uint8_t mac[NET_MAC_LEN])
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	h = (h ^ index) * 0x100000001b3ull;
	for (const char *p = ifname; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	mac[0] = 0x52; /* locally administered (bit 1), unicast (bit 0) */
	for (unsigned i = 1; i < NET_MAC_LEN; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

void net_mac_str(const uint8_t mac[NET_MAC_LEN], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

int net_set_add(struct net_set *s, const char *spec, char *err, size_t errlen)
{
	struct net_cfg n;
	char mac[18];
	int ret;

	if (s->n >= NET_MAX)
		return errf(err, errlen, -E2BIG, "--net: at most %u devices",
			    NET_MAX);
	ret = net_cfg_parse(spec, &n, err, errlen);
	if (ret)
		return ret;
	if (!n.has_mac)
		net_default_mac(s->n, n.ifname, n.mac);
	for (unsigned i = 0; i < s->n; i++) {
		if (!strcmp(s->net[i].ifname, n.ifname))
			return errf(err, errlen, -EINVAL,
				    "--net: tap=%s given twice", n.ifname);
		if (!memcmp(s->net[i].mac, n.mac, NET_MAC_LEN)) {
			net_mac_str(n.mac, mac);
			return errf(err, errlen, -EINVAL,
				    "--net: two devices with mac=%s", mac);
		}
	}
	s->net[s->n++] = n;
	return 0;
}

/* Whether an interface of that name exists in this network namespace
 * (sysfs may show another one's). */
static bool net_if_exists(const char *ifname)
{
	return if_nametoindex(ifname) != 0;
}

/* Why TUNSETIFF refused the name: the interface decides. */
static int net_attach_error(const struct net_cfg *n, int e, char *err,
			    size_t errlen)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return errf(err, errlen, -EPERM,
			    "--net tap=%s: permission denied (creating a tap "
			    "needs CAP_NET_ADMIN; an existing one must "
			    "belong to this user or group)",
			    n->ifname);
	case EBUSY:
		return errf(err, errlen, -EBUSY,
			    "--net tap=%s: in use by another process",
			    n->ifname);
	case EINVAL:
		if (net_if_exists(n->ifname))
			return errf(err, errlen, -EINVAL,
				    "--net tap=%s: the interface exists and "
				    "is not a tap",
				    n->ifname);
		break;
	}
	return errf(err, errlen, -e, "--net tap=%s: cannot attach: %s",
		    n->ifname, strerror(e));
}

/* The tap's vnet header is the 12-byte virtio 1.x one; no offloads yet. */
static int net_tap_setup(struct net_cfg *n, char *err, size_t errlen)
{
	int hdr = NET_VNET_HDR_LEN;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(n->fd, TUNGETIFF, &ifr) ||
	    (ifr.ifr_flags & (IFF_TAP | IFF_TUN)) != IFF_TAP ||
	    !(ifr.ifr_flags & IFF_VNET_HDR))
		return errf(err, errlen, -EINVAL,
			    "--net tap=%s: the interface exists and is not "
			    "a tap with virtio headers",
			    n->ifname);
	if (ioctl(n->fd, TUNSETVNETHDRSZ, &hdr) ||
	    ioctl(n->fd, TUNSETOFFLOAD, 0UL))
		return errf(err, errlen, -errno,
			    "--net tap=%s: cannot set its virtio header: %s",
			    n->ifname, strerror(errno));
	return 0;
}

static int net_open_one(struct net_cfg *n, char *err, size_t errlen)
{
	struct ifreq ifr;
	int e;

	n->created = !net_if_exists(n->ifname);
	n->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (n->fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			return errf(err, errlen, -e,
				    "--net tap=%s: no /dev/net/tun (is the "
				    "tun module loaded?)",
				    n->ifname);
		if (e == EACCES || e == EPERM)
			return errf(err, errlen, -e,
				    "--net tap=%s: permission denied opening "
				    "/dev/net/tun",
				    n->ifname);
		return errf(err, errlen, -e,
			    "--net tap=%s: cannot open /dev/net/tun: %s",
			    n->ifname, strerror(e));
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, n->ifname, strlen(n->ifname));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(n->fd, TUNSETIFF, &ifr))
		return net_attach_error(n, errno, err, errlen);
	return net_tap_setup(n, err, errlen);
}

int net_set_open(struct net_set *s, char *err, size_t errlen)
{
	for (unsigned i = 0; i < s->n; i++) {
		int ret = net_open_one(&s->net[i], err, errlen);

		if (ret) {
			net_set_close(s);
			return ret;
		}
	}
	return 0;
}

void net_set_close(struct net_set *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (s->net[i].fd >= 0)
			close(s->net[i].fd);
		s->net[i].fd = -1;
	}
}
