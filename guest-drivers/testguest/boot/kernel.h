/*
 * kernel.h: the contract between the ring-0 part and ring 3: gate numbers,
 * error codes, the interrupt counters ring 3 reads, and the symbols of the
 * boot assembly.
 */
#ifndef TG_KERNEL_H
#define TG_KERNEL_H

#include <stdint.h>

#include "boot/layout.h"

/* Ring-3 gate numbers (int VEC_SYSCALL, rax). */
enum sys_nr {
	SYS_WAIT = 0,   /* (u32 *addr, val, timer): arm the LAPIC timer to timer (if > 0), sleep until an interrupt if *addr == val */
	SYS_STOP = 1,   /* halt this CPU for good */
	SYS_IPI = 2,    /* (dest APIC id, ICR low word): send an IPI */
	SYS_CR2 = 3,    /* -> cr2 */
	SYS_TRIPLE_FAULT = 4, /* reset by triple fault */
	SYS_KVMCLOCK = 5, /* (pa): KVM pvclock of this CPU at pa, 0 = off */
	SYS_EMUL_FAIL = 6, /* ring 0 does what KVM cannot emulate; returns if it could */
};

/* Negative error returns of the gate (no libc errno here). */
#define TG_EINVAL 22
#define TG_ENOSYS 38
#define TG_ETIMEDOUT 110

/* Panic codes reported through the isovm port (bits 8..31 of the command). */
#define PANIC_CODE_EXCEPTION 0x100 /* | vector */
#define PANIC_CODE_TEST 0x200      /* the `panic` test */
#define PANIC_CODE_RT 0x300        /* ring-3 runtime gave up */

/* Interrupts taken per vector; ring 0 increments, ring 3 reads. */
extern volatile uint64_t irq_counts[256];

/*
 * A trap a test provokes on purpose (ring 3 writes, ring 0 reads): the
 * trap report then first prints "ISOVM-TEST name=NAME status=pass".
 */
struct kernel_trap_expect {
	const char *name; /* NULL: none expected */
	uint32_t vec;
};
extern volatile struct kernel_trap_expect kernel_trap_expected;

static inline void kernel_expect_trap(const char *name, uint32_t vec)
{
	kernel_trap_expected.vec = vec;
	kernel_trap_expected.name = name;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Physical address of struct hvm_start_info, saved by the PVH entry. */
extern uint64_t boot_start_info_pa;
/* TSC at the first instruction of the PVH entry. */
extern uint64_t boot_entry_tsc;

/* The AP trampoline, copied by ring 3 to TRAMP_BASE before any SIPI. */
extern const char tramp_start[], tramp_end[];

/* Ring-3 entry (rt/start.S): rdi = CPU number. */
void rt_entry(unsigned cpu);

#endif
