/*
 * cmdline.h: the guest command line split into words: key=value lookup,
 * the tests named by test=A,B, the VMM's boot counter and the
 * virtio_mmio.device= entries (for the virtio drivers).
 */
#ifndef TG_CMDLINE_H
#define TG_CMDLINE_H

#include <stdint.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "rt/bootinfo.h"

#define CMDLINE_WORDS_MAX 128
#define CMDLINE_TESTS_MAX 32

struct cmdline_virtio {
	uint64_t size;
	uint64_t base;
	uint32_t irq;
};

struct cmdline {
	char buf[BOOTINFO_CMDLINE_MAX]; /* words, NUL-separated (owned) */
	const char *words[CMDLINE_WORDS_MAX];
	unsigned nwords;
	char tbuf[BOOTINFO_CMDLINE_MAX]; /* test names, NUL-separated */
	const char *tests[CMDLINE_TESTS_MAX];
	unsigned ntests;
	int64_t boot;                    /* isovm.boot=N; -1 when absent */
	struct cmdline_virtio virtio[ISOVM_VIRTIO_MMIO_MAX];
	unsigned nvirtio;
	unsigned bad;                    /* malformed entries ignored */
};

extern struct cmdline cmdline;

/* Parses src (a NUL-terminated copy) into cl; never fails, counts junk. */
void cmdline_parse(struct cmdline *cl, const char *src);

/* Value of the last key=value word, "" for a bare word, NULL if absent. */
const char *cmdline_value(const struct cmdline *cl, const char *key);

/*
 * Parses "SIZE@ADDR:IRQ" (SIZE with an optional K/M/G suffix); returns 0
 * or -TG_EINVAL.
 */
int cmdline_parse_virtio(const char *s, struct cmdline_virtio *out);

#endif
