/* testutil.c: key parsing, FNV-1a, splitmix64 and rates for the tests. */
#include "rt/cmdline.h"
#include "tests/testutil.h"
#include "rt/string.h"

uint64_t tu_key_u64(const char *key, uint64_t def, int *bad)
{
	const char *v = cmdline_value(&cmdline, key), *end;
	uint64_t n;

	if (!v)
		return def;
	end = str_to_u64(v, &n);
	if (!end || *end) {
		*bad = -1;
		return def;
	}
	return n;
}

uint64_t tu_fnv1a64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t tu_splitmix64(uint64_t x)
{
	uint64_t z = x + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t tu_rate_tenths(uint64_t bytes, uint64_t ns)
{
	if (!ns)
		return 0;
	/* bytes * 10^4 / ns = tenths of MB/s; split to avoid overflow. */
	if (bytes < UINT64_MAX / 10000)
		return bytes * 10000 / ns;
	return bytes / ns * 10000;
}
