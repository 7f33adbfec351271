/* kvm.h: the KVM system fd (capability checks) and VM creation. */
#ifndef ISOVM_KVM_H
#define ISOVM_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unused guest-physical pages in the 32-bit hole that KVM needs on Intel. */
#define KVM_TSS_GPA	     0xfffbd000ull /* three pages */
#define KVM_IDENTITY_MAP_GPA 0xfffbc000ull /* one page */

struct kvm {
	int sys_fd;	   /* /dev/kvm, owned */
	int run_mmap_size; /* size of each vCPU's struct kvm_run mapping */
	int max_vcpus;	   /* KVM_CAP_MAX_VCPUS */
	/*
	 * Where the coalesced-write ring sits in every vCPU's mapping, in
	 * bytes; 0 when KVM cannot coalesce port writes (then none are).
	 */
	size_t coalesced_ring_off;
	size_t page_size;
};

/*
 * Opens /dev/kvm, checks the API version and every capability isovm relies
 * on. Returns 0, or -errno with a one-line reason in err (an environment
 * problem: exit ISOVM_EXIT_VMM_ERROR). Nothing is left open on failure.
 */
int kvm_open(struct kvm *kvm, char *err, size_t errlen);
void kvm_close(struct kvm *kvm);

/*
 * Creates a VM with its TSS and identity-map pages. Returns the VM fd
 * (caller owns it) or -errno with a reason in err.
 */
int kvm_vm_create(const struct kvm *kvm, char *err, size_t errlen);

/*
 * Adds the in-kernel irqchip (PIC, IOAPIC, LAPICs) and PIT, after guest RAM
 * is registered (a memory slot added once an irqchip exists costs KVM
 * milliseconds per 256 MiB on some hosts) and before any vCPU, so that each
 * gets a LAPIC. 0 or -errno with a reason in err.
 */
int kvm_vm_add_irqchip(int vm_fd, char *err, size_t errlen);

/*
 * Turns off the PIT's reinjection of missed ticks (QEMU's
 * lost_tick_policy=discard). Our guests keep time with the TSC, not by
 * counting PIT ticks. It sleeps through two SRCU grace periods (~15 ms
 * here), but a VM left in reinject mode pays them at teardown instead,
 * so it is called while the guest runs.
 */
int kvm_pit_discard_lost_ticks(int vm_fd);

/* Sets the level of an in-kernel irqchip input (GSI); 0 or -errno. */
int kvm_irq_line(int vm_fd, unsigned gsi, int level);

/*
 * Makes guest writes to ports [port, port + len) go to the VM's coalesced
 * ring instead of exiting (kvm->coalesced_ring_off must be set). 0 or -errno.
 */
int kvm_coalesce_pio(int vm_fd, uint16_t port, uint32_t len);

/*
 * Routes guest writes of len bytes at the MMIO address gpa (with value
 * datamatch unless any_value) to efd, without a user-space exit. The VM
 * holds no reference to efd beyond the registration; closing the VM drops
 * it. 0 or -errno.
 */
int kvm_ioeventfd_add(int vm_fd, uint64_t gpa, unsigned len, int efd,
		      bool any_value, uint64_t datamatch);
int kvm_ioeventfd_del(int vm_fd, uint64_t gpa, unsigned len, int efd,
		      bool any_value, uint64_t datamatch);

/*
 * A write to efd raises gsi. With resample_efd >= 0 the line is level:
 * KVM lowers it on the guest's EOI and signals resample_efd. 0 or -errno.
 */
int kvm_irqfd_add(int vm_fd, unsigned gsi, int efd, int resample_efd);
int kvm_irqfd_del(int vm_fd, unsigned gsi, int efd);

#endif
