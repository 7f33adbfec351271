/* frame.c: one message per SOCK_SEQPACKET datagram, with size checks. */
#include "ipc/frame.h"

#include <errno.h>

int frame_send(int sock, const uint8_t *buf, size_t len, const int *fds,
	       unsigned nfds)
{
	/* An empty datagram reads as end-of-file on the other side. */
	if (len == 0 || !buf)
		return -EINVAL;
	if (len > FRAME_MAX)
		return -EMSGSIZE;
	if (nfds > FRAME_MAX_FDS)
		return -EINVAL;
	return fdpass_send(sock, buf, len, fds, nfds);
}

long frame_recv(int sock, uint8_t *buf, size_t cap, int *fds, unsigned max_fds,
		unsigned *nfds)
{
	long n;

	*nfds = 0;
	if (!buf || cap == 0)
		return -EINVAL;
	n = fdpass_recv(sock, buf, cap, fds, max_fds, nfds);
	if (n < 0)
		return n;
	if (n == 0) {
		fdpass_close(fds, *nfds);
		*nfds = 0;
		return -EPIPE;
	}
	if ((unsigned long)n > FRAME_MAX || (unsigned long)n > cap) {
		fdpass_close(fds, *nfds);
		*nfds = 0;
		return (unsigned long)n > FRAME_MAX ? -EMSGSIZE : -ENOBUFS;
	}
	return n;
}
