/* output.h - where results go: stdout, or a file written atomically. This is
 * the one writer of every file hubpredict writes (-o, --junit, label files),
 * so all of them follow the same rules (hubpredict(1), "Safety of what is written and read"):
 *
 * - a new or existing regular FILE: results go to a temporary file in FILE's
 *   directory, which hp_output_commit() renames over FILE; a failed run
 *   removes it, so FILE is either untouched or complete;
 * - a symbolic link is followed to its end and the target replaced that way
 *   (the link stays a link);
 * - a character device, FIFO or socket is opened and written in place (as
 *   curl -o /dev/null does): a rename would put a regular file there;
 * - a directory is refused (hp_output_probe() says so before anything is
 *   sent; callers make it exit 2).
 *
 * Write errors are sticky: the first one is kept (errno) and later writes do
 * nothing, so callers check once.
 */
#ifndef HUBPREDICT_OUTPUT_H
#define HUBPREDICT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

struct hp_output {
	FILE *fp;
	const char *path;   /* -o FILE, or NULL for stdout */
	char *tmp_path;     /* owned: the temporary file, while open */
	char *target;       /* owned: path with symbolic links followed, while open */
	bool direct;        /* a device, FIFO or socket written in place */
	int error;          /* first errno from a write, 0 if none */
	bool is_tty;        /* stdout is a terminal */
	bool broken_pipe;   /* stdout's reader went away (EPIPE) */
};

/* What hp_output_probe() found at a path. */
enum hp_output_kind {
	HP_OUTPUT_NEW = 0,      /* nothing there (yet) */
	HP_OUTPUT_REGULAR,      /* a regular file (perhaps through a link): replaced atomically */
	HP_OUTPUT_SPECIAL,      /* a device, FIFO or socket: written in place */
	HP_OUTPUT_IS_DIR        /* a directory (or a name ending in '/'): refused, err set */
};

/* Look at path without changing anything: its kind, and in *st (for the
 * kinds that exist) what stat() says, to compare with the inputs by device
 * and inode. For HP_OUTPUT_IS_DIR, err holds "'PATH' is a directory". */
int hp_output_probe(const char *path, struct stat *st, char *err, size_t errlen);

/* Open stdout (path NULL), a device/FIFO/socket in place, or a temporary
 * file beside path (beside a link's target). Returns 0, or -1 with a
 * message in err (exit 11) and errno set. */
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
 * stdout, or close a device). Returns 0, or -1 with a message in err
 * (exit 11) and errno set. */
int hp_output_commit(struct hp_output *out, char *err, size_t errlen);

/* The whole of data into path by the rules above (open, write, commit).
 * 0, or -1 with a message in err and errno set. */
int hp_output_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Give up: remove the temporary file. NULL-safe, idempotent. */
void hp_output_abort(struct hp_output *out);

/* An unlinked temporary file in $TMPDIR (else /tmp), open for reading and
 * writing: gone when closed, whatever happens. -1 with errno on failure. */
int hp_temp_fd(const char *prefix);

/* True when the paths a and b name the same file: the same text, the same
 * existing file, or the same name in the same (existing) directory. */
bool hp_output_same_file(const char *a, const char *b);

#endif
