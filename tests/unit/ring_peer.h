/* ring_peer.h: starting the ring_peer helper process from a test. */
#ifndef ISOVM_TEST_RING_PEER_H
#define ISOVM_TEST_RING_PEER_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

/* A request with this op makes the peer exit 0. */
#define PEER_OP_QUIT 0xffffu

#ifdef RING_PEER_PATH
/*
 * fork+exec ring_peer with the region memfd and the server's ends of the
 * two wake-up pipes (it waits on @kick_fd, kicks @call_fd). @evil: NULL or
 * a way to misbehave (see ring_peer.c). The peer dies with the test, also
 * with one that timed out. Returns the pid, or -errno if fork failed.
 */
static inline pid_t ring_peer_spawn(int memfd, int kick_fd, int call_fd,
				    const char *evil)
{
	pid_t parent = getpid();
	char a[3][16];
	pid_t pid = fork();

	if (pid)
		return pid < 0 ? -errno : pid;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(122);
	/* Child: let exactly these three fds survive the exec. */
	if (fcntl(memfd, F_SETFD, 0) || fcntl(kick_fd, F_SETFD, 0) ||
	    fcntl(call_fd, F_SETFD, 0))
		_exit(120);
	snprintf(a[0], sizeof(a[0]), "%d", memfd);
	snprintf(a[1], sizeof(a[1]), "%d", kick_fd);
	snprintf(a[2], sizeof(a[2]), "%d", call_fd);
	execl(RING_PEER_PATH, "ring_peer", a[0], a[1], a[2], evil,
	      (char *)NULL);
	_exit(121);
}
#endif

#endif
