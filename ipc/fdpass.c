/* fdpass.c: sendmsg/recvmsg of one datagram with SCM_RIGHTS fds. */
#include "ipc/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* cmsg space for the hard ceiling, so a greedy peer shows up as an excess. */
union fdpass_cmsg {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX_FDS)];
};

void fdpass_close(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int fdpass_send(int sock, const void *buf, size_t len, const int *fds,
		unsigned nfds)
{
	union fdpass_cmsg cm;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > FDPASS_MAX_FDS || (nfds && !fds))
		return -EINVAL;
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i] < 0)
			return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* SEQPACKET sends all or nothing; anything else is a kernel surprise. */
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

/*
 * Move every fd of every SCM_RIGHTS header into fds[]; those beyond max are
 * closed at once. Returns how many arrived in total, or -EBADMSG for any
 * other kind of control data (its fds, if any, are closed too).
 */
static int fdpass_collect(struct msghdr *mh, int *fds, unsigned max,
			  unsigned *kept)
{
	struct cmsghdr *c;
	int total = 0, bad = 0;

	*kept = 0;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			/* CMSG_DATA may be unaligned for int: copy it out. */
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (*kept < max)
				fds[(*kept)++] = fd;
			else
				close(fd);
			total++;
		}
	}
	return bad ? -EBADMSG : total;
}

long fdpass_recv(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
		 unsigned *nfds)
{
	union fdpass_cmsg cm;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cm.buf,
		.msg_controllen = sizeof(cm.buf),
	};
	unsigned kept;
	ssize_t n;
	int total;

	*nfds = 0;
	if (max_fds > FDPASS_MAX_FDS)
		max_fds = FDPASS_MAX_FDS;
	if (max_fds && !fds)
		return -EINVAL;
	/* MSG_TRUNC: learn the real length of an over-long datagram. */
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	total = fdpass_collect(&mh, fds, max_fds, &kept);
	if (total < 0) {
		fdpass_close(fds, kept);
		return total;
	}
	if ((mh.msg_flags & MSG_CTRUNC) || (unsigned)total > max_fds) {
		fdpass_close(fds, kept);
		return -ETOOMANYREFS;
	}
	*nfds = kept;
	return n;
}
