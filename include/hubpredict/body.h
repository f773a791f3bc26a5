/* body.h - a response body as it arrives: in memory, or spilled to a
 * temporary file beyond a threshold (raw output), with a hard size limit. */
#ifndef HUBPREDICT_BODY_H
#define HUBPREDICT_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HP_BODY_MAX ((size_t)512 * 1024 * 1024)   /* 512 MiB: larger is refused */

struct hp_output;

struct hp_body {
	char *data;          /* first bytes (all of them unless spilled), NUL-terminated */
	size_t len;          /* bytes in data */
	size_t cap;
	size_t total;        /* bytes received in all */
	size_t mem_limit;    /* beyond this, spill (if allowed) */
	size_t max_total;    /* beyond this, refuse (0 = no limit) */
	bool spill_ok;
	FILE *spill;         /* unlinked temporary file holding bytes after data */
	bool too_big;        /* max_total was exceeded */
	int error;           /* errno of a failed spill write */
};

void hp_body_init(struct hp_body *b, size_t mem_limit, size_t max_total, bool spill_ok);
/* Append; returns 0, or -1 when the limit is exceeded or a spill write failed. */
int hp_body_append(struct hp_body *b, const void *p, size_t n);
/* Forget what was received (before a retry); keeps the settings. */
void hp_body_reset(struct hp_body *b);
/* Bring the spilled part back into data (total bytes, NUL-terminated) and
 * close the spill file, for a writer that needs the whole body at once (a
 * JSON envelope of a raw answer, --resume). 0, or -1 with error set. */
int hp_body_gather(struct hp_body *b);
/* Write the whole body to out. */
void hp_body_write_to(struct hp_body *b, struct hp_output *out);
void hp_body_free(struct hp_body *b);

#endif
