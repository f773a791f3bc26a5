/* cache.c - --cache DIR: entries by content, written atomically, in a
 * tagged folder never left (cache.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/cache.h"
#include "hubpredict/body.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/request.h"
#include "hubpredict/upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((size_t)64 * 1024)
#define CHECK_FIRST ((uint64_t)1024 * 1024) /* a larger body is checked before it is read into memory */
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define FILE_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
#define TEMP_LEN 16 /* ".tmp-" + 10 + NUL */

_Static_assert(HP_CACHE_BODY_MAX == HP_BODY_MAX, "an entry holds at most what a run keeps");

static const char tag_text[] = HP_CACHE_TAG_SIGNATURE "\n"
	"# This file is a cache directory tag created by hubpredict.\n"
	"# For information about cache directory tags, see https://bford.info/cachedir/\n";

struct hp_cache {
	char *dir;
	int dfd;               /* DIR */
	double ttl;
	unsigned long seq;     /* temporary names */
};

/* ---- files below DIR ---------------------------------------------------------- */

/* Up to n bytes (fewer at the end of the file): how many, or -1. */
static ssize_t read_upto(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Exactly n bytes: 0, or -1 (an error or the end of the file first). */
static int read_all(int fd, void *buf, size_t n)
{
	return read_upto(fd, buf, n) == (ssize_t)n ? 0 : -1;
}

static int write_all(int fd, const void *buf, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t w = write(fd, (const char *)buf + put, n - put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		put += (size_t)w;
	}
	return 0;
}

/* A regular file name in dirfd, opened without following a link or waiting
 * on a FIFO: its descriptor (st filled), or -1 (errno EINVAL: not regular). */
static int open_regular(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, FILE_FLAGS);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* ".tmp-" and 10 letters or digits, from the process, the clock and seq. */
static void temp_name(char name[TEMP_LEN], unsigned long seq)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)getpid() * 0x9E3779B97F4A7C15u ^ (uint64_t)ts.tv_nsec << 24 ^ (uint64_t)ts.tv_sec ^
	             (uint64_t)seq * 0xBF58476D1CE4E5B9u;
	x = (x ^ x >> 30) * 0xBF58476D1CE4E5B9u; /* splitmix64's finish */
	x = (x ^ x >> 27) * 0x94D049BB133111EBu;
	x ^= x >> 31;
	memcpy(name, ".tmp-", 5);
	for (int i = 5; i < TEMP_LEN - 1; i++, x /= 62)
		name[i] = abc[x % 62];
	name[TEMP_LEN - 1] = '\0';
}

/* A new temporary file in dirfd, mode 0666 less the umask: its descriptor
 * and name, or -1. O_EXCL: a name taken is only another try. */
