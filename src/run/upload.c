/* upload.c - open and check one input; spool standard input to a file. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/upload.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/media.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the first bytes of a file say it is: the name standard input gets
 * in the form, and the kind shown in messages. */
struct media_magic {
	size_t at, len;
	const char *magic;
	const char *stdin_name, *kind;
};
static const struct media_magic media_magics[] = {
	{ 0, 3, "\xFF\xD8\xFF", "stdin.jpg", "a JPEG image" },
	{ 0, 8, "\x89PNG\r\n\x1a\n", "stdin.png", "a PNG image" },
	{ 0, 6, "GIF87a", "stdin.gif", "a GIF image" },
	{ 0, 6, "GIF89a", "stdin.gif", "a GIF image" },
	{ 8, 4, "WEBP", "stdin.webp", "a WebP image" },
	{ 0, 4, "II*\0", "stdin.tif", "a TIFF image" },
	{ 0, 4, "MM\0*", "stdin.tif", "a TIFF image" },
	{ 4, 8, "ftypqt  ", "stdin.mov", "a QuickTime video" },
	{ 4, 4, "ftyp", "stdin.mp4", "an MP4 video" },
	{ 0, 4, "\x1a\x45\xdf\xa3", "stdin.mkv", "a Matroska/WebM video" },
	{ 0, 2, "BM", "stdin.bmp", "a BMP image" },
};

static const struct media_magic *sniff(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < sizeof media_magics / sizeof media_magics[0]; i++) {
		const struct media_magic *m = &media_magics[i];
		if (n >= m->at + m->len && memcmp(b + m->at, m->magic, m->len) == 0 &&
		    (m->at != 8 || memcmp(b, "RIFF", 4) == 0))
			return m;
	}
	return NULL;
}

/* A name for bytes from standard input, from their first bytes. */
static const char *sniff_name(const unsigned char *b, size_t n)
{
	const struct media_magic *m = sniff(b, n);
	return m ? m->stdin_name : "stdin";
}

const char *hp_media_kind(const unsigned char *b, size_t n)
{
	const struct media_magic *m = sniff(b, n);
	/* "BM" alone starts many text files: a BMP also has a known DIB header size */
	if (m && m->magic[0] == 'B' && (n < 18 || (b[14] != 12 && b[14] != 40 && b[14] != 52 && b[14] != 56 &&
	                                            b[14] != 108 && b[14] != 124) || b[15] || b[16] || b[17]))
		return NULL;
	return m ? m->kind : NULL;
}

/* Copy standard input into an unlinked temporary file (so it is gone at exit
 * whatever happens), and return its descriptor. */
