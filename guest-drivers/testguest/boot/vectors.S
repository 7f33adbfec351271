/* vectors.S: exception and interrupt entry stubs, the ring-3 gate, entry to ring 3. */
#include "boot/layout.h"

	.code64
	.text

	/*
	 * One 16-byte stub per vector below VEC_STUBS. Exceptions push a
	 * zero error code where the CPU pushes none, then the vector, and go
	 * to trap_entry. Device interrupts take the short path irq_entry.
	 */
	.balign VEC_STUB_SIZE
	.globl vec_stubs
vec_stubs:
	.set vec, 0
	.rept VEC_STUBS
	.balign VEC_STUB_SIZE
	.if vec == 6
	jmp ud_entry
	.elseif vec < 32
	.if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	pushq $vec
	.else
	pushq $0
	pushq $vec
	.endif
	jmp trap_entry
	.else
	pushq %rax
	movl $vec, %eax
	jmp irq_entry
	.endif
	.set vec, vec + 1
	.endr

	/*
	 * #UD. Some KVM hosts (ring 0 emulated) cannot emulate a ring-3
	 * `int $VEC_SYSCALL` and raise #UD on it instead: such a #UD from ring
	 * 3 on the bytes of that instruction is the gate call it meant to be.
	 * rcx is free: the gate clobbers it, a real #UD never returns.
	 */
ud_entry:
	testb $3, 8(%rsp)
	jz 1f
	movq (%rsp), %rcx
	cmpw $(0xcd | (VEC_SYSCALL << 8)), (%rcx)
	jne 1f
	addq $2, (%rsp)
	jmp sys_entry
1:	pushq $0
	pushq $6
	jmp trap_entry

	/* Fatal: save the registers for the report and never return. */
trap_entry:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rbx
	pushq %rax
	movq %rsp, %rdi
	call kernel_trap
	ud2

	/*
	 * Device interrupt, vector in eax, the old rax on the stack: count it
	 * where ring 3 can see it, acknowledge the LAPIC, return. Kept to a
	 * handful of instructions: ring 0 may be emulated.
	 */
irq_entry:
	pushq %rdx
	lock incq irq_counts(, %rax, 8)
	movl $(LAPIC_BASE + LAPIC_EOI_REG), %edx
	movl $0, (%rdx)
	popq %rdx
	popq %rax
	iretq

	/* A spurious interrupt needs no EOI. */
	.globl spurious_entry
spurious_entry:
	iretq

	/*
	 * The ring-3 gate (int VEC_SYSCALL, an interrupt gate so IF is clear):
	 * rax = number, rdi, rsi, rdx = arguments, result in rax. Callers
	 * treat rcx, rdx, rsi, rdi, r8-r11 as clobbered, as in a C call.
	 */
	.globl sys_entry
sys_entry:
	movq %rax, %rcx
	subq $8, %rsp		/* the CPU left rsp at 8 mod 16 */
	call kernel_sys
	addq $8, %rsp
	iretq

	/* user_enter(rip, rsp, arg): first entry into ring 3, IF set. */
	.globl user_enter
user_enter:
	movl $USER_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	pushq $USER_DS
	pushq %rsi
	pushq $0x202
	pushq $USER_CS
	pushq %rdi
	movq %rdx, %rdi
	xorl %eax, %eax
	xorl %esi, %esi
	xorl %edx, %edx
	iretq

	/*
	 * Triple fault: an empty IDT and an exception. ud2, not int3: a KVM
	 * that emulates ring 0 stopped with an internal error on int3.
	 */
	.globl kernel_triple_fault
kernel_triple_fault:
	lidt idt_null
1:	ud2
	jmp 1b

	.section .rodata
	.balign 8
idt_null:
	.word 0
	.quad 0
