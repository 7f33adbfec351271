/*
 * test_blk.c: virtual disks end to end with the test guest's virtio-blk
 * driver. Guest sector s of a disk is byte base + 512*s of the host file:
 * the guest writes a seeded pattern, and the host checks the image byte for
 * byte (for slices, also that the bytes around them are untouched).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/blk_image.h"
#include "tests/integration/harness.h"

#define BLK_TIMEOUT_MS 120000
#define MIB (1024ull * 1024)

static char blk_dir[] = "/tmp/isovm-blk-XXXXXX";

static void blk_setup(void)
{
	harness_enter_tmpdir(blk_dir);
}

static void blk_teardown(void)
{
	harness_remove_tmpdir(blk_dir);
}

TestSuite(blk, .init = blk_setup, .fini = blk_teardown);

static void blk_boot(struct vmrun *r, const char *cmdline, const char *d0,
		     const char *d1)
{
	char *argv[16];
	unsigned n = 0;

	argv[n++] = (char *)HARNESS_ISOVM;
	argv[n++] = "run";
	argv[n++] = "--kernel";
	argv[n++] = HARNESS_TESTGUEST;
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	argv[n++] = "--cmdline";
	argv[n++] = (char *)cmdline;
	argv[n++] = "--disk";
	argv[n++] = (char *)d0;
	if (d1) {
		argv[n++] = "--disk";
		argv[n++] = (char *)d1;
	}
	argv[n] = NULL;
	cr_assert_eq(vmrun(r, BLK_TIMEOUT_MS, argv), 0);
	if (r->status != 0 || r->timed_out)
		vmrun_dump(r, cmdline);
}

static void blk_expect_pattern(const struct vmrun *r, uint64_t bytes,
			       uint64_t host_hash)
{
	char line[512], hashkey[40];

	cr_assert_eq(r->status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(vmrun_line(r, "ISOVM-TEST name=blk-pattern", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	cr_assert_eq((uint64_t)vmrun_key(line, "bytes"), bytes, "%s", line);
	snprintf(hashkey, sizeof(hashkey), "hash=0x%016" PRIx64, host_hash);
	cr_assert_not_null(strstr(line, hashkey), "guest and host differ: %s",
			   line);
}

Test(blk, pattern_on_a_whole_file_is_exact)
{
	struct vmrun r;
	uint64_t hash;

	harness_need_kvm();
	blk_image_make("disk.img", 16 * MIB, 0);
	blk_boot(&r, "test=blk-pattern blk-pattern.seed=5", "path=disk.img",
		 NULL);
	hash = blk_image_check("disk.img", 0, 16 * MIB, 5, -1);
	blk_expect_pattern(&r, 16 * MIB, hash);
	vmrun_free(&r);
}

/* 1 MiB requests: 64 segments of 16 KiB plus header and status, one
 * indirect chain; the data must still land byte for byte. */
Test(blk, pattern_in_1_mib_requests_is_exact)
{
	struct vmrun r;
	uint64_t hash;

	harness_need_kvm();
	blk_image_make("big.img", 8 * MIB, 0);
	blk_boot(&r, "test=blk-pattern blk-pattern.seed=11 "
		     "blk-pattern.chunk=1048576",
		 "path=big.img,cache=none", NULL);
	hash = blk_image_check("big.img", 0, 8 * MIB, 11, -1);
	blk_expect_pattern(&r, 8 * MIB, hash);
	vmrun_free(&r);
}

Test(blk, pattern_on_two_slices_of_one_file_leaves_the_rest)
{
	struct vmrun r;
	uint64_t h1;

	harness_need_kvm();
	/* [0,4M) untouched | disk 0 [4M,12M) | [12M,16M) untouched | disk 1 [16M,24M) | [24M,32M) */
	blk_image_make("big.img", 32 * MIB, 0xaa);
	blk_boot(&r, "test=blk-pattern blk-pattern.seed=11 blk-pattern.disk=0",
		 "path=big.img,offset=4M,size=8M,id=slice0",
		 "path=big.img,offset=16M,size=8M,id=slice1");
	blk_expect_pattern(&r, 8 * MIB,
			   blk_image_check("big.img", 4 * MIB, 8 * MIB, 11, -1));
	vmrun_free(&r);
	blk_boot(&r, "test=blk-pattern blk-pattern.seed=12 blk-pattern.disk=1",
		 "path=big.img,offset=4M,size=8M,id=slice0",
		 "path=big.img,offset=16M,size=8M,id=slice1");
	h1 = blk_image_check("big.img", 16 * MIB, 8 * MIB, 12, -1);
	blk_expect_pattern(&r, 8 * MIB, h1);
	vmrun_free(&r);
	/* Both slices hold their own pattern; everything else is 0xaa. */
	blk_image_check("big.img", 4 * MIB, 8 * MIB, 11, -1);
	{
		static uint8_t buf[1 << 20];
		int fd = open("big.img", O_RDONLY);
		const uint64_t gaps[][2] = { { 0, 4 * MIB },
					     { 12 * MIB, 16 * MIB },
					     { 24 * MIB, 32 * MIB } };

		cr_assert_geq(fd, 0);
		for (unsigned g = 0; g < 3; g++)
			for (uint64_t off = gaps[g][0]; off < gaps[g][1];
			     off += sizeof(buf)) {
				cr_assert_eq(pread(fd, buf, sizeof(buf), (off_t)off),
					     (ssize_t)sizeof(buf));
				for (size_t i = 0; i < sizeof(buf); i++)
					cr_assert_eq(buf[i], 0xaa,
						     "byte %" PRIu64 " outside the slices changed",
						     off + i);
			}
		close(fd);
	}
}

