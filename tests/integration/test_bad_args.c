/*
 * test_bad_args.c: every bad input to `isovm run` gets one clear error line
 * and its documented exit status, before any VM runs, and leaves no process
 * and no file behind.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/harness.h"

#define BAD_TIMEOUT_MS 20000

static char bad_dir[] = "/tmp/isovm-badargs-XXXXXX";

static void bad_setup(void)
{
	cr_assert_not_null(mkdtemp(bad_dir));
	cr_assert_eq(chdir(bad_dir), 0);
}

static unsigned bad_dir_entries(void)
{
	char cmd[128];
	FILE *p;
	unsigned n = 0;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", bad_dir);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%u", &n) != 1)
		n = 9999;
	if (p)
		pclose(p);
	return n;
}

static void write_file(const char *name, const void *data, size_t len)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Runs isovm with argv, expects status and a stderr line containing needle. */
static void expect_error(int status, const char *needle, char *const argv[])
{
	struct vmrun r;
	unsigned files_before = bad_dir_entries();

	cr_assert_eq(vmrun(&r, BAD_TIMEOUT_MS, argv), 0);
	if (r.status != status || !strstr(r.err, needle))
		vmrun_dump(&r, argv[1]);
	cr_assert(!r.timed_out, "isovm hung");
	cr_assert_eq(r.status, status, "status %d, want %d", r.status, status);
	cr_assert_not_null(strstr(r.err, needle), "stderr lacks '%s'", needle);
	cr_assert_eq(r.out_len, 0, "nothing may reach the guest console");
	cr_assert(!r.strays, "processes outlived isovm");
	cr_assert_eq(bad_dir_entries(), files_before, "isovm created files");
	vmrun_free(&r);
}

#define ISOVM (char *)HARNESS_ISOVM
#define TG (char *)HARNESS_TESTGUEST

TestSuite(bad_args, .init = bad_setup);

Test(bad_args, unknown_flag)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--frobnicate", NULL };

	expect_error(ISOVM_EXIT_USAGE, "--frobnicate", argv);
}

Test(bad_args, unknown_command)
{
	char *argv[] = { ISOVM, "fly", NULL };

	expect_error(ISOVM_EXIT_USAGE, "fly", argv);
}

Test(bad_args, missing_kernel_file)
{
	char *argv[] = { ISOVM, "run", "--kernel", "no-such-kernel", NULL };

	expect_error(ISOVM_EXIT_USAGE, "no-such-kernel", argv);
}

Test(bad_args, kernel_is_a_directory)
{
	char *argv[] = { ISOVM, "run", "--kernel", "/", NULL };

	expect_error(ISOVM_EXIT_USAGE, "kernel /", argv);
}

Test(bad_args, kernel_neither_bzimage_nor_pvh_elf)
{
	char *argv[] = { ISOVM, "run", "--kernel", "junk.bin", NULL };
	static const char junk[4096] = "this is not a kernel";

	write_file("junk.bin", junk, sizeof(junk));
	expect_error(ISOVM_EXIT_USAGE, "not a bzImage or an ELF", argv);
}

Test(bad_args, elf_without_pvh_note)
{
	char *argv[] = { ISOVM, "run", "--kernel", "/bin/true", NULL };

	expect_error(ISOVM_EXIT_USAGE, "/bin/true", argv);
}

Test(bad_args, bzimage_with_too_old_boot_protocol)
{
	char *argv[] = { ISOVM, "run", "--kernel", "old.bzImage", NULL };
	static uint8_t img[16384];

	memset(img, 0, sizeof(img));
	img[0x1f1] = 4;              /* setup_sects */
	img[0x1fe] = 0x55;           /* boot flag */
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x05;           /* protocol 2.05 */
	img[0x207] = 0x02;
	write_file("old.bzImage", img, sizeof(img));
	expect_error(ISOVM_EXIT_USAGE, "too old", argv);
}

