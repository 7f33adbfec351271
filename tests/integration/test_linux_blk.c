/*
 * test_linux_blk.c: virtual disks under the Linux guest's virtio-blk
 * driver: the seeded pattern over a whole image and over a slice of one
 * (the host checks the image byte for byte, and that the bytes around the
 * slice are untouched), fio's crc32c verify after random writes, a guest
 * sync reaching the block server as FLUSH, and a read-only disk refusing
 * the guest's writes. Like test_linux.c, every test needs hardware
 * virtualization.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/blk_image.h"
#include "tests/integration/harness.h"

#define LINUX_BLK_TIMEOUT_MS 300000
/* fio writes and reads back 64 MiB: the slowest test of the lab. */
#define LINUX_FIO_TIMEOUT_MS 900000
#define LINUX_MAX_ARGS	     32
#define MIB		     (1024ull * 1024)
#define LINUX_FILL	     0xa5

/* Each test's files live in a directory of its own, removed after it. */
static char lb_dir[] = "/tmp/isovm-linuxblk-XXXXXX";

static void lb_setup(void)
{
	harness_enter_tmpdir(lb_dir);
}

static void lb_teardown(void)
{
	harness_remove_tmpdir(lb_dir);
}

TestSuite(linux, .init = lb_setup, .fini = lb_teardown);

static void lb_need_guest(void)
{
	if (access(HARNESS_GUEST_DIR "/vmlinux", R_OK) != 0 ||
	    access(HARNESS_GUEST_DIR "/initramfs.cpio.gz", R_OK) != 0)
		cr_assert_fail("the Linux guest was not built (%s)",
			       HARNESS_GUEST_DIR);
}

/*
 * Boots the Linux guest (2 vCPUs, 512 MiB) with one disk and the command
 * line, at log level debug so that isovm prints the block stats at exit.
 */
static void lb_boot_hook(struct vmrun *r, int timeout_ms,
			 const char *cmdline, const char *disk,
			 const struct vmrun_opts *o);

static void lb_boot(struct vmrun *r, int timeout_ms, const char *cmdline,
		    const char *disk)
{
	lb_boot_hook(r, timeout_ms, cmdline, disk, NULL);
}

/* lb_boot() with a hook that watches (and may act) while it runs. */
static void lb_boot_hook(struct vmrun *r, int timeout_ms,
			 const char *cmdline, const char *disk,
			 const struct vmrun_opts *o)
{
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			HARNESS_GUEST_DIR "/vmlinux",
			"--initrd",
			HARNESS_GUEST_DIR "/initramfs.cpio.gz",
			"--cpus",
			"2",
			"--memory",
			"512M",
			"--log-level",
			"debug",
			"--disk",
			(char *)disk,
			"--cmdline",
			(char *)cmdline,
			/* Kill tests kill more often than a crash loop would. */
			o ? "--restart-limit" : NULL,
			"1000/10",
			NULL};

	cr_assert_eq(vmrun_opts(r, timeout_ms, o, argv), 0);
	if (r->status != 0 || r->timed_out)
		vmrun_dump(r, cmdline);
	cr_assert(!r->timed_out, "the guest did not finish in time");
	cr_assert_eq(r->status, ISOVM_EXIT_POWEROFF,
		     "exit status %d, not the power-off's 0", r->status);
	cr_assert(!r->strays, "processes outlived isovm");
}

/* The guest's one report line for test name, which must have passed. */
static void lb_report(const struct vmrun *r, const char *name, char *line,
		      size_t cap)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "ISOVM-TEST name=%s ", name);
	cr_assert_not_null(vmrun_line(r, needle, line, cap),
			   "no %s report from the guest", name);
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
}

/* FNV-1a 64 of a whole file. */
static uint64_t lb_hash_file(const char *path)
{
	static uint8_t buf[1 << 20];
	uint64_t hash = 0xcbf29ce484222325ull;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert_geq(fd, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			hash ^= buf[i];
			hash *= 0x100000001b3ull;
		}
	cr_assert_eq(n, 0);
	close(fd);
	return hash;
}

