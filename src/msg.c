/* msg.c - stderr messages: one line each, prefixed, key scrubbed. */
#include "hubpredict/msg.h"
#include "hubpredict/text.h"

#include <stdarg.h>
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

void hp_msg_set_secret(const char *key) { msg_secret = (key && *key) ? key : NULL; }
void hp_msg_set_quiet(bool quiet) { msg_quiet = quiet; }
void hp_msg_set_verbose(int level) { msg_verbose = level; }
int hp_msg_verbose_level(void) { return msg_verbose; }

char *hp_msg_scrub(char *buf, size_t buflen)
{
	static const char red[] = "[redacted]";
	if (!msg_secret || buflen == 0)
		return buf;
	size_t klen = strlen(msg_secret);
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

void hp_msg_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

void hp_msg_warn(const char *fmt, ...)
{
	if (msg_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("warning: ", fmt, ap);
	va_end(ap);
}

void hp_msg_verbose(int level, const char *fmt, ...)
{
	if (msg_verbose < level)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
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
