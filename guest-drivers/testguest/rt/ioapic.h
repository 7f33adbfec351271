/*
 * ioapic.h: routing device interrupts through the first I/O APIC, from
 * ring 3 (its MMIO window is user-accessible). Pin p is delivered on
 * vector VEC_IRQ_BASE + p, counted in irq_counts[] by the ring-0 stub,
 * which acknowledges the LAPIC at once: route edge-triggered sources only
 * (a level one still asserted would fire again before ring 3 runs).
 */
#ifndef TG_IOAPIC_H
#define TG_IOAPIC_H

#include <stdint.h>

#include "boot/layout.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_MAX_PINS (VEC_IRQ_PINS)

/* Finds the I/O APIC (MP table, else the default address); returns pins. */
int ioapic_init(void);

/* Pin of ISA/virtio IRQ irq per the MP table, else irq itself; -1: none. */
int ioapic_pin_of_irq(unsigned irq);

/* Unmasks pin: edge, active high, fixed delivery to apic_id. 0 or -errno. */
int ioapic_route(unsigned pin, uint8_t apic_id);
int ioapic_mask(unsigned pin);

static inline unsigned ioapic_vector(unsigned pin)
{
	return VEC_IRQ_BASE + pin;
}

#endif