/* Runs blk-pattern with seed over the disk spec; checks the image. */
static void lb_pattern(const char *disk, uint64_t size, uint64_t base,
		       uint64_t len, uint64_t seed)
{
	char cmdline[128], line[512], want[48];
	struct vmrun r;

	blk_image_make("disk.img", size, LINUX_FILL);
	snprintf(cmdline, sizeof(cmdline),
		 "console=ttyS0 isovm.test=blk-pattern isovm.blk.seed=%" PRIu64
		 " isovm.blk.dev=vda",
		 seed);
	lb_boot(&r, LINUX_BLK_TIMEOUT_MS, cmdline, disk);
	lb_report(&r, "blk-pattern", line, sizeof(line));
	cr_assert_not_null(strstr(line, "disk=vda"), "%s", line);
	cr_assert_eq(vmrun_key(line, "bytes"), (long long)len,
		     "the guest's disk is not the slice: %s", line);
	snprintf(want, sizeof(want), "hash=0x%016" PRIx64,
		 blk_image_check("disk.img", base, len, seed, LINUX_FILL));
	cr_assert_not_null(strstr(line, want), "guest and host differ: %s",
			   line);
	vmrun_free(&r);
}

/*
 * Whole-disk pattern: the guest's isovm-blkpattern writes the pattern over
 * /dev/vda, flushes, drops its caches and reads it all back; the host then
 * reads the image itself and must find the same words and hash.
 */
Test(linux, full_blk_pattern_through_vda)
{
	harness_need_hw_virt();
	lb_need_guest();
	lb_pattern("path=disk.img", 8 * MIB, 0, 8 * MIB, 7);
}

/*
 * A slice that starts at an odd sector of the file: guest sector s is
 * file byte offset + 512 s, and no byte around the slice may change.
 */
Test(linux, blk_pattern_on_a_slice_leaves_the_rest_untouched)
{
	const uint64_t base = 3 * MIB + 3 * 512, len = 4 * MIB;
	char disk[96];

	harness_need_hw_virt();
	lb_need_guest();
	snprintf(disk, sizeof(disk),
		 "path=disk.img,offset=%" PRIu64 ",size=%" PRIu64, base, len);
	lb_pattern(disk, 12 * MIB, base, len, 9);
}

/*
 * fio's own check of random writes at queue depth 16: each block carries
 * a crc32c, every block of the 64 MiB is read back and verified. Block
 * sizes from 4 KiB to 64 KiB give one-page and multi-segment requests
 * (4 KiB only would take too long in the lab).
 */
