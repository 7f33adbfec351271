/* trampoline.S: AP start-up code, copied to TRAMP_BASE; leaves real mode at once. */
#include "boot/layout.h"

	.section .rodata.trampoline, "a"
	.code16
	.globl tramp_start
tramp_start:
	/*
	 * Real mode, CS = TRAMP_BASE >> 4. No hlt or loop here: some KVMs stop
	 * with an internal error on a real-mode hlt. Straight to 32-bit mode
	 * through the main GDT, then to ap_entry32 in the image.
	 */
	cli
	lgdtl %cs:(tramp_gdt_ptr - tramp_start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $KERNEL_CS32, $ap_entry32

	.balign 8
tramp_gdt_ptr:
	.word GDT_SIZE - 1
	.long gdt
	.globl tramp_end
tramp_end:
