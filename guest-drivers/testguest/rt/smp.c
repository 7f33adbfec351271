/* smp.c: AP start-up by INIT/SIPI from ring 3 and the per-CPU work loop. */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/mptable.h"
#include "rt/runtime.h"
#include "rt/smp.h"
#include "rt/string.h"
#include "rt/sys.h"

#define ICR_INIT 0x0000c500u   /* INIT, level, assert */
#define ICR_SIPI 0x00000600u   /* start-up, vector = page number */
#define ICR_ALL_BUT_SELF 0x000c0000u
#define SMP_SIPI_RETRY_US 200000
#define SMP_START_TIMEOUT_US 2000000

struct smp smp;

static int smp_wait_online(uint32_t want, uint64_t us)
{
	uint64_t deadline = clock_deadline_us(us);

	while (__atomic_load_n(&smp.online, __ATOMIC_ACQUIRE) < want) {
		if (clock_expired(deadline))
			return 0;
		cpu_relax();
	}
	return 1;
}

static int smp_start_one(uint8_t apic_id)
{
	uint32_t want = smp.online + 1;
	uint32_t sipi = ICR_SIPI | (TRAMP_BASE >> 12);

	if (sys_ipi(apic_id, ICR_INIT) || sys_ipi(apic_id, sipi)) {
		smp.error = "ipi-failed";
		return -1;
	}
	if (smp_wait_online(want, SMP_SIPI_RETRY_US))
		return 0;
	/* The classic second SIPI; KVM ignores it once the AP runs. */
	sys_ipi(apic_id, sipi);
	if (smp_wait_online(want, SMP_START_TIMEOUT_US))
		return 0;
	smp.error = "ap-timeout";
	return -1;
}

/*
 * Without an MP table (a QEMU firmware that writes none) the APIC ids are
 * unknown: INIT and SIPI go to all but self, and runtime.cpus (from
 * fw_cfg) is awaited.
 */
static unsigned smp_start_broadcast(void)
{
	uint32_t sipi = ICR_ALL_BUT_SELF | ICR_SIPI | (TRAMP_BASE >> 12);

	if (runtime.cpus <= 1)
		return smp.online;
	if (sys_ipi(0, ICR_ALL_BUT_SELF | ICR_INIT) || sys_ipi(0, sipi)) {
		smp.error = "ipi-failed";
		return smp.online;
	}
	if (!smp_wait_online(runtime.cpus, SMP_SIPI_RETRY_US)) {
		sys_ipi(0, sipi);
		if (!smp_wait_online(runtime.cpus, SMP_START_TIMEOUT_US))
			smp.error = "ap-timeout";
	}
	return smp.online;
}

static uint8_t smp_self_apic_id(void)
{
	volatile uint32_t *id = (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + 0x20);

	return (uint8_t)(*id >> 24);
}

unsigned smp_start(void)
{
	uint8_t self = smp_self_apic_id();
	unsigned i;

	if (smp.started)
		return smp.online;
	smp.started = 1;
	__atomic_store_n(&smp.online, 1, __ATOMIC_RELEASE);
	memcpy((void *)(uintptr_t)TRAMP_BASE, tramp_start,
	       (size_t)(tramp_end - tramp_start));
	if (!mptable.found)
		return smp_start_broadcast();
	if (mptable.ncpus > MAX_CPUS)
		smp.error = "over-max-cpus"; /* the rest still start */
	for (i = 0; i < mptable.ncpus && i < MAX_CPUS; i++) {
		/* Never INIT ourselves, flagged as BSP or not. */
		if ((int)i == mptable.bsp_index || mptable.apic_id[i] == self)
			continue;
		if (smp_start_one(mptable.apic_id[i]))
			break;
	}
	return smp.online;
}

void smp_run(smp_fn fn, void *arg)
{
	smp.work_fn = fn;
	smp.work_arg = arg;
	/* Pairs with the acquire load in smp_ap_main. */
	__atomic_add_fetch(&smp.work_gen, 1, __ATOMIC_RELEASE);
	if (smp.online > 1)
		sys_ipi(0, ICR_ALL_BUT_SELF | VEC_WAKE);
	fn(0, arg);
}

void smp_ap_main(unsigned cpu)
{
	uint32_t seen = __atomic_load_n(&smp.work_gen, __ATOMIC_ACQUIRE);

	__atomic_add_fetch(&smp.online, 1, __ATOMIC_RELEASE);
	for (;;) {
		uint32_t gen = __atomic_load_n(&smp.work_gen, __ATOMIC_ACQUIRE);

		if (gen != seen) {
			seen = gen;
			smp.work_fn(cpu, smp.work_arg);
			continue;
		}
		/* Sleeps in ring 0 unless work_gen moved meanwhile. */
		sys_wait(&smp.work_gen, gen);
	}
}
