/* test_args.c: `isovm` command line parsing: defaults, values, every error. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vcpu/config/args.h"

static char err[512];

static int parse(struct vm_config *cfg, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return args_parse(argc, argv, cfg, err, sizeof(err));
}

#define ARGV(...) ((char *[]){"isovm", __VA_ARGS__, NULL})

static void expect_bad(char **argv, const char *needle)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, argv), -EINVAL, "accepted; want '%s'", needle);
	cr_assert_not_null(strstr(err, needle), "error '%s' lacks '%s'", err,
			   needle);
	cr_assert_null(strchr(err, '\n'), "error is one line");
}

Test(args, run_without_flags_gives_the_documented_defaults)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run")), ARGS_RUN);
	cr_assert_null(cfg.kernel_path);
	cr_assert_null(cfg.initrd_path);
	cr_assert_str_eq(cfg.cmdline, "");
	cr_assert_eq(cfg.cpus, 1);
	cr_assert_eq(cfg.mem_size, 256ull << 20);
	cr_assert_eq(cfg.on_reboot, VM_ON_REBOOT_RESTART);
	cr_assert_eq(cfg.log_level, LOG_LVL_WARN);
}

Test(args, every_flag_is_parsed_in_both_spellings)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run", "--kernel", "k", "--initrd=i",
				      "--cmdline", "a b=c", "--cpus=4",
				      "--memory", "5G", "--on-reboot=exit",
				      "--log-level", "debug")),
		     ARGS_RUN, "%s", err);
	cr_assert_str_eq(cfg.kernel_path, "k");
	cr_assert_str_eq(cfg.initrd_path, "i");
	cr_assert_str_eq(cfg.cmdline, "a b=c");
	cr_assert_eq(cfg.cpus, 4);
	cr_assert_eq(cfg.mem_size, 5ull << 30);
	cr_assert_eq(cfg.on_reboot, VM_ON_REBOOT_EXIT);
	cr_assert_eq(cfg.log_level, LOG_LVL_DEBUG);
}

Test(args, help_is_recognised_at_top_level_and_after_run)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("--help")), ARGS_HELP);
	cr_assert_eq(parse(&cfg, ARGV("-h")), ARGS_HELP);
	cr_assert_eq(parse(&cfg, ARGV("run", "--cpus", "2", "--help")),
		     ARGS_HELP);
	cr_assert_not_null(strstr(args_usage, "--memory"));
}

Test(args, sizes_accept_k_m_g_t_suffixes)
{
	uint64_t b;

	cr_assert_eq(args_parse_size("4096", &b), 0);
	cr_assert_eq(b, 4096);
	cr_assert_eq(args_parse_size("512k", &b), 0);
	cr_assert_eq(b, 512ull << 10);
	cr_assert_eq(args_parse_size("64M", &b), 0);
	cr_assert_eq(b, 64ull << 20);
	cr_assert_eq(args_parse_size("3g", &b), 0);
	cr_assert_eq(b, 3ull << 30);
	cr_assert_eq(args_parse_size("1T", &b), 0);
	cr_assert_eq(b, 1ull << 40);
}

Test(args, sizes_reject_junk_and_overflow)
{
	uint64_t b;

	cr_assert_eq(args_parse_size("", &b), -EINVAL);
	cr_assert_eq(args_parse_size("M", &b), -EINVAL);
	cr_assert_eq(args_parse_size("-1M", &b), -EINVAL);
	cr_assert_eq(args_parse_size("12MB", &b), -EINVAL);
	cr_assert_eq(args_parse_size("1.5G", &b), -EINVAL);
	cr_assert_eq(args_parse_size("99999999999999999999", &b), -ERANGE);
	cr_assert_eq(args_parse_size("99999999999999G", &b), -ERANGE);
}

Test(args, missing_and_unknown_commands_are_errors)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, (char *[]){"isovm", NULL}), -EINVAL);
	cr_assert_not_null(strstr(err, "missing command"));
	expect_bad(ARGV("fly"), "unknown command 'fly'");
}

Test(args, unknown_flags_and_stray_words_are_named)
{
	expect_bad(ARGV("run", "--frobnicate"),
		   "unknown option '--frobnicate'");
	expect_bad(ARGV("run", "--frob=1"), "unknown option '--frob'");
	expect_bad(ARGV("run", "kernel.elf"),
		   "unexpected argument 'kernel.elf'");
	expect_bad(ARGV("run", "-k"), "unexpected argument '-k'");
}

Test(args, a_flag_without_its_value_is_an_error)
{
	expect_bad(ARGV("run", "--kernel"), "--kernel needs a value");
	expect_bad(ARGV("run", "--memory"), "--memory needs a value");
	expect_bad(ARGV("run", "--kernel="), "--kernel: empty value");
}

Test(args, bad_cpus_are_rejected)
{
	expect_bad(ARGV("run", "--cpus", "0"), "--cpus: '0' is out of range");
	expect_bad(ARGV("run", "--cpus", "255"),
		   "--cpus: '255' is out of range");
	expect_bad(ARGV("run", "--cpus", "two"),
		   "--cpus: 'two' is not a number");
	expect_bad(ARGV("run", "--cpus", "-1"), "--cpus: '-1' is not a number");
	expect_bad(ARGV("run", "--cpus", "99999999999999999999"),
		   "is not a number");
}

Test(args, bad_memory_sizes_are_rejected_with_the_limit)
{
	expect_bad(ARGV("run", "--memory", "lots"),
		   "--memory: 'lots' is not a size");
	expect_bad(ARGV("run", "--memory", "15M"), "too small (minimum 16M)");
	expect_bad(ARGV("run", "--memory", "2T"), "too large (maximum 1T)");
	expect_bad(ARGV("run", "--memory", "100000G"), "too large");
	expect_bad(ARGV("run", "--memory", "16777217"), "not a multiple of 4K");
}

Test(args, memory_limits_themselves_are_accepted)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run", "--memory", "16M")), ARGS_RUN);
	cr_assert_eq(parse(&cfg, ARGV("run", "--memory", "1T")), ARGS_RUN);
}

Test(args, bad_on_reboot_and_log_level_values_are_rejected)
{
	expect_bad(ARGV("run", "--on-reboot", "maybe"), "--on-reboot: 'maybe'");
	expect_bad(ARGV("run", "--log-level", "loud"), "--log-level: 'loud'");
}

Test(args, net_devices_parsed_with_defaults_and_limits)
{
	struct vm_config cfg;
	char mac[18];

	cr_assert_eq(parse(&cfg, ARGV("run", "--net", "tap=tap0",
				      "--net=tap=tap1,mac=52:54:00:AB:cd:01,"
				      "mtu=9000")),
		     ARGS_RUN);
	cr_assert_eq(cfg.nets.n, 2);
	cr_assert_str_eq(cfg.nets.net[0].ifname, "tap0");
	cr_assert_eq(cfg.nets.net[0].mtu, 1500);
	cr_assert_eq(cfg.nets.net[0].fd, -1);
	/* The default: locally administered, unicast, stable. */
	cr_assert_eq(cfg.nets.net[0].mac[0] & 3, 2);
	net_mac_str(cfg.nets.net[1].mac, mac);
	cr_assert_str_eq(mac, "52:54:00:ab:cd:01");
	cr_assert_eq(cfg.nets.net[1].mtu, 9000);
	{
		uint8_t a[6], b[6], c[6];

		net_default_mac(0, "tap0", a);
		net_default_mac(0, "tap0", b);
		net_default_mac(1, "tap0", c);
		cr_assert_arr_eq(a, b, 6);
		cr_assert_arr_eq(a, cfg.nets.net[0].mac, 6);
		cr_assert(memcmp(a, c, 6) != 0);
	}
}

