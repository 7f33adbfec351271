/* vm.c: building, booting, running, tearing down and rebooting the VM. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/core/memory.h"
#include "vcpu/log.h"
#include "vcpu/vm/fault.h"
#include "vcpu/vm/selfstat.h"
#include "vcpu/vm/vm.h"

/* UART lock held (vm_teardown relies on it). */
int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	int fd = atomic_load(&vm->vm_fd);

	/* Between boots there is no irqchip: the level is simply lost. */
	if (fd < 0)
		return -ENODEV;
	return kvm_irq_line(fd, gsi, level);
}

static void vm_uart_irq(void *opaque, int level)
{
	int ret = vm_irq_line(opaque, UART_COM1_IRQ, level);

	if (ret && ret != -ENODEV)
		log_warn("uart: KVM_IRQ_LINE: %s", strerror(-ret));
}

/*
 * The UART's registers, seen first by the coalescing poller: a guest that
 * reads LSR or sets IER is about to write, and the bytes it queues should
 * reach the console within a millisecond even if it then halts.
 */
static void vm_uart_read(void *opaque, uint64_t off, uint8_t *data,
			 unsigned len)
{
	struct vm *vm = opaque;

	coalesce_poll_hurry(&vm->coal_poll);
	uart_io_ops.read(&vm->uart, off, data, len);
}

static void vm_uart_write(void *opaque, uint64_t off, const uint8_t *data,
			  unsigned len)
{
	struct vm *vm = opaque;

	coalesce_poll_hurry(&vm->coal_poll);
	uart_io_ops.write(&vm->uart, off, data, len);
}

static const struct io_bus_ops vm_uart_ops = {
	.read = vm_uart_read,
	.write = vm_uart_write,
};

static void vm_pio_event(void *opaque, enum pio_event ev, uint32_t code);

static void vm_i8042_reset(void *opaque)
{
	vm_pio_event(opaque, PIO_EVENT_REBOOT, 0);
}

static void vm_i8042_irq(void *opaque, unsigned irq, int level)
{
	int ret = vm_irq_line(opaque, irq, level);

	if (ret && ret != -ENODEV)
		log_warn("i8042: KVM_IRQ_LINE: %s", strerror(-ret));
}

static const struct i8042_ops vm_i8042_ops = {
	.reset = vm_i8042_reset,
	.irq = vm_i8042_irq,
};

static void vm_pio_event(void *opaque, enum pio_event ev, uint32_t code)
{
	struct vm *vm = opaque;

	switch (ev) {
	case PIO_EVENT_POWEROFF:
		vm_request_outcome(vm, VM_OUTCOME_POWEROFF, 0);
		break;
	case PIO_EVENT_REBOOT:
		vm_request_outcome(vm, VM_OUTCOME_REBOOT, 0);
		break;
	case PIO_EVENT_PANIC:
		vm_request_outcome(vm, VM_OUTCOME_PANIC, code);
		break;
	}
}

void vm_request_outcome(struct vm *vm, enum vm_outcome o, uint32_t code)
{
	int none = VM_OUTCOME_NONE;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->outcome, &none, (int)o))
		return;
	/* Only the winner writes it; main reads it after the eventfd. */
	vm->panic_code = code;
	/* A vm_pause() waiting for this vCPU to park gives up. */
	pthread_mutex_lock(&vm->lock);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	if (write(vm->outcome_efd, &one, sizeof(one)) < 0)
		log_error("vm: cannot signal the outcome");
}

int vm_init(struct vm *vm, const struct kvm *kvm, const struct vm_config *cfg,
	    const struct uart_backend_ops *be, void *be_opaque, char *err,
	    size_t errlen)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->state = VM_STATE_STARTING;
	vm->pause_timeout_ms = VM_PAUSE_TIMEOUT_MS;
	vm->cfg = cfg;
	vm->kvm = kvm;
	atomic_store(&vm->vm_fd, -1);
	vm->mem.memfd = -1;
	vm->outcome_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->outcome_efd < 0) {
		ret = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return ret;
	}
	ret = cpu_cpuid_fetch(&vm->cpuid, kvm->sys_fd);
	if (ret) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s",
			 strerror(-ret));
		goto err_close_efd;
	}
	ret = memory_create(&vm->mem, cfg->mem_size);
	if (ret) {
		snprintf(err, errlen, "guest memory (%lluM): %s",
			 (unsigned long long)(cfg->mem_size >> 20),
			 strerror(-ret));
		goto err_free_cpuid;
	}
	io_bus_init(&vm->pio, "pio");
	io_bus_init(&vm->mmio, "mmio");
	uart_init(&vm->uart, be, be_opaque, vm_uart_irq, vm);
	coalesce_init(&vm->coal, &vm->pio);
	ret = io_bus_register(&vm->pio, UART_COM1_BASE, UART_NR_REGS,
			      &vm_uart_ops, vm, "com1");
	if (!ret)
		ret = pio_devices_register(&vm->pio_dev, &vm->pio, vm_pio_event,
					   vm);
	if (!ret)
		ret = i8042_register(&vm->i8042, &vm->pio, &vm_i8042_ops, vm);
	if (ret) {
		snprintf(err, errlen, "port devices: %s", strerror(-ret));
		goto err_fini_devices;
	}
	return 0;

