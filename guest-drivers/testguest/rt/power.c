/* power.c: power-off and panic through the isovm port or QEMU's debug exit. */
#include "guest-drivers/abi/isovm_abi.h"
#include "rt/io.h"
#include "rt/power.h"
#include "rt/sys.h"

#define QEMU_EXIT_POWEROFF 0 /* QEMU exit status 1 */
#define QEMU_EXIT_PANIC 3    /* QEMU exit status 7 */

bool power_is_isovm(void)
{
	return inl(ISOVM_PORT) == ISOVM_PORT_MAGIC;
}

uint32_t power_events(void)
{
	uint32_t ev = inl(ISOVM_PORT_EVENTS);

	/* Nothing answers there under QEMU: all ones. */
	return ev == 0xffffffffu ? 0 : ev;
}

void power_halt_forever(void)
{
	if (cpu_ring() != 0)
		sys_stop();
	for (;;)
		__asm__ volatile("cli; hlt");
}

void power_off(void)
{
	outl(ISOVM_PORT, ISOVM_CMD_POWEROFF);
	outl(ISOVM_QEMU_DEBUG_EXIT_PORT, QEMU_EXIT_POWEROFF);
	power_halt_forever();
}

void power_panic(uint32_t code)
{
	outl(ISOVM_PORT, ISOVM_CMD_PANIC | (code << 8));
	outl(ISOVM_QEMU_DEBUG_EXIT_PORT, QEMU_EXIT_PANIC);
	power_halt_forever();
}

void power_reset_i8042(void)
{
	outb(0x64, 0xfe); /* pulse the reset line */
}
