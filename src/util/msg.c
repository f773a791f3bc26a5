/* msg.c - stderr messages: one line each, prefixed, key scrubbed. */
#include "hubpredict/msg.h"
#include "hubpredict/text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The message settings are process-wide by nature (there is one stderr). */
static const char *msg_secret;
static bool msg_quiet;
static int msg_verbose;
static void (*msg_hook)(void *);
static void *msg_hook_arg;

void hp_msg_set_before_hook(void (*fn)(void *), void *arg)
{
	msg_hook = fn;
	msg_hook_arg = arg;
}

void hp_msg_set_quiet(bool quiet) { msg_quiet = quiet; }
void hp_msg_set_verbose(int level) { msg_verbose = level; }
int hp_msg_verbose_level(void) { return msg_verbose; }

/* The key's windows of KEY_RUN bytes, sorted, to find any run of KEY_RUN or
 * more of its characters (a server may quote part of it: "ul_3f9a...") */
#define KEY_RUN 8
#define KEY_MAX 512
static uint64_t key_grams[KEY_MAX];
static size_t n_key_grams;

static uint64_t gram_at(const char *p)
{
	uint64_t g = 0;
	for (int i = 0; i < KEY_RUN; i++)
		g = g << 8 | (unsigned char)p[i];
	return g;
}

static int cmp_gram(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void hp_msg_set_secret(const char *key)
{
	msg_secret = (key && *key) ? key : NULL;
	n_key_grams = 0;
	size_t klen = msg_secret ? strlen(msg_secret) : 0;
	for (size_t i = 0; klen >= KEY_RUN && i + KEY_RUN <= klen && n_key_grams < KEY_MAX; i++)
		key_grams[n_key_grams++] = gram_at(msg_secret + i);
	qsort(key_grams, n_key_grams, sizeof *key_grams, cmp_gram);
}

static bool is_key_gram(const char *p)
{
	uint64_t g = gram_at(p);
	return bsearch(&g, key_grams, n_key_grams, sizeof *key_grams, cmp_gram) != NULL;
}

/* The next span of buf[from..n) covered by windows that are also in the
 * key: true with [*start, *end), or false. */
static bool next_key_span(const char *buf, size_t n, size_t from, size_t *start, size_t *end)
{
	for (size_t i = from; i + KEY_RUN <= n; i++) {
		if (!is_key_gram(buf + i))
			continue;
		size_t e = i + KEY_RUN;
		for (size_t k = i + 1; k + KEY_RUN <= n && k <= e; k++)
			if (is_key_gram(buf + k))
				e = k + KEY_RUN;
		*start = i;
		*end = e;
		return true;
	}
	return false;
}

size_t hp_msg_mask(char *buf, size_t n)
{
	size_t masked = 0;
	if (!msg_secret || n_key_grams == 0)
		return 0;
	/* only inside string literals: a number's digits may match a run of the
	 * key's, and masking them would corrupt the document */
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '"')
			continue;
		size_t start = i + 1, end = start;
		while (end < n && buf[end] != '"')
			end += buf[end] == '\\' ? 2 : 1;
		if (end > n)
			end = n;
		size_t from = start, s0, e0;
		while (next_key_span(buf + start, end - start, from - start, &s0, &e0)) {
			memset(buf + start + s0, '*', e0 - s0);
			masked += e0 - s0;
			from = start + e0;
		}
		i = end;
	}
	return masked;
}

bool hp_msg_holds_secret(const char *buf, size_t n)
{
	size_t start, end;
	return msg_secret && n_key_grams > 0 && next_key_span(buf, n, 0, &start, &end);
}