Test(args, every_bad_net_argument_is_named)
{
	expect_bad(ARGV("run", "--net", "mac=52:54:00:00:00:01"),
		   "--net: tap=IFNAME is required");
	expect_bad(ARGV("run", "--net", "tap=abcdefghijklmnop"),
		   "at most 15 characters");
	expect_bad(ARGV("run", "--net", "tap=a/b"), "not a valid interface");
	expect_bad(ARGV("run", "--net", "tap=t0,mac=01:00:5e:00:00:01"),
		   "not a unicast MAC");
	expect_bad(ARGV("run", "--net", "tap=t0,mac=00:00:00:00:00:00"),
		   "not a unicast MAC");
	expect_bad(ARGV("run", "--net", "tap=t0,mac=52:54:00:00:00"),
		   "not a unicast MAC");
	expect_bad(ARGV("run", "--net", "tap=t0,mac=52-54-00-00-00-01"),
		   "not a unicast MAC");
	expect_bad(ARGV("run", "--net", "tap=t0,mac=52:54:00:00:00:0g"),
		   "not a unicast MAC");
	expect_bad(ARGV("run", "--net", "tap=t0,mtu=67"), "mtu=67 is not");
	expect_bad(ARGV("run", "--net", "tap=t0,mtu=65536"), "mtu=65536");
	expect_bad(ARGV("run", "--net", "tap=t0,mtu=15x"), "mtu=15x");
	expect_bad(ARGV("run", "--net", "tap=t0,speed=10"),
		   "--net: unknown key 'speed'");
	expect_bad(ARGV("run", "--net", "tap=t0,mtu"), "'mtu' needs a value");
	expect_bad(ARGV("run", "--net", "tap=t0", "--net", "tap=t0"),
		   "tap=t0 given twice");
	expect_bad(ARGV("run", "--net", "tap=t0,mac=52:00:00:00:00:02",
			"--net", "tap=t1,mac=52:00:00:00:00:02"),
		   "two devices with mac=52:00:00:00:00:02");
	expect_bad(ARGV("run", "--net", "tap=t0", "--net", "tap=t1", "--net",
			"tap=t2", "--net", "tap=t3", "--net", "tap=t4"),
		   "at most 4 devices");
	expect_bad(ARGV("run", "--net"), "--net needs a value");
}