static int create_temp(int dirfd, char name[TEMP_LEN], unsigned long *seq)
{
	for (int i = 0; i < 100; i++) {
		temp_name(name, (*seq)++);
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static bool is_temp_name(const char *name)
{
	if (strncmp(name, ".tmp-", 5) != 0)
		return false;
	size_t n = strspn(name + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
	return n >= 6 && n <= 16 && name[5 + n] == '\0'; /* mkstemp's six (earlier versions) or ours */
}

static bool is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* ---- the tag ------------------------------------------------------------------ */

/* DIR's CACHEDIR.TAG: 1 (a regular file starting with the signature), 0
 * (none), -1 (something else by that name). */
static int tag_state(int dfd)
{
	struct stat st;
	char buf[sizeof HP_CACHE_TAG_SIGNATURE - 1];
	int fd = open_regular(dfd, HP_CACHE_TAG, &st);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	bool ok = read_upto(fd, buf, sizeof buf) == (ssize_t)sizeof buf && memcmp(buf, HP_CACHE_TAG_SIGNATURE, sizeof buf) == 0;
	close(fd);
	return ok ? 1 : -1;
}

/* A regular file holding the start of the tag (an empty one too): the tag a
 * run is writing, or one cut short. */
static bool tag_in_progress(int dfd, const char *name)
{
	struct stat st;
	char buf[sizeof tag_text];
	int fd = open_regular(dfd, name, &st);
	if (fd < 0)
		return false;
	ssize_t n = read_upto(fd, buf, sizeof buf);
	close(fd);
	return n >= 0 && (size_t)n < sizeof tag_text && memcmp(buf, tag_text, (size_t)n) == 0;
}

/* Written to a temporary file, flushed and renamed over the name. */
static int write_tag(int dfd)
{
	char name[TEMP_LEN];
	unsigned long seq = 0;
	int fd = create_temp(dfd, name, &seq);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, tag_text, sizeof tag_text - 1) == 0 && fsync(fd) == 0 ? 0 : -1;
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && renameat(dfd, name, dfd, HP_CACHE_TAG) != 0)
		rc = -1;
	if (rc != 0) {
		int e = errno;
		unlinkat(dfd, name, 0);
		errno = e;
	}
	return rc;
}

/* ---- what a file below DIR is --------------------------------------------------- */

static void be64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A header that says what the file holds: its key, time and body length
 * match (size: the file's). */
static bool header_ok(const unsigned char *h, const unsigned char *key, off_t size)
{
	return memcmp(h, HP_CACHE_MAGIC, 8) == 0 && (!key || memcmp(h + 8, key, HP_SHA256_LEN) == 0) &&
	       get_be64(h + 48) == (uint64_t)(size - HP_CACHE_HEADER);
}

/* One file in the fan-out directory sub (open as subfd): what it is, by its
 * type (never opened unless regular), its name and its first bytes. */
static void look_at(int subfd, const char *sub, const char *name, struct hp_cache_file *f)
{
	struct stat st;
	f->kind = HP_CACHE_FOREIGN;
	f->stored = 0;
	f->bytes = 0;
	bool temp = is_temp_name(name), named = is_hex(name, 2 * HP_SHA256_LEN - 2);
	if (fstatat(subfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	f->stored = st.st_mtime;
	f->bytes = (long long)st.st_size;
	int fd = S_ISREG(st.st_mode) && (temp || named) ? open_regular(subfd, name, &st) : -1;
	unsigned char h[HP_CACHE_HEADER];
	ssize_t n = fd >= 0 ? read_upto(fd, h, sizeof h) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return;
	if (temp) {
		if (memcmp(h, HP_CACHE_MAGIC, n < 8 ? (size_t)n : 8) == 0)
			f->kind = HP_CACHE_TEMPORARY; /* empty, or a header begun */
		return;
	}
	char hex[2 * HP_SHA256_LEN + 1];
	if (n < 40 || memcmp(h, HP_CACHE_MAGIC, 8) != 0)
		return;
	hp_sha256_hex(h + 8, hex);
	if (strncmp(hex, sub, 2) != 0 || strcmp(hex + 2, name) != 0)
		return;
	f->kind = HP_CACHE_DAMAGED;
	if (n == HP_CACHE_HEADER && header_ok(h, NULL, st.st_size)) {
		f->kind = HP_CACHE_ENTRY;
		f->stored = (time_t)get_be64(h + 40);
	}
}

/* ---- walking DIR ------------------------------------------------------------------ */

typedef void (*walk_fn)(void *state, const struct hp_cache_file *f);

static void walk_sub(int dfd, const char *dir, const char *sub, walk_fn fn, void *state)
{
	size_t dl = strlen(dir) + 4;
	char *subdir = malloc(dl);
	if (!subdir)
		return;
	snprintf(subdir, dl, "%s/%s", dir, sub);
	int sfd = openat(dfd, sub, DIR_FLAGS);
	DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
	if (!d) { /* a link, a file, a folder we may not read: never entered */
		if (sfd >= 0)
			close(sfd);
		struct hp_cache_file f = { .path = subdir, .kind = HP_CACHE_FOREIGN, .dirfd = -1, .name = sub };
		fn(state, &f);
	}
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t pl = dl + strlen(e->d_name) + 2;
		char *path = malloc(pl);
		if (!path)
			break;
		snprintf(path, pl, "%s/%s", subdir, e->d_name);
		struct hp_cache_file f = { .path = path, .dirfd = dirfd(d), .name = e->d_name };
		look_at(dirfd(d), sub, e->d_name, &f);
		fn(state, &f);
		free(path);
	}
	if (d)
		closedir(d);
	free(subdir);
}

/* Every fan-out directory of dfd (DIR); *others (when given) counts the
 * other names at the top, besides the tag and a tag being written. */
static int walk_fd(int dfd, const char *dir, walk_fn fn, void *state, size_t *others)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (is_hex(name, 2))
			walk_sub(dfd, dir, name, fn, state);
		else if (others && !((is_temp_name(name) || strcmp(name, HP_CACHE_TAG) == 0) && tag_in_progress(dfd, name)))
			(*others)++;
	}
	closedir(d);
	return 0;
}

static void count_foreign(void *state, const struct hp_cache_file *f)
{
	if (f->kind == HP_CACHE_FOREIGN)
		++*(size_t *)state;
}

/* An untagged DIR that is empty, or holds nothing but hubpredict's own files
 * (a cache made before the tag, or by a run tagging it now). */
static bool only_ours(int dfd, const char *dir)
{
	size_t foreign = 0, others = 0;
	return walk_fd(dfd, dir, count_foreign, &foreign, &others) == 0 && foreign == 0 && others == 0;
}

int hp_cache_walk(const char *dir, walk_fn fn, void *state, char *err, size_t errlen)
{
	char q[512];
	hp_msg_quote(q, sizeof q, dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "--cache: cannot read %s: %s", q, strerror(errno));
		return HP_EXIT_INPUT;
	}
	int status = 0;
	if (tag_state(dfd) != 1) {
		snprintf(err, errlen, "--cache: %s has no " HP_CACHE_TAG ", so it is not a hubpredict cache (a run with "
		         "--cache DIR tags a new or empty folder, or a cache an earlier version made)", q);
		status = HP_EXIT_USAGE;
	} else if (walk_fd(dfd, dir, fn, state, NULL) < 0) {
		snprintf(err, errlen, "--cache: cannot read %s: %s", q, strerror(errno));
		status = HP_EXIT_INPUT;
	}
	close(dfd);
	return status;
}

