/* test_blk_dev.c: block request semantics against a real image file. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devsrv/blk/blk_dev.h"
#include "ipc/devproto.h"

/* Image: 4 KiB guard, 64 sectors of slice, 4 KiB guard. */
#define SLICE_OFF 4096u
#define CAP	  64u
#define IMG_SIZE  (SLICE_OFF + CAP * 512u + 4096u)
#define GUARD	  0xa5

static int img_fd = -1;
static struct blk_backend be;
static struct blk_dev dev;
static unsigned char img_before[IMG_SIZE];

static struct ctl_blk_config cfg_of(bool ro, const char *id)
{
	struct ctl_blk_config c = {
		.capacity_sectors = CAP,
		.read_only = ro,
		.block_size = 512,
		.cache = CTL_CACHE_WRITEBACK,
		.slice_offset = SLICE_OFF,
	};

	if (id)
		strcpy(c.id, id);
	return c;
}

static int tmp_image_in(const char *dir, size_t size)
{
	char path[256];
	unsigned char *buf = malloc(size);
	int fd;

	snprintf(path, sizeof(path), "%s/isovm-blk-XXXXXX", dir);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_not_null(buf);
	memset(buf, GUARD, size);
	cr_assert_eq(pwrite(fd, buf, size, 0), (ssize_t)size);
	free(buf);
	unlink(path);
	return fd;
}

static void dev_open(bool ro, const char *id)
{
	struct ctl_blk_config c = cfg_of(ro, id);

	img_fd = tmp_image_in("/tmp", IMG_SIZE);
	cr_assert_eq(blk_backend_init(&be, img_fd, SLICE_OFF), 0);
	cr_assert_eq(blk_dev_init(&dev, &be, &c, "default-id"), 0);
	cr_assert_eq(pread(img_fd, img_before, IMG_SIZE, 0), IMG_SIZE);
}

static void rw_setup(void)
{
	dev_open(false, "disk-0");
}

static void ro_setup(void)
{
	dev_open(true, NULL);
}

static void dev_teardown(void)
{
	close(img_fd);
}

static struct ipc_req req_of(uint32_t op, uint64_t sector, uint32_t count,
			     uint32_t arena_len)
{
	struct ipc_req r = {.id = 7, .op = op, .arena_len = arena_len};

	r.args.blk.sector = sector;
	r.args.blk.count = count;
	return r;
}

static int run(uint32_t op, uint64_t sector, uint32_t count, void *buf,
	       uint32_t arena_len, uint32_t *len)
{
	struct ipc_req r = req_of(op, sector, count, arena_len);
	uint32_t l;

	return blk_dev_exec(&dev, &r, buf, NULL, len ? len : &l);
}

static void expect_image_unchanged(void)
{
	static unsigned char now[IMG_SIZE];

	cr_assert_eq(pread(img_fd, now, IMG_SIZE, 0), IMG_SIZE);
	cr_assert_arr_eq(now, img_before, IMG_SIZE, "image changed");
}

static void expect_guards_intact(void)
{
	static unsigned char now[IMG_SIZE];

	cr_assert_eq(pread(img_fd, now, IMG_SIZE, 0), IMG_SIZE);
	for (size_t i = 0; i < SLICE_OFF; i++)
		cr_assert_eq(now[i], GUARD, "guard byte %zu before", i);
	for (size_t i = SLICE_OFF + CAP * 512; i < IMG_SIZE; i++)
		cr_assert_eq(now[i], GUARD, "guard byte %zu after", i);
}

TestSuite(blk_dev, .init = rw_setup, .fini = dev_teardown);

