/* stats.c - what bench measured against one endpoint (benchstats.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/benchstats.h"
#include "hubpredict/buf.h"

#include <stdlib.h>
#include <string.h>

#include "hubpredict/histogram.h"

int hp_bench_stats_new(struct hp_bench_stats **out, const char *label, bool open, double rate_asked)
{
	struct hp_bench_stats *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->open = open;
	s->rate_asked = rate_asked;
	s->first_ms = -1;
	s->label = strdup(label ? label : "");
	if (!s->label || hp_hist_new(&s->latency) < 0 || hp_hist_new(&s->behind) < 0) {
		hp_bench_stats_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void hp_bench_stats_free(struct hp_bench_stats *s)
{
	if (!s)
		return;
	free(s->label);
	free(s->errors);
	hp_hist_free(s->latency);
	hp_hist_free(s->behind);
	free(s);
}

static uint64_t to_us(double ms)
{
	if (!(ms > 0))
		return 0;
	double us = ms * 1000.0 + 0.5;
	return us >= 1.8e19 ? UINT64_MAX : (uint64_t)us;
}

static void count_behind(struct hp_bench_stats *s, const struct hp_phases *p)
{
	if (s->open && p)
		hp_hist_record(s->behind, to_us(p->behind_ms));
}

void hp_bench_stats_ok(struct hp_bench_stats *s, const struct hp_phases *p)
{
	s->requests++;
	s->ok++;
	hp_hist_record(s->latency, to_us(p->latency_ms));
	s->phase_sum[HP_PHASE_CONNECT] += p->connect_ms;
	s->phase_sum[HP_PHASE_UPLOAD] += p->upload_ms;
	s->phase_sum[HP_PHASE_SERVER] += p->server_ms;
	s->phase_sum[HP_PHASE_WAIT] += p->wait_ms;
	s->phase_sum[HP_PHASE_DOWNLOAD] += p->download_ms;
	count_behind(s, p);
}

int hp_bench_stats_error(struct hp_bench_stats *s, int exit, long status, const struct hp_phases *p)
{
	s->requests++;
	count_behind(s, p);
	size_t i = 0;
	while (i < s->n_errors && (s->errors[i].exit < exit ||
	                           (s->errors[i].exit == exit && s->errors[i].status < status)))
		i++;
	if (i < s->n_errors && s->errors[i].exit == exit && s->errors[i].status == status) {
		s->errors[i].count++;
		return 0;
	}
	struct hp_bench_error *grown = hp_grow_array(s->errors, &s->cap_errors, s->n_errors + 1, sizeof *grown, 8);
	if (!grown)
		return -1;
	s->errors = grown;
	memmove(&s->errors[i + 1], &s->errors[i], (s->n_errors - i) * sizeof *s->errors);
	s->errors[i] = (struct hp_bench_error){ exit, status, 1 };
	s->n_errors++;
	return 0;
}

double hp_bench_error_rate(const struct hp_bench_stats *s)
{
	return s->requests ? (double)(s->requests - s->ok) / (double)s->requests : 0.0;
}

double hp_bench_rate(const struct hp_bench_stats *s)
{
	return s->duration_s > 0 ? (double)s->requests / s->duration_s : 0.0;
}

double hp_bench_phase_mean(const struct hp_bench_stats *s, int phase)
{
	if (phase < 0 || phase >= HP_PHASES || s->ok == 0)
		return 0.0;
	return s->phase_sum[phase] / (double)s->ok;
}