char *hp_msg_scrub(char *buf, size_t buflen)
{
	static const char red[] = "[redacted]";
	if (!msg_secret || buflen == 0)
		return buf;
	size_t klen = strlen(msg_secret);
	if (n_key_grams > 0) {
		/* every run of KEY_RUN or more of the key's characters */
		size_t n = strlen(buf), from = 0, start, end;
		while (next_key_span(buf, n, from, &start, &end)) {
			size_t rlen = sizeof red - 1, tail = n - end;
			if (start + rlen + tail + 1 > buflen) { /* no room: blank the run out */
				memset(buf + start, '*', end - start);
				from = end;
				continue;
			}
			memmove(buf + start + rlen, buf + end, tail + 1);
			memcpy(buf + start, red, rlen);
			n = start + rlen + tail;
			from = start + rlen;
		}
		return buf;
	}
	char *hit;
	char *from = buf;
	while ((hit = strstr(from, msg_secret)) != NULL) {
		size_t tail = strlen(hit + klen);
		size_t rlen = sizeof red - 1;
		size_t pos = (size_t)(hit - buf);
		if (pos + rlen + tail + 1 > buflen) { /* no room: blank the key out */
			memset(hit, '*', klen);
			from = hit + klen;
			continue;
		}
		memmove(hit + rlen, hit + klen, tail + 1);
		memcpy(hit, red, rlen);
		from = hit + rlen;
	}
	return buf;
}

/* Print "hubpredict: " + prefix + formatted text as one safe line. */
static void emit(const char *prefix, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void emit(const char *prefix, const char *fmt, va_list ap)
{
	char raw[4096];
	char safe[8192];
	vsnprintf(raw, sizeof raw, fmt, ap);
	hp_msg_scrub(raw, sizeof raw);
	hp_term_escape(safe, sizeof safe, raw, strlen(raw), NULL);
	if (msg_hook)
		msg_hook(msg_hook_arg);
	fprintf(stderr, "hubpredict: %s%s\n", prefix, safe);
	fflush(stderr);
}

/* The body of each printf-like entry point below: its arguments to emit(). */
#define EMIT(prefix, fmt)                      \
	do {                                       \
		va_list ap;                            \
		va_start(ap, fmt);                     \
		emit(prefix, fmt, ap);                 \
		va_end(ap);                            \
	} while (0)

void hp_msg_error(const char *fmt, ...)
{
	EMIT("", fmt);
}

void hp_msg_warn(const char *fmt, ...)
{
	if (!msg_quiet)
		EMIT("warning: ", fmt);
}

void hp_msg_note(const char *fmt, ...)
{
	if (!msg_quiet)
		EMIT("note: ", fmt);
}

void hp_msg_verbose(int level, const char *fmt, ...)
{
	if (msg_verbose >= level)
		EMIT("", fmt);
}

void hp_msg_trace(const char *prefix, const char *text, size_t n)
{
	char line[2048];
	char safe[4096];
	size_t start = 0;
	if (msg_hook)
		msg_hook(msg_hook_arg);
	while (start < n) {
		size_t end = start;
		while (end < n && text[end] != '\n')
			end++;
		size_t len = end - start;
		if (len > 0 && text[start + len - 1] == '\r')
			len--;
		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, text + start, len);
		line[len] = '\0';
		hp_msg_scrub(line, sizeof line);
		hp_term_escape(safe, sizeof safe, line, strlen(line), NULL);
		fprintf(stderr, "%s%s\n", prefix, safe);
		start = end + 1;
	}
}

const char *hp_msg_quote(char *dst, size_t dstlen, const char *name)
{
	bool cut = false;
	if (dstlen < 8) {
		if (dstlen)
			dst[0] = '\0';
		return dst;
	}
	dst[0] = '\'';
	hp_term_escape(dst + 1, dstlen - 5, name, strlen(name), &cut);
	/* a quote inside the name is shown as \' so the quoting stays readable */
	size_t l = strlen(dst);
	for (size_t i = 1; i < l && l + 5 < dstlen; i++) {
		if (dst[i] == '\'') {
			memmove(dst + i + 1, dst + i, l - i + 1);
			dst[i++] = '\\';
			l++;
		}
	}
	if (cut) {
		memcpy(dst + l, "...", 3);
		l += 3;
	}
	dst[l] = '\'';
	dst[l + 1] = '\0';
	return dst;
}
