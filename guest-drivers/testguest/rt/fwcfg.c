/*
 * fwcfg.c: QEMU's fw_cfg (selector 0x510, data 0x511): the CPU count when
 * no usable MP table is found (qboot does write one for microvm). Values
 * are only trusted within [1, MAX_CPUS].
 */
#include "boot/layout.h"
#include "rt/fwcfg.h"
#include "rt/io.h"

#define FWCFG_SELECTOR 0x510
#define FWCFG_DATA 0x511
#define FWCFG_SIGNATURE 0x0000
#define FWCFG_NB_CPUS 0x0005

static void fwcfg_read(uint16_t key, uint8_t *buf, unsigned n)
{
	outw(FWCFG_SELECTOR, key);
	while (n--)
		*buf++ = inb(FWCFG_DATA);
}

int fwcfg_present(void)
{
	uint8_t sig[4];

	fwcfg_read(FWCFG_SIGNATURE, sig, sizeof(sig));
	return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}

unsigned fwcfg_cpus(void)
{
	uint8_t v[2];
	unsigned n;

	if (!fwcfg_present())
		return 0;
	fwcfg_read(FWCFG_NB_CPUS, v, sizeof(v));
	n = (unsigned)v[0] | (unsigned)v[1] << 8;
	return n >= 1 && n <= MAX_CPUS ? n : 0;
}
