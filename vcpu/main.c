/* main.c: `isovm`, the VMM: parse options, open KVM, build and run the VM. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/api/api_server.h"
#include "vcpu/boot/boot.h"
#include "vcpu/config/args.h"
#include "vcpu/core/confine.h"
#include "vcpu/core/iothread.h"
#include "vcpu/core/kvm.h"
#include "vcpu/core/memory.h"
#include "vcpu/front/blk/front_blk.h"
#include "vcpu/front/net/front_net.h"
#include "vcpu/front/console/front_console.h"
#include "vcpu/log.h"
#include "vcpu/supervisor/spawner.h"
#include "vcpu/vm/vcpu_thread.h"
#include "vcpu/vm/vm.h"

/*
 * A closed stdin/stdout/stderr would hand fd 0-2 to /dev/kvm or an eventfd,
 * and the console would then read or write that: park /dev/null there.
 */
static int main_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

/* Reads the command line; returns -1 to go on, else an exit status. */
static int main_parse(int argc, char **argv, struct vm_config *cfg)
{
	char err[512], bindir[PATH_MAX];
	ssize_t n;
	int ret = args_parse(argc, argv, cfg, err, sizeof(err));

	if (ret == ARGS_HELP) {
		fputs(args_usage, stdout);
		return ISOVM_EXIT_POWEROFF;
	}
	if (ret < 0) {
		log_error("%s", err);
		return ISOVM_EXIT_USAGE;
	}
	log_set_level(cfg->log_level);
	if (cfg->kernel_path)
		return -1;
	n = readlink("/proc/self/exe", bindir, sizeof(bindir) - 1);
	if (n < 0) {
		log_error("cannot find the isovm binary: %s", strerror(errno));
		return ISOVM_EXIT_VMM_ERROR;
	}
	bindir[n] = '\0';
	if (args_default_guest(cfg, dirname(bindir), "/proc/cpuinfo", err,
			       sizeof(err))) {
		log_error("%s", err);
		return ISOVM_EXIT_USAGE;
	}
	/* Not an error, but always said: the user did not pick this kernel. */
	log_msg(LOG_LVL_ERROR, "no --kernel: booting the default guest %s",
		cfg->kernel_path);
	return -1;
}

/* Checks the config against this host's RAM; -1 or an exit status. */
static int main_check_ram(const struct vm_config *cfg)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	if (pages > 0 && psize > 0 &&
	    cfg->mem_size > (uint64_t)pages * (uint64_t)psize) {
		log_error("--memory %lluM is more than the host's RAM",
			  (unsigned long long)(cfg->mem_size >> 20));
		return ISOVM_EXIT_USAGE;
	}
	return -1;
}

/*
 * Loads the kernel and initrd once into a scratch RAM of the guest's size,
 * so that a bad image is reported before /dev/kvm is opened: the loader
 * itself is the check. Only the pages the images touch are ever allocated,
 * and they are freed at once. -1 or an exit status.
 */
static int main_check_boot(const struct vm_config *cfg)
{
	struct boot_config bc = {
		.kernel_path = cfg->kernel_path,
		.initrd_path = cfg->initrd_path,
		.cmdline = cfg->cmdline,
		.cpus = cfg->cpus,
	};
	struct guest_mem mem;
	struct boot_entry entry;
	char err[PATH_MAX + 256] = "";
	int ret;

	memset(&mem, 0, sizeof(mem));
	ret = memory_create(&mem, cfg->mem_size);
	if (ret) {
		log_error("guest memory: %s", strerror(-ret));
		return ISOVM_EXIT_VMM_ERROR;
	}
	ret = boot_load(&mem, &bc, &entry, err, sizeof(err));
	memory_destroy(&mem);
	if (ret) {
		log_error("%s", err[0] ? err : strerror(-ret));
		return ISOVM_EXIT_USAGE;
	}
	return -1;
}

/* Checks the config against KVM's limits; -1 or an exit status. */
static int main_check_kvm(const struct vm_config *cfg, const struct kvm *kvm)
{
	if ((int)cfg->cpus > kvm->max_vcpus) {
		log_error("--cpus %u is more than KVM allows (%d)", cfg->cpus,
			  kvm->max_vcpus);
		return ISOVM_EXIT_USAGE;
	}
	return -1;
}

/*
 * Host stop signals are blocked in every thread (threads inherit the mask)
 * and read by the main loop from a signalfd, so the terminal is restored.
 */
