/*
 * test_irq.c: the device-interrupt path works: self-IPIs through the ring-0
 * gate arrive, are counted where ring 3 sees them and acknowledged (else the
 * LAPIC would block the next one at the same priority).
 */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/io.h"
#include "rt/report.h"
#include "rt/sys.h"
#include "tests/tests.h"

#define IRQ_TEST_VEC VEC_TEST_IPI
#define IRQ_TEST_ROUNDS 200u
#define IRQ_TEST_WAIT_US 100000u
#define ICR_SELF 0x00040000u

/* Average cost of a null round trip through the ring-0 gate. */
static uint64_t irq_gate_ns(void)
{
	uint64_t t0 = rdtsc();
	unsigned i;

	for (i = 0; i < IRQ_TEST_ROUNDS; i++)
		sys_cr2();
	return clock_ns(rdtsc() - t0) / IRQ_TEST_ROUNDS;
}

void test_irq(const char *name)
{
	uint64_t gate_ns = irq_gate_ns();
	uint64_t before = irq_counts[IRQ_TEST_VEC], t0 = rdtsc(), deadline;
	unsigned i, lost = 0;

	for (i = 0; i < IRQ_TEST_ROUNDS; i++) {
		if (sys_ipi(0, ICR_SELF | IRQ_TEST_VEC)) {
			lost++;
			break;
		}
		/* Pending while IF is clear in the gate: taken on its iretq. */
		deadline = clock_deadline_us(IRQ_TEST_WAIT_US);
		while (irq_counts[IRQ_TEST_VEC] < before + i + 1) {
			if (clock_expired(deadline)) {
				lost++;
				break;
			}
			cpu_relax();
		}
		if (lost)
			break;
	}
	report_result(name, !lost && irq_counts[IRQ_TEST_VEC] ==
						before + IRQ_TEST_ROUNDS,
		      "vector=%u rounds=%u counted=%lu ipi_ns=%lu gate_ns=%lu",
		      IRQ_TEST_VEC,
		      IRQ_TEST_ROUNDS, irq_counts[IRQ_TEST_VEC] - before,
		      clock_ns(rdtsc() - t0) / IRQ_TEST_ROUNDS, gate_ns);
}
