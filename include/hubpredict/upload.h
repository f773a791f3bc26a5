/* upload.h - one input opened for sending: a regular, non-empty file.
 *
 * The file is read with pread() from its descriptor by libcurl's mime read
 * callback, so memory does not grow with its size and every attempt sends the
 * same bytes. Standard input is first spooled to an unlinked temporary file.
 */
#ifndef HUBPREDICT_UPLOAD_H
#define HUBPREDICT_UPLOAD_H

#include <stddef.h>
#include <sys/types.h>

struct hp_upload {
	int fd;                 /* -1 when closed */
	off_t size;
	char *filename;         /* owned: the multipart filename (base name) */
	const char *mime_type;  /* static: from the extension or the first bytes */
};

#define HP_UPLOAD_INIT { .fd = -1 }

/* Open path ("-" = standard input) and check it: exists, readable, a regular
 * file (not a directory, FIFO or device), not empty. Returns 0, or
 * HP_EXIT_INPUT with a message in err naming the file. */
int hp_upload_open(struct hp_upload *up, const char *path, char *err, size_t errlen);

void hp_upload_close(struct hp_upload *up);

/* MIME type for a file name by extension, "application/octet-stream" when unknown. */
const char *hp_mime_type_for(const char *name);

#endif