err_fini_devices:
	coalesce_fini(&vm->coal);
	uart_fini(&vm->uart);
	io_bus_fini(&vm->mmio);
	io_bus_fini(&vm->pio);
	memory_destroy(&vm->mem);
err_free_cpuid:
	cpu_cpuid_free(&vm->cpuid);
err_close_efd:
	close(vm->outcome_efd);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	return ret;
}

void vm_fini(struct vm *vm)
{
	pio_devices_fini(&vm->pio_dev);
	i8042_fini(&vm->i8042);
	if (vm->kvm->coalesced_ring_off)
		coalesce_log_stats(&vm->coal);
	else
		log_debug("coalesced port writes: off (KVM lacks "
			  "KVM_CAP_COALESCED_PIO)");
	coalesce_fini(&vm->coal);
	uart_fini(&vm->uart);
	io_bus_fini(&vm->mmio);
	io_bus_fini(&vm->pio);
	memory_destroy(&vm->mem);
	cpu_cpuid_free(&vm->cpuid);
	close(vm->outcome_efd);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
}

int vm_add_device(struct vm *vm, const struct vm_device_ops *ops, void *opaque)
{
	if (vm->nr_devs == VM_MAX_DEVICES)
		return -ENOSPC;
	vm->dev[vm->nr_devs].ops = ops;
	vm->dev[vm->nr_devs].opaque = opaque;
	vm->nr_devs++;
	return 0;
}

int vm_cmdline_add(struct vm *vm, const char *words)
{
	size_t used = strlen(vm->cmdline_extra);
	int n = snprintf(vm->cmdline_extra + used,
			 sizeof(vm->cmdline_extra) - used, "%s%s",
			 used ? " " : "", words);

	if (n < 0 || (size_t)n >= sizeof(vm->cmdline_extra) - used) {
		vm->cmdline_extra[used] = '\0';
		return -E2BIG;
	}
	return 0;
}