Test(blk, read_only_disk_refuses_writes_and_stays_untouched)
{
	struct vmrun r;
	char line[512];
	struct stat before, after;

	harness_need_kvm();
	blk_image_make("ro.img", 4 * MIB, 0x5a);
	cr_assert_eq(stat("ro.img", &before), 0);
	blk_boot(&r, "test=blk-ro", "path=ro.img,ro", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=blk-ro", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	blk_image_check("ro.img", 0, 0, 0, 0x5a);
	cr_assert_eq(stat("ro.img", &after), 0);
	cr_assert_eq(before.st_mtime, after.st_mtime);
	vmrun_free(&r);
}

Test(blk, flush_reaches_fdatasync)
{
	struct vmrun r;
	char line[512];
	long long flushes;

	harness_need_kvm();
	blk_image_make("f.img", 4 * MIB, 0);
	blk_boot(&r, "test=blk-pattern", "path=f.img", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	/* The server's own count of fdatasync() calls, logged at exit. */
	cr_assert_not_null(vmrun_line(&r, "fdatasync=", line, sizeof(line)),
			   "no block stats line");
	flushes = vmrun_key(line, "fdatasync");
	cr_assert_geq(flushes, 1, "%s", line);
	vmrun_free(&r);
}

Test(blk, enospc_reaches_the_guest_as_an_io_error)
{
	/* A 2 MiB tmpfs in a private mount namespace holds a 16 MiB sparse image. */
	char script[1024];
	char *argv[] = { "/usr/bin/unshare", "--mount", "--propagation",
			 "private", "/bin/sh", "-c", script, NULL };
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	if (geteuid() != 0) {
		printf("SKIPPED: mounting a small tmpfs needs root\n");
		return;
	}
	snprintf(script, sizeof(script),
		 "mkdir -p full && mount -t tmpfs -o size=2m none full && "
		 "truncate -s 16M full/disk.img && "
		 "exec %s run --kernel %s --disk path=full/disk.img "
		 "--cmdline 'test=blk-pattern,info'",
		 HARNESS_ISOVM, HARNESS_TESTGUEST);
	cr_assert_eq(vmrun(&r, BLK_TIMEOUT_MS, argv), 0);
	if (r.status != 0)
		vmrun_dump(&r, "enospc");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF, "the VM did not keep running");
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=blk-pattern", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=fail"), "%s", line);
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=info status=pass"),
			   "the guest did not go on after the error");
	vmrun_free(&r);
}

static void blk_bad(const char *disk, const char *needle)
{
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 HARNESS_TESTGUEST, "--disk", (char *)disk, NULL };
	struct vmrun r;

	cr_assert_eq(vmrun(&r, 20000, argv), 0);
	if (r.status != ISOVM_EXIT_USAGE || !strstr(r.err, needle))
		vmrun_dump(&r, disk);
	cr_assert_eq(r.status, ISOVM_EXIT_USAGE);
	cr_assert_not_null(strstr(r.err, needle), "stderr lacks '%s'", needle);
	cr_assert_eq(r.out_len, 0, "a VM ran");
	cr_assert(!r.strays);
	vmrun_free(&r);
}

Test(blk, bad_disk_arguments)
{
	int fd;

	blk_image_make("ok.img", 1 * MIB, 0);
	fd = open("odd.img", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1000), 0);
	close(fd);
	cr_assert_eq(mkdir("adir", 0755), 0);

	blk_bad("path=missing.img", "missing.img");
	blk_bad("path=adir", "adir");
	blk_bad("path=odd.img", "odd.img");
	blk_bad("path=ok.img,offset=512K,size=1M", "ok.img");
	blk_bad("path=ok.img,offset=100,size=4096", "ok.img");
	blk_bad("path=ok.img,colour=blue", "colour");
	blk_bad("path=ok.img,cache=sometimes", "cache");
	blk_bad("", "--disk");
	blk_bad("path=ok.img,id=this-id-is-far-too-long-for-virtio", "id");
}

Test(blk, overlapping_writable_slices_are_refused)
{
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 HARNESS_TESTGUEST, "--disk",
			 "path=ov.img,offset=0,size=1M", "--disk",
			 "path=ov.img,offset=512K,size=1M", NULL };
	struct vmrun r;

	blk_image_make("ov.img", 2 * MIB, 0);
	cr_assert_eq(vmrun(&r, 20000, argv), 0);
	if (r.status != ISOVM_EXIT_USAGE)
		vmrun_dump(&r, "overlap");
	cr_assert_eq(r.status, ISOVM_EXIT_USAGE);
	cr_assert_not_null(strstr(r.err, "overlap"), "%s", r.err);
	vmrun_free(&r);
}

Test(blk, image_in_use_by_another_writer_is_refused)
{
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 HARNESS_TESTGUEST, "--disk", "path=busy.img", NULL };
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct vmrun r;
	int fd;

	blk_image_make("busy.img", 1 * MIB, 0);
	/* Another isovm holds it: the same kind of lock, taken here. */
	fd = open("busy.img", O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	cr_assert_eq(vmrun(&r, 20000, argv), 0);
	if (r.status != ISOVM_EXIT_USAGE)
		vmrun_dump(&r, "busy");
	cr_assert_eq(r.status, ISOVM_EXIT_USAGE);
	cr_assert_not_null(strstr(r.err, "in use"), "%s", r.err);
	close(fd);
	vmrun_free(&r);
}
