/* retry.c - the retry policy and the parsers of the headers that steer it. */
#define _XOPEN_SOURCE 700 /* strptime */
#define _DEFAULT_SOURCE   /* timegm */
#include "hubpredict/retry.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool hp_retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_ABORTED_BY_CALLBACK: /* our stall watch: a stalled transfer */
		return true;
	default:
		return false; /* TLS certificates, local write errors, bad URLs... */
	}
}

bool hp_retryable_status(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

double hp_backoff_seconds(int n, double rand01)
{
	double base = HP_BACKOFF_CAP_S;
	if (n < 6)
		base = fmin(HP_BACKOFF_CAP_S, ldexp(1.0, n > 0 ? n - 1 : 0));
	if (!(rand01 >= 0 && rand01 < 1))
		rand01 = 0.5;
	return base / 2 + base / 2 * rand01;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A whole non-negative number (digits, optional fraction), or -1. */
static double parse_number(const char *s)
{
	s = skip_space(s);
	if (!isdigit((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	/* strtod also takes hex and exponents: insist on digits and one dot */
	for (const char *p = s; p < end; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
	if (*skip_space(end) != '\0')
		return -1;
	return v;
}

static double until(time_t when, time_t now)
{
	return when > now ? difftime(when, now) : 0.0;
}

double hp_parse_retry_after(const char *value, time_t now)
{
	if (!value)
		return -1;
	double secs = parse_number(value);
	if (secs >= 0)
		return fmin(secs, 1e9);
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT",  /* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",  /* RFC 850 */
		"%a %b %e %H:%M:%S %Y",       /* asctime */
	};
	const char *v = skip_space(value);
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		const char *end = strptime(v, formats[i], &tm);
		if (end && *skip_space(end) == '\0') {
			time_t when = timegm(&tm);
			if (when == (time_t)-1)
				return -1;
			return until(when, now);
		}
	}
	return -1;
}

/* Parse exactly n digits into *out. */
static const char *digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, s++) {
		if (!isdigit((unsigned char)*s))
			return NULL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return s;
}

double hp_parse_ratelimit_reset(const char *value, time_t now)
{
	if (!value)
		return -1;
	double n = parse_number(value);
	if (n >= 0) {
		if (n < 1e9)
			return fmin(n, 1e9); /* seconds from now */
		return n > (double)now ? fmin(n - (double)now, 1e9) : 0.0;
	}
	/* ISO-8601: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm|+hhmm) */
	const char *s = skip_space(value);
	int Y, M, D, h, m, sec, oh = 0, om = 0;
	if (!(s = digits(s, 4, &Y)) || *s++ != '-' || !(s = digits(s, 2, &M)) || *s++ != '-' ||
	    !(s = digits(s, 2, &D)) || (*s != 'T' && *s != 't' && *s != ' ') || !(s = digits(s + 1, 2, &h)) ||
	    *s++ != ':' || !(s = digits(s, 2, &m)) || *s++ != ':' || !(s = digits(s, 2, &sec)))
		return -1;
	if (*s == '.' || *s == ',') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	int sign = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (!(s = digits(s, 2, &oh)))
			return -1;
		if (*s == ':')
			s++;
		if (!(s = digits(s, 2, &om)))
			return -1;
	} else {
		return -1; /* a time without a zone is ambiguous */
	}
	if (*skip_space(s) != '\0' || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return -1;
	struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec };
	time_t when = timegm(&tm);
	if (when == (time_t)-1)
		return -1;
	when -= (time_t)sign * (oh * 3600 + om * 60);
	return until(when, now);
}

double hp_retry_jitter(void)
{
	static bool seeded;
	if (!seeded) {
		srand48((long)time(NULL) ^ (long)getpid());
		seeded = true;
	}
	return drand48();
}
