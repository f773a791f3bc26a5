/* upload.h - one input opened for sending: a regular, non-empty file.
 *
 * The file is read with pread() from its descriptor by libcurl's mime read
 * callback, so memory does not grow with its size and every attempt sends the
 * same bytes. Standard input is first spooled to an unlinked temporary file.
 */
#ifndef HUBPREDICT_UPLOAD_H
#define HUBPREDICT_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hp_upload {
	char *source;           /* owned: a URL input (Platform's `source` field), or NULL */
	int fd;                 /* -1 when closed (and for a URL input) */
	off_t size;
	char *filename;         /* owned: the multipart filename (base name) */
	const char *mime_type;  /* static: from the extension or the first bytes */
};

#define HP_UPLOAD_INIT { .fd = -1 }

/* --max-upload (hubpredict(1), "Safety of what is written and read"): standard input is spooled up to stdin_max bytes
 * (0 = no limit); files larger than file_max are refused before sending (0 =
 * no limit: the server answers 413). `shown` is the value as the user wrote
 * it, for messages. */
struct hp_upload_limits {
	long long stdin_max;
	long long file_max;
	const char *shown;
};

/* Open path ("-" = standard input) and check it: exists, readable, a regular
 * file (not a directory, FIFO or device), not empty, within the limits (NULL
 * = none). Returns 0, or HP_EXIT_INPUT with a message in err naming the file.
 * An http:// or https:// INPUT is taken as a URL for the server to fetch
 * when urls_ok (Platform), else it is HP_EXIT_USAGE. A signal while standard
 * input is spooled returns its exit status (129, 130, 143) at once, the spool
 * gone. */
int hp_upload_open(struct hp_upload *up, const char *path, bool urls_ok, const struct hp_upload_limits *lim,
                   char *err, size_t errlen);

/* Produced bytes (source.h): fd (taken over: closed on failure too), size
 * bytes, under the display name `name` (the multipart filename is its last
 * '/'-part; the type is its extension's). Checked as a file is: not empty,
 * within lim's file_max. Returns 0, or HP_EXIT_INPUT with a message in err
 * naming it. */
int hp_upload_from_fd(struct hp_upload *up, int fd, long long size, const char *name,
                      const struct hp_upload_limits *lim, char *err, size_t errlen);

void hp_upload_close(struct hp_upload *up);

/* hp_mime_type_for, hp_is_url_input: media.h */
#include "hubpredict/media.h"

/* "a JPEG image", "an MP4 video", ... when the first n bytes of a file are
 * those of an image or video format the API takes, else NULL (static). */
const char *hp_media_kind(const unsigned char *b, size_t n);

#endif
