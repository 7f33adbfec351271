/* test_mptable.c: MP spec tables: checksums, CPU entries, IOAPIC and IRQ routing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/unit/boot_fixture.h"
#include "vcpu/boot/boot.h"
#include "vcpu/boot/mptable.h"

#define MiB (1ull << 20)

static struct guest_mem mem;

static void setup(void)
{
	fixture_mem_init(&mem, 64 * MiB);
}

static void teardown(void)
{
	fixture_mem_fini(&mem);
}

TestSuite(mptable, .init = setup, .fini = teardown);

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

struct parsed {
	unsigned cpus, bsp, buses, ioapics, lints;
	int ioapic_id;
	int pin_of_irq[24];
	int isa_bus_id;
};

/* Parses the tables like a guest: from the floating pointer on. */
static void parse(unsigned want_cpus, struct parsed *out)
{
	const uint8_t *mpf = guest_mem_ptr(&mem, BOOT_MPTABLE_GPA, 16);
	const uint8_t *mpc, *p, *end;
	uint16_t len, count;

	memset(out, 0, sizeof(*out));
	memset(out->pin_of_irq, -1, sizeof(out->pin_of_irq));
	out->isa_bus_id = -1;
	cr_assert_not_null(mpf);
	cr_assert_eq(memcmp(mpf, "_MP_", 4), 0);
	cr_assert_eq(mpf[8], 1, "length in paragraphs");
	cr_assert_eq(mpf[9], 4, "spec 1.4");
	cr_assert_eq(sum(mpf, 16), 0, "floating pointer checksum");
	cr_assert_eq(mpf[11], 0, "config table present, no default config");
	mpc = guest_mem_ptr(&mem, fx_get32(mpf + 4), 44);
	cr_assert_not_null(mpc);
	cr_assert_eq(memcmp(mpc, "PCMP", 4), 0);
	len = (uint16_t)(mpc[4] | mpc[5] << 8);
	count = (uint16_t)(mpc[34] | mpc[35] << 8);
	mpc = guest_mem_ptr(&mem, fx_get32(mpf + 4), len);
	cr_assert_not_null(mpc);
	cr_assert_eq(sum(mpc, len), 0, "config table checksum");
	cr_assert_eq(fx_get32(mpc + 36), 0xfee00000u, "LAPIC address");
	p = mpc + 44;
	end = mpc + len;
	for (unsigned i = 0; i < count; i++) {
		cr_assert_lt(p, end, "entry %u inside the table", i);
		switch (p[0]) {
		case 0:
			cr_assert_eq(p[1], out->cpus, "APIC ids in order");
			cr_assert(p[3] & 1, "enabled");
			out->bsp += !!(p[3] & 2);
			if (p[3] & 2)
				cr_assert_eq(p[1], 0, "BSP is cpu 0");
			out->cpus++;
			p += 20;
			break;
		case 1:
			cr_assert_eq(memcmp(p + 2, "ISA   ", 6), 0);
			out->isa_bus_id = p[1];
			out->buses++;
			p += 8;
			break;
		case 2:
			out->ioapic_id = p[1];
			cr_assert_eq(p[2], 0x11);
			cr_assert_eq(p[3] & 1, 1);
			cr_assert_eq(fx_get32(p + 4), 0xfec00000u);
			out->ioapics++;
			p += 8;
			break;
		case 3:
			cr_assert_eq(p[4], out->isa_bus_id);
			cr_assert_eq(p[6], out->ioapic_id);
			cr_assert_lt(p[5], 24);
			cr_assert_eq(out->pin_of_irq[p[5]], -1, "IRQ %u once", p[5]);
			out->pin_of_irq[p[5]] = p[7];
			p += 8;
			break;
		case 4:
			cr_assert_eq(p[1], out->lints == 0 ? 3 : 1,
				     "LINT0 ExtINT, LINT1 NMI");
			cr_assert_eq(p[7], out->lints);
			out->lints++;
			p += 8;
			break;
		default:
			cr_assert_fail("unknown entry type %u", p[0]);
		}
	}
	cr_assert_eq(p, end, "length matches the entries");
	cr_assert_eq(out->cpus, want_cpus);
}

static void check(unsigned cpus)
{
	struct parsed t;
	int n = mptable_write(&mem, BOOT_MPTABLE_GPA, cpus);

	cr_assert_eq(n, (int)mptable_size(cpus));
	parse(cpus, &t);
	cr_assert_eq(t.bsp, 1);
	cr_assert_eq(t.buses, 1);
	cr_assert_eq(t.ioapics, 1);
	cr_assert_eq(t.ioapic_id, (int)cpus);
	cr_assert_eq(t.lints, 2);
	cr_assert_eq(t.pin_of_irq[0], 0, "PIT IRQ 0 on pin 0, where KVM routes GSI 0");
	cr_assert_eq(t.pin_of_irq[2], -1, "cascade not routed");
	cr_assert_eq(t.pin_of_irq[4], 4, "COM1");
	for (unsigned i = 0; i < ISOVM_VIRTIO_MMIO_MAX; i++) {
		unsigned irq = ISOVM_VIRTIO_MMIO_IRQ_BASE + i;

		if (irq < 24)
			cr_assert_eq(t.pin_of_irq[irq], (int)irq,
				     "virtio IRQ %u routed", irq);
	}
}

Test(mptable, one_cpu_tables_checksum_and_route)
{
	check(1);
}

Test(mptable, sixty_four_cpus)
{
	check(64);
}

Test(mptable, max_cpus)
{
	check(MPTABLE_MAX_CPUS);
}

Test(mptable, zero_or_too_many_cpus_is_einval)
{
	cr_assert_eq(mptable_write(&mem, BOOT_MPTABLE_GPA, 0), -EINVAL);
	cr_assert_eq(mptable_write(&mem, BOOT_MPTABLE_GPA, MPTABLE_MAX_CPUS + 1),
		     -EINVAL);
}

Test(mptable, outside_ram_is_efault)
{
	cr_assert_eq(mptable_write(&mem, 64 * MiB - 64, 4), -EFAULT);
	cr_assert_eq(mptable_write(&mem, 0xfffffff0ull, 4), -EFAULT);
}
