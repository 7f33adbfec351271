/* entry.S: PVH note, 32-bit entry of BSP and APs, switch to long mode, boot data. */
#include "boot/layout.h"

#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR0_PE 0x1
#define CR0_PG 0x80000000
#define CR4_PAE 0x20

/* PVH: Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY; a 64-bit word as vmlinux has. */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4
	.long 8
	.long 18
	.asciz "Xen"
	.quad pvh_entry32

/* From flat 32-bit protected mode with paging off to long mode at \target. */
.macro ENTER_LONG target
	lgdt gdt_ptr
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PE | CR0_PG), %eax
	movl %eax, %cr0
	ljmp $KERNEL_CS, $\target
.endm

.macro LOAD_KERNEL_DATA_SEGMENTS
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
.endm

	.section .text.boot, "ax"
	.code32
	.globl pvh_entry32
pvh_entry32:
	/* PVH contract: flat CS/DS, paging off, EBX = hvm_start_info. */
	cli
	cld
	movl %ebx, boot_start_info_pa
	rdtsc				/* start of the guest, for boot timing */
	movl %eax, boot_entry_tsc
	movl %edx, boot_entry_tsc + 4
	ENTER_LONG bsp_entry64

	/* APs arrive here from the real-mode trampoline. */
	.globl ap_entry32
ap_entry32:
	LOAD_KERNEL_DATA_SEGMENTS
	cld
	ENTER_LONG ap_entry64

	.code64
bsp_entry64:
	LOAD_KERNEL_DATA_SEGMENTS
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $(kstacks + KSTACK_SIZE), %rsp
	call kernel_main_bsp
	ud2

ap_entry64:
	LOAD_KERNEL_DATA_SEGMENTS
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	/* CPU numbers are handed out in arrival order; the BSP is 0. */
	movl $1, %eax
	lock xaddl %eax, ap_next_cpu
	incl %eax
	cmpl $MAX_CPUS, %eax
	jae ap_park
	movl %eax, %edi
	leal 1(%eax), %ecx
	imull $KSTACK_SIZE, %ecx
	movq $kstacks, %rsp
	addq %rcx, %rsp
	call kernel_main_ap
ap_park:
	cli
	hlt
	jmp ap_park

	.section .data
	.balign 8
	.globl boot_start_info_pa
boot_start_info_pa:
	.quad 0
	.globl boot_entry_tsc
boot_entry_tsc:
	.quad 0

	/*
	 * Descriptors carry their accessed bits already so the CPU never has to
	 * write them back. 0x18 (32-bit kernel code) is only used by APs leaving
	 * the trampoline.
	 */
	.balign 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf93000000ffff	/* 0x10 kernel data */
	.quad 0x00cf9b000000ffff	/* 0x18 kernel code, 32-bit */
	.quad 0x00cff3000000ffff	/* 0x20 user data, DPL 3 */
	.quad 0x00affb000000ffff	/* 0x28 user code, 64-bit, DPL 3 */
	.globl gdt_tss
gdt_tss:
	.fill MAX_CPUS * 2, 8, 0	/* written by each CPU before its ltr */
	.globl gdt_end
gdt_end:
	.if gdt_end - gdt != GDT_SIZE
	.error "GDT_SIZE in layout.h does not match the GDT"
	.endif

	.balign 8
	.globl gdt_ptr
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	/*
	 * Identity page tables built at assembly time (ring-0 code is emulated
	 * on some hosts: no loop fills them). 2 MiB pages for the first 4 GiB,
	 * all user-accessible: ring 3 runs the drivers and touches RAM, the
	 * virtio-mmio windows, the IOAPIC and the LAPIC. 3..4 GiB is the MMIO
	 * hole: uncached.
	 */
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_U 0x4
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_PS 0x80
	.section .data.pagetables, "aw"
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad boot_pdpt + (PTE_P | PTE_W | PTE_U)
	.fill 511, 8, 0
boot_pdpt:
	.quad boot_pd + 0x0000 + (PTE_P | PTE_W | PTE_U)
	.quad boot_pd + 0x1000 + (PTE_P | PTE_W | PTE_U)
	.quad boot_pd + 0x2000 + (PTE_P | PTE_W | PTE_U)
	.quad boot_pd + 0x3000 + (PTE_P | PTE_W | PTE_U)
	.fill 508, 8, 0
boot_pd:
	.set pg, 0
	.rept 1536
	.quad (pg << 21) | (PTE_P | PTE_W | PTE_U | PTE_PS)
	.set pg, pg + 1
	.endr
	.rept 512
	.quad (pg << 21) | (PTE_P | PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_PS)
	.set pg, pg + 1
	.endr

	/* Ring-0 state that ring 3 must never clear: see the linker script. */
	.section .bss.kernel, "aw", @nobits
	.balign 4096
	.globl kstacks
kstacks:
	.skip KSTACK_SIZE * MAX_CPUS
	.balign 4
	.globl ap_next_cpu
ap_next_cpu:
	.skip 4
