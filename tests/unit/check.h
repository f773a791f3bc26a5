/* check.h - the smallest test harness: CHECK records a failure with its
 * line and goes on; main returns the failure count as its exit status. */
#ifndef HP_CHECK_H
#define HP_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); check_count++; \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) { check_failures++; \
	fprintf(stderr, "%s:%d: CHECK_STR failed: '%s' != '%s'\n", __FILE__, __LINE__, \
	        a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define CHECK_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); check_count++; \
	if (!h_ || !strstr(h_, n_)) { check_failures++; \
	fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, h_ ? h_ : "(null)", n_); } } while (0)
#define CHECK_NEAR(a, b) do { double a_ = (a), b_ = (b); check_count++; \
	if (!(a_ - b_ < 1e-9 && b_ - a_ < 1e-9)) { check_failures++; \
	fprintf(stderr, "%s:%d: %.17g != %.17g\n", __FILE__, __LINE__, a_, b_); } } while (0)

static int check_report(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
