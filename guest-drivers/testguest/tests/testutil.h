/* testutil.h: helpers the device tests share: keys, hashes, generators. */
#ifndef TG_TESTUTIL_H
#define TG_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_INIT 0xcbf29ce484222325ull

/* Value of key as a number, def when absent; -1 in *bad when malformed. */
uint64_t tu_key_u64(const char *key, uint64_t def, int *bad);

uint64_t tu_fnv1a64(uint64_t h, const void *p, size_t n);

uint64_t tu_splitmix64(uint64_t x);

/* One xorshift64 step (13, 7, 17). */
static inline uint64_t tu_xorshift64(uint64_t s)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

/* bytes over ns as MB/s (10^6 bytes) in tenths, for "%lu.%lu". */
uint64_t tu_rate_tenths(uint64_t bytes, uint64_t ns);

#endif