/* fio-verify over a new 64 MiB disk.img; its report line in line. */
static void lb_fio(struct vmrun *r, const struct vmrun_opts *o, char *line,
		   size_t cap)
{
	FILE *f;

	harness_need_hw_virt();
	lb_need_guest();
	f = fopen("disk.img", "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), 64 * MIB), 0);
	fclose(f);
	lb_boot_hook(r, LINUX_FIO_TIMEOUT_MS,
		     "console=ttyS0 isovm.test=fio-verify isovm.fio.bs=4k-64k "
		     "isovm.fio.size=64m isovm.fio.iodepth=16",
		     "path=disk.img", o);
	lb_report(r, "fio-verify", line, cap);
	cr_assert_eq(vmrun_key(line, "error"), 0, "%s", line);
}

Test(linux, fio_random_writes_verify_with_crc32c)
{
	struct vmrun r;
	char line[512];

	lb_fio(&r, NULL, line, sizeof(line));
	cr_assert_eq(vmrun_key(line, "written_kb"), 64 * 1024, "%s", line);
	cr_assert_eq(vmrun_key(line, "verified_kb"), 64 * 1024, "%s", line);
	vmrun_free(&r);
}

static void lb_kill_hook(struct vmrun *r, void *arg)
{
	harness_kill_tick(r, arg);
}

/*
 * The same fio verify while the block server is killed 20 times: every
 * kill is a restart with the requests in flight replayed, and fio sees no
 * error and no verify failure.
 */
Test(linux, fio_verify_passes_while_the_block_server_is_killed_20_times)
{
	/* From the guest's READY on, every 0.3 s: fio writes, then
	 * verifies, meanwhile. */
	struct harness_killer k = {.comm = "isovm-blk",
				   .after = "ISOVM-GUEST-READY",
				   .until = "name=fio-verify",
				   .want = 20,
				   .gap_ms = 300};
	struct vmrun_opts o = {.hook = lb_kill_hook, .arg = &k};
	struct vmrun r;
	char line[512];

	lb_fio(&r, &o, line, sizeof(line));
	cr_assert_eq(vmrun_key(line, "verified_kb"), 64 * 1024, "%s", line);
	cr_assert_eq(k.kills, 20u, "fio ended after %u kills", k.kills);
	/* A kill may find a restarted server before its READY (the lab is
	 * slow): a death all the same, and restarted again. */
	if (vmrun_count(&r, ") died: killed by signal 9") != 20u)
		vmrun_dump(&r, "kills");
	cr_assert_eq(vmrun_count(&r, ") died: killed by signal 9"), 20u);
	cr_assert_geq(vmrun_count(&r, "blk0 server restarted"), 1u);
	cr_assert_eq(vmrun_count(&r, "NEEDS_RESET"), 0u);
	cr_assert_not_null(vmrun_line(&r, "blk0 server: deaths=", line,
				      sizeof(line)));
	cr_assert_eq(vmrun_key(line, "deaths"), 20, "%s", line);
	cr_assert_null(strstr(line, " failed"), "%s", line);
	vmrun_free(&r);
}

/*
 * A buffered write then "sync /dev/vda" in the guest: the kernel counts a
 * FLUSH for vda, and the block server, whose stats isovm logs at exit at
 * log level debug, received at least as many (nothing else in this boot
 * flushes: a bare sync of a raw disk writes it back but sends no FLUSH).
 */
Test(linux, sync_reaches_the_block_server_as_flush)
{
	struct vmrun r;
	char line[512], stats[512];
	long long guest, server, syncs;

	harness_need_hw_virt();
	lb_need_guest();
	blk_image_make("disk.img", 4 * MIB, LINUX_FILL);
	lb_boot(&r, LINUX_BLK_TIMEOUT_MS, "console=ttyS0 isovm.test=blk-sync",
		"path=disk.img");
	lb_report(&r, "blk-sync", line, sizeof(line));
	guest = vmrun_key(line, "flushes_after");
	cr_assert_gt(guest, 0, "%s", line);
	cr_assert_not_null(
		vmrun_line(&r, "blk0 server stats:", stats, sizeof(stats)),
		"isovm logged no block server stats");
	server = vmrun_key(stats, "flush");
	syncs = vmrun_key(stats, "fdatasync");
	cr_assert_geq(server, guest,
		      "the guest sent %lld FLUSH, the server saw %lld: %s",
		      guest, server, stats);
	cr_assert_geq(syncs, 1, "the server never called fdatasync: %s", stats);
	vmrun_free(&r);
}

/*
 * "ro": the guest sees a read-only disk, its direct write fails, and the
 * image is byte for byte what it was.
 */
Test(linux, read_only_disk_refuses_guest_writes)
{
	struct vmrun r;
	char line[512];
	uint64_t before;

	harness_need_hw_virt();
	lb_need_guest();
	blk_image_make("disk.img", 4 * MIB, LINUX_FILL);
	before = lb_hash_file("disk.img");
	lb_boot(&r, LINUX_BLK_TIMEOUT_MS, "console=ttyS0 isovm.test=blk-ro",
		"path=disk.img,ro");
	lb_report(&r, "blk-ro", line, sizeof(line));
	cr_assert_not_null(strstr(line, "write=failed"), "%s", line);
	cr_assert_eq(vmrun_key(line, "ro"), 1,
		     "the guest does not see the disk read-only: %s", line);
	cr_assert_eq(lb_hash_file("disk.img"), before,
		     "the read-only image changed");
	vmrun_free(&r);
}
