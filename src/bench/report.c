/* report.c - bench's report: -f json as SPEC §14 names the fields, and the
 * table with one column per endpoint (benchstats.h). */
#include "hubpredict/benchstats.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hubpredict/histogram.h"
#include "hubpredict/output.h"
#include "hubpredict/text.h"

static const char *const PHASE_NAMES[HP_PHASES] = { "connect", "upload", "server", "wait", "download" };

/* The latency figures, in the order of the report: name, per-100000 (0: not a percentile). */
static const struct {
	const char *name;
	unsigned p100k;
} FIGURES[] = {
	{ "min", 0 }, { "mean", 0 }, { "p50", 50000 }, { "p90", 90000 }, { "p95", 95000 },
	{ "p99", 99000 }, { "p99_9", 99900 }, { "max", 0 },
};
#define N_FIGURES (sizeof FIGURES / sizeof FIGURES[0])

/* v rounded to `decimals` places, shortest C-locale text. */
static const char *num(char *dst, size_t len, double v, int decimals)
{
	double scale = pow(10.0, decimals);
	double r = round(v * scale) / scale;
	hp_fmt_double(dst, len, r == 0 ? 0.0 : r);
	return dst;
}

static double latency_figure(const struct hp_bench_stats *s, size_t i)
{
	const struct hp_hist *h = s->latency;
	if (FIGURES[i].p100k)
		return (double)hp_hist_percentile(h, FIGURES[i].p100k) / 1000.0;
	if (!strcmp(FIGURES[i].name, "min"))
		return (double)hp_hist_min(h) / 1000.0;
	if (!strcmp(FIGURES[i].name, "max"))
		return (double)hp_hist_max(h) / 1000.0;
	return hp_hist_mean(h) / 1000.0;
}

static void json_errors(struct hp_output *out, const struct hp_bench_stats *s)
{
	hp_out_puts(out, "\"errors\":{");
	for (size_t i = 0; i < s->n_errors; i++) {
		const struct hp_bench_error *e = &s->errors[i];
		if (e->status > 0)
			hp_out_printf(out, "%s\"%d:%ld\":%llu", i ? "," : "", e->exit, e->status,
			              (unsigned long long)e->count);
		else
			hp_out_printf(out, "%s\"%d:null\":%llu", i ? "," : "", e->exit,
			              (unsigned long long)e->count);
	}
	hp_out_puts(out, "}");
}

static void json_latency(struct hp_output *out, const struct hp_bench_stats *s)
{
	char b[64];
	bool any = hp_hist_count(s->latency) > 0;
	hp_out_puts(out, ",\"latency_ms\":{");
	for (size_t i = 0; i < N_FIGURES; i++)
		hp_out_printf(out, "%s\"%s\":%s", i ? "," : "", FIGURES[i].name,
		              any ? num(b, sizeof b, latency_figure(s, i), 3) : "null");
	hp_out_puts(out, "},\"phases_ms\":{");
	for (int i = 0; i < HP_PHASES; i++)
		hp_out_printf(out, "%s\"%s\":%s", i ? "," : "", PHASE_NAMES[i],
		              any ? num(b, sizeof b, hp_bench_phase_mean(s, i), 3) : "null");
	hp_out_puts(out, "}");
}

static void json_histogram(struct hp_output *out, const struct hp_bench_stats *s)
{
	char b[64];
	size_t cursor = 0;
	uint64_t upper, count;
	hp_out_puts(out, ",\"histogram\":[");
	for (bool first = true; hp_hist_next(s->latency, &cursor, &upper, &count); first = false)
		hp_out_printf(out, "%s[%s,%llu]", first ? "" : ",", num(b, sizeof b, (double)upper / 1000.0, 3),
		              (unsigned long long)count);
	hp_out_puts(out, "]");
}

