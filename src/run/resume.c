/* resume.c - --resume LOG: what earlier runs answered, and the log of this
 * one (resume.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/resume.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/render.h"
#include "hubpredict/request.h"
#include "hubpredict/response.h"
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
	char request[HP_RESUME_KEY_LEN]; /* this run's request key */
};

/* 64 bits of SHA-256 over file NUL size NUL mtime NUL request (never 0). */
static uint64_t triple(const char *file, size_t flen, const char *size, const char *mtime, const char *request)
{
	struct hp_sha256 s;
	unsigned char d[HP_SHA256_LEN];
	hp_sha256_init(&s);
	hp_sha256_update(&s, file, flen);
	hp_sha256_update(&s, "", 1);
	hp_sha256_update(&s, size, strlen(size) + 1);
	hp_sha256_update(&s, mtime, strlen(mtime) + 1);
	hp_sha256_update(&s, request, strlen(request));
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

/* ---- the request key --------------------------------------------------- */

int hp_resume_request_key(const struct hp_request_ctx *req, char hex[HP_RESUME_KEY_LEN])
{
	struct hp_sha256 s;
	unsigned char d[HP_SHA256_LEN];
	char full[2 * HP_SHA256_LEN + 1];
	hp_sha256_init(&s);
	if (hp_request_digest(req, "hubpredict-request", &s) < 0)
		return -1;
	hp_sha256_final(&s, d);
	hp_sha256_hex(d, full);
	memcpy(hex, full, HP_RESUME_KEY_LEN - 1);
	hex[HP_RESUME_KEY_LEN - 1] = '\0';
	return 0;
}

/* ---- reading LOG ----------------------------------------------------------- */

/* How every envelope begins (render_json.c), and a live stream's frame line
 * (SPEC 13: a stream's jsonl is a line per frame, not an envelope). */
#define ENVELOPE_START "{\"file\":"
#define STREAM_START "{\"stream\":"

/* Does text begin as an envelope does? */
static bool envelope_start(const char *text, size_t len)
{
	return len >= sizeof ENVELOPE_START - 1 && memcmp(text, ENVELOPE_START, sizeof ENVELOPE_START - 1) == 0;
}

/* What makes a file a log: its first line begins as an envelope or as a
 * stream's frame line (whole or not: a line of two runs that wrote at once
 * is still a log's, and does not count). A frame line is kept in the log
 * and skips nothing: a live stream's frames are new each time. */
static bool log_start(const char *text, size_t len)
{
	return envelope_start(text, len) ||
	       (len >= sizeof STREAM_START - 1 && memcmp(text, STREAM_START, sizeof STREAM_START - 1) == 0);
}

/* The envelope on one whole line (line[len] is writable: the newline was
 * there): NULL unless the line is strict JSON as a whole and begins as an
 * envelope. Only the head is handed to cJSON: "response" comes last, and
 * `,"response":` cannot occur inside a JSON string (its quote would be
 * escaped), so the head ends there; *success says it was found. */
static cJSON *envelope_head(char *line, size_t len, bool *success)
{
	*success = false;
	if (!envelope_start(line, len) || !hp_json_check(line, len, NULL))
		return NULL;
	line[len] = '\0';
	char *resp = strstr(line, ",\"response\":");
	size_t head = len;
	if (resp) {
		resp[0] = '}';
		head = (size_t)(resp - line) + 1;
		*success = true;
	}
	cJSON *doc = cJSON_ParseWithLength(line, head);
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "file"))) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

/* A success's (file, size, mtime, request) into the set. 0, or -1 when out
 * of memory. */
static int take_envelope(struct hp_resume *r, const cJSON *doc)
{
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(doc, "file");
	const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(doc, "file_bytes");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(doc, "size");
	const cJSON *mtime = cJSON_GetObjectItemCaseSensitive(doc, "mtime");
	const cJSON *request = cJSON_GetObjectItemCaseSensitive(doc, "request");
	char sz[32] = "", *name = file->valuestring;
	long nl = -1;
	char *raw = NULL;
	if (cJSON_IsString(bytes) && (raw = malloc(strlen(bytes->valuestring) + 4)) != NULL &&
	    (nl = hp_base64_decode(raw, bytes->valuestring, strlen(bytes->valuestring))) >= 0)
		name = raw;
	else
		nl = (long)strlen(name);
	if (cJSON_IsNumber(size))
		snprintf(sz, sizeof sz, "%.0f", size->valuedouble);
	int rc = set_add(r, triple(name, (size_t)nl, sz, cJSON_IsString(mtime) ? mtime->valuestring : "",
	                           cJSON_IsString(request) ? request->valuestring : ""));
	free(raw);
	return rc;
}

