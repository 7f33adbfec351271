/* fwcfg.h: QEMU's fw_cfg I/O interface, read for the CPU count only. */
#ifndef TG_FWCFG_H
#define TG_FWCFG_H

#include <stdint.h>

/* True when the fw_cfg selector answers with the "QEMU" signature. */
int fwcfg_present(void);

/* Number of boot CPUs (FW_CFG_NB_CPUS), or 0 without fw_cfg. */
unsigned fwcfg_cpus(void);

#endif
