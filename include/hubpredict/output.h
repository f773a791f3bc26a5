/* output.h - where results go: stdout, or a file written atomically.
 *
 * With -o FILE, results are written to a temporary file in FILE's directory,
 * which hp_output_commit() renames over FILE; a failed run removes it, so FILE
 * is either untouched or complete. Write errors are sticky: the first one is
 * kept (errno) and later writes do nothing, so callers check once.
 */
#ifndef HUBPREDICT_OUTPUT_H
#define HUBPREDICT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct hp_output {
	FILE *fp;
	const char *path;   /* -o FILE, or NULL for stdout */
	char *tmp_path;     /* owned: the temporary file, while open */
	int error;          /* first errno from a write, 0 if none */
	bool is_tty;        /* stdout is a terminal */
	bool broken_pipe;   /* stdout's reader went away (EPIPE) */
};

/* Open stdout (path NULL) or a temporary file beside path. Returns 0, or -1
 * with a message in err (exit 11). */
int hp_output_open(struct hp_output *out, const char *path, char *err, size_t errlen);

void hp_out_write(struct hp_output *out, const void *buf, size_t n);
void hp_out_puts(struct hp_output *out, const char *s);
void hp_out_printf(struct hp_output *out, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Flush buffered output (after each finished input). */
void hp_out_flush(struct hp_output *out);

/* True when no write has failed so far. */
bool hp_output_ok(const struct hp_output *out);

/* Finish: flush, sync and rename the temporary file over path (or flush
 * stdout). Returns 0, or -1 with a message in err (exit 11). */
int hp_output_commit(struct hp_output *out, char *err, size_t errlen);

/* Give up: remove the temporary file. NULL-safe, idempotent. */
void hp_output_abort(struct hp_output *out);

/* An unlinked temporary file in $TMPDIR (else /tmp), open for reading and
 * writing: gone when closed, whatever happens. -1 with errno on failure. */
int hp_temp_fd(const char *prefix);

/* True when the paths a and b name the same file: the same text, the same
 * existing file, or the same name in the same (existing) directory. */
bool hp_output_same_file(const char *a, const char *b);

#endif