static void json_one(struct hp_output *out, const struct hp_bench_stats *s, bool named)
{
	char b[64];
	hp_out_puts(out, "{");
	if (named) {
		hp_out_puts(out, "\"endpoint\":");
		hp_json_write_string(out, s->label, strlen(s->label));
		hp_out_puts(out, ",");
	}
	hp_out_printf(out, "\"requests\":%llu,\"ok\":%llu,", (unsigned long long)s->requests,
	              (unsigned long long)s->ok);
	json_errors(out, s);
	hp_out_printf(out, ",\"duration_s\":%s", num(b, sizeof b, s->duration_s, 3));
	hp_out_printf(out, ",\"rate\":%s", num(b, sizeof b, hp_bench_rate(s), 3));
	hp_out_printf(out, ",\"mode\":\"%s\"", s->open ? "open" : "closed");
	hp_out_printf(out, ",\"first_ms\":%s", s->first_ms < 0 ? "null" : num(b, sizeof b, s->first_ms, 3));
	json_latency(out, s);
	bool behind = s->open && hp_hist_count(s->behind) > 0;
	hp_out_printf(out, ",\"behind_ms\":%s",
	              behind ? num(b, sizeof b, (double)hp_hist_percentile(s->behind, 99000) / 1000.0, 3) : "null");
	json_histogram(out, s);
	hp_out_puts(out, "}");
}

void hp_bench_write_json(struct hp_output *out, struct hp_bench_stats *const *s, size_t n)
{
	if (n == 1) {
		json_one(out, s[0], false);
	} else {
		hp_out_puts(out, "[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				hp_out_puts(out, ",");
			json_one(out, s[i], true);
		}
		hp_out_puts(out, "]");
	}
	hp_out_puts(out, "\n");
}

/* ---- the table ---- */

#define CELL 64

/* One cell of the table: row `row` for s. Rows are numbered as ROWS below;
 * error rows follow them, one per distinct key. */
enum row_kind { R_REQUESTS, R_OK, R_ERRORS, R_ERROR_RATE, R_MODE, R_DURATION, R_RATE, R_FIRST,
	        R_LATENCY, R_PHASE = R_LATENCY + N_FIGURES, R_BEHIND = R_PHASE + HP_PHASES, R_COUNT };

static const char *row_label(int row, char *dst, size_t len)
{
	static const char *const fixed[] = { "requests", "ok", "errors", "error rate", "mode", "duration",
	                                     "rate", "first (cold)" };
	if (row < R_LATENCY)
		return fixed[row];
	if (row < R_PHASE)
		snprintf(dst, len, "latency %s", FIGURES[row - R_LATENCY].p100k == 99900 ? "p99.9"
		                                                                          : FIGURES[row - R_LATENCY].name);
	else if (row < R_BEHIND)
		snprintf(dst, len, "phase %s", PHASE_NAMES[row - R_PHASE]);
	else
		snprintf(dst, len, "behind p99");
	return dst;
}

static void ms_cell(char *dst, size_t len, double ms)
{
	char b[48];
	snprintf(dst, len, "%s ms", num(b, sizeof b, ms, ms < 10 ? 3 : ms < 1000 ? 2 : 1));
}

