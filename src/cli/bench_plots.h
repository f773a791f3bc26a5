/* bench_plots.h - `bench --plots DIR` (private to src/cli/): the folder
 * checked before anything is sent (plots_dir.h, as val's), every counted
 * request kept while the run goes, and two charts written at the end
 * (hubpredict(1), BENCH), one line per endpoint:
 *   latency_percentiles.png  latency by percentile, the x axis in "nines"
 *                            (0 %, 90 %, 99 %, 99.9 % ... equally spaced, as
 *                            HdrHistogram's plots), from the histogram;
 *   latency_over_time.png    each request's latency at its scheduled start,
 *                            seconds from the first one (a stall a ridge).
 *
 * Ownership: a trace is the caller's (zeroed, then hp_bench_trace_clear);
 * everything else is borrowed for the call.
 */
#ifndef HUBPREDICT_CLI_BENCH_PLOTS_H
#define HUBPREDICT_CLI_BENCH_PLOTS_H

#include <stddef.h>

struct hp_bench_stats;

struct hp_bench_point {
	double at_ms;         /* the scheduled start (clock.h's ms) */
	double latency_ms;
};

struct hp_bench_trace {
	struct hp_bench_point *p;   /* owned */
	size_t n, cap;
};

/* One successful request. 0, or -1 when out of memory (the trace keeps
 * what it had). */
int hp_bench_trace_add(struct hp_bench_trace *t, double at_ms, double latency_ms);
void hp_bench_trace_clear(struct hp_bench_trace *t);

/* Before anything is sent: plots_dir.h's rules for DIR and the two names.
 * 0, or an exit status (2, or 11) with one line in err. */
int hp_bench_plots_check(const char *dir, char *const *inputs, size_t n_inputs, char *err, size_t errlen);

/* The two charts of n endpoints (s[i] and tr[i] alike) into DIR; the traces
 * are sorted by start. 0, or -1 with one line in err (exit 11). */
int hp_bench_plots_write(const char *dir, struct hp_bench_stats *const *s, struct hp_bench_trace *const *tr,
                         size_t n, char *err, size_t errlen);

#endif