/* One whole line of LOG (its newline at line[len]). The first must begin
 * as an envelope: 1 when it does not. 0, or -1 when out of memory. */
static int take_line(struct hp_resume *r, char *line, size_t len)
{
	if (r->lines == 0 && !log_start(line, len))
		return 1;
	bool success;
	cJSON *doc = envelope_head(line, len, &success);
	int rc = 0;
	if (doc && success)
		rc = take_envelope(r, doc);
	cJSON_Delete(doc);
	r->lines++;
	return rc;
}

/* Every whole line in buf[0..len): taken, the rest moved to the front.
 * *good grows by the bytes taken. 0, 1 (not a log) or -1 (no memory). */
static int take_lines(struct hp_resume *r, char *buf, size_t *len, off_t *good)
{
	char *p = buf, *end = buf + *len, *nl;
	int rc = 0;
	while (rc == 0 && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		rc = take_line(r, p, (size_t)(nl - p));
		*good += nl + 1 - p;
		p = nl + 1;
	}
	*len = (size_t)(end - p);
	memmove(buf, p, *len);
	return rc;
}

#define READ_CHUNK ((size_t)1 << 20)

/* Read LOG through r->fd (pread: no other descriptor may be opened or
 * closed while the lock is held) and cut a torn last line. 0, or an exit
 * status with the message in err. */
static int read_log(struct hp_resume *r, char *err, size_t errlen)
{
	char *buf = NULL, q[512];
	size_t len = 0, cap = 0;
	off_t off = 0, good = 0;
	int rc = 0;
	for (;;) {
		if (cap - len < READ_CHUNK) {
			size_t ncap = cap * 2 > len + READ_CHUNK ? cap * 2 : len + READ_CHUNK;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				rc = -1;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = pread(r->fd, buf + len, READ_CHUNK, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -2 : 0;
			break;
		}
		/* not even the first byte of an envelope: nothing more to read */
		if (off == 0 && buf[0] != '{') {
			rc = 1;
			break;
		}
		len += (size_t)n;
		off += n;
		if ((rc = take_lines(r, buf, &len, &good)) != 0)
			break;
	}
	/* a torn line alone is a log only when it begins as an envelope */
	if (rc == 0 && len > 0 && r->lines == 0 && !log_start(buf, len))
		rc = 1;
	free(buf);
	int status = 0;
	if (rc == 1) {
		snprintf(err, errlen, "--resume: %s is not a hubpredict log (its first line is no -f jsonl envelope): "
		         "give a new file or an earlier run's log", hp_msg_quote(q, sizeof q, r->path));
		status = HP_EXIT_USAGE;
	} else if (rc < 0) {
		snprintf(err, errlen, "--resume: cannot read %s: %s", hp_msg_quote(q, sizeof q, r->path),
		         rc == -1 ? "out of memory" : strerror(errno));
		status = rc == -1 ? HP_EXIT_NOMEM : HP_EXIT_OUTPUT;
	} else if (len > 0) {
		if (ftruncate(r->fd, good) != 0) {
			snprintf(err, errlen, "--resume: cannot cut the torn last line of %s: %s",
			         hp_msg_quote(q, sizeof q, r->path), strerror(errno));
			status = HP_EXIT_OUTPUT;
		}
		r->repaired = true;
	}
	return status;
}

/* ---- opening LOG ----------------------------------------------------------- */

static const char *type_name(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "not a regular file";
}

/* What LOG must be, on the descriptor: a regular file of this user. */
static int check_opened(const struct hp_resume *r, const struct stat *st, char *err, size_t errlen)
{
	char q[512];
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "--resume: %s is %s, not a log file", hp_msg_quote(q, sizeof q, r->path),
		         type_name(st->st_mode));
		return HP_EXIT_USAGE;
	}
	if (st->st_uid != geteuid()) {
		snprintf(err, errlen, "--resume: %s belongs to another user (uid %u): give a log of your own",
		         hp_msg_quote(q, sizeof q, r->path), (unsigned)st->st_uid);
		return HP_EXIT_USAGE;
	}
	return 0;
}

