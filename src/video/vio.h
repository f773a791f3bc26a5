/* vio.h - FFmpeg's I/O on an open file or on bytes in memory, never on a
 * name: libavformat opens nothing by itself (playlists, concat lists and
 * external references would read files and URLs nobody named). Private to
 * src/video/.
 */
#ifndef HP_VIDEO_VIO_H
#define HP_VIDEO_VIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct AVIOContext;

struct hp_vio {
	int fd;                      /* -1 for memory */
	int seekable;                /* fd: pread works */
	const unsigned char *data;   /* memory: borrowed */
	int64_t size;                /* -1 unknown (a pipe) */
	int64_t pos;
};

/* An AVIOContext reading io (borrowed: outlives the context). NULL when
 * out of memory. Freed by hp_vio_close. */
struct AVIOContext *hp_vio_open_fd(struct hp_vio *io, int fd);
struct AVIOContext *hp_vio_open_mem(struct hp_vio *io, const unsigned char *data, size_t n);

/* Release the context and its buffer; NULL-safe, sets *pb to NULL. */
void hp_vio_close(struct AVIOContext **pb);

#endif
