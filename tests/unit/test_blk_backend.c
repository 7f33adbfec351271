/* test_blk_backend.c: positioned I/O, syncs, holes and zeros on real files. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devsrv/blk/blk_backend.h"

#define MIB (1024u * 1024u)

/* An unlinked temp file of @size bytes filled with @fill, opened @flags. */
static int tmp_image(size_t size, int fill, int flags)
{
	char path[] = "/tmp/isovm-blk-XXXXXX";
	unsigned char *buf = malloc(size);
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_not_null(buf);
	memset(buf, fill, size);
	cr_assert_eq(pwrite(fd, buf, size, 0), (ssize_t)size);
	free(buf);
	if (flags) {
		int fd2 = open(path, flags);

		cr_assert_geq(fd2, 0);
		close(fd);
		fd = fd2;
	}
	unlink(path);
	return fd;
}

static void expect_bytes(int fd, off_t off, size_t len, int val)
{
	unsigned char *buf = malloc(len);

	cr_assert_eq(pread(fd, buf, len, off), (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], (unsigned char)val,
			     "byte %zu of [%lld, +%zu) is %#x, not %#x", i,
			     (long long)off, len, buf[i], val);
	free(buf);
}

Test(blk_backend, write_then_read_lands_at_slice_offset_only)
{
	struct blk_backend be;
	unsigned char w[1536], r[1536];
	int fd = tmp_image(64 * 1024, 0xee, 0);

	cr_assert_eq(blk_backend_init(&be, fd, 8192), 0);
	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (unsigned char)(i * 7 + 3);
	cr_assert_eq(blk_backend_write(&be, 1024, w, sizeof(w), NULL), 0);
	cr_assert_eq(blk_backend_read(&be, 1024, r, sizeof(r), NULL), 0);
	cr_assert_arr_eq(r, w, sizeof(w));
	/* Byte exact in the file: slice base + offset, nothing around. */
	cr_assert_eq(pread(fd, r, sizeof(r), 8192 + 1024), (ssize_t)sizeof(r));
	cr_assert_arr_eq(r, w, sizeof(w));
	expect_bytes(fd, 0, 8192 + 1024, 0xee);
	expect_bytes(fd, 8192 + 1024 + sizeof(w),
		     64 * 1024 - 8192 - 1024 - sizeof(w), 0xee);
	close(fd);
}

Test(blk_backend, base_must_be_sector_aligned)
{
	struct blk_backend be;
	int fd = tmp_image(4096, 0, 0);

	cr_assert_eq(blk_backend_init(&be, fd, 100), -EINVAL);
	cr_assert_eq(blk_backend_init(&be, -1, 0), -EINVAL);
	close(fd);
}

Test(blk_backend, offset_overflow_is_refused_without_io)
{
	struct blk_backend be;
	unsigned char b[512];
	int fd = tmp_image(4096, 0, 0);

	cr_assert_eq(blk_backend_init(&be, fd, 1024), 0);
	cr_assert_eq(blk_backend_read(&be, UINT64_MAX - 511, b, 512, NULL),
		     -EINVAL);
	cr_assert_eq(blk_backend_write(&be, INT64_MAX, b, 512, NULL), -EINVAL);
	cr_assert_eq(blk_backend_discard(&be, UINT64_MAX, 512), -EINVAL);
	close(fd);
}

Test(blk_backend, read_past_end_of_file_is_eio)
{
	struct blk_backend be;
	unsigned char b[1024];
	int fd = tmp_image(1024, 1, 0);

	cr_assert_eq(blk_backend_init(&be, fd, 0), 0);
	/* Half the range exists: an early end is an error, not a success. */
	cr_assert_eq(blk_backend_read(&be, 512, b, sizeof(b), NULL), -EIO);
	close(fd);
}

Test(blk_backend, io_error_of_the_fd_comes_back_as_eio)
{
	struct blk_backend be;
	unsigned char b[512];
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	/* Address 0 is never mapped: the kernel answers EIO. */
	cr_assert_eq(blk_backend_init(&be, fd, 0), 0);
	cr_assert_eq(blk_backend_read(&be, 0, b, sizeof(b), NULL), -EIO);
	cr_assert_eq(blk_backend_write(&be, 512, b, sizeof(b), NULL), -EIO);
	close(fd);
}

Test(blk_backend, flush_counts_successful_syncs)
{
	struct blk_backend be;
	int fd = tmp_image(4096, 0, 0);

	cr_assert_eq(blk_backend_init(&be, fd, 0), 0);
	cr_assert_eq(atomic_load(&be.syncs), 0);
	cr_assert_eq(blk_backend_flush(&be), 0);
	cr_assert_eq(blk_backend_flush(&be), 0);
	cr_assert_eq(atomic_load(&be.syncs), 2);
	close(fd);
}

Test(blk_backend, flush_error_is_returned_and_not_counted)
{
	struct blk_backend be;
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(blk_backend_init(&be, p[1], 0), 0);
	cr_assert_eq(blk_backend_flush(&be), -EINVAL);
	cr_assert_eq(atomic_load(&be.syncs), 0);
	close(p[0]);
	close(p[1]);
}

