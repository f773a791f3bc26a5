/* bench_plots.c - `bench --plots DIR` (bench_plots.h): the latency of every
 * endpoint by percentile and over time, drawn by the image module's charts
 * (plot.h). */
#define _POSIX_C_SOURCE 200809L
#include "bench_plots.h"
#include "plots_dir.h"
#include "hubpredict/benchstats.h"
#include "hubpredict/buf.h"
#include "hubpredict/histogram.h"
#include "hubpredict/plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NINES 6
#define Y_MARGIN 1.05   /* matplotlib's 5 % above the highest point */

static const char *const files[] = { "latency_percentiles.png", "latency_over_time.png" };

int hp_bench_trace_add(struct hp_bench_trace *t, double at_ms, double latency_ms)
{
	if (t->n == t->cap) {
		struct hp_bench_point *grown = hp_grow_array(t->p, &t->cap, t->n + 1, sizeof *grown, 1024);
		if (!grown)
			return -1;
		t->p = grown;
	}
	t->p[t->n++] = (struct hp_bench_point){ at_ms, latency_ms };
	return 0;
}

void hp_bench_trace_clear(struct hp_bench_trace *t)
{
	free(t->p);
	*t = (struct hp_bench_trace){ 0 };
}

int hp_bench_plots_check(const char *dir, char *const *inputs, size_t n_inputs, char *err, size_t errlen)
{
	return hp_plots_dir_check(dir, files, 2, inputs, n_inputs, err, errlen);
}

static int by_start(const void *a, const void *b)
{
	double x = ((const struct hp_bench_point *)a)->at_ms, y = ((const struct hp_bench_point *)b)->at_ms;
	return (x > y) - (x < y);
}

/* "Nines" of a fraction q of the samples: -log10(1 - q), so 90 % is 1, 99 % 2. */
static double nines(double q, double cap)
{
	return q >= 1 ? cap : fmin(cap, -log10(1 - q));
}

/* The staircase of one histogram: each bucket's upper value from the
 * fraction below it to the fraction up to it; 2 points a bucket. */
static size_t percentile_curve(const struct hp_hist *h, double cap, double *x, double *y, size_t room)
{
	size_t cursor = 0, n = 0;
	uint64_t upper, count, below = 0, total = hp_hist_count(h);
	while (n + 2 <= room && hp_hist_next(h, &cursor, &upper, &count)) {
		if (count == 0)
			continue;
		double v = (double)(upper < hp_hist_max(h) ? upper : hp_hist_max(h)) / 1000.0;
		x[n] = nines((double)below / (double)total, cap);
		y[n++] = v;
		below += count;
		x[n] = nines((double)below / (double)total, cap);
		y[n++] = v;
	}
	return n;
}

/* The x axis's upper end: the last start rounded up to half a power of ten. */
static double time_axis(double last_s)
{
	if (!(last_s > 0))
		return 1;
	double unit = pow(10, floor(log10(last_s))) / 2;
	return ceil(last_s / unit - 1e-9) * unit;
}

struct charts {
	struct hp_plot_series *s;
	double **x, **y;        /* a buffer each per endpoint */
	size_t n;
};

static void charts_free(struct charts *c)
{
	for (size_t i = 0; c->x && i < c->n; i++)
		free(c->x[i]);
	for (size_t i = 0; c->y && i < c->n; i++)
		free(c->y[i]);
	free(c->x);
	free(c->y);
	free(c->s);
}

/* Buffers for n endpoints of up to need[i] points. 0, or -1. */
static int charts_alloc(struct charts *c, size_t n, const size_t *need)
{
	c->n = n;
	c->s = calloc(n, sizeof *c->s);
	c->x = calloc(n, sizeof *c->x);
	c->y = calloc(n, sizeof *c->y);
	if (!c->s || !c->x || !c->y)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(c->x[i] = malloc((need[i] + 1) * sizeof **c->x)) || !(c->y[i] = malloc((need[i] + 1) * sizeof **c->y)))
			return -1;
	return 0;
}

/* latency_percentiles.png: a staircase per endpoint over 0 % ... 99.9..9 %,
 * as many nines as the most samples of a column resolve (at least 1). */
