/* fdpass.h: one SOCK_SEQPACKET datagram plus fds in SCM_RIGHTS, both ways. */
#ifndef ISOVM_IPC_FDPASS_H
#define ISOVM_IPC_FDPASS_H

#include <stddef.h>
#include <stdint.h>

/* Hard ceiling on fds in one datagram, whatever the caller asks for. */
#define FDPASS_MAX_FDS 8

/*
 * Send buf[0..len) as one datagram with nfds fds attached (nfds may be 0).
 * The caller keeps ownership of its fds (the kernel duplicates them).
 * Never raises SIGPIPE. Returns 0, -EINVAL (nfds too large, bad fd),
 * -EPIPE (peer gone), -EAGAIN, -EMSGSIZE, or another -errno of sendmsg.
 */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds,
		unsigned nfds);

/*
 * Receive one datagram into buf[0..cap) and up to max_fds fds (received with
 * close-on-exec set). On success *nfds fds are stored in fds[] and owned by
 * the caller, and the return value is the datagram's full length, which may
 * exceed cap (the excess was discarded: the caller decides what that means).
 * On error no fd is left open: every fd that arrived is closed, *nfds is 0.
 * Errors: -ETOOMANYREFS (more fds than max_fds, or the kernel truncated the
 * control data), -EBADMSG (control data that is not SCM_RIGHTS), -EAGAIN,
 * or another -errno of recvmsg. A return of 0 means the peer closed (or sent
 * an empty datagram, which nobody may do).
 */
long fdpass_recv(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
		 unsigned *nfds);

/* Close fds[0..n) and mark them -1; for the error paths of callers. */
void fdpass_close(int *fds, unsigned n);

#endif