Test(bad_args, initrd_that_does_not_fit)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--memory", "32M",
			 "--initrd", "big.img", NULL };
	int fd = open("big.img", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 64 << 20), 0);
	close(fd);
	expect_error(ISOVM_EXIT_USAGE, "big.img", argv);
}

Test(bad_args, missing_initrd)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--initrd",
			 "no-such-initrd", NULL };

	expect_error(ISOVM_EXIT_USAGE, "no-such-initrd", argv);
}

Test(bad_args, memory_too_small)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--memory", "1M", NULL };

	expect_error(ISOVM_EXIT_USAGE, "--memory", argv);
}

Test(bad_args, memory_too_large)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--memory", "100000G",
			 NULL };

	expect_error(ISOVM_EXIT_USAGE, "--memory", argv);
}

Test(bad_args, memory_not_a_size)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--memory", "lots",
			 NULL };

	expect_error(ISOVM_EXIT_USAGE, "--memory", argv);
}

Test(bad_args, zero_cpus)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--cpus", "0", NULL };

	expect_error(ISOVM_EXIT_USAGE, "--cpus", argv);
}

Test(bad_args, cpus_above_kvm_limit)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--cpus", "100000",
			 NULL };

	expect_error(ISOVM_EXIT_USAGE, "--cpus", argv);
}

Test(bad_args, bad_on_reboot_value)
{
	char *argv[] = { ISOVM, "run", "--kernel", TG, "--on-reboot", "maybe",
			 NULL };

	expect_error(ISOVM_EXIT_USAGE, "--on-reboot", argv);
}

Test(bad_args, no_dev_kvm)
{
	/* A private mount namespace with an empty /dev hides /dev/kvm. */
	char *argv[] = { "/usr/bin/unshare", "--mount", "--propagation",
			 "private", "/bin/sh", "-c",
			 "mount -t tmpfs none /dev && exec \"$0\" run --kernel \"$1\"",
			 ISOVM, TG, NULL };

	if (access("/usr/bin/unshare", X_OK) != 0 || geteuid() != 0) {
		printf("SKIPPED: needs root and unshare(1) to hide /dev/kvm\n");
		return;
	}
	/* It says what is missing, and what runs isovm anyway. */
	expect_error(ISOVM_EXIT_VMM_ERROR,
		     "cannot open /dev/kvm: No such file or directory: this host "
		     "offers no KVM", argv);
	expect_error(ISOVM_EXIT_VMM_ERROR, "scripts/kvm-lab.sh", argv);
}

Test(bad_args, dev_kvm_that_is_not_kvm)
{
	/*
	 * A /dev/kvm that is /dev/null's device, in a private mount namespace
	 * whose /dev is empty (so it works whether the host has a /dev/kvm).
	 */
	char *argv[] = { "/usr/bin/unshare", "--mount", "--propagation",
			 "private", "/bin/sh", "-c",
			 "mount -t tmpfs none /dev && mknod /dev/kvm c 1 3 && "
			 "exec \"$0\" run --kernel \"$1\"",
			 ISOVM, TG, NULL };

	if (access("/usr/bin/unshare", X_OK) != 0 || geteuid() != 0) {
		printf("SKIPPED: needs root and unshare(1) to replace /dev/kvm\n");
		return;
	}
	expect_error(ISOVM_EXIT_VMM_ERROR, "/dev/kvm is not a KVM device",
		     argv);
}

Test(bad_args, no_permission_on_dev_kvm)
{
	char *argv[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
			 "--clear-groups", ISOVM, "run", "--kernel", TG, NULL };
	struct stat st;

	if (access("/usr/bin/setpriv", X_OK) != 0 || geteuid() != 0 ||
	    stat("/dev/kvm", &st) != 0 || (st.st_mode & 0006)) {
		printf("SKIPPED: needs root, setpriv(1) and a /dev/kvm closed to others\n");
		return;
	}
	expect_error(ISOVM_EXIT_VMM_ERROR, "/dev/kvm", argv);
}
