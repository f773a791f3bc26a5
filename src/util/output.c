/* output.c - stdout or an atomically written -o file, with sticky errors. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "hubpredict/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void note_error(struct hp_output *out, int err)
{
	if (out->error == 0)
		out->error = err ? err : EIO;
	if (err == EPIPE && !out->path)
		out->broken_pipe = true;
}

/* Where a write to path really goes: path itself, or, for a symbolic link,
 * the file it points to (followed to the end, even when that file does not
 * exist yet), so the rename replaces the target and the link stays. Caller
 * frees; NULL with errno set. */
static char *follow_links(const char *path)
{
	char *cur = strdup(path);
	for (int hops = 0; cur && hops < 40; hops++) {
		struct stat st;
		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
			return cur;
		char target[4096];
		ssize_t n = readlink(cur, target, sizeof target - 1);
		if (n < 0) {
			free(cur);
			return NULL;
		}
		target[n] = '\0';
		char *next;
		const char *slash = strrchr(cur, '/');
		if (target[0] == '/' || !slash) {
			next = strdup(target);
		} else {
			size_t dl = (size_t)(slash - cur) + 1, tl = (size_t)n;
			next = malloc(dl + tl + 1);
			if (next) {
				memcpy(next, cur, dl);
				memcpy(next + dl, target, tl + 1);
			}
		}
		free(cur);
		cur = next;
	}
	if (cur) {
		free(cur);
		errno = ELOOP;
	}
	return NULL;
}

int hp_output_probe(const char *path, struct stat *st, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	if (*(slash ? slash + 1 : path) == '\0' || (stat(path, st) == 0 && S_ISDIR(st->st_mode))) {
		snprintf(err, errlen, "'%s' is a directory", path);
		return HP_OUTPUT_IS_DIR;
	}
	if (stat(path, st) != 0)
		return HP_OUTPUT_NEW;
	return S_ISREG(st->st_mode) ? HP_OUTPUT_REGULAR : HP_OUTPUT_SPECIAL;
}

/* hp_output_open() could not make its temporary file: the message, the
 * paths freed, errno = e. Always -1. */
static int open_failed(struct hp_output *out, const char *path, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot write '%s': %s", path, strerror(e));
	free(out->tmp_path);
	out->tmp_path = NULL;
	free(out->target);
	out->target = NULL;
	errno = e;
	return -1;
}

int hp_output_open(struct hp_output *out, const char *path, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->path = path;
	if (!path) {
		out->fp = stdout;
		out->is_tty = isatty(STDOUT_FILENO) == 1;
		return 0;
	}
	struct stat st;
	int e;
	switch (hp_output_probe(path, &st, err, errlen)) {
	case HP_OUTPUT_IS_DIR:
		snprintf(err, errlen, "cannot write '%s': is a directory", path);
		errno = EISDIR;
		return -1;
	case HP_OUTPUT_SPECIAL: {
		/* a device, FIFO or socket: written in place, as curl -o /dev/null
		 * does (a rename would put a regular file where it was) */
		int dfd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (dfd < 0 || !(out->fp = fdopen(dfd, "w"))) {
			e = errno;
			snprintf(err, errlen, "cannot write '%s': %s", path, strerror(e));
			if (dfd >= 0)
				close(dfd);
			errno = e;
			return -1;
		}
		out->direct = true;
		out->is_tty = isatty(dfd) == 1;
		return 0;
	}
	default:
		break;
	}
	/* A symbolic link is followed: its target is replaced, the link kept. */
	if (!(out->target = follow_links(path))) {
		e = errno;
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(e));
		errno = e;
		return -1;
	}
	/* The temporary file lives beside the target so the final rename is atomic. */
	const char *tpath = out->target;
	const char *slash = strrchr(tpath, '/');
	size_t dirlen = slash ? (size_t)(slash - tpath) + 1 : 0;
	const char *base = slash ? slash + 1 : tpath;
	size_t n = dirlen + strlen(base) + 32;
	out->tmp_path = malloc(n);
	if (!out->tmp_path) {
		snprintf(err, errlen, "out of memory");
		free(out->target);
		out->target = NULL;
		errno = ENOMEM;
		return -1;
	}
	snprintf(out->tmp_path, n, "%.*s.%s.XXXXXX", (int)dirlen, tpath, base);
	int fd = mkstemp(out->tmp_path);
	if (fd < 0)
		return open_failed(out, path, errno, err, errlen);
	/* Keep the permissions a plain create would have given (mkstemp uses 0600). */
	mode_t um = umask(0);
	umask(um);
	if (stat(tpath, &st) == 0 && S_ISREG(st.st_mode))
		fchmod(fd, st.st_mode & 07777);
	else
		fchmod(fd, 0666 & ~um);
	out->fp = fdopen(fd, "w");
	if (!out->fp) {
		e = errno;
		close(fd);
		unlink(out->tmp_path);
		return open_failed(out, path, e, err, errlen);
	}
	return 0;
}

