/* text.c - escaping for terminals, JSON and CSV; numbers in the C locale. */
#include "hubpredict/text.h"
#include "hubpredict/output.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t hp_utf8_seq_len(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned cp;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1Fu;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0Fu;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0; /* overlong or out of range */
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return 0; /* surrogate */
	return len;
}

static unsigned utf8_decode(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0];
	unsigned cp = s[0] & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3Fu);
	return cp;
}

int hp_codepoint_width(unsigned cp)
{
	/* Zero width: combining marks, zero-width joiners/spaces, variation selectors. */
	if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
	    (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
	    (cp >= 0xFE20 && cp <= 0xFE2F) || (cp >= 0x200B && cp <= 0x200F) ||
	    (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0x00AD ||
	    (cp >= 0xE0100 && cp <= 0xE01EF))
		return 0;
	/* Wide: East Asian Wide/Fullwidth blocks and emoji. */
	if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
	    (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	    (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
	    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
	    (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x1F680 && cp <= 0x1F6FF) ||
	    (cp >= 0x20000 && cp <= 0x3FFFD))
		return 2;
	return 1;
}

int hp_term_escape(char *dst, size_t dstlen, const char *s, size_t n, bool *truncated)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	int width = 0;
	bool cut = false;
	if (dstlen == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		char esc[8];
		size_t elen = 0;
		size_t adv = 1;
		int w;
		size_t sl = hp_utf8_seq_len(p + i, n - i);
		if (sl == 0) {
			elen = (size_t)snprintf(esc, sizeof esc, "\\x%02X", p[i]);
			w = (int)elen;
		} else if (sl == 1 && (p[i] < 0x20 || p[i] == 0x7F)) {
			switch (p[i]) {
			case '\t': memcpy(esc, "\\t", 3); elen = 2; break;
			case '\n': memcpy(esc, "\\n", 3); elen = 2; break;
			case '\r': memcpy(esc, "\\r", 3); elen = 2; break;
			case 0x1B: memcpy(esc, "\\e", 3); elen = 2; break;
			default: elen = (size_t)snprintf(esc, sizeof esc, "\\x%02X", p[i]);
			}
			w = (int)elen;
		} else {
			unsigned cp = utf8_decode(p + i, sl);
			if (cp >= 0x80 && cp < 0xA0) { /* C1 controls */
				elen = (size_t)snprintf(esc, sizeof esc, "\\u%04X", cp);
				w = (int)elen;
			} else if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
			           (cp >= 0x2066 && cp <= 0x2069)) {
				/* line separators and bidi overrides: could reorder the terminal */
				elen = (size_t)snprintf(esc, sizeof esc, "\\u%04X", cp);
				w = (int)elen;
			} else {
				memcpy(esc, p + i, sl);
				elen = sl;
				w = hp_codepoint_width(cp);
			}
			adv = sl;
		}
		if (o + elen >= dstlen) {
			cut = true;
			break;
		}
		memcpy(dst + o, esc, elen);
		o += elen;
		width += w;
		i += adv;
	}
	dst[o] = '\0';
	if (truncated)
		*truncated = cut;
	return width;
}

/* The three writers below share one loop: a rule looks at the sequence at p
 * (left bytes remain) and returns NULL to copy *adv bytes unchanged, or the
 * text to write in place of *adv bytes (buf is scratch space for it). */
typedef const char *(*subst_rule)(const unsigned char *p, size_t left, size_t *adv, char buf[8], bool flag);

static void write_with(struct hp_output *out, const unsigned char *p, size_t n, subst_rule rule, bool flag)
{
	size_t run = 0; /* start of a run of bytes to copy unchanged */
	size_t i = 0;
	char buf[8];
	while (i < n) {
		size_t adv = 1;
		const char *rep = rule(p + i, n - i, &adv, buf, flag);
		if (rep) {
			hp_out_write(out, p + run, i - run);
			hp_out_puts(out, rep);
			run = i + adv;
		}
		i += adv;
	}
	hp_out_write(out, p + run, n - run);
}

static const char replacement_char[] = "\xef\xbf\xbd"; /* U+FFFD */

/* Inside a JSON string. With json_text the input is JSON text already, so
 * its escapes are kept as they are (an escape and the character after it). */
static const char *json_rule(const unsigned char *p, size_t left, size_t *adv, char buf[8], bool json_text)
{
	unsigned char c = p[0];
	if (c == '\\') {
		if (json_text) {
			*adv = left > 1 ? 2 : 1;
			return NULL;
		}
		return "\\\\";
	}
	if (c == '"' && !json_text)
		return "\\\"";
	if (c < 0x20 || c == 0x7F) {
		switch (c) {
		case '\n': return "\\n";
		case '\r': return "\\r";
		case '\t': return "\\t";
		case '\b': return "\\b";
		case '\f': return "\\f";
		default:
			snprintf(buf, 8, "\\u%04x", c);
			return buf;
		}
	}
	if (c >= 0x80) {
		size_t sl = hp_utf8_seq_len(p, left);
		if (sl == 0)
			return "\\ufffd";
		*adv = sl;
	}
	return NULL;
}

