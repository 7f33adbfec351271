/* vcpu_thread.c: the KVM_RUN loop of one vCPU and its exit dispatch. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vcpu/core/confine.h"
#include "vcpu/log.h"
#include "vcpu/vm/fault.h"
#include "vcpu/vm/selfstat.h"
#include "vcpu/vm/vcpu_thread.h"
#include "vcpu/vm/vm.h"

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* its only job is to make KVM_RUN return EINTR */
}

int vcpu_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the interrupted KVM_RUN must come back. */
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

void vcpu_log_stats(const struct vcpu *v)
{
	log_debug("vcpu%u: exits: %llu port I/O, %llu MMIO, %llu other", v->id,
		  (unsigned long long)atomic_load(&v->exits_io),
		  (unsigned long long)atomic_load(&v->exits_mmio),
		  (unsigned long long)atomic_load(&v->exits_other));
}

int vcpu_create(struct vcpu *v, struct vm *vm, int vm_fd, unsigned id,
		size_t run_size)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		ret = -errno;
		v->fd = -1;
		return ret;
	}
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
		      0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		v->run = NULL;
		goto err_close_vcpu;
	}
	v->run_size = run_size;
	return 0;

err_close_vcpu:
	close(v->fd);
	v->fd = -1;
	return ret;
}

/* Port I/O: count accesses of size bytes each in the shared page. */
static bool vcpu_exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t size = run->io.size, count = run->io.count;
	uint64_t off = run->io.data_offset;
	uint8_t *data = (uint8_t *)run;

	/* The layout comes from KVM, but a bad one must not walk off the map.
	 */
	if (size == 0 || size > 4 || off > v->run_size ||
	    count > (v->run_size - off) / size) {
		log_error("vcpu%u: malformed I/O exit", v->id);
		vm_request_outcome(v->vm, VM_OUTCOME_ERROR, 0);
		return false;
	}
	for (uint64_t i = 0; i < count; i++)
		io_bus_access(&v->vm->pio, run->io.port, data + off + i * size,
			      (unsigned)size,
			      run->io.direction == KVM_EXIT_IO_OUT);
	return true;
}

static bool vcpu_exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data)) {
		log_error("vcpu%u: malformed MMIO exit", v->id);
		vm_request_outcome(v->vm, VM_OUTCOME_ERROR, 0);
		return false;
	}
	io_bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len,
		      run->mmio.is_write);
	return true;
}

static bool vcpu_guest_fault(struct vcpu *v, const char *why)
{
	fault_report(LOG_LVL_ERROR, v->fd, &v->vm->mem, v->id, why);
	vm_request_outcome(v->vm, VM_OUTCOME_FAULT, 0);
	return false;
}

static bool vcpu_exit_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_outcome(v->vm, VM_OUTCOME_POWEROFF, 0);
		return false;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_outcome(v->vm, VM_OUTCOME_REBOOT, 0);
		return false;
	default:
		return vcpu_guest_fault(v, "unexpected system event");
	}
}

/* Returns false when this vCPU must stop running. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	char why[64];

	switch (v->run->exit_reason) {
	case KVM_EXIT_IO:
		atomic_fetch_add_explicit(&v->exits_io, 1, memory_order_relaxed);
		return vcpu_exit_io(v);
	case KVM_EXIT_MMIO:
		atomic_fetch_add_explicit(&v->exits_mmio, 1,
					  memory_order_relaxed);
		return vcpu_exit_mmio(v);
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT: /* with the in-kernel LAPIC hlt stays in KVM */
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: what a PC does is reset. */
		log_info("vcpu%u: triple fault, rebooting", v->id);
		vm_request_outcome(v->vm, VM_OUTCOME_REBOOT, 0);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		return vcpu_exit_system_event(v);
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "KVM internal error (suberror %u)",
			 v->run->internal.suberror);
		return vcpu_guest_fault(v, why);
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed (reason 0x%llx)",
			 (unsigned long long)v->run->fail_entry
				 .hardware_entry_failure_reason);
		return vcpu_guest_fault(v, why);
	default:
		snprintf(why, sizeof(why), "unexpected exit reason %u",
			 v->run->exit_reason);
		return vcpu_guest_fault(v, why);
	}
}

static bool vcpu_should_run(const struct vcpu *v)
{
	return !atomic_load(&v->vm->stopping) &&
	       atomic_load(&v->vm->outcome) == VM_OUTCOME_NONE;
}

/*
 * Before the first KVM_RUN: the guest never runs on an unconfined thread.
 * A filter that cannot be loaded (--sandbox on) ends the boot.
 */
static bool vcpu_confine(struct vcpu *v)
{
	char who[16], err[320];

	snprintf(who, sizeof(who), "vcpu%u", v->id);
	if (!confine_thread(CONFINE_VCPU, who, err, sizeof(err)))
		return true;
	log_error("%s", err);
	vm_request_outcome(v->vm, VM_OUTCOME_ERROR, 0);
	return false;
}

static void *vcpu_thread_main(void *arg)
{
	struct vcpu *v = arg;

	if (!vcpu_confine(v))
		return NULL;
	selfstat_first_run();
	while (vcpu_should_run(v)) {
		if (atomic_load(&v->vm->pause_req)) {
			vm_vcpu_park(v->vm, v);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			/* EINTR: kicked; EAGAIN: an AP left the wait-for-SIPI
			 * state. */
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_error("vcpu%u: KVM_RUN: %s", v->id,
				  strerror(errno));
			vm_request_outcome(v->vm, VM_OUTCOME_ERROR, 0);
			break;
		}
		/* Queued port writes happened before this exit. */
		coalesce_replay(&v->vm->coal);
		if (v->run->exit_reason != KVM_EXIT_IO &&
		    v->run->exit_reason != KVM_EXIT_MMIO)
			atomic_fetch_add_explicit(&v->exits_other, 1,
						  memory_order_relaxed);
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int ret = pthread_create(&v->thread, NULL, vcpu_thread_main, v);

	if (ret)
		return -ret;
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	/* Catches the thread even if it is just about to enter KVM_RUN. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_unkick(struct vcpu *v)
{
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

void vcpu_join(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	pthread_join(v->thread, NULL);
	v->thread_started = false;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	v->run = NULL;
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}
