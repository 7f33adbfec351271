/* i8042.c: a PS/2 controller with nothing plugged in (see i8042.h). */
#include <string.h>

#include "vcpu/platform/i8042.h"

#define STR_OBF	     0x01 /* output buffer full */
#define STR_SYS	     0x04 /* self-test passed */
#define STR_CMD	     0x08 /* last write went to the command port */
#define STR_UNLOCKED 0x10 /* the keylock switch is off */
#define STR_AUXDATA  0x20 /* the waiting byte is from the aux side */
#define STR_TIMEOUT  0x40 /* the device did not answer */

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS	   0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

#define OUTP_RESET_N 0x01 /* the CPU reset line, active low */
#define OUTP_A20     0x02

#define ANSWER_NONE 0xfe /* "resend": what an empty port gives back */

enum {
	CMD_READ_CTR = 0x20,
	CMD_WRITE_CTR = 0x60,
	CMD_AUX_DISABLE = 0xa7,
	CMD_AUX_ENABLE = 0xa8,
	CMD_AUX_TEST = 0xa9,
	CMD_SELF_TEST = 0xaa,
	CMD_KBD_TEST = 0xab,
	CMD_KBD_DISABLE = 0xad,
	CMD_KBD_ENABLE = 0xae,
	CMD_READ_OUTP = 0xd0,
	CMD_WRITE_OUTP = 0xd1,
	CMD_WRITE_KBD_OUT = 0xd2,
	CMD_WRITE_AUX_OUT = 0xd3,
	CMD_WRITE_AUX = 0xd4,
	CMD_PULSE_RESET = 0xfe,
};

/* Lock held. Drives the line the waiting byte calls for, if any. */
static void i8042_update_irq(struct i8042 *k)
{
	unsigned want = 0;

	if (k->status & STR_OBF) {
		if (k->status & STR_AUXDATA)
			want = k->ctr & CTR_AUXINT ? I8042_AUX_IRQ : 0;
		else
			want = k->ctr & CTR_KBDINT ? I8042_KBD_IRQ : 0;
	}
	if (want == k->irq_raised)
		return;
	if (k->irq_raised)
		k->ops->irq(k->opaque, k->irq_raised, 0);
	if (want)
		k->ops->irq(k->opaque, want, 1);
	k->irq_raised = want;
}

/* Lock held. Puts a byte in the output buffer for the guest to read. */
static void i8042_answer(struct i8042 *k, uint8_t v, uint8_t flags)
{
	k->out = v;
	k->status = (uint8_t)((k->status & ~(STR_AUXDATA | STR_TIMEOUT)) |
			      STR_OBF | flags);
}

/* Lock held. Returns 1 when the command resets the CPU. */
static int i8042_command(struct i8042 *k, uint8_t cmd)
{
	k->status |= STR_CMD;
	k->pending = 0;
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_answer(k, k->ctr, 0);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
	case CMD_WRITE_KBD_OUT:
	case CMD_WRITE_AUX_OUT:
	case CMD_WRITE_AUX:
		k->pending = cmd;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= (uint8_t)~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		i8042_answer(k, 0x00, 0); /* the interface itself is fine */
		break;
	case CMD_SELF_TEST:
		i8042_answer(k, 0x55, 0);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= (uint8_t)~CTR_KBDDIS;
		break;
	case CMD_READ_OUTP:
		i8042_answer(k, OUTP_RESET_N | OUTP_A20, 0);
		break;
	case CMD_PULSE_RESET:
		return 1;
	default:
		break; /* unknown commands are ignored, as by real parts */
	}
	return 0;
}

/* Lock held. Returns 1 when the byte resets the CPU. */
static int i8042_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->status &= (uint8_t)~STR_CMD;
	k->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTP:
		return !(v & OUTP_RESET_N);
	case CMD_WRITE_KBD_OUT:
		i8042_answer(k, v, 0);
		break;
	case CMD_WRITE_AUX_OUT: /* the aux loopback: back as if from it */
		i8042_answer(k, v, STR_AUXDATA);
		break;
	case CMD_WRITE_AUX:
		i8042_answer(k, ANSWER_NONE, STR_AUXDATA | STR_TIMEOUT);
		break;
	default: /* a byte for the keyboard, which is not there */
		i8042_answer(k, ANSWER_NONE, STR_TIMEOUT);
		break;
	}
	return 0;
}

static void i8042_read(void *opaque, uint64_t offset, uint8_t *data,
		       unsigned len, uint16_t port)
{
	struct i8042 *k = opaque;

	(void)offset;
	memset(data, 0, len);
	pthread_mutex_lock(&k->lock);
	if (port == I8042_CMD_PORT) {
		data[0] = k->status;
	} else {
		data[0] = k->out;
		k->status &= (uint8_t) ~(STR_OBF | STR_AUXDATA | STR_TIMEOUT);
		i8042_update_irq(k);
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_write(void *opaque, const uint8_t *data, uint16_t port)
{
	struct i8042 *k = opaque;
	int reset;

	pthread_mutex_lock(&k->lock);
	if (port == I8042_CMD_PORT)
		reset = i8042_command(k, data[0]);
	else
		reset = i8042_data(k, data[0]);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		k->ops->reset(k->opaque);
}

static void i8042_cmd_read(void *opaque, uint64_t offset, uint8_t *data,
			   unsigned len)
{
	i8042_read(opaque, offset, data, len, I8042_CMD_PORT);
}

static void i8042_cmd_write(void *opaque, uint64_t offset, const uint8_t *data,
			    unsigned len)
{
	(void)offset;
	(void)len;
	i8042_write(opaque, data, I8042_CMD_PORT);
}

static void i8042_data_read(void *opaque, uint64_t offset, uint8_t *data,
			    unsigned len)
{
	i8042_read(opaque, offset, data, len, I8042_DATA_PORT);
}

static void i8042_data_write(void *opaque, uint64_t offset, const uint8_t *data,
			     unsigned len)
{
	(void)offset;
	(void)len;
	i8042_write(opaque, data, I8042_DATA_PORT);
}

static const struct io_bus_ops i8042_cmd_ops = {
	.read = i8042_cmd_read,
	.write = i8042_cmd_write,
};

static const struct io_bus_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

/* Lock held, or no vCPU running. */
static void i8042_power_on(struct i8042 *k)
{
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE;
	k->out = 0;
	k->status = STR_SYS | STR_UNLOCKED;
	k->pending = 0;
	i8042_update_irq(k);
}

int i8042_register(struct i8042 *k, struct io_bus *bus,
		   const struct i8042_ops *ops, void *opaque)
{
	int ret;

	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->ops = ops;
	k->opaque = opaque;
	i8042_power_on(k);
	ret = io_bus_register(bus, I8042_DATA_PORT, 1, &i8042_data_ops, k,
			      "i8042-data");
	if (!ret)
		ret = io_bus_register(bus, I8042_CMD_PORT, 1, &i8042_cmd_ops, k,
				      "i8042");
	return ret;
}

void i8042_reset(struct i8042 *k)
{
	pthread_mutex_lock(&k->lock);
	i8042_power_on(k);
	pthread_mutex_unlock(&k->lock);
}

void i8042_fini(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}