static int spool_stdin(const struct hp_upload_limits *lim, char *err, size_t errlen, const char **name)
{
	int fd = hp_temp_fd("hubpredict-stdin");
	if (fd < 0) {
		snprintf(err, errlen, "cannot spool standard input to a temporary file: %s", strerror(errno));
		return -1;
	}
	char buf[65536];
	unsigned char head[16];
	size_t total = 0;
	for (;;) {
		/* looked at on every block, not only when a read is interrupted:
		 * endless input (/dev/zero) never blocks */
		ssize_t got = hp_signal_caught() ? -1 : read(STDIN_FILENO, buf, sizeof buf);
		if (hp_signal_caught()) {
			snprintf(err, errlen, "interrupted while reading standard input");
			close(fd);
			return -2;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "cannot read standard input: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		if (lim && lim->stdin_max > 0 && (long long)(total + (size_t)got) > lim->stdin_max) {
			snprintf(err, errlen, "standard input is larger than --max-upload %s (%lld bytes); nothing was sent",
			         lim->shown ? lim->shown : "", lim->stdin_max);
			close(fd);
			return -1;
		}
		if (total < sizeof head)
			memcpy(head + total, buf, (size_t)got < sizeof head - total ? (size_t)got : sizeof head - total);
		for (ssize_t off = 0; off < got;) {
			ssize_t w = write(fd, buf + off, (size_t)(got - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				snprintf(err, errlen, "cannot spool standard input: %s", strerror(errno));
				close(fd);
				return -1;
			}
			off += w;
		}
		total += (size_t)got;
	}
	*name = sniff_name(head, total < sizeof head ? total : sizeof head);
	return fd;
}

int hp_upload_open(struct hp_upload *up, const char *path, bool urls_ok, const struct hp_upload_limits *lim,
                   char *err, size_t errlen)
{
	char q[512];
	const char *name;
	int fd;
	*up = (struct hp_upload)HP_UPLOAD_INIT;
	if (hp_is_url_input(path)) {
		if (!urls_ok) {
			snprintf(err, errlen, "%s: URL inputs need the Platform flavour (--api platform)",
			         hp_msg_quote(q, sizeof q, path));
			return HP_EXIT_USAGE;
		}
		if (!(up->source = strdup(path))) {
			snprintf(err, errlen, "out of memory");
			return HP_EXIT_NOMEM;
		}
		return 0;
	}
	if (strcmp(path, "-") == 0) {
		fd = spool_stdin(lim, err, errlen, &name);
		if (fd == -2)
			return hp_exit_from_signal(hp_signal_caught());
		if (fd < 0)
			return HP_EXIT_INPUT;
	} else {
		/* O_NONBLOCK: opening a FIFO must not wait for a writer */
		fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open %s: %s", hp_msg_quote(q, sizeof q, path), strerror(errno));
			return HP_EXIT_INPUT;
		}
		const char *slash = strrchr(path, '/');
		name = slash ? slash + 1 : path;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", hp_msg_quote(q, sizeof q, path), strerror(errno));
		close(fd);
		return HP_EXIT_INPUT;
	}
	const char *what = NULL;
	if (S_ISDIR(st.st_mode))
		what = "is a directory";
	else if (!S_ISREG(st.st_mode))
		what = "is not a regular file";
	else if (st.st_size == 0)
		what = "is empty";
	char toobig[96];
	if (!what && lim && lim->file_max > 0 && (long long)st.st_size > lim->file_max) {
		snprintf(toobig, sizeof toobig, "is larger than --max-upload %s (%lld bytes)", lim->shown ? lim->shown : "",
		         lim->file_max);
		what = toobig;
	}
	if (what) {
		if (strcmp(path, "-") == 0)
			snprintf(err, errlen, "standard input %s", what);
		else
			snprintf(err, errlen, "%s %s", hp_msg_quote(q, sizeof q, path), what);
		close(fd);
		return HP_EXIT_INPUT;
	}
	/* Readable? A read of one byte catches EACCES-like surprises (EISDIR, EIO) now. */
	char probe;
	if (pread(fd, &probe, 1, 0) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", hp_msg_quote(q, sizeof q, path), strerror(errno));
		close(fd);
		return HP_EXIT_INPUT;
	}
	up->fd = fd;
	up->size = st.st_size;
	up->filename = strdup(name);
	up->mime_type = hp_mime_type_for(name);
	if (!up->filename) {
		snprintf(err, errlen, "out of memory");
		hp_upload_close(up);
		return HP_EXIT_NOMEM;
	}
	return 0;
}

int hp_upload_from_fd(struct hp_upload *up, int fd, long long size, const char *name,
                      const struct hp_upload_limits *lim, char *err, size_t errlen)
{
	char q[512];
	*up = (struct hp_upload)HP_UPLOAD_INIT;
	const char *slash = strrchr(name, '/');
	if (size <= 0)
		snprintf(err, errlen, "%s is empty", hp_msg_quote(q, sizeof q, name));
	else if (lim && lim->file_max > 0 && size > lim->file_max)
		snprintf(err, errlen, "%s is larger than --max-upload %s (%lld bytes)", hp_msg_quote(q, sizeof q, name),
		         lim->shown ? lim->shown : "", lim->file_max);
	else if (!(up->filename = strdup(slash ? slash + 1 : name))) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return HP_EXIT_NOMEM;
	}
	if (!up->filename) {
		close(fd);
		return HP_EXIT_INPUT;
	}
	up->fd = fd;
	up->size = (off_t)size;
	up->mime_type = hp_mime_type_for(up->filename);
	return 0;
}

void hp_upload_close(struct hp_upload *up)
{
	if (up->fd >= 0)
		close(up->fd);
	free(up->filename);
	free(up->source);
	*up = (struct hp_upload)HP_UPLOAD_INIT;
}
