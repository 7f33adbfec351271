/* sys.h: ring-3 wrappers of the ring-0 gate (see boot/kernel.h for numbers). */
#ifndef TG_SYS_H
#define TG_SYS_H

#include <stdint.h>

#include "boot/kernel.h"

static inline int64_t sys_call3(uint64_t nr, uint64_t a0, uint64_t a1,
				uint64_t a2)
{
	register uint64_t rax __asm__("rax") = nr;
	register uint64_t rdi __asm__("rdi") = a0;
	register uint64_t rsi __asm__("rsi") = a1;
	register uint64_t rdx __asm__("rdx") = a2;

	/* The gate clobbers what a C call clobbers. */
	__asm__ volatile("int %[vec]"
			 : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx)
			 : [vec] "i"(VEC_SYSCALL)
			 : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
	return (int64_t)rax;
}

static inline int64_t sys_call(uint64_t nr, uint64_t a0, uint64_t a1)
{
	return sys_call3(nr, a0, a1, 0);
}

/* Sleeps until the next interrupt, unless *addr != val already. */
static inline int64_t sys_wait(const volatile uint32_t *addr, uint32_t val)
{
	return sys_call3(SYS_WAIT, (uint64_t)(uintptr_t)addr, val, 0);
}

/*
 * Like sys_wait(), with the one-shot LAPIC timer (set up by the caller)
 * armed to @count in ring 0 right before the check, so its wake-up cannot
 * be lost.
 */
static inline int64_t sys_wait_timed(const volatile uint32_t *addr,
				     uint32_t val, uint32_t count)
{
	return sys_call3(SYS_WAIT, (uint64_t)(uintptr_t)addr, val, count);
}

static inline void __attribute__((noreturn)) sys_stop(void)
{
	sys_call(SYS_STOP, 0, 0);
	__builtin_unreachable();
}

static inline int64_t sys_ipi(uint32_t apic_id, uint32_t icr_low)
{
	return sys_call(SYS_IPI, apic_id, icr_low);
}

static inline uint64_t sys_cr2(void)
{
	return (uint64_t)sys_call(SYS_CR2, 0, 0);
}

static inline void __attribute__((noreturn)) sys_triple_fault(void)
{
	sys_call(SYS_TRIPLE_FAULT, 0, 0);
	__builtin_unreachable();
}

static inline int64_t sys_kvmclock(uint64_t pa)
{
	return sys_call(SYS_KVMCLOCK, pa, 0);
}

/* Returns only under a VMM that could emulate it (see SYS_EMUL_FAIL). */
static inline int64_t sys_emul_fail(void)
{
	return sys_call(SYS_EMUL_FAIL, 0, 0);
}

#endif
