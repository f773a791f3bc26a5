/* request.c - options into libcurl calls, and the same request as a curl
 * command for --dry-run. Nothing else in hubpredict calls curl_easy_setopt
 * for the request itself. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/request.h"
#include "hubpredict/buf.h"
#include "hubpredict/clock.h"
#include "hubpredict/media.h"
#include "hubpredict/sha256.h"
#include "hubpredict/text.h"
#include "hubpredict/upload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hp_request_ctx_init(struct hp_request_ctx *ctx, const struct hp_form *form, const struct hp_transport *t,
                        const struct hp_endpoint *ep, const char *key)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->form = *form;
	ctx->transport = *t;
	ctx->ep = ep;
	snprintf(ctx->imgsz, sizeof ctx->imgsz, "%d", form->imgsz);
	hp_fmt_double(ctx->conf, sizeof ctx->conf, form->conf);
	hp_fmt_double(ctx->iou, sizeof ctx->iou, form->iou);
	if (form->decimals >= 0)
		snprintf(ctx->decimals, sizeof ctx->decimals, "%d", form->decimals);
	if (key) {
		size_t n = strlen(key) + 32;
		char *h = malloc(n);
		if (!h)
			return -1;
		if (ep->flavour == HP_FLAVOUR_PLATFORM)
			snprintf(h, n, "Authorization: Bearer %s", key);
		else
			snprintf(h, n, "x-api-key: %s", key);
		ctx->headers = curl_slist_append(NULL, h);
		memset(h, 0, n);
		free(h);
		if (!ctx->headers)
			return -1;
	}
	return 0;
}

void hp_request_ctx_clear(struct hp_request_ctx *ctx)
{
	if (!ctx)
		return;
	for (struct curl_slist *s = ctx->headers; s; s = s->next)
		memset(s->data, 0, strlen(s->data));
	curl_slist_free_all(ctx->headers);
	ctx->headers = NULL;
}

/* The file part of the form is read straight from the descriptor (a big
 * prebuilt form: from its bytes). */
