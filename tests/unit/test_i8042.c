/*
 * test_i8042.c: the PS/2 controller answers its own commands at once, the
 * way Linux's probe asks them, says "timeout" for the absent keyboard and
 * mouse, drives IRQ 1 and 12 only while a byte waits and its enable bit is
 * set, and resets the CPU on 0xfe or a cleared reset bit.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vcpu/platform/i8042.h"

#define DATA 0x60
#define CMD  0x64
#define OBF  0x01
#define AUX  0x20
#define TMO  0x40

static struct io_bus bus;
static struct i8042 kbc;
static int resets, level[16], edges[16];

static void on_reset(void *opaque)
{
	(void)opaque;
	resets++;
}

static void on_irq(void *opaque, unsigned irq, int lvl)
{
	(void)opaque;
	cr_assert(irq == I8042_KBD_IRQ || irq == I8042_AUX_IRQ, "irq %u", irq);
	cr_assert_neq(level[irq], lvl, "irq %u set to %d twice", irq, lvl);
	level[irq] = lvl;
	edges[irq] += lvl;
}

static const struct i8042_ops ops = {.reset = on_reset, .irq = on_irq};

static void setup(void)
{
	resets = 0;
	memset(level, 0, sizeof(level));
	memset(edges, 0, sizeof(edges));
	io_bus_init(&bus, "pio");
	cr_assert_eq(i8042_register(&kbc, &bus, &ops, NULL), 0);
}

static void teardown(void)
{
	i8042_fini(&kbc);
	io_bus_fini(&bus);
}

static void out8(uint16_t port, uint8_t v)
{
	cr_assert(io_bus_access(&bus, port, &v, 1, true));
}

static uint8_t in8(uint16_t port)
{
	uint8_t v = 0xaa;

	cr_assert(io_bus_access(&bus, port, &v, 1, false));
	return v;
}

/* A command with one answer, read the way a driver polls for it. */
static uint8_t ask(uint8_t cmd)
{
	out8(CMD, cmd);
	cr_assert(in8(CMD) & OBF, "no answer to command 0x%02x", cmd);
	return in8(DATA);
}

TestSuite(i8042, .init = setup, .fini = teardown);

Test(i8042, configuration_byte_reads_back_what_was_written)
{
	uint8_t ctr = ask(0x20);

	cr_assert_eq(in8(CMD) & OBF, 0, "reading data empties the buffer");
	out8(CMD, 0x60);
	out8(DATA, 0x45);
	cr_assert_eq(ask(0x20), 0x45);
	out8(CMD, 0xa7); /* aux off, keyboard off, then both on again */
	out8(CMD, 0xad);
	cr_assert_eq(ask(0x20), 0x45 | 0x20 | 0x10);
	out8(CMD, 0xa8);
	out8(CMD, 0xae);
	cr_assert_eq(ask(0x20), 0x45);
	cr_assert_eq(ctr & 0x04, 0x04, "system flag set after power-on");
	cr_assert_eq(in8(CMD) & 0x14, 0x14,
		     "status: self-test passed, no keylock");
	cr_assert_eq(resets, 0);
}

Test(i8042, self_tests_pass_and_the_aux_loop_comes_back_as_aux_data)
{
	cr_assert_eq(ask(0xaa), 0x55);
	cr_assert_eq(ask(0xab), 0x00);
	cr_assert_eq(ask(0xa9), 0x00);
	out8(CMD, 0xd3);
	out8(DATA, 0x5a);
	cr_assert_eq(in8(CMD) & (OBF | AUX), OBF | AUX);
	cr_assert_eq(in8(DATA), 0x5a);
	out8(CMD, 0xd2);
	out8(DATA, 0x33);
	cr_assert_eq(in8(CMD) & (OBF | AUX), OBF);
	cr_assert_eq(in8(DATA), 0x33);
}

Test(i8042, absent_keyboard_and_mouse_answer_with_a_timeout)
{
	out8(DATA, 0xf2); /* keyboard: identify */
	cr_assert_eq(in8(CMD) & (OBF | AUX | TMO), OBF | TMO);
	cr_assert_eq(in8(DATA), 0xfe);
	out8(CMD, 0xd4); /* to the mouse: identify */
	out8(DATA, 0xf2);
	cr_assert_eq(in8(CMD) & (OBF | AUX | TMO), OBF | AUX | TMO);
	cr_assert_eq(in8(DATA), 0xfe);
	cr_assert_eq(in8(CMD) & (OBF | AUX | TMO), 0);
}

Test(i8042, irqs_follow_the_waiting_byte_and_the_enable_bits)
{
	out8(CMD, 0x60);
	out8(DATA, 0x03); /* both interrupts on */
	cr_assert_eq(edges[1] + edges[12], 0);
	out8(CMD, 0xd3);
	out8(DATA, 0xa5);
	cr_assert_eq(level[12], 1, "aux byte raises IRQ 12");
	cr_assert_eq(level[1], 0);
	cr_assert_eq(in8(DATA), 0xa5);
	cr_assert_eq(level[12], 0, "reading it lowers IRQ 12");
	out8(CMD, 0x20);
	cr_assert_eq(level[1], 1, "a keyboard-side byte raises IRQ 1");
	in8(DATA);
	cr_assert_eq(level[1], 0);
	out8(CMD, 0x60);
	out8(DATA, 0x00); /* both off: answers, but no interrupt */
	out8(CMD, 0xd3);
	out8(DATA, 0x11);
	cr_assert_eq(level[12], 0);
	cr_assert_eq(edges[1], 1);
	cr_assert_eq(edges[12], 1);
	in8(DATA);
}

Test(i8042, reset_commands_reset_and_nothing_else_does)
{
	cr_assert_eq(ask(0xd0) & 0x01, 0x01, "reset line inactive");
	out8(CMD, 0xd1);
	out8(DATA, 0x03); /* reset bit set: no reset */
	out8(CMD, 0x12);  /* unknown: ignored */
	cr_assert_eq(resets, 0);
	out8(CMD, 0xd1);
	out8(DATA, 0x02); /* reset bit cleared */
	cr_assert_eq(resets, 1);
	out8(CMD, 0xfe);
	cr_assert_eq(resets, 2);
}

Test(i8042, reset_returns_to_power_on_and_lowers_a_raised_line)
{
	uint8_t ctr = ask(0x20);

	out8(CMD, 0x60);
	out8(DATA, 0x02);
	out8(CMD, 0xd3);
	out8(DATA, 0x01);
	cr_assert_eq(level[12], 1);
	i8042_reset(&kbc);
	cr_assert_eq(level[12], 0);
	cr_assert_eq(in8(CMD) & OBF, 0);
	cr_assert_eq(ask(0x20), ctr);
}