static void cell(char *dst, size_t len, const struct hp_bench_stats *s, int row)
{
	char b[48];
	bool any = hp_hist_count(s->latency) > 0;
	snprintf(dst, len, "-");
	if (row == R_REQUESTS || row == R_OK || row == R_ERRORS)
		snprintf(dst, len, "%llu", (unsigned long long)(row == R_REQUESTS ? s->requests
		                                                 : row == R_OK ? s->ok : s->requests - s->ok));
	else if (row == R_ERROR_RATE)
		snprintf(dst, len, "%s %%", num(b, sizeof b, hp_bench_error_rate(s) * 100.0, 2));
	else if (row == R_MODE && s->open)
		snprintf(dst, len, "open %s/s", num(b, sizeof b, s->rate_asked, 3));
	else if (row == R_MODE)
		snprintf(dst, len, "closed");
	else if (row == R_DURATION)
		snprintf(dst, len, "%s s", num(b, sizeof b, s->duration_s, 2));
	else if (row == R_RATE)
		snprintf(dst, len, "%s/s", num(b, sizeof b, hp_bench_rate(s), 2));
	else if (row == R_FIRST && s->first_ms >= 0)
		ms_cell(dst, len, s->first_ms);
	else if (row >= R_LATENCY && row < R_PHASE && any)
		ms_cell(dst, len, latency_figure(s, (size_t)(row - R_LATENCY)));
	else if (row >= R_PHASE && row < R_BEHIND && any)
		ms_cell(dst, len, hp_bench_phase_mean(s, row - R_PHASE));
	else if (row == R_BEHIND && s->open && hp_hist_count(s->behind))
		ms_cell(dst, len, (double)hp_hist_percentile(s->behind, 99000) / 1000.0);
}

/* The distinct error keys of every column, in order (at most `max`). */
static size_t error_keys(struct hp_bench_stats *const *s, size_t n, struct hp_bench_error *keys, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < s[i]->n_errors; j++) {
			size_t at = 0;
			const struct hp_bench_error *e = &s[i]->errors[j];
			while (at < k && (keys[at].exit < e->exit || (keys[at].exit == e->exit && keys[at].status < e->status)))
				at++;
			if (at < k && keys[at].exit == e->exit && keys[at].status == e->status)
				continue;
			if (k == max)
				continue;
			memmove(&keys[at + 1], &keys[at], (k - at) * sizeof *keys);
			keys[at] = *e;
			k++;
		}
	return k;
}

static uint64_t error_count(const struct hp_bench_stats *s, const struct hp_bench_error *key)
{
	for (size_t j = 0; j < s->n_errors; j++)
		if (s->errors[j].exit == key->exit && s->errors[j].status == key->status)
			return s->errors[j].count;
	return 0;
}

static void table_row(struct hp_output *out, const char *label, char cells[][CELL], size_t n, const int *width)
{
	hp_out_printf(out, "%-16s", label);
	for (size_t i = 0; i < n; i++)
		hp_out_printf(out, "  %*s", width[i], cells[i]);
	hp_out_puts(out, "\n");
}

#define MAX_COLUMNS 64
#define MAX_KEYS 32

void hp_bench_write_table(struct hp_output *out, struct hp_bench_stats *const *s, size_t n)
{
	char cells[MAX_COLUMNS][CELL], label[CELL];
	int width[MAX_COLUMNS];
	struct hp_bench_error keys[MAX_KEYS];
	if (n > MAX_COLUMNS)
		n = MAX_COLUMNS;
	size_t nk = error_keys(s, n, keys, MAX_KEYS);
	for (size_t i = 0; i < n; i++) {
		hp_term_escape(cells[i], CELL, s[i]->label, strlen(s[i]->label), NULL);
		width[i] = (int)strlen(cells[i]) < 12 ? 12 : (int)strlen(cells[i]);
	}
	table_row(out, "", cells, n, width);
	for (int row = 0; row < R_COUNT; row++) {
		if (row == R_BEHIND && !s[0]->open)
			continue;
		for (size_t i = 0; i < n; i++)
			cell(cells[i], CELL, s[i], row);
		table_row(out, row_label(row, label, sizeof label), cells, n, width);
		for (size_t k = 0; row == R_ERRORS && k < nk; k++) {
			for (size_t i = 0; i < n; i++)
				snprintf(cells[i], CELL, "%llu", (unsigned long long)error_count(s[i], &keys[k]));
			if (keys[k].status > 0)
				snprintf(label, sizeof label, "  %d:%ld", keys[k].exit, keys[k].status);
			else
				snprintf(label, sizeof label, "  %d:null", keys[k].exit);
			table_row(out, label, cells, n, width);
		}
	}
}
