/* benchstats.h - what hubpredict bench measured against one endpoint, and
 * the report of one or several of them (SPEC §14).
 *
 * Latency percentiles, min, mean and max are over the successful requests
 * (an error that comes back in 1 ms would flatter them); errors are counted
 * by "<exit>:<http status or null>". behind (how late the client started
 * requests) is over every request started in an open loop.
 *
 * Ownership: hp_bench_stats_new allocates, hp_bench_stats_free releases
 * (NULL-safe); the label is copied. The writers borrow.
 */
#ifndef HUBPREDICT_BENCHSTATS_H
#define HUBPREDICT_BENCHSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hubpredict/phases.h"

struct hp_hist;
struct hp_output;

struct hp_bench_error {
	int exit;          /* the exit status the failure maps to */
	long status;       /* the HTTP status, 0 when none came */
	uint64_t count;
};

enum { HP_PHASE_CONNECT, HP_PHASE_UPLOAD, HP_PHASE_SERVER, HP_PHASE_WAIT, HP_PHASE_DOWNLOAD, HP_PHASES };

struct hp_bench_stats {
	char *label;                  /* owned: the endpoint's column name */
	bool open;                    /* open loop (--rate) */
	double rate_asked;            /* open loop: the schedule's requests per second */
	uint64_t requests, ok;
	struct hp_bench_error *errors;  /* owned, sorted by exit then status */
	size_t n_errors, cap_errors;
	double first_ms;              /* the first request's latency (cold start); < 0 none */
	double duration_s;            /* the measured window, set by the driver */
	struct hp_hist *latency;      /* owned: µs, successful requests */
	struct hp_hist *behind;       /* owned: µs, every request (open loop) */
	double phase_sum[HP_PHASES];  /* ms, over the successful requests */
};

/* 0, or -1 when out of memory. */
int hp_bench_stats_new(struct hp_bench_stats **out, const char *label, bool open, double rate_asked);
void hp_bench_stats_free(struct hp_bench_stats *s);

/* A successful request. */
void hp_bench_stats_ok(struct hp_bench_stats *s, const struct hp_phases *p);
/* A failed one: exit status and HTTP status (0 none); p may be NULL. 0, or
 * -1 when out of memory (the request is still counted). */
int hp_bench_stats_error(struct hp_bench_stats *s, int exit, long status, const struct hp_phases *p);

/* errors / requests (0 when no request). */
double hp_bench_error_rate(const struct hp_bench_stats *s);
/* requests / duration_s (0 when no duration). */
double hp_bench_rate(const struct hp_bench_stats *s);
/* Mean of a phase in ms (0 when nothing succeeded). */
double hp_bench_phase_mean(const struct hp_bench_stats *s, int phase);

/* -f json: SPEC §14's object for one endpoint; for several, an array of
 * them in command-line order, each with an "endpoint" member first (an
 * array keeps the order, and the same endpoint may be given twice).
 * Numbers in the C locale, milliseconds to the microsecond; a value of no
 * sample (latency of a run where nothing succeeded, behind_ms of a closed
 * loop, first_ms of no request) is null. A newline ends it. */
void hp_bench_write_json(struct hp_output *out, struct hp_bench_stats *const *s, size_t n);

/* The table: one row per figure, one column per endpoint. */
void hp_bench_write_table(struct hp_output *out, struct hp_bench_stats *const *s, size_t n);

#endif
