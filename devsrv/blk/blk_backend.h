/* blk_backend.h: byte I/O on one disk image fd at a base offset (POSIX only).
 */
#ifndef ISOVM_DEVSRV_BLK_BACKEND_H
#define ISOVM_DEVSRV_BLK_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Memory alignment O_DIRECT transfers get (safe for 512 and 4K devices). */
#define BLK_BACKEND_ALIGN 4096u

/*
 * One image: @fd (not owned; the server got it from the VMM) seen from byte
 * @base on. Every call below may run on several threads at once: they use
 * only positioned I/O, and the counters are atomic.
 */
struct blk_backend {
	int fd;
	uint64_t base;		    /* slice offset in bytes */
	bool direct;		    /* fd is O_DIRECT: aligned memory only */
	atomic_uint_fast64_t syncs; /* fdatasync() calls that succeeded */
	atomic_uint_fast64_t zero_fallback; /* write-zeroes done by pwrite */
	atomic_uint_fast64_t bounced;	    /* transfers copied via a bounce */
};

/*
 * A caller-owned aligned buffer for O_DIRECT transfers of unaligned memory
 * (one per worker thread, so the I/O path never allocates).
 */
struct blk_bounce {
	void *buf;  /* BLK_BACKEND_ALIGN aligned */
	size_t len; /* a multiple of BLK_BACKEND_ALIGN */
};

/*
 * Attach @fd at @base (512-aligned). Reads the fd's O_DIRECT flag. Returns
 * 0, -EINVAL (bad base) or -errno of fcntl().
 */
int blk_backend_init(struct blk_backend *b, int fd, uint64_t base);

/* Size of the fd in bytes (fstat; a block device asks BLKGETSIZE64). */
int blk_backend_size(const struct blk_backend *b, uint64_t *bytes);

/* Allocate / free a bounce buffer of @len bytes (rounded up). 0, -ENOMEM. */
int blk_bounce_init(struct blk_bounce *bb, size_t len);
void blk_bounce_fini(struct blk_bounce *bb);

/*
 * Transfer @len bytes at slice offset @off. Short transfers are continued,
 * EINTR retried. With O_DIRECT, memory that is not BLK_BACKEND_ALIGN aligned
 * goes through @bb (which may then not be NULL); @off and @len must be
 * 512-aligned. Returns 0, -EIO (the file ended early), -EINVAL or -errno of
 * the syscall (-EIO, -ENOSPC, -EFBIG...).
 */
int blk_backend_read(struct blk_backend *b, uint64_t off, void *buf, size_t len,
		     const struct blk_bounce *bb);
int blk_backend_write(struct blk_backend *b, uint64_t off, const void *buf,
		      size_t len, const struct blk_bounce *bb);

/* fdatasync(); counts a success in b->syncs. 0 or -errno. */
int blk_backend_flush(struct blk_backend *b);

/*
 * Deallocate [off, off + len): a hole that reads back as zeros (PUNCH_HOLE,
 * size kept). A file system without holes makes it a no-op (discard is a
 * hint). 0 or -errno.
 */
int blk_backend_discard(struct blk_backend *b, uint64_t off, uint64_t len);

/*
 * Make [off, off + len) read back as zeros: ZERO_RANGE, or writes of zeros
 * when the file system cannot. 0 or -errno.
 */
int blk_backend_write_zeroes(struct blk_backend *b, uint64_t off, uint64_t len);

#endif
