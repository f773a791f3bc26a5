/* jsoncheck.c - is a body strict RFC 8259 JSON? Checked before cJSON parses
 * it, because cJSON is lenient (any byte up to 0x20 as white space, a BOM,
 * numbers like 01 or 1., \u with non-hex digits) and a body it accepts is
 * copied into json/jsonl output as it is. Iterative, with a depth limit, so
 * no input can exhaust the stack. Bytes inside strings are not checked for
 * UTF-8: the writers turn invalid sequences into U+FFFD. */
#include "hubpredict/buf.h"
#include "hubpredict/response.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
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

/* What hp_json_parts records while it checks (NULL for hp_json_check). */
struct rec {
	struct hp_json_parts *out;
	size_t big;                /* an images[i] longer than this is cut into its results */
	const unsigned char *start;
	bool key_images, key_results; /* the last member name read, at depth 1 / 3 */
	bool images_open, results_open, seen_images, seen_results, failed;
	size_t image_start, results_at, results_close, result_start;
	size_t first_result;       /* this image's result parts begin here in out->v */
	size_t n_results;          /* in this image */
};

/* What hp_json_values records while it checks. */
struct visit {
	const unsigned char *start;
	const char *member;        /* NULL: the top-level array's elements; else this member */
	size_t member_len;         /* of the top-level object (its first one) */
	bool key_match, found, failed;
	size_t value_start;
	struct hp_json_range *v;
	size_t n, cap;
};

/* The checker's state between tokens. */
struct scan {
	const unsigned char *p, *end;
	char stack[MAX_DEPTH];     /* the open '{' and '[' */
	int depth;
	enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } state;
	struct rec *rec;
	struct visit *visit;
	size_t released;           /* bytes handed to release() */
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
	if (s->visit && s->depth == 1 && s->visit->member) {
		struct visit *v = s->visit;
		v->key_match = !v->found && (size_t)(q - s->p) == v->member_len + 2 &&
		               memcmp(s->p + 1, v->member, v->member_len) == 0;
	}
	if (s->rec) {
		bool images = q - s->p == 8 && memcmp(s->p, "\"images\"", 8) == 0;
		bool results = q - s->p == 9 && memcmp(s->p, "\"results\"", 9) == 0;
		s->rec->key_images = s->depth == 1 && images;
		s->rec->key_results = s->depth == 3 && s->rec->images_open && results;
	}
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

static void add_part(struct rec *r, struct hp_json_part part)
{
	struct hp_json_parts *o = r->out;
	struct hp_json_part *v = hp_grow_array(o->v, &o->cap, o->n + 1, sizeof *v, 64);
	if (!v) {
		r->failed = true;
		return;
	}
	o->v = v;
	o->v[o->n++] = part;
}

/* A value starts at s->p, at depth s->depth. */
static void value_starts(struct scan *s)
{
	struct rec *r = s->rec;
	size_t at = (size_t)(s->p - r->start);
	if (s->depth == 1 && r->key_images && !r->seen_images) {
		/* the first member named images is the one cJSON finds */
		r->seen_images = true;
		r->images_open = *s->p == '[';
		r->out->images_at = r->images_open ? at + 1 : 0;
	} else if (s->depth == 2 && r->images_open) {
		r->image_start = at;
		r->first_result = r->out->n;
		r->n_results = 0;
		r->results_at = r->results_close = 0;
		r->seen_results = false;
	} else if (s->depth == 3 && r->key_results && !r->seen_results) {
		r->seen_results = true;
		r->results_open = *s->p == '[';
		r->results_at = r->results_open ? at + 1 : 0;
	} else if (s->depth == 4 && r->results_open) {
		r->result_start = at;
	}
	r->key_images = r->key_results = false;
}

/* An images[i] ends at `at`: one part, or its members and a part per result. */
static void image_ends(struct rec *r, size_t at)
{
	struct hp_json_parts *o = r->out;
	size_t image = o->n_images++;
	if (at - r->image_start <= r->big || !r->results_close) {
		o->n = r->first_result; /* its results go with it */
		add_part(r, (struct hp_json_part){ .start = r->image_start, .end = at, .image = image,
		                                   .n_results = r->n_results });
		return;
	}
	/* the entry without its results first (shape, speed), then the results */
	size_t n = o->n - r->first_result;
	add_part(r, (struct hp_json_part){ 0 });
	if (r->failed)
		return;
	memmove(o->v + r->first_result + 1, o->v + r->first_result, n * sizeof *o->v);
	o->v[r->first_result] = (struct hp_json_part){ .start = r->image_start, .end = at, .cut_start = r->results_at,
	                                              .cut_end = r->results_close, .image = image,
	                                              .n_results = r->n_results };
}