Test(blk_dev, write_then_read_is_exact_at_any_sector)
{
	static unsigned char w[CAP * 512], r[CAP * 512];
	uint32_t len = 99;

	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (unsigned char)(i * 13 + i / 512);
	/* First sector, a middle run, the last sector. */
	cr_assert_eq(run(IPC_OP_WRITE, 0, 1, w, 512, &len), 0);
	cr_assert_eq(len, 0, "a write reports no bytes written to the arena");
	cr_assert_eq(run(IPC_OP_WRITE, 5, 9, w + 5 * 512, 9 * 512, NULL), 0);
	cr_assert_eq(
		run(IPC_OP_WRITE, CAP - 1, 1, w + (CAP - 1) * 512, 512, NULL),
		0);
	memset(r, 0, sizeof(r));
	cr_assert_eq(run(IPC_OP_READ, 5, 9, r, 9 * 512, &len), 0);
	cr_assert_eq(len, 9 * 512);
	cr_assert_arr_eq(r, w + 5 * 512, 9 * 512);
	cr_assert_eq(run(IPC_OP_READ, CAP - 1, 1, r, 512, NULL), 0);
	cr_assert_arr_eq(r, w + (CAP - 1) * 512, 512);
	/* In the file: exactly slice_offset + sector * 512. */
	cr_assert_eq(pread(img_fd, r, 9 * 512, SLICE_OFF + 5 * 512), 9 * 512);
	cr_assert_arr_eq(r, w + 5 * 512, 9 * 512);
	cr_assert_eq(pread(img_fd, r, 512, SLICE_OFF + 1 * 512), 512);
	for (int i = 0; i < 512; i++)
		cr_assert_eq(r[i], GUARD, "sector 1 was never written");
	expect_guards_intact();
}

Test(blk_dev, whole_disk_write_keeps_bytes_around_the_slice)
{
	static unsigned char w[CAP * 512];

	memset(w, 0x3c, sizeof(w));
	cr_assert_eq(run(IPC_OP_WRITE, 0, CAP, w, CAP * 512, NULL), 0);
	expect_guards_intact();
}

Test(blk_dev, past_the_end_is_erange_and_touches_nothing)
{
	static unsigned char w[2 * 512];

	memset(w, 1, sizeof(w));
	cr_assert_eq(run(IPC_OP_WRITE, CAP - 1, 2, w, 1024, NULL), -ERANGE);
	cr_assert_eq(run(IPC_OP_WRITE, CAP, 1, w, 512, NULL), -ERANGE);
	cr_assert_eq(run(IPC_OP_READ, CAP, 1, w, 512, NULL), -ERANGE);
	cr_assert_eq(run(BLK_OP_DISCARD, CAP - 1, 2, NULL, 0, NULL), -ERANGE);
	cr_assert_eq(run(BLK_OP_WRITE_ZEROES, CAP + 1, 0, NULL, 0, NULL),
		     -ERANGE);
	expect_image_unchanged();
	cr_assert_eq(atomic_load(&dev.rejected), 5);
}

Test(blk_dev, overflowing_sector_plus_count_is_erange)
{
	static unsigned char w[2 * 512];

	/* sector + count wraps to a small number: must not pass. */
	cr_assert_eq(run(IPC_OP_WRITE, UINT64_MAX, 2, w, 1024, NULL), -ERANGE);
	cr_assert_eq(run(IPC_OP_WRITE, UINT64_MAX - 1, 2, w, 1024, NULL),
		     -ERANGE);
	/* sector * 512 wraps to 0. */
	cr_assert_eq(run(IPC_OP_WRITE, 1ull << 55, 1, w, 512, NULL), -ERANGE);
	cr_assert_eq(run(BLK_OP_WRITE_ZEROES, UINT64_MAX,
			 VIRTIO_BLK_MAX_ZERO_SECTORS, NULL, 0, NULL),
		     -ERANGE);
	cr_assert_eq(run(BLK_OP_DISCARD, UINT64_MAX - 2, 4, NULL, 0, NULL),
		     -ERANGE);
	expect_image_unchanged();
}

Test(blk_dev, arena_len_must_equal_count_sectors)
{
	static unsigned char w[4 * 512];

	memset(w, 9, sizeof(w));
	cr_assert_eq(run(IPC_OP_WRITE, 0, 2, w, 1023, NULL), -EINVAL);
	cr_assert_eq(run(IPC_OP_WRITE, 0, 2, w, 2048, NULL), -EINVAL);
	cr_assert_eq(run(IPC_OP_READ, 0, 4, w, 512, NULL), -EINVAL);
	/* A buffer outside the arena (NULL from ipc_dp_srv_buf). */
	cr_assert_eq(run(IPC_OP_WRITE, 0, 1, NULL, 512, NULL), -EINVAL);
	/* Zero sectors is no request the driver can make. */
	cr_assert_eq(run(IPC_OP_READ, 0, 0, w, 0, NULL), -EINVAL);
	expect_image_unchanged();
}