int hp_cache_remove(const struct hp_cache_file *f)
{
	if (f->kind == HP_CACHE_FOREIGN || f->dirfd < 0) {
		errno = EPERM;
		return -1;
	}
	return unlinkat(f->dirfd, f->name, 0); /* a name in the fan-out directory: a link is not followed */
}

/* ---- the cache ------------------------------------------------------------------ */

/* DIR is tagged, or it is ours to tag: made now, empty, or only our files. */
static int ensure_tag(int dfd, const char *dir, bool made, char *err, size_t errlen)
{
	char q[512];
	hp_msg_quote(q, sizeof q, dir);
	if (tag_state(dfd) == 1)
		return 0;
	if (!made && !only_ours(dfd, dir)) {
		snprintf(err, errlen, "--cache: %s holds other files and no " HP_CACHE_TAG ", so it is not a hubpredict "
		         "cache: name a new or empty folder", q);
		return HP_EXIT_USAGE;
	}
	if (write_tag(dfd) != 0) {
		snprintf(err, errlen, "--cache: cannot write %s's " HP_CACHE_TAG ": %s", q, strerror(errno));
		return HP_EXIT_OUTPUT;
	}
	return 0;
}

int hp_cache_new(struct hp_cache **out, const char *dir, double ttl, char *err, size_t errlen)
{
	char q[512];
	hp_msg_quote(q, sizeof q, dir);
	struct hp_cache *c = NULL;
	int dfd = -1, status = HP_EXIT_OUTPUT;
	bool made = mkdir(dir, 0777) == 0;
	if (!made && errno != EEXIST) {
		snprintf(err, errlen, "--cache: cannot create %s: %s", q, strerror(errno));
		goto done;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOTDIR)
			snprintf(err, errlen, "--cache: %s is not a directory", q);
		else
			snprintf(err, errlen, "--cache: cannot open %s: %s", q, strerror(errno));
		goto done;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "--cache: cannot write in %s: %s", q, strerror(errno));
		goto done;
	}
	if ((status = ensure_tag(dfd, dir, made, err, errlen)) != 0)
		goto done;
	if (!(c = calloc(1, sizeof *c)) || !(c->dir = strdup(dir))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		status = HP_EXIT_NOMEM;
		goto done;
	}
	c->dfd = dfd;
	dfd = -1;
	c->ttl = ttl;
	*out = c;
