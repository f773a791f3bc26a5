/* baseline.h - --baseline: compare this run's answers with an earlier -f json
 * (or -f jsonl) output of the same inputs. Loading reads and decodes the file
 * once; comparing is a pure function of two decoded responses.
 *
 * Inputs are matched by the envelope's "file" string, exactly as it was given
 * on the command line (when a name appears several times in the baseline,
 * the first envelope is used). The baseline's responses are filtered with the
 * run's --min-conf/--classes when loaded, as the run's own answers are, so
 * both sides are comparable.
 *
 * Ownership: hp_baseline_load()/hp_baseline_parse() return a baseline owned
 * by the caller, freed with hp_baseline_free() (NULL-safe). The compare
 * functions append messages to a caller-owned array that
 * hp_expect_messages_free() releases.
 */
#ifndef HUBPREDICT_BASELINE_H
#define HUBPREDICT_BASELINE_H

#include <stddef.h>

struct hp_response;
struct hp_result;
struct hp_filter;
struct hp_baseline;

#define HP_BASELINE_IOU_DEFAULT 0.5
#define HP_BASELINE_CONF_DEFAULT 0.10
/* Messages per input beyond which the rest are summed up in one line. */
#define HP_BASELINE_MAX_MESSAGES 20

struct hp_baseline_tol {
	double iou;     /* a box's partner needs IoU >= this (0-1) */
	double conf;    /* confidences (and ratios) may differ by at most this (0-1) */
};

/* Read FILE (a hubpredict -f json array, or -f jsonl lines; mapped, an
 * envelope at a time, each response part by part and without its points)
 * and decode every envelope, applying filter (may be NULL). Returns 0, or
 * -1 with a one-line reason in err ("cannot open 'x.json': No such file or
 * directory", "'x.json' is not a hubpredict json output: element 2 has no
 * \"file\""), or -2 with "out of memory" (exit 13). */
int hp_baseline_load(struct hp_baseline **out, const char *path, const struct hp_filter *filter,
                     char *err, size_t errlen);

/* The same from text in memory; name is used in messages. */
int hp_baseline_parse(struct hp_baseline **out, const char *name, const char *text, size_t len,
                      const struct hp_filter *filter, char *err, size_t errlen);

void hp_baseline_free(struct hp_baseline *b);

/* Envelopes held (distinct file names). */
size_t hp_baseline_size(const struct hp_baseline *b);

/* Compare the answer for FILE (already filtered) with the baseline; append
 * one "baseline: ..." message per difference to *msgs (a malloc'd array of
 * *n_msgs malloc'd strings, may start NULL/0). Returns the number of
 * messages added, or -1 when out of memory (the array stays valid). */
int hp_baseline_check(const struct hp_baseline *b, const char *file, const struct hp_response *r,
                      const struct hp_baseline_tol *tol, char ***msgs, size_t *n_msgs);

/* hp_baseline_check for a frame of a cut video (SPEC 13): the answer for
 * frame number `frame` of VIDEO (one image) against the baseline's entry for
 * that frame in VIDEO's envelope (its images[] entry with that "frame"; an
 * envelope without them, a video uploaded whole: images[frame]). Messages
 * read "baseline: frame 20: person 2 -> 1". Same contract. */
int hp_baseline_check_frame(const struct hp_baseline *b, const char *video, long long frame,
                            const struct hp_response *r, const struct hp_baseline_tol *tol, char ***msgs,
                            size_t *n_msgs);

/* Compare two decoded responses (base: the baseline's, cur: this run's);
 * same contract as hp_baseline_check(). */
int hp_baseline_diff(const struct hp_response *base, const struct hp_response *cur,
                     const struct hp_baseline_tol *tol, char ***msgs, size_t *n_msgs);

/* Intersection over union of two results' boxes: axis-aligned boxes (4
 * numbers) directly, oriented ones (8: four corners) as convex polygons
 * (Sutherland-Hodgman clipping, shoelace area); an axis box against an
 * oriented one compares as polygons. 0 when either has no box. */
double hp_box_iou(const struct hp_result *a, const struct hp_result *b);

/* IoU of two convex quadrilaterals given as x1 y1 x2 y2 x3 y3 x4 y4 (either
 * winding order). */
double hp_quad_iou(const double a[8], const double b[8]);

#endif