Test(blk_dev, count_over_the_announced_limit_is_refused)
{
	struct ipc_req r = req_of(IPC_OP_READ, 0, VIRTIO_BLK_MAX_RW_SECTORS + 1,
				  (VIRTIO_BLK_MAX_RW_SECTORS + 1) * 512);
	unsigned char b = 0;

	/* Checked before the buffer is ever touched (b is 1 byte). */
	cr_assert_eq(blk_dev_check(&dev, &r, &b), -EINVAL);
	r = req_of(BLK_OP_DISCARD, 0, VIRTIO_BLK_MAX_DISCARD_SECTORS + 1, 0);
	cr_assert_eq(blk_dev_check(&dev, &r, NULL), -EINVAL);
}

Test(blk_dev, unknown_ops_are_eopnotsupp)
{
	static const uint32_t ops[] = {IPC_OP_NOP, 4, 15,
				       BLK_OP_WRITE_ZEROES + 1, UINT32_MAX};
	unsigned char b[512];

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		cr_assert_eq(run(ops[i], 0, 1, b, 512, NULL), -EOPNOTSUPP,
			     "op %u", ops[i]);
	expect_image_unchanged();
}

Test(blk_dev, get_id_fills_twenty_nul_padded_bytes)
{
	unsigned char id[20];
	uint32_t len = 0;

	memset(id, 0xff, sizeof(id));
	cr_assert_eq(run(BLK_OP_GET_ID, 0, 0, id, 20, &len), 0);
	cr_assert_eq(len, 20);
	cr_assert_arr_eq(id, "disk-0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	cr_assert_eq(run(BLK_OP_GET_ID, 0, 0, id, 21, NULL), -EINVAL);
	cr_assert_eq(run(BLK_OP_GET_ID, 0, 0, id, 0, NULL), -EINVAL);
}

Test(blk_dev, get_id_without_an_id_uses_the_default)
{
	struct ctl_blk_config c = cfg_of(false, NULL);
	unsigned char id[20];

	cr_assert_eq(blk_dev_init(&dev, &be, &c, "stable-7"), 0);
	cr_assert_eq(run(BLK_OP_GET_ID, 0, 0, id, 20, NULL), 0);
	cr_assert_arr_eq(id, "stable-7\0\0\0\0\0\0\0\0\0\0\0", 20);
	/* A full 20-byte id has no terminator in the field. */
	strcpy(c.id, "ABCDEFGHIJKLMNOPQRST");
	cr_assert_eq(blk_dev_init(&dev, &be, &c, NULL), 0);
	cr_assert_eq(run(BLK_OP_GET_ID, 0, 0, id, 20, NULL), 0);
	cr_assert_arr_eq(id, "ABCDEFGHIJKLMNOPQRST", 20);
}

Test(blk_dev, flush_completes_after_fdatasync)
{
	cr_assert_eq(atomic_load(&be.syncs), 0);
	cr_assert_eq(run(IPC_OP_FLUSH, 0, 0, NULL, 0, NULL), 0);
	cr_assert_eq(atomic_load(&be.syncs), 1);
}

Test(blk_dev, discard_reads_back_zeros_and_keeps_neighbours)
{
	static unsigned char r[CAP * 512];
	struct stat a, b;

	cr_assert_eq(fsync(img_fd), 0);
	cr_assert_eq(fstat(img_fd, &a), 0);
	/* Sectors 8..23 are slice bytes 4K..12K, file bytes 8K..16K: two
	 * whole file system blocks to free. */
	cr_assert_eq(run(BLK_OP_DISCARD, 8, 16, NULL, 0, NULL), 0);
	cr_assert_eq(fstat(img_fd, &b), 0);
	cr_assert_lt(b.st_blocks, a.st_blocks);
	cr_assert_eq(run(IPC_OP_READ, 0, CAP, r, CAP * 512, NULL), 0);
	for (size_t i = 0; i < sizeof(r); i++)
		cr_assert_eq(r[i], i >= 8 * 512 && i < 24 * 512 ? 0 : GUARD,
			     "slice byte %zu", i);
	expect_guards_intact();
}

Test(blk_dev, write_zeroes_zeroes_the_sectors)
{
	static unsigned char r[CAP * 512];

	cr_assert_eq(run(BLK_OP_WRITE_ZEROES, 3, 5, NULL, 0, NULL), 0);
	cr_assert_eq(run(IPC_OP_READ, 0, CAP, r, CAP * 512, NULL), 0);
	for (size_t i = 0; i < sizeof(r); i++)
		cr_assert_eq(r[i], i >= 3 * 512 && i < 8 * 512 ? 0 : GUARD,
			     "slice byte %zu", i);
	expect_guards_intact();
}

Test(blk_dev_ro, writes_are_erofs_and_the_file_is_untouched, .init = ro_setup,
     .fini = dev_teardown)
{
	unsigned char b[512];
	uint32_t len;

	memset(b, 0, sizeof(b));
	cr_assert_eq(run(IPC_OP_WRITE, 0, 1, b, 512, NULL), -EROFS);
	cr_assert_eq(run(BLK_OP_DISCARD, 0, 1, NULL, 0, NULL), -EROFS);
	cr_assert_eq(run(BLK_OP_WRITE_ZEROES, 0, 1, NULL, 0, NULL), -EROFS);
	expect_image_unchanged();
	/* Reads, flushes and the id still work. */
	cr_assert_eq(run(IPC_OP_READ, 2, 1, b, 512, &len), 0);
	cr_assert_eq(len, 512);
	cr_assert_eq(b[0], GUARD);
	cr_assert_eq(run(IPC_OP_FLUSH, 0, 0, NULL, 0, NULL), 0);
	cr_assert_eq(run(BLK_OP_GET_ID, 0, 0, b, 20, NULL), 0);
	cr_assert_arr_eq(b, "default-id\0\0\0\0\0\0\0\0\0", 20);
}

Test(blk_dev_eio, backend_eio_is_the_status_and_the_device_lives_on)
{
	struct ctl_blk_config c = cfg_of(false, "x");
	unsigned char b[512];
	uint32_t len = 5;

	/* /proc/self/mem at address 0 (never mapped) fails with EIO. */
	img_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	cr_assert_geq(img_fd, 0);
	cr_assert_eq(blk_backend_init(&be, img_fd, 0), 0);
	cr_assert_eq(blk_dev_init(&dev, &be, &c, NULL), 0);
	cr_assert_eq(run(IPC_OP_READ, 0, 1, b, 512, &len), -EIO);
	cr_assert_eq(len, 0, "a failed read reports no bytes");
	cr_assert_eq(run(IPC_OP_WRITE, 1, 1, b, 512, NULL), -EIO);
	cr_assert_eq(atomic_load(&dev.backend_errors), 2);
	cr_assert_eq(run(BLK_OP_GET_ID, 0, 0, b, 20, NULL), 0);
	close(img_fd);
}

/*
 * A 1 MiB tmpfs in a private mount namespace: a disk larger than its
 * space fills it up and the write that does not fit fails with ENOSPC.
 */
Test(blk_dev_enospc, full_filesystem_is_enospc_and_later_requests_work)
{
	char dir[] = "/tmp/isovm-blk-mnt-XXXXXX";
	struct ctl_blk_config c = cfg_of(false, "full");
	static unsigned char w[64 * 1024], r[64 * 1024];
	uint64_t sector = 0;
	int ret = 0, fd;

	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", 0, "size=1m"), 0);
	fd = tmp_image_in(dir, 4096);
	/* 4 MiB disk, sparse: only written sectors take space. */
	cr_assert_eq(ftruncate(fd, 4 << 20), 0);
	c.capacity_sectors = (4 << 20) / 512;
	c.slice_offset = 0;
	cr_assert_eq(blk_backend_init(&be, fd, 0), 0);
	cr_assert_eq(blk_dev_init(&dev, &be, &c, NULL), 0);
	memset(w, 0x42, sizeof(w));
	while (sector < c.capacity_sectors) {
		ret = run(IPC_OP_WRITE, sector, 128, w, sizeof(w), NULL);
		if (ret)
			break;
		sector += 128;
	}
	cr_assert_eq(ret, -ENOSPC, "stopped at sector %llu with %d",
		     (unsigned long long)sector, ret);
	cr_assert_gt(sector, 0);
	cr_assert_eq(atomic_load(&dev.backend_errors), 1);
	/* Still serving: what was written reads back, rewrites in place
	 * fit, a flush succeeds. */
	cr_assert_eq(run(IPC_OP_READ, 0, 128, r, sizeof(r), NULL), 0);
	cr_assert_arr_eq(r, w, sizeof(w));
	memset(w, 0x43, sizeof(w));
	cr_assert_eq(run(IPC_OP_WRITE, 0, 128, w, sizeof(w), NULL), 0);
	cr_assert_eq(run(IPC_OP_READ, 0, 128, r, sizeof(r), NULL), 0);
	cr_assert_arr_eq(r, w, sizeof(w));
	cr_assert_eq(run(IPC_OP_FLUSH, 0, 0, NULL, 0, NULL), 0);
	close(fd);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}
