/* pb_alloc.c: budgeted allocator for unpacking hostile protobuf input. */
#include "proto/pb_alloc.h"

#include <stdlib.h>

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
