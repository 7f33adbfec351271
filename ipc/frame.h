/* frame.h: control-socket framing: one message per datagram, size policy. */
#ifndef ISOVM_IPC_FRAME_H
#define ISOVM_IPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/fdpass.h"

/* Largest control or API message, either direction. */
#define FRAME_MAX (64u * 1024u)
/* Most fds one frame may carry (a Setup carries 4 today). */
#define FRAME_MAX_FDS FDPASS_MAX_FDS

/*
 * Send one frame of len bytes (1..FRAME_MAX) with nfds fds (0..FRAME_MAX_FDS)
 * on a SOCK_SEQPACKET socket. The caller keeps its fds.
 * Returns 0, -EINVAL (len 0, bad fds), -EMSGSIZE (len > FRAME_MAX),
 * -EPIPE (peer gone), -EAGAIN, or another -errno.
 */
int frame_send(int sock, const uint8_t *buf, size_t len, const int *fds,
	       unsigned nfds);

/*
 * Receive one frame into buf[0..cap) and at most max_fds fds. On success
 * returns the length (>= 1) and stores *nfds fds (close-on-exec, now owned by
 * the caller). On any error no fd stays open and *nfds is 0:
 *   -EPIPE         peer closed (an empty datagram is treated the same way)
 *   -EMSGSIZE      the datagram was longer than FRAME_MAX
 *   -ENOBUFS       the datagram was longer than cap (but within FRAME_MAX)
 *   -ETOOMANYREFS  more fds than max_fds, or control data truncated
 *   -EBADMSG       control data other than SCM_RIGHTS
 *   -EAGAIN        non-blocking socket, nothing queued
 * The frame's content is not looked at: the decoder validates it.
 */
long frame_recv(int sock, uint8_t *buf, size_t cap, int *fds, unsigned max_fds,
		unsigned *nfds);

#endif
