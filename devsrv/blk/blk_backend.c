/* blk_backend.c: positioned reads, writes, syncs and holes on an image. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devsrv/blk/blk_backend.h"

#define BLK_BACKEND_SECTOR 512u
/* Writes of zeros go out in chunks of this many bytes. */
#define BLK_BACKEND_ZERO_CHUNK 65536u

static const unsigned char blk_backend_zeros[BLK_BACKEND_ZERO_CHUNK]
	__attribute__((aligned(BLK_BACKEND_ALIGN)));

int blk_backend_init(struct blk_backend *b, int fd, uint64_t base)
{
	int fl;

	if (fd < 0 || base % BLK_BACKEND_SECTOR || base > INT64_MAX)
		return -EINVAL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	b->fd = fd;
	b->base = base;
	b->direct = (fl & O_DIRECT) != 0;
	atomic_init(&b->syncs, 0);
	atomic_init(&b->zero_fallback, 0);
	atomic_init(&b->bounced, 0);
	return 0;
}

int blk_backend_size(const struct blk_backend *b, uint64_t *bytes)
{
	struct stat st;

	if (fstat(b->fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, bytes))
			return -errno;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -ENOTSUP;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

int blk_bounce_init(struct blk_bounce *bb, size_t len)
{
	size_t n = (len + BLK_BACKEND_ALIGN - 1) &
		   ~(size_t)(BLK_BACKEND_ALIGN - 1);

	bb->buf = NULL;
	bb->len = 0;
	if (!n)
		return -EINVAL;
	if (posix_memalign(&bb->buf, BLK_BACKEND_ALIGN, n))
		return -ENOMEM;
	bb->len = n;
	return 0;
}

void blk_bounce_fini(struct blk_bounce *bb)
{
	free(bb->buf);
	bb->buf = NULL;
	bb->len = 0;
}

/* File offset of slice offset @off for @len bytes, or -EINVAL on overflow. */
static int blk_backend_pos(const struct blk_backend *b, uint64_t off,
			   uint64_t len, off_t *pos)
{
	uint64_t p = b->base + off;

	if (p < off || p > INT64_MAX || len > INT64_MAX - p)
		return -EINVAL;
	*pos = (off_t)p;
	return 0;
}

/* Loop over short transfers and EINTR. */
static int blk_backend_pio(int fd, bool wr, off_t pos, unsigned char *buf,
			   size_t len)
{
	while (len) {
		ssize_t n = wr ? pwrite(fd, buf, len, pos)
			       : pread(fd, buf, len, pos);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* The size was checked at set-up: an early end is an I/O
		 * error (the file shrank), never a short success. */
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
		pos += n;
	}
	return 0;
}

static bool blk_backend_aligned(const void *buf)
{
	return ((uintptr_t)buf & (BLK_BACKEND_ALIGN - 1)) == 0;
}

/* O_DIRECT with unaligned memory: go through the bounce buffer in chunks. */
static int blk_backend_bounce(struct blk_backend *b, bool wr, off_t pos,
			      unsigned char *buf, size_t len,
			      const struct blk_bounce *bb)
{
	int ret;

	if (!bb || !bb->buf || !bb->len)
		return -EINVAL;
	atomic_fetch_add_explicit(&b->bounced, 1, memory_order_relaxed);
	while (len) {
		size_t n = len < bb->len ? len : bb->len;

		if (wr)
			memcpy(bb->buf, buf, n);
		ret = blk_backend_pio(b->fd, wr, pos, bb->buf, n);
		if (ret)
			return ret;
		if (!wr)
			memcpy(buf, bb->buf, n);
		buf += n;
		len -= n;
		pos += (off_t)n;
	}
	return 0;
}

static int blk_backend_rw(struct blk_backend *b, bool wr, uint64_t off,
			  unsigned char *buf, size_t len,
			  const struct blk_bounce *bb)
{
	off_t pos;
	int ret;

	ret = blk_backend_pos(b, off, len, &pos);
	if (ret)
		return ret;
	if (b->direct && (off % BLK_BACKEND_SECTOR || len % BLK_BACKEND_SECTOR))
		return -EINVAL;
	if (b->direct && !blk_backend_aligned(buf))
		return blk_backend_bounce(b, wr, pos, buf, len, bb);
	return blk_backend_pio(b->fd, wr, pos, buf, len);
}

int blk_backend_read(struct blk_backend *b, uint64_t off, void *buf, size_t len,
		     const struct blk_bounce *bb)
{
	return blk_backend_rw(b, false, off, buf, len, bb);
}

int blk_backend_write(struct blk_backend *b, uint64_t off, const void *buf,
		      size_t len, const struct blk_bounce *bb)
{
	/* The write path only reads the buffer; the cast feeds the shared
	 * loop, which writes into it only for reads. */
	return blk_backend_rw(b, true, off, (unsigned char *)buf, len, bb);
}

int blk_backend_flush(struct blk_backend *b)
{
	while (fdatasync(b->fd)) {
		if (errno != EINTR)
			return -errno;
	}
	atomic_fetch_add_explicit(&b->syncs, 1, memory_order_relaxed);
	return 0;
}

static int blk_backend_fallocate(int fd, int mode, off_t pos, uint64_t len)
{
	while (fallocate(fd, mode, pos, (off_t)len)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int blk_backend_discard(struct blk_backend *b, uint64_t off, uint64_t len)
{
	off_t pos;
	int ret;

	ret = blk_backend_pos(b, off, len, &pos);
	if (ret || !len)
		return ret;
	ret = blk_backend_fallocate(
		b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, pos, len);
	/* Discard is a hint: a file system without holes ignores it. */
	if (ret == -EOPNOTSUPP)
		return 0;
	return ret;
}

int blk_backend_write_zeroes(struct blk_backend *b, uint64_t off, uint64_t len)
{
	off_t pos;
	int ret;

	ret = blk_backend_pos(b, off, len, &pos);
	if (ret || !len)
		return ret;
	ret = blk_backend_fallocate(
		b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, pos, len);
	if (ret != -EOPNOTSUPP && ret != -EINVAL && ret != -ENODEV)
		return ret;
	/* No ZERO_RANGE here (tmpfs, some block devices): write zeros. The
	 * zero chunk is aligned, so O_DIRECT takes it as is. */
	atomic_fetch_add_explicit(&b->zero_fallback, 1, memory_order_relaxed);
	while (len) {
		size_t n = len < BLK_BACKEND_ZERO_CHUNK
				   ? (size_t)len
				   : BLK_BACKEND_ZERO_CHUNK;

		ret = blk_backend_pio(b->fd, true, pos,
				      (unsigned char *)blk_backend_zeros, n);
		if (ret)
			return ret;
		pos += (off_t)n;
		len -= n;
	}
	return 0;
}
