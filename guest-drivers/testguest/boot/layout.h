/* layout.h: constants shared by the ring-0 assembly, ring-0 C and ring 3. */
#ifndef TG_LAYOUT_H
#define TG_LAYOUT_H

#define MAX_CPUS 16

/* GDT selectors; USER_DS sits right below USER_CS as sysret would want. */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define KERNEL_CS32 0x18
#define USER_DS (0x20 | 3)
#define USER_CS (0x28 | 3)
#define GDT_TSS_FIRST 0x30 /* then one 16-byte TSS descriptor per CPU */
#define GDT_SIZE (GDT_TSS_FIRST + 16 * MAX_CPUS)

#define KSTACK_SIZE 0x2000  /* ring-0 stack per CPU */
#define USTACK_SIZE 0x10000 /* ring-3 stack per CPU */

/*
 * Vectors: 0..31 exceptions; 32..55 I/O APIC pins 0..23; 56..63 IPIs.
 * All of 32..63 take the short counting path (irq_counts[]).
 */
#define VEC_STUBS 64
#define VEC_STUB_SIZE 16
#define VEC_IRQ_BASE 32
#define VEC_IRQ_PINS 24
#define VEC_TIMEOUT 0x3c  /* LAPIC timer bounding a sleep (rt/wait.c) */
#define VEC_TEST_IPI 0x3d /* the irq test's self-IPIs */
#define VEC_WAKE 0x3e     /* IPI that wakes a CPU parked in SYS_WAIT */
#define VEC_SYSCALL 0x80  /* the ring-3 gate */
#define VEC_SPURIOUS 0xff

/* The AP trampoline is copied here; the SIPI vector is its page number. */
#define TRAMP_BASE 0x8000
#define TRAMP_MAX 0x1000

#define LAPIC_BASE 0xfee00000
#define LAPIC_EOI_REG 0xb0

#endif
