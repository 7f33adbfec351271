/* args.c: parsing and checking the `isovm` command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vcpu/config/args.h"
#include "vcpu/log.h"

const char args_usage[] =
	"usage: isovm run [--kernel PATH] [--initrd PATH] [--cmdline STR]\n"
	"                 [--cpus N] [--memory SIZE] [--on-reboot "
	"restart|exit]\n"
	"                 [--disk path=FILE[,ro][,offset=B][,size=B][,id=NAME]"
	"\n                         [,cache=writeback|none]]...\n"
	"                 [--net tap=IFNAME[,mac=MAC][,mtu=N]]...\n"
	"                 [--console stdio|pty|file:PATH|socket:PATH]\n"
	"                 [--log-level error|warn|info|debug] [--api-socket "
	"PATH]\n"
	"                 [--shutdown-grace-ms MS]\n"
	"                 [--restart-limit N[/SECONDS]] [--watchdog-ms MS]\n"
	"                 [--sandbox on|relaxed|off] [--sandbox-debug]\n"
	"                 [--fault DEV:KIND[:KEY=VALUE]...]...\n"
	"       isovm --help | isovm run --help\n"
	"\n"
	"  --kernel PATH      ELF kernel with a PVH note, or a bzImage. "
	"Without it\n"
	"                     the default guest boots (Linux guest on hosts "
	"with\n"
	"                     vmx/svm, the test guest elsewhere).\n"
	"  --initrd PATH      initial ramdisk\n"
	"  --cmdline STR      guest command line (\" isovm.boot=N\" is "
	"appended)\n"
	"  --cpus N           vCPUs, 1..254 (and at most what KVM allows); "
	"default 1\n"
	"  --memory SIZE      guest RAM, K/M/G suffix, 16M..1T, 4K multiple;\n"
	"                     default 256M\n"
	"  --disk SPEC        a virtio-blk disk (repeatable, at most 8):\n"
	"                     path=FILE image file or block device; ro\n"
	"                     read-only; offset=B,size=B a 512-aligned slice\n"
	"                     (K/M/G suffixes); id=NAME serial (<= 20 chars);\n"
	"                     cache=none for O_DIRECT (default writeback)\n"
	"  --net SPEC         a virtio-net device on a tap (repeatable, at\n"
	"                     most 4): tap=IFNAME an existing tap, or a new\n"
	"                     one (down, for the host to set up); mac=MAC\n"
	"                     the guest's address (default: derived from\n"
	"                     the tap's name and the device's place);\n"
	"                     mtu=N the guest's MTU, 68..65535 (default\n"
	"                     1500)\n"
	"  --console KIND     stdio (default), pty, file:PATH (append) or\n"
	"                     socket:PATH (a new unix socket, removed at exit)\n"
	"  --on-reboot ACT    restart (default) or exit with status 0\n"
	"  --log-level L      error, warn (default), info or debug\n"
	"  --api-socket PATH  serve isovmctl on a new unix socket (mode 0600),\n"
	"                     removed at exit\n"
	"  --shutdown-grace-ms MS  isovmctl shutdown presses the guest's power\n"
	"                     button, then stops the VM if it has not powered\n"
	"                     off MS ms later (default 10000; 0 stops at once)\n"
	"  --restart-limit N[/S]  a device server that dies is restarted\n"
	"                     and its requests replayed, up to N deaths in S\n"
	"                     seconds; one more marks the device NEEDS_RESET\n"
	"                     (default 5/10; 0 never restarts)\n"
	"  --watchdog-ms MS   kill (and restart) a server that completes\n"
	"                     nothing for MS ms with requests pending\n"
	"                     (default 5000; 0 off; the console has none)\n"
	"  --sandbox MODE     on (default): every device server is jailed\n"
	"                     (namespaces, empty root, no capabilities,\n"
	"                     rlimits, seccomp) and the VMM confines its\n"
	"                     own threads, or isovm does not start; relaxed:\n"
	"                     steps this host cannot do are skipped, each\n"
	"                     named in a warning; off: none (debugging only)\n"
	"  --sandbox-debug    a system call outside a seccomp allowlist is\n"
	"                     logged by name and fails, instead of killing\n"
	"  --fault RULE       inject a fault into a device server, for\n"
	"                     testing drivers and restarts (repeatable):\n"
	"                     DEV:KIND[:KEY=VALUE]..., DEV blk0..blk7,\n"
	"                     net0..net3 or console, KIND error|delay|crash|\n"
	"                     drop|corrupt (for net tx/rx: a frame dropped\n"
	"                     or damaged), keys op=any|read|write|flush|\n"
	"                     get_id|out|in|tx|rx,\n"
	"                     every=N or ppm=N (default every=1), count=N\n"
	"                     (default 1, 0 no limit), delay-us=N, errno=N,\n"
	"                     sectors=FIRST-LAST (block reads and writes\n"
	"                     touching them only);\n"
	"                     the word restarts repeats it in every\n"
	"                     restarted server\n"
	"\n"
	"exit status: 0 guest powered off, 1 VMM error, 2 bad arguments or\n"
	"configuration, 3 guest panic, 4 guest fault (KVM internal error)\n";


int args_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] != '\0')
		return -EINVAL;
	if (shift && v > (~0ull >> shift))
		return -ERANGE;
	*bytes = (uint64_t)v << shift;
	return 0;
}

static int args_parse_cpus(const char *v, struct vm_config *cfg, char *err,
			   size_t errlen)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno)
		return errf(err, errlen, -EINVAL,
			    "--cpus: '%s' is not a number", v);
	if (n == 0 || n > ARGS_CPUS_MAX)
		return errf(err, errlen, -EINVAL,
			    "--cpus: '%s' is out of range (1..254)", v);
	cfg->cpus = (unsigned)n;
	return 0;
}

static int args_parse_grace(const char *v, struct vm_config *cfg, char *err,
			    size_t errlen)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || n > 600000)
		return errf(err, errlen, -EINVAL,
			    "--shutdown-grace-ms: '%s' is not 0..600000", v);
	cfg->shutdown_grace_ms = (unsigned)n;
	return 0;
}

static int args_parse_memory(const char *v, struct vm_config *cfg, char *err,
			     size_t errlen)
{
	uint64_t bytes;
	int ret = args_parse_size(v, &bytes);

	if (ret == -ERANGE)
		return errf(err, errlen, -EINVAL, "--memory: '%s' is too large",
			    v);
	if (ret)
		return errf(err, errlen, -EINVAL,
			    "--memory: '%s' is not a size (e.g. 512M, 2G)", v);
	if (bytes < ARGS_MEM_MIN)
		return errf(err, errlen, -EINVAL,
			    "--memory: '%s' is too small (minimum 16M)", v);
	if (bytes > ARGS_MEM_MAX)
		return errf(err, errlen, -EINVAL,
			    "--memory: '%s' is too large (maximum 1T)", v);
	if (bytes & 0xfff)
		return errf(err, errlen, -EINVAL,
			    "--memory: '%s' is not a multiple of 4K", v);
	cfg->mem_size = bytes;
	return 0;
}

/* Applies one "--flag value"; returns 0 or -EINVAL with err set. */
static int args_apply(const char *flag, const char *v, struct vm_config *cfg,
		      char *err, size_t errlen)
{
	if (strcmp(flag, "--kernel") == 0) {
		cfg->kernel_path = v;
	} else if (strcmp(flag, "--initrd") == 0) {
		cfg->initrd_path = v;
	} else if (strcmp(flag, "--cmdline") == 0) {
		cfg->cmdline = v;
	} else if (strcmp(flag, "--cpus") == 0) {
		return args_parse_cpus(v, cfg, err, errlen);
	} else if (strcmp(flag, "--memory") == 0) {
		return args_parse_memory(v, cfg, err, errlen);
	} else if (strcmp(flag, "--disk") == 0) {
		if (*v && disk_set_add(&cfg->disks, v, err, errlen))
			return -EINVAL;
	} else if (strcmp(flag, "--net") == 0) {
		if (*v && net_set_add(&cfg->nets, v, err, errlen))
			return -EINVAL;
	} else if (strcmp(flag, "--console") == 0) {
		if (*v && console_cfg_parse(v, &cfg->console, err, errlen))
			return -EINVAL;
	} else if (strcmp(flag, "--on-reboot") == 0) {
		if (strcmp(v, "restart") == 0)
			cfg->on_reboot = VM_ON_REBOOT_RESTART;
		else if (strcmp(v, "exit") == 0)
			cfg->on_reboot = VM_ON_REBOOT_EXIT;
		else
			return errf(err, errlen, -EINVAL,
				    "--on-reboot: '%s' is not restart or exit",
				    v);
	} else if (strcmp(flag, "--api-socket") == 0) {
		cfg->api_socket = v;
	} else if (strcmp(flag, "--shutdown-grace-ms") == 0) {
		return args_parse_grace(v, cfg, err, errlen);
	} else if (strcmp(flag, "--restart-limit") == 0) {
		return server_cfg_parse_restarts(v, &cfg->servers, err, errlen);
	} else if (strcmp(flag, "--watchdog-ms") == 0) {
		return server_cfg_parse_watchdog(v, &cfg->servers, err, errlen);
	} else if (strcmp(flag, "--sandbox") == 0) {
		return server_cfg_parse_sandbox(v, &cfg->servers, err, errlen);
	} else if (strcmp(flag, "--fault") == 0) {
		return server_cfg_parse_fault(v, &cfg->servers, err, errlen);
	} else if (strcmp(flag, "--log-level") == 0) {
		if (log_level_parse(v, &cfg->log_level))
			return errf(err, errlen, -EINVAL,
				    "--log-level: '%s' is not error, warn, "
				    "info or debug",
				    v);
	} else {
		return errf(err, errlen, -EINVAL,
			    "unknown option '%s' (see isovm --help)", flag);
	}
	if (*v == '\0' && strcmp(flag, "--cmdline") != 0)
		return errf(err, errlen, -EINVAL, "%s: empty value", flag);
	return 0;
}

