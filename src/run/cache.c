/* cache.c - --cache DIR: entries by content, written atomically (cache.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/cache.h"
#include "hubpredict/body.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/request.h"
#include "hubpredict/upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK ((size_t)64 * 1024)

struct hp_cache {
	char *dir;
	double ttl;
};

int hp_cache_new(struct hp_cache **out, const char *dir, double ttl, char *err, size_t errlen)
{
	struct stat st;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "--cache: cannot create '%s': %s", dir, strerror(errno));
		return HP_EXIT_OUTPUT;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--cache: '%s' is not a directory", dir);
		return HP_EXIT_OUTPUT;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "--cache: cannot write in '%s': %s", dir, strerror(errno));
		return HP_EXIT_OUTPUT;
	}
	struct hp_cache *c = calloc(1, sizeof *c);
	if (!c || !(c->dir = strdup(dir))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NETWORK;
	}
	c->ttl = ttl;
	*out = c;
	return 0;
}

void hp_cache_free(struct hp_cache *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c);
}

/* ---- the key --------------------------------------------------------------- */

struct field { char *name, *value; };
struct fields { struct field *v; size_t n, cap; };

static int collect(void *state, const char *name, const char *value)
{
	struct fields *f = state;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct field *v = realloc(f->v, cap * sizeof *v);
		if (!v)
			return -1;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n].name = strdup(name);
	f->v[f->n].value = strdup(value);
	f->n++;
	return f->v[f->n - 1].name && f->v[f->n - 1].value ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

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
	struct fields f = { 0 };
	int rc = hp_request_each_field(req, collect, &f);
	unsigned char content[HP_SHA256_LEN];
	if (rc == 0 && !up->source && digest_file(up->fd, up->size, content) < 0)
		rc = -1;
	if (rc == 0) {
		struct hp_sha256 s;
		hp_sha256_init(&s);
		put_str(&s, "hubpredict-cache", "1");
		put_str(&s, "url", req->ep->url);
		put_str(&s, "flavour", hp_flavour_name(req->ep->flavour));
		qsort(f.v, f.n, sizeof *f.v, by_name);
		for (size_t i = 0; i < f.n; i++)
			put_str(&s, f.v[i].name, f.v[i].value);
		if (up->source) {
			put_str(&s, "source", up->source);
		} else {
			put_str(&s, "type", up->mime_type ? up->mime_type : "");
			hp_sha256_update(&s, "bytes", 6);
			hp_sha256_update(&s, content, sizeof content);
		}
		hp_sha256_final(&s, key);
	}
	for (size_t i = 0; i < f.n; i++) {
		free(f.v[i].name);
		free(f.v[i].value);
	}
	free(f.v);
	return rc;
}

/* ---- entries --------------------------------------------------------------- */

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

/* DIR/ab/cdef...: 2 + 1 + 62 characters after DIR/. dir_only: DIR/ab. */
static char *entry_path(const struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], bool dir_only)
{
	char hex[2 * HP_SHA256_LEN + 1];
	hp_sha256_hex(key, hex);
	size_t len = strlen(c->dir) + 2 * HP_SHA256_LEN + 8;
	char *p = malloc(len);
	if (p && dir_only)
		snprintf(p, len, "%s/%.2s", c->dir, hex);
	else if (p)
		snprintf(p, len, "%s/%.2s/%s", c->dir, hex, hex + 2);
	return p;
}