static int percentiles_png(const char *path, struct hp_bench_stats *const *s, size_t n, double ymax, char *err,
                           size_t errlen)
{
	static const double at[] = { 0, 0.30103, 1, 2, 3, 4, 5, 6 };
	static const char *const names[] = { "0%", "50%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%" };
	struct charts c = { 0 };
	size_t need[64] = { 0 }, most = 1;
	int rc = -1;
	for (size_t i = 0; i < n; i++) {
		size_t cursor = 0;
		uint64_t upper, count;
		need[i] = 0;
		while (hp_hist_next(s[i]->latency, &cursor, &upper, &count))
			need[i] += 2;
		most = hp_hist_count(s[i]->latency) > most ? (size_t)hp_hist_count(s[i]->latency) : most;
	}
	double cap = fmin(MAX_NINES, fmax(1, ceil(log10((double)most) - 1e-9)));
	if (charts_alloc(&c, n, need) < 0) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = percentile_curve(s[i]->latency, cap, c.x[i], c.y[i], need[i]);
		c.s[i] = (struct hp_plot_series){ c.x[i], c.y[i], k, 1.5, HP_PLOT_NEXT_COLOR, s[i]->label };
	}
	struct hp_plot_chart ch = { .title = "Latency by percentile", .xlabel = "Percentile", .ylabel = "Latency (ms)",
		                    .xmin = 0, .xmax = cap, .ymin = 0, .ymax = ymax, .series = c.s, .n_series = n,
		                    .xticks = at, .xtick_labels = names, .n_xticks = 2 + (size_t)cap };
	rc = hp_plot_chart_png(&ch, path, err, errlen);
done:
	charts_free(&c);
	return rc;
}

/* latency_over_time.png: each request at its scheduled start, in seconds
 * from the first of its column, the line in order of start. */
static int over_time_png(const char *path, struct hp_bench_stats *const *s, struct hp_bench_trace *const *tr,
                         size_t n, double ymax, char *err, size_t errlen)
{
	struct charts c = { 0 };
	size_t need[64] = { 0 };
	double last = 0;
	int rc = -1;
	for (size_t i = 0; i < n; i++) {
		need[i] = tr[i]->n;
		qsort(tr[i]->p, tr[i]->n, sizeof *tr[i]->p, by_start);
		if (tr[i]->n)
			last = fmax(last, (tr[i]->p[tr[i]->n - 1].at_ms - tr[i]->p[0].at_ms) / 1000.0);
	}
	if (charts_alloc(&c, n, need) < 0) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < tr[i]->n; k++) {
			c.x[i][k] = (tr[i]->p[k].at_ms - tr[i]->p[0].at_ms) / 1000.0;
			c.y[i][k] = tr[i]->p[k].latency_ms;
		}
		c.s[i] = (struct hp_plot_series){ c.x[i], c.y[i], tr[i]->n, 1, HP_PLOT_NEXT_COLOR, s[i]->label };
	}
	struct hp_plot_chart ch = { .title = "Latency over time", .ylabel = "Latency (ms)",
		                    .xlabel = n && s[0]->open ? "Scheduled start (s)" : "Start (s)", .xmin = 0,
		                    .xmax = time_axis(last), .ymin = 0, .ymax = ymax, .series = c.s, .n_series = n };
	rc = hp_plot_chart_png(&ch, path, err, errlen);
done:
	charts_free(&c);
	return rc;
}

int hp_bench_plots_write(const char *dir, struct hp_bench_stats *const *s, struct hp_bench_trace *const *tr,
                         size_t n, char *err, size_t errlen)
{
	double top = 0;
	n = n < 64 ? n : 64;
	for (size_t i = 0; i < n; i++)
		top = fmax(top, (double)hp_hist_max(s[i]->latency) / 1000.0);
	double ymax = top > 0 ? top * Y_MARGIN : 1;
	char *p0 = hp_plots_join(dir, "", files[0]), *p1 = hp_plots_join(dir, "", files[1]);
	int rc = -1;
	if (!p0 || !p1)
		snprintf(err, errlen, "out of memory");
	else if ((rc = percentiles_png(p0, s, n, ymax, err, errlen)) == 0)
		rc = over_time_png(p1, s, tr, n, ymax, err, errlen);
	free(p0);
	free(p1);
	return rc;
}