done:
	if (dfd >= 0)
		close(dfd);
	return status;
}

void hp_cache_free(struct hp_cache *c)
{
	if (!c)
		return;
	close(c->dfd);
	free(c->dir);
	free(c);
}

/* ---- the key --------------------------------------------------------------- */

/* A tagged string, NUL-terminated, so no two key texts run together. */
static void put_str(struct hp_sha256 *s, const char *tag, const char *value)
{
	hp_sha256_update(s, tag, strlen(tag) + 1);
	hp_sha256_update(s, value, strlen(value) + 1);
}

/* The uploaded bytes' own digest, read from the descriptor in pieces. */
static int digest_file(int fd, off_t size, unsigned char d[HP_SHA256_LEN])
{
	char *buf = malloc(CHUNK);
	if (!buf)
		return -1;
	struct hp_sha256 s;
	hp_sha256_init(&s);
	off_t off = 0;
	while (off < size) {
		ssize_t n = pread(fd, buf, CHUNK, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			if (n == 0)
				errno = EIO; /* the file shrank under us */
			return -1;
		}
		hp_sha256_update(&s, buf, (size_t)n);
		off += n;
	}
	free(buf);
	hp_sha256_final(&s, d);
	return 0;
}

int hp_cache_key(const struct hp_request_ctx *req, const struct hp_upload *up, unsigned char key[HP_SHA256_LEN])
{
	unsigned char content[HP_SHA256_LEN];
	if (!up->source && digest_file(up->fd, up->size, content) < 0)
		return -1;
	struct hp_sha256 s;
	hp_sha256_init(&s);
	if (hp_request_digest(req, "hubpredict-cache", &s) < 0)
		return -1;
	if (up->source) {
		put_str(&s, "source", up->source);
	} else {
		put_str(&s, "type", up->mime_type ? up->mime_type : "");
		hp_sha256_update(&s, "bytes", 6);
		hp_sha256_update(&s, content, sizeof content);
	}
	hp_sha256_final(&s, key);
	return 0;
}

/* ---- entries --------------------------------------------------------------- */

/* The entry of key, opened below DIR without following a link or waiting on
 * a FIFO: its descriptor (st filled), or -1 (a miss). */
static int open_entry(const struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], struct stat *st)
{
	char hex[2 * HP_SHA256_LEN + 1], sub[3];
	hp_sha256_hex(key, hex);
	memcpy(sub, hex, 2);
	sub[2] = '\0';
	int sfd = openat(c->dfd, sub, DIR_FLAGS);
	if (sfd < 0)
		return -1;
	int fd = open_regular(sfd, hex + 2, st);
	close(sfd);
	return fd;
}

/* The body (len bytes at HP_CACHE_HEADER) has the digest, read in pieces
 * without keeping it. */
static bool digest_matches(int fd, uint64_t len, const unsigned char *digest)
{
	char *buf = malloc(CHUNK);
	struct hp_sha256 s;
	hp_sha256_init(&s);
	uint64_t off = 0;
	while (buf && off < len) {
		size_t want = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)(HP_CACHE_HEADER + off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		hp_sha256_update(&s, buf, (size_t)n);
		off += (uint64_t)n;
	}
	unsigned char d[HP_SHA256_LEN];
	hp_sha256_final(&s, d);
	bool ok = buf && off == len && memcmp(d, digest, HP_SHA256_LEN) == 0;
	free(buf);
	return ok;
}

/* The body read from fd (just past the header) into body, its digest
 * checked as it comes. */
static bool read_body(int fd, uint64_t len, const unsigned char *digest, struct hp_body *body)
{
	char *buf = malloc(CHUNK);
	struct hp_sha256 s;
	hp_sha256_init(&s);
	uint64_t left = len;
	while (buf && left > 0) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		if (read_all(fd, buf, n) < 0 || hp_body_append(body, buf, n) < 0)
			break;
		hp_sha256_update(&s, buf, n);
		left -= n;
	}
	unsigned char d[HP_SHA256_LEN];
	hp_sha256_final(&s, d);
	bool ok = buf && left == 0 && memcmp(d, digest, HP_SHA256_LEN) == 0;
	free(buf);
	return ok;
}

