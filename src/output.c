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

int hp_output_open(struct hp_output *out, const char *path, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->path = path;
	if (!path) {
		out->fp = stdout;
		out->is_tty = isatty(STDOUT_FILENO) == 1;
		return 0;
	}
	/* The temporary file lives beside FILE so the final rename is atomic. */
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = slash ? slash + 1 : path;
	if (*base == '\0') {
		snprintf(err, errlen, "cannot write '%s': is a directory", path);
		return -1;
	}
	size_t n = dirlen + strlen(base) + 32;
	out->tmp_path = malloc(n);
	if (!out->tmp_path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(out->tmp_path, n, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
	int fd = mkstemp(out->tmp_path);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		free(out->tmp_path);
		out->tmp_path = NULL;
		return -1;
	}
	/* Keep the permissions a plain create would have given (mkstemp uses 0600). */
	mode_t um = umask(0);
	umask(um);
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		fchmod(fd, st.st_mode & 07777);
	else
		fchmod(fd, 0666 & ~um);
	out->fp = fdopen(fd, "w");
	if (!out->fp) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(out->tmp_path);
		free(out->tmp_path);
		out->tmp_path = NULL;
		return -1;
	}
	return 0;
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
	if (!out->error && fsync(fileno(out->fp)) != 0 && errno != EINVAL)
		note_error(out, errno);
	if (fclose(out->fp) != 0)
		note_error(out, errno);
	out->fp = NULL;
	if (!out->error && rename(out->tmp_path, out->path) != 0)
		note_error(out, errno);
	if (out->error) {
		snprintf(err, errlen, "cannot write '%s': %s", name, strerror(out->error));
		unlink(out->tmp_path);
		free(out->tmp_path);
		out->tmp_path = NULL;
		return -1;
	}
	free(out->tmp_path);
	out->tmp_path = NULL;
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
