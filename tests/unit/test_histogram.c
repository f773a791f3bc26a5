/* Unit tests of the latency histogram (src/bench/histogram.c): every
 * percentile of a million samples of a known distribution, with a stall,
 * within 0.1 % of the exact nearest-rank value found by sorting; the bucket
 * bounds; the edge cases. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "hubpredict/histogram.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: a fixed sequence, the same on every machine. */
static double uniform01(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static double gaussian(void)
{
	double u = uniform01(), v = uniform01();
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t exact_rank(const uint64_t *sorted, size_t n, unsigned p100k)
{
	uint64_t rank = ((uint64_t)n * p100k + 99999) / 100000;
	return sorted[rank ? rank - 1 : 0];
}

/* within 0.1 % and never below the exact value */
static int close_enough(uint64_t got, uint64_t want)
{
	return got >= want && (double)(got - want) <= (double)want * 0.001;
}

/* A million latencies: lognormal (median 20 ms, sigma 0.6) as a service
 * answers at 1000 requests/s, and between seconds 200 and 300 a 1 s stall
 * that every request due meanwhile waits out (1 s down to 0 extra). */
static void test_known_distribution(void)
{
	enum { N = 1000000 };
	uint64_t *v = malloc(N * sizeof *v);
	struct hp_hist *h = NULL;
	CHECK(v && hp_hist_new(&h) == 0);
	if (!v || !h)
		goto done;
	long double sum = 0;
	for (size_t i = 0; i < N; i++) {
		double ms = 20.0 * exp(0.6 * gaussian());
		double t = (double)i / 1000.0;                 /* seconds into the run */
		if (fmod(t, 100.0) >= 2.0 && fmod(t, 100.0) < 3.0)   /* a stall in every 100 s */
			ms += (3.0 - fmod(t, 100.0)) * 1000.0;
		v[i] = (uint64_t)llround(ms * 1000.0);
		sum += v[i];
		hp_hist_record(h, v[i]);
	}
	qsort(v, N, sizeof *v, cmp_u64);
	CHECK(hp_hist_count(h) == N);
	CHECK(hp_hist_min(h) == v[0]);
	CHECK(hp_hist_max(h) == v[N - 1]);
	CHECK(fabs(hp_hist_mean(h) - (double)(sum / N)) < 1e-6);
	static const unsigned named[] = { 50000, 90000, 95000, 99000, 99900 };
	for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
		uint64_t got = hp_hist_percentile(h, named[k]), want = exact_rank(v, N, named[k]);
		if (!close_enough(got, want))
			fprintf(stderr, "p%u: %llu, exact %llu\n", named[k], (unsigned long long)got,
			        (unsigned long long)want);
		CHECK(close_enough(got, want));
	}
	/* the stall is in the tail: p99.9 is over half a second, p50 is not */
	CHECK(hp_hist_percentile(h, 99900) > 500000 && hp_hist_percentile(h, 50000) < 30000);
	int bad = 0;
	for (unsigned p = 0; p <= 100000; p += 7)
		bad += !close_enough(hp_hist_percentile(h, p), exact_rank(v, N, p));
	CHECK(bad == 0);
	CHECK(hp_hist_percentile(h, 100000) == v[N - 1]);
	/* the exported buckets add up, in increasing order, each upper bound
	 * within 0.1 % of the values it holds */
	size_t cursor = 0, at = 0;
	uint64_t upper, count, last = 0, total = 0;
	bad = 0;
	while (hp_hist_next(h, &cursor, &upper, &count)) {
		bad += (total && upper <= last);
		for (uint64_t j = 0; j < count && at < N; j++, at++)
			bad += !close_enough(upper, v[at]);
		last = upper;
		total += count;
	}
	CHECK(bad == 0);
	CHECK(total == N);
done:
	free(v);
	hp_hist_free(h);
}

/* Every value's bucket: upper bound >= v and within v / 1024. */
static void test_bucket_bounds(void)
{
	struct hp_hist *h = NULL;
	CHECK(hp_hist_new(&h) == 0);
	int bad = 0;
	for (uint64_t v = 0; v < HP_HIST_LIMIT_US; v = v < 20000 ? v + 1 : v + v / 997 + 1) {
		hp_hist_reset(h);
		hp_hist_record(h, v);
		hp_hist_record(h, HP_HIST_LIMIT_US - 1);    /* so that v's bound is not clamped to max */
		uint64_t up = hp_hist_percentile(h, 50000);
		if (up < v || (double)(up - v) > (double)v / 1024.0 + 1e-9) {
			if (bad++ < 5)
				fprintf(stderr, "v %llu: upper %llu\n", (unsigned long long)v, (unsigned long long)up);
		}
	}
	CHECK(bad == 0);
	static const uint64_t edges[][2] = { { 2047, 2047 }, { 2048, 2049 }, { 2049, 2049 }, { 4095, 4095 },
	                                     { 4096, 4099 }, { 1000000, 1000447 } };
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		hp_hist_reset(h);
		hp_hist_record(h, edges[i][0]);
		hp_hist_record(h, HP_HIST_LIMIT_US - 1);
		CHECK(hp_hist_percentile(h, 50000) == edges[i][1]);
	}
	hp_hist_free(h);
}

static void test_edges(void)
{
	struct hp_hist *h = NULL, *g = NULL;
	CHECK(hp_hist_new(&h) == 0 && hp_hist_new(&g) == 0);
	/* no sample */
	size_t cursor = 0;
	uint64_t up, count;
	CHECK(hp_hist_count(h) == 0 && hp_hist_min(h) == 0 && hp_hist_max(h) == 0);
	CHECK(hp_hist_mean(h) == 0 && hp_hist_percentile(h, 50000) == 0);
	CHECK(hp_hist_next(h, &cursor, &up, &count) == 0);
	/* one sample: every figure is it */
	hp_hist_record(h, 123457);
	for (unsigned p = 0; p <= 100000; p += 100)
		CHECK(hp_hist_percentile(h, p) == 123457);
	CHECK(hp_hist_mean(h) == 123457.0 && hp_hist_min(h) == 123457 && hp_hist_max(h) == 123457);
	cursor = 0;
	CHECK(hp_hist_next(h, &cursor, &up, &count) == 1 && up == 123457 && count == 1);
	CHECK(hp_hist_next(h, &cursor, &up, &count) == 0);
	/* all equal */
	hp_hist_reset(h);
	for (int i = 0; i < 1000; i++)
		hp_hist_record(h, 777777);
	CHECK(hp_hist_percentile(h, 1) == 777777 && hp_hist_percentile(h, 99900) == 777777);
	CHECK(hp_hist_mean(h) == 777777.0);
	/* zero */
	hp_hist_reset(h);
	hp_hist_record(h, 0);
	CHECK(hp_hist_percentile(h, 50000) == 0 && hp_hist_count(h) == 1);
	/* huge: past the range, counted in the top bucket, max exact, the
	 * percentiles there the max (never below a sample) */
	hp_hist_reset(h);
	hp_hist_record(h, 1000);
	hp_hist_record(h, UINT64_MAX);
	hp_hist_record(h, (uint64_t)5e12);
	CHECK(hp_hist_max(h) == UINT64_MAX && hp_hist_min(h) == 1000);
	CHECK(hp_hist_percentile(h, 33333) == 1000);
	CHECK(hp_hist_percentile(h, 50000) == UINT64_MAX);
	CHECK(hp_hist_percentile(h, 200000) == UINT64_MAX);     /* p over 100 %: 100 % */
	/* merge */
	hp_hist_reset(h);
	hp_hist_record(h, 10);
	hp_hist_record(g, 30);
	hp_hist_record(g, 20);
	hp_hist_merge(h, g);
	CHECK(hp_hist_count(h) == 3 && hp_hist_min(h) == 10 && hp_hist_max(h) == 30);
	CHECK(hp_hist_percentile(h, 50000) == 20 && hp_hist_mean(h) == 20.0);
	hp_hist_reset(g);
	hp_hist_merge(h, g);
	CHECK(hp_hist_count(h) == 3);
	hp_hist_free(h);
	hp_hist_free(g);
	hp_hist_free(NULL);
}

int main(void)
{
	test_known_distribution();
	test_bucket_bounds();
	test_edges();
	return check_report("test_histogram");
}
