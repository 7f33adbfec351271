/*
 * test_linux.c: the Linux guest (Debian's stock kernel + the project's
 * initramfs). The smoke test runs everywhere KVM works: the kernel entered
 * through PVH prints its banner, command line and e820 map on the serial
 * console, then isovm is told to stop (SIGTERM) and ends cleanly. The full
 * test needs hardware virtualization, since on KVM without it guest ring-0
 * code is emulated and a whole Linux boot does not finish.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/harness.h"

#define LINUX_SMOKE_TIMEOUT_MS 120000
#define LINUX_FULL_TIMEOUT_MS 300000

static bool linux_guest_built(void)
{
	if (access(HARNESS_GUEST_DIR "/vmlinux", R_OK) == 0 &&
	    access(HARNESS_GUEST_DIR "/initramfs.cpio.gz", R_OK) == 0)
		return true;
	cr_assert_fail("the Linux guest was not built (%s)", HARNESS_GUEST_DIR);
	return false;
}

static bool have_hw_virt(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5) &&
		    (strstr(line, " vmx") || strstr(line, " svm")))
			found = true;
	fclose(f);
	return found;
}

Test(linux, smoke_pvh_boot_prints_banner_cmdline_and_e820)
{
	const char *until[] = { "Linux version", "Command line:",
				"BIOS-e820:", NULL };
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 HARNESS_GUEST_DIR "/vmlinux", "--initrd",
			 HARNESS_GUEST_DIR "/initramfs.cpio.gz", "--memory",
			 "512M", "--cmdline",
			 "console=ttyS0 earlyprintk=serial,ttyS0 isovm.smoke=1",
			 NULL };
	struct vmrun r;

	if (!harness_have_kvm() || !linux_guest_built())
		return;
	cr_assert_eq(vmrun_until(&r, LINUX_SMOKE_TIMEOUT_MS, until, 10000,
				 argv), 0);
	if (!r.stopped || r.status != 0)
		vmrun_dump(&r, "linux smoke");
	cr_assert(r.stopped, "banner, command line and e820 map not all seen");
	cr_assert_not_null(strstr(r.out, "isovm.smoke=1"),
			   "the kernel did not echo our command line");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF,
		     "isovm did not end cleanly on SIGTERM (status %d)",
		     r.status);
	cr_assert(!r.strays, "processes outlived isovm");
	vmrun_free(&r);
}

Test(linux, full_boot_reaches_ready_and_reports_info)
{
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 HARNESS_GUEST_DIR "/vmlinux", "--initrd",
			 HARNESS_GUEST_DIR "/initramfs.cpio.gz", "--cpus", "2",
			 "--memory", "512M", "--cmdline",
			 "console=ttyS0 isovm.test=info", NULL };
	struct vmrun r;
	char line[512];

	if (!have_hw_virt()) {
		printf("SKIPPED: no hardware virtualization (no vmx/svm in /proc/cpuinfo): "
		       "the full Linux guest test needs it\n");
		fflush(stdout);
		return;
	}
	if (!harness_have_kvm() || !linux_guest_built())
		return;
	cr_assert_eq(vmrun(&r, LINUX_FULL_TIMEOUT_MS, argv), 0);
	if (r.status != 0)
		vmrun_dump(&r, "linux full");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(strstr(r.out, "ISOVM-GUEST-READY"));
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=info", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
	cr_assert_eq(vmrun_key(line, "cpus"), 2, "%s", line);
	vmrun_free(&r);
}

/*
 * Whole-disk pattern through the Linux guest's virtio-blk driver: the
 * guest's isovm-blkpattern writes splitmix64(seed + k) at byte 8k of
 * /dev/vda, flushes, drops its caches and reads it all back; the host then
 * reads the image file itself and must find the same words and the same
 * FNV-1a 64 hash the guest reported.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#define LINUX_BLK_BYTES (8u << 20)
#define LINUX_BLK_SEED 7
#define LINUX_STR_(x) #x
#define LINUX_STR(x) LINUX_STR_(x)

static uint64_t linux_splitmix64(uint64_t x)
{
	uint64_t z = x + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Fills the image with 0xa5, so that words never written show. */
static void linux_make_image(const char *path)
{
	static uint8_t chunk[1 << 20];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0);
	memset(chunk, 0xa5, sizeof(chunk));
	for (size_t off = 0; off < LINUX_BLK_BYTES; off += sizeof(chunk))
		cr_assert_eq(pwrite(fd, chunk, sizeof(chunk), (off_t)off),
			     (ssize_t)sizeof(chunk));
	close(fd);
}

/* Checks every word of the image and returns the FNV-1a 64 of it all. */
static uint64_t linux_check_image(const char *path, uint64_t seed)
{
	static uint8_t buf[1 << 20];
	uint64_t hash = 0xcbf29ce484222325ull, word;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	for (size_t off = 0; off < LINUX_BLK_BYTES; off += sizeof(buf)) {
		cr_assert_eq(pread(fd, buf, sizeof(buf), (off_t)off),
			     (ssize_t)sizeof(buf));
		for (size_t i = 0; i < sizeof(buf); i++) {
			hash ^= buf[i];
			hash *= 0x100000001b3ull;
		}
		for (size_t i = 0; i < sizeof(buf); i += 8) {
			memcpy(&word, buf + i, 8); /* x86 is little-endian */
			cr_assert_eq(word,
				     linux_splitmix64(seed + (off + i) / 8),
				     "image word at byte %zu is %#" PRIx64,
				     off + i, word);
		}
	}
	close(fd);
	return hash;
}

Test(linux, full_blk_pattern_through_vda)
{
	char dir[] = "/tmp/isovm-linuxblk-XXXXXX", img[64], disk[80];
	char line[512], want[48];
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 HARNESS_GUEST_DIR "/vmlinux", "--initrd",
			 HARNESS_GUEST_DIR "/initramfs.cpio.gz", "--cpus", "2",
			 "--memory", "512M", "--disk", disk, "--cmdline",
			 "console=ttyS0 isovm.test=blk-pattern "
			 "isovm.blk.seed=" LINUX_STR(LINUX_BLK_SEED)
			 " isovm.blk.dev=vda",
			 NULL };
	struct vmrun r;

	if (!have_hw_virt()) {
		printf("SKIPPED: no hardware virtualization (no vmx/svm in /proc/cpuinfo): "
		       "the full Linux guest test needs it\n");
		fflush(stdout);
		return;
	}
	if (!harness_have_kvm() || !linux_guest_built())
		return;
	cr_assert_not_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	snprintf(disk, sizeof(disk), "path=%s", img);
	linux_make_image(img);
	cr_assert_eq(vmrun(&r, LINUX_FULL_TIMEOUT_MS, argv), 0);
	if (r.status != 0)
		vmrun_dump(&r, "linux blk-pattern");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=blk-pattern", line,
				      sizeof(line)));
	cr_assert_not_null(strstr(line, "status=pass disk=vda"), "%s", line);
	cr_assert_eq(vmrun_key(line, "bytes"), (long long)LINUX_BLK_BYTES,
		     "%s", line);
	snprintf(want, sizeof(want), "hash=0x%016" PRIx64,
		 linux_check_image(img, LINUX_BLK_SEED));
	cr_assert_not_null(strstr(line, want), "guest and host differ: %s",
			   line);
	vmrun_free(&r);
	unlink(img);
	rmdir(dir);
}
