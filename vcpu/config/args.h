/* args.h: the `isovm` command line -> struct vm_config. */
#ifndef ISOVM_ARGS_H
#define ISOVM_ARGS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/config/console_cfg.h"
#include "vcpu/config/disk_cfg.h"
#include "vcpu/config/net_cfg.h"
#include "vcpu/config/server_cfg.h"
#include "vcpu/log.h"

#define ARGS_MEM_DEFAULT (256ull << 20)
#define ARGS_MEM_MIN	 (16ull << 20) /* room for a kernel, initrd and tables */
#define ARGS_MEM_MAX	 (1ull << 40) /* 1 TiB; the host RAM check is separate */
#define ARGS_SHUTDOWN_GRACE_MS 10000 /* the power button, then a stop */
#define ARGS_CPUS_MAX	 254 /* MP table APIC ids are 8 bits, 0xff = broadcast */

enum vm_on_reboot {
	VM_ON_REBOOT_RESTART,
	VM_ON_REBOOT_EXIT,
};

struct vm_config {
	const char *kernel_path; /* NULL: boot the default guest */
	const char *initrd_path; /* NULL: none */
	const char *cmdline;	 /* never NULL; "" by default */
	unsigned cpus;
	uint64_t mem_size; /* bytes, a multiple of 4 KiB */
	enum vm_on_reboot on_reboot;
	enum log_level log_level;
	bool default_guest; /* kernel chosen by args_default_guest() */
	struct disk_set disks; /* --disk, in order; opened by disk_set_open() */
	struct net_set nets;   /* --net, in order; opened by net_set_open() */
	struct console_cfg console; /* --console; opened by console_cfg_open() */
	struct server_cfg servers;  /* --restart-limit, --watchdog-ms, --fault */
	const char *api_socket;	    /* --api-socket, or NULL */
	unsigned shutdown_grace_ms; /* --shutdown-grace-ms */
	/* Storage for paths and the command line chosen for the default guest.
	 */
	char default_kernel[PATH_MAX];
	char default_initrd[PATH_MAX];
	char default_cmdline[4096];
};

enum args_result {
	ARGS_RUN = 0,  /* run a VM with the parsed config */
	ARGS_HELP = 1, /* help was asked for: print args_usage(), exit 0 */
};

/*
 * Parses argv (argv[0] is the program). Strings in cfg point into argv.
 * Returns ARGS_RUN or ARGS_HELP, or -EINVAL with a one-line reason in err
 * (exit ISOVM_EXIT_USAGE).
 */
int args_parse(int argc, char **argv, struct vm_config *cfg, char *err,
	       size_t errlen);

/* "256M", "1G", "4096", "512k" -> bytes; -EINVAL or -ERANGE. */
int args_parse_size(const char *s, uint64_t *bytes);

/* The help text. */
extern const char args_usage[];

/*
 * With no --kernel: picks the Linux guest (<bindir>/../guest/vmlinux and
 * initramfs.cpio.gz) when the host has vmx/svm (cpuinfo_path, normally
 * /proc/cpuinfo), else <bindir>/isovm-testguest. Fills cfg->kernel_path,
 * initrd_path and, for Linux, prepends "console=ttyS0 earlyprintk=serial" to
 * the command line. Returns 0 or -errno with a reason in err.
 */
int args_default_guest(struct vm_config *cfg, const char *bindir,
		       const char *cpuinfo_path, char *err, size_t errlen);

#endif
