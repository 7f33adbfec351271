/* con_stream.c: the test guest's console streams, checked on the host. */
#include "tests/integration/con_stream.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t con_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t con_xorshift(uint64_t s)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

void con_bulk_check(const char *out, size_t len, uint64_t want_bytes)
{
	const char *begin = strstr(out, "ISOVM-BULK-BEGIN seed="), *data, *res;
	unsigned long long seed, bytes;
	uint64_t state, hash = CON_FNV_INIT;
	char hashkey[40];

	cr_assert_not_null(begin, "no bulk data in the backend output");
	cr_assert_eq(sscanf(begin, "ISOVM-BULK-BEGIN seed=%llu bytes=%llu",
			    &seed, &bytes),
		     2);
	cr_assert_eq(bytes, want_bytes);
	data = strchr(begin, '\n');
	cr_assert_not_null(data);
	data++;
	cr_assert_geq((size_t)(out + len - data), bytes + 15,
		      "bulk data cut short: %zu of %llu bytes",
		      (size_t)(out + len - data), bytes);
	state = seed;
	for (uint64_t i = 0; i < bytes; i++) {
		char want;

		state = con_xorshift(state);
		want = (i % 64 == 63) ? '\n' : (char)('a' + state % 26);
		if (data[i] != want)
			cr_assert_fail("bulk byte %" PRIu64 " differs", i);
		hash = con_fnv(hash, &want, 1);
	}
	cr_assert_eq(strncmp(data + bytes, "ISOVM-BULK-END\n", 15), 0,
		     "no end line right after the data: bytes doubled?");
	res = strstr(data + bytes, "ISOVM-TEST name=console-bulk status=pass");
	cr_assert_not_null(res, "no pass line after the bulk data");
	snprintf(hashkey, sizeof(hashkey), "hash=0x%016" PRIx64, hash);
	cr_assert_not_null(strstr(res, hashkey), "guest hash is not %s",
			   hashkey);
}

uint8_t con_input_byte(uint64_t seed, uint64_t i)
{
	uint64_t x = (seed + i) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (uint8_t)(x >> 56);
}
