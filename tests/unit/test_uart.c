/* test_uart.c: 16550 register behaviour against a fake backend and IRQ line. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/fake_uart.h"
#include "vcpu/platform/uart.h"

static struct fake_uart fk;
static struct uart u;

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	uart_init(&u, &fake_uart_ops, &fk, fake_uart_irq, &fk);
}

static void teardown(void)
{
	uart_fini(&u);
}

static uint8_t rd(unsigned reg)
{
	uint8_t v;

	uart_io_ops.read(&u, reg, &v, 1);
	return v;
}

static void wr(unsigned reg, uint8_t v)
{
	uart_io_ops.write(&u, reg, &v, 1);
}

TestSuite(uart, .init = setup, .fini = teardown);

Test(uart, thr_bytes_reach_the_backend_in_order)
{
	wr(0, 'h');
	wr(0, 'i');
	cr_assert_eq(fk.tx_len, 2);
	cr_assert_arr_eq(fk.tx, "hi", 2);
}

Test(uart, lsr_says_transmitter_empty_and_data_ready_only_with_input)
{
	cr_assert_eq(rd(5), 0x60);
	cr_assert_eq(uart_receive(&u, (const uint8_t *)"x", 1), 1);
	cr_assert_eq(rd(5), 0x61);
	cr_assert_eq(rd(0), 'x');
	cr_assert_eq(rd(5), 0x60);
}

Test(uart, dlab_switches_offsets_0_and_1_to_the_divisor)
{
	wr(3, 0x83);
	wr(0, 0x01);
	wr(1, 0x02);
	cr_assert_eq(rd(0), 0x01);
	cr_assert_eq(rd(1), 0x02);
	cr_assert_eq(fk.tx_len, 0, "a divisor write is not data");
	wr(3, 0x03);
	cr_assert_eq(rd(1), 0x00, "IER is untouched by the DLM write");
	cr_assert_eq(rd(3), 0x03);
}

Test(uart, scratch_register_keeps_its_value)
{
	wr(7, 0x5a);
	cr_assert_eq(rd(7), 0x5a);
}

Test(uart, iir_reports_fifo_enabled_and_no_interrupt)
{
	cr_assert_eq(rd(2), 0x01);
	wr(2, 0x07);
	cr_assert_eq(rd(2), 0xc1);
}

Test(uart, enabling_thri_raises_the_line_until_iir_is_read)
{
	wr(1, 0x02);
	cr_assert_eq(fk.level, 1);
	cr_assert_eq(rd(2) & 0x0f, 0x02);
	cr_assert_eq(fk.level, 0, "reading IIR acknowledges THRE");
	cr_assert_eq(rd(2) & 0x0f, 0x01);
	wr(0, 'a');
	cr_assert_eq(fk.level, 1, "each transmitted byte re-arms THRE");
	cr_assert_eq(fk.edges, 2);
}

Test(uart, received_data_interrupts_until_the_fifo_is_drained)
{
	wr(1, 0x01);
	cr_assert_eq(fk.level, 0);
	cr_assert_eq(uart_receive(&u, (const uint8_t *)"ab", 2), 2);
	cr_assert_eq(fk.level, 1);
	cr_assert_eq(rd(2) & 0x0f, 0x04);
	cr_assert_eq(rd(0), 'a');
	cr_assert_eq(fk.level, 1);
	cr_assert_eq(rd(0), 'b');
	cr_assert_eq(fk.level, 0);
	cr_assert_eq(rd(2) & 0x0f, 0x01);
}

Test(uart, rx_data_has_priority_over_thre_in_iir)
{
	wr(1, 0x03);
	uart_receive(&u, (const uint8_t *)"z", 1);
	cr_assert_eq(rd(2) & 0x0f, 0x04);
	rd(0);
	cr_assert_eq(rd(2) & 0x0f, 0x02);
}

Test(uart, a_full_fifo_accepts_no_more_and_fcr_clears_it)
{
	uint8_t buf[UART_RX_FIFO + 8];

	memset(buf, 'q', sizeof(buf));
	cr_assert_eq(uart_receive(&u, buf, sizeof(buf)), UART_RX_FIFO);
	cr_assert_eq(uart_receive(&u, buf, 1), 0);
	wr(2, 0x03);
	cr_assert_eq(rd(5) & 0x01, 0);
	cr_assert_eq(uart_receive(&u, buf, 1), 1, "room again after FCR");
}

/* Host input is taken only while the guest reads it, as far as it fits. */
Test(uart, rx_room_is_the_fifo_room_while_the_guest_reads_input)
{
	uint8_t buf[10];

	memset(buf, 'r', sizeof(buf));
	cr_assert_eq(uart_rx_room(&u), 0, "received-data interrupt off");
	wr(1, 0x01);
	cr_assert_eq(uart_rx_room(&u), UART_RX_FIFO);
	cr_assert_eq(uart_receive(&u, buf, sizeof(buf)), sizeof(buf));
	cr_assert_eq(uart_rx_room(&u), UART_RX_FIFO - sizeof(buf));
	rd(0);
	cr_assert_eq(uart_rx_room(&u), UART_RX_FIFO - sizeof(buf) + 1);
	wr(4, 0x10); /* loopback: outside input would be lost */
	cr_assert_eq(uart_rx_room(&u), 0);
}

Test(uart, loopback_returns_thr_bytes_and_wires_modem_lines)
{
	wr(4, 0x10 | 0x0a);
	cr_assert_eq(rd(6) & 0xf0, 0x90, "RTS->CTS, OUT2->DCD as Linux probes");
	wr(0, 'L');
	cr_assert_eq(fk.tx_len, 0, "loopback keeps bytes off the line");
	cr_assert_eq(rd(5) & 0x01, 0x01);
	cr_assert_eq(rd(0), 'L');
	wr(4, 0x00);
	cr_assert_eq(rd(6), 0xb0, "a present terminal: DCD, DSR, CTS");
}

Test(uart, ier_keeps_only_its_four_bits)
{
	wr(1, 0xff);
	cr_assert_eq(rd(1), 0x0f);
}

Test(uart, reset_clears_state_and_lowers_the_line)
{
	wr(1, 0x02);
	wr(7, 0x11);
	cr_assert_eq(fk.level, 1);
	uart_reset(&u);
	cr_assert_eq(fk.level, 0);
	cr_assert_eq(rd(1), 0);
	cr_assert_eq(rd(7), 0);
}
