/*
 * kernel.c: the ring-0 part: IDT, per-CPU TSS with the I/O permission
 * bitmap, LAPIC enable, the fatal trap report and the ring-3 gate. Kept
 * short on purpose: on some hosts every ring-0 instruction is emulated.
 */
#include <stddef.h>
#include <stdint.h>

#include "boot/kernel.h"
#include "guest-drivers/abi/isovm_abi.h"
#include "rt/console.h"
#include "rt/io.h"
#include "rt/power.h"

#define __kbss __attribute__((section(".bss.kernel")))

#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_ICR_BUSY (1u << 12)
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_LVT_MASKED 0x10000

struct idt_gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t reserved;
} __attribute__((packed));

#define IOMAP_PORTS 0x1000 /* ports above are denied by the TSS limit */
#define IOMAP_BYTES (IOMAP_PORTS / 8)

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
	uint8_t iomap[IOMAP_BYTES + 1]; /* + the all-ones byte the CPU wants */
} __attribute__((packed));

/*
 * The I/O bitmap (a set bit denies the port to ring 3), written as
 * non-overlapping byte ranges so it costs no ring-0 instruction:
 *   0x40-0x43  PIT (clock calibration)          byte 8:   0xf0
 *   0x60, 0x64 i8042 (reset line)               byte 12:  0xee
 *   0xf4-0xf7  QEMU isa-debug-exit              byte 30:  0x0f
 *   0x3f8-0x3ff COM1                            byte 127: 0x00
 *   0x510-0x511 QEMU fw_cfg (CPU count)         byte 162: 0xfc
 *   ISOVM_PORT..+7 (0xe00, events at 0xe04)     byte 448: 0x00
 */
#define IOMAP_INIT                                                             \
	{                                                                      \
		[0 ... 7] = 0xff, [8] = 0xf0, [9 ... 11] = 0xff,               \
		[12] = 0xee, [13 ... 29] = 0xff, [30] = 0x0f,                  \
		[31 ... 126] = 0xff, [127] = 0x00, [128 ... 161] = 0xff,       \
		[162] = 0xfc, [163 ... 447] = 0xff, [448] = 0x00,              \
		[449 ... IOMAP_BYTES] = 0xff,                                  \
	}

_Static_assert(offsetof(struct tss, iomap) == 104, "64-bit TSS layout");
_Static_assert(ISOVM_PORT == 0xe00 && ISOVM_PORT_LEN == 8,
	       "I/O bitmap byte 448 assumes 0xe00..0xe07");
_Static_assert(ISOVM_QEMU_DEBUG_EXIT_PORT == 0xf4, "byte 30 assumes 0xf4");

static struct tss kernel_tss[MAX_CPUS] __attribute__((aligned(64))) = {
	[0 ... MAX_CPUS - 1] = {
		.iomap_base = offsetof(struct tss, iomap),
		.iomap = IOMAP_INIT,
	},
};

static struct idt_gate kernel_idt[256] __kbss __attribute__((aligned(16)));
volatile uint64_t irq_counts[256] __kbss;
volatile struct kernel_trap_expect kernel_trap_expected;

struct kernel_dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static const struct kernel_dtr kernel_idtr = {
	.limit = sizeof(kernel_idt) - 1,
	.base = (uint64_t)kernel_idt,
};

extern char vec_stubs[], sys_entry[], spurious_entry[];
extern char kstacks[];
extern uint64_t gdt_tss[];
extern uint32_t ap_next_cpu;
extern char rt_ustacks[];
void user_enter(void (*rip)(unsigned), uint64_t rsp, uint64_t arg)
	__attribute__((noreturn));
void kernel_triple_fault(void) __attribute__((noreturn));
void kernel_main_bsp(void) __attribute__((noreturn));
void kernel_main_ap(unsigned cpu) __attribute__((noreturn));
void kernel_trap(const uint64_t *frame) __attribute__((noreturn));
int64_t kernel_sys(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t nr);

static inline void lapic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = val;
}

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

static void idt_set(unsigned vec, void *handler, unsigned dpl)
{
	uint64_t off = (uint64_t)handler;
	struct idt_gate *g = &kernel_idt[vec];

	g->off0 = off & 0xffff;
	g->sel = KERNEL_CS;
	g->ist = 0;
	g->type = 0x8e | (dpl << 5); /* present 64-bit interrupt gate */
	g->off1 = (off >> 16) & 0xffff;
	g->off2 = off >> 32;
	g->reserved = 0;
}