static size_t read_file_part(char *buf, size_t size, size_t nitems, void *arg)
{
	struct hp_upload_cursor *c = arg;
	size_t want = size * nitems;
	if (c->pos >= c->size)
		return 0;
	if ((off_t)want > c->size - c->pos)
		want = (size_t)(c->size - c->pos);
	if (c->data) {
		memcpy(buf, c->data + c->pos, want);
		c->pos += (off_t)want;
		if (c->pos >= c->size)
			c->read_all_ms = hp_clock_ms();
		return want;
	}
	for (;;) {
		ssize_t got = pread(c->fd, buf, want, c->pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return CURL_READFUNC_ABORT; /* shrank or failed under us */
		c->pos += got;
		if (c->pos >= c->size)
			c->read_all_ms = hp_clock_ms();
		return (size_t)got;
	}
}

static int seek_file_part(void *arg, curl_off_t offset, int origin)
{
	struct hp_upload_cursor *c = arg;
	if (origin != SEEK_SET || offset < 0 || offset > c->size)
		return CURL_SEEKFUNC_FAIL;
	c->pos = (off_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* Abort an attempt when no byte has moved either way for the stall limit. */
static int watch_stall(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct hp_stall *st = arg;
	(void)dltotal;
	(void)ultotal;
	double now = hp_clock_ms();
	curl_off_t moved = dlnow + ulnow;
	if (moved != st->last_bytes || st->last_change_ms == 0) {
		st->last_bytes = moved;
		st->last_change_ms = now;
		return 0;
	}
	if (now - st->last_change_ms >= (double)st->limit_ms) {
		st->fired = true;
		return 1;
	}
	return 0;
}

static int add_field(curl_mime *mime, const char *name, const char *value)
{
	curl_mimepart *part = curl_mime_addpart(mime);
	return part && curl_mime_name(part, name) == CURLE_OK &&
	       curl_mime_data(part, value, CURL_ZERO_TERMINATED) == CURLE_OK;
}

static int add_field_cb(void *state, const char *name, const char *value)
{
	return add_field(state, name, value) ? 0 : -1;
}

int hp_request_each_field(const struct hp_request_ctx *ctx, int (*fn)(void *state, const char *name, const char *value),
                          void *state)
{
	const struct hp_form *f = &ctx->form;
	if (fn(state, "imgsz", ctx->imgsz) < 0 || fn(state, "conf", ctx->conf) < 0 || fn(state, "iou", ctx->iou) < 0)
		return -1;
	if (f->normalize && fn(state, "normalize", "true") < 0)
		return -1;
	if (f->decimals >= 0 && fn(state, "decimals", ctx->decimals) < 0)
		return -1;
	/* --field NAME=VALUE: sent as it is, after hubpredict's own fields */
	for (size_t i = 0; i < f->n_fields; i++) {
		const char *eq = strchr(f->fields[i], '=');
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(eq - f->fields[i]), f->fields[i]);
		if (fn(state, name, eq + 1) < 0)
			return -1;
	}
	return 0;
}

struct field { char *name, *value; };
struct fields { struct field *v; size_t n, cap; };

static int collect(void *state, const char *name, const char *value)
{
	struct fields *f = state;
	struct field *v = hp_grow_array(f->v, &f->cap, f->n + 1, sizeof *v, 16);
	if (!v)
		return -1;
	f->v = v;
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

int hp_request_digest(const struct hp_request_ctx *ctx, const char *tag, struct hp_sha256 *s)
{
	struct fields f = { 0 };
	int rc = hp_request_each_field(ctx, collect, &f);
	if (rc == 0) {
		put_str(s, tag, "1");
		put_str(s, "url", ctx->ep->url);
		put_str(s, "flavour", hp_flavour_name(ctx->ep->flavour));
		qsort(f.v, f.n, sizeof *f.v, by_name);
		for (size_t i = 0; i < f.n; i++)
			put_str(s, f.v[i].name, f.v[i].value);
	}
	for (size_t i = 0; i < f.n; i++) {
		free(f.v[i].name);
		free(f.v[i].value);
	}
	free(f.v);
	return rc;
}

/* The options every attempt has, whatever its form. */
static void setup_common(CURL *easy, const struct hp_request_ctx *ctx, struct hp_stall *stall, const char *url,
                         char *errbuf)
{
	const struct hp_transport *t = &ctx->transport;
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	/* Redirects are judged by the batch (transport.h): only the same origin
	 * is followed, since the key travels with the request. */
	hp_transport_apply(easy, t);
	if (t->timeout > 0)
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(t->timeout * 1000));
	*stall = (struct hp_stall){ .limit_ms = t->stall_seconds * 1000 };
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, watch_stall);
	curl_easy_setopt(easy, CURLOPT_XFERINFODATA, stall);
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
}

int hp_request_setup(CURL *easy, const struct hp_request_ctx *ctx, const struct hp_upload *up,
                     const struct hp_form_body *fb, struct hp_upload_cursor *cursor, struct hp_stall *stall,
                     const char *url, char *errbuf, curl_mime **mime_out)
{
	*mime_out = NULL;
	cursor->fd = up->fd;
	cursor->data = NULL;
	cursor->with_headers = false;
	cursor->size = up->size;
	cursor->pos = 0;
	cursor->read_all_ms = 0;
	if (fb) {
		/* the bytes the mime below would send, from memory: libcurl sends a
		 * small one in the same segment as the headers, as curl -d does,
		 * where a mime goes in a segment of its own after them; a bigger
		 * one is read from memory as a file part is read */
		cursor->fd = -1;
		cursor->size = (off_t)fb->len;
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)fb->len);
		if (fb->len <= HP_FORM_WITH_HEADERS) {
			cursor->with_headers = true;
			curl_easy_setopt(easy, CURLOPT_POSTFIELDS, fb->data); /* borrowed, not copied */
		} else {
			cursor->data = fb->data;
			curl_easy_setopt(easy, CURLOPT_READFUNCTION, read_file_part);
			curl_easy_setopt(easy, CURLOPT_READDATA, cursor);
			curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, seek_file_part);
			curl_easy_setopt(easy, CURLOPT_SEEKDATA, cursor);
		}
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, fb->headers);
		setup_common(easy, ctx, stall, url, errbuf);
		return 0;
	}
	curl_mime *mime = curl_mime_init(easy);
	if (!mime)
		return -1;
	if (up->source) {
		if (!add_field(mime, "source", up->source))
			goto fail;
	} else {
		curl_mimepart *file = curl_mime_addpart(mime);
		if (!file || curl_mime_name(file, "file") != CURLE_OK ||
		    curl_mime_data_cb(file, (curl_off_t)up->size, read_file_part, seek_file_part, NULL, cursor) != CURLE_OK ||
		    curl_mime_filename(file, up->filename) != CURLE_OK ||
		    curl_mime_type(file, up->mime_type) != CURLE_OK)
			goto fail;
	}
	if (hp_request_each_field(ctx, add_field_cb, mime) < 0)
		goto fail;
	curl_easy_setopt(easy, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, ctx->headers);
	setup_common(easy, ctx, stall, url, errbuf);
	*mime_out = mime;
	return 0;
