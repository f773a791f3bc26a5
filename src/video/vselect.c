/* vselect.c - --vid-stride and --fps as decisions on frame numbers and times. */
#include "vselect.h"

#include <math.h>

/* Timestamps are exact fractions turned into doubles: a frame at 1/3 s and
 * the target 1/3 s must compare equal. Far below any frame interval. */
#define EPS 1e-7

void hp_vsel_init(struct hp_vsel *s, int stride, double fps)
{
	*s = (struct hp_vsel){ 0 };
	s->stride = stride > 0 ? stride : (fps > 0 ? 0 : 1);
	s->fps = s->stride ? 0 : fps;
}

/* The last target index whose time is at or before t. */
static double last_target(const struct hp_vsel *s, double t)
{
	return floor(t * s->fps + EPS * s->fps);
}

unsigned hp_vsel_feed(struct hp_vsel *s, long long n, double t)
{
	unsigned r = 0;
	if (s->stride)
		return n % s->stride == 0 ? HP_VSEL_THIS : 0;
	if (!isfinite(t))
		t = s->have_prev ? s->prev_t : 0;
	double tk = s->k / s->fps;
	if (tk <= t + EPS && (!s->have_prev || t > s->prev_t)) {
		double kl = last_target(s, t);
		if (kl < s->k)
			kl = s->k;
		double tl = kl / s->fps;
		if (!s->have_prev) {
			r = HP_VSEL_THIS;
		} else {
			/* the first target in (prev, this] is the one nearest the
			 * previous frame, the last the one nearest this frame */
			if (!s->prev_sent && tk - s->prev_t <= t - tk + EPS)
				r |= HP_VSEL_PREV;
			if (t - tl < tl - s->prev_t - EPS)
				r |= HP_VSEL_THIS;
		}
		s->k = kl + 1;
	}
	s->have_prev = true;
	s->prev_t = t;
	s->prev_sent = (r & HP_VSEL_THIS) != 0;
	return r;
}

bool hp_vsel_may_pick(const struct hp_vsel *s, double t, double before, double after)
{
	if (s->stride || !(before < t && t < after) || !isfinite(before) || !isfinite(after))
		return true;
	/* ties and rounding go to "may": a margin well over EPS each side */
	double lo = (before + t) / 2 - 4 * EPS, hi = (t + after) / 2 + 4 * EPS;
	return ceil(lo * s->fps) <= floor(hi * s->fps);
}

bool hp_vsel_finish(struct hp_vsel *s, double end)
{
	if (s->stride || !s->have_prev || s->prev_sent)
		return false;
	bool send = s->k / s->fps < end - EPS;
	s->prev_sent = s->prev_sent || send;
	return send;
}
