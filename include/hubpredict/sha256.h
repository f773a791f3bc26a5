/* sha256.h - SHA-256 (FIPS 180-4), streamed: the --cache key and the
 * cache entry's check. No allocation; a context lives on the caller's stack. */
#ifndef HUBPREDICT_SHA256_H
#define HUBPREDICT_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_SHA256_LEN 32

struct hp_sha256 {
	uint32_t h[8];
	uint64_t bytes;          /* message length so far */
	unsigned char buf[64];   /* a partial block */
	size_t n;                /* bytes in buf */
};

void hp_sha256_init(struct hp_sha256 *s);
void hp_sha256_update(struct hp_sha256 *s, const void *data, size_t len);
/* The digest into out; s must be initialised again before reuse. */
void hp_sha256_final(struct hp_sha256 *s, unsigned char out[HP_SHA256_LEN]);
/* One call: the digest of data. */
void hp_sha256(const void *data, size_t len, unsigned char out[HP_SHA256_LEN]);
/* Use the CPU's SHA instructions when it has them (the default, chosen on
 * first use) or, with false, the portable code; true when the instructions
 * are in use. Not thread-safe; for the unit test, which checks both. */
bool hp_sha256_use_hardware(bool on);
/* The digest as 64 lower-case hex digits and a NUL into hex. */
void hp_sha256_hex(const unsigned char d[HP_SHA256_LEN], char hex[2 * HP_SHA256_LEN + 1]);

#endif
