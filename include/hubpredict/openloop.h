/* openloop.h - bench's open loop: a fixed arrival schedule, whatever the server
 * does. Request i (from 0) is due at t0 + i * 1000 / rate milliseconds; the
 * engine asks how many are due now, takes them one by one as it starts them
 * (each with its scheduled time, from which its latency counts), and the
 * pacer records how late each start was: the client's own lateness, which
 * bench reports (behind_ms, its p99) rather than fake load it cannot make.
 * Pure: the engine passes the time in (hp_clock_ms()).
 *
 * Ownership: hp_openloop_new allocates, hp_openloop_free releases (NULL-safe).
 */
#ifndef HUBPREDICT_OPENLOOP_H
#define HUBPREDICT_OPENLOOP_H

#include <stdint.h>

struct hp_openloop;

/* rate requests per second (> 0) from t0_ms; limit requests in all (0: no
 * limit, as with --duration). 0, or -1 when out of memory or rate <= 0. */
int hp_openloop_new(struct hp_openloop **out, double rate, double t0_ms, uint64_t limit);
void hp_openloop_free(struct hp_openloop *p);

/* When request i is due. */
double hp_openloop_scheduled(const struct hp_openloop *p, uint64_t i);
/* How many requests not yet taken are due at now_ms (scheduled <= now). */
uint64_t hp_openloop_due(const struct hp_openloop *p, double now_ms);
/* When the next request not yet taken is due; < 0 when the limit is reached. */
double hp_openloop_next_ms(const struct hp_openloop *p);
/* Take the next request, started at now_ms: returns its scheduled time and
 * records its lateness (now - scheduled, at least 0). The caller checks
 * hp_openloop_due first; taking one early records lateness 0. */
double hp_openloop_take(struct hp_openloop *p, double now_ms);
/* Requests taken so far. */
uint64_t hp_openloop_taken(const struct hp_openloop *p);
/* How late the client is at now_ms: how long the oldest due request not yet
 * taken has been due (0 when none is due). */
double hp_openloop_behind_now(const struct hp_openloop *p, double now_ms);
/* Lateness of the starts so far: nearest-rank p99 and the maximum, in ms. */
double hp_openloop_behind_p99(const struct hp_openloop *p);
double hp_openloop_behind_max(const struct hp_openloop *p);

#endif