static int args_parse_run(int argc, char **argv, struct vm_config *cfg,
			  char *err, size_t errlen)
{
	for (int i = 2; i < argc; i++) {
		char flag[64];
		const char *arg = argv[i], *eq, *v;
		int ret;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			return ARGS_HELP;
		/* The one flag without a value. */
		if (strcmp(arg, "--sandbox-debug") == 0) {
			cfg->servers.sandbox_debug = true;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0)
			return errf(
				err, errlen, -EINVAL,
				"unexpected argument '%s' (see isovm --help)",
				arg);
		eq = strchr(arg, '=');
		if ((eq ? (size_t)(eq - arg) : strlen(arg)) >= sizeof(flag))
			return errf(err, errlen, -EINVAL,
				    "unknown option '%.40s...'", arg);
		snprintf(flag, sizeof(flag), "%.*s",
			 (int)(eq ? eq - arg : (long)strlen(arg)), arg);
		if (eq) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc) {
				/* An unknown flag is the better message. */
				ret = args_apply(flag, "", cfg, err, errlen);
				if (ret == 0 || strncmp(err, "unknown", 7) != 0)
					snprintf(err, errlen,
						 "%s needs a value", flag);
				return -EINVAL;
			}
			v = argv[++i];
		}
		ret = args_apply(flag, v, cfg, err, errlen);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < cfg->servers.nfaults; i++) {
		const char *dev = cfg->servers.faults[i].dev;

		if (!strncmp(dev, "blk", 3) &&
		    (unsigned)(dev[3] - '0') >= cfg->disks.n)
			return errf(err, errlen, -EINVAL,
				    "--fault: there is no %s (%u --disk given)",
				    dev, cfg->disks.n);
		if (!strncmp(dev, "net", 3) &&
		    (unsigned)(dev[3] - '0') >= cfg->nets.n)
			return errf(err, errlen, -EINVAL,
				    "--fault: there is no %s (%u --net given)",
				    dev, cfg->nets.n);
	}
	return ARGS_RUN;
}

