/* gate.c - hubpredict val's metric checks (valgate.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/valgate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const metric_names[] = { "precision", "recall", "map50", "map75", "map50_95", "fitness",
	                                     "top1", "top5" };

static int bad(char *err, size_t errlen, const char *s, const char *why)
{
	snprintf(err, errlen, "--expect '%s': %s", s, why);
	return -1;
}

/* The operator's place in s and its kind. */
static const char *find_op(const char *s, int *op, size_t *oplen)
{
	for (const char *p = s; *p; p++) {
		if (p[0] == '>' || p[0] == '<' || (p[0] == '=' && p[1] == '=')) {
			bool eq = p[1] == '=';
			*op = p[0] == '=' ? '=' : p[0] == '>' ? (eq ? 'G' : '>') : (eq ? 'L' : '<');
			*oplen = eq ? 2 : 1;
			return p;
		}
	}
	return NULL;
}

/* The metric name (with its prefix) in [m, end). */
static int parse_metric(struct hp_val_gate *g, const char *m, size_t n)
{
	static const char *const prefixes[] = { "box.", "mask.", "pose." };
	for (int i = 0; i < 3; i++) {
		size_t pl = strlen(prefixes[i]);
		if (n > pl && strncmp(m, prefixes[i], pl) == 0) {
			g->which = i;
			m += pl;
			n -= pl;
			break;
		}
	}
	for (size_t k = 0; k < sizeof metric_names / sizeof metric_names[0]; k++)
		if (strlen(metric_names[k]) == n && strncmp(m, metric_names[k], n) == 0) {
			g->metric = (enum hp_val_metric_id)k;
			return 0;
		}
	return -1;
}

int hp_val_gate_parse(struct hp_val_gate *g, const char *s, char *err, size_t errlen)
{
	int op = 0;
	size_t oplen = 0;
	memset(g, 0, sizeof *g);
	const char *at = find_op(s, &op, &oplen);
	if (!at)
		return bad(err, errlen, s, "no comparison: give METRIC>=X, such as map50>=0.6");
	const char *colon = NULL;
	for (const char *p = s; p < at; p++)
		if (*p == ':')
			colon = p;
	const char *m = colon ? colon + 1 : s;
	char *end;
	errno = 0;
	double v = strtod(at + oplen, &end);
	if (at[oplen] == '\0' || *end || errno || !isfinite(v))
		return bad(err, errlen, s, "the value after the comparison is not a number");
	if (parse_metric(g, m, (size_t)(at - m)) != 0)
		return bad(err, errlen, s, "unknown metric: precision, recall, map50, map75, map50_95, fitness, "
		                           "top1 or top5, with a mask., pose. or box. prefix");
	if (colon && (colon == s || (g->metric != HP_VM_PRECISION && g->metric != HP_VM_RECALL &&
	                             g->metric != HP_VM_MAP50 && g->metric != HP_VM_MAP50_95)))
		return bad(err, errlen, s, colon == s ? "no class before ':'"
		                                      : "a class takes precision, recall, map50 and map50_95");
	if (g->which && (g->metric == HP_VM_TOP1 || g->metric == HP_VM_TOP5))
		return bad(err, errlen, s, "top1 and top5 take no prefix");
	g->op = op;
	g->value = v;
	g->text = strdup(s);
	g->cls = colon ? strndup(s, (size_t)(colon - s)) : NULL;
	if (!g->text || (colon && !g->cls)) {
		hp_val_gate_clear(g);
		return bad(err, errlen, s, "out of memory");
	}
	return 0;
}

void hp_val_gate_clear(struct hp_val_gate *g)
{
	free(g->text);
	free(g->cls);
	memset(g, 0, sizeof *g);
}

static double metric_of(const struct hp_val_metric *b, enum hp_val_metric_id m)
{
	switch (m) {
	case HP_VM_PRECISION: return b->precision;
	case HP_VM_RECALL: return b->recall;
	case HP_VM_MAP50: return b->map50;
	case HP_VM_MAP75: return b->map75;
	case HP_VM_MAP50_95: return b->map50_95;
	case HP_VM_FITNESS: return b->fitness;
	default: return NAN;
	}
}

static double class_metric(const struct hp_val_class *c, int w, enum hp_val_metric_id m)
{
	return m == HP_VM_PRECISION ? c->precision[w] : m == HP_VM_RECALL ? c->recall[w]
	     : m == HP_VM_MAP50 ? c->map50[w] : c->map50_95[w];
}

/* The value a gate reads, or NaN with why. */
static double value_of(const struct hp_val_gate *g, const struct hp_val_result *r, char *const *names,
                       size_t n_names, char *why, size_t whylen)
{
	bool classify = r->task == HP_VAL_CLASSIFY;
	if ((g->metric == HP_VM_TOP1 || g->metric == HP_VM_TOP5) != classify) {
		snprintf(why, whylen, classify ? "a classify model has top1 and top5 only"
		                               : "top1 and top5 are for classify models");
		return NAN;
	}
	if (classify) {
		if (g->metric == HP_VM_TOP5 && !r->has_top5)
			snprintf(why, whylen, "the answers carry fewer than 5 classes: no top5");
		return g->metric == HP_VM_TOP1 ? r->top1 : r->has_top5 ? r->top5 : NAN;
	}
	int want = g->which == 1 ? HP_VAL_SEGMENT : HP_VAL_POSE;
	if (g->which && (int)r->task != want) {
		snprintf(why, whylen, "the model's answers have no %s metrics", g->which == 1 ? "mask" : "pose");
		return NAN;
	}
	int w = g->which ? 1 : 0;
	if (!g->cls)
		return metric_of(w ? &r->other : &r->box, g->metric);
	for (size_t i = 0; i < r->n_classes; i++) {
		long c = r->classes[i].cls;
		char num[32];
		snprintf(num, sizeof num, "%ld", c);
		if ((c >= 0 && (size_t)c < n_names && names[c] && strcmp(names[c], g->cls) == 0) ||
		    strcmp(num, g->cls) == 0)
			return class_metric(&r->classes[i], w, g->metric);
	}
	snprintf(why, whylen, "no class '%s' in the labels", g->cls);
	return NAN;
}

int hp_val_gate_check(const struct hp_val_gate *g, const struct hp_val_result *r, char *const *names,
                      size_t n_names, double *got, char *why, size_t whylen)
{
	why[0] = '\0';
	double v = *got = value_of(g, r, names, n_names, why, whylen);
	if (isnan(v))
		return 0;
	switch (g->op) {
	case 'G': return v >= g->value;
	case '>': return v > g->value;
	case 'L': return v <= g->value;
	case '<': return v < g->value;
	default: return v == g->value;
	}
}
