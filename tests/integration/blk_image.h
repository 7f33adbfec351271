/*
 * blk_image.h: disk images for the block tests, made and checked on the
 * host: the pattern the guests' blk-pattern tests write (the 64-bit
 * little-endian word splitmix64(seed + k) at byte 8k of the disk) and the
 * FNV-1a 64 hash they report of it.
 */
#ifndef ISOVM_TEST_BLK_IMAGE_H
#define ISOVM_TEST_BLK_IMAGE_H

#include <stdint.h>

/* A file of size bytes (a multiple of 1 MiB), every byte fill. */
void blk_image_make(const char *path, uint64_t size, uint8_t fill);

/*
 * Fails the calling test unless [base, base + len) of the file holds the
 * pattern of seed and, when outside_fill >= 0, every other byte is
 * outside_fill. Returns the FNV-1a 64 of [base, base + len).
 */
uint64_t blk_image_check(const char *path, uint64_t base, uint64_t len,
			 uint64_t seed, int outside_fill);

#endif
