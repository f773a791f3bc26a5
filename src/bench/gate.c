/* gate.c - bench's --expect gates (gate.h). */
#include "hubpredict/gate.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubpredict/benchstats.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/histogram.h"
#include "hubpredict/text.h"

enum kind { LATENCY, ERROR_RATE, RATE };

static const struct {
	const char *name;
	enum kind kind;
	unsigned p100k;      /* percentile, 0 for min, mean, max */
} METRICS[] = {
	{ "min", LATENCY, 0 }, { "mean", LATENCY, 0 }, { "p50", LATENCY, 50000 }, { "p90", LATENCY, 90000 },
	{ "p95", LATENCY, 95000 }, { "p99", LATENCY, 99000 }, { "p99_9", LATENCY, 99900 },
	{ "max", LATENCY, 0 }, { "error_rate", ERROR_RATE, 0 }, { "rate", RATE, 0 },
};
#define N_METRICS ((int)(sizeof METRICS / sizeof METRICS[0]))
#define METRIC_LIST "min, mean, p50, p90, p95, p99, p99_9, max, error_rate, rate"

static const char *const OPS[] = { "<", "<=", ">", ">=" };

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int find_metric(const char *name, size_t len)
{
	if (len == 5 && !strncmp(name, "p99.9", 5))
		name = "p99_9"; /* as the table writes it */
	for (int i = 0; i < N_METRICS; i++)
		if (strlen(METRICS[i].name) == len && !strncmp(METRICS[i].name, name, len))
			return i;
	return -1;
}

/* The operator at *p (advanced past it), or -1. */
static int parse_op(const char **p)
{
	const char *s = *p;
	int op = -1;
	if (*s == '<')
		op = s[1] == '=' ? HP_GATE_LE : HP_GATE_LT;
	else if (*s == '>')
		op = s[1] == '=' ? HP_GATE_GE : HP_GATE_GT;
	if (op >= 0)
		*p = s + strlen(OPS[op]);
	return op;
}

/* The unit's factor to the metric's own unit, or < 0 when it is not one of the kind's. */
static double unit_factor(enum kind kind, const char *unit)
{
	if (kind == LATENCY)
		return !strcmp(unit, "ms") ? 1.0 : !strcmp(unit, "s") ? 1000.0 : -1;
	if (kind == ERROR_RATE)
		return !strcmp(unit, "%") ? 0.01 : -1;
	return !strcmp(unit, "/s") ? 1.0 : -1;
}

static const char *unit_names(enum kind kind)
{
	return kind == LATENCY ? "ms or s" : kind == ERROR_RATE ? "%" : "/s";
}

/* The value and unit after the operator: 0, or 2 with err set. */
static int parse_value(struct hp_gate *g, const char *p, const char *quoted, char *err, size_t errlen)
{
	enum kind kind = METRICS[g->metric].kind;
	p = skip_blanks(p);
	char *end = NULL;
	double v = (*p == '-' || *p == '+' || isdigit((unsigned char)*p) || *p == '.') ? strtod(p, &end) : 0;
	if (!end || end == p) {
		snprintf(err, errlen, "--expect %s: no number after '%s'", quoted, OPS[g->op]);
		return HP_EXIT_USAGE;
	}
	if (!isfinite(v) || v < 0) {
		snprintf(err, errlen, "--expect %s: the value must be a number >= 0", quoted);
		return HP_EXIT_USAGE;
	}
	char unit[16];
	const char *u = skip_blanks(end);
	size_t ulen = strlen(u);
	while (ulen && (u[ulen - 1] == ' ' || u[ulen - 1] == '\t'))
		ulen--;
	if (ulen == 0) {
		snprintf(err, errlen, "--expect %s: the value needs a unit (%s)", quoted, unit_names(kind));
		return HP_EXIT_USAGE;
	}
	char shown[48];
	hp_term_escape(shown, sizeof shown, u, ulen, NULL);
	double f = -1;
	if (ulen < sizeof unit) {
		memcpy(unit, u, ulen);
		unit[ulen] = '\0';
		f = unit_factor(kind, unit);
	}
	if (f < 0) {
		snprintf(err, errlen, "--expect %s: unknown unit '%s' (%s for %s)", quoted, shown, unit_names(kind),
		         METRICS[g->metric].name);
		return HP_EXIT_USAGE;
	}
	g->value = v * f;
	if (kind == ERROR_RATE && g->value > 1.0) {
		snprintf(err, errlen, "--expect %s: an error rate is at most 100%%", quoted);
		return HP_EXIT_USAGE;
	}
	return 0;
}

