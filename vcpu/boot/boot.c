/* boot.c: boot_load(): open the kernel, lay out the common parts, dispatch by format. */
#include <errno.h>
#include <string.h>

#include "vcpu/boot/boot.h"
#include "vcpu/boot/boot_bzimage.h"
#include "vcpu/boot/boot_file.h"
#include "vcpu/boot/boot_pvh.h"
#include "vcpu/boot/mptable.h"
#include "vcpu/log.h"

/* The bzImage setup header ends well inside this; ELF needs 4 bytes. */
#define BOOT_HEAD_LEN 1024

/* Command line at BOOT_CMDLINE_GPA, the e820 map and the MP table. */
static int boot_common(struct boot_ctx *ctx)
{
	const char *cmdline = ctx->cfg->cmdline ? ctx->cfg->cmdline : "";
	size_t len = strnlen(cmdline, BOOT_CMDLINE_MAX);
	char *dst;
	int n;

	if (len >= BOOT_CMDLINE_MAX) {
		return errf(ctx->err, ctx->errlen, -E2BIG,
			    "command line: %zu bytes or more, the limit is %d",
			    len, BOOT_CMDLINE_MAX - 1);
	}
	n = e820_build(ctx->mem, ctx->e820, E820_MAX_ENTRIES);
	if (n < 0) {
		if (e820_low_ram_end(ctx->mem) <= BOOT_HIGH_RAM_START)
			errf(ctx->err, ctx->errlen, n,
			     "guest memory: too small, RAM must reach past 1 MiB");
		else
			errf(ctx->err, ctx->errlen, n,
			     "guest memory: a layout the e820 map cannot describe");
		return n;
	}
	ctx->nr_e820 = (unsigned)n;
	ctx->low_end = e820_low_ram_end(ctx->mem);
	dst = guest_mem_ptr(ctx->mem, BOOT_CMDLINE_GPA, len + 1);
	if (!dst)
		return -EFAULT;
	memcpy(dst, cmdline, len + 1);
	ctx->cmdline_len = len;
	n = mptable_write(ctx->mem, BOOT_MPTABLE_GPA, ctx->cfg->cpus);
	if (n < 0) {
		return errf(ctx->err, ctx->errlen, n,
			    "MP table: %u CPUs, need 1 to %d", ctx->cfg->cpus,
			    MPTABLE_MAX_CPUS);
	}
	return 0;
}

int boot_load(struct guest_mem *mem, const struct boot_config *cfg,
	      struct boot_entry *entry, char *err, size_t errlen)
{
	struct boot_ctx ctx = {
		.mem = mem, .cfg = cfg, .err = err, .errlen = errlen,
	};
	uint8_t head[BOOT_HEAD_LEN];
	uint64_t head_len;
	int ret;

	errf(err, errlen, 0, "%s", "");
	memset(entry, 0, sizeof(*entry));
	ret = boot_file_open(&ctx.kernel, "kernel", cfg->kernel_path, err,
			     errlen);
	if (ret)
		return ret;
	head_len = ctx.kernel.size < sizeof(head) ? ctx.kernel.size :
						    sizeof(head);
	ret = boot_file_read(&ctx.kernel, 0, head, head_len);
	if (ret) {
		errf(err, errlen, ret, "kernel %s: read error",
		     cfg->kernel_path);
		goto out_close;
	}
	ret = boot_common(&ctx);
	if (ret)
		goto out_close;
	if (boot_bzimage_probe(head, head_len)) {
		ret = boot_bzimage_load(&ctx, entry);
	} else if (boot_pvh_probe(head, head_len)) {
		ret = boot_pvh_load(&ctx, entry);
	} else {
		ret = errf(
			err, errlen, -ENOEXEC,
			"kernel %s: not a bzImage or an ELF kernel with a PVH entry note",
			cfg->kernel_path);
	}
out_close:
	boot_file_close(&ctx.kernel);
	return ret;
}