/* The guest command line: the user's words, devices', "isovm.boot=N". */
static int vm_build_cmdline(struct vm *vm)
{
	const char *user = vm->cfg->cmdline, *extra = vm->cmdline_extra;
	int n = snprintf(vm->cmdline, sizeof(vm->cmdline), "%s%s%s%s%s%u", user,
			 user[0] ? " " : "", extra, extra[0] ? " " : "",
			 ISOVM_CMDLINE_BOOT_KEY, vm->boot_count);

	if (n < 0 || (size_t)n >= sizeof(vm->cmdline)) {
		log_error("--cmdline is too long (the guest limit is %d bytes)",
			  BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	return 0;
}

/* vCPUs stopped: devices forget the guest, then the VM fd goes. */
static void vm_teardown(struct vm *vm)
{
	int fd;

	for (unsigned i = 0; i < vm->nr_devs; i++)
		if (vm->dev[i].ops->reset)
			vm->dev[i].ops->reset(vm->dev[i].opaque, vm);
	/* Queued UART output is the guest's last words: keep them. */
	coalesce_detach(&vm->coal);
	fd = atomic_exchange(&vm->vm_fd, -1);
	/*
	 * The only IRQ_LINE caller is the UART, under its lock: once we hold
	 * it, nobody still uses the old fd, whose number the next boot's VM
	 * may get again.
	 */
	pthread_mutex_lock(&vm->uart.lock);
	pthread_mutex_unlock(&vm->uart.lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpu[i]);
	vm->nr_vcpus = 0;
	if (fd >= 0)
		close(fd);
}

/*
 * Writes to the UART's THR (and DLL) queue in KVM instead of exiting: on
 * slow-exit hosts that is most of the cost of serial output. Reads, and
 * every other register, still exit, and each exit replays the queue first.
 */
static void vm_coalesce_uart(struct vm *vm, int vm_fd)
{
	size_t off = vm->kvm->coalesced_ring_off;
	int ret;

	if (!off || !vm->nr_vcpus)
		return;
	ret = kvm_coalesce_pio(vm_fd, UART_COM1_BASE, 1);
	if (ret) {
		log_debug("uart: KVM_REGISTER_COALESCED_MMIO: %s",
			  strerror(-ret));
		return;
	}
	if (!coalesce_attach(&vm->coal, (uint8_t *)vm->vcpu[0].run + off,
			     vm->kvm->page_size))
		log_error("uart: coalesced ring too small");
}

int vm_start_poller(struct vm *vm, struct iothread *io)
{
	if (!vm->kvm->coalesced_ring_off)
		return 0;
	return coalesce_poll_start(&vm->coal_poll, &vm->coal, io);
}

static int vm_attach_devices(struct vm *vm, int vm_fd)
{
	int ret;

	for (unsigned i = 0; i < vm->nr_devs; i++) {
		if (!vm->dev[i].ops->attach)
			continue;
		ret = vm->dev[i].ops->attach(vm->dev[i].opaque, vm, vm_fd);
		if (ret) {
			log_error("device %u: attach failed: %s", i,
				  strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int vm_create_vcpus(struct vm *vm, int vm_fd)
{
	int ret;

	for (unsigned i = 0; i < vm->cfg->cpus; i++) {
		ret = vcpu_create(&vm->vcpu[i], vm, vm_fd, i,
				  (size_t)vm->kvm->run_mmap_size);
		if (ret) {
			log_error("vcpu%u: KVM_CREATE_VCPU: %s", i,
				  strerror(-ret));
			return ret;
		}
		vm->nr_vcpus = i + 1;
		ret = cpu_setup(vm->vcpu[i].fd, &vm->cpuid, i, vm->cfg->cpus,
				i == 0 ? &vm->entry : NULL);
		if (ret) {
			log_error("vcpu%u: set-up failed: %s", i,
				  strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Builds a fresh VM and loads the kernel. 0 or an ISOVM_EXIT_* status. */
static int vm_boot(struct vm *vm)
{
	struct boot_config bc = {
		.kernel_path = vm->cfg->kernel_path,
		.initrd_path = vm->cfg->initrd_path,
		.cmdline = vm->cmdline,
		.cpus = vm->cfg->cpus,
	};
	char err[256] = "";
	int fd, ret;

	if (vm_build_cmdline(vm))
		return ISOVM_EXIT_USAGE;
	fd = kvm_vm_create(vm->kvm, err, sizeof(err));
	if (fd < 0) {
		log_error("%s", err);
		return ISOVM_EXIT_VMM_ERROR;
	}
	atomic_store(&vm->vm_fd, fd);
	/* The first boot finds fresh RAM; a reboot must not see the old. */
	ret = vm->boot_count ? memory_clear(&vm->mem) : 0;
	if (!ret)
		ret = memory_register(&vm->mem, fd);
	if (ret) {
		log_error("guest memory: %s", strerror(-ret));
		goto err_teardown;
	}
	if (kvm_vm_add_irqchip(fd, err, sizeof(err))) {
		log_error("%s", err);
		goto err_teardown;
	}
	ret = boot_load(&vm->mem, &bc, &vm->entry, err, sizeof(err));
	if (ret) {
		/* The loader's message names the file. */
		log_error("%s", err[0] ? err : strerror(-ret));
		vm_teardown(vm);
		return ISOVM_EXIT_USAGE;
	}
	if (vm_create_vcpus(vm, fd) || vm_attach_devices(vm, fd))
		goto err_teardown;
	vm_coalesce_uart(vm, fd);
	return 0;

err_teardown:
	vm_teardown(vm);
	return ISOVM_EXIT_VMM_ERROR;
}

static void vm_stop(struct vm *vm)
{
	/* Under the lock: a parking vCPU must not undo this kick. */
	pthread_mutex_lock(&vm->lock);
	atomic_store(&vm->stopping, true);
	vm->state = VM_STATE_SHUTTING_DOWN;
	pthread_cond_broadcast(&vm->cond);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpu[i]);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		vcpu_join(&vm->vcpu[i]);
		vcpu_log_stats(&vm->vcpu[i]);
	}
}

/*
 * Starts every vCPU thread and marks the VM running in one step under
 * vm->lock, so vm_pause() sees either no vCPU or all of them.
 */
static int vm_start(struct vm *vm)
{
	uint64_t drain;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	atomic_store(&vm->outcome, VM_OUTCOME_NONE);
	atomic_store(&vm->stopping, false);
	atomic_store(&vm->pause_req, false);
	vm->parked = 0;
	while (read(vm->outcome_efd, &drain, sizeof(drain)) > 0)
		;
	for (unsigned i = 0; !ret && i < vm->nr_vcpus; i++) {
		ret = vcpu_start(&vm->vcpu[i]);
		if (ret)
			log_error("vcpu%u: cannot start its thread: %s", i,
				  strerror(-ret));
	}
	if (!ret)
		vm_mark_running(vm);
	pthread_mutex_unlock(&vm->lock);
	if (ret)
		vm_stop(vm);
	return ret;
}

static enum vm_outcome vm_wait(struct vm *vm, int sig_fd)
{
	struct pollfd pfd[2] = {
		{.fd = vm->outcome_efd, .events = POLLIN},
		{.fd = sig_fd, .events = POLLIN},
	};
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("vm: poll: %s", strerror(errno));
			return VM_OUTCOME_ERROR;
		}
		if (pfd[0].revents)
			return (enum vm_outcome)atomic_load(&vm->outcome);
		if (pfd[1].revents &&
		    read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			log_info("stopping on signal %s",
				 strsignal((int)si.ssi_signo));
			vm_request_outcome(vm, VM_OUTCOME_SIGNAL, 0);
			return (enum vm_outcome)atomic_load(&vm->outcome);
		}
	}
}

/* Where each vCPU was when the run was cut short (debug level only). */
static void vm_report_vcpus(struct vm *vm)
{
	if (log_get_level() < LOG_LVL_DEBUG)
		return;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		fault_report(LOG_LVL_DEBUG, vm->vcpu[i].fd, &vm->mem, i,
			     "stopped");
}

/* Maps one boot's outcome to an exit status, or -1 to boot again. */
static int vm_outcome_status(struct vm *vm, enum vm_outcome o)
{
	switch (o) {
	case VM_OUTCOME_POWEROFF:
		log_info("guest powered off");
		return ISOVM_EXIT_POWEROFF;
	case VM_OUTCOME_REBOOT:
		if (vm->cfg->on_reboot == VM_ON_REBOOT_EXIT) {
			log_info("guest rebooted; exiting (--on-reboot exit)");
			return ISOVM_EXIT_POWEROFF;
		}
		log_info("guest rebooted; restarting (boot %u)",
			 vm->boot_count + 1);
		return -1;
	case VM_OUTCOME_PANIC:
		log_error("guest panic, code 0x%x", vm->panic_code);
		return ISOVM_EXIT_GUEST_PANIC;
	case VM_OUTCOME_FAULT:
		return ISOVM_EXIT_GUEST_FAULT;
	case VM_OUTCOME_SHUTDOWN:
		log_info("shut down on request");
		return ISOVM_EXIT_POWEROFF;
	case VM_OUTCOME_SIGNAL:
		/* A stop asked for by the host is an orderly end, like
		 * power-off. */
		return ISOVM_EXIT_POWEROFF;
	default:
		return ISOVM_EXIT_VMM_ERROR;
	}
}

static void vm_set_state(struct vm *vm, enum vm_state st)
{
	pthread_mutex_lock(&vm->lock);
	vm->state = st;
	pthread_mutex_unlock(&vm->lock);
}

/*
 * Main thread, guest running: the slow PIT mode switch happens now,
 * beside the guest, and not on the exit path where the VMM's caller
 * would wait for it. An outcome or signal meanwhile is read right after.
 */
static void vm_settle_pit(struct vm *vm)
{
	int ret = kvm_pit_discard_lost_ticks(atomic_load(&vm->vm_fd));

	if (ret)
		log_debug("pit: KVM_REINJECT_CONTROL: %s", strerror(-ret));
}

int vm_run(struct vm *vm, int sig_fd)
{
	int status;

	for (;;) {
		vm_set_state(vm, VM_STATE_STARTING);
		status = vm_boot(vm);
		if (status)
			return status;
		if (vm_start(vm)) {
			vm_teardown(vm);
			return ISOVM_EXIT_VMM_ERROR;
		}
		vm_settle_pit(vm);
		status = vm_outcome_status(vm, vm_wait(vm, sig_fd));
		vm_stop(vm);
		if (atomic_load(&vm->outcome) == VM_OUTCOME_SIGNAL)
			vm_report_vcpus(vm);
		vm_teardown(vm);
		if (status >= 0) {
			selfstat_log_memory();
			return status;
		}
		vm->boot_count++;
		uart_reset(&vm->uart);
		i8042_reset(&vm->i8042);
	}
}
