/* jsoncheck.c - is a body strict RFC 8259 JSON? Checked before cJSON parses
 * it, because cJSON is lenient (any byte up to 0x20 as white space, a BOM,
 * numbers like 01 or 1., \u with non-hex digits) and a body it accepts is
 * copied into json/jsonl output as it is. Iterative, with a depth limit, so
 * no input can exhaust the stack. Bytes inside strings are not checked for
 * UTF-8: the writers turn invalid sequences into U+FFFD. */
#include "hubpredict/response.h"

#include <stdbool.h>
#include <string.h>

#define MAX_DEPTH 1000

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* p points after the opening quote; returns the position after the closing one, or NULL. */
static const unsigned char *string_end(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		unsigned char c = *p++;
		if (c == '"')
			return p;
		if (c < 0x20)
			return NULL;
		if (c != '\\')
			continue;
		if (p >= end)
			return NULL;
		c = *p++;
		if (c == 'u') {
			if (end - p < 4 || !is_hex(p[0]) || !is_hex(p[1]) || !is_hex(p[2]) || !is_hex(p[3]))
				return NULL;
			p += 4;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return NULL;
		}
	}
	return NULL;
}

static const unsigned char *digits(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *start = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > start ? p : NULL;
}

static const unsigned char *number_end(const unsigned char *p, const unsigned char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (!(p = digits(p, end)))
		return NULL;
	if (p < end && *p == '.' && !(p = digits(p + 1, end)))
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = digits(p, end)))
			return NULL;
	}
	return p;
}

static const unsigned char *literal_end(const unsigned char *p, const unsigned char *end, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

bool hp_json_check(const char *text, size_t n, size_t *bad_at)
{
	const unsigned char *start = (const unsigned char *)text, *p = start, *end = start + n;
	char stack[MAX_DEPTH];
	int depth = 0;
	enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } state = VALUE;
	for (;;) {
		while (p < end && is_ws(*p))
			p++;
		if (state == AFTER) {
			if (depth == 0) {
				if (p == end)
					return true;
				goto bad;
			}
			if (p == end)
				goto bad;
			char top = stack[depth - 1];
			if (*p == ',') {
				p++;
				state = top == '{' ? KEY : VALUE;
			} else if ((top == '{' && *p == '}') || (top == '[' && *p == ']')) {
				p++;
				depth--;
			} else {
				goto bad;
			}
			continue;
		}
		if (p == end)
			goto bad;
		if (state == KEY || state == KEY_OR_CLOSE) {
			if (state == KEY_OR_CLOSE && *p == '}') {
				p++;
				depth--;
				state = AFTER;
				continue;
			}
			if (*p != '"' || !(p = string_end(p + 1, end)))
				goto bad;
			while (p < end && is_ws(*p))
				p++;
			if (p == end || *p != ':')
				goto bad;
			p++;
			state = VALUE;
			continue;
		}
		/* a value */
		if (state == VALUE_OR_CLOSE && *p == ']') {
			p++;
			depth--;
			state = AFTER;
			continue;
		}
		const unsigned char *next;
		switch (*p) {
		case '{':
		case '[':
			if (depth == MAX_DEPTH)
				goto bad;
			stack[depth++] = (char)*p;
			state = *p == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
			p++;
			continue;
		case '"': next = string_end(p + 1, end); break;
		case 't': next = literal_end(p, end, "true"); break;
		case 'f': next = literal_end(p, end, "false"); break;
		case 'n': next = literal_end(p, end, "null"); break;
		default: next = number_end(p, end); break;
		}
		if (!next)
			goto bad;
		p = next;
		state = AFTER;
	}
bad:
	if (bad_at)
		*bad_at = (size_t)(p - start);
	return false;
}
