/* pacer.c - when the next request may start (pacer.h): today's --rate
 * spacing, or a fixed schedule t0 + i/R. */
#include "hubpredict/pacer.h"

void hp_pacer_init(struct hp_pacer *p, enum hp_pace kind, double interval_s, double t0_ms)
{
	*p = (struct hp_pacer){ .kind = interval_s > 0 ? kind : HP_PACE_NONE, .interval_ms = interval_s * 1000.0,
	                        .t0_ms = t0_ms };
}

bool hp_pacer_active(const struct hp_pacer *p)
{
	return p->kind != HP_PACE_NONE;
}

double hp_pacer_due(const struct hp_pacer *p)
{
	switch (p->kind) {
	case HP_PACE_SPACING:
		return p->unsent > 0 ? -1 : p->next_ms;
	case HP_PACE_SCHEDULE:
		return p->t0_ms + (double)p->issued * p->interval_ms;
	default:
		return 0;
	}
}

double hp_pacer_start(struct hp_pacer *p, double now)
{
	double scheduled = p->kind == HP_PACE_SCHEDULE ? hp_pacer_due(p) : now;
	p->issued++;
	if (p->kind == HP_PACE_SPACING)
		p->next_ms = now + p->interval_ms; /* until its send moves it later */
	return scheduled;
}

void hp_pacer_unsent(struct hp_pacer *p)
{
	if (p->kind == HP_PACE_SPACING)
		p->unsent++;
}

void hp_pacer_sent(struct hp_pacer *p, double now)
{
	if (p->kind != HP_PACE_SPACING)
		return;
	if (p->unsent > 0)
		p->unsent--;
	double next = now + p->interval_ms;
	if (next > p->next_ms)
		p->next_ms = next;
}