/* A value ended at s->p, at depth s->depth. */
static void value_ends(struct scan *s)
{
	struct rec *r = s->rec;
	size_t at = (size_t)(s->p - r->start);
	if (s->depth == 4 && r->results_open) {
		/* results side by side go in one part up to `big` bytes */
		struct hp_json_parts *o = r->out;
		struct hp_json_part *last = o->n > r->first_result ? &o->v[o->n - 1] : NULL;
		if (last && at - last->start <= r->big)
			last->end = at, last->n_results++;
		else
			add_part(r, (struct hp_json_part){ .start = r->result_start, .end = at, .image = o->n_images,
			                                   .result = r->n_results, .n_results = 1, .is_result = true });
		r->n_results++;
	} else if (s->depth == 3 && r->results_open) {
		r->results_open = false;
		r->results_close = at - 1; /* the ']' */
	} else if (s->depth == 2 && r->images_open) {
		image_ends(r, at);
	} else if (s->depth == 1 && r->images_open) {
		r->images_open = false;
		r->out->images_end = at - 1;
	}
}

static void add_range(struct visit *v, size_t start, size_t end)
{
	struct hp_json_range *t = hp_grow_array(v->v, &v->cap, v->n + 1, sizeof *t, 64);
	if (!t) {
		v->failed = true;
		return;
	}
	v->v = t;
	v->v[v->n++] = (struct hp_json_range){ start, end };
}

/* The checker's hooks: a value starts at s->p, or ended there, at s->depth. */
static void on_start(struct scan *s)
{
	if (s->rec)
		value_starts(s);
	struct visit *v = s->visit;
	if (v && s->depth == 1 && (v->member ? v->key_match : s->stack[0] == '['))
		v->value_start = (size_t)(s->p - v->start);
}

static void on_end(struct scan *s)
{
	if (s->rec)
		value_ends(s);
	struct visit *v = s->visit;
	if (v && s->depth == 1 && (v->member ? v->key_match : s->stack[0] == '[')) {
		add_range(v, v->value_start, (size_t)(s->p - v->start));
		if (v->member)
			v->found = true, v->key_match = false;
	}
}

static bool walk(struct scan *s, size_t *bad_at, void (*release)(void *arg, size_t upto), void *arg)
{
	const unsigned char *start = s->p;
	int rc = 0;
	while (rc == 0) {
		while (s->p < s->end && is_ws(*s->p))
			s->p++;
		if (s->state == AFTER) {
			rc = after_value(s);
			if (rc == 0 && s->state == AFTER)
				on_end(s); /* a container closed */
		} else if (s->p == s->end) {
			rc = -1;
		} else if (s->state == KEY || s->state == KEY_OR_CLOSE) {
			rc = key(s);
			if (rc == 0 && s->state == AFTER)
				on_end(s); /* an empty object closed */
		} else {
			bool close = s->state == VALUE_OR_CLOSE && *s->p == ']';
			if (!close)
				on_start(s);
			rc = value(s);
			if (rc == 0 && s->state == AFTER)
				on_end(s); /* a scalar, or an empty array closed */
		}
		if (release && (size_t)(s->p - start) - s->released >= HP_JSON_RELEASE_STEP) {
			s->released = (size_t)(s->p - start) & ~(HP_JSON_RELEASE_STEP - 1);
			release(arg, s->released);
		}
	}
	if (rc > 0)
		return true;
	if (bad_at)
		*bad_at = (size_t)(s->p - start);
	return false;
}

bool hp_json_check(const char *text, size_t n, size_t *bad_at)
{
	const unsigned char *start = (const unsigned char *)text;
	struct scan s = { .p = start, .end = start + n, .depth = 0, .state = VALUE };
	return walk(&s, bad_at, NULL, NULL);
}

int hp_json_parts(const char *text, size_t n, size_t big, struct hp_json_parts *out, size_t *bad_at,
                  void (*release)(void *arg, size_t upto), void *arg)
{
	const unsigned char *start = (const unsigned char *)text;
	struct rec r = { .out = out, .big = big, .start = start };
	struct scan s = { .p = start, .end = start + n, .depth = 0, .state = VALUE, .rec = &r };
	memset(out, 0, sizeof *out);
	bool ok = walk(&s, bad_at, release, arg);
	if (r.failed) {
		hp_json_parts_free(out);
		return -2;
	}
	if (!ok)
		hp_json_parts_free(out);
	return ok ? 0 : -1;
}

void hp_json_parts_free(struct hp_json_parts *p)
{
	free(p->v);
	memset(p, 0, sizeof *p);
}

int hp_json_values(const char *text, size_t n, const char *member, struct hp_json_range **out, size_t *n_out,
                   size_t *bad_at, void (*release)(void *arg, size_t upto), void *arg)
{
	const unsigned char *start = (const unsigned char *)text;
	struct visit v = { .start = start, .member = member, .member_len = member ? strlen(member) : 0 };
	struct scan s = { .p = start, .end = start + n, .depth = 0, .state = VALUE, .visit = &v };
	*out = NULL;
	*n_out = 0;
	bool ok = walk(&s, bad_at, release, arg);
	if (!ok || v.failed) {
		free(v.v);
		return v.failed ? -2 : -1;
	}
	*out = v.v;
	*n_out = v.n;
	return 0;
}
