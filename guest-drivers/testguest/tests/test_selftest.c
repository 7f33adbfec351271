/*
 * test_selftest.c: the runtime's parsers and formatter give the expected
 * results on fixed inputs (the first mismatch is named in the line).
 */
#include "rt/cmdline.h"
#include "rt/fmt.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/tests.h"

struct selftest {
	unsigned checks;
	unsigned failed;
	const char *first; /* first failed check */
};

static void selftest_check(struct selftest *st, bool ok, const char *what)
{
	st->checks++;
	if (ok)
		return;
	if (!st->failed++)
		st->first = what;
}

static bool selftest_fmt_is(const char *want, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool selftest_fmt_is(const char *want, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return !strcmp(buf, want);
}

static void selftest_fmt(struct selftest *st)
{
	char small[4];

	selftest_check(st, selftest_fmt_is("-42 7 ff", "%d %u %x", -42, 7u,
					   255u), "fmt-int");
	selftest_check(st, selftest_fmt_is("0x00001000",
					   "0x%08lx", 0x1000ul), "fmt-pad");
	selftest_check(st, selftest_fmt_is("18446744073709551615",
					   "%lu", ~0ul), "fmt-u64");
	selftest_check(st, selftest_fmt_is("[ab  ] c", "[%-4s] %c", "ab",
					   'c'), "fmt-str");
	fmt_snprintf(small, sizeof(small), "%s", "abcdef");
	selftest_check(st, !strcmp(small, "abc"), "fmt-cut");
}

static void selftest_cmdline(struct selftest *st)
{
	static struct cmdline cl;
	struct cmdline_virtio v;

	cmdline_parse(&cl, "  test=a,,b  x=1 flag isovm.boot=3 "
			   "virtio_mmio.device=4K@0xd0000000:5 x=2 "
			   "virtio_mmio.device=4K@0xd0001000 ");
	selftest_check(st, cl.nwords == 7, "cmdline-words");
	selftest_check(st, cl.ntests == 2 && !strcmp(cl.tests[1], "b"),
		       "cmdline-tests");
	selftest_check(st, cl.boot == 3, "cmdline-boot");
	selftest_check(st, !strcmp(cmdline_value(&cl, "x"), "2"),
		       "cmdline-last-value");
	selftest_check(st, !strcmp(cmdline_value(&cl, "flag"), ""),
		       "cmdline-bare");
	selftest_check(st, !cmdline_value(&cl, "fla"), "cmdline-prefix");
	selftest_check(st, cl.nvirtio == 1 && cl.bad == 1 &&
				   cl.virtio[0].base == 0xd0000000 &&
				   cl.virtio[0].size == 4096 &&
				   cl.virtio[0].irq == 5,
		       "cmdline-virtio");
	selftest_check(st, cmdline_parse_virtio("512@0xfeb00e00:12", &v) == 0 &&
				   v.size == 512 && v.irq == 12,
		       "virtio-qemu-form");
	selftest_check(st, cmdline_parse_virtio("0@0x1000:5", &v) != 0,
		       "virtio-zero-size");
	selftest_check(st, cmdline_parse_virtio("4K@0x1000:5x", &v) != 0,
		       "virtio-trailing");
	selftest_check(st, cmdline_parse_virtio("99999999999G@0:5", &v) != 0,
		       "virtio-overflow");
}

static void selftest_strings(struct selftest *st)
{
	uint64_t v;

	selftest_check(st, str_to_u64("18446744073709551616", &v) == NULL,
		       "u64-overflow");
	selftest_check(st, str_to_u64("0x", &v) == NULL, "u64-no-digits");
	selftest_check(st, str_to_u64("0x1fz", &v) && v == 0x1f, "u64-hex");
}

void test_selftest(const char *name)
{
	struct selftest st = { 0, 0, NULL };

	selftest_fmt(&st);
	selftest_cmdline(&st);
	selftest_strings(&st);
	report_result(name, st.failed == 0, "checks=%u failed=%u%s%s",
		      st.checks, st.failed, st.first ? " first=" : "",
		      st.first ? st.first : "");
}
