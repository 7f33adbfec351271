/* tap_stats.c: a tap's tx counters over rtnetlink (RTM_GETLINK). */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vcpu/front/net/tap_stats.h"
#include "vcpu/log.h"

int tap_stats_open(struct tap_stats *t, const char *ifname, char *err,
		   size_t errlen)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	t->seq = 0;
	t->ifindex = (int)if_nametoindex(ifname);
	if (!t->ifindex)
		return errf(err, errlen, -ENODEV, "tap %s: no such interface",
			    ifname);
	t->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (t->fd < 0 || bind(t->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		tap_stats_close(t);
		return errf(err, errlen, -e, "tap %s: rtnetlink: %s", ifname,
			    strerror(e));
	}
	return 0;
}

/* The IFLA_STATS64 attribute of one RTM_NEWLINK message, or NULL. */
static const struct rtnl_link_stats64 *tap_stats_find(const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *a = IFLA_RTA(ifi);
	int left = (int)IFLA_PAYLOAD(h);

	for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
		if (a->rta_type == IFLA_STATS64 &&
		    RTA_PAYLOAD(a) >= sizeof(struct rtnl_link_stats64))
			return RTA_DATA(a);
	return NULL;
}

int tap_stats_read(struct tap_stats *t, uint64_t *frames, uint64_t *bytes)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req;
	/* One link's message: a few KiB of attributes. */
	static __thread union {
		struct nlmsghdr h;
		char b[16384];
	} ans;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	struct iovec iov = {&req, sizeof(req)};
	struct msghdr m = {.msg_name = &to,
			   .msg_namelen = sizeof(to),
			   .msg_iov = &iov,
			   .msg_iovlen = 1};
	struct rtnl_link_stats64 st;
	const struct rtnl_link_stats64 *s;
	ssize_t n;

	if (t->fd < 0)
		return -EBADF;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = ++t->seq;
	req.i.ifi_family = AF_UNSPEC;
	req.i.ifi_index = t->ifindex;
	if (sendmsg(t->fd, &m, MSG_NOSIGNAL) < 0)
		return -errno;
	/* The kernel answers within sendmsg: the reply is queued already
	 * (the socket never blocks). */
	for (int tries = 0; tries < 8; tries++) {
		iov = (struct iovec){ans.b, sizeof(ans.b)};
		m = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1};
		n = recvmsg(t->fd, &m, MSG_CMSG_CLOEXEC | MSG_TRUNC);
		if (n < 0)
			return -errno;
		if ((size_t)n > sizeof(ans.b) || !NLMSG_OK(&ans.h, (size_t)n))
			return -EMSGSIZE;
		if (ans.h.nlmsg_seq != t->seq)
			continue; /* a late answer to an earlier question */
		if (ans.h.nlmsg_type == NLMSG_ERROR)
			return -EIO;
		if (ans.h.nlmsg_type != RTM_NEWLINK)
			return -EPROTO;
		s = tap_stats_find(&ans.h);
		if (!s)
			return -ENODATA;
		memcpy(&st, s, sizeof(st));
		*frames = st.tx_packets;
		*bytes = st.tx_bytes;
		return 0;
	}
	return -ETIMEDOUT;
}

void tap_stats_close(struct tap_stats *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
