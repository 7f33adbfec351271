/* clock.c: TSC calibration (hypervisor leaf, CPUID, or the PIT) and deadlines. */
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/string.h"
#include "rt/sys.h"

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_MEASURE_TICKS 11932u /* 10 ms */
#define PIT_MAX_POLLS 200000u

struct clock clock;

static uint64_t clock_from_hv_leaf(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 31))) /* no hypervisor */
		return 0;
	cpuid(0x40000000, 0, r);
	if (r[0] < 0x40000010)
		return 0;
	cpuid(0x40000010, 0, r);
	return r[0]; /* TSC kHz */
}

/* KVM's pvclock page (struct pvclock_vcpu_time_info); KVM writes it. */
struct clock_pvclock {
	volatile uint32_t version; /* odd while KVM updates */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((aligned(32)));

#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

/*
 * ns = (delta << shift) * mul >> 32 (shift < 0: >> -shift), so the rate
 * is 10^6 * 2^32 / mul kHz, shifted the other way. The clock is turned
 * off again so KVM never writes here after a reboot.
 */
static uint64_t clock_from_kvmclock(void)
{
	static struct clock_pvclock pv;
	uint32_t r[4], ver, mul = 0;
	int8_t shift = 0;
	unsigned tries;
	uint64_t khz;

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 31)))
		return 0;
	cpuid(0x40000000, 0, r);
	if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x4d) /* KVMKVMKVM */
		return 0;
	cpuid(0x40000001, 0, r);
	if (!(r[0] & KVM_FEATURE_CLOCKSOURCE2))
		return 0;
	if (sys_kvmclock((uint64_t)(uintptr_t)&pv))
		return 0;
	for (tries = 0; tries < 1000 && !mul; tries++) {
		ver = __atomic_load_n(&pv.version, __ATOMIC_ACQUIRE);
		mul = pv.tsc_to_system_mul;
		shift = pv.tsc_shift;
		clock.kvm_tsc = pv.tsc_timestamp;
		clock.kvm_ns = pv.system_time;
		if ((ver & 1) || ver != __atomic_load_n(&pv.version,
							__ATOMIC_ACQUIRE))
			mul = 0;
	}
	sys_kvmclock(0);
	if (!mul || shift > 31 || shift < -31)
		return 0;
	khz = 1000000ull * (1ull << 32) / mul;
	return shift >= 0 ? khz >> shift : khz << -shift;
}

static uint64_t clock_from_cpuid15(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] < 0x15)
		return 0;
	cpuid(0x15, 0, r);
	if (!r[0] || !r[1] || !r[2])
		return 0;
	return (uint64_t)r[2] * r[1] / r[0] / 1000;
}

static uint64_t clock_from_cpuid16(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] < 0x16)
		return 0;
	cpuid(0x16, 0, r);
	return (uint64_t)(r[0] & 0xffff) * 1000;
}

static uint16_t pit_read_ch0(void)
{
	uint8_t lo, hi;

	outb(PIT_CMD, 0x00); /* latch channel 0 */
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return (uint16_t)(hi << 8 | lo);
}

uint64_t clock_measure_pit(void)
{
	uint64_t t0, t1;
	uint16_t c0, c;
	unsigned polls;

	outb(PIT_CMD, 0x30); /* channel 0, lo/hi byte, mode 0, binary */
	outb(PIT_CH0, 0xff);
	outb(PIT_CH0, 0xff);
	c0 = pit_read_ch0();
	t0 = rdtsc();
	for (polls = 0; polls < PIT_MAX_POLLS; polls++) {
		c = pit_read_ch0();
		t1 = rdtsc();
		/* Mode 0 counts down from 0xffff once: c0 - c is elapsed. */
		if (c <= c0 && (uint16_t)(c0 - c) >= PIT_MEASURE_TICKS)
			return (t1 - t0) * PIT_HZ / (uint16_t)(c0 - c) / 1000;
	}
	return 0; /* no PIT, or a PIT that does not count */
}

/*
 * A descheduled vCPU thread can spoil one 10 ms window: two measurements
 * that agree within 0.5% are trusted, else the median of three.
 */
static uint64_t clock_pit_robust(void)
{
	uint64_t a = clock_measure_pit(), b = clock_measure_pit(), c, d;

	d = a > b ? a - b : b - a;
	if (d * 200 <= a)
		return (a + b) / 2;
	c = clock_measure_pit();
	if ((a <= b && b <= c) || (c <= b && b <= a))
		return b;
	if ((b <= a && a <= c) || (c <= a && a <= b))
		return a;
	return c;
}

void clock_calibrate(void)
{
	clock.pit_khz = 0;
	if ((clock.tsc_khz = clock_from_hv_leaf())) {
		clock.source = "hv-leaf";
		return;
	}
	if ((clock.tsc_khz = clock_from_kvmclock())) {
		clock.source = "kvmclock";
		return;
	}
	if ((clock.tsc_khz = clock_from_cpuid15())) {
		clock.source = "cpuid15";
		return;
	}
	clock.pit_khz = clock_pit_robust();
	/* Sanity: a TSC between 100 MHz and 10 GHz. */
	if (clock.pit_khz >= 100000 && clock.pit_khz <= 10000000) {
		clock.tsc_khz = clock.pit_khz;
		clock.source = "pit";
		return;
	}
	if ((clock.tsc_khz = clock_from_cpuid16())) {
		clock.source = "cpuid16";
		return;
	}
	clock.tsc_khz = 2000000;
	clock.source = "guess";
}

uint64_t clock_ns(uint64_t tsc_delta)
{
	/* Split to avoid overflow for long intervals. */
	return tsc_delta / clock.tsc_khz * 1000000 +
	       tsc_delta % clock.tsc_khz * 1000000 / clock.tsc_khz;
}

int64_t clock_kvm_ns_at(uint64_t tsc)
{
	if (!clock.kvm_tsc || tsc < clock.kvm_tsc ||
	    strcmp(clock.source, "kvmclock"))
		return -1;
	return (int64_t)(clock.kvm_ns + clock_ns(tsc - clock.kvm_tsc));
}

uint64_t clock_deadline_us(uint64_t us)
{
	return rdtsc() + us * clock.tsc_khz / 1000;
}

int clock_expired(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}