int hp_gate_parse(struct hp_gate *g, const char *expr, char *err, size_t errlen)
{
	char quoted[96];
	memset(g, 0, sizeof *g);
	hp_term_escape(quoted + 1, sizeof quoted - 2, expr, strlen(expr), NULL);
	quoted[0] = '\'';
	strcat(quoted, "'");
	snprintf(g->text, sizeof g->text, "%s", expr);
	const char *p = skip_blanks(expr);
	size_t len = 0;
	while (isalnum((unsigned char)p[len]) || p[len] == '_' || p[len] == '.')
		len++;
	if (len == 0) {
		snprintf(err, errlen, "--expect %s: expected METRIC OP VALUE, as 'p95<200ms' (metrics: %s)", quoted,
		         METRIC_LIST);
		return HP_EXIT_USAGE;
	}
	g->metric = find_metric(p, len);
	if (g->metric < 0) {
		char name[48];
		hp_term_escape(name, sizeof name, p, len, NULL);
		snprintf(err, errlen, "--expect %s: unknown metric '%s' (%s)", quoted, name, METRIC_LIST);
		return HP_EXIT_USAGE;
	}
	p = skip_blanks(p + len);
	int op = parse_op(&p);
	if (op < 0) {
		snprintf(err, errlen, "--expect %s: no comparison (<, <=, >, >=) after '%s'", quoted,
		         METRICS[g->metric].name);
		return HP_EXIT_USAGE;
	}
	g->op = (enum hp_gate_op)op;
	return parse_value(g, p, quoted, err, errlen);
}

bool hp_gate_actual(const struct hp_gate *g, const struct hp_bench_stats *s, double *actual)
{
	*actual = 0;
	switch (METRICS[g->metric].kind) {
	case ERROR_RATE:
		*actual = hp_bench_error_rate(s);
		return s->requests > 0;
	case RATE:
		*actual = hp_bench_rate(s);
		return true;
	case LATENCY:
		break;
	}
	const struct hp_hist *h = s->latency;
	if (hp_hist_count(h) == 0)
		return false;
	const char *name = METRICS[g->metric].name;
	uint64_t us = METRICS[g->metric].p100k ? hp_hist_percentile(h, METRICS[g->metric].p100k)
	              : !strcmp(name, "min")   ? hp_hist_min(h)
	              : !strcmp(name, "max")   ? hp_hist_max(h)
	                                       : 0;
	*actual = !strcmp(name, "mean") ? hp_hist_mean(h) / 1000.0 : (double)us / 1000.0;
	return true;
}

static bool compare(double a, enum hp_gate_op op, double v)
{
	switch (op) {
	case HP_GATE_LT: return a < v;
	case HP_GATE_LE: return a <= v;
	case HP_GATE_GT: return a > v;
	case HP_GATE_GE: return a >= v;
	}
	return false;
}

bool hp_gate_check(const struct hp_gate *g, const struct hp_bench_stats *s, char *msg, size_t msglen)
{
	double actual;
	bool have = hp_gate_actual(g, s, &actual);
	if (have && compare(actual, g->op, g->value))
		return true;
	if (msg) {
		char b[48], shown[80];
		enum kind kind = METRICS[g->metric].kind;
		double v = kind == ERROR_RATE ? actual * 100.0 : actual;
		hp_term_escape(shown, sizeof shown, g->text, strlen(g->text), NULL);
		hp_fmt_double(b, sizeof b, round(v * 1000.0) / 1000.0);
		if (!have)
			snprintf(msg, msglen, "--expect '%s' unmet: no %s (no request succeeded)", shown,
			         METRICS[g->metric].name);
		else
			snprintf(msg, msglen, "--expect '%s' unmet: %s was %s%s", shown, METRICS[g->metric].name, b,
			         kind == LATENCY ? "ms" : kind == ERROR_RATE ? "%" : "/s");
	}
	return false;
}
