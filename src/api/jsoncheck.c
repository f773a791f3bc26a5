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

/* The checker's state between tokens. */
struct scan {
	const unsigned char *p, *end;
	char stack[MAX_DEPTH];     /* the open '{' and '[' */
	int depth;
	enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } state;
};

/* After a value: ',' or the close of the container (p at a non-blank, or
 * end). 1 = the document is complete, 0 = go on, -1 = bad. */
static int after_value(struct scan *s)
{
	if (s->depth == 0)
		return s->p == s->end ? 1 : -1;
	if (s->p == s->end)
		return -1;
	char top = s->stack[s->depth - 1];
	if (*s->p == ',') {
		s->p++;
		s->state = top == '{' ? KEY : VALUE;
	} else if ((top == '{' && *s->p == '}') || (top == '[' && *s->p == ']')) {
		s->p++;
		s->depth--;
	} else {
		return -1;
	}
	return 0;
}

/* A member's name and its ':', or the '}' of an empty object. 0, or -1 = bad. */
static int key(struct scan *s)
{
	if (s->state == KEY_OR_CLOSE && *s->p == '}') {
		s->p++;
		s->depth--;
		s->state = AFTER;
		return 0;
	}
	const unsigned char *q = *s->p == '"' ? string_end(s->p + 1, s->end) : NULL;
	if (!q)
		return -1; /* bad_at: the name's start */
	s->p = q;
	while (s->p < s->end && is_ws(*s->p))
		s->p++;
	if (s->p == s->end || *s->p != ':')
		return -1;
	s->p++;
	s->state = VALUE;
	return 0;
}

/* A value, the opening of a container, or the ']' of an empty array. 0, or -1 = bad. */
static int value(struct scan *s)
{
	const unsigned char *p = s->p, *next;
	if (s->state == VALUE_OR_CLOSE && *p == ']') {
		s->p++;
		s->depth--;
		s->state = AFTER;
		return 0;
	}
	switch (*p) {
	case '{':
	case '[':
		if (s->depth == MAX_DEPTH)
			return -1;
		s->stack[s->depth++] = (char)*p;
		s->state = *p == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
		s->p++;
		return 0;
	case '"': next = string_end(p + 1, s->end); break;
	case 't': next = literal_end(p, s->end, "true"); break;
	case 'f': next = literal_end(p, s->end, "false"); break;
	case 'n': next = literal_end(p, s->end, "null"); break;
	default: next = number_end(p, s->end); break;
	}
	if (!next)
		return -1;
	s->p = next;
	s->state = AFTER;
	return 0;
}

bool hp_json_check(const char *text, size_t n, size_t *bad_at)
{
	const unsigned char *start = (const unsigned char *)text;
	struct scan s = { .p = start, .end = start + n, .depth = 0, .state = VALUE };
	int rc = 0;
	while (rc == 0) {
		while (s.p < s.end && is_ws(*s.p))
			s.p++;
		if (s.state == AFTER)
			rc = after_value(&s);
		else if (s.p == s.end)
			rc = -1;
		else if (s.state == KEY || s.state == KEY_OR_CLOSE)
			rc = key(&s);
		else
			rc = value(&s);
	}
	if (rc > 0)
		return true;
	if (bad_at)
		*bad_at = (size_t)(s.p - start);
	return false;
}
