/* runtime.h: what the ring-3 boot sequence learnt, for the tests. */
#ifndef TG_RUNTIME_H
#define TG_RUNTIME_H

#include <stdint.h>

struct runtime {
	unsigned cpus;        /* CPUs the machine describes */
	const char *cpus_src; /* "mptable", "fw_cfg" (QEMU) or "default" (1) */
	const char *vmm;      /* "isovm" when its port answers, else "other" */
	uint64_t boot_tsc;    /* TSC when ring 3 started on the BSP */
};

extern struct runtime runtime;

#endif