int args_parse(int argc, char **argv, struct vm_config *cfg, char *err,
	       size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = "";
	cfg->cpus = 1;
	cfg->mem_size = ARGS_MEM_DEFAULT;
	cfg->shutdown_grace_ms = ARGS_SHUTDOWN_GRACE_MS;
	console_cfg_default(&cfg->console);
	server_cfg_default(&cfg->servers);
	cfg->on_reboot = VM_ON_REBOOT_RESTART;
	cfg->log_level = LOG_LVL_WARN;
	if (errlen)
		err[0] = '\0';

	if (argc < 2)
		return errf(err, errlen, -EINVAL,
			    "missing command (see isovm --help)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return ARGS_HELP;
	if (strcmp(argv[1], "run") != 0)
		return errf(err, errlen, -EINVAL,
			    "unknown command '%s' (see isovm --help)", argv[1]);
	return args_parse_run(argc, argv, cfg, err, errlen);
}

static bool args_host_has_hw_virt(const char *cpuinfo_path)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen(cpuinfo_path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
	}
	fclose(f);
	return found;
}

int args_default_guest(struct vm_config *cfg, const char *bindir,
		       const char *cpuinfo_path, char *err, size_t errlen)
{
	int n;

	cfg->default_guest = true;
	if (!args_host_has_hw_virt(cpuinfo_path)) {
		n = snprintf(cfg->default_kernel, sizeof(cfg->default_kernel),
			     "%s/isovm-testguest", bindir);
		if (n < 0 || (size_t)n >= sizeof(cfg->default_kernel))
			return errf(err, errlen, -EINVAL, "path too long: %s",
				    bindir);
		cfg->kernel_path = cfg->default_kernel;
		return 0;
	}
	n = snprintf(cfg->default_kernel, sizeof(cfg->default_kernel),
		     "%s/../guest/vmlinux", bindir);
	if (n < 0 || (size_t)n >= sizeof(cfg->default_kernel))
		return errf(err, errlen, -EINVAL, "path too long: %s", bindir);
	n = snprintf(cfg->default_initrd, sizeof(cfg->default_initrd),
		     "%s/../guest/initramfs.cpio.gz", bindir);
	if (n < 0 || (size_t)n >= sizeof(cfg->default_initrd))
		return errf(err, errlen, -EINVAL, "path too long: %s", bindir);
	n = snprintf(cfg->default_cmdline, sizeof(cfg->default_cmdline),
		     "console=ttyS0 earlyprintk=serial%s%s",
		     cfg->cmdline[0] ? " " : "", cfg->cmdline);
	if (n < 0 || (size_t)n >= sizeof(cfg->default_cmdline))
		return errf(err, errlen, -EINVAL, "--cmdline is too long");
	cfg->kernel_path = cfg->default_kernel;
	if (!cfg->initrd_path)
		cfg->initrd_path = cfg->default_initrd;
	cfg->cmdline = cfg->default_cmdline;
	return 0;
}
