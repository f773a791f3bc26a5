/* expect.c - --expect checks and the --min-conf / --classes filters, on the
 * decoded response (hubpredict(1), --expect, --min-conf, --classes). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/expect.h"
#include "hubpredict/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECT_MAX_N 1000000000L

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Whole string of digits into [0, max]. */
static int parse_count(const char *s, size_t n, long max, long *out)
{
	if (!all_digits(s, n) || n > 18)
		return -1;
	long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int class_ref_set(struct hp_class_ref *ref, const char *s, size_t n)
{
	memset(ref, 0, sizeof *ref);
	if (n == 0)
		return -1;
	ref->name = malloc(n + 1);
	if (!ref->name)
		return -1;
	memcpy(ref->name, s, n);
	ref->name[n] = '\0';
	long num;
	/* a number too large for any class still names nothing: keep it a number */
	if (all_digits(s, n)) {
		ref->is_number = true;
		ref->number = parse_count(s, n, EXPECT_MAX_N, &num) == 0 ? num : -1;
	}
	return 0;
}

static void class_ref_clear(struct hp_class_ref *ref)
{
	free(ref->name);
	memset(ref, 0, sizeof *ref);
}

int hp_expect_parse(struct hp_expect *out, const char *expr)
{
	memset(out, 0, sizeof *out);
	size_t name_len = strcspn(expr, "<>=");
	const char *op = expr + name_len;
	enum hp_expect_op o = HP_EXPECT_GE;
	long n = 1;
	if (name_len == 0)
		return -1;
	if (*op) {
		size_t op_len = 2;
		if (strncmp(op, ">=", 2) == 0)
			o = HP_EXPECT_GE;
		else if (strncmp(op, "<=", 2) == 0)
			o = HP_EXPECT_LE;
		else if (strncmp(op, "==", 2) == 0)
			o = HP_EXPECT_EQ;
		else if (op[0] == '>')
			o = HP_EXPECT_GT, op_len = 1;
		else if (op[0] == '<')
			o = HP_EXPECT_LT, op_len = 1;
		else
			return -1; /* "=", "=>", "=<" */
		const char *num = op + op_len;
		if (parse_count(num, strlen(num), EXPECT_MAX_N, &n) < 0)
			return -1;
	}
	if (class_ref_set(&out->cls, expr, name_len) < 0)
		return -1;
	out->op = o;
	out->n = n;
	return 0;
}

void hp_expect_clear(struct hp_expect *e)
{
	if (e)
		class_ref_clear(&e->cls);
}

static const char *op_text(enum hp_expect_op op)
{
	switch (op) {
	case HP_EXPECT_GE: return ">=";
	case HP_EXPECT_GT: return ">";
	case HP_EXPECT_EQ: return "==";
	case HP_EXPECT_LE: return "<=";
	case HP_EXPECT_LT: return "<";
	}
	return "?";
}

void hp_expect_format(char *dst, size_t dstlen, const struct hp_expect *e)
{
	snprintf(dst, dstlen, "%s%s%ld", e->cls.name ? e->cls.name : "", op_text(e->op), e->n);
}

int hp_class_list_parse(struct hp_class_list *out, const char *list)
{
	memset(out, 0, sizeof *out);
	size_t items = 1;
	for (const char *p = list; *p; p++)
		items += *p == ',';
	out->items = calloc(items, sizeof *out->items);
	if (!out->items)
		return -1;
	const char *p = list;
	for (;;) {
		size_t len = strcspn(p, ",");
		/* "person, car": spaces around an item are not part of it */
		const char *item = p;
		size_t ilen = len;
		while (ilen > 0 && (*item == ' ' || *item == '\t')) {
			item++;
			ilen--;
		}
		while (ilen > 0 && (item[ilen - 1] == ' ' || item[ilen - 1] == '\t'))
			ilen--;
		if (class_ref_set(&out->items[out->n], item, ilen) < 0) {
			hp_class_list_clear(out);
			return -1;
		}
		out->n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return 0;
}

void hp_class_list_clear(struct hp_class_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		class_ref_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

bool hp_class_ref_match(const struct hp_class_ref *ref, const struct hp_result *res)
{
	if (ref->is_number)
		return ref->number >= 0 && res->cls == ref->number;
	size_t n = strlen(ref->name);
	return res->name && res->name_len == n && memcmp(res->name, ref->name, n) == 0;
}

bool hp_filter_active(const struct hp_filter *f)
{
	return f && (f->min_conf >= 0 || f->classes.n > 0);
}

static bool filter_keeps(const struct hp_filter *f, const struct hp_result *res)
{
	if (f->min_conf >= 0 && res->has_confidence && !(res->confidence >= f->min_conf))
		return false;
	if (f->classes.n == 0)
		return true;
	for (size_t i = 0; i < f->classes.n; i++)
		if (hp_class_ref_match(&f->classes.items[i], res))
			return true;
	return false;
}

void hp_filter_apply(const struct hp_filter *f, struct hp_response *r)
{
	if (!r || !hp_filter_active(f))
		return;
	for (size_t i = 0; i < r->n_images; i++) {
		struct hp_image *im = &r->images[i];
		size_t kept = 0;
		for (size_t j = 0; j < im->n_results; j++) {
			if (filter_keeps(f, &im->results[j]))
				im->results[kept++] = im->results[j];
			else
				hp_result_clear(&im->results[j]);
		}
		im->n_results = kept;
	}
}

size_t hp_expect_count(const struct hp_expect *e, const struct hp_image *im)
{
	size_t n = 0;
	for (size_t i = 0; im && i < im->n_results; i++)
		n += hp_class_ref_match(&e->cls, &im->results[i]);
	return n;
}

static bool holds(const struct hp_expect *e, size_t count)
{
	unsigned long c = count, n = (unsigned long)e->n;
	switch (e->op) {
	case HP_EXPECT_GE: return c >= n;
	case HP_EXPECT_GT: return c > n;
	case HP_EXPECT_EQ: return c == n;
	case HP_EXPECT_LE: return c <= n;
	case HP_EXPECT_LT: return c < n;
	}
	return false;
}

/* Is count a closer miss than best? */
static bool closer(const struct hp_expect *e, size_t count, size_t best)
{
	switch (e->op) {
	case HP_EXPECT_GE:
	case HP_EXPECT_GT:
		return count > best;
	case HP_EXPECT_LE:
	case HP_EXPECT_LT:
		return count < best;
	case HP_EXPECT_EQ: {
		size_t n = (size_t)e->n;
		size_t dc = count > n ? count - n : n - count, db = best > n ? best - n : n - best;
		return dc < db || (dc == db && count < best);
	}
	}
	return false;
}

void hp_expect_tally_add(const struct hp_expect *e, size_t n, struct hp_expect_tally *t,
                         const struct hp_response *r)
{
	size_t frames = r && r->n_images ? r->n_images : 1;
	for (size_t k = 0; k < n; k++) {
		for (size_t f = 0; f < frames && !t[k].ok; f++) {
			const struct hp_image *im = r && r->n_images ? &r->images[f] : NULL;
			size_t count = hp_expect_count(&e[k], im);
			if (holds(&e[k], count))
				t[k].ok = true;
			else if (!t[k].seen || closer(&e[k], count, t[k].best))
				t[k].best = count;
			t[k].seen = true;
		}
	}
}

int hp_expect_tally_messages(const struct hp_expect *e, size_t n, const struct hp_expect_tally *t,
                             char ***msgs, size_t *n_msgs)
{
	*msgs = NULL;
	*n_msgs = 0;
	char **out = NULL;
	size_t got = 0;
	for (size_t k = 0; k < n; k++) {
		if (t[k].ok)
			continue;
		if (!out && !(out = calloc(n, sizeof *out)))
			return -1;
		char text[64];
		size_t tl = strlen(e[k].cls.name) + sizeof text;
		char *m = malloc(tl + 64);
		if (!m) {
			hp_expect_messages_free(out, got);
			return -1;
		}
		snprintf(text, sizeof text, "%s%ld", op_text(e[k].op), e[k].n);
		snprintf(m, tl + 64, "expected %s%s, found %zu", e[k].cls.name, text, t[k].best);
		out[got++] = m;
	}
	*msgs = out;
	*n_msgs = got;
	return (int)got;
}

int hp_expect_evaluate(const struct hp_expect *e, size_t n, const struct hp_response *r,
                       char ***msgs, size_t *n_msgs)
{
	*msgs = NULL;
	*n_msgs = 0;
	struct hp_expect_tally *t = calloc(n ? n : 1, sizeof *t);
	if (!t)
		return -1;
	hp_expect_tally_add(e, n, t, r);
	int rc = hp_expect_tally_messages(e, n, t, msgs, n_msgs);
	free(t);
	return rc;
}

void hp_expect_messages_free(char **msgs, size_t n)
{
	if (!msgs)
		return;
	for (size_t i = 0; i < n; i++)
		free(msgs[i]);
	free(msgs);
}