static void json_string_body(struct hp_output *out, const unsigned char *p, size_t n, bool json_text)
{
	write_with(out, p, n, json_rule, json_text);
}

void hp_json_write_string(struct hp_output *out, const char *s, size_t n)
{
	hp_out_write(out, "\"", 1);
	json_string_body(out, (const unsigned char *)s, n, false);
	hp_out_write(out, "\"", 1);
}

void hp_json_write_minified(struct hp_output *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	while (i < n) {
		unsigned char c = p[i];
		if (c == '"') {
			/* find the closing quote, skipping escapes */
			size_t j = i + 1;
			while (j < n && p[j] != '"')
				j += (p[j] == '\\') ? 2 : 1;
			if (j > n)
				j = n;
			if (i + 1 > run)
				hp_out_write(out, p + run, i + 1 - run);
			json_string_body(out, p + i + 1, j - i - 1, true);
			if (j < n)
				hp_out_write(out, "\"", 1);
			i = j + 1;
			run = i;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (i > run)
				hp_out_write(out, p + run, i - run);
			i++;
			run = i;
		} else {
			i++;
		}
	}
	if (n > run)
		hp_out_write(out, p + run, n - run);
}

/* A CSV field's bytes; quoted: the field is in quotes, so a quote doubles. */
static const char *csv_rule(const unsigned char *p, size_t left, size_t *adv, char buf[8], bool quoted)
{
	(void)buf;
	size_t sl = hp_utf8_seq_len(p, left);
	if (p[0] == '"' && quoted)
		return "\"\"";
	if (sl == 0)
		return replacement_char; /* invalid UTF-8 */
	if (sl == 1 && ((p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' && p[0] != '\r') || p[0] == 0x7f))
		return replacement_char; /* a control character could drive a terminal */
	*adv = sl;
	if (sl == 2 && p[0] == 0xC2 && p[1] < 0xA0)
		return replacement_char; /* C1 control */
	return NULL;
}

void hp_csv_write_field(struct hp_output *out, const char *s, size_t n)
{
	bool quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
	for (size_t i = 0; i < n && !quote; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = true;
	if (quote)
		hp_out_write(out, "\"", 1);
	write_with(out, (const unsigned char *)s, n, csv_rule, quote);
	if (quote)
		hp_out_write(out, "\"", 1);
}

/* XML 1.0 text or (attr) attribute value. */
static const char *xml_rule(const unsigned char *p, size_t left, size_t *adv, char buf[8], bool attr)
{
	(void)buf;
	size_t sl = hp_utf8_seq_len(p, left);
	if (sl == 0)
		return replacement_char; /* invalid UTF-8 */
	*adv = sl;
	if (sl == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE)
		return replacement_char; /* U+FFFE, U+FFFF: not XML characters */
	if (sl > 1)
		return NULL;
	switch (p[0]) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&apos;";
	case '\r': return "&#13;";
	case '\n': return attr ? "&#10;" : NULL;
	case '\t': return attr ? "&#9;" : NULL;
	default: return p[0] < 0x20 ? replacement_char : NULL; /* not allowed in XML 1.0 */
	}
}

void hp_xml_write_text(struct hp_output *out, const char *s, size_t n, bool attr)
{
	write_with(out, (const unsigned char *)s, n, xml_rule, attr);
}

int hp_fmt_double(char *dst, size_t dstlen, double v)
{
	if (isnan(v))
		return snprintf(dst, dstlen, "nan");
	if (isinf(v))
		return snprintf(dst, dstlen, v < 0 ? "-inf" : "inf");
	int len = 0;
	for (int prec = 15; prec <= 17; prec++) {
		len = snprintf(dst, dstlen, "%.*g", prec, v);
		if (strtod(dst, NULL) == v)
			break;
	}
	return len;
}

char *hp_shell_quote(const char *s)
{
	size_t n = 2;
	for (const char *p = s; *p; p++)
		n += (*p == '\'') ? 4 : 1;
	char *q = malloc(n + 1);
	if (!q)
		return NULL;
	char *o = q;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}

bool hp_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t k = hp_utf8_seq_len(p + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void hp_json_write_base64(struct hp_output *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	hp_out_puts(out, "\"");
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63], i + 1 < n ? b64[v >> 6 & 63] : '=',
		              i + 2 < n ? b64[v & 63] : '=' };
		hp_out_write(out, q, 4);
	}
	hp_out_puts(out, "\"");
}

long hp_base64_decode(char *dst, const char *s, size_t n)
{
	size_t o = 0;
	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		unsigned v = 0;
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			const char *c = s[i + k] ? strchr(b64, s[i + k]) : NULL;
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (!c || pad)
				return -1;
			v = v << 6 | (unsigned)(c - b64);
		}
		dst[o++] = (char)(v >> 16);
		if (pad < 2)
			dst[o++] = (char)(v >> 8 & 0xFF);
		if (pad < 1)
			dst[o++] = (char)(v & 0xFF);
	}
	dst[o] = '\0';
	return (long)o;
}
