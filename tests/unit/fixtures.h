/* fixtures.h - the documented response bodies (tests/fixtures, copies of
 * shared/fixtures) and literal documents, decoded for the unit tests.
 * Include after check.h; main sets fixtures_dir from its argument. */
#ifndef HP_FIXTURES_H
#define HP_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hubpredict/response.h"

static const char *fixtures_dir = "tests/fixtures";

/* A fixture's bytes, NUL-terminated (caller frees); exits 2 when missing. */
static inline char *read_fixture(const char *name, size_t *len_out)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", fixtures_dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	char *buf = malloc(1 << 20);
	if (!buf)
		exit(2);
	size_t len = fread(buf, 1, (1 << 20) - 1, f);
	buf[len] = '\0';
	fclose(f);
	if (len_out)
		*len_out = len;
	return buf;
}

/* Decode a document that must decode (a failed CHECK otherwise; may be NULL). */
static inline struct hp_response *decode_text(const char *body)
{
	char err[256];
	struct hp_response *r = NULL;
	int rc = hp_response_decode(&r, body, strlen(body), err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "decode: %s\n", err);
	CHECK(rc == 0);
	return r;
}

static inline struct hp_response *decode_fixture(const char *name)
{
	char *buf = read_fixture(name, NULL);
	struct hp_response *r = decode_text(buf);
	free(buf);
	return r;
}

#endif
