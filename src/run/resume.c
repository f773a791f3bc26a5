/* resume.c - --resume LOG: what earlier runs answered, and the log of this
 * one (resume.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/resume.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/render.h"
#include "hubpredict/sha256.h"
#include "hubpredict/stamp.h"
#include "hubpredict/text.h"
#include "hubpredict/upload.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hp_resume {
	uint64_t *slots;           /* open addressing; 0 = empty */
	size_t cap, n;             /* cap a power of two */
	size_t lines;
	bool repaired;
	bool sync;                 /* fsync after each line */
	bool failed;
	int fd;
	struct hp_output out;      /* LOG, appended to */
	struct hp_renderer *jsonl;
	const char *path;
};

/* 64 bits of SHA-256 over file NUL size NUL mtime (never 0). */
static uint64_t triple(const char *file, size_t flen, const char *size, const char *mtime)
{
	struct hp_sha256 s;
	unsigned char d[HP_SHA256_LEN];
	hp_sha256_init(&s);
	hp_sha256_update(&s, file, flen);
	hp_sha256_update(&s, "", 1);
	hp_sha256_update(&s, size, strlen(size) + 1);
	hp_sha256_update(&s, mtime, strlen(mtime));
	hp_sha256_final(&s, d);
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | d[i];
	return h ? h : 1;
}

static int set_add(struct hp_resume *r, uint64_t h)
{
	if ((r->n + 1) * 2 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		uint64_t *s = calloc(cap, sizeof *s);
		if (!s)
			return -1;
		for (size_t i = 0; i < r->cap; i++) {
			if (!r->slots[i])
				continue;
			size_t k = (size_t)(r->slots[i] & (cap - 1));
			while (s[k])
				k = (k + 1) & (cap - 1);
			s[k] = r->slots[i];
		}
		free(r->slots);
		r->slots = s;
		r->cap = cap;
	}
	size_t k = (size_t)(h & (r->cap - 1));
	while (r->slots[k] && r->slots[k] != h)
		k = (k + 1) & (r->cap - 1);
	if (!r->slots[k]) {
		r->slots[k] = h;
		r->n++;
	}
	return 0;
}

static bool set_has(const struct hp_resume *r, uint64_t h)
{
	if (!r->cap)
		return false;
	size_t k = (size_t)(h & (r->cap - 1));
	while (r->slots[k]) {
		if (r->slots[k] == h)
			return true;
		k = (k + 1) & (r->cap - 1);
	}
	return false;
}

/* One line of LOG: a success adds its triple. Only the envelope's head is
 * parsed: a success is the envelope with "response", which comes last, and
 * `,"response":` cannot occur inside a JSON string (its quotes would be
 * escaped), so the head ends there. 0, or -1 when out of memory. */
static int take_line(struct hp_resume *r, char *line, size_t len)
{
	char *resp = strstr(line, ",\"response\":");
	if (!resp || (size_t)(resp - line) + 2 > len)
		return 0;
	resp[0] = '}';
	cJSON *doc = cJSON_ParseWithLength(line, (size_t)(resp - line) + 1);
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(doc, "file");
	const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(doc, "file_bytes");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(doc, "size");
	const cJSON *mtime = cJSON_GetObjectItemCaseSensitive(doc, "mtime");
	int rc = 0;
	if (cJSON_IsString(file)) {
		char sz[32] = "", *name = file->valuestring;
		long nl = (long)strlen(name);
		char *raw = NULL;
		if (cJSON_IsString(bytes) && (raw = malloc(strlen(bytes->valuestring) + 4)) != NULL &&
		    (nl = hp_base64_decode(raw, bytes->valuestring, strlen(bytes->valuestring))) >= 0)
			name = raw;
		else
			nl = (long)strlen(name);
		if (cJSON_IsNumber(size))
			snprintf(sz, sizeof sz, "%.0f", size->valuedouble);
		rc = set_add(r, triple(name, (size_t)nl, sz, cJSON_IsString(mtime) ? mtime->valuestring : ""));
		free(raw);
	}
	cJSON_Delete(doc);
	return rc;
}

