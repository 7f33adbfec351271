/*
 * test_boot.c: isovm boots the test guest under KVM: CPUs, memory across the
 * 32-bit hole, the command line, SMP with more vCPUs than host cores, reboot
 * and power-off, the guest's panic report, and a KVM emulation failure.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/harness.h"

#define BOOT_TIMEOUT_MS 60000

static void boot_testguest(struct vmrun *r, const char *cpus, const char *mem,
			   const char *cmdline, const char *on_reboot)
{
	int rc;

	if (on_reboot)
		rc = vmrun_isovm(r, BOOT_TIMEOUT_MS, "run", "--kernel",
				 HARNESS_TESTGUEST, "--cpus", cpus, "--memory",
				 mem, "--cmdline", cmdline, "--on-reboot",
				 on_reboot, NULL);
	else
		rc = vmrun_isovm(r, BOOT_TIMEOUT_MS, "run", "--kernel",
				 HARNESS_TESTGUEST, "--cpus", cpus, "--memory",
				 mem, "--cmdline", cmdline, NULL);
	cr_assert_eq(rc, 0, "could not run isovm");
	if (r->status != 0 || r->timed_out)
		vmrun_dump(r, cmdline);
}

static void expect_pass(const struct vmrun *r, const char *name, char *line,
			size_t cap)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "ISOVM-TEST name=%s ", name);
	cr_assert_not_null(vmrun_line(r, needle, line, cap),
			   "no result line for %s", name);
	cr_assert_not_null(strstr(line, "status=pass"), "%s", line);
}

static void check_info(const char *cpus, long long want_cpus)
{
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	boot_testguest(&r, cpus, "256M", "test=info", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert(!r.strays, "processes outlived isovm");
	expect_pass(&r, "info", line, sizeof(line));
	cr_assert_eq(vmrun_key(line, "cpus"), want_cpus, "%s", line);
	vmrun_free(&r);
}

Test(boot, info_reports_one_cpu)
{
	check_info("1", 1);
}

Test(boot, info_reports_four_cpus)
{
	check_info("4", 4);
}

Test(boot, smp_runs_four_vcpus_on_two_cores)
{
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	boot_testguest(&r, "4", "256M", "test=smp", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	expect_pass(&r, "smp", line, sizeof(line));
	cr_assert_eq(vmrun_key(line, "online"), 4, "%s", line);
	vmrun_free(&r);
}

static void check_memory(const char *mem, long long want_kb)
{
	struct vmrun r;
	char line[512];
	long long kb;

	harness_need_kvm();
	boot_testguest(&r, "1", mem, "test=info", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	expect_pass(&r, "info", line, sizeof(line));
	kb = vmrun_key(line, "mem_kb");
	cr_assert(kb > want_kb * 99 / 100 && kb <= want_kb,
		  "mem_kb %lld not within 1%% of %lld: %s", kb, want_kb, line);
	vmrun_free(&r);
}

Test(boot, memory_256m_reported_within_one_percent)
{
	check_memory("256M", 256LL * 1024);
}

Test(boot, memory_5g_across_the_hole_reported_within_one_percent)
{
	check_memory("5G", 5LL * 1024 * 1024);
}

Test(boot, cmdline_words_are_echoed)
{
	struct vmrun r;
	char line[1024];

	harness_need_kvm();
	boot_testguest(&r, "1", "128M", "test=info alpha=1 bravo charlie=x,y",
		       NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	expect_pass(&r, "info", line, sizeof(line));
	cr_assert_not_null(strstr(line, "alpha=1"), "%s", line);
	cr_assert_not_null(strstr(line, "bravo"), "%s", line);
	cr_assert_not_null(strstr(line, "charlie=x,y"), "%s", line);
	vmrun_free(&r);
}

Test(boot, reboot_restarts_in_process_then_powers_off)
{
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	boot_testguest(&r, "1", "128M", "test=reboot", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_eq(vmrun_count(&r, "isovm-testguest: boot="), 2,
		     "expected two boots");
	expect_pass(&r, "reboot", line, sizeof(line));
	cr_assert_eq(vmrun_key(line, "boot"), 1, "%s", line);
	vmrun_free(&r);
}

Test(boot, reboot_with_on_reboot_exit_ends_after_one_boot)
{
	struct vmrun r;

	harness_need_kvm();
	boot_testguest(&r, "1", "128M", "test=reboot", "exit");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_eq(vmrun_count(&r, "isovm-testguest: boot="), 1,
		     "expected one boot");
	vmrun_free(&r);
}

Test(boot, panic_report_gives_panic_status)
{
	struct vmrun r;

	harness_need_kvm();
	boot_testguest(&r, "1", "128M", "test=panic", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_GUEST_PANIC, "status %d", r.status);
	cr_assert(!r.strays, "processes outlived isovm");
	vmrun_free(&r);
}

Test(boot, interrupts_timer_and_self_checks_pass)
{
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	boot_testguest(&r, "2", "128M", "test=selftest,irq,timer", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	expect_pass(&r, "selftest", line, sizeof(line));
	expect_pass(&r, "irq", line, sizeof(line));
	/* The PIT's IRQ 0 arrives on the IOAPIC pin the MP table names. */
	expect_pass(&r, "timer", line, sizeof(line));
	vmrun_free(&r);
}

Test(boot, triple_fault_reboots_in_process)
{
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	boot_testguest(&r, "1", "128M", "test=reboot-triple", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_eq(vmrun_count(&r, "isovm-testguest: boot="), 2);
	expect_pass(&r, "reboot-triple", line, sizeof(line));
	vmrun_free(&r);
}

Test(boot, guest_page_fault_is_reported_as_a_panic)
{
	struct vmrun r;

	harness_need_kvm();
	boot_testguest(&r, "1", "128M", "test=fault", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_GUEST_PANIC, "status %d", r.status);
	cr_assert_not_null(strstr(r.err, "guest panic"));
	vmrun_free(&r);
}

Test(boot, kvm_emulation_failure_ends_the_vm_with_a_fault_report)
{
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	boot_testguest(&r, "1", "128M", "test=emul-fail", NULL);
	cr_assert_eq(r.status, ISOVM_EXIT_GUEST_FAULT, "status %d", r.status);
	cr_assert(!r.timed_out && !r.strays);
	cr_assert_not_null(strstr(r.out, "emul-fail: x87 load"));
	cr_assert_null(strstr(r.out, "ISOVM-TEST name=emul-fail"),
		       "the guest went on after the failed instruction");
	cr_assert_not_null(vmrun_line(&r, "KVM internal error", line,
				      sizeof(line)));
	/* Registers, then the bytes at rip: flds (%rax) is d9 00. */
	cr_assert_not_null(strstr(line, "rip=0x"), "%s", line);
	cr_assert_not_null(strstr(line, "cr3=0x"), "%s", line);
	cr_assert_not_null(strstr(line, "code: d9 00"), "%s", line);
	cr_assert_eq(vmrun_count(&r, "KVM internal error"), 1);
	vmrun_free(&r);
}
