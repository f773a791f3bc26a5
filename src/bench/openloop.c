/* openloop.c - bench's open loop: the schedule and the client's lateness (openloop.h). */
#include "hubpredict/openloop.h"

#include <math.h>
#include <stdlib.h>

#include "hubpredict/histogram.h"

struct hp_openloop {
	double rate;         /* per second */
	double t0;           /* ms */
	uint64_t limit;      /* 0: none */
	uint64_t taken;
	struct hp_hist *late;  /* µs */
};

int hp_openloop_new(struct hp_openloop **out, double rate, double t0_ms, uint64_t limit)
{
	if (!(rate > 0) || !isfinite(rate))
		return -1;
	struct hp_openloop *p = calloc(1, sizeof *p);
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

void hp_openloop_free(struct hp_openloop *p)
{
	if (!p)
		return;
	hp_hist_free(p->late);
	free(p);
}

double hp_openloop_scheduled(const struct hp_openloop *p, uint64_t i)
{
	return p->t0 + (double)i * 1000.0 / p->rate;
}

uint64_t hp_openloop_due(const struct hp_openloop *p, double now_ms)
{
	if (now_ms < p->t0)
		return 0;
	/* requests 0..n-1 are due; the estimate is fixed up against scheduled()
	 * itself, so that due and take agree to the last bit */
	double est = floor((now_ms - p->t0) * p->rate / 1000.0) + 1.0;
	uint64_t n = est >= 1.8e19 ? UINT64_MAX - 1 : (uint64_t)est;
	while (n > 0 && hp_openloop_scheduled(p, n - 1) > now_ms)
		n--;
	while (hp_openloop_scheduled(p, n) <= now_ms)
		n++;
	if (p->limit && n > p->limit)
		n = p->limit;
	return n > p->taken ? n - p->taken : 0;
}

double hp_openloop_next_ms(const struct hp_openloop *p)
{
	if (p->limit && p->taken >= p->limit)
		return -1;
	return hp_openloop_scheduled(p, p->taken);
}

double hp_openloop_take(struct hp_openloop *p, double now_ms)
{
	double at = hp_openloop_scheduled(p, p->taken);
	double late = now_ms - at;
	hp_hist_record(p->late, late > 0 ? (uint64_t)(late * 1000.0 + 0.5) : 0);
	p->taken++;
	return at;
}

uint64_t hp_openloop_taken(const struct hp_openloop *p)
{
	return p->taken;
}

double hp_openloop_behind_now(const struct hp_openloop *p, double now_ms)
{
	double next = hp_openloop_next_ms(p);
	return next >= 0 && next <= now_ms ? now_ms - next : 0.0;
}

double hp_openloop_behind_p99(const struct hp_openloop *p)
{
	return (double)hp_hist_percentile(p->late, 99000) / 1000.0;
}

double hp_openloop_behind_max(const struct hp_openloop *p)
{
	return (double)hp_hist_max(p->late) / 1000.0;
}
