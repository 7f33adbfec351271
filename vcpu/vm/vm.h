/*
 * vm.h: the VM lifecycle: build the board, boot, run the vCPUs, wait for an
 * outcome, tear down; a reboot rebuilds the VM inside the same process.
 */
#ifndef ISOVM_VM_H
#define ISOVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vcpu/boot/boot.h"
#include "vcpu/boot/cpu.h"
#include "vcpu/config/args.h"
#include "vcpu/core/coalesce.h"
#include "vcpu/core/coalesce_poll.h"
#include "vcpu/core/io_bus.h"
#include "vcpu/core/kvm.h"
#include "vcpu/platform/i8042.h"
#include "vcpu/platform/pio_devices.h"
#include "vcpu/platform/uart.h"
#include "vcpu/vm/vcpu_thread.h"

#define VM_MAX_DEVICES	     24
#define VM_PAUSE_TIMEOUT_MS  5000
#define VM_CMDLINE_EXTRA_MAX 1024

struct vm;

/*
 * A device that lives across reboots (a virtio-mmio transport, say). Its
 * I/O ranges go on vm->pio / vm->mmio once, at registration time; these
 * hooks follow the VM fd, which is new on every boot.
 */
struct vm_device_ops {
	/*
	 * After the VM fd, RAM and irqchip exist and before any vCPU runs:
	 * register ioeventfds/irqfds on vm_fd. 0 or -errno (ends the run
	 * with ISOVM_EXIT_VMM_ERROR).
	 */
	int (*attach)(void *opaque, struct vm *vm, int vm_fd);
	/*
	 * After every vCPU stopped, before the VM fd closes: drop guest
	 * state. May come without a prior attach (a failed boot).
	 */
	void (*reset)(void *opaque, struct vm *vm);
};

enum vm_outcome {
	VM_OUTCOME_NONE,
	VM_OUTCOME_POWEROFF,
	VM_OUTCOME_REBOOT,
	VM_OUTCOME_PANIC,    /* guest reported a panic via the isovm port */
	VM_OUTCOME_FAULT,    /* KVM internal error, failed entry, bad exit */
	VM_OUTCOME_ERROR,    /* the VMM failed (ioctl error) */
	VM_OUTCOME_SIGNAL,   /* the isovm process was told to stop */
	VM_OUTCOME_SHUTDOWN, /* vm_shutdown(): an orderly stop, status 0 */
};

enum vm_state {
	VM_STATE_STARTING, /* building the VM or loading the kernel */
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,	/* every vCPU parked outside KVM_RUN */
	VM_STATE_SHUTTING_DOWN, /* an outcome is known; vCPUs are stopping */
};

struct vm_status {
	enum vm_state state;
	uint64_t uptime_ms; /* since the current boot started running */
	unsigned vcpus;
	uint64_t memory_bytes;
	/* VM exits of this boot, all vCPUs: port I/O, MMIO, the rest. */
	uint64_t exits_io, exits_mmio, exits_other;
};

struct vm {
	const struct vm_config *cfg;
	const struct kvm *kvm;
	struct cpu_cpuid cpuid;
	/* RAM: one mapping for the whole run, zeroed on reboot. */
	struct guest_mem mem;
	/* Rebuilt on every boot. */
	atomic_int vm_fd; /* -1 between boots; read by the UART irq path */
	struct vcpu vcpu[ARGS_CPUS_MAX];
	unsigned nr_vcpus;
	struct boot_entry entry;
	char cmdline[BOOT_CMDLINE_MAX];
	unsigned boot_count;
	/* Devices and buses: live as long as the struct vm. */
	struct {
		const struct vm_device_ops *ops;
		void *opaque;
	} dev[VM_MAX_DEVICES];
	unsigned nr_devs;
	char cmdline_extra[VM_CMDLINE_EXTRA_MAX]; /* appended every boot */
	struct io_bus pio;
	struct io_bus mmio; /* virtio-mmio devices register here */
	struct uart uart;
	struct pio_devices pio_dev;
	struct i8042 i8042;
	/* UART transmit writes KVM queues; replayed on every vCPU exit. */
	struct coalesce coal;
	struct coalesce_poll coal_poll; /* started by vm_start_poller() */
	/* The outcome: the first request wins; main waits on outcome_efd. */
	atomic_int outcome;
	uint32_t panic_code;
	int outcome_efd;
	atomic_bool stopping;
	/* Pause/resume and status; lock also keeps the vCPU set still. */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* parked, pause_req, stopping or outcome moved */
	enum vm_state state;
	atomic_bool pause_req;
	unsigned parked;
	unsigned pause_timeout_ms; /* VM_PAUSE_TIMEOUT_MS; tests shorten it */
	uint64_t run_start_ms;
};

