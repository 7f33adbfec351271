/*
 * fuzz_driver.c: a stand-alone driver for the fuzz targets when libFuzzer is
 * not available. Runs each file named on the command line through the
 * target, then N seeded inputs: random bytes, and mutations of the target's
 * own seed (LLVMFuzzerSeed(), when the target provides one). With
 * --write-seed FILE it writes that seed to FILE instead (scripts/fuzz.sh
 * starts libFuzzer's corpus with it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: a valid input to mutate; returns its length. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap) __attribute__((weak));

#define FUZZ_MAX_INPUT 8192

static uint64_t fuzz_rng = 0x9e3779b97f4a7c15ull;

static uint64_t fuzz_next(void)
{
	/* xorshift64*: reproducible across runs, no libc state. */
	fuzz_rng ^= fuzz_rng >> 12;
	fuzz_rng ^= fuzz_rng << 25;
	fuzz_rng ^= fuzz_rng >> 27;
	return fuzz_rng * 0x2545f4914f6cdd1dull;
}

static int fuzz_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static size_t fuzz_mutate(uint8_t *buf, size_t len, size_t seed_len)
{
	unsigned flips = 1 + fuzz_next() % 8;

	if (seed_len && fuzz_next() % 4 == 0)
		len = fuzz_next() % (seed_len + 1); /* truncation */
	for (unsigned i = 0; i < flips && len; i++) {
		size_t at = fuzz_next() % len;

		switch (fuzz_next() % 3) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (fuzz_next() % 8));
			break;
		case 1:
			buf[at] = (uint8_t)fuzz_next();
			break;
		default:
			buf[at] = (fuzz_next() & 1) ? 0xff : 0x00;
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	static uint8_t seed[FUZZ_MAX_INPUT], buf[FUZZ_MAX_INPUT];
	size_t seed_len = LLVMFuzzerSeed ? LLVMFuzzerSeed(seed, sizeof(seed)) : 0;
	long iterations = 10000;
	int first_file = 1;

	/* --write-seed FILE: the seed, as a first corpus entry for libFuzzer. */
	if (argc == 3 && strcmp(argv[1], "--write-seed") == 0) {
		FILE *f = fopen(argv[2], "wb");

		if (!f || fwrite(seed, 1, seed_len, f) != seed_len ||
		    fclose(f) != 0) {
			perror(argv[2]);
			return 1;
		}
		return 0;
	}
	if (argc > 1 && strspn(argv[1], "0123456789") == strlen(argv[1])) {
		iterations = atol(argv[1]);
		first_file = 2;
	}
	for (int i = first_file; i < argc; i++)
		if (fuzz_file(argv[i]))
			return 1;
	for (long i = 0; i < iterations; i++) {
		size_t len;

		if (seed_len && (i & 1)) {
			memcpy(buf, seed, seed_len);
			len = fuzz_mutate(buf, seed_len, seed_len);
		} else {
			len = fuzz_next() % sizeof(buf);
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)fuzz_next();
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz: %ld inputs, no crash\n", iterations);
	return 0;
}
