/*
 * fuzz_api_msg.c: api_req_decode / api_reply_decode on hostile bytes (the
 * first byte picks which). Accepted input must re-encode to a fixed point.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/api_msg.h"

static void fuzz_req(const uint8_t *data, size_t size)
{
	static uint8_t a[API_MSG_MAX], b[API_MSG_MAX];
	struct api_req m;
	int la, lb;

	if (api_req_decode(data, size, &m))
		return;
	la = api_req_encode(&m, a, sizeof(a));
	if (la < 0 || api_req_decode(a, (size_t)la, &m))
		abort();
	lb = api_req_encode(&m, b, sizeof(b));
	if (lb != la || memcmp(a, b, (size_t)la))
		abort();
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
	static uint8_t a[API_MSG_MAX], b[API_MSG_MAX];
	static struct api_reply m;
	int la, lb;

	if (api_reply_decode(data, size, &m))
		return;
	la = api_reply_encode(&m, a, sizeof(a));
	if (la < 0 || api_reply_decode(a, (size_t)la, &m))
		abort();
	lb = api_reply_encode(&m, b, sizeof(b));
	if (lb != la || memcmp(a, b, (size_t)la))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_reply(data + 1, size - 1);
	else
		fuzz_req(data + 1, size - 1);
	return 0;
}

/* Selector byte 1 (reply) + a device list with stats-like variety. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	static struct api_reply r;
	int len;

	if (cap < 2)
		return 0;
	memset(&r, 0, sizeof(r));
	r.type = API_REPLY_DEVICES;
	r.u.devices.n = 3;
	for (unsigned i = 0; i < 3; i++) {
		struct api_device *d = &r.u.devices.dev[i];

		memcpy(d->name, "dev0", 5);
		d->name[3] = (char)('0' + i);
		d->type = CTL_DEV_BLK + i;
		d->state = API_DEV_RUNNING;
		d->pid = 100 + i;
		d->restarts = i;
	}
	buf[0] = 1;
	len = api_reply_encode(&r, buf + 1, cap - 1);
	return len > 0 ? (size_t)len + 1 : 0;
}
