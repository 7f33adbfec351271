/*
 * isovm-blkpattern.c: the guest's whole-disk pattern check: writes the
 * seeded splitmix64 pattern over a block device, flushes it to the device,
 * drops every cached copy, reads it all back, compares, and prints the
 * test guest's blk-pattern line (same keys, same FNV-1a hash of the bytes
 * read), so the host checks its image the same way for either guest.
 *
 * usage: isovm-blkpattern DEV SEED   (DEV a name under /dev, e.g. vda)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PAT_CHUNK (1u << 20)
#define FNV_INIT 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

struct pat {
	const char *dev;
	uint64_t seed, bytes, hash, bad_off;
	int mismatch;
	uint8_t *buf;
};

static uint64_t pat_splitmix64(uint64_t x)
{
	uint64_t z = x + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The pattern of [off, off + len); off and len are multiples of 8. */
static void pat_fill(const struct pat *p, uint64_t off, size_t len)
{
	size_t k;

	for (k = 0; k < len / 8; k++) {
		uint64_t v = pat_splitmix64(p->seed + off / 8 + k);

		memcpy(p->buf + 8 * k, &v, 8); /* x86 is little-endian */
	}
}

static void pat_check(struct pat *p, uint64_t off, size_t len)
{
	uint64_t h = p->hash, v;
	size_t i, k;

	for (i = 0; i < len; i++) {
		h ^= p->buf[i];
		h *= FNV_PRIME;
	}
	p->hash = h;
	for (k = 0; k < len / 8 && !p->mismatch; k++) {
		memcpy(&v, p->buf + 8 * k, 8);
		if (v != pat_splitmix64(p->seed + off / 8 + k)) {
			p->mismatch = 1;
			p->bad_off = off + 8 * k;
		}
	}
}

static size_t pat_len(const struct pat *p, uint64_t off)
{
	return p->bytes - off < PAT_CHUNK ? p->bytes - off : PAT_CHUNK;
}

/* pwrite/pread until len bytes moved; -errno, or -EIO on a short end. */
static int pat_io(int fd, int write, uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (write)
			n = pwrite(fd, buf + done, len - done, off + done);
		else
			n = pread(fd, buf + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += n;
	}
	return 0;
}

static int pat_write(struct pat *p, const char *path)
{
	uint64_t off;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (off = 0; off < p->bytes && !ret; off += PAT_CHUNK) {
		pat_fill(p, off, pat_len(p, off));
		ret = pat_io(fd, 1, p->buf, pat_len(p, off), off);
	}
	/* fsync sends the flush to the device; BLKFLSBUF empties the cache. */
	if (!ret && fsync(fd))
		ret = -errno;
	if (!ret && ioctl(fd, BLKFLSBUF, 0))
		ret = -errno;
	close(fd);
	return ret;
}

/* Best effort: BLKFLSBUF already dropped the device's own pages. */
static void pat_drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "3\n", 2) != 2)
		fprintf(stderr, "isovm-blkpattern: drop_caches: %m\n");
	close(fd);
}

/* O_DIRECT: the bytes compared are the device's, never a cached copy. */
static int pat_read(struct pat *p, const char *path)
{
	uint64_t off;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (off = 0; off < p->bytes && !ret; off += PAT_CHUNK) {
		ret = pat_io(fd, 0, p->buf, pat_len(p, off), off);
		if (!ret)
			pat_check(p, off, pat_len(p, off));
	}
	close(fd);
	return ret;
}

static int pat_size(const char *path, uint64_t *bytes)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, bytes))
		ret = -errno;
	close(fd);
	return ret;
}

static int pat_fail(const struct pat *p, const char *reason, int err)
{
	printf("ISOVM-TEST name=blk-pattern status=fail reason=%s disk=%s "
	       "err=%d\n", reason, p->dev, err);
	return 1;
}

/* A device name is a plain name under /dev: letters and digits only. */
static int pat_dev_ok(const char *dev)
{
	size_t i, n = strlen(dev);

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!((dev[i] >= 'a' && dev[i] <= 'z') ||
		      (dev[i] >= '0' && dev[i] <= '9')))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct pat p = { .hash = FNV_INIT };
	char path[48], *end;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	p.dev = argc > 1 ? argv[1] : "?";
	if (argc != 3 || !pat_dev_ok(argv[1]))
		return pat_fail(&p, "bad-keys", -EINVAL);
	errno = 0;
	p.seed = strtoull(argv[2], &end, 0);
	if (errno || end == argv[2] || *end || argv[2][0] == '-')
		return pat_fail(&p, "bad-keys", -EINVAL);
	snprintf(path, sizeof(path), "/dev/%s", p.dev);
	ret = pat_size(path, &p.bytes);
	if (ret)
		return pat_fail(&p, "no-disk", ret);
	if (p.bytes == 0 || p.bytes % 512)
		return pat_fail(&p, "bad-size", -EINVAL);
	if (posix_memalign((void **)&p.buf, 4096, PAT_CHUNK))
		return pat_fail(&p, "no-memory", -ENOMEM);
	ret = pat_write(&p, path);
	if (ret) {
		free(p.buf);
		return pat_fail(&p, "write-failed", ret);
	}
	pat_drop_caches();
	ret = pat_read(&p, path);
	free(p.buf);
	if (ret)
		return pat_fail(&p, "read-failed", ret);
	if (p.mismatch) {
		printf("ISOVM-TEST name=blk-pattern status=fail "
		       "reason=mismatch disk=%s offset=%" PRIu64 "\n", p.dev,
		       p.bad_off);
		return 1;
	}
	printf("ISOVM-TEST name=blk-pattern status=pass disk=%s bytes=%" PRIu64
	       " hash=0x%016" PRIx64 "\n", p.dev, p.bytes, p.hash);
	return 0;
}
