/* histogram.h - a log-linear latency histogram (HdrHistogram's idea, written
 * for hubpredict bench): values in whole microseconds, exact below 2048 µs,
 * and above it 1024 sub-buckets per power of two, so that every value is
 * known to within 1/1024 (< 0.1 %) of itself. It covers 0 to 2^32 µs (about
 * 71 minutes); a larger value is counted in the top bucket (its exact value
 * still sets max). Count, min, max and the sum (for the mean) are exact.
 *
 * Percentiles are nearest-rank: the smallest recorded value v such that at
 * least p % of the samples are <= v, given as the highest value of v's bucket
 * (never below the true sample, at most 1/1024 above it) and never above max.
 *
 * Ownership: hp_hist_new allocates (about 190 KB), hp_hist_free releases
 * (NULL-safe). Everything else borrows. Not thread-safe.
 */
#ifndef HUBPREDICT_HISTOGRAM_H
#define HUBPREDICT_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

/* Values at or above this are counted in the top bucket. */
#define HP_HIST_LIMIT_US ((uint64_t)1 << 32)

struct hp_hist;

/* 0, or -1 when out of memory (*out untouched). */
int hp_hist_new(struct hp_hist **out);
void hp_hist_free(struct hp_hist *h);
/* Forget every sample. */
void hp_hist_reset(struct hp_hist *h);

void hp_hist_record(struct hp_hist *h, uint64_t us);
/* Add every sample of src into dst. */
void hp_hist_merge(struct hp_hist *dst, const struct hp_hist *src);

uint64_t hp_hist_count(const struct hp_hist *h);
/* 0 when empty. */
uint64_t hp_hist_min(const struct hp_hist *h);
uint64_t hp_hist_max(const struct hp_hist *h);
/* The exact mean (0 when empty). */
double hp_hist_mean(const struct hp_hist *h);

/* The nearest-rank percentile for p in per-100000 (50 %: 50000, 99.9 %:
 * 99900, 100 %: 100000): rank ceil(p * count / 100000), at least 1. 0 when
 * empty. */
uint64_t hp_hist_percentile(const struct hp_hist *h, unsigned p100k);

/* Walking the non-empty buckets in increasing order: start with *cursor = 0;
 * returns 1 with the bucket's highest value (µs) and count, or 0 when there
 * are no more. */
int hp_hist_next(const struct hp_hist *h, size_t *cursor, uint64_t *upper_us, uint64_t *count);

#endif