fail:
	curl_mime_free(mime);
	return -1;
}

/* ---- a prebuilt form (struct hp_form_body) ---------------------------- */

/* A name libcurl would send escaped (a quote, a backslash, a line break or
 * a control byte): such a form is left to the mime. */
static bool plain_name(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void add_str(struct hp_buf *b, const char *s)
{
	hp_buf_add(b, s, strlen(s));
}

/* A part's head as libcurl's mime writes it (filename and type: the file's). */
static void part_head(struct hp_buf *b, const char *boundary, const char *name, const char *filename,
                      const char *type)
{
	add_str(b, "--");
	add_str(b, boundary);
	add_str(b, "\r\nContent-Disposition: form-data; name=\"");
	add_str(b, name);
	if (filename) {
		add_str(b, "\"; filename=\"");
		add_str(b, filename);
		add_str(b, "\"\r\nContent-Type: ");
		add_str(b, type);
		add_str(b, "\r\n\r\n");
	} else {
		add_str(b, "\"\r\n\r\n");
	}
}

struct form_fields { struct hp_buf *b; const char *boundary; bool plain; };

static int put_field(void *state, const char *name, const char *value)
{
	struct form_fields *ff = state;
	if (!plain_name(name)) {
		ff->plain = false;
		return -1;
	}
	part_head(ff->b, ff->boundary, name, NULL, NULL);
	add_str(ff->b, value);
	add_str(ff->b, "\r\n");
	return ff->b->oom ? -1 : 0;
}

/* libcurl's form boundary: 24 dashes and 16 random hex digits. */
static int make_boundary(char *b, size_t n)
{
	unsigned char r[8];
	FILE *u = fopen("/dev/urandom", "rb");
	size_t got = u ? fread(r, 1, sizeof r, u) : 0;
	if (u)
		fclose(u);
	if (got != sizeof r)
		return -1;
	snprintf(b, n, "------------------------%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	         r[6], r[7]);
	return 0;
}

static int read_whole(int fd, char *buf, off_t size)
{
	for (off_t pos = 0; pos < size;) {
		ssize_t got = pread(fd, buf + pos, (size_t)(size - pos), pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		pos += got;
	}
	return 0;
}

/* Whether needle occurs in the n bytes at hay. */
static bool holds(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k > 0 && k <= n && i <= n - k; i++) {
		const char *p = memchr(hay + i, needle[0], n - k + 1 - i);
		if (!p)
			return false;
		i = (size_t)(p - hay);
		if (memcmp(p, needle, k) == 0)
			return true;
	}
	return false;
}

/* The form into b: 0, 1 (not for a prebuilt form) or -1 (out of memory). */
static int form_build(struct hp_buf *b, const struct hp_request_ctx *ctx, const struct hp_upload *up,
                      const char *boundary)
{
	part_head(b, boundary, "file", up->filename, up->mime_type);
	size_t at = b->len, size = (size_t)up->size;
	if (b->oom || hp_grow(&b->data, &b->cap, at + size + 1, 256) < 0)
		return -1;
	if (read_whole(up->fd, b->data + at, up->size) < 0)
		return 1;
	b->len += size;
	b->data[b->len] = '\0';
	if (holds(b->data + at, size, boundary))
		return 1;
	add_str(b, "\r\n");
	struct form_fields ff = { b, boundary, true };
	if (hp_request_each_field(ctx, put_field, &ff) < 0)
		return ff.plain ? -1 : 1;
	add_str(b, "--");
	add_str(b, boundary);
	add_str(b, "--\r\n");
	return b->oom ? -1 : 0;
}

/* The context's headers and ctype, copied. NULL when out of memory. */
static struct curl_slist *form_headers(const struct hp_request_ctx *ctx, const char *ctype)
{
	struct curl_slist *h = NULL;
	for (const struct curl_slist *s = ctx->headers;; s = s->next) {
		struct curl_slist *n = curl_slist_append(h, s ? s->data : ctype);
		if (!n) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = n;
		if (!s)
			return h;
	}
}

int hp_form_body_build(struct hp_form_body *fb, const struct hp_request_ctx *ctx, const struct hp_upload *up,
                       size_t max)
{
	memset(fb, 0, sizeof *fb);
	if (up->source || up->fd < 0 || up->size < 0 || (unsigned long long)up->size > max || !up->filename ||
	    !up->mime_type || !plain_name(up->filename) || !plain_name(up->mime_type))
		return 1;
	char boundary[48], ctype[128];
	if (make_boundary(boundary, sizeof boundary) < 0)
		return 1;
	snprintf(ctype, sizeof ctype, "Content-Type: multipart/form-data; boundary=%s", boundary);
	struct hp_buf b = { 0 };
	int rc = form_build(&b, ctx, up, boundary);
	if (rc == 0 && !(fb->headers = form_headers(ctx, ctype)))
		rc = -1;
	if (rc != 0) {
		hp_buf_clear(&b);
		return rc;
	}
	fb->data = b.data;
	fb->len = b.len;
	return 0;
}

void hp_form_body_free(struct hp_form_body *fb)
{
	if (!fb)
		return;
	for (struct curl_slist *s = fb->headers; s; s = s->next)
		memset(s->data, 0, strlen(s->data)); /* the key's header */
	curl_slist_free_all(fb->headers);
	free(fb->data);
	memset(fb, 0, sizeof *fb);
}

/* Append s to the growing command line. */
static int append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 256;
		while (c < *len + n + 1)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b)
			return -1;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

/* " -F 'name=value'" with value shell-quoted. */
static int append_quoted(char **buf, size_t *len, size_t *cap, const char *prefix, const char *value)
{
	char *q = hp_shell_quote(value);
	int rc = q ? (append(buf, len, cap, prefix) | append(buf, len, cap, q)) : -1;
	free(q);
	return rc;
}

/* s with '"' and '\\' escaped, as curl's -F reads a double-quoted value. */
static char *form_quoted(const char *s)
{
	char *f = malloc(2 * strlen(s) + 3), *w = f;
	if (!f)
		return NULL;
	*w++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*w++ = '\\';
		*w++ = *s;
	}
	strcpy(w, "\"");
	return f;
}

