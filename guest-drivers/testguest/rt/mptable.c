/* mptable.c: finds and reads the MP floating pointer and configuration table. */
#include "boot/kernel.h"
#include "rt/mptable.h"
#include "rt/string.h"

#define MP_TABLE_MAX 4096 /* larger tables are refused */
#define MP_ENTRY_CPU 0
#define MP_ENTRY_BUS 1
#define MP_ENTRY_IOAPIC 2
#define MP_ENTRY_IOINT 3
#define MP_ENTRY_LINT 4
#define MP_CPU_ENABLED 0x1
#define MP_CPU_BSP 0x2

struct mptable mptable;

static uint8_t mp_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Returns the address of a valid floating pointer in [base, base+len), or 0. */
static uint32_t mp_find_fp(uint32_t base, uint32_t len)
{
	uint8_t fp[16];
	uint32_t a;

	for (a = base; a + sizeof(fp) <= base + len; a += 16) {
		memcpy(fp, (const void *)(uintptr_t)a, sizeof(fp));
		if (memcmp(fp, "_MP_", 4) || fp[8] != 1)
			continue;
		if (mp_sum(fp, sizeof(fp)) == 0)
			return a;
	}
	return 0;
}

/*
 * Walks the entries by the table length, as Linux does: qboot (QEMU
 * microvm) leaves the entry count at 0.
 */
/* An I/O interrupt entry: type 0 (INT) from the ISA bus to the first I/O APIC. */
static void mp_parse_ioint(struct mptable *mp, const uint8_t *e, int isa_bus)
{
	uint8_t irq = e[5], pin = e[7];

	if (e[1] != 0 || isa_bus < 0 || e[4] != isa_bus || !mp->nioapics ||
	    (e[6] != mp->ioapic_id && e[6] != 0xff) ||
	    irq >= MPTABLE_ISA_IRQS || pin >= 240)
		return;
	mp->isa_pin[irq] = pin;
	memcpy(&mp->isa_flags[irq], e + 2, 2);
}

static int mp_parse_entries(struct mptable *mp, const uint8_t *t, size_t len)
{
	size_t off = 44;
	int isa_bus = -1; /* bus entries come before interrupt entries */

	while (off < len) {
		size_t esize = t[off] == MP_ENTRY_CPU ? 20 : 8;

		if (t[off] > MP_ENTRY_LINT || off + esize > len)
			return -TG_EINVAL;
		if (t[off] == MP_ENTRY_CPU && (t[off + 3] & MP_CPU_ENABLED)) {
			if (mp->ncpus < MAX_CPUS) {
				if (t[off + 3] & MP_CPU_BSP)
					mp->bsp_index = (int)mp->ncpus;
				mp->apic_id[mp->ncpus] = t[off + 1];
			}
			mp->ncpus++;
		} else if (t[off] == MP_ENTRY_BUS) {
			if (!memcmp(t + off + 2, "ISA", 3))
				isa_bus = t[off + 1];
		} else if (t[off] == MP_ENTRY_IOAPIC && (t[off + 3] & 1)) {
			if (!mp->nioapics++) {
				mp->ioapic_id = t[off + 1];
				memcpy(&mp->ioapic_addr, t + off + 4, 4);
			}
		} else if (t[off] == MP_ENTRY_IOINT) {
			mp_parse_ioint(mp, t + off, isa_bus);
		}
		off += esize;
	}
	return 0;
}

static int mp_read_config(struct mptable *mp, uint32_t cfg_addr)
{
	static uint8_t t[MP_TABLE_MAX];
	uint16_t len;

	if (cfg_addr < 0x400 || cfg_addr > 0x100000 - 44)
		return -TG_EINVAL;
	memcpy(t, (const void *)(uintptr_t)cfg_addr, 44);
	memcpy(&len, t + 4, 2);
	if (memcmp(t, "PCMP", 4) || len < 44 || len > sizeof(t) ||
	    cfg_addr + len > 0x100000)
		return -TG_EINVAL;
	/* Copy the whole table once, then check and read only the copy. */
	memcpy(t, (const void *)(uintptr_t)cfg_addr, len);
	if (mp_sum(t, len) != 0)
		return -TG_EINVAL;
	memcpy(&mp->lapic_addr, t + 36, 4);
	return mp_parse_entries(mp, t, len);
}

static void mp_reset(struct mptable *mp)
{
	memset(mp, 0, sizeof(*mp));
	mp->bsp_index = -1;
	memset(mp->isa_pin, MPTABLE_NO_PIN, sizeof(mp->isa_pin));
}

int mptable_scan(struct mptable *mp)
{
	uint16_t ebda_seg;
	uint32_t fp = 0, cfg;

	mp_reset(mp);
	memcpy(&ebda_seg, (const void *)(uintptr_t)0x40e, 2);
	if (ebda_seg && ((uint32_t)ebda_seg << 4) < 0xa0000 - 1024)
		fp = mp_find_fp((uint32_t)ebda_seg << 4, 1024);
	if (!fp)
		fp = mp_find_fp(0xa0000 - 1024, 1024);
	if (!fp)
		fp = mp_find_fp(0xf0000, 0x10000);
	if (!fp)
		return -TG_EINVAL;
	memcpy(&cfg, (const void *)(uintptr_t)(fp + 4), 4);
	if (mp_read_config(mp, cfg)) {
		mp_reset(mp); /* nothing half-read survives */
		return -TG_EINVAL;
	}
	mp->fp_addr = fp;
	mp->found = 1;
	return 0;
}