Test(args, api_socket_is_taken)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run")), ARGS_RUN);
	cr_assert_null(cfg.api_socket);
	cr_assert_eq(parse(&cfg, ARGV("run", "--api-socket", "/run/x.sock")),
		     ARGS_RUN);
	cr_assert_str_eq(cfg.api_socket, "/run/x.sock");
	expect_bad(ARGV("run", "--api-socket="), "--api-socket: empty value");
}

Test(args, console_kinds_are_parsed_and_bad_ones_named)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run")), ARGS_RUN);
	cr_assert_eq(cfg.console.kind, CTL_CONSOLE_STDIO, "stdio by default");
	cr_assert_eq(parse(&cfg, ARGV("run", "--console=file:/tmp/c.log")),
		     ARGS_RUN, "%s", err);
	cr_assert_eq(cfg.console.kind, CTL_CONSOLE_FILE);
	cr_assert_str_eq(cfg.console.path, "/tmp/c.log");
	expect_bad(ARGV("run", "--console", "tty"), "--console: 'tty'");
	expect_bad(ARGV("run", "--console", "socket:"), "needs a path");
}

Test(args, disk_is_parsed_repeatably_and_its_errors_are_reported)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run", "--disk", "path=a,ro",
				      "--disk=path=b,id=x")),
		     ARGS_RUN, "%s", err);
	cr_assert_eq(cfg.disks.n, 2);
	cr_assert_str_eq(cfg.disks.disk[0].path, "a");
	cr_assert(cfg.disks.disk[0].read_only);
	cr_assert_str_eq(cfg.disks.disk[1].id, "x");
	expect_bad(ARGV("run", "--disk", "path=a,bogus=1"),
		   "unknown key 'bogus'");
	expect_bad(ARGV("run", "--disk"), "--disk needs a value");
}

static void write_cpuinfo(const char *path, const char *flags)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "processor\t: 0\nflags\t\t: fpu %s sse\n\n", flags);
	fclose(f);
}

Test(args, default_guest_is_the_test_guest_without_hw_virt)
{
	char path[] = "/tmp/isovm-cpuinfo-XXXXXX";
	struct vm_config cfg;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	write_cpuinfo(path, "pae");
	cr_assert_eq(parse(&cfg, ARGV("run", "--cmdline", "test=info")),
		     ARGS_RUN);
	cr_assert_eq(args_default_guest(&cfg, "/opt/b", path, err, sizeof(err)),
		     0);
	unlink(path);
	cr_assert_str_eq(cfg.kernel_path, "/opt/b/isovm-testguest");
	cr_assert_null(cfg.initrd_path);
	cr_assert_str_eq(cfg.cmdline, "test=info");
}

