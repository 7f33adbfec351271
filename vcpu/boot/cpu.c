/* cpu.c: CPUID, MSRs, FPU, LAPIC and boot registers of each vCPU. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vcpu/boot/cpu.h"

#define CPU_CPUID_MAX_ENTRIES 256
#define CPU_CPUID1_ECX_TSC_DEADLINE (1u << 24)

#define MSR_IA32_TSC	      0x10
#define MSR_IA32_APICBASE     0x1b
#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_MTRR_DEF_TYPE     0x2ff
#define MSR_STAR	      0xc0000081
#define MSR_LSTAR	      0xc0000082
#define MSR_CSTAR	      0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102

#define CPU_APIC_BASE		    0xfee00000ull
#define CPU_APICBASE_BSP	    (1ull << 8)
#define CPU_APICBASE_ENABLE	    (1ull << 11)
#define CPU_MISC_ENABLE_FAST_STRING 1ull
/* MTRRs enabled, default type write-back. */
#define CPU_MTRR_ENABLE_WB ((1ull << 11) | 6)

#define CPU_CR0_PE   (1ull << 0)
#define CPU_CR0_MP   (1ull << 1)
#define CPU_CR0_ET   (1ull << 4)
#define CPU_CR0_NE   (1ull << 5)
#define CPU_CR0_WP   (1ull << 16)
#define CPU_CR0_AM   (1ull << 18)
#define CPU_CR0_PG   (1ull << 31)
#define CPU_CR4_PAE  (1ull << 5)
#define CPU_EFER_LME (1ull << 8)
#define CPU_EFER_LMA (1ull << 10)

#define CPU_APIC_LVT_LINT0   0x350
#define CPU_APIC_LVT_LINT1   0x360
#define CPU_APIC_MODE_NMI    0x4
#define CPU_APIC_MODE_EXTINT 0x7

int cpu_cpuid_fetch(struct cpu_cpuid *c, int kvm_sys_fd)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      CPU_CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);

	c->table = calloc(1, size);
	if (!c->table)
		return -ENOMEM;
	c->table->nent = CPU_CPUID_MAX_ENTRIES;
	if (ioctl(kvm_sys_fd, KVM_GET_SUPPORTED_CPUID, c->table) < 0) {
		int ret = -errno;

		free(c->table);
		c->table = NULL;
		return ret;
	}
	/* KVM emulates the TSC-deadline timer but leaves the bit to us. */
	if (ioctl(kvm_sys_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		cpu_cpuid_set_tsc_deadline(c->table);
	return 0;
}

void cpu_cpuid_set_tsc_deadline(struct kvm_cpuid2 *t)
{
	for (unsigned i = 0; i < t->nent; i++)
		if (t->entries[i].function == 0x1)
			t->entries[i].ecx |= CPU_CPUID1_ECX_TSC_DEADLINE;
}

void cpu_cpuid_free(struct cpu_cpuid *c)
{
	free(c->table);
	c->table = NULL;
}

static unsigned cpu_order(unsigned n)
{
	unsigned bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

/* Leaf 0xb/0x1f: level 0 = SMT (one thread), level 1 = cores. */
static void cpu_fix_topology_leaf(struct kvm_cpuid_entry2 *e, unsigned id,
				  unsigned nr_cpus)
{
	unsigned idx = e->index;

	e->edx = id;
	if (idx == 0) {
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1u << 8) | idx;
	} else if (idx == 1) {
		e->eax = cpu_order(nr_cpus);
		e->ebx = nr_cpus;
		e->ecx = (2u << 8) | idx;
	} else {
		e->eax = e->ebx = 0;
		e->ecx = idx; /* level type 0: invalid, ends the enumeration */
	}
}

void cpu_cpuid_fixup(struct kvm_cpuid2 *t, unsigned id, unsigned nr_cpus)
{
	for (unsigned i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		switch (e->function) {
		case 0x1:
			/* APIC id, logical processors per package, HTT. */
			e->ebx = (e->ebx & 0xffff) | (id << 24) |
				 ((nr_cpus & 0xff) << 16);
			if (nr_cpus > 1)
				e->edx |= 1u << 28;
			else
				e->edx &= ~(1u << 28);
			e->ecx |= 1u << 31; /* running under a hypervisor */
			break;
		case 0x4:
			/* Cores per package; caches shared by one core (L3:
			 * all). */
			e->eax &= 0x3fff;
			e->eax |= (nr_cpus - 1) << 26;
			if (((e->eax >> 5) & 7) >= 3)
				e->eax |= (nr_cpus - 1) << 14;
			break;
		case 0xb:
		case 0x1f:
			cpu_fix_topology_leaf(e, id, nr_cpus);
			break;
		default:
			break;
		}
	}
}

static int cpu_set_cpuid(int vcpu_fd, const struct cpu_cpuid *c, unsigned id,
			 unsigned nr_cpus)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      c->table->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *t = malloc(size);
	int ret = 0;

	if (!t)
		return -ENOMEM;
	memcpy(t, c->table, size);
	cpu_cpuid_fixup(t, id, nr_cpus);
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, t) < 0)
		ret = -errno;
	free(t);
	return ret;
}

