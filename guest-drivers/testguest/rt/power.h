/* power.h: leaving the guest: power-off, panic report, reset, halting. */
#ifndef TG_POWER_H
#define TG_POWER_H

#include <stdbool.h>
#include <stdint.h>

/* True when the isovm port answers with its magic (false under QEMU). */
bool power_is_isovm(void);

/*
 * Each tries the isovm port, then QEMU's isa-debug-exit (QEMU exits with
 * (value << 1) | 1: 1 for power-off, 7 for panic), then halts the CPU for
 * good. Callable from ring 0 and ring 3.
 */
void power_off(void) __attribute__((noreturn));
void power_panic(uint32_t code) __attribute__((noreturn));
void power_halt_forever(void) __attribute__((noreturn));

/* The ISOVM_EVENT_* bits pending (the power button), cleared by the
 * read; 0 under QEMU. */
uint32_t power_events(void);

/* Pulses the i8042 reset line; returns if nothing reset the machine. */
void power_reset_i8042(void);

#endif
