/* api_channel.c: api_msg encode/decode joined to framing, no fds. */
#include "ipc/api_channel.h"

#include "ipc/frame.h"

int api_req_send(int sock, const struct api_req *req)
{
	uint8_t buf[API_MSG_MAX];
	int len = api_req_encode(req, buf, sizeof(buf));

	if (len < 0)
		return len;
	return frame_send(sock, buf, (size_t)len, NULL, 0);
}

int api_reply_send(int sock, const struct api_reply *rep)
{
	uint8_t buf[API_MSG_MAX];
	int len = api_reply_encode(rep, buf, sizeof(buf));

	if (len < 0)
		return len;
	return frame_send(sock, buf, (size_t)len, NULL, 0);
}

/* With max_fds 0 frame_recv closes any fd and fails: nothing to leak here. */
int api_req_recv(int sock, struct api_req *out)
{
	uint8_t buf[API_MSG_MAX];
	unsigned nfds;
	long n = frame_recv(sock, buf, sizeof(buf), NULL, 0, &nfds);

	if (n < 0)
		return (int)n;
	return api_req_decode(buf, (size_t)n, out);
}

int api_reply_recv(int sock, struct api_reply *out)
{
	uint8_t buf[API_MSG_MAX];
	unsigned nfds;
	long n = frame_recv(sock, buf, sizeof(buf), NULL, 0, &nfds);

	if (n < 0)
		return (int)n;
	return api_reply_decode(buf, (size_t)n, out);
}
