/* test_cpu.c: per-vCPU CPUID topology fix-ups (APIC id, counts, levels). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/boot/cpu.h"

#define NENT 9

static struct kvm_cpuid2 *table(void)
{
	struct kvm_cpuid2 *t =
		calloc(1, sizeof(*t) + NENT * sizeof(struct kvm_cpuid_entry2));

	cr_assert_not_null(t);
	t->nent = NENT;
	/* Leaf 1 as a host might report it: CLFLUSH 8, 16 logical, APIC 7. */
	t->entries[0] = (struct kvm_cpuid_entry2){.function = 1,
						  .ebx = (7u << 24) |
							 (16u << 16) | 0x0800,
						  .ecx = 0,
						  .edx = 1u << 28};
	/* Leaf 4: an L1 data cache (level 1) and an L3 (level 3). */
	t->entries[1] = (struct kvm_cpuid_entry2){
		.function = 4,
		.index = 0,
		.eax = (31u << 26) | (1u << 14) | (1u << 5) | 1};
	t->entries[2] = (struct kvm_cpuid_entry2){
		.function = 4,
		.index = 3,
		.eax = (31u << 26) | (15u << 14) | (3u << 5) | 3};
	for (unsigned i = 0; i < 3; i++)
		t->entries[3 + i] = (struct kvm_cpuid_entry2){.function = 0xb,
							      .index = i,
							      .eax = 9,
							      .ebx = 9,
							      .ecx = 9,
							      .edx = 99};
	t->entries[6] = (struct kvm_cpuid_entry2){.function = 0x1f, .index = 0};
	t->entries[7] = (struct kvm_cpuid_entry2){.function = 0x1f, .index = 1};
	t->entries[8] = (struct kvm_cpuid_entry2){
		.function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b};
	return t;
}

Test(cpu, leaf1_carries_the_apic_id_count_and_hypervisor_bit)
{
	struct kvm_cpuid2 *t = table();

	cpu_cpuid_fixup(t, 3, 4);
	cr_assert_eq(t->entries[0].ebx >> 24, 3);
	cr_assert_eq((t->entries[0].ebx >> 16) & 0xff, 4);
	cr_assert_eq(t->entries[0].ebx & 0xffff, 0x0800, "CLFLUSH size kept");
	cr_assert(t->entries[0].edx & (1u << 28), "HTT with several CPUs");
	cr_assert(t->entries[0].ecx & (1u << 31), "hypervisor bit");
	free(t);
}

Test(cpu, a_single_cpu_has_no_htt)
{
	struct kvm_cpuid2 *t = table();

	cpu_cpuid_fixup(t, 0, 1);
	cr_assert_eq(t->entries[0].ebx >> 24, 0);
	cr_assert_eq((t->entries[0].edx >> 28) & 1, 0);
	free(t);
}

Test(cpu, leaf4_counts_cores_and_shares_only_the_l3)
{
	struct kvm_cpuid2 *t = table();

	cpu_cpuid_fixup(t, 1, 4);
	cr_assert_eq(t->entries[1].eax >> 26, 3, "cores per package - 1");
	cr_assert_eq((t->entries[1].eax >> 14) & 0xfff, 0, "L1 is per core");
	cr_assert_eq(t->entries[1].eax & 0x3fff, (1u << 5) | 1, "type kept");
	cr_assert_eq(t->entries[2].eax >> 26, 3);
	cr_assert_eq((t->entries[2].eax >> 14) & 0xfff, 3, "L3 shared by all");
	free(t);
}

Test(cpu, leaf_b_describes_one_thread_per_core_and_n_cores)
{
	struct kvm_cpuid2 *t = table();
	struct kvm_cpuid_entry2 *smt = &t->entries[3], *core = &t->entries[4],
				*end = &t->entries[5];

	cpu_cpuid_fixup(t, 5, 6);
	cr_assert_eq(smt->eax, 0);
	cr_assert_eq(smt->ebx, 1);
	cr_assert_eq(smt->ecx, 1u << 8);
	cr_assert_eq(smt->edx, 5, "x2APIC id");
	cr_assert_eq(core->eax, 3, "6 cores need 3 id bits");
	cr_assert_eq(core->ebx, 6);
	cr_assert_eq(core->ecx, (2u << 8) | 1);
	cr_assert_eq(core->edx, 5);
	cr_assert_eq(end->eax, 0);
	cr_assert_eq(end->ebx, 0);
	cr_assert_eq(end->ecx, 2, "level type 0 ends the list");
	cr_assert_eq(t->entries[7].ebx, 6, "leaf 0x1f alike");
	free(t);
}

Test(cpu, other_leaves_are_untouched)
{
	struct kvm_cpuid2 *t = table();

	cpu_cpuid_fixup(t, 2, 4);
	cr_assert_eq(t->entries[8].eax, 0x40000001);
	cr_assert_eq(t->entries[8].ebx, 0x4b4d564b);
	free(t);
}

Test(cpu, tsc_deadline_is_set_in_leaf1_only)
{
	struct kvm_cpuid2 *t = table();

	cpu_cpuid_set_tsc_deadline(t);
	cr_assert(t->entries[0].ecx & (1u << 24), "leaf 1 ECX bit 24");
	for (unsigned i = 1; i < NENT; i++)
		cr_assert_eq(t->entries[i].ecx & (1u << 24), 0,
			     "leaf 0x%x touched", t->entries[i].function);
	free(t);
}
