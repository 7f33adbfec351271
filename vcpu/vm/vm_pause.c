/* vm_pause.c: pausing, resuming, shutting down and describing a running VM. */
#include <errno.h>
#include <time.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/clock.h"
#include "vcpu/log.h"
#include "vcpu/vm/vm.h"

void vm_vcpu_park(struct vm *vm, struct vcpu *v)
{
	pthread_mutex_lock(&vm->lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->cond);
	while (atomic_load(&vm->pause_req) && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->parked--;
	/*
	 * Undo the pause kick. A stop sets stopping under this lock before it
	 * kicks, so a stop's kick is never undone here.
	 */
	if (!atomic_load(&vm->stopping))
		vcpu_unkick(v);
	pthread_mutex_unlock(&vm->lock);
}

int vm_pause(struct vm *vm)
{
	struct timespec deadline;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STATE_RUNNING) {
		pthread_mutex_unlock(&vm->lock);
		return -EBUSY;
	}
	atomic_store(&vm->pause_req, true);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpu[i]);
	/* A vCPU that ended the boot never parks: the outcome wakes us. */
	deadline = deadline_after_ms(CLOCK_REALTIME, vm->pause_timeout_ms);
	while (vm->parked < vm->nr_vcpus && !atomic_load(&vm->stopping) &&
	       atomic_load(&vm->outcome) == VM_OUTCOME_NONE && !ret)
		ret = -pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline);
	if (vm->parked == vm->nr_vcpus) {
		vm->state = VM_STATE_PAUSED;
		log_info("vm: paused");
		ret = 0;
	} else {
		/*
		 * Let the parked ones go again: the VM stays running. The
		 * late ones must not find their kick still set, or each
		 * KVM_RUN would return at once, for good.
		 */
		atomic_store(&vm->pause_req, false);
		if (!atomic_load(&vm->stopping))
			for (unsigned i = 0; i < vm->nr_vcpus; i++)
				vcpu_unkick(&vm->vcpu[i]);
		pthread_cond_broadcast(&vm->cond);
		if (ret != -ETIMEDOUT)
			ret = -ECANCELED;
		else
			log_warn("vm: pause timed out: a vCPU did not stop");
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STATE_PAUSED) {
		pthread_mutex_unlock(&vm->lock);
		return -EBUSY;
	}
	atomic_store(&vm->pause_req, false);
	vm->state = VM_STATE_RUNNING;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	log_info("vm: resumed");
	return 0;
}

void vm_shutdown(struct vm *vm)
{
	vm_request_outcome(vm, VM_OUTCOME_SHUTDOWN, 0);
}

int vm_power_button(struct vm *vm)
{
	int ret;

	atomic_fetch_or(&vm->pio_dev.events, ISOVM_EVENT_POWEROFF);
	/* vm_irq_line's lock: teardown waits on it before closing the VM. */
	pthread_mutex_lock(&vm->uart.lock);
	ret = vm_irq_line(vm, ISOVM_EVENT_IRQ, 1);
	if (!ret)
		ret = vm_irq_line(vm, ISOVM_EVENT_IRQ, 0);
	pthread_mutex_unlock(&vm->uart.lock);
	return ret;
}

void vm_get_status(struct vm *vm, struct vm_status *st)
{
	pthread_mutex_lock(&vm->lock);
	st->state = vm->state;
	st->uptime_ms = 0;
	if (vm->state == VM_STATE_RUNNING || vm->state == VM_STATE_PAUSED)
		st->uptime_ms = clock_now_ms() - vm->run_start_ms;
	st->vcpus = vm->cfg->cpus;
	st->memory_bytes = vm->cfg->mem_size;
	st->exits_io = st->exits_mmio = st->exits_other = 0;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		st->exits_io += atomic_load_explicit(&vm->vcpu[i].exits_io,
						     memory_order_relaxed);
		st->exits_mmio += atomic_load_explicit(
			&vm->vcpu[i].exits_mmio, memory_order_relaxed);
		st->exits_other += atomic_load_explicit(
			&vm->vcpu[i].exits_other, memory_order_relaxed);
	}
	pthread_mutex_unlock(&vm->lock);
}

/* Called by vm_run() under vm->lock when the vCPUs have been started. */
void vm_mark_running(struct vm *vm)
{
	vm->state = VM_STATE_RUNNING;
	vm->run_start_ms = clock_now_ms();
}
