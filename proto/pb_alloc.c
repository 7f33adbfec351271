/* pb_alloc.c: budgeted allocator for unpacking hostile protobuf input. */
#include "proto/pb_alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *pb_alloc_alloc(void *data, size_t size)
{
	struct pb_alloc *pa = data;

	if (size > pa->limit - pa->used)
		return NULL;
	pa->used += size;
	return malloc(size ? size : 1);
}

static void pb_alloc_free(void *data, void *p)
{
	(void)data;
	free(p);
}

void pb_alloc_init(struct pb_alloc *pa, size_t limit)
{
	pa->base.alloc = pb_alloc_alloc;
	pa->base.free = pb_alloc_free;
	pa->base.allocator_data = pa;
	pa->used = 0;
	pa->limit = limit;
}

int pb_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
	      size_t len, size_t max_len, size_t budget, pb_read_fn read,
	      pb_check_fn check, void *out, size_t out_size)
{
	ProtobufCMessage *msg;
	struct pb_alloc pa;
	int ret;

	memset(out, 0, out_size);
	if (len > max_len)
		return -EMSGSIZE;
	if (!buf && len)
		return -EINVAL;
	pb_alloc_init(&pa, budget);
	msg = protobuf_c_message_unpack(desc, &pa.base, len, buf);
	if (!msg)
		return -EBADMSG;
	ret = read(msg, out);
	protobuf_c_message_free_unpacked(msg, &pa.base);
	if (!ret)
		ret = check(out);
	if (ret)
		memset(out, 0, out_size);
	return ret;
}
