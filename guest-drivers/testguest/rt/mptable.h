/* mptable.h: the CPUs of the machine, from the Intel MP table. */
#ifndef TG_MPTABLE_H
#define TG_MPTABLE_H

#include <stdint.h>

#include "boot/layout.h"

#define MPTABLE_ISA_IRQS 24 /* isovm lists its virtio IRQs >= 16 as ISA too */
#define MPTABLE_NO_PIN 0xff

struct mptable {
	int found;                  /* a floating pointer and a valid table */
	uint32_t fp_addr;           /* where "_MP_" was found */
	uint32_t lapic_addr;
	unsigned ncpus;             /* enabled processor entries */
	uint8_t apic_id[MAX_CPUS];  /* first MAX_CPUS of them */
	int bsp_index;              /* index of the BSP-flagged one, or -1 */
	unsigned nioapics;
	uint32_t ioapic_addr;       /* first I/O APIC */
	uint8_t ioapic_id;
	/*
	 * ISA-bus interrupt sources routed to the first I/O APIC: pin of
	 * source IRQ i (MPTABLE_NO_PIN: none listed) and its MP flags
	 * (polarity bits 0-1, trigger bits 2-3; 0 = bus default).
	 */
	uint8_t isa_pin[MPTABLE_ISA_IRQS];
	uint16_t isa_flags[MPTABLE_ISA_IRQS];
};

extern struct mptable mptable;

/*
 * Scans the first KiB of the EBDA, the last KiB below 640 KiB and
 * 0xf0000-0xfffff for the floating pointer, checks both checksums and
 * copies the configuration table before reading it. Returns 0 or
 * -TG_EINVAL (no valid table: mp->found == 0).
 */
int mptable_scan(struct mptable *mp);

#endif
