/* fault.h: the one-line register report of a vCPU that hit a guest fault. */
#ifndef ISOVM_FAULT_H
#define ISOVM_FAULT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>

#include "vcpu/core/guest_mem.h"
#include "vcpu/log.h"

/*
 * Logs (at level) why, then rip, rsp, cr0, cr3, cr4, efer, cs and up to
 * 16 instruction bytes at rip, read through mem (with a page-table walk when
 * paging is on; bytes that cannot be read are left out). Never fails.
 */
void fault_report(enum log_level level, int vcpu_fd,
		  const struct guest_mem *mem, unsigned id, const char *why);

/*
 * Pure: guest-virtual -> guest-physical through the page tables in mem that
 * sregs describe (32-bit, PAE or 4/5-level). False when not mapped or the
 * tables are not in RAM.
 */
bool fault_translate(const struct guest_mem *mem, const struct kvm_sregs *s,
		     uint64_t va, gpa_t *pa);

#endif