int hp_cache_get(struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], struct hp_body *body)
{
	struct stat st;
	int fd = open_entry(c, key, &st);
	if (fd < 0)
		return 0;
	unsigned char h[HP_CACHE_HEADER];
	/* bounded by the file's size and what a run would keep, before a byte is read */
	bool hit = st.st_size >= HP_CACHE_HEADER && (uint64_t)st.st_size - HP_CACHE_HEADER <= HP_CACHE_BODY_MAX &&
	           read_all(fd, h, sizeof h) == 0 && header_ok(h, key, st.st_size);
	double age = hit ? difftime(time(NULL), (time_t)get_be64(h + 40)) : 0;
	hit = hit && age <= c->ttl && age > -86400.0; /* a stored time far ahead is not trusted */
	uint64_t len = hit ? get_be64(h + 48) : 0;
	if (hit && len > CHECK_FIRST)
		hit = digest_matches(fd, len, h + 56); /* memory only for a body that is what it says */
	hit = hit && read_body(fd, len, h + 56, body);
	close(fd);
	if (!hit)
		hp_body_reset(body);
	return hit;
}

#define PUT_PIECE ((size_t)8 * 1024 * 1024)

/* The body's SHA-256, or (fd >= 0) the body written to fd, a piece at a
 * time, each piece's pages let go after it. 0, or -1 with errno. */
static int body_pass(struct hp_body *body, unsigned char sum[HP_SHA256_LEN], int fd)
{
	struct hp_sha256 s;
	hp_sha256_init(&s);
	for (size_t at = 0; at < body->len;) {
		size_t n = body->len - at < PUT_PIECE ? body->len - at : PUT_PIECE;
		if (fd < 0)
			hp_sha256_update(&s, body->data + at, n);
		else if (write_all(fd, body->data + at, n) < 0)
			return -1;
		at += n;
		hp_body_release(body, at);
	}
	if (fd < 0)
		hp_sha256_final(&s, sum);
	return 0;
}

int hp_cache_put(struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], struct hp_body *body, char *err,
                 size_t errlen)
{
	char hex[2 * HP_SHA256_LEN + 1], sub[3], name[TEMP_LEN];
	hp_sha256_hex(key, hex);
	memcpy(sub, hex, 2);
	sub[2] = '\0';
	int sfd = -1, fd = -1, rc = -1;
	bool made = false;
	if (mkdirat(c->dfd, sub, 0777) != 0 && errno != EEXIST)
		goto failed;
	if ((sfd = openat(c->dfd, sub, DIR_FLAGS)) < 0 || (fd = create_temp(sfd, name, &c->seq)) < 0)
		goto failed;
	made = true;
	unsigned char h[HP_CACHE_HEADER];
	memcpy(h, HP_CACHE_MAGIC, 8);
	memcpy(h + 8, key, HP_SHA256_LEN);
	be64(h + 40, (uint64_t)time(NULL));
	be64(h + 48, (uint64_t)body->len);
	body_pass(body, h + 56, -1);
	if (write_all(fd, h, sizeof h) < 0 || body_pass(body, NULL, fd) < 0 || fsync(fd) < 0)
		goto failed;
	int closed = close(fd);
	fd = -1;
	if (closed < 0 || renameat(sfd, name, sfd, hex + 2) < 0)
		goto failed;
	made = false;
	rc = 0;
	goto done;
failed:;
	char q[600], where[sizeof q];
	snprintf(where, sizeof where, "%s/%s", c->dir, sub);
	snprintf(err, errlen, "--cache: cannot store in %s: %s", hp_msg_quote(q, sizeof q, where), strerror(errno));
done:
	if (fd >= 0)
		close(fd);
	if (made)
		unlinkat(sfd, name, 0);
	if (sfd >= 0)
		close(sfd);
	return rc;
}