static int main_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	if (vcpu_signals_init())
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* What the command line asks of the servers of device 'dev'. */
static void main_policy(const struct server_cfg *c, const char *dev,
			struct supervisor_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->restart_limit = c->restart_limit;
	p->restart_window_ms = c->restart_window_ms;
	p->watchdog_ms = c->watchdog_ms;
	p->sandbox = c->sandbox == SERVER_SANDBOX_OFF	   ? SANDBOX_OFF
		     : c->sandbox == SERVER_SANDBOX_RELAXED ? SANDBOX_RELAXED
							    : SANDBOX_ON;
	p->seccomp_debug = c->sandbox_debug;
	for (unsigned i = 0; i < c->nfaults; i++) {
		if (strcmp(c->faults[i].dev, dev) ||
		    p->nfaults >= SUPERVISOR_FAULTS_MAX)
			continue;
		p->again[p->nfaults] = c->faults[i].on_restart;
		p->faults[p->nfaults++] = c->faults[i].f;
	}
}

/* Adds a device the API shows as name, whose transport traces as trace. */
static int main_api_add(struct api_server *api, const char *name,
			const char *trace, enum ctl_dev_type type,
			struct supervisor *sup, struct virtio_dev *vdev)
{
	struct api_device_ref d = {
		.type = type,
		.sup = sup,
		.vdev = &vdev->mmio,
		.lock = &vdev->lock,
	};

	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.trace_name, sizeof(d.trace_name), "%s", trace);
	return api_server_add(api, &d);
}

/* The devices the API shows, once they run. */
static int main_api_devices(struct api_server *api, struct front_console *fc,
			    struct front_blk *blk, unsigned ndisks,
			    struct front_net *net, unsigned nnets)
{
	char name[16];
	int ret = main_api_add(api, "console", "console0", CTL_DEV_CONSOLE,
			       &fc->sup, &fc->vdev);

	for (unsigned i = 0; !ret && i < ndisks; i++) {
		snprintf(name, sizeof(name), "blk%u", i);
		ret = main_api_add(api, name, name, CTL_DEV_BLK, &blk[i].sup,
				   &blk[i].vdev);
	}
	for (unsigned i = 0; !ret && i < nnets; i++) {
		snprintf(name, sizeof(name), "net%u", i);
		ret = main_api_add(api, name, name, CTL_DEV_NET, &net[i].sup,
				   &net[i].vdev);
	}
	return ret;
}

/*
 * Devices and their servers, started once and kept across reboots; the
 * I/O thread serves them while the VM runs.
 */
