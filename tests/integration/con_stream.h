/*
 * con_stream.h: the console streams of the test guest, checked on the
 * host: console-bulk's framed output (its seeded text between a begin and
 * an end line, and the hash the guest reports of it) and the input the
 * host feeds console-sink (bytes of any value, hashed the same way).
 */
#ifndef ISOVM_TEST_CON_STREAM_H
#define ISOVM_TEST_CON_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define CON_FNV_INIT 0xcbf29ce484222325ull

/* FNV-1a 64 of p[0..n), going on from h (CON_FNV_INIT to start). */
uint64_t con_fnv(uint64_t h, const void *p, size_t n);

/*
 * Fails the calling test unless out[0..len) holds console-bulk's framed
 * data of want_bytes bytes, byte for byte (none lost, none doubled), the
 * end line right after it, then the guest's pass line with the hash of
 * what it sent.
 */
void con_bulk_check(const char *out, size_t len, uint64_t want_bytes);

/* Byte i of the input stream of seed (any value 0-255). */
uint8_t con_input_byte(uint64_t seed, uint64_t i);

#endif