static int read_all(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* A header that says what the file holds: its key, time and body length
 * match (size: the file's). */
static bool header_ok(const unsigned char *h, const unsigned char *key, off_t size)
{
	return memcmp(h, HP_CACHE_MAGIC, 8) == 0 && (!key || memcmp(h + 8, key, HP_SHA256_LEN) == 0) &&
	       get_be64(h + 48) == (uint64_t)(size - HP_CACHE_HEADER);
}

int hp_cache_get(struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], struct hp_body *body)
{
	char *path = entry_path(c, key, false);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	free(path);
	if (fd < 0)
		return 0;
	unsigned char h[HP_CACHE_HEADER], d[HP_SHA256_LEN];
	struct stat st;
	bool hit = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= HP_CACHE_HEADER &&
	           read_all(fd, h, sizeof h) == 0 && header_ok(h, key, st.st_size);
	time_t now = time(NULL);
	double age = hit ? difftime(now, (time_t)get_be64(h + 40)) : 0;
	hit = hit && age <= c->ttl && age > -86400.0; /* a stored time far ahead is not trusted */
	char *buf = hit ? malloc(CHUNK) : NULL;
	struct hp_sha256 s;
	hp_sha256_init(&s);
	uint64_t left = hit ? get_be64(h + 48) : 0;
	while (buf && left > 0) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		if (read_all(fd, buf, n) < 0 || hp_body_append(body, buf, n) < 0)
			break;
		hp_sha256_update(&s, buf, n);
		left -= n;
	}
	hp_sha256_final(&s, d);
	hit = buf && left == 0 && memcmp(d, h + 56, HP_SHA256_LEN) == 0;
	free(buf);
	close(fd);
	if (!hit)
		hp_body_reset(body);
	return hit;
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

int hp_cache_put(struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], const void *data, size_t len,
                 char *err, size_t errlen)
{
	char *dir = entry_path(c, key, true), *path = entry_path(c, key, false), *tmp = NULL;
	int fd = -1, rc = -1;
	bool made = false;
	if (!dir || !path || !(tmp = malloc(strlen(dir) + 16))) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		goto failed;
	sprintf(tmp, "%s/.tmp-XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0)
		goto failed;
	made = true;
	unsigned char h[HP_CACHE_HEADER];
	memcpy(h, HP_CACHE_MAGIC, 8);
	memcpy(h + 8, key, HP_SHA256_LEN);
	be64(h + 40, (uint64_t)time(NULL));
	be64(h + 48, (uint64_t)len);
	hp_sha256(data, len, h + 56);
	if (write_all(fd, h, sizeof h) < 0 || write_all(fd, data, len) < 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		goto failed;
	if (close(fd) < 0) {
		fd = -1;
		goto failed;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto failed;
	made = false;
	rc = 0;
	goto done;
failed:
	snprintf(err, errlen, "--cache: cannot store in '%s': %s", dir, strerror(errno));
done:
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	free(dir);
	free(path);
	free(tmp);
	return rc;
}

/* ---- walking DIR (hubpredict cache) ----------------------------------------- */

static bool is_fanout(const char *name)
{
	static const char hex[] = "0123456789abcdef";
	return strlen(name) == 2 && strchr(hex, name[0]) && strchr(hex, name[1]) && name[0] && name[1];
}

/* One file: is it the entry its name says? */
static void look_at(const char *path, const char *sub, const char *name, struct hp_cache_file *f)
{
	struct stat st;
	f->path = path;
	f->valid = false;
	f->temporary = strncmp(name, ".tmp-", 5) == 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0) {
		f->stored = 0;
		f->bytes = 0;
		if (fd >= 0)
			close(fd);
		return;
	}
	f->stored = st.st_mtime;
	f->bytes = (long long)st.st_size;
	unsigned char h[HP_CACHE_HEADER];
	char hex[2 * HP_SHA256_LEN + 1];
	if (!f->temporary && S_ISREG(st.st_mode) && st.st_size >= HP_CACHE_HEADER && read_all(fd, h, sizeof h) == 0 &&
	    header_ok(h, NULL, st.st_size)) {
		hp_sha256_hex(h + 8, hex);
		if (strncmp(hex, sub, 2) == 0 && strcmp(hex + 2, name) == 0) {
			f->valid = true;
			f->stored = (time_t)get_be64(h + 40);
		}
	}
	close(fd);
}

static void walk_sub(const char *dir, const char *sub, void (*fn)(void *, const struct hp_cache_file *), void *state)
{
	size_t dl = strlen(dir) + 4;
	char *subdir = malloc(dl);
	if (!subdir)
		return;
	snprintf(subdir, dl, "%s/%s", dir, sub);
	DIR *d = opendir(subdir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t pl = dl + strlen(e->d_name) + 2;
		char *path = malloc(pl);
		if (!path)
			break;
		snprintf(path, pl, "%s/%s", subdir, e->d_name);
		struct hp_cache_file f;
		look_at(path, sub, e->d_name, &f);
		fn(state, &f);
		free(path);
	}
	if (d)
		closedir(d);
	free(subdir);
}

int hp_cache_walk(const char *dir, void (*fn)(void *state, const struct hp_cache_file *f), void *state, char *err,
                  size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "--cache: cannot read '%s': %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (is_fanout(e->d_name))
			walk_sub(dir, e->d_name, fn, state);
	closedir(d);
	return 0;
}
