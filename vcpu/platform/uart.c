/* uart.c: 16550A register semantics, transmit and receive with interrupts. */
#include <errno.h>
#include <string.h>

#include "vcpu/platform/uart.h"

/* Register offsets (DLAB selects DLL/DLM at 0 and 1). */
#define UART_RBR_THR 0
#define UART_IER     1
#define UART_IIR_FCR 2
#define UART_LCR     3
#define UART_MCR     4
#define UART_LSR     5
#define UART_MSR     6
#define UART_SCR     7

#define UART_IER_RDI  0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI  0x08

#define UART_IIR_NONE 0x01
#define UART_IIR_MSI  0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI  0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_FIFO 0xc0

#define UART_FCR_ENABLE	  0x01
#define UART_FCR_CLEAR_RX 0x02

#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

/* Not looped back: a terminal that is always there and ready. */
#define UART_MSR_IDLE 0xb0 /* DCD | DSR | CTS */

void uart_init(struct uart *u, const struct uart_backend_ops *be,
	       void *be_opaque, uart_irq_fn irq, void *irq_opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->be = be;
	u->be_opaque = be_opaque;
	u->irq = irq;
	u->irq_opaque = irq_opaque;
	uart_reset(u);
}

void uart_fini(struct uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

void uart_reset(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	u->ier = u->lcr = u->mcr = u->fcr = u->scr = 0;
	u->dll = 12; /* 9600 baud */
	u->dlm = 0;
	u->overrun = false;
	u->thr_irq = false;
	u->rx_head = u->rx_count = 0;
	if (u->irq_level && u->irq)
		u->irq(u->irq_opaque, 0);
	u->irq_level = 0;
	pthread_mutex_unlock(&u->lock);
}

/* The interrupt the guest should see now, as the IIR low nibble. */
static uint8_t uart_pending(const struct uart *u)
{
	if ((u->ier & UART_IER_RLSI) && u->overrun)
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thr_irq)
		return UART_IIR_THRI;
	return UART_IIR_NONE;
}

/*
 * Lock held. Unlike a PC, OUT2 does not gate the line (QEMU does the same,
 * and the test guest must behave alike on both).
 */
static void uart_update_irq(struct uart *u)
{
	int level = uart_pending(u) != UART_IIR_NONE;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq)
		u->irq(u->irq_opaque, level);
}

/* Lock held; false when the FIFO is full (the byte is lost: overrun). */
static bool uart_rx_push(struct uart *u, uint8_t b)
{
	if (u->rx_count == UART_RX_FIFO) {
		u->overrun = true;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = b;
	u->rx_count++;
	return true;
}

static uint8_t uart_rx_pop(struct uart *u)
{
	uint8_t b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
	u->rx_count--;
	return b;
}

static uint8_t uart_msr(const struct uart *u)
{
	uint8_t m = u->mcr;

	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_IDLE;
	/* Loopback wiring: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	return (uint8_t)(((m & 0x02) << 3) | ((m & 0x01) << 5) |
			 ((m & 0x04) << 4) | ((m & 0x08) << 4));
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
	uint8_t v;
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : uart_rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		v = uart_pending(u);
		/* Reading IIR is the acknowledge of a THR-empty interrupt. */
		if (v == UART_IIR_THRI)
			u->thr_irq = false;
		return v | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		/* Transmission is instant: THR and shifter are always empty. */
		v = UART_LSR_THRE | UART_LSR_TEMT;
		if (u->rx_count)
			v |= UART_LSR_DR;
		if (u->overrun)
			v |= UART_LSR_OE;
		u->overrun = false;
		return v;
	case UART_MSR:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

static void uart_write_thr(struct uart *u, uint8_t b)
{
	if (u->mcr & UART_MCR_LOOP)
		uart_rx_push(u, b);
	else if (u->be && u->be->tx)
		u->be->tx(u->be_opaque, &b, 1);
	u->thr_irq = true;
}

static void uart_write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = v;
		else
			uart_write_thr(u, v);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises it at once. */
		if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
			u->thr_irq = true;
		u->ier = v & 0x0f;
		break;
	case UART_IIR_FCR:
		if (v & UART_FCR_CLEAR_RX) {
			u->rx_head = u->rx_count = 0;
				}
		u->fcr = v & 0xc9;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}

static void uart_io_read(void *opaque, uint64_t offset, uint8_t *data,
			 unsigned len)
{
	struct uart *u = opaque;

	memset(data, 0, len);
	pthread_mutex_lock(&u->lock);
	/* The UART is byte-wide; a wider access reads its first register. */
	data[0] = uart_read_reg(u, offset & 7);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_io_write(void *opaque, uint64_t offset, const uint8_t *data,
			  unsigned len)
{
	struct uart *u = opaque;

	(void)len;
	pthread_mutex_lock(&u->lock);
	uart_write_reg(u, offset & 7, data[0]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

const struct io_bus_ops uart_io_ops = {
	.read = uart_io_read,
	.write = uart_io_write,
};

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	/*
	 * The console front calls this from the I/O thread with its own lock
	 * held; rather than queue behind a vCPU it retries on its timer.
	 */
	if (pthread_mutex_trylock(&u->lock))
		return 0;
	/* In loopback the line is disconnected: outside input is lost. */
	if (u->mcr & UART_MCR_LOOP)
		n = len;
	while (n < len && u->rx_count < UART_RX_FIFO)
		uart_rx_push(u, buf[n++]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

bool uart_rx_wanted(struct uart *u)
{
	bool wanted;

	/* Like uart_receive(): never wait for a lock a vCPU holds. */
	if (pthread_mutex_trylock(&u->lock))
		return false;
	wanted = (u->ier & UART_IER_RDI) && !(u->mcr & UART_MCR_LOOP);
	pthread_mutex_unlock(&u->lock);
	return wanted;
}

size_t uart_rx_room(struct uart *u)
{
	size_t room = 0;

	if (pthread_mutex_trylock(&u->lock))
		return 0;
	if ((u->ier & UART_IER_RDI) && !(u->mcr & UART_MCR_LOOP))
		room = UART_RX_FIFO - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}
