/* pacer.c - the open loop's schedule (pacer.h). */
#include "hubpredict/pacer.h"

#include <math.h>
#include <stdlib.h>

#include "hubpredict/histogram.h"

struct hp_pacer {
	double rate;         /* per second */
	double t0;           /* ms */
	uint64_t limit;      /* 0: none */
	uint64_t taken;
	struct hp_hist *late;  /* µs */
};

int hp_pacer_new(struct hp_pacer **out, double rate, double t0_ms, uint64_t limit)
{
	if (!(rate > 0) || !isfinite(rate))
		return -1;
	struct hp_pacer *p = calloc(1, sizeof *p);
	if (!p || hp_hist_new(&p->late) < 0) {
		free(p);
		return -1;
	}
	p->rate = rate;
	p->t0 = t0_ms;
	p->limit = limit;
	*out = p;
	return 0;
}

void hp_pacer_free(struct hp_pacer *p)
{
	if (!p)
		return;
	hp_hist_free(p->late);
	free(p);
}

double hp_pacer_scheduled(const struct hp_pacer *p, uint64_t i)
{
	return p->t0 + (double)i * 1000.0 / p->rate;
}

uint64_t hp_pacer_due(const struct hp_pacer *p, double now_ms)
{
	if (now_ms < p->t0)
		return 0;
	/* requests 0..n-1 are due; the estimate is fixed up against scheduled()
	 * itself, so that due and take agree to the last bit */
	double est = floor((now_ms - p->t0) * p->rate / 1000.0) + 1.0;
	uint64_t n = est >= 1.8e19 ? UINT64_MAX - 1 : (uint64_t)est;
	while (n > 0 && hp_pacer_scheduled(p, n - 1) > now_ms)
		n--;
	while (hp_pacer_scheduled(p, n) <= now_ms)
		n++;
	if (p->limit && n > p->limit)
		n = p->limit;
	return n > p->taken ? n - p->taken : 0;
}

double hp_pacer_next_ms(const struct hp_pacer *p)
{
	if (p->limit && p->taken >= p->limit)
		return -1;
	return hp_pacer_scheduled(p, p->taken);
}

double hp_pacer_take(struct hp_pacer *p, double now_ms)
{
	double at = hp_pacer_scheduled(p, p->taken);
	double late = now_ms - at;
	hp_hist_record(p->late, late > 0 ? (uint64_t)(late * 1000.0 + 0.5) : 0);
	p->taken++;
	return at;
}

uint64_t hp_pacer_taken(const struct hp_pacer *p)
{
	return p->taken;
}

double hp_pacer_behind_now(const struct hp_pacer *p, double now_ms)
{
	double next = hp_pacer_next_ms(p);
	return next >= 0 && next <= now_ms ? now_ms - next : 0.0;
}

double hp_pacer_behind_p99(const struct hp_pacer *p)
{
	return (double)hp_hist_percentile(p->late, 99000) / 1000.0;
}

double hp_pacer_behind_max(const struct hp_pacer *p)
{
	return (double)hp_hist_max(p->late) / 1000.0;
}