/* The file part as the run sends it: the file (or standard input), its
 * multipart filename and type (curl guesses application/octet-stream for an
 * mp4, a WebP, a BMP...), or a URL input's source field. */
static int append_file_part(char **buf, size_t *len, size_t *cap, const char *path, const struct hp_upload *up)
{
	if (hp_is_url_input(path)) {
		if (append_quoted(buf, len, cap, " --form-string ", "source=") < 0)
			return -1;
		int rc = 0;
		(*buf)[--*len] = '\0'; /* drop the closing quote: the URL joins the quoted word */
		char *q = hp_shell_quote(path);
		rc |= q ? append(buf, len, cap, q + 1) : -1; /* 'source=' + 'URL' -> 'source=URL' */
		free(q);
		return rc;
	}
	char *file = strcmp(path, "-") == 0 ? strdup("-") : form_quoted(path);
	char *name = up && up->filename ? form_quoted(up->filename) : NULL;
	const char *type = up && up->mime_type ? up->mime_type : NULL;
	size_t n = (file ? strlen(file) : 0) + (name ? strlen(name) : 0) + (type ? strlen(type) : 0) + 32;
	char *part = malloc(n);
	int rc = -1;
	if (part && file) {
		snprintf(part, n, "file=@%s%s%s%s%s", file, name ? ";filename=" : "", name ? name : "",
		         type ? ";type=" : "", type ? type : "");
		rc = append_quoted(buf, len, cap, " -F ", part);
	}
	free(part);
	free(file);
	free(name);
	return rc;
}