Test(args, default_guest_is_linux_with_a_serial_console_with_vmx)
{
	char path[] = "/tmp/isovm-cpuinfo-XXXXXX";
	struct vm_config cfg;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	write_cpuinfo(path, "vmx");
	cr_assert_eq(parse(&cfg, ARGV("run", "--cmdline", "quiet")), ARGS_RUN);
	cr_assert_eq(args_default_guest(&cfg, "/opt/b", path, err, sizeof(err)),
		     0);
	unlink(path);
	cr_assert_str_eq(cfg.kernel_path, "/opt/b/../guest/vmlinux");
	cr_assert_str_eq(cfg.initrd_path, "/opt/b/../guest/initramfs.cpio.gz");
	cr_assert_str_eq(cfg.cmdline, "console=ttyS0 earlyprintk=serial quiet");
}

Test(args, restart_policy_defaults_and_values)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run")), ARGS_RUN);
	cr_assert_eq(cfg.servers.restart_limit, 5);
	cr_assert_eq(cfg.servers.restart_window_ms, 10000);
	cr_assert_eq(cfg.servers.watchdog_ms, 5000);
	cr_assert_eq(cfg.servers.nfaults, 0);
	cr_assert_eq(parse(&cfg, ARGV("run", "--restart-limit", "20/3",
				      "--watchdog-ms=0")),
		     ARGS_RUN, "%s", err);
	cr_assert_eq(cfg.servers.restart_limit, 20);
	cr_assert_eq(cfg.servers.restart_window_ms, 3000);
	cr_assert_eq(cfg.servers.watchdog_ms, 0);
	cr_assert_eq(parse(&cfg, ARGV("run", "--restart-limit=0")), ARGS_RUN);
	cr_assert_eq(cfg.servers.restart_limit, 0, "0: never restart");
	cr_assert_eq(cfg.servers.restart_window_ms, 10000, "window kept");
}

Test(args, restart_policy_rejects_junk)
{
	expect_bad(ARGV("run", "--restart-limit", "x"), "--restart-limit");
	expect_bad(ARGV("run", "--restart-limit", "5/"), "N/SECONDS");
	expect_bad(ARGV("run", "--restart-limit", "5/0"), "N/SECONDS");
	expect_bad(ARGV("run", "--restart-limit", "5/3601"), "N/SECONDS");
	expect_bad(ARGV("run", "--restart-limit", "100001"), "N/SECONDS");
	expect_bad(ARGV("run", "--restart-limit", "-1"), "N/SECONDS");
	expect_bad(ARGV("run", "--watchdog-ms", "600001"), "0..600000");
	expect_bad(ARGV("run", "--watchdog-ms", "1s"), "0..600000");
}

Test(args, fault_rules_are_parsed_with_their_defaults)
{
	struct vm_config cfg;
	const struct ctl_fault *f;

	cr_assert_eq(parse(&cfg, ARGV("run", "--disk", "path=/dev/null",
				      "--fault", "blk0:crash:restarts",
				      "--fault",
				      "console:delay:op=out:ppm=250:count=0:"
				      "delay-us=1000",
				      "--fault", "blk0:error:op=read:every=3")),
		     ARGS_RUN, "%s", err);
	cr_assert_eq(cfg.servers.nfaults, 3);
	f = &cfg.servers.faults[0].f;
	cr_assert_str_eq(cfg.servers.faults[0].dev, "blk0");
	cr_assert(cfg.servers.faults[0].on_restart);
	cr_assert_eq(f->kind, CTL_FAULT_CRASH);
	cr_assert_eq(f->op, CTL_OP_ANY);
	cr_assert_eq(f->trigger, CTL_TRIGGER_EVERY_NTH);
	cr_assert_eq(f->every_nth, 1);
	cr_assert_eq(f->count, 1);
	f = &cfg.servers.faults[1].f;
	cr_assert_not(cfg.servers.faults[1].on_restart);
	cr_assert_eq(f->kind, CTL_FAULT_DELAY);
	cr_assert_eq(f->op, CTL_OP_CONSOLE_OUT);
	cr_assert_eq(f->trigger, CTL_TRIGGER_PROBABILITY);
	cr_assert_eq(f->probability_ppm, 250);
	cr_assert_eq(f->every_nth, 0);
	cr_assert_eq(f->count, 0);
	cr_assert_eq(f->delay_us, 1000);
	f = &cfg.servers.faults[2].f;
	cr_assert_eq(f->kind, CTL_FAULT_ERROR);
	cr_assert_eq(f->error_code, EIO, "errno defaults to EIO");
	cr_assert_eq(f->every_nth, 3);
	cr_assert_eq(f->sector_count, 0, "no range: every request");
	cr_assert_eq(parse(&cfg, ARGV("run", "--disk", "path=/dev/null",
				      "--fault",
				      "blk0:error:op=read:sectors=64-127")),
		     ARGS_RUN, "%s", err);
	cr_assert_eq(cfg.servers.faults[0].f.sector_start, 64);
	cr_assert_eq(cfg.servers.faults[0].f.sector_count, 64);
}

