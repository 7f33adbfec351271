/*
 * pb_alloc.h: a protobuf-c allocator with a byte budget, and the one
 * bounded decode path every typed reader goes through (proto/ internal).
 */
#ifndef ISOVM_PROTO_PB_ALLOC_H
#define ISOVM_PROTO_PB_ALLOC_H

#include <stddef.h>
#include <stdint.h>

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

/* Copies the unpacked message into a plain C struct; 0 or -errno. */
typedef int (*pb_read_fn)(const ProtobufCMessage *msg, void *out);
/* Checks the plain C struct; 0 or -errno. */
typedef int (*pb_check_fn)(const void *out);

/*
 * Decodes hostile bytes buf[0..len) as a message of desc into out (a plain
 * struct of out_size bytes): refuses len > max_len (-EMSGSIZE), unpacks with
 * at most `budget` bytes of allocation (-EBADMSG when that or the encoding
 * fails), reads, frees every allocation, then checks. out is zeroed first
 * and again on any failure. Returns 0 or -errno.
 */
int pb_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
	      size_t len, size_t max_len, size_t budget, pb_read_fn read,
	      pb_check_fn check, void *out, size_t out_size);

#endif
