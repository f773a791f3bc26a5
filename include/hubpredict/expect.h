/* expect.h - client-side filters (--min-conf, --classes) and CI checks
 * (--expect) on a decoded response. Pure functions: no I/O, no globals.
 *
 * A class is named by its name (exact bytes, case-sensitive) or, when the
 * text is all digits, by its number. Filters drop results from a decoded
 * response in place, so everything that reads it afterwards (table, csv,
 * hp_response_count, the checks) sees only what is kept.
 *
 * Ownership: hp_expect_parse() and hp_class_list_parse() fill caller-owned
 * structs whose strings they allocate; release them with hp_expect_clear()
 * and hp_class_list_clear() (both NULL-safe, and safe after a failed parse).
 * hp_expect_evaluate() returns an array of messages owned by the caller,
 * freed with hp_expect_messages_free().
 */
#ifndef HUBPREDICT_EXPECT_H
#define HUBPREDICT_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

struct hp_response;
struct hp_image;
struct hp_result;

struct hp_class_ref {
	char *name;             /* as given (owned); also the number's digits */
	bool is_number;         /* all digits: matches the class number */
	long number;
};

enum hp_expect_op { HP_EXPECT_GE = 0, HP_EXPECT_GT, HP_EXPECT_EQ, HP_EXPECT_LE, HP_EXPECT_LT };

struct hp_expect {          /* NAME OP N */
	struct hp_class_ref cls;
	enum hp_expect_op op;
	long n;
};

struct hp_class_list {
	struct hp_class_ref *items; /* owned */
	size_t n;
};

struct hp_filter {
	double min_conf;            /* keep confidence >= this; < 0 = no filter */
	struct hp_class_list classes; /* keep these classes; n == 0 = no filter */
};

/* The accepted forms, for usage messages. */
#define HP_EXPECT_FORMS "NAME, NAME>=N, NAME>N, NAME==N, NAME<=N or NAME<N"

/* Parse EXPR: NAME, NAME>=N, NAME>N, NAME==N, NAME<=N, NAME<N. NAME is any
 * non-empty text without '<', '>' or '='; N is a whole number of digits
 * (0..1000000000). NAME alone means NAME>=1. Returns 0, or -1 (bad syntax
 * or out of memory). */
int hp_expect_parse(struct hp_expect *out, const char *expr);
void hp_expect_clear(struct hp_expect *e);

/* "person>=2": the canonical text of an expectation into dst. */
void hp_expect_format(char *dst, size_t dstlen, const struct hp_expect *e);

/* Parse a comma-separated LIST of class names or numbers; an empty list or
 * an empty item is an error. Returns 0, or -1. */
int hp_class_list_parse(struct hp_class_list *out, const char *list);
void hp_class_list_clear(struct hp_class_list *l);

/* Does a result belong to the class named by ref? */
bool hp_class_ref_match(const struct hp_class_ref *ref, const struct hp_result *res);

/* Is any filter set? */
bool hp_filter_active(const struct hp_filter *f);

/* Drop the results the filter does not keep, in every image of r, freeing
 * them. Results without a confidence (semantic) pass --min-conf. NULL-safe. */
void hp_filter_apply(const struct hp_filter *f, struct hp_response *r);

/* Results of the expectation's class in one image. */
size_t hp_expect_count(const struct hp_expect *e, const struct hp_image *im);

/* Evaluate n expectations on a response. An expectation holds when it holds
 * in at least one image (frame of a video); a response without images
 * counts as one image with no results. For each that does not hold, a
 * message "expected person>=2, found 1" is added, where "found" is the count
 * of the frame closest to holding it: the largest count for >= and >, the
 * smallest for <= and <, the count nearest N for == (the smaller one on a
 * tie). Returns the number of messages (also in
 * *n_msgs; *msgs is NULL when 0), or -1 when out of memory (nothing to free). */
int hp_expect_evaluate(const struct hp_expect *e, size_t n, const struct hp_response *r,
                       char ***msgs, size_t *n_msgs);

void hp_expect_messages_free(char **msgs, size_t n);

/* hp_expect_evaluate over several responses (the frames of a video cut into
 * inputs, SPEC 13): one tally per expectation, zeroed by the caller, each
 * response added in turn; the messages are those hp_expect_evaluate gives
 * for one response holding all their images. Same returns and ownership. */
struct hp_expect_tally {
	bool ok;        /* held in some image */
	bool seen;      /* an image was counted */
	size_t best;    /* else the count closest to holding it */
};

void hp_expect_tally_add(const struct hp_expect *e, size_t n, struct hp_expect_tally *t,
                         const struct hp_response *r);
int hp_expect_tally_messages(const struct hp_expect *e, size_t n, const struct hp_expect_tally *t,
                             char ***msgs, size_t *n_msgs);

#endif
