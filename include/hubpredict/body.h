/* body.h - a response body as it arrives: in memory, or spilled to a
 * temporary file beyond a threshold, with a hard size limit (--max-answer).
 * A raw body keeps its first bytes in memory and the rest in the file; a body
 * that is parsed goes to the file whole once it passes its threshold, and is
 * then mapped (hp_body_map) rather than read back into memory.
 *
 * Ownership: the body owns data (malloc'ed, or a private mapping when
 * `mapped`) and the spill file; hp_body_free releases both. */
#ifndef HUBPREDICT_BODY_H
#define HUBPREDICT_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HP_BODY_MAX ((size_t)512 * 1024 * 1024)   /* 512 MiB: the largest --cache entry */
#define HP_BODY_MEM ((size_t)8 * 1024 * 1024)     /* a parsed body past 8 MiB goes to a file */

struct hp_output;

struct hp_body {
	char *data;          /* first bytes (all of them unless spilled), NUL-terminated */
	size_t len;          /* bytes in data */
	size_t cap;
	size_t total;        /* bytes received in all */
	size_t mem_limit;    /* beyond this, spill (if allowed) */
	size_t keep_limit;   /* mem_limit as set (a whole body's is 0 once spilled) */
	size_t max_total;    /* beyond this, refuse (0 = no limit) */
	bool spill_ok;
	bool whole;          /* on spilling, move data into the file too (parsed bodies) */
	bool mapped;         /* data is a mapping of the spill file (hp_body_map) */
	size_t released;     /* of a mapping: bytes before this were let go (hp_body_release) */
	size_t *cuts;        /* of a mapping: offsets outside any string, ascending, where the
	                        document may be written in pieces (owned; NULL = none) */
	size_t n_cuts;
	FILE *spill;         /* unlinked temporary file holding bytes after data */
	bool too_big;        /* max_total was exceeded */
	int error;           /* errno of a failed spill write */
};

void hp_body_init(struct hp_body *b, size_t mem_limit, size_t max_total, bool spill_ok);
/* A body that is parsed: in memory up to mem_limit, then wholly in the file. */
void hp_body_init_whole(struct hp_body *b, size_t mem_limit, size_t max_total);
/* A whole spilled body mapped (shared with its unlinked file, writable:
 * masking a key writes the file) as data, len = total, NUL-terminated; a body
 * in memory is left as it is. 0, or -1 with error set (nothing changed). */
int hp_body_map(struct hp_body *b);
/* A mapping's bytes before upto will not be needed soon: their pages leave
 * this process's memory (read again from the file if they are). */
void hp_body_release(struct hp_body *b, size_t upto);
/* The body as minified JSON (hp_json_write_minified; it must be JSON), a
 * mapping piece by piece at its cuts, each piece's pages let go after it. */
void hp_body_write_json(struct hp_body *b, struct hp_output *out);
/* Replace the body's bytes with data (malloc'ed, NUL-terminated, len bytes;
 * the body takes it), unmapping or freeing what it held: --resize's mapped
 * document. */
void hp_body_adopt(struct hp_body *b, char *data, size_t len);
/* Make b (not initialised: whatever it held is not freed) a whole body
 * holding what was written to f (an unlinked temporary file, hp_temp_fd),
 * mapped, with cuts as hp_body's (ascending offsets, may be NULL): b takes
 * f and cuts, also on failure. 0, or -1 with error set (b then freed by
 * hp_body_free as usual). --resize's mapped document of a big answer. */
int hp_body_from_file(struct hp_body *b, FILE *f, size_t *cuts, size_t n_cuts);
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
