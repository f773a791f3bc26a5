/* fuzz_retry_headers.c - libFuzzer target: Retry-After and X-RateLimit-Reset
 * values from a hostile server (src/run/retry.c), and the backoff computation.
 *
 * The input, NUL-terminated, goes to hp_parse_retry_after() and
 * hp_parse_ratelimit_reset() with several clocks: a fixed one, time(NULL),
 * the epoch, and the fixed one plus DELTA. Checks (HP_FUZZ_SKIP names them):
 *   wait-range   the result is -1 or a finite number >= 0
 *   wait-bound   Retry-After in seconds is capped at 1e9 (retry.c); no form
 *                waits longer than until the end of year 9999 (the latest
 *                date any of the documented forms can name)
 *   wait-clock   whether a value is valid does not depend on the clock; a
 *                later clock never waits longer, nor less by more than DELTA
 *   backoff      hp_backoff_seconds(n, r) lies in [base/2, base], base =
 *                min(2^(n-1), 30) (1 for n <= 1), for any n and any double r
 *                (the first 12 bytes of the input)
 */
#include "fuzz_util.h"

#include "hubpredict/retry.h"

#include <math.h>
#include <stdint.h>
#include <time.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	hpf_init_skips();
	HPF_CHECK("wait-range", hp_parse_retry_after(NULL, 0) == -1, "NULL is not invalid");
	HPF_CHECK("wait-range", hp_parse_ratelimit_reset(NULL, 0) == -1, "NULL is not invalid");
	return 0;
}

#define FIXED_NOW ((time_t)1764356400)          /* 2025-11-28T19:00:00Z */
#define YEAR_10000 253402300800.0                /* 10000-01-01T00:00:00Z */
#define DELTA 1000

typedef double (*parser)(const char *, time_t);

static void check_value(const char *name, parser parse, const char *v, double cap_seconds)
{
	static const time_t clocks[] = { FIXED_NOW, 0, (time_t)1 };
	double r[3];
	for (int i = 0; i < 3; i++) {
		time_t now = clocks[i];
		r[i] = parse(v, now);
		HPF_CHECK("wait-range", r[i] == -1 || (isfinite(r[i]) && r[i] >= 0),
		          "%s(\"%s\", %lld) = %g", name, v, (long long)now, r[i]);
		/* a whole day for the widest ISO-8601 offset */
		HPF_CHECK("wait-bound", r[i] <= YEAR_10000 - (double)now + 86400 && r[i] <= cap_seconds,
		          "%s(\"%s\", %lld) = %.17g: beyond any date the header can name", name, v, (long long)now,
		          r[i]);
		HPF_CHECK("wait-clock", (r[i] == -1) == (r[0] == -1),
		          "%s(\"%s\") is valid at one clock only (%g at %lld, %g at %lld)", name, v, r[0],
		          (long long)clocks[0], r[i], (long long)now);
	}
	double later = parse(v, FIXED_NOW + DELTA);
	HPF_CHECK("wait-clock", (later == -1) == (r[0] == -1), "%s(\"%s\") validity depends on the clock", name, v);
	if (r[0] >= 0 && later >= 0)
		/* (with a rounding allowance: these are doubles, up to 1e308) */
		HPF_CHECK("wait-clock", later <= r[0] && r[0] - later <= DELTA + 1e-6 + r[0] * 1e-14,
		          "%s(\"%s\"): %.17g at now, %.17g %d s later", name, v, r[0], later, DELTA);
	double wall = parse(v, time(NULL));
	HPF_CHECK("wait-range", wall == -1 || (isfinite(wall) && wall >= 0), "%s(\"%s\", time(NULL)) = %g", name, v,
	          wall);
}

static void check_backoff(const uint8_t *data, size_t size)
{
	if (size < 12)
		return;
	int n;
	double rand01;
	memcpy(&n, data, sizeof n);
	memcpy(&rand01, data + 4, sizeof rand01);
	double base = n >= 6 ? 30.0 : n <= 1 ? 1.0 : (double)(1 << (n - 1));
	if (base > 30)
		base = 30;
	double w = hp_backoff_seconds(n, rand01);
	HPF_CHECK("backoff", isfinite(w) && w >= base / 2 && w <= base && w <= HP_BACKOFF_CAP_S,
	          "hp_backoff_seconds(%d, %g) = %g, base %g", n, rand01, w, base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = malloc(size + 1);
	if (!v)
		abort();
	memcpy(v, data, size);
	v[size] = '\0';
	/* seconds: capped at 1e9 by retry.c (the HTTP-date forms are not) */
	double rs = hp_parse_retry_after(v, FIXED_NOW);
	bool all_digits = size > 0;
	for (size_t i = 0; i < size && v[i]; i++)
		all_digits &= (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == ' ' || v[i] == '\t';
	HPF_CHECK("wait-bound", !all_digits || rs <= 1e9, "hp_parse_retry_after(\"%s\") = %g, over the 1e9 cap", v, rs);
	check_value("hp_parse_retry_after", hp_parse_retry_after, v, INFINITY);
	check_value("hp_parse_ratelimit_reset", hp_parse_ratelimit_reset, v, INFINITY);
	check_backoff(data, size);
	free(v);
	return 0;
}
