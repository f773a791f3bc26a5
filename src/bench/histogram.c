/* histogram.c - the log-linear latency histogram (histogram.h).
 *
 * Layout: bucket i < 2048 holds the value i exactly (unit 1 µs). Above,
 * power k = 1..21 covers [1024 << k, 2048 << k) with 1024 sub-buckets of
 * width 2^k: bucket 2048 + (k - 1) * 1024 + (v >> k) - 1024. The width
 * over the bucket's lowest value is 2^k / (1024 * 2^k) = 1/1024.
 */
#include "hubpredict/histogram.h"

#include <stdlib.h>
#include <string.h>

#define SUB 1024u
#define EXACT (2 * SUB)
#define POWERS 21u   /* 2048 << 21 == 2^32 */
#define BUCKETS (EXACT + POWERS * SUB)

struct hp_hist {
	uint64_t counts[BUCKETS];
	uint64_t total;
	uint64_t min, max;
	long double sum;
};

int hp_hist_new(struct hp_hist **out)
{
	struct hp_hist *h = calloc(1, sizeof *h);
	if (!h)
		return -1;
	*out = h;
	return 0;
}

void hp_hist_free(struct hp_hist *h)
{
	free(h);
}

void hp_hist_reset(struct hp_hist *h)
{
	memset(h, 0, sizeof *h);
}

static int top_bit(uint64_t v)
{
	int b = 0;
	while (v >>= 1)
		b++;
	return b;
}

static size_t bucket_of(uint64_t v)
{
	if (v >= HP_HIST_LIMIT_US)
		v = HP_HIST_LIMIT_US - 1;
	if (v < EXACT)
		return (size_t)v;
	int k = top_bit(v) - 10;
	return EXACT + (size_t)(k - 1) * SUB + (size_t)((v >> k) - SUB);
}

/* The highest value bucket i holds. */
static uint64_t bucket_upper(size_t i)
{
	if (i < EXACT)
		return i;
	size_t k = (i - EXACT) / SUB + 1;
	uint64_t sub = (i - EXACT) % SUB + SUB;
	return ((sub + 1) << k) - 1;
}

void hp_hist_record(struct hp_hist *h, uint64_t us)
{
	h->counts[bucket_of(us)]++;
	if (h->total == 0 || us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
	h->total++;
	h->sum += (long double)us;
}

void hp_hist_merge(struct hp_hist *dst, const struct hp_hist *src)
{
	if (src->total == 0)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	if (dst->total == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->total += src->total;
	dst->sum += src->sum;
}

uint64_t hp_hist_count(const struct hp_hist *h)
{
	return h->total;
}

uint64_t hp_hist_min(const struct hp_hist *h)
{
	return h->min;
}

uint64_t hp_hist_max(const struct hp_hist *h)
{
	return h->max;
}

double hp_hist_mean(const struct hp_hist *h)
{
	return h->total ? (double)(h->sum / (long double)h->total) : 0.0;
}

uint64_t hp_hist_percentile(const struct hp_hist *h, unsigned p100k)
{
	if (h->total == 0)
		return 0;
	if (p100k > 100000)
		p100k = 100000;
	/* ceil(p * total / 100000) without overflow for any realistic total */
	uint64_t whole = h->total / 100000, part = h->total % 100000;
	uint64_t rank = whole * p100k + (part * p100k + 99999) / 100000;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			/* the top bucket holds everything past the range: its max */
			uint64_t v = i == BUCKETS - 1 ? h->max : bucket_upper(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

int hp_hist_next(const struct hp_hist *h, size_t *cursor, uint64_t *upper_us, uint64_t *count)
{
	for (size_t i = *cursor; i < BUCKETS; i++) {
		if (h->counts[i]) {
			*upper_us = i == BUCKETS - 1 ? h->max : bucket_upper(i);
			if (*upper_us > h->max)
				*upper_us = h->max;
			*count = h->counts[i];
			*cursor = i + 1;
			return 1;
		}
	}
	*cursor = BUCKETS;
	return 0;
}
