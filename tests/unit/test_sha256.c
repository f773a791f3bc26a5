/* test_sha256.c - SHA-256 against the FIPS 180-2 examples (one block, two
 * blocks, one million 'a'), streamed in uneven pieces; and the --shard hash
 * (FNV-1a 64) against its published vectors. */
#include "check.h"
#include "hubpredict/inputs.h"
#include "hubpredict/sha256.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

static const char *hex_of(const void *data, size_t len)
{
	static char hex[2 * HP_SHA256_LEN + 1];
	unsigned char d[HP_SHA256_LEN];
	hp_sha256(data, len, d);
	hp_sha256_hex(d, hex);
	return hex;
}

static void test_vectors(void)
{
	CHECK_STR(hex_of("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_STR(hex_of("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	CHECK_STR(hex_of(two, strlen(two)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* One million 'a', fed in pieces of 1..127 bytes, so every path through
 * the partial block is taken. */
static void test_million(void)
{
	char *a = malloc(1000000);
	if (!a)
		return;
	memset(a, 'a', 1000000);
	CHECK_STR(hex_of(a, 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	struct hp_sha256 s;
	hp_sha256_init(&s);
	size_t off = 0, step = 1;
	while (off < 1000000) {
		size_t n = step < 1000000 - off ? step : 1000000 - off;
		hp_sha256_update(&s, a + off, n);
		off += n;
		step = step % 127 + 1;
	}
	unsigned char d[HP_SHA256_LEN];
	char hex[2 * HP_SHA256_LEN + 1];
	hp_sha256_final(&s, d);
	hp_sha256_hex(d, hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* Lengths around the padding boundary (55, 56, 63, 64 bytes): streamed in
 * single bytes gives the one-shot digest. */
static void test_boundaries(void)
{
	char msg[130];
	memset(msg, 'x', sizeof msg);
	for (size_t len = 50; len < sizeof msg; len++) {
		unsigned char one[HP_SHA256_LEN], two[HP_SHA256_LEN];
		hp_sha256(msg, len, one);
		struct hp_sha256 s;
		hp_sha256_init(&s);
		for (size_t i = 0; i < len; i++)
			hp_sha256_update(&s, msg + i, 1);
		hp_sha256_final(&s, two);
		CHECK(memcmp(one, two, sizeof one) == 0);
	}
}

static void test_fnv(void)
{
	/* the published FNV-1a 64 vectors */
	CHECK(hp_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
	CHECK(hp_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(hp_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
}

/* The CPU's SHA instructions and the portable rounds agree on every length
 * up to 1,100 bytes of pseudo-random data and on 64 KiB in one call. */
static void test_paths_agree(void)
{
	static unsigned char data[65536];
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sizeof data; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		data[i] = (unsigned char)x;
	}
	for (size_t len = 0; len <= sizeof data; len = len < 1100 ? len + 1 : sizeof data) {
		unsigned char hw[HP_SHA256_LEN], sw[HP_SHA256_LEN];
		hp_sha256_use_hardware(true);
		hp_sha256(data, len, hw);
		hp_sha256_use_hardware(false);
		hp_sha256(data, len, sw);
		CHECK(memcmp(hw, sw, sizeof hw) == 0);
		if (len == sizeof data)
			break;
	}
}

int main(void)
{
	/* every vector through the portable code, then through the CPU's
	 * instructions when it has them */
	for (int hw = 0; hw < 2; hw++) {
		if (hp_sha256_use_hardware(hw) != hw) {
			printf("sha256: this CPU has no SHA instructions: the portable code only\n");
			break;
		}
		test_vectors();
		test_million();
		test_boundaries();
	}
	test_paths_agree();
	test_fnv();
	return check_report("sha256");
}
