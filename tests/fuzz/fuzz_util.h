/* fuzz_util.h - what the fuzz targets check their outputs with: a strict
 * RFC 8259 JSON validator (valid UTF-8 included), a strict RFC 4180 CSV
 * reader, and a CHECK that aborts (a crash to libFuzzer) unless the check is
 * named in $HP_FUZZ_SKIP.
 *
 * Everything here is independent of the code under test on purpose: it does
 * not call text.c's UTF-8 helpers, so a bug there cannot hide itself.
 */
#ifndef HP_FUZZ_UTIL_H
#define HP_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checks ------------------------------------------------------------- */

/* HP_FUZZ_SKIP="json-lenient,csv-ctrl" turns those named checks off (to fuzz
 * on past a known, reported finding). Sanitizer reports cannot be skipped. */
static const char *hpf_skip_list;

static inline void hpf_init_skips(void)
{
	hpf_skip_list = getenv("HP_FUZZ_SKIP");
}

static inline bool hpf_skipped(const char *name)
{
	const char *s = hpf_skip_list;
	size_t n = strlen(name);
	while (s && *s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == n && strncmp(s, name, n) == 0)
			return true;
		s = e ? e + 1 : NULL;
	}
	return false;
}

static inline void hpf_dump(const char *what, const void *p, size_t n)
{
	const unsigned char *s = p;
	fprintf(stderr, "%s (%zu bytes): \"", what, n);
	for (size_t i = 0; i < n && i < 400; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7F && s[i] != '"' && s[i] != '\\')
			fputc(s[i], stderr);
		else
			fprintf(stderr, "\\x%02x", s[i]);
	}
	fprintf(stderr, "%s\"\n", n > 400 ? "..." : "");
}

