/* retry.h - which failures are retried, and how long to wait (hubpredict(1), "Retries").
 *
 * Pure functions, no I/O: the batch loop asks them after every attempt.
 * The header parsers take untrusted server text and are fuzzed
 * (tests/fuzz/fuzz_retry_headers.c).
 */
#ifndef HUBPREDICT_RETRY_H
#define HUBPREDICT_RETRY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <time.h>

#define HP_BACKOFF_CAP_S 30.0

/* Transfer errors worth another attempt: resolve, connect, reset, cut off,
 * timeouts. TLS certificate problems and local errors are not. */
bool hp_retryable_curl(CURLcode rc);

/* 408, 429, 500, 502, 503, 504. */
bool hp_retryable_status(long status);

/* The computed wait before retry number n (1 = the first retry): 1 s, 2 s,
 * 4 s ... capped at 30 s, with jitter: the result lies in [base/2, base].
 * rand01 is a uniform number in [0, 1). */
double hp_backoff_seconds(int n, double rand01);

/* The one jitter source of every retry (the predict requests, Platform's
 * calls): uniform in [0, 1), seeded once per process from the time and the
 * process ID, so parallel runs do not retry in step. */
double hp_retry_jitter(void);

/* Retry-After: delta-seconds ("120") or an HTTP date ("Wed, 21 Oct 2015
 * 07:28:00 GMT", also the obsolete RFC 850 and asctime forms). Returns the
 * seconds to wait from now (0 for a date in the past), or -1 when the value
 * is not one of those. */
double hp_parse_retry_after(const char *value, time_t now);

/* X-RateLimit-Reset: Unix seconds ("1764356400"), or ISO-8601
 * ("2026-11-28T19:00:00Z", fractions and +hh:mm offsets allowed). Small
 * numbers (under 10^9) are taken as seconds from now, as some servers send.
 * Returns the seconds to wait from now (0 when past, at most 10^9), or -1
 * when invalid. */
double hp_parse_ratelimit_reset(const char *value, time_t now);

#endif
