/* pb_alloc.h: a protobuf-c allocator with a byte budget (proto/ internal). */
#ifndef ISOVM_PROTO_PB_ALLOC_H
#define ISOVM_PROTO_PB_ALLOC_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/*
 * One per unpack call. Allocations past the budget fail, so a hostile
 * message cannot make the decoder allocate more than `limit` bytes in total.
 */
struct pb_alloc {
	ProtobufCAllocator base;
	size_t used;
	size_t limit;
};

void pb_alloc_init(struct pb_alloc *pa, size_t limit);

#endif