/* Read every line; cut a torn last one. 0, or -1 with errno set. */
static int read_log(struct hp_resume *r)
{
	int dup_fd = dup(r->fd);
	FILE *f = dup_fd >= 0 ? fdopen(dup_fd, "r") : NULL;
	if (!f) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	off_t good = 0;
	int rc = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n')
			break; /* torn: cut below */
		good += len;
		r->lines++;
		if (take_line(r, line, (size_t)len) < 0) {
			errno = ENOMEM;
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = -1;
	free(line);
	fclose(f);
	struct stat st;
	if (rc == 0 && fstat(r->fd, &st) == 0 && st.st_size > good) {
		if (ftruncate(r->fd, good) != 0)
			return -1;
		r->repaired = true;
	}
	return rc;
}

int hp_resume_new(struct hp_resume **out, const char *path, bool sync, char *err, size_t errlen)
{
	struct hp_resume *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NETWORK;
	}
	r->path = path;
	r->sync = sync;
	r->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	struct stat st;
	int status = 0;
	if (r->fd < 0 || fstat(r->fd, &st) != 0) {
		snprintf(err, errlen, "--resume: cannot open '%s': %s", path, strerror(errno));
		status = errno == EISDIR ? HP_EXIT_USAGE : HP_EXIT_OUTPUT;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--resume: '%s' is not a regular file", path);
		status = HP_EXIT_USAGE;
	} else if (read_log(r) < 0) {
		snprintf(err, errlen, "--resume: cannot read '%s': %s", path, strerror(errno));
		status = HP_EXIT_OUTPUT;
	} else if (!(r->out.fp = fdopen(r->fd, "a"))) {
		snprintf(err, errlen, "--resume: '%s': %s", path, strerror(errno));
		status = HP_EXIT_OUTPUT;
	} else {
		r->fd = -1; /* the stream owns it */
		r->out.path = path;
		r->out.direct = true;
		struct hp_render_opts ro = { .format = HP_FORMAT_JSONL };
		if (!(r->jsonl = hp_renderer_new(&ro, &r->out))) {
			snprintf(err, errlen, "out of memory");
			status = HP_EXIT_NETWORK;
		}
	}
	if (status) {
		hp_resume_free(r);
		return status;
	}
	*out = r;
	return 0;
}

void hp_resume_free(struct hp_resume *r)
{
	if (!r)
		return;
	hp_renderer_free(r->jsonl);
	if (r->out.fp)
		fclose(r->out.fp);
	else if (r->fd >= 0)
		close(r->fd);
	free(r->slots);
	free(r);
}

void hp_resume_counts(const struct hp_resume *r, size_t *lines, size_t *done, bool *repaired)
{
	*lines = r->lines;
	*done = r->n;
	*repaired = r->repaired;
}

bool hp_resume_done(const struct hp_resume *r, const char *path, const struct stat *known)
{
	if (strcmp(path, "-") == 0 || r->n == 0)
		return false;
	if (hp_is_url_input(path))
		return set_has(r, triple(path, strlen(path), "", ""));
	struct stat st;
	if (known)
		st = *known;
	else if (stat(path, &st) != 0)
		return false;
	char sz[32], stamp[HP_STAMP_LEN];
	snprintf(sz, sizeof sz, "%lld", (long long)st.st_size);
	hp_stamp_format(&st.st_mtim, stamp);
	return set_has(r, triple(path, strlen(path), sz, stamp));
}

void hp_resume_item(void *state, const struct hp_item *it)
{
	struct hp_resume *r = state;
	if (r->failed)
		return;
	hp_renderer_item(r->jsonl, it); /* one line, flushed */
	/* fsync only what a request paid for: a line lost with the machine's
	 * power is then sent again, while one from the cache (or an input that
	 * failed before sending) costs nothing to redo */
	if (hp_output_ok(&r->out) && r->sync && it->attempts > 0 && fsync(fileno(r->out.fp)) != 0 && errno != EINVAL)
		r->out.error = errno;
	if (!hp_output_ok(&r->out)) {
		r->failed = true;
		hp_msg_error("--resume: cannot append to '%s': %s", r->path, strerror(r->out.error));
	}
}

bool hp_resume_failed(const struct hp_resume *r)
{
	return r && r->failed;
}