/*
 * Sets up what lives across reboots: guest RAM, buses, UART (with backend
 * be), the legacy port devices and the CPUID table. 0 or -errno with reason in
 * err.
 */
int vm_init(struct vm *vm, const struct kvm *kvm, const struct vm_config *cfg,
	    const struct uart_backend_ops *be, void *be_opaque, char *err,
	    size_t errlen);
void vm_fini(struct vm *vm);

/*
 * Between vm_init() and vm_run() only: adds a device's per-boot hooks
 * (0, or -ENOSPC), or words for the guest command line, placed after the
 * user's --cmdline and before "isovm.boot=N" (0, or -E2BIG).
 */
int vm_add_device(struct vm *vm, const struct vm_device_ops *ops, void *opaque);
int vm_cmdline_add(struct vm *vm, const char *words);

/*
 * Before iothread_start(): replays queued UART writes on io when the guest
 * makes no exits. Nothing to do (0) when KVM cannot queue them. 0 or -errno.
 */
int vm_start_poller(struct vm *vm, struct iothread *io);

/*
 * Boots until the guest powers off, panics or faults, or sig_fd (a signalfd)
 * fires, restarting on reboot unless cfg says exit. Returns the process exit
 * status (ISOVM_EXIT_*); errors are logged.
 */
int vm_run(struct vm *vm, int sig_fd);

/*
 * With vm->uart.lock held (the UART is its one caller, and teardown waits
 * on that lock before it closes the VM fd): sets a line of the in-kernel
 * irqchip (ISA IRQs 0-15 reach both PIC and IOAPIC). Between boots the
 * level is dropped and -ENODEV returned. 0 or -errno.
 */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);

/*
 * Any thread but a vCPU's (the API's, say). pause returns once every vCPU is
 * parked outside KVM_RUN: 0, -EBUSY when not running (starting, already
 * paused, shutting down), -ECANCELED when the boot ended meanwhile or
 * -ETIMEDOUT after vm->pause_timeout_ms (the VM then keeps running, every
 * vCPU with it).
 * resume: 0 or -EBUSY when not paused. shutdown: an orderly stop, also
 * from a paused VM; isovm then exits with status 0.
 */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
void vm_shutdown(struct vm *vm);
/*
 * Any thread: press the guest's power button (ISOVM_EVENT_POWEROFF on the
 * isovm port and an edge on ISOVM_EVENT_IRQ). The guest powers off when
 * it is ready; nothing here ends the VM. 0, or -ENODEV between boots.
 */
int vm_power_button(struct vm *vm);
void vm_get_status(struct vm *vm, struct vm_status *st);

/* vCPU threads only: wait here while a pause is requested. */
void vm_vcpu_park(struct vm *vm, struct vcpu *v);

/* vm_run() only, with vm->lock held: the vCPUs run from now on. */
void vm_mark_running(struct vm *vm);

/* Any thread: ends the current boot with o (the first request wins). */
void vm_request_outcome(struct vm *vm, enum vm_outcome o, uint32_t code);

#endif
