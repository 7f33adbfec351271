/*
 * isovm_abi.h: the guest interface of isovm, shared by the VMM and by both
 * guests (freestanding and kernel code: constants and plain types only).
 */
#ifndef ISOVM_ABI_H
#define ISOVM_ABI_H

/*
 * The isovm port: two 4-byte I/O registers.
 *   inl(ISOVM_PORT)            -> ISOVM_PORT_MAGIC (detects isovm)
 *   outl(ISOVM_PORT, CMD)      -> one of ISOVM_CMD_*, low 8 bits; for
 *                                 ISOVM_CMD_PANIC bits 8..31 carry a code
 *                                 the VMM logs.
 *   inl(ISOVM_PORT_EVENTS)     -> the ISOVM_EVENT_* bits pending, which
 *                                 the read clears. The VMM raises ISA IRQ
 *                                 ISOVM_EVENT_IRQ (edge) when one is set:
 *                                 ISOVM_EVENT_POWEROFF is the power
 *                                 button (isovmctl shutdown); the guest
 *                                 powers off in its own time, or is
 *                                 stopped when the VMM's grace ends.
 */
#define ISOVM_PORT 0x0e00
#define ISOVM_PORT_LEN 8
#define ISOVM_PORT_EVENTS (ISOVM_PORT + 4)
#define ISOVM_EVENT_POWEROFF 0x1u
#define ISOVM_EVENT_IRQ 3
#define ISOVM_PORT_MAGIC 0x4d565349u /* "ISVM" little-endian */
#define ISOVM_CMD_POWEROFF 0x00u
#define ISOVM_CMD_PANIC 0x01u
#define ISOVM_CMD_REBOOT 0x02u

/*
 * Under QEMU (-device isa-debug-exit,iobase=0xf4,iosize=4) the test guest
 * leaves through this port after trying the isovm port; QEMU exits with
 * status (value << 1) | 1.
 */
#define ISOVM_QEMU_DEBUG_EXIT_PORT 0xf4

/* The VMM appends "isovm.boot=N" to the command line; N counts reboots from 0. */
#define ISOVM_CMDLINE_BOOT_KEY "isovm.boot="

/* Exit status of the isovm process. */
#define ISOVM_EXIT_POWEROFF 0     /* guest powered off (or rebooted with --on-reboot exit) */
#define ISOVM_EXIT_VMM_ERROR 1    /* the VMM failed at run time */
#define ISOVM_EXIT_USAGE 2        /* bad arguments or configuration */
#define ISOVM_EXIT_GUEST_PANIC 3  /* the guest reported a panic */
#define ISOVM_EXIT_GUEST_FAULT 4  /* KVM internal error / emulation failure */

/* virtio-mmio windows: device i at BASE + STRIDE*i, interrupt IRQ_BASE + i. */
#define ISOVM_VIRTIO_MMIO_BASE 0xd0000000ull
#define ISOVM_VIRTIO_MMIO_STRIDE 0x1000ull
#define ISOVM_VIRTIO_MMIO_IRQ_BASE 5
#define ISOVM_VIRTIO_MMIO_MAX 16

/* Guest physical layout. */
#define ISOVM_HOLE_START 0xc0000000ull /* 3 GiB: RAM above goes above 4 GiB */
#define ISOVM_HOLE_END 0x100000000ull

#endif
