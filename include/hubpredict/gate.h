/* gate.h - bench's --expect gates (SPEC §14): METRIC OP VALUE, where
 *   METRIC  min, mean, p50, p90, p95, p99, p99_9 (or p99.9), max: latency,
 *           VALUE in ms or s ("p95<200ms", "p99<=1.5s");
 *           error_rate: VALUE in % ("error_rate<1%");
 *           rate: the achieved rate, VALUE in /s ("rate>=18/s");
 *   OP      <  <=  >  >=
 * Blanks around the parts are allowed. A gate that is not met makes bench
 * exit 1. Nothing to own: a gate is a plain value.
 */
#ifndef HUBPREDICT_GATE_H
#define HUBPREDICT_GATE_H

#include <stdbool.h>
#include <stddef.h>

struct hp_bench_stats;

enum hp_gate_op { HP_GATE_LT, HP_GATE_LE, HP_GATE_GT, HP_GATE_GE };

struct hp_gate {
	int metric;          /* index into the metric table of gate.c */
	enum hp_gate_op op;
	double value;        /* ms for latency, a fraction for error_rate, per second for rate */
	char text[64];       /* the expression as given (truncated), for messages */
};

/* Parse expr into *g. 0, or 2 (exit status: usage) with one line in err
 * saying what is wrong: "--expect 'p95<200xs': unknown unit 'xs' (ms or s)". */
int hp_gate_parse(struct hp_gate *g, const char *expr, char *err, size_t errlen);

/* The metric's value in s, in the gate's unit; false (and *actual 0) when s
 * has no sample for it (a latency figure when nothing succeeded: unmet). */
bool hp_gate_actual(const struct hp_gate *g, const struct hp_bench_stats *s, double *actual);

/* True when s meets g. When it does not, msg (if not NULL) holds one line:
 * "--expect 'p95<200ms' unmet: p95 was 231.4ms". */
bool hp_gate_check(const struct hp_gate *g, const struct hp_bench_stats *s, char *msg, size_t msglen);

#endif
