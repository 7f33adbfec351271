/* ring_peer.h: starting the ring_peer helper process from a test. */
#ifndef ISOVM_TEST_RING_PEER_H
#define ISOVM_TEST_RING_PEER_H

#include <fcntl.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* A request with this op makes the peer exit 0. */
#define PEER_OP_QUIT 0xffffu

#ifdef RING_PEER_PATH
/*
 * fork+exec ring_peer with the region memfd and the two eventfds (it
 * waits on @sq_efd, kicks @cq_efd). @evil: NULL or a way to misbehave
 * (see ring_peer.c). Returns the pid, or -errno if fork failed.
 */
static inline pid_t ring_peer_spawn(int memfd, int sq_efd, int cq_efd,
				    const char *evil)
{
	char a[3][16];
	pid_t pid = fork();

	if (pid)
		return pid;
	/* Child: let exactly these three fds survive the exec. */
	if (fcntl(memfd, F_SETFD, 0) || fcntl(sq_efd, F_SETFD, 0) ||
	    fcntl(cq_efd, F_SETFD, 0))
		_exit(120);
	snprintf(a[0], sizeof(a[0]), "%d", memfd);
	snprintf(a[1], sizeof(a[1]), "%d", sq_efd);
	snprintf(a[2], sizeof(a[2]), "%d", cq_efd);
	execl(RING_PEER_PATH, "ring_peer", a[0], a[1], a[2], evil,
	      (char *)NULL);
	_exit(121);
}
#endif

#endif
