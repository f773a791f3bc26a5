/* vio.c - AVIOContext over an fd (pread, its position left alone) or memory. */
#define _POSIX_C_SOURCE 200809L
#include "vio.h"

#include <errno.h>
#include <libavformat/avio.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUFSIZE 65536

static int read_fd(void *opaque, uint8_t *buf, int len)
{
	struct hp_vio *io = opaque;
	ssize_t got;
	do
		got = io->seekable ? pread(io->fd, buf, (size_t)len, (off_t)io->pos) : read(io->fd, buf, (size_t)len);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return AVERROR(errno);
	if (got == 0)
		return AVERROR_EOF;
	io->pos += got;
	return (int)got;
}

static int read_mem(void *opaque, uint8_t *buf, int len)
{
	struct hp_vio *io = opaque;
	if (io->pos >= io->size)
		return AVERROR_EOF;
	int64_t left = io->size - io->pos;
	int n = left < len ? (int)left : len;
	memcpy(buf, io->data + io->pos, (size_t)n);
	io->pos += n;
	return n;
}

static int64_t seek_io(void *opaque, int64_t offset, int whence)
{
	struct hp_vio *io = opaque;
	int64_t to;
	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return io->size >= 0 ? io->size : AVERROR(ENOSYS);
	case SEEK_SET:
		to = offset;
		break;
	case SEEK_CUR:
		to = io->pos + offset;
		break;
	case SEEK_END:
		if (io->size < 0)
			return AVERROR(ESPIPE);
		to = io->size + offset;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (to < 0 || (io->fd >= 0 && !io->seekable))
		return AVERROR(EINVAL);
	io->pos = to;
	return to;
}

static struct AVIOContext *make(struct hp_vio *io, int (*rd)(void *, uint8_t *, int), int seekable)
{
	unsigned char *buf = av_malloc(BUFSIZE);
	if (!buf)
		return NULL;
	AVIOContext *pb = avio_alloc_context(buf, BUFSIZE, 0, io, rd, NULL, seekable ? seek_io : NULL);
	if (!pb) {
		av_free(buf);
		return NULL;
	}
	pb->seekable = seekable ? AVIO_SEEKABLE_NORMAL : 0;
	return pb;
}

struct AVIOContext *hp_vio_open_fd(struct hp_vio *io, int fd)
{
	struct stat st;
	*io = (struct hp_vio){ .fd = fd, .size = -1 };
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		io->seekable = 1;
		io->size = st.st_size;
	}
	return make(io, read_fd, io->seekable);
}

struct AVIOContext *hp_vio_open_mem(struct hp_vio *io, const unsigned char *data, size_t n)
{
	*io = (struct hp_vio){ .fd = -1, .data = data, .size = (int64_t)n };
	return make(io, read_mem, 1);
}

void hp_vio_close(struct AVIOContext **pb)
{
	if (!*pb)
		return;
	av_freep(&(*pb)->buffer);
	avio_context_free(pb);
}
