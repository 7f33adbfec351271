/*
 * vm.h: the VM lifecycle: build the board, boot, run the vCPUs, wait for an
 * outcome, tear down; a reboot rebuilds the VM inside the same process.
 */
#ifndef ISOVM_VM_H
#define ISOVM_VM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vcpu/args.h"
#include "vcpu/boot.h"
#include "vcpu/cpu.h"
#include "vcpu/io_bus.h"
#include "vcpu/kvm.h"
#include "vcpu/pio_devices.h"
#include "vcpu/uart.h"
#include "vcpu/vcpu_thread.h"

enum vm_outcome {
	VM_OUTCOME_NONE,
	VM_OUTCOME_POWEROFF,
	VM_OUTCOME_REBOOT,
	VM_OUTCOME_PANIC,  /* guest reported a panic via the isovm port */
	VM_OUTCOME_FAULT,  /* KVM internal error, failed entry, bad exit */
	VM_OUTCOME_ERROR,  /* the VMM failed (ioctl error) */
	VM_OUTCOME_SIGNAL, /* the isovm process was told to stop */
};

struct vm {
	const struct vm_config *cfg;
	const struct kvm *kvm;
	struct cpu_cpuid cpuid;
	/* Rebuilt on every boot. */
	atomic_int vm_fd; /* -1 between boots; read by the UART irq path */
	struct guest_mem mem;
	struct vcpu vcpu[ARGS_CPUS_MAX];
	unsigned nr_vcpus;
	struct boot_entry entry;
	char cmdline[BOOT_CMDLINE_MAX];
	unsigned boot_count;
	/* Devices and buses: live as long as the struct vm. */
	struct io_bus pio;
	struct io_bus mmio; /* virtio-mmio devices register here */
	struct uart uart;
	struct pio_devices pio_dev;
	/* The outcome: the first request wins; main waits on outcome_efd. */
	atomic_int outcome;
	uint32_t panic_code;
	int outcome_efd;
	atomic_bool stopping;
};

/*
 * Sets up what lives across reboots: buses, UART (with backend be), the
 * legacy port devices and the CPUID table. 0 or -errno with reason in err.
 */
int vm_init(struct vm *vm, const struct kvm *kvm, const struct vm_config *cfg,
	    const struct uart_backend_ops *be, void *be_opaque, char *err,
	    size_t errlen);
void vm_fini(struct vm *vm);

/*
 * Boots until the guest powers off, panics or faults, or sig_fd (a signalfd)
 * fires, restarting on reboot unless cfg says exit. Returns the process exit
 * status (ISOVM_EXIT_*); errors are logged.
 */
int vm_run(struct vm *vm, int sig_fd);

/* Any thread: ends the current boot with o (the first request wins). */
void vm_request_outcome(struct vm *vm, enum vm_outcome o, uint32_t code);

#endif
