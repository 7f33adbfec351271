/* cmdline.c: splits and interprets the guest command line. */
#include "boot/kernel.h"
#include "rt/cmdline.h"
#include "rt/string.h"

struct cmdline cmdline;

static int cmdline_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char *cmdline_value(const struct cmdline *cl, const char *key)
{
	size_t klen = strlen(key);
	const char *found = NULL;
	unsigned i;

	for (i = 0; i < cl->nwords; i++) {
		const char *w = cl->words[i];

		if (strncmp(w, key, klen))
			continue;
		if (w[klen] == '=')
			found = w + klen + 1;
		else if (w[klen] == '\0')
			found = "";
	}
	return found;
}

int cmdline_parse_virtio(const char *s, struct cmdline_virtio *out)
{
	uint64_t size, base, irq, mult = 1;

	s = str_to_u64(s, &size);
	if (!s)
		return -TG_EINVAL;
	if (*s == 'K' || *s == 'k')
		mult = 1ull << 10;
	else if (*s == 'M' || *s == 'm')
		mult = 1ull << 20;
	else if (*s == 'G' || *s == 'g')
		mult = 1ull << 30;
	if (mult != 1)
		s++;
	if (*s++ != '@' || size == 0 || size > UINT64_MAX / mult)
		return -TG_EINVAL;
	s = str_to_u64(s, &base);
	if (!s || *s++ != ':')
		return -TG_EINVAL;
	s = str_to_u64(s, &irq);
	if (!s || *s || irq > 255)
		return -TG_EINVAL;
	out->size = size * mult;
	out->base = base;
	out->irq = (uint32_t)irq;
	return 0;
}

/* Splits a test=A,B,C value into cl->tests (copied to tbuf). */
static void cmdline_add_tests(struct cmdline *cl, const char *v, size_t *tpos)
{
	while (*v && cl->ntests < CMDLINE_TESTS_MAX) {
		size_t n = 0;

		while (v[n] && v[n] != ',')
			n++;
		if (n && *tpos + n + 1 <= sizeof(cl->tbuf)) {
			memcpy(cl->tbuf + *tpos, v, n);
			cl->tbuf[*tpos + n] = '\0';
			cl->tests[cl->ntests++] = cl->tbuf + *tpos;
			*tpos += n + 1;
		}
		v += n;
		if (*v == ',')
			v++;
	}
}

static void cmdline_interpret(struct cmdline *cl, const char *w, size_t *tpos)
{
	uint64_t n;
	const char *end;

	if (str_starts(w, "test=")) {
		cmdline_add_tests(cl, w + 5, tpos);
	} else if (str_starts(w, ISOVM_CMDLINE_BOOT_KEY)) {
		end = str_to_u64(w + strlen(ISOVM_CMDLINE_BOOT_KEY), &n);
		if (end && !*end && n <= INT32_MAX)
			cl->boot = (int64_t)n;
		else
			cl->bad++;
	} else if (str_starts(w, "virtio_mmio.device=")) {
		if (cl->nvirtio < ISOVM_VIRTIO_MMIO_MAX &&
		    !cmdline_parse_virtio(w + 19, &cl->virtio[cl->nvirtio]))
			cl->nvirtio++;
		else
			cl->bad++;
	}
}

void cmdline_parse(struct cmdline *cl, const char *src)
{
	size_t len = strnlen(src, sizeof(cl->buf) - 1), i, tpos = 0;

	memset(cl, 0, sizeof(*cl));
	cl->boot = -1;
	memcpy(cl->buf, src, len);
	for (i = 0; i < len; i++) {
		if (cmdline_is_space(cl->buf[i])) {
			cl->buf[i] = '\0';
			continue;
		}
		if (i && cl->buf[i - 1])
			continue; /* inside a word */
		if (cl->nwords == CMDLINE_WORDS_MAX)
			cl->bad++;
		else
			cl->words[cl->nwords++] = cl->buf + i;
	}
	for (i = 0; i < cl->nwords; i++)
		cmdline_interpret(cl, cl->words[i], &tpos);
}
