/* net_tap.c: a tap fd: checked once, then one system call per frame. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devsrv/net/net_tap.h"

int net_tap_check(int fd, char *name)
{
	struct ifreq ifr;
	int hdr = 0, fl;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr))
		return -errno;
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	/* No packet-info prefix: every frame is the header, then Ethernet. */
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP ||
	    !(ifr.ifr_flags & IFF_NO_PI) || !(ifr.ifr_flags & IFF_VNET_HDR))
		return -EINVAL;
	if (ioctl(fd, TUNGETVNETHDRSZ, &hdr))
		return -errno;
	if (hdr != VIRTIO_NET_HDR_LEN)
		return -EINVAL;
	/* The loop must never wait in a read or write of the tap. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	return 0;
}

int net_tap_offload(int fd, unsigned tun_flags)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_flags))
		return -errno;
	return 0;
}

int net_tap_send(int fd, const struct virtio_net_hdr *hdr, const void *frame,
		 size_t len)
{
	struct iovec iov[2] = {
		{.iov_base = (void *)hdr, .iov_len = VIRTIO_NET_HDR_LEN},
		{.iov_base = (void *)frame, .iov_len = len},
	};
	ssize_t n;

	/* A tap takes a frame whole or not at all: no short writes. */
	do {
		n = writev(fd, iov, 2);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

ssize_t net_tap_recv(int fd, void *buf, size_t cap)
{
	ssize_t n;

	do {
		n = read(fd, buf, cap);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}
