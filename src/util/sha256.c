/* sha256.c - SHA-256 per FIPS 180-4, section 6.2 (tested against its
 * examples and the million-'a' message in tests/unit/test_sha256.c).
 *
 * On x86-64 CPUs with the SHA extensions (cpuid leaf 7, EBX bit 29) the
 * blocks go through SHA256RNDS2/MSG1/MSG2, about ten times the speed of the
 * portable rounds below: a --cache hit hashes the whole file, so this is
 * what a hit costs. Both paths are checked against the same vectors. */
#include "hubpredict/sha256.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HP_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block_portable(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64];
	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
		       (uint32_t)p[4 * t + 3];
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = ROTR(w[t - 15], 7) ^ ROTR(w[t - 15], 18) ^ (w[t - 15] >> 3);
		uint32_t s1 = ROTR(w[t - 2], 17) ^ ROTR(w[t - 2], 19) ^ (w[t - 2] >> 10);
		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int t = 0; t < 64; t++) {
		uint32_t t1 = k + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
		uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += k;
}

static void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
	for (; n > 0; n--, p += 64)
		block_portable(h, p);
}

#ifdef HP_SHA_NI
/* The state is kept as ABEF and CDGH for SHA256RNDS2; each group of four
 * rounds adds K to four message words, and the schedule's next four words
 * come from the previous sixteen (W[t-16] + s0(W[t-15]) by MSG1, W[t-7] by
 * the byte shift, s1(W[t-2]) by MSG2). */
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&h[0]), 0xB1);
	__m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&h[4]), 0x1B);
	__m128i st0 = _mm_alignr_epi8(tmp, st1, 8);      /* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xF0);           /* CDGH */
	for (; n > 0; n--, p += 64) {
		__m128i abef = st0, cdgh = st1, m[4];
		for (int j = 0; j < 16; j++) {
			if (j < 4) {
				m[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * j)), swap);
			} else {
				__m128i last = m[(j + 3) & 3];
				__m128i w = _mm_sha256msg1_epu32(m[j & 3], m[(j + 1) & 3]);
				w = _mm_add_epi32(w, _mm_alignr_epi8(last, m[(j + 2) & 3], 4));
				m[j & 3] = _mm_sha256msg2_epu32(w, last);
			}
			__m128i k = _mm_loadu_si128((const __m128i *)(const void *)&K[4 * j]);
			__m128i msg = _mm_add_epi32(m[j & 3], k);
			st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
			st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(msg, 0x0E));
		}
		st0 = _mm_add_epi32(st0, abef);
		st1 = _mm_add_epi32(st1, cdgh);
	}
	tmp = _mm_shuffle_epi32(st0, 0x1B);              /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1);              /* DCHG */
	_mm_storeu_si128((__m128i *)(void *)&h[0], _mm_blend_epi16(tmp, st1, 0xF0)); /* DCBA */
	_mm_storeu_si128((__m128i *)(void *)&h[4], _mm_alignr_epi8(st1, tmp, 8));    /* HGFE */
}

static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
}
#endif

typedef void blocks_fn(uint32_t h[8], const unsigned char *p, size_t n);
static blocks_fn *blocks_impl;

static void blocks(uint32_t h[8], const unsigned char *p, size_t n)
{
	if (!blocks_impl)
		hp_sha256_use_hardware(true);
	blocks_impl(h, p, n);
}

bool hp_sha256_use_hardware(bool on)
{
	blocks_impl = blocks_portable;
#ifdef HP_SHA_NI
	if (on && cpu_has_sha()) {
		blocks_impl = blocks_ni;
		return true;
	}
#endif
	(void)on;
	return false;
}

void hp_sha256_init(struct hp_sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->h, h0, sizeof h0);
	s->bytes = 0;
	s->n = 0;
}

void hp_sha256_update(struct hp_sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	s->bytes += len;
	if (s->n > 0) {
		size_t take = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, take);
		s->n += take;
		p += take;
		len -= take;
		if (s->n < 64)
			return;
		blocks(s->h, s->buf, 1);
		s->n = 0;
	}
	if (len >= 64) {
		blocks(s->h, p, len / 64);
		p += len - len % 64;
		len %= 64;
	}
	memcpy(s->buf, p, len);
	s->n = len;
}

void hp_sha256_final(struct hp_sha256 *s, unsigned char out[HP_SHA256_LEN])
{
	uint64_t bits = s->bytes * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = (s->n < 56 ? 56 : 120) - s->n;
	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	hp_sha256_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}

void hp_sha256(const void *data, size_t len, unsigned char out[HP_SHA256_LEN])
{
	struct hp_sha256 s;
	hp_sha256_init(&s);
	hp_sha256_update(&s, data, len);
	hp_sha256_final(&s, out);
}

void hp_sha256_hex(const unsigned char d[HP_SHA256_LEN], char hex[2 * HP_SHA256_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < HP_SHA256_LEN; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * HP_SHA256_LEN] = '\0';
}