char *hp_request_curl_command(const struct hp_request_ctx *ctx, const char *path, const struct hp_upload *up)
{
	const struct hp_form *f = &ctx->form;
	const struct hp_transport *t = &ctx->transport;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	char field[160];

	rc |= append_quoted(&buf, &len, &cap, "curl -X POST ", ctx->ep->url);
	/* a Platform request without a key goes without Authorization (public
	 * models); HUB always needs one */
	if (ctx->ep->flavour == HP_FLAVOUR_PLATFORM && ctx->headers)
		rc |= append(&buf, &len, &cap, " -H \"Authorization: Bearer $ULTRALYTICS_API_KEY\"");
	else if (ctx->ep->flavour != HP_FLAVOUR_PLATFORM)
		rc |= append(&buf, &len, &cap, " -H \"x-api-key: $ULTRALYTICS_API_KEY\"");
	rc |= append_file_part(&buf, &len, &cap, path, up);
	snprintf(field, sizeof field, " -F imgsz=%s -F conf=%s -F iou=%s", ctx->imgsz, ctx->conf, ctx->iou);
	rc |= append(&buf, &len, &cap, field);
	if (f->normalize)
		rc |= append(&buf, &len, &cap, " -F normalize=true");
	if (f->decimals >= 0) {
		snprintf(field, sizeof field, " -F decimals=%s", ctx->decimals);
		rc |= append(&buf, &len, &cap, field);
	}
	for (size_t i = 0; i < f->n_fields; i++) /* as it is: no @file or <file */
		rc |= append_quoted(&buf, &len, &cap, " --form-string ", f->fields[i]);
	/* the run accepts every encoding libcurl decodes, as --compressed asks */
	snprintf(field, sizeof field, " -A %s --compressed", HP_USER_AGENT);
	rc |= append(&buf, &len, &cap, field);
	char num[32];
	hp_fmt_double(num, sizeof num, t->connect_timeout);
	snprintf(field, sizeof field, " --connect-timeout %s", num);
	rc |= append(&buf, &len, &cap, field);
	if (t->timeout > 0) {
		hp_fmt_double(num, sizeof num, t->timeout);
		snprintf(field, sizeof field, " --max-time %s", num);
		rc |= append(&buf, &len, &cap, field);
	}
	snprintf(field, sizeof field, " --speed-limit 1 --speed-time %ld", t->stall_seconds);
	rc |= append(&buf, &len, &cap, field);
	if (t->cacert)
		rc |= append_quoted(&buf, &len, &cap, " --cacert ", t->cacert);
	if (t->insecure)
		rc |= append(&buf, &len, &cap, " --insecure");
	if (rc) {
		free(buf);
		return NULL;
	}
	return buf;
}