/* Writes the CPU's TSS descriptor afresh: a reboot may find it busy. */
static void tss_load(unsigned cpu)
{
	struct tss *t = &kernel_tss[cpu];
	uint64_t base = (uint64_t)t;
	uint64_t limit = sizeof(*t) - 1;

	t->rsp[0] = (uint64_t)kstacks + (uint64_t)(cpu + 1) * KSTACK_SIZE;
	gdt_tss[2 * cpu] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
			   (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
			   (((base >> 24) & 0xff) << 56);
	gdt_tss[2 * cpu + 1] = base >> 32;
	__asm__ volatile("ltr %w0" ::"r"(GDT_TSS_FIRST + 16 * cpu));
}

static void __attribute__((noreturn)) kernel_cpu_up(unsigned cpu)
{
	tss_load(cpu);
	__asm__ volatile("lidt %0" ::"m"(kernel_idtr));
	/* LINT0 would deliver the 8259's interrupts; nothing here wants them. */
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
	user_enter(rt_entry,
		   (uint64_t)rt_ustacks + (uint64_t)(cpu + 1) * USTACK_SIZE,
		   cpu);
}

void kernel_main_bsp(void)
{
	unsigned v;

	/* A VMM that reboots without reloading the image leaves old counts. */
	ap_next_cpu = 0;
	/* Mask both 8259s (OCW1): their vectors would collide with traps. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	for (v = 0; v < VEC_STUBS; v++)
		idt_set(v, vec_stubs + v * VEC_STUB_SIZE, 0);
	idt_set(VEC_SYSCALL, sys_entry, 3);
	idt_set(VEC_SPURIOUS, spurious_entry, 0);
	kernel_cpu_up(0);
}

void kernel_main_ap(unsigned cpu)
{
	kernel_cpu_up(cpu);
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* frame: rax..r15 (15), vector, error, rip, cs, rflags, rsp, ss. */
void kernel_trap(const uint64_t *frame)
{
	uint64_t vec = frame[15];
	const char *expected = kernel_trap_expected.name;

	if (expected && kernel_trap_expected.vec == vec)
		con_printf("ISOVM-TEST name=%s status=pass vec=%lu cr2=0x%lx\n",
			   expected, vec, read_cr2());
	con_printf("isovm-testguest: panic: exception vec=%lu err=0x%lx "
		   "rip=0x%lx cs=0x%lx rsp=0x%lx cr2=0x%lx apic=%u\n",
		   vec, frame[16], frame[17], frame[18], frame[20],
		   read_cr2(), lapic_read(0x20) >> 24);
	power_panic(PANIC_CODE_EXCEPTION | (uint32_t)vec);
}

/* Sleeps only if *addr still holds val: IF is clear from the gate to hlt. */
/*
 * Interrupts stay off from the check to the hlt (sti's one-instruction
 * shadow), so no wake-up can slip in between: neither the interrupt that
 * moves *addr nor the one-shot LAPIC timer, which is armed here (timer > 0)
 * rather than in ring 3, where it could fire before the gate is reached.
 */
static int64_t kernel_sys_wait(uint64_t addr, uint64_t val, uint64_t timer)
{
	if ((addr & 3) || addr >= ISOVM_HOLE_START - 4 || timer > 0xffffffffull)
		return -TG_EINVAL;
	if (timer)
		lapic_write(LAPIC_TIMER_INIT, (uint32_t)timer);
	if (*(volatile uint32_t *)(uintptr_t)addr == (uint32_t)val)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	return 0;
}

static int64_t kernel_sys_ipi(uint64_t apic_id, uint64_t icr)
{
	unsigned spins;

	if (apic_id > 0xff || icr > 0xffffffffull)
		return -TG_EINVAL;
	lapic_write(LAPIC_ICR_HIGH, (uint32_t)apic_id << 24);
	lapic_write(LAPIC_ICR_LOW, (uint32_t)icr);
	for (spins = 0; spins < 100; spins++)
		if (!(lapic_read(LAPIC_ICR_LOW) & LAPIC_ICR_BUSY))
			return 0;
	return -TG_ETIMEDOUT;
}

/* MSR_KVM_SYSTEM_TIME_NEW; ring 3 checked the CPUID feature bit first. */
static int64_t kernel_sys_kvmclock(uint64_t pa)
{
	if (pa & 31 || pa >= ISOVM_HOLE_START)
		return -TG_EINVAL;
	__asm__ volatile("wrmsr" ::"c"(0x4b564d01u),
			 "a"((uint32_t)pa | (pa != 0)), "d"(0u));
	return 0;
}

/*
 * An x87 load from a device window in ring 0: the access must be emulated
 * and KVM's emulator has no x87 loads, so KVM reports an emulation
 * failure (at CPL 0 it exits to the VMM instead of raising #UD).
 */
static int64_t kernel_sys_emul_fail(void)
{
	const volatile float *mmio =
		(const volatile float *)(uintptr_t)ISOVM_VIRTIO_MMIO_BASE;

	/* In %rax, so the report's code bytes are always d9 00. */
	__asm__ volatile("flds (%%rax)\n\tfstp %%st(0)" ::"a"(mmio)
			 : "memory");
	return 0;
}

int64_t kernel_sys(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t nr)
{
	switch (nr) {
	case SYS_WAIT:
		return kernel_sys_wait(a0, a1, a2);
	case SYS_STOP:
		for (;;)
			__asm__ volatile("cli; hlt");
	case SYS_IPI:
		return kernel_sys_ipi(a0, a1);
	case SYS_CR2:
		return (int64_t)read_cr2();
	case SYS_TRIPLE_FAULT:
		kernel_triple_fault();
	case SYS_KVMCLOCK:
		return kernel_sys_kvmclock(a0);
	case SYS_EMUL_FAIL:
		return kernel_sys_emul_fail();
	}
	return -TG_ENOSYS;
}