int hp_output_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	struct hp_output out;
	if (hp_output_open(&out, path, err, errlen) < 0)
		return -1;
	hp_out_write(&out, data, len);
	return hp_output_commit(&out, err, errlen);
}

void hp_out_write(struct hp_output *out, const void *buf, size_t n)
{
	if (out->error || n == 0)
		return;
	if (fwrite(buf, 1, n, out->fp) != n)
		note_error(out, errno);
}

void hp_out_puts(struct hp_output *out, const char *s)
{
	hp_out_write(out, s, strlen(s));
}

void hp_out_printf(struct hp_output *out, const char *fmt, ...)
{
	if (out->error)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vfprintf(out->fp, fmt, ap) < 0)
		note_error(out, errno);
	va_end(ap);
}

void hp_out_flush(struct hp_output *out)
{
	if (out->error)
		return;
	if (fflush(out->fp) != 0)
		note_error(out, errno);
}

bool hp_output_ok(const struct hp_output *out)
{
	return out->error == 0;
}

int hp_output_commit(struct hp_output *out, char *err, size_t errlen)
{
	const char *name = out->path ? out->path : "standard output";
	hp_out_flush(out);
	if (!out->path) {
		if (out->error) {
			snprintf(err, errlen, "cannot write to %s: %s", name, strerror(out->error));
			return -1;
		}
		return 0;
	}
	if (!out->fp)
		return 0;
	if (!out->direct && !out->error && fsync(fileno(out->fp)) != 0 && errno != EINVAL)
		note_error(out, errno);
	if (fclose(out->fp) != 0)
		note_error(out, errno);
	out->fp = NULL;
	if (!out->direct && !out->error && rename(out->tmp_path, out->target) != 0)
		note_error(out, errno);
	if (out->tmp_path && out->error)
		unlink(out->tmp_path);
	free(out->tmp_path);
	out->tmp_path = NULL;
	free(out->target);
	out->target = NULL;
	if (out->error) {
		snprintf(err, errlen, "cannot write '%s': %s", name, strerror(out->error));
		errno = out->error;
		return -1;
	}
	return 0;
}

int hp_temp_fd(const char *prefix)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.XXXXXX", dir && *dir ? dir : "/tmp", prefix);
	int fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

void hp_output_abort(struct hp_output *out)
{
	if (!out || !out->path)
		return;
	if (out->fp) {
		fclose(out->fp);
		out->fp = NULL;
	}
	if (out->tmp_path) {
		unlink(out->tmp_path);
		free(out->tmp_path);
		out->tmp_path = NULL;
	}
	free(out->target);
	out->target = NULL;
}

/* The directory part of path resolved by realpath, plus "/" and its last
 * component; NULL when the directory does not exist (caller frees). */
static char *resolved(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
	if (!dir)
		return NULL;
	char *real = realpath(dir, NULL);
	free(dir);
	if (!real)
		return NULL;
	size_t n = strlen(real) + strlen(base) + 2;
	char *full = malloc(n);
	if (full)
		snprintf(full, n, "%s/%s", real, base);
	free(real);
	return full;
}

bool hp_output_same_file(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return true;
	struct stat sa, sb;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	char *ra = resolved(a), *rb = resolved(b);
	bool same = ra && rb && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}