Test(args, fault_rules_reject_junk)
{
	expect_bad(ARGV("run", "--fault", "blk9:crash"), "blk0..blk7");
	expect_bad(ARGV("run", "--fault", "net4:crash"), "net0..net3");
	expect_bad(ARGV("run", "--fault", "net0:crash"),
		   "there is no net0 (0 --net given)");
	expect_bad(ARGV("run", "--fault", "blk0"), "the kind is");
	expect_bad(ARGV("run", "--fault", "blk0:explode"), "the kind is");
	expect_bad(ARGV("run", "--fault", "blk0:crash:op=fly"), "not a valid");
	expect_bad(ARGV("run", "--fault", "blk0:crash:every=0"), "not a valid");
	expect_bad(ARGV("run", "--fault", "blk0:crash:ppm=1000001"),
		   "not a valid");
	expect_bad(ARGV("run", "--fault", "blk0:delay"), "not a valid");
	expect_bad(ARGV("run", "--fault", "blk0:crash:delay-us=5"),
		   "not a valid");
	expect_bad(ARGV("run", "--fault", "blk0:crash:colour=red"),
		   "not a valid");
	expect_bad(ARGV("run", "--fault", "blk0:error:sectors=9-8"),
		   "not a valid");
	expect_bad(ARGV("run", "--fault", "blk0:error:sectors=9"),
		   "not a valid");
	expect_bad(ARGV("run", "--fault", "blk0:error:sectors=-9"),
		   "not a valid");
	/* A disk that is not there. */
	expect_bad(ARGV("run", "--fault", "blk1:crash", "--disk",
			"path=/dev/null"),
		   "there is no blk1 (1 --disk given)");
}

Test(args, sandbox_modes_and_debug)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run")), ARGS_RUN);
	cr_assert_eq(cfg.servers.sandbox, SERVER_SANDBOX_ON);
	cr_assert(!cfg.servers.sandbox_debug);
	cr_assert_eq(parse(&cfg, ARGV("run", "--sandbox", "relaxed",
				      "--sandbox-debug")),
		     ARGS_RUN);
	cr_assert_eq(cfg.servers.sandbox, SERVER_SANDBOX_RELAXED);
	cr_assert(cfg.servers.sandbox_debug);
	cr_assert_eq(parse(&cfg, ARGV("run", "--sandbox=off")), ARGS_RUN);
	cr_assert_eq(cfg.servers.sandbox, SERVER_SANDBOX_OFF);
	expect_bad(ARGV("run", "--sandbox", "strict"),
		   "--sandbox: 'strict' is not on, relaxed or off");
	expect_bad(ARGV("run", "--sandbox"), "--sandbox needs a value");
}

Test(args, shutdown_grace_defaults_and_bounds)
{
	struct vm_config cfg;

	cr_assert_eq(parse(&cfg, ARGV("run")), ARGS_RUN);
	cr_assert_eq(cfg.shutdown_grace_ms, 10000);
	cr_assert_eq(parse(&cfg, ARGV("run", "--shutdown-grace-ms", "0")),
		     ARGS_RUN);
	cr_assert_eq(cfg.shutdown_grace_ms, 0);
	expect_bad(ARGV("run", "--shutdown-grace-ms", "600001"),
		   "--shutdown-grace-ms: '600001' is not 0..600000");
	expect_bad(ARGV("run", "--shutdown-grace-ms=x"), "is not 0..600000");
}
