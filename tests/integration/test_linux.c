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
