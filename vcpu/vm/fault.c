/* fault.c: reporting a vCPU's registers and code bytes on a guest fault. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vcpu/log.h"
#include "vcpu/vm/fault.h"

#define FAULT_CR0_PG	 (1ull << 31)
#define FAULT_CR4_PSE	 (1ull << 4)
#define FAULT_CR4_PAE	 (1ull << 5)
#define FAULT_CR4_LA57	 (1ull << 12)
#define FAULT_EFER_LMA	 (1ull << 10)
#define FAULT_PTE_P	 1ull
#define FAULT_PTE_PS	 (1ull << 7)
#define FAULT_ADDR_MASK	 0x000ffffffffff000ull
#define FAULT_CODE_BYTES 16

static bool fault_read_pte(const struct guest_mem *mem, gpa_t gpa,
			   unsigned size, uint64_t *pte)
{
	const void *p = guest_mem_ptr(mem, gpa, size);

	if (!p)
		return false;
	*pte = 0;
	memcpy(pte, p, size);
	return (*pte & FAULT_PTE_P) != 0;
}

/* 64-bit entries, 9 index bits per level; PAE has a 2-bit top level. */
static bool fault_walk64(const struct guest_mem *mem, gpa_t table, int levels,
			 uint64_t va, gpa_t *pa)
{
	for (int lvl = levels - 1; lvl >= 0; lvl--) {
		unsigned shift = 12 + 9 * lvl;
		uint64_t idx = (va >> shift) & 0x1ff;
		uint64_t pte;

		if (!fault_read_pte(mem, table + idx * 8, 8, &pte))
			return false;
		/* 1 GiB or 2 MiB page: the walk ends here. */
		if (lvl > 0 && lvl < 3 && (pte & FAULT_PTE_PS)) {
			uint64_t mask = (1ull << shift) - 1;

			*pa = ((pte & FAULT_ADDR_MASK) & ~mask) | (va & mask);
			return true;
		}
		table = pte & FAULT_ADDR_MASK;
	}
	*pa = table | (va & 0xfff);
	return true;
}

static bool fault_walk32(const struct guest_mem *mem, uint64_t cr3, bool pse,
			 uint64_t va, gpa_t *pa)
{
	uint64_t pde, pte;

	if (!fault_read_pte(mem, (cr3 & 0xfffff000) + ((va >> 22) & 0x3ff) * 4,
			    4, &pde))
		return false;
	if (pse && (pde & FAULT_PTE_PS)) {
		*pa = (pde & 0xffc00000) | (va & 0x3fffff);
		return true;
	}
	if (!fault_read_pte(mem, (pde & 0xfffff000) + ((va >> 12) & 0x3ff) * 4,
			    4, &pte))
		return false;
	*pa = (pte & 0xfffff000) | (va & 0xfff);
	return true;
}

bool fault_translate(const struct guest_mem *mem, const struct kvm_sregs *s,
		     uint64_t va, gpa_t *pa)
{
	uint64_t pdpte;

	if (!(s->cr0 & FAULT_CR0_PG)) {
		*pa = s->efer & FAULT_EFER_LMA ? va : (va & 0xffffffff);
		return true;
	}
	if (s->efer & FAULT_EFER_LMA)
		return fault_walk64(mem, s->cr3 & FAULT_ADDR_MASK,
				    s->cr4 & FAULT_CR4_LA57 ? 5 : 4, va, pa);
	if (s->cr4 & FAULT_CR4_PAE) {
		va &= 0xffffffff;
		if (!fault_read_pte(mem, (s->cr3 & 0xffffffe0) + (va >> 30) * 8,
				    8, &pdpte))
			return false;
		return fault_walk64(mem, pdpte & FAULT_ADDR_MASK, 2, va, pa);
	}
	return fault_walk32(mem, s->cr3, s->cr4 & FAULT_CR4_PSE,
			    va & 0xffffffff, pa);
}

/* Hex of the code bytes at cs:rip, stopping at the first unreadable one. */
static void fault_code_bytes(const struct guest_mem *mem,
			     const struct kvm_sregs *s, uint64_t rip, char *out,
			     size_t cap)
{
	uint64_t va = s->cs.base + rip;
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < FAULT_CODE_BYTES && n + 4 < cap; i++) {
		const uint8_t *p;
		gpa_t pa;

		if (!fault_translate(mem, s, va + i, &pa))
			break;
		p = guest_mem_ptr(mem, pa, 1);
		if (!p)
			break;
		n += snprintf(out + n, cap - n, "%s%02x", i ? " " : "", *p);
	}
	if (n == 0)
		snprintf(out, cap, "unreadable");
}

void fault_report(enum log_level level, int vcpu_fd,
		  const struct guest_mem *mem, unsigned id, const char *why)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	char code[FAULT_CODE_BYTES * 3 + 8];

	if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		log_msg(level, "vcpu%u: %s (registers unavailable)", id, why);
		return;
	}
	fault_code_bytes(mem, &s, r.rip, code, sizeof(code));
	log_msg(level,
		"vcpu%u: %s: rip=0x%llx rsp=0x%llx cr0=0x%llx cr3=0x%llx "
		"cr4=0x%llx efer=0x%llx cs=0x%x code: %s",
		id, why, (unsigned long long)r.rip, (unsigned long long)r.rsp,
		(unsigned long long)s.cr0, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer,
		s.cs.selector, code);
}
