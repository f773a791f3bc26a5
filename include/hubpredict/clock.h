/* clock.h - the one monotonic clock (CLOCK_MONOTONIC): for timeouts, --rate,
 * backoff and the progress line, never for dates. Nothing to own. */
#ifndef HUBPREDICT_CLOCK_H
#define HUBPREDICT_CLOCK_H

/* Milliseconds since an arbitrary fixed point. */
double hp_clock_ms(void);

#endif