static int main_devices(struct vm *vm, struct iothread *io,
			struct front_console *fc, const struct console_res *con,
			struct front_blk *blk, struct front_net *net,
			const struct vm_config *cfg, struct api_server *api)
{
	char err[PATH_MAX + 256], dev[16];
	struct supervisor_policy policy;

	main_policy(&cfg->servers, "console", &policy);
	if (front_console_start(fc, vm, io, con, (int)cfg->log_level, &policy,
				err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	/* Disks take the slots after the console, in --disk order. */
	for (unsigned i = 0; i < cfg->disks.n; i++) {
		snprintf(dev, sizeof(dev), "blk%u", i);
		main_policy(&cfg->servers, dev, &policy);
		if (front_blk_start(&blk[i], i, &cfg->disks.disk[i], vm, io,
				    FRONT_CONSOLE_SLOT + 1 + i,
				    (int)cfg->log_level, &policy, err,
				    sizeof(err))) {
			log_error("%s", err);
			return -1;
		}
	}
	/* Net devices after the disks, in --net order. */
	for (unsigned i = 0; i < cfg->nets.n; i++) {
		snprintf(dev, sizeof(dev), "net%u", i);
		main_policy(&cfg->servers, dev, &policy);
		if (front_net_start(&net[i], i, &cfg->nets.net[i], vm, io,
				    FRONT_CONSOLE_SLOT + 1 + cfg->disks.n + i,
				    (int)cfg->log_level, &policy, err,
				    sizeof(err))) {
			log_error("%s", err);
			return -1;
		}
	}
	api->shutdown_grace_ms = cfg->shutdown_grace_ms;
	if (api->listen_fd >= 0 &&
	    (main_api_devices(api, fc, blk, cfg->disks.n, net, cfg->nets.n) ||
	     api_server_start(api, io))) {
		log_error("cannot start the API server");
		return -1;
	}
	if (vm_start_poller(vm, io)) {
		log_error("cannot start the UART poller");
		return -1;
	}
	if (iothread_start(io)) {
		log_error("cannot start the I/O thread: %s", io->start_err);
		return -1;
	}
	return 0;
}

/*
 * --sandbox: the VMM's threads confine themselves once set up (confine.h);
 * said before any thread exists.
 */
static void main_confine_init(const struct server_cfg *c)
{
	static const enum confine_mode modes[] = {
		[SERVER_SANDBOX_ON] = CONFINE_ON,
		[SERVER_SANDBOX_RELAXED] = CONFINE_RELAXED,
		[SERVER_SANDBOX_OFF] = CONFINE_OFF,
	};

	confine_init(modes[c->sandbox], c->sandbox_debug);
}

/* The main thread, once the devices run and before the first boot. */
static int main_confine(void)
{
	char err[512];

	if (!confine_thread(CONFINE_MAIN, "main thread", err, sizeof(err)))
		return 0;
	log_error("%s", err);
	return -1;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct kvm kvm;
	struct console_res con;
	static struct iothread io;
	static struct front_console fc;
	static struct front_blk blk[DISK_MAX];
	static struct front_net net[NET_MAX];
	static struct vm vm;
	static struct api_server api = {.listen_fd = -1};
	char err[PATH_MAX + 256];
	int status, sig_fd;

	if (main_std_fds())
		return ISOVM_EXIT_VMM_ERROR;
	status = main_parse(argc, argv, &cfg);
	if (status < 0)
		status = main_check_ram(&cfg);
	if (status < 0)
		status = main_check_boot(&cfg);
	if (status >= 0)
		return status;
	main_confine_init(&cfg.servers);
	/* Images are opened, checked and locked before anything is created. */
	if (disk_set_open(&cfg.disks, err, sizeof(err))) {
		log_error("%s", err);
		return ISOVM_EXIT_USAGE;
	}
	/* So are the taps and the console's backend: the servers never
	 * open anything. */
	if (net_set_open(&cfg.nets, err, sizeof(err))) {
		log_error("%s", err);
		disk_set_close(&cfg.disks);
		return ISOVM_EXIT_USAGE;
	}
	if (console_cfg_open(&cfg.console, &con, err, sizeof(err))) {
		log_error("%s", err);
		net_set_close(&cfg.nets);
		disk_set_close(&cfg.disks);
		return ISOVM_EXIT_USAGE;
	}
	/* The API socket too: a path already taken is a bad argument. */
	if (cfg.api_socket &&
	    api_server_open(&api, cfg.api_socket, &vm, err, sizeof(err))) {
		log_error("%s", err);
		console_cfg_close(&con);
		net_set_close(&cfg.nets);
		disk_set_close(&cfg.disks);
		return ISOVM_EXIT_USAGE;
	}
	sig_fd = main_signals();
	if (sig_fd < 0) {
		log_error("signal set-up failed: %s", strerror(errno));
		status = ISOVM_EXIT_VMM_ERROR;
		goto out_close_con;
	}
	/* The launcher before KVM and guest memory exist (it keeps none of
	 * our fds anyway), from the thread that lives longest (spawner.h). */
	if (spawner_init(err, sizeof(err))) {
		log_error("%s", err);
		status = ISOVM_EXIT_VMM_ERROR;
		goto out_close_sig;
	}
	if (kvm_open(&kvm, err, sizeof(err))) {
		log_error("%s", err);
		status = ISOVM_EXIT_VMM_ERROR;
		goto out_close_sig;
	}
	status = main_check_kvm(&cfg, &kvm);
	if (status >= 0)
		goto out_close_kvm;
	status = ISOVM_EXIT_VMM_ERROR;
	if (front_console_init(&fc) || iothread_init(&io)) {
		log_error("console set-up failed");
		goto out_close_kvm;
	}
	if (vm_init(&vm, &kvm, &cfg, &front_console_uart_ops, &fc, err,
		    sizeof(err))) {
		log_error("%s", err);
		goto out_stop_devices;
	}
	if (main_devices(&vm, &io, &fc, &con, blk, net, &cfg, &api) == 0 &&
	    main_confine() == 0)
		status = vm_run(&vm, sig_fd);
	/* Guest output still queued reaches the server before it stops. */
	front_console_drain(&fc);
	iothread_stop(&io);
	api_server_close(&api);
	coalesce_poll_stop(&vm.coal_poll);
	for (unsigned i = 0; i < cfg.disks.n; i++)
		front_blk_stop(&blk[i]);
	for (unsigned i = 0; i < cfg.nets.n; i++)
		front_net_stop(&net[i]);
	front_console_stop(&fc);
	vm_fini(&vm);
	goto out_fini_io;

out_stop_devices:
	front_console_stop(&fc);
out_fini_io:
	iothread_fini(&io);
out_close_kvm:
	kvm_close(&kvm);
out_close_sig:
	spawner_fini();
	close(sig_fd);
out_close_con:
	api_server_close(&api);
	console_cfg_close(&con);
	net_set_close(&cfg.nets);
	disk_set_close(&cfg.disks);
	return status;
}
