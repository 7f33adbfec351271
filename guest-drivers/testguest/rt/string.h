/* string.h: the memory and string helpers of the runtime (no libc here). */
#ifndef TG_STRING_H
#define TG_STRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* True if s starts with prefix. */
bool str_starts(const char *s, const char *prefix);

/*
 * Parses an unsigned number (decimal, or hex after 0x) at s into *out.
 * Returns the first character after it, or NULL for no digits or overflow.
 */
const char *str_to_u64(const char *s, uint64_t *out);

#endif
