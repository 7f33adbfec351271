/*
 * policy_iothread.c: what the VMM's I/O thread may do once its loop runs:
 * ioeventfd kicks, server completions and control sockets, the API socket,
 * servers' deaths and restarts. It never creates a thread or a process:
 * a restarted server is cloned by the launcher process (sandbox/launcher.h),
 * asked over a unix socket, which answers with the server's pidfd.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/wait.h>

#include "sandbox/policy_vmm.h"

static const struct sandbox_syscall policy_iothread_rows[] = {
	SANDBOX_VMM_COMMON_ROWS,
	/* The loop. */
	SB_ALLOW(epoll_wait, "libevent waits for its fds and timers"),
	SB_ALLOW(epoll_ctl, "watches added and removed"),
	SB_ALLOW(read, "ioeventfd kicks, completion pipes, libevent's wake-up"),
	SB_ALLOW(close, "a dead server's fds, a gone API client"),
	SB_ALLOW(poll, "waits on one server fd with a deadline (reap, stats)"),
	/* Devices. */
	SB_ALLOW_IOCTL(KVM_IRQ_LINE, "UART interrupts (console input, "
				     "transmit replays)"),
	SB_ALLOW_IOCTL(FIONREAD, "bytes in a console pipe (the drain, input "
				 "waiting for the guest)"),
	/* Servers and the API. */
	SB_ALLOW_EQ(sendmsg, 2, SB_SENDMSG_FLAGS,
		    "control messages with fds to servers, API replies and "
		    "trace events"),
	SB_ALLOW_EQ(recvmsg, 2, SB_RECVMSG_FLAGS,
		    "control messages from servers, API requests"),
	SB_ALLOW_EQ(accept4, 3, SOCK_NONBLOCK | SOCK_CLOEXEC,
		    "a client of the API socket"),
	SB_ALLOW_EQ(socketpair, 0, AF_UNIX,
		    "a restarted server's control socket"),
	SB_ALLOW_EQ(pipe2, 1, O_CLOEXEC | O_NONBLOCK,
		    "a restarted server's log pipe"),
	SB_ALLOW_EQ(fcntl, 1, F_GETFL, "O_NONBLOCK of a socket or pipe end"),
	SB_ALLOW_EQ(fcntl, 1, F_SETFL,
		    "O_NONBLOCK on our control socket end and, after a "
		    "restart, on the data plane's pipes"),
	SB_ALLOW_EQ(fcntl, 1, F_GETFD, "FD_CLOEXEC of a passed fd"),
	SB_ALLOW_EQ(fcntl, 1, F_SETFD, "FD_CLOEXEC of a passed fd"),
	SB_ALLOW_EQ(pidfd_send_signal, 1, SIGKILL,
		    "kill a server (API kill or restart, protocol breach, "
		    "watchdog)"),
	SB_ALLOW_EQ(waitid, 0, P_PIDFD, "reap a dead server by its pidfd"),
	SB_ALLOW(getpid, "HELLO names the VMM; pthread_kill"),
	SB_ALLOW_EQ(tgkill, 2, SIGUSR1, "the API's pause kicks the vCPUs"),
};

const struct sandbox_policy sandbox_policy_iothread =
	SANDBOX_POLICY("I/O thread", policy_iothread_rows);