#define HPF_CHECK(name, cond, ...)                                                          \
	do {                                                                                \
		if (!(cond) && !hpf_skipped(name)) {                                        \
			fprintf(stderr, "\nFUZZ CHECK FAILED [%s] %s:%d: ", name, __FILE__, \
			        __LINE__);                                                  \
			fprintf(stderr, __VA_ARGS__);                                       \
			fprintf(stderr, "\n(skip with HP_FUZZ_SKIP=%s)\n", name);           \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* HPF_CHECK, and on failure first show the bytes concerned. */
#define HPF_CHECK_DUMP(name, cond, what, ptr, len, ...)                                     \
	do {                                                                                \
		if (!(cond) && !hpf_skipped(name)) {                                        \
			hpf_dump(what, ptr, len);                                           \
			HPF_CHECK(name, false, __VA_ARGS__);                                \
		}                                                                           \
	} while (0)

/* ---- UTF-8 -------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), else 0. */
static inline size_t hpf_utf8_len(const unsigned char *s, size_t n, unsigned *cp_out)
{
	if (n == 0)
		return 0;
	unsigned c = s[0];
	size_t len;
	unsigned cp, lo = 0x80, hi = 0xBF;
	if (c < 0x80) {
		*cp_out = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	*cp_out = cp;
	return len;
}

static inline bool hpf_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned cp;
	for (size_t i = 0; i < n;) {
		size_t l = hpf_utf8_len(s + i, n - i, &cp);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

/* A code point that must not reach a terminal raw: C0 controls but LF (when
 * allow_lf), DEL, C1 controls, line/paragraph separators, bidi controls. */
static inline bool hpf_unsafe_cp(unsigned cp, bool allow_lf)
{
	if (cp == '\n')
		return !allow_lf;
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Offset of the first byte that is invalid UTF-8 or an unsafe code point
 * (see above), or (size_t)-1 when the text is safe for a terminal. */
static inline size_t hpf_first_unsafe(const void *p, size_t n, bool allow_lf)
{
	const unsigned char *s = p;
	unsigned cp;
	for (size_t i = 0; i < n;) {
		size_t l = hpf_utf8_len(s + i, n - i, &cp);
		if (!l || hpf_unsafe_cp(cp, allow_lf))
			return i;
		i += l;
	}
	return (size_t)-1;
}

/* ---- strict JSON (RFC 8259, UTF-8, paired surrogates) ------------------- */

struct hpf_json {
	const unsigned char *p, *end;
	int depth;
};

static inline void hpf_json_ws(struct hpf_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static inline int hpf_hex4(const unsigned char *p, const unsigned char *end)
{
	if (end - p < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static inline bool hpf_json_string(struct hpf_json *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned c = *j->p, cp;
		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (j->end - j->p < 2)
				return false;
			c = j->p[1];
			if (c == 'u') {
				int u = hpf_hex4(j->p + 2, j->end);
				if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
					return false;
				j->p += 6;
				if (u >= 0xD800 && u <= 0xDBFF) {
					if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
						return false;
					int lo = hpf_hex4(j->p + 2, j->end);
					if (lo < 0xDC00 || lo > 0xDFFF)
						return false;
					j->p += 6;
				}
				continue;
			}
			if (!strchr("\"\\/bfnrt", (int)c) || c == 0)
				return false;
			j->p += 2;
			continue;
		}
		size_t l = hpf_utf8_len(j->p, (size_t)(j->end - j->p), &cp);
		if (!l)
			return false;
		j->p += l;
	}
	return false;
}

static inline bool hpf_json_digits(struct hpf_json *j)
{
	const unsigned char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static inline bool hpf_json_number(struct hpf_json *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return false;
	if (*j->p == '0')
		j->p++;
	else if (!hpf_json_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!hpf_json_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!hpf_json_digits(j))
			return false;
	}
	return true;
}

static inline bool hpf_json_value(struct hpf_json *j);

static inline bool hpf_json_container(struct hpf_json *j, unsigned char close)
{
	if (++j->depth > 4000)
		return false;
	j->p++;
	hpf_json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (close == '}') {
			if (!hpf_json_string(j))
				return false;
			hpf_json_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return false;
			j->p++;
			hpf_json_ws(j);
		}
		if (!hpf_json_value(j))
			return false;
		hpf_json_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		if (*j->p != ',')
			return false;
		j->p++;
		hpf_json_ws(j);
	}
}

static inline bool hpf_json_literal(struct hpf_json *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static inline bool hpf_json_value(struct hpf_json *j)
{
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{': return hpf_json_container(j, '}');
	case '[': return hpf_json_container(j, ']');
	case '"': return hpf_json_string(j);
	case 't': return hpf_json_literal(j, "true");
	case 'f': return hpf_json_literal(j, "false");
	case 'n': return hpf_json_literal(j, "null");
	default: return hpf_json_number(j);
	}
}

/* True when s[0..n) is exactly one JSON text (RFC 8259), white space around. */
static inline bool hpf_json_valid(const void *s, size_t n)
{
	struct hpf_json j = { (const unsigned char *)s, (const unsigned char *)s + n, 0 };
	hpf_json_ws(&j);
	if (!hpf_json_value(&j))
		return false;
	hpf_json_ws(&j);
	return j.p == j.end;
}

/* ---- strict CSV (RFC 4180 with LF line ends) ---------------------------- */

/* Read one field at *pp; its unquoted value goes to val (if not NULL, up to
 * valcap bytes, length in *vlen). Returns false when the field is malformed:
 * a quote inside an unquoted field, a CR or LF outside quotes, an unclosed
 * quote, or text after a closing quote. */
static inline bool hpf_csv_field(const char **pp, const char *end, char *val, size_t valcap, size_t *vlen)
{
	const char *p = *pp;
	size_t o = 0;
	if (p < end && *p == '"') {
		p++;
		for (;;) {
			if (p >= end)
				return false;
			if (*p == '"') {
				if (p + 1 < end && p[1] == '"') {
					if (val && o < valcap)
						val[o] = '"';
					o++;
					p += 2;
					continue;
				}
				p++;
				break;
			}
			if (val && o < valcap)
				val[o] = *p;
			o++;
			p++;
		}
		if (p < end && *p != ',' && *p != '\n')
			return false;
	} else {
		while (p < end && *p != ',' && *p != '\n') {
			if (*p == '"' || *p == '\r')
				return false;
			if (val && o < valcap)
				val[o] = *p;
			o++;
			p++;
		}
	}
	if (vlen)
		*vlen = o;
	*pp = p;
	return true;
}

/* Count the records of a CSV text in which every record has `fields` fields
 * and ends with LF; -1 when it is malformed. */
static inline long hpf_csv_records(const char *s, size_t n, int fields)
{
	const char *p = s, *end = s + n;
	long records = 0;
	while (p < end) {
		for (int f = 0; f < fields; f++) {
			if (!hpf_csv_field(&p, end, NULL, 0, NULL))
				return -1;
			if (f + 1 < fields) {
				if (p >= end || *p != ',')
					return -1;
				p++;
			}
		}
		if (p >= end || *p != '\n')
			return -1;
		p++;
		records++;
	}
	return records;
}

#endif