/* Open LOG into r->fd without blocking on what is no file, creating it when
 * nothing is there (not through a dangling symlink). 0, or a status. */
static int open_log(struct hp_resume *r, char *err, size_t errlen)
{
	char q[512];
	struct stat st;
	int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (stat(r->path, &st) == 0 && !S_ISREG(st.st_mode))
		return check_opened(r, &st, err, errlen); /* never opened */
	r->fd = open(r->path, flags);
	if (r->fd < 0 && errno == ENOENT) {
		if (lstat(r->path, &st) == 0) {
			snprintf(err, errlen, "--resume: %s is a symlink to a file that does not exist",
			         hp_msg_quote(q, sizeof q, r->path));
			return HP_EXIT_USAGE;
		}
		r->fd = open(r->path, flags | O_CREAT | O_EXCL, 0666);
		if (r->fd < 0 && errno == EEXIST)
			r->fd = open(r->path, flags); /* another run made it first */
	}
	if (r->fd < 0 || fstat(r->fd, &st) != 0) {
		snprintf(err, errlen, "--resume: cannot open %s: %s", hp_msg_quote(q, sizeof q, r->path),
		         strerror(errno));
		return errno == EISDIR ? HP_EXIT_USAGE : HP_EXIT_OUTPUT;
	}
	return check_opened(r, &st, err, errlen);
}

/* An exclusive lock on the whole of LOG, or who holds it. 0, or a status. */
static int lock_log(struct hp_resume *r, char *err, size_t errlen)
{
	char q[512];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(r->fd, F_SETLK, &fl) == 0)
		return 0;
	int e = errno;
	if (e == EAGAIN || e == EACCES) {
		struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		char pid[48] = "";
		if (fcntl(r->fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK && who.l_pid > 0)
			snprintf(pid, sizeof pid, " (pid %ld)", (long)who.l_pid);
		snprintf(err, errlen, "--resume: %s is in use by another run%s: wait for it to end, or give each run "
		         "a log of its own", hp_msg_quote(q, sizeof q, r->path), pid);
		return HP_EXIT_USAGE;
	}
	snprintf(err, errlen, "--resume: cannot lock %s: %s", hp_msg_quote(q, sizeof q, r->path), strerror(e));
	return HP_EXIT_OUTPUT;
}

int hp_resume_new(struct hp_resume **out, const char *path, const char *request, bool sync, char *err,
                  size_t errlen)
{
	struct hp_resume *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NOMEM;
	}
	r->path = path;
	r->sync = sync;
	r->fd = -1;
	snprintf(r->request, sizeof r->request, "%s", request);
	int status;
	if ((status = open_log(r, err, errlen)) != 0 || (status = lock_log(r, err, errlen)) != 0 ||
	    (status = read_log(r, err, errlen)) != 0)
		goto done;
	int fl = fcntl(r->fd, F_GETFL);
	if (fl < 0 || fcntl(r->fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || !(r->out.fp = fdopen(r->fd, "a"))) {
		snprintf(err, errlen, "--resume: '%s': %s", path, strerror(errno));
		status = HP_EXIT_OUTPUT;
		goto done;
	}
	r->fd = -1; /* the stream owns it */
	r->out.path = path;
	r->out.direct = true;
	struct hp_render_opts ro = { .format = HP_FORMAT_JSONL, .request = r->request };
	if (hp_renderer_new(&r->jsonl, &ro, &r->out) != 0) {
		snprintf(err, errlen, "out of memory");
		status = HP_EXIT_NOMEM;
	}
done:
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
		return set_has(r, triple(path, strlen(path), "", "", r->request));
	struct stat st;
	if (known)
		st = *known;
	else if (stat(path, &st) != 0)
		return false;
	char sz[32], stamp[HP_STAMP_LEN];
	snprintf(sz, sizeof sz, "%lld", (long long)st.st_size);
	hp_stamp_format(&st.st_mtim, stamp);
	return set_has(r, triple(path, strlen(path), sz, stamp, r->request));
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