Test(blk_backend, discard_punches_a_hole_that_reads_zeros)
{
	struct blk_backend be;
	struct stat before, after;
	unsigned char b[4096];
	int fd = tmp_image(4 * MIB, 0x5a, 0);

	cr_assert_eq(fsync(fd), 0);
	cr_assert_eq(fstat(fd, &before), 0);
	cr_assert_eq(blk_backend_init(&be, fd, 512), 0);
	cr_assert_eq(blk_backend_discard(&be, MIB - 512, 2 * MIB), 0);
	cr_assert_eq(fstat(fd, &after), 0);
	cr_assert_lt(after.st_blocks, before.st_blocks);
	cr_assert_leq(after.st_blocks, before.st_blocks - 2 * MIB / 512 + 16);
	cr_assert_eq(after.st_size, before.st_size, "size kept");
	cr_assert_eq(blk_backend_read(&be, MIB, b, sizeof(b), NULL), 0);
	for (size_t i = 0; i < sizeof(b); i++)
		cr_assert_eq(b[i], 0);
	expect_bytes(fd, 0, MIB, 0x5a);
	expect_bytes(fd, 3 * MIB, MIB, 0x5a);
	close(fd);
}

Test(blk_backend, write_zeroes_zeroes_exactly_the_range)
{
	struct blk_backend be;
	int fd = tmp_image(256 * 1024, 0x33, 0);

	cr_assert_eq(blk_backend_init(&be, fd, 4096), 0);
	cr_assert_eq(blk_backend_write_zeroes(&be, 512, 100 * 1024), 0);
	expect_bytes(fd, 0, 4096 + 512, 0x33);
	expect_bytes(fd, 4096 + 512, 100 * 1024, 0);
	expect_bytes(fd, 4096 + 512 + 100 * 1024,
		     256 * 1024 - 4096 - 512 - 100 * 1024, 0x33);
	cr_assert_eq(atomic_load(&be.zero_fallback), 0, "ext4 has ZERO_RANGE");
	close(fd);
}

Test(blk_backend, write_zeroes_falls_back_to_writes_without_zero_range)
{
	struct blk_backend be;
	unsigned char *p;
	int fd = memfd_create("blk", MFD_CLOEXEC);
	size_t size = 512 * 1024;

	/* shmem has no FALLOC_FL_ZERO_RANGE: the pwrite path must do it. */
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	memset(p, 0x77, size);
	cr_assert_eq(blk_backend_init(&be, fd, 0), 0);
	cr_assert_eq(blk_backend_write_zeroes(&be, 1024, 200 * 1024), 0);
	cr_assert_eq(atomic_load(&be.zero_fallback), 1);
	for (size_t i = 0; i < size; i++) {
		int want = i >= 1024 && i < 1024 + 200 * 1024 ? 0 : 0x77;

		cr_assert_eq(p[i], want, "byte %zu", i);
	}
	munmap(p, size);
	close(fd);
}

/* True when the file system of /tmp takes O_DIRECT (tmpfs may not). */
static bool tmp_has_o_direct(void)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_DIRECT | O_CLOEXEC, 0600);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

Test(blk_backend, o_direct_bounces_unaligned_memory)
{
	struct blk_backend be;
	struct blk_bounce bb;
	unsigned char *mem, *r;
	int fd;

	if (!tmp_has_o_direct())
		cr_skip_test("no O_DIRECT on /tmp");
	fd = tmp_image(MIB, 0x11, O_RDWR | O_DIRECT | O_CLOEXEC);
	cr_assert_eq(blk_backend_init(&be, fd, 4096), 0);
	cr_assert(be.direct);
	cr_assert_eq(posix_memalign((void **)&mem, 4096, 3 * 8192), 0);
	cr_assert_eq(posix_memalign((void **)&r, 4096, 8192), 0);
	for (size_t i = 0; i < 3 * 8192; i++)
		mem[i] = (unsigned char)(i ^ (i >> 8));
	/* Unaligned memory and no bounce buffer: refused before any I/O. */
	cr_assert_eq(blk_backend_write(&be, 0, mem + 64, 8192, NULL), -EINVAL);
	/* A bounce smaller than the transfer: it goes in chunks. */
	cr_assert_eq(blk_bounce_init(&bb, 4096), 0);
	cr_assert_eq(blk_backend_write(&be, 8192, mem + 64, 8192, &bb), 0);
	cr_assert_eq(atomic_load(&be.bounced), 1);
	cr_assert_eq(blk_backend_read(&be, 8192, r, 8192, NULL), 0);
	cr_assert_arr_eq(r, mem + 64, 8192);
	cr_assert_eq(atomic_load(&be.bounced), 1, "aligned read went direct");
	memset(mem, 0, 3 * 8192);
	cr_assert_eq(blk_backend_read(&be, 8192, mem + 512, 8192, &bb), 0);
	cr_assert_arr_eq(mem + 512, r, 8192);
	cr_assert_eq(atomic_load(&be.bounced), 2);
	blk_bounce_fini(&bb);
	free(r);
	free(mem);
	close(fd);
}

Test(blk_backend, size_of_a_regular_file_and_refusal_of_a_pipe)
{
	struct blk_backend be;
	uint64_t size = 0;
	int fd = tmp_image(12345, 0, 0), p[2];

	cr_assert_eq(blk_backend_init(&be, fd, 0), 0);
	cr_assert_eq(blk_backend_size(&be, &size), 0);
	cr_assert_eq(size, 12345);
	close(fd);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(blk_backend_init(&be, p[0], 0), 0);
	cr_assert_eq(blk_backend_size(&be, &size), -ENOTSUP);
	close(p[0]);
	close(p[1]);
}
