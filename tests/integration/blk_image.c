/* blk_image.c: the block tests' image pattern, made and checked on the host. */
#include "tests/integration/blk_image.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

static uint64_t blk_image_splitmix64(uint64_t x)
{
	uint64_t z = x + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void blk_image_make(const char *path, uint64_t size, uint8_t fill)
{
	static uint8_t chunk[1 << 20];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0, "cannot create %s", path);
	memset(chunk, fill, sizeof(chunk));
	for (uint64_t off = 0; off < size; off += sizeof(chunk))
		cr_assert_eq(pwrite(fd, chunk, sizeof(chunk), (off_t)off),
			     (ssize_t)sizeof(chunk));
	close(fd);
}

uint64_t blk_image_check(const char *path, uint64_t base, uint64_t len,
			 uint64_t seed, int outside_fill)
{
	static uint8_t buf[1 << 20];
	uint64_t hash = 0xcbf29ce484222325ull, off = 0;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert_geq(fd, 0, "cannot open %s", path);
	while ((n = pread(fd, buf, sizeof(buf), (off_t)off)) > 0) {
		for (ssize_t i = 0; i < n; i++, off++) {
			int inside = off >= base && off < base + len;
			int want = outside_fill;

			if (inside) {
				uint64_t d = off - base;

				want = (uint8_t)(blk_image_splitmix64(seed +
								      d / 8) >>
						 (8 * (d % 8)));
				hash ^= buf[i];
				hash *= 0x100000001b3ull;
			}
			/* One assert per byte is slow: compare, then fail. */
			if (want >= 0 && buf[i] != want)
				cr_assert_fail(
					"%s byte %" PRIu64
					" (%s the slice) is %#x, want %#x",
					path, off,
					inside ? "inside" : "outside", buf[i],
					want);
		}
	}
	close(fd);
	cr_assert(off >= base + len, "%s is shorter than %" PRIu64, path,
		  base + len);
	return hash;
}
