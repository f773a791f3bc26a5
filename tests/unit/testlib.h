/* testlib.h - what several unit tests need: the documented response bodies
 * (tests/fixtures, copies of shared/fixtures) and literal documents decoded,
 * an output into memory, and argv parsed from a list. Include after
 * check.h; main sets fixtures_dir from its argument. */
#ifndef HP_TESTLIB_H
#define HP_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hubpredict/options.h"
#include "hubpredict/output.h"
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

/* An output into a static buffer: mem_out(), write, then mem_done() gives the text. */
static char mem[16384];
static inline struct hp_output mem_out(void)
{
	struct hp_output o = { 0 };
	memset(mem, 0, sizeof mem);
	o.fp = fmemopen(mem, sizeof mem - 1, "w");
	return o;
}
static inline const char *mem_done(struct hp_output *o)
{
	fclose(o->fp);
	return mem;
}

/* Parse "hubpredict" + args (NULL-terminated) into *o, which starts afresh. */
static inline enum hp_parse_result parse_argv(struct hp_options *o, char *err, size_t errlen,
                                              const char *const *args)
{
	static char *argv[32];
	static char store[32][128];
	int argc = 0;
	snprintf(store[argc], sizeof store[argc], "hubpredict");
	argv[argc] = store[argc];
	for (argc = 1; args[argc - 1] && argc < 31; argc++) {
		snprintf(store[argc], sizeof store[argc], "%s", args[argc - 1]);
		argv[argc] = store[argc];
	}
	argv[argc] = NULL;
	*o = (struct hp_options)HP_OPTIONS_INIT;
	return hp_options_parse(o, argc, argv, err, errlen);
}

#endif
