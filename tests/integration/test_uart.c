/*
 * test_uart.c: the COM1 transmit path under KVM. Writes to THR are queued
 * by KVM (no exit each) and replayed in order; output must still be whole,
 * ordered, and on time when the guest makes no exit after writing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/harness.h"

#define UART_TIMEOUT_MS 60000
#define QUIET_LINE "uart-quiet: written blind"

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The number right after word in line, or -1. */
static long long after(const char *line, const char *word)
{
	const char *p = strstr(line, word);

	return p ? strtoll(p + strlen(word), NULL, 10) : -1;
}

/* Records when the blind line first shows on stdout. */
static void note_quiet_line(struct vmrun *r, void *arg)
{
	double *seen = arg;

	if (*seen < 0 && strstr(r->out, QUIET_LINE))
		*seen = now_mono();
}

Test(uart, blind_output_arrives_while_the_guest_sleeps)
{
	double seen = -1, exited;
	struct vmrun r;
	struct vmrun_opts o = {.hook = note_quiet_line, .arg = &seen};
	char *argv[] = {HARNESS_ISOVM, "run", "--kernel", HARNESS_TESTGUEST,
			"--cmdline", "test=uart-quiet", NULL};

	harness_need_kvm();
	cr_assert_eq(vmrun_opts(&r, UART_TIMEOUT_MS, &o, argv), 0);
	if (r.status != 0)
		vmrun_dump(&r, "uart-quiet");
	cr_assert_eq(r.status, ISOVM_EXIT_POWEROFF);
	cr_assert_not_null(strstr(r.out, "ISOVM-TEST name=uart-quiet "
					 "status=pass"));
	cr_assert_geq(seen, 0, "the blind line never arrived");
	exited = r.start_mono + r.seconds;
	/*
	 * The guest sleeps 300 ms after writing, with no exit: the line must
	 * not wait for the power-off to be flushed.
	 */
	cr_assert_geq(exited - seen, 0.15,
		      "the line came %.0f ms before the exit: it waited for "
		      "one", (exited - seen) * 1e3);
	cr_assert_lt(strstr(r.out, QUIET_LINE),
		     strstr(r.out, "ISOVM-TEST name=uart-quiet"));
	vmrun_free(&r);
}

/* Boots the test guest at debug level; it must power off. */
static void run_guest(struct vmrun *r, const char *cpus, const char *cmdline)
{
	cr_assert_eq(vmrun_isovm(r, UART_TIMEOUT_MS, "run", "--kernel",
				 HARNESS_TESTGUEST, "--cpus", cpus, "--cmdline",
				 cmdline, "--log-level", "debug", NULL),
		     0);
	if (r->status != ISOVM_EXIT_POWEROFF)
		vmrun_dump(r, cmdline);
	cr_assert_eq(r->status, ISOVM_EXIT_POWEROFF);
}

Test(uart, transmit_bytes_are_queued_not_one_exit_each)
{
	struct vmrun r;
	char line[512];
	long long exits, replayed;

	harness_need_kvm();
	run_guest(&r, "1", "test=info");
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=info status=pass ",
				      line, sizeof(line)));
	/* The whole line, its end included, came out before the power-off. */
	cr_assert_not_null(strstr(line, "isovm.boot=0\""), "%s", line);
	if (vmrun_line(&r, "coalesced port writes: off", line, sizeof(line))) {
		printf("SKIPPED: this KVM cannot coalesce port writes\n");
		vmrun_free(&r);
		return;
	}
	cr_assert_not_null(vmrun_line(&r, "coalesced port writes:", line,
				      sizeof(line)));
	replayed = after(line, "writes: ");
	cr_assert_geq(replayed, 200, "%s", line);
	cr_assert_not_null(vmrun_line(&r, "vcpu0: exits:", line, sizeof(line)));
	exits = after(line, "exits: ");
	/* About 250 bytes of output; each would be an exit without it. */
	cr_assert(exits >= 0 && exits < 100, "%s", line);
	vmrun_free(&r);
}

Test(uart, output_is_whole_with_four_vcpus)
{
	struct vmrun r;

	harness_need_kvm();
	run_guest(&r, "4", "test=smp,info");
	cr_assert_eq(vmrun_count(&r, "ISOVM-TEST name=smp status=pass"), 1);
	cr_assert_eq(vmrun_count(&r, "ISOVM-TEST name=info status=pass"), 1);
	vmrun_free(&r);
}