static int cpu_set_msrs(int vcpu_fd, unsigned id)
{
	static const uint32_t zeroed[] = {
		MSR_IA32_SYSENTER_CS,
		MSR_IA32_SYSENTER_ESP,
		MSR_IA32_SYSENTER_EIP,
		MSR_STAR,
		MSR_LSTAR,
		MSR_CSTAR,
		MSR_SYSCALL_MASK,
		MSR_KERNEL_GS_BASE,
		MSR_IA32_TSC,
	};
	/* kvm_msrs ends in a flexible array: room for 16 entries after it. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) +
			      16 * sizeof(struct kvm_msr_entry)];
	} m;
	struct kvm_msr_entry *e = m.hdr.entries;
	unsigned n = 0;

	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < sizeof(zeroed) / sizeof(*zeroed); i++)
		e[n++].index = zeroed[i];
	e[n].index = MSR_IA32_MISC_ENABLE;
	e[n++].data = CPU_MISC_ENABLE_FAST_STRING;
	e[n].index = MSR_MTRR_DEF_TYPE;
	e[n++].data = CPU_MTRR_ENABLE_WB;
	e[n].index = MSR_IA32_APICBASE;
	e[n++].data = CPU_APIC_BASE | CPU_APICBASE_ENABLE |
			(id == 0 ? CPU_APICBASE_BSP : 0);
	m.hdr.nmsrs = n;
	/* KVM_SET_MSRS returns how many it set: all or it is an error. */
	if (ioctl(vcpu_fd, KVM_SET_MSRS, &m) != (int)n)
		return -EINVAL;
	return 0;
}

static int cpu_set_fpu(int vcpu_fd)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;    /* x87 power-on control word */
	fpu.mxcsr = 0x1f80; /* SSE: all exceptions masked */
	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

static void cpu_lapic_set_mode(struct kvm_lapic_state *l, unsigned reg,
			       uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, sizeof(v));
}

/* The PC wiring: LINT0 takes the PIC (ExtINT), LINT1 the NMI line. */
static int cpu_set_lapic(int vcpu_fd)
{
	struct kvm_lapic_state l;

	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	cpu_lapic_set_mode(&l, CPU_APIC_LVT_LINT0, CPU_APIC_MODE_EXTINT);
	cpu_lapic_set_mode(&l, CPU_APIC_LVT_LINT1, CPU_APIC_MODE_NMI);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

static struct kvm_segment cpu_flat_seg(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code64 ? 0 : 1,
		.s = 1,
		.l = code64 ? 1 : 0,
		.g = 1,
	};
}

static void cpu_boot_sregs(struct kvm_sregs *s, const struct boot_entry *e)
{
	bool lm = e->mode == BOOT_MODE_LINUX64;
	struct kvm_segment data = cpu_flat_seg(0x18, 0x3, false);

	s->cs = cpu_flat_seg(0x10, 0xb, lm);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	/* A busy 32-bit TSS: VMX refuses entry with an unusable TR. */
	s->tr = (struct kvm_segment){.limit = 0x67, .type = 0xb, .present = 1};
	s->ldt = (struct kvm_segment){
		.limit = 0xffff, .type = 0x2, .present = 1};
	s->gdt.base = e->gdt_gpa;
	s->gdt.limit = e->gdt_limit;
	s->idt.base = 0;
	s->idt.limit = 0;
	if (lm) {
		s->cr0 = CPU_CR0_PE | CPU_CR0_MP | CPU_CR0_ET | CPU_CR0_NE |
			 CPU_CR0_WP | CPU_CR0_AM | CPU_CR0_PG;
		s->cr3 = e->cr3;
		s->cr4 = CPU_CR4_PAE;
		s->efer = CPU_EFER_LME | CPU_EFER_LMA;
	} else {
		s->cr0 = CPU_CR0_PE | CPU_CR0_ET;
		s->cr3 = 0;
		s->cr4 = 0;
		s->efer = 0;
	}
}

static int cpu_set_boot_regs(int vcpu_fd, const struct boot_entry *e)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	cpu_boot_sregs(&sregs, e);
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2; /* reserved bit 1; interrupts off */
	regs.rip = e->rip;
	regs.rbx = e->rbx;
	regs.rsi = e->rsi;
	regs.rsp = e->rsp;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int cpu_setup(int vcpu_fd, const struct cpu_cpuid *c, unsigned id,
	      unsigned nr_cpus, const struct boot_entry *entry)
{
	int ret;

	ret = cpu_set_cpuid(vcpu_fd, c, id, nr_cpus);
	if (!ret)
		ret = cpu_set_msrs(vcpu_fd, id);
	if (!ret)
		ret = cpu_set_fpu(vcpu_fd);
	if (!ret)
		ret = cpu_set_lapic(vcpu_fd);
	if (!ret && entry)
		ret = cpu_set_boot_regs(vcpu_fd, entry);
	return ret;
}
