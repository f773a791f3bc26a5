/* pacer.h - when the next request may start, apart from how many may be in
 * flight (--jobs caps those; the pacer only says "not before").
 *
 * Two kinds:
 * - spacing (--rate for predict, hubpredict(1)): starts at least `interval`
 *   apart across all jobs, retries included, counted from the moment a
 *   request goes out on the wire (after its connection is set up); while a
 *   started request has not gone out, no other starts. Closed-loop: a slow
 *   send pushes every later start back.
 * - schedule (open loop, for a fixed arrival rate): start i is due at
 *   t0 + i * interval whatever happened to the earlier ones; a start that
 *   comes late (no free slot) keeps its scheduled time, so the lateness can
 *   be measured (struct hp_timings.scheduled_ms).
 *
 * Times are hp_clock_ms()'s (clock.h). Ownership: plain data, embedded by
 * its user; nothing to free.
 */
#ifndef HUBPREDICT_PACER_H
#define HUBPREDICT_PACER_H

#include <stdbool.h>
#include <stddef.h>

enum hp_pace { HP_PACE_NONE = 0, HP_PACE_SPACING, HP_PACE_SCHEDULE };

struct hp_pacer {
	enum hp_pace kind;
	double interval_ms;     /* between two starts */
	double t0_ms;           /* schedule: start 0's time */
	size_t issued;          /* starts handed out */
	double next_ms;         /* spacing: the earliest next start */
	size_t unsent;          /* spacing: started requests not yet on the wire */
};

/* A pacer of `kind` with starts interval_s apart (0 or kind NONE: no pacing),
 * the schedule beginning at t0_ms. */
void hp_pacer_init(struct hp_pacer *p, enum hp_pace kind, double interval_s, double t0_ms);

/* When the next start is due (ms; <= now means now), or -1 when it waits for
 * a started request to go out (spacing: ask again shortly). */
double hp_pacer_due(const struct hp_pacer *p);

/* A start at `now`: returns the time it was scheduled for (now, for spacing
 * or none). */
double hp_pacer_start(struct hp_pacer *p, double now);

/* Spacing: the started request is in flight and not yet sent / has gone out
 * (or ended without being sent) at `now`. No-ops for the other kinds. */
void hp_pacer_unsent(struct hp_pacer *p);
void hp_pacer_sent(struct hp_pacer *p, double now);

/* Whether starts are paced at all. */
bool hp_pacer_active(const struct hp_pacer *p);

#endif
