/* mptable.c: MP spec 1.4 floating pointer and configuration table. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/boot/mptable.h"

struct mpf_intel {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;  /* configuration table */
	uint8_t length;    /* in 16-byte units: 1 */
	uint8_t specrev;   /* 4: version 1.4 */
	uint8_t checksum;
	uint8_t feature1;  /* 0: a configuration table is present */
	uint8_t feature2;  /* bit 7 IMCR: 0, virtual wire mode */
	uint8_t feature3[3];
} __attribute__((packed));

struct mpc_table {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* base table, header included */
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount; /* number of entries */
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type; /* 0 */
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature; /* CPUID.1 EAX: family, model, stepping */
	uint32_t featureflag; /* CPUID.1 EDX */
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type; /* 1 */
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type; /* 2 */
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type; /* 3: I/O interrupt, 4: local interrupt */
	uint8_t irqtype;
	uint16_t irqflag; /* 0: conforming to the bus (ISA: edge, active high) */
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf_intel) == 16, "mpf size");
_Static_assert(sizeof(struct mpc_table) == 44, "mpc header size");
_Static_assert(sizeof(struct mpc_cpu) == 20, "mpc cpu size");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "mpc intsrc size");

#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4
#define MP_INT_INT 0
#define MP_INT_NMI 1
#define MP_INT_EXTINT 3
#define MP_CPU_ENABLED 0x01
#define MP_CPU_BSP 0x02
#define MP_APIC_VERSION 0x14
#define MP_IOAPIC_VERSION 0x11
/* A fixed family 6 signature and FPU + APIC: Linux only logs them. */
#define MP_CPU_SIGNATURE 0x00000663u
#define MP_CPU_FEATURES 0x00000201u
#define MP_ISA_BUS 0

/*
 * ISA IRQ i is IOAPIC pin i, as KVM's default GSI routing delivers it (the
 * in-kernel PIT raises GSI 0, which reaches pin 0: isovm installs no
 * routing of its own); IRQ 2 is the cascade.
 */
static int mptable_isa_pin(unsigned irq)
{
	if (irq == 2)
		return -1;
	return (int)irq;
}

/* virtio-mmio IRQs not already covered by the 16 ISA IRQs, up to pin 23. */
static unsigned mptable_nr_extra_irqs(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ISOVM_VIRTIO_MMIO_MAX; i++) {
		unsigned irq = ISOVM_VIRTIO_MMIO_IRQ_BASE + i;

		if (irq >= 16 && irq < MPTABLE_IOAPIC_PINS)
			n++;
	}
	return n;
}

static unsigned mptable_nr_intsrc(void)
{
	return 15 + mptable_nr_extra_irqs(); /* 16 ISA IRQs minus the cascade */
}

uint64_t mptable_size(unsigned cpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       (uint64_t)cpus * sizeof(struct mpc_cpu) +
	       sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
	       (mptable_nr_intsrc() + 2) * sizeof(struct mpc_intsrc);
}

static uint8_t mptable_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)(0 - sum);
}

static uint8_t *mptable_intsrc(uint8_t *p, uint8_t type, uint8_t irqtype,
			       uint8_t srcirq, uint8_t dstapic, uint8_t dstirq)
{
	struct mpc_intsrc e = {
		.type = type,
		.irqtype = irqtype,
		.srcbus = MP_ISA_BUS,
		.srcbusirq = srcirq,
		.dstapic = dstapic,
		.dstirq = dstirq,
	};

	memcpy(p, &e, sizeof(e));
	return p + sizeof(e);
}

static uint8_t *mptable_cpus(uint8_t *p, unsigned cpus)
{
	for (unsigned i = 0; i < cpus; i++) {
		struct mpc_cpu c = {
			.type = MP_PROCESSOR,
			.apicid = (uint8_t)i,
			.apicver = MP_APIC_VERSION,
			.cpuflag = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.cpufeature = MP_CPU_SIGNATURE,
			.featureflag = MP_CPU_FEATURES,
		};

		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
	}
	return p;
}

static uint8_t *mptable_irqs(uint8_t *p, uint8_t ioapic)
{
	for (unsigned irq = 0; irq < 16; irq++) {
		int pin = mptable_isa_pin(irq);

		if (pin >= 0)
			p = mptable_intsrc(p, MP_INTSRC, MP_INT_INT,
					   (uint8_t)irq, ioapic, (uint8_t)pin);
	}
	for (unsigned i = 0; i < ISOVM_VIRTIO_MMIO_MAX; i++) {
		unsigned irq = ISOVM_VIRTIO_MMIO_IRQ_BASE + i;

		if (irq >= 16 && irq < MPTABLE_IOAPIC_PINS)
			p = mptable_intsrc(p, MP_INTSRC, MP_INT_INT,
					   (uint8_t)irq, ioapic, (uint8_t)irq);
	}
	/* Virtual wire: the PIC through LINT0, NMI on LINT1, to all CPUs. */
	p = mptable_intsrc(p, MP_LINTSRC, MP_INT_EXTINT, 0, 0xff, 0);
	return mptable_intsrc(p, MP_LINTSRC, MP_INT_NMI, 0, 0xff, 1);
}

int mptable_write(struct guest_mem *mem, gpa_t gpa, unsigned cpus)
{
	uint64_t size = mptable_size(cpus);
	struct mpf_intel mpf = { .signature = { '_', 'M', 'P', '_' } };
	struct mpc_table mpc = { .signature = { 'P', 'C', 'M', 'P' } };
	struct mpc_bus bus = { .type = MP_BUS, .busid = MP_ISA_BUS };
	struct mpc_ioapic io = { .type = MP_IOAPIC };
	uint8_t *base, *p;

	if (cpus < 1 || cpus > MPTABLE_MAX_CPUS || (gpa & 15))
		return -EINVAL;
	/* The floating pointer holds a 32-bit address of the table. */
	if (gpa > UINT32_MAX - size)
		return -EFAULT;
	base = guest_mem_ptr(mem, gpa, size);
	if (!base)
		return -EFAULT;
	memset(base, 0, size);

	p = base + sizeof(mpf) + sizeof(mpc);
	p = mptable_cpus(p, cpus);
	memcpy(bus.bustype, "ISA   ", 6);
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	io.apicid = (uint8_t)cpus;
	io.apicver = MP_IOAPIC_VERSION;
	io.flags = 1; /* enabled */
	io.apicaddr = MPTABLE_IOAPIC_ADDR;
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	p = mptable_irqs(p, (uint8_t)cpus);

	mpc.length = (uint16_t)(p - base - sizeof(mpf));
	mpc.spec = 4;
	memcpy(mpc.oem, "ISOVM   ", 8);
	memcpy(mpc.productid, "isovm       ", 12);
	mpc.oemcount = (uint16_t)(cpus + 2 + mptable_nr_intsrc() + 2);
	mpc.lapic = MPTABLE_LAPIC_ADDR;
	memcpy(base + sizeof(mpf), &mpc, sizeof(mpc));
	base[sizeof(mpf) + offsetof(struct mpc_table, checksum)] =
		mptable_checksum(base + sizeof(mpf), mpc.length);

	mpf.physptr = (uint32_t)(gpa + sizeof(mpf));
	mpf.length = 1;
	mpf.specrev = 4;
	memcpy(base, &mpf, sizeof(mpf));
	base[offsetof(struct mpf_intel, checksum)] =
		mptable_checksum(base, sizeof(mpf));
	return (int)size;
}
