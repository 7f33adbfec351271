/* ioapic.c: I/O APIC redirection entries, programmed from ring 3. */
#include "boot/kernel.h"
#include "rt/io.h"
#include "rt/ioapic.h"
#include "rt/mptable.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_REDIR(pin) (0x10 + 2 * (pin))
#define IOAPIC_MASKED 0x10000u

static volatile uint32_t *ioapic_base;
static unsigned ioapic_pins;
static volatile uint32_t ioapic_lock; /* select + window is two accesses */

static uint32_t ioapic_read(uint32_t reg)
{
	ioapic_base[IOAPIC_REGSEL / 4] = reg;
	return ioapic_base[IOAPIC_WIN / 4];
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	ioapic_base[IOAPIC_REGSEL / 4] = reg;
	ioapic_base[IOAPIC_WIN / 4] = v;
}

static void ioapic_lock_take(void)
{
	while (__atomic_exchange_n(&ioapic_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void ioapic_lock_drop(void)
{
	__atomic_store_n(&ioapic_lock, 0, __ATOMIC_RELEASE);
}

int ioapic_init(void)
{
	uint32_t addr = mptable.nioapics ? mptable.ioapic_addr
					 : IOAPIC_DEFAULT_BASE;
	unsigned pins;

	/* Only the MMIO hole is plausible; anything else is refused. */
	if (addr < 0xc0000000u || (addr & 0xf))
		return -TG_EINVAL;
	ioapic_base = (volatile uint32_t *)(uintptr_t)addr;
	pins = ((ioapic_read(IOAPIC_REG_VER) >> 16) & 0xff) + 1;
	ioapic_pins = pins < IOAPIC_MAX_PINS ? pins : IOAPIC_MAX_PINS;
	return (int)ioapic_pins;
}

int ioapic_pin_of_irq(unsigned irq)
{
	if (irq < MPTABLE_ISA_IRQS && mptable.found &&
	    mptable.isa_pin[irq] != MPTABLE_NO_PIN)
		return mptable.isa_pin[irq];
	return irq < ioapic_pins ? (int)irq : -1;
}

int ioapic_route(unsigned pin, uint8_t apic_id)
{
	if (!ioapic_base || pin >= ioapic_pins)
		return -TG_EINVAL;
	ioapic_lock_take();
	/* Destination first, then the unmasked low word. */
	ioapic_write(IOAPIC_REG_REDIR(pin), IOAPIC_MASKED);
	ioapic_write(IOAPIC_REG_REDIR(pin) + 1, (uint32_t)apic_id << 24);
	ioapic_write(IOAPIC_REG_REDIR(pin), ioapic_vector(pin));
	ioapic_lock_drop();
	return 0;
}

int ioapic_mask(unsigned pin)
{
	if (!ioapic_base || pin >= ioapic_pins)
		return -TG_EINVAL;
	ioapic_lock_take();
	ioapic_write(IOAPIC_REG_REDIR(pin), IOAPIC_MASKED);
	ioapic_lock_drop();
	return 0;
}
