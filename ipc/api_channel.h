/* api_channel.h: typed management API messages on a SOCK_SEQPACKET socket. */
#ifndef ISOVM_IPC_API_CHANNEL_H
#define ISOVM_IPC_API_CHANNEL_H

#include "proto/api_msg.h"

/*
 * One request or reply per datagram, never with fds. Send: 0, -EINVAL
 * (invalid message) or an error of frame_send (-EPIPE when the peer is gone).
 * Receive: 0, an error of frame_recv (-EPIPE, -EMSGSIZE, -ENOBUFS,
 * -ETOOMANYREFS when any fd came along: it is closed, -EAGAIN...) or of the
 * decoder (-EBADMSG, -EINVAL). *out is only meaningful on 0.
 */
int api_req_send(int sock, const struct api_req *req);
int api_req_recv(int sock, struct api_req *out);
int api_reply_send(int sock, const struct api_reply *rep);
int api_reply_recv(int sock, struct api_reply *out);

#endif
