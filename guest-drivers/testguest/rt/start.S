/* start.S: ring-3 entry of every CPU; the BSP first clears the ring-3 bss. */
#include "boot/layout.h"

	.code64
	.text
	.globl rt_entry
rt_entry:
	/* rdi = CPU number, rsp = top of this CPU's ring-3 stack (unused yet). */
	testl %edi, %edi
	jnz 1f
	/* Ring 3 runs natively: clearing here is cheap, unlike in ring 0. */
	movq $__ubss_start, %rdi
	movq $__ubss_end, %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	cld
	rep stosb
	xorl %edi, %edi
1:
	call rt_main
	ud2

	.section .bss
	.balign 4096
	.globl rt_ustacks
rt_ustacks:
	.skip USTACK_SIZE * MAX_CPUS
