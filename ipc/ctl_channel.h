/* ctl_channel.h: typed control messages (+ fds) on a SOCK_SEQPACKET socket. */
#ifndef ISOVM_IPC_CTL_CHANNEL_H
#define ISOVM_IPC_CTL_CHANNEL_H

#include "ipc/fdpass.h"
#include "ipc/region.h"
#include "proto/ctl_msg.h"

/*
 * Send msg with its fds. A CTL_SETUP carries exactly msg->u.setup.nfds fds,
 * in the order of msg->u.setup.fds[], a CTL_CLIENT one when
 * msg->u.client.present; every other message carries none.
 * The caller keeps its fds. Returns 0, -EINVAL (invalid message or fd count),
 * or an error of frame_send (-EPIPE when the peer is gone).
 */
int ctl_send(int sock, const struct ctl_msg *msg, const int *fds,
	     unsigned nfds);

/*
 * Receive and validate one message. On success *nfds fds (close-on-exec,
 * owned by the caller) are in fds[], and for a CTL_SETUP fds[i] has role
 * out->u.setup.fds[i]; a CTL_CLIENT with present has its client in
 * fds[0]. max_fds is what fds[] holds (CTL_SETUP_MAX_FDS is
 * enough). On any error no fd stays open and *nfds is 0. Errors: those of
 * frame_recv (-EPIPE, -EMSGSIZE, -ENOBUFS, -ETOOMANYREFS, -EAGAIN...),
 * those of ctl_msg_decode (-EBADMSG, -EINVAL, -EPROTONOSUPPORT), and
 * -ETOOMANYREFS / -EPROTO when more / fewer fds came than the message says.
 */
int ctl_recv(int sock, struct ctl_msg *out, int *fds, unsigned max_fds,
	     unsigned *nfds);

/*
 * Report a fatal error to the peer (a server does this before it exits).
 * err is an errno value, either sign; the formatted text is truncated to
 * CTL_TEXT_MAX and anything not printable ASCII becomes '?'. Returns as
 * ctl_send().
 */
int ctl_send_error(int sock, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The Setup's geometry and ipc/'s are the same four numbers. */
void ctl_geometry_to_ipc(const struct ctl_geometry *c, struct ipc_geom *g);
void ctl_geometry_from_ipc(const struct ipc_geom *g, uint64_t region_size,
			   struct ctl_geometry *c);

#endif
