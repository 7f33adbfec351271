/*
 * mptable.h: the Intel MultiProcessor Specification 1.4 tables that tell the
 * guest its CPUs, its IOAPIC and how ISA and virtio-mmio interrupts reach
 * the IOAPIC pins.
 */
#ifndef ISOVM_MPTABLE_H
#define ISOVM_MPTABLE_H

#include <stdint.h>

#include "vcpu/core/guest_mem.h"

/* APIC ids 0..cpus-1 and the IOAPIC id cpus must fit in 8 bits (0xff is broadcast). */
#define MPTABLE_MAX_CPUS 254
#define MPTABLE_IOAPIC_ADDR 0xfec00000u
#define MPTABLE_LAPIC_ADDR 0xfee00000u
#define MPTABLE_IOAPIC_PINS 24

/*
 * Writes the floating pointer at gpa (16-byte aligned; Linux scans the first
 * KiB of the EBDA) and the configuration table right after it. Returns the
 * number of bytes written, -EINVAL for a cpu count outside
 * 1..MPTABLE_MAX_CPUS or a misaligned gpa, -EFAULT when the tables do not
 * fit in guest RAM at gpa.
 */
int mptable_write(struct guest_mem *mem, gpa_t gpa, unsigned cpus);

/* Bytes mptable_write() needs for cpus CPUs. */
uint64_t mptable_size(unsigned cpus);

#endif
