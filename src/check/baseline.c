/* baseline.c - --baseline: load an earlier -f json/jsonl output, and compare
 * each decoded answer with the baseline's answer for the same input. */
#define _DEFAULT_SOURCE
#include "hubpredict/baseline.h"
#include "hubpredict/expect.h"
#include "hubpredict/response.h"
#include "hubpredict/text.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BASELINE_MAX_BYTES ((size_t)1024 * 1024 * 1024)

struct entry {
	char *file;
	size_t order;                /* position in the file, for "first wins" */
	struct hp_response *resp;    /* NULL for an error envelope */
	long error_exit;             /* the error envelope's exit status */
	long long *frames;           /* a cut video's envelope: each images[i]'s "frame"
	                                (owned); NULL: images[i] is frame i */
};

struct hp_baseline {
	struct entry *e;             /* sorted by file name, names unique */
	size_t n;
};

/* ---- geometry ------------------------------------------------------------ */

static double axis_iou(const double *a, const double *b)
{
	double ax1 = fmin(a[0], a[2]), ax2 = fmax(a[0], a[2]), ay1 = fmin(a[1], a[3]), ay2 = fmax(a[1], a[3]);
	double bx1 = fmin(b[0], b[2]), bx2 = fmax(b[0], b[2]), by1 = fmin(b[1], b[3]), by2 = fmax(b[1], b[3]);
	double iw = fmin(ax2, bx2) - fmax(ax1, bx1), ih = fmin(ay2, by2) - fmax(ay1, by1);
	if (!(iw > 0) || !(ih > 0))
		return 0;
	double inter = iw * ih;
	double uni = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
	return uni > 0 ? inter / uni : 0;
}

/* Signed shoelace area: positive when counter-clockwise (y up). */
static double shoelace(const double *x, const double *y, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++) {
		int k = (i + 1) % n;
		s += x[i] * y[k] - x[k] * y[i];
	}
	return s / 2;
}

/* Keep the part of polygon (sx, sy, sn) left of the directed line a->b. */
static int clip_edge(const double *sx, const double *sy, int sn, double ax, double ay, double bx, double by,
                     double *ox, double *oy)
{
	int on = 0;
	for (int i = 0; i < sn; i++) {
		int p = (i + sn - 1) % sn;
		double px = sx[p], py = sy[p], qx = sx[i], qy = sy[i];
		double dp = (bx - ax) * (py - ay) - (by - ay) * (px - ax);
		double dq = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax);
		bool pin = dp >= 0, qin = dq >= 0;
		if (pin != qin) {
			double t = dp / (dp - dq);
			ox[on] = px + t * (qx - px);
			oy[on] = py + t * (qy - py);
			on++;
		}
		if (qin) {
			ox[on] = qx;
			oy[on] = qy;
			on++;
		}
	}
	return on;
}

/* Four corners into counter-clockwise x[], y[]; returns the area. */
static double quad_ccw(const double *q, double *x, double *y)
{
	for (int i = 0; i < 4; i++) {
		x[i] = q[2 * i];
		y[i] = q[2 * i + 1];
	}
	double a = shoelace(x, y, 4);
	if (a < 0) {
		double t;
		t = x[1], x[1] = x[3], x[3] = t;
		t = y[1], y[1] = y[3], y[3] = t;
		a = -a;
	}
	return a;
}

double hp_quad_iou(const double a[8], const double b[8])
{
	double ax[4], ay[4], bx[4], by[4];
	double area_a = quad_ccw(a, ax, ay), area_b = quad_ccw(b, bx, by);
	if (!(area_a > 0) || !(area_b > 0))
		return 0;
	/* each clip by an edge of a convex quad adds at most one vertex */
	double px[16], py[16], qx[16], qy[16];
	int n = 4;
	memcpy(px, bx, sizeof bx);
	memcpy(py, by, sizeof by);
	for (int i = 0; i < 4 && n > 0; i++) {
		int k = (i + 1) % 4;
		n = clip_edge(px, py, n, ax[i], ay[i], ax[k], ay[k], qx, qy);
		memcpy(px, qx, sizeof(double) * (size_t)n);
		memcpy(py, qy, sizeof(double) * (size_t)n);
	}
	double inter = n >= 3 ? fabs(shoelace(px, py, n)) : 0;
	double uni = area_a + area_b - inter;
	if (!(uni > 0))
		return 0;
	double iou = inter / uni;
	return iou > 1 ? 1 : iou;
}

static void as_quad(const struct hp_result *r, double q[8])
{
	if (r->n_box == 8) {
		memcpy(q, r->box, 8 * sizeof *q);
		return;
	}
	double x1 = r->box[0], y1 = r->box[1], x2 = r->box[2], y2 = r->box[3];
	double v[8] = { x1, y1, x2, y1, x2, y2, x1, y2 };
	memcpy(q, v, sizeof v);
}

double hp_box_iou(const struct hp_result *a, const struct hp_result *b)
{
	if (a->n_box == 0 || b->n_box == 0)
		return 0;
	if (a->n_box == 4 && b->n_box == 4)
		return axis_iou(a->box, b->box);
	double qa[8], qb[8];
	as_quad(a, qa);
	as_quad(b, qb);
	return hp_quad_iou(qa, qb);
}

/* ---- messages ---------------------------------------------------------- */

struct msgs {
	char ***arr;
	size_t *n;
	const char *prefix;  /* "frame 2: " or "" */
	size_t added, dropped;
	bool oom;
};

/* One message; past HP_BASELINE_MAX_MESSAGES of the capped kind, only counted. */
static void add_msg(struct msgs *m, bool capped, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_msg(struct msgs *m, bool capped, const char *fmt, ...)
{
	if (m->oom)
		return;
	if (capped && m->added >= HP_BASELINE_MAX_MESSAGES) {
		m->dropped++;
		return;
	}
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	size_t len = strlen("baseline: ") + strlen(m->prefix) + strlen(text) + 1;
	char *s = malloc(len);
	char **grown = s ? realloc(*m->arr, (*m->n + 1) * sizeof *grown) : NULL;
	if (!grown) {
		free(s);
		m->oom = true;
		return;
	}
	snprintf(s, len, "baseline: %s%s", m->prefix, text);
	*m->arr = grown;
	grown[(*m->n)++] = s;
	m->added++;
}
#define add(m, ...) add_msg((m), true, __VA_ARGS__)
#define add_uncapped(m, ...) add_msg((m), false, __VA_ARGS__)

/* The end of one input's messages: sum up the ones beyond the cap. */
static int finish(struct msgs *m)
{
	if (m->dropped) {
		m->prefix = "";
		add_uncapped(m, "and %zu more difference%s", m->dropped, m->dropped == 1 ? "" : "s");
		m->dropped = 0;
	}
	return m->oom ? -1 : (int)m->added;
}

/* A result's class for messages: its name, or its number when it has none. */
static const char *label(const struct hp_result *r, char *buf, size_t len)
{
	if (r->name && r->name[0])
		return r->name;
	snprintf(buf, len, "class %ld", r->cls);
	return buf;
}

static bool same_class(const struct hp_result *a, const struct hp_result *b)
{
	if ((a->name && a->name[0]) || (b->name && b->name[0]))
		return a->name && b->name && a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0;
	return a->cls == b->cls;
}

static void fmt_box(const struct hp_result *r, char *buf, size_t len)
{
	if (r->n_box == 8)
		snprintf(buf, len, "(%.5g,%.5g,%.5g,%.5g,%.5g,%.5g,%.5g,%.5g)", r->box[0], r->box[1], r->box[2],
		         r->box[3], r->box[4], r->box[5], r->box[6], r->box[7]);
	else
		snprintf(buf, len, "(%.5g,%.5g,%.5g,%.5g)", r->box[0], r->box[1], r->box[2], r->box[3]);
}

static bool beyond(double a, double b, double tol)
{
	return fabs(a - b) > tol + 1e-9;
}

/* ---- comparing ------------------------------------------------------- */

struct pair {
	double iou;
	size_t b, c;
};

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	if (p->iou != q->iou)
		return p->iou > q->iou ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return p->c < q->c ? -1 : (p->c > q->c);
}

/* Each box of rep's class in X that found no partner (taken[i] false), with
 * its best IoU against Y's boxes of that class (IoU is symmetric). */
static void unmatched(struct msgs *m, const char *name, const struct hp_result *rep, const struct hp_image *X,
                      const bool *taken, const struct hp_image *Y, const char *what)
{
	char where[160];
	size_t nx = X ? X->n_results : 0, ny = Y ? Y->n_results : 0;
	for (size_t i = 0; i < nx; i++) {
		const struct hp_result *x = &X->results[i];
		if (taken[i] || !same_class(x, rep) || x->n_box == 0)
			continue;
		double best = 0;
		for (size_t k = 0; k < ny; k++)
			if (same_class(&Y->results[k], rep))
				best = fmax(best, hp_box_iou(x, &Y->results[k]));
		fmt_box(x, where, sizeof where);
		add(m, "%s at %s %s (best IoU %.2f)", name, where, what, best);
	}
}

/* Match the boxes of one class (the class of `rep`) greedily by IoU. */
static void match_boxes(struct msgs *m, const struct hp_image *B, const struct hp_image *C,
                        const struct hp_result *rep, const struct hp_baseline_tol *tol)
{
	char lb[32], where[160];
	const char *name = label(rep, lb, sizeof lb);
	size_t nb = B ? B->n_results : 0, nc = C ? C->n_results : 0;
	size_t np = 0;
	struct pair *pairs = NULL;
	bool *bm = calloc(nb + 1, sizeof *bm), *cm = calloc(nc + 1, sizeof *cm);
	if (!bm || !cm)
		goto oom;
	for (size_t i = 0; i < nb; i++) {
		if (!same_class(&B->results[i], rep) || B->results[i].n_box == 0)
			continue;
		for (size_t k = 0; k < nc; k++) {
			if (!same_class(&C->results[k], rep) || C->results[k].n_box == 0)
				continue;
			double iou = hp_box_iou(&B->results[i], &C->results[k]);
			if (iou + 1e-12 < tol->iou)
				continue;
			struct pair *grown = realloc(pairs, (np + 1) * sizeof *grown);
			if (!grown)
				goto oom;
			pairs = grown;
			pairs[np++] = (struct pair){ iou, i, k };
		}
	}
	if (np)
		qsort(pairs, np, sizeof *pairs, pair_cmp);
	for (size_t p = 0; p < np; p++) {
		if (bm[pairs[p].b] || cm[pairs[p].c])
			continue;
		bm[pairs[p].b] = cm[pairs[p].c] = true;
		const struct hp_result *b = &B->results[pairs[p].b], *c = &C->results[pairs[p].c];
		if (b->has_confidence && c->has_confidence && beyond(b->confidence, c->confidence, tol->conf)) {
			fmt_box(b, where, sizeof where);
			add(m, "%s at %s confidence %.3g -> %.3g", name, where, b->confidence, c->confidence);
		}
	}
	unmatched(m, name, rep, B, bm, C, "has no match");
	unmatched(m, name, rep, C, cm, B, "is new");
	free(pairs);
	free(bm);
	free(cm);
	return;
oom:
	free(pairs);
	free(bm);
	free(cm);
	m->oom = true;
}

static size_t count_class(const struct hp_image *im, const struct hp_result *rep)
{
	size_t n = 0;
	for (size_t i = 0; im && i < im->n_results; i++)
		n += same_class(&im->results[i], rep);
	return n;
}

/* The k-th result of rep's class, or NULL. */
static const struct hp_result *nth_of_class(const struct hp_image *im, const struct hp_result *rep, size_t k)
{
	for (size_t i = 0; im && i < im->n_results; i++)
		if (same_class(&im->results[i], rep) && k-- == 0)
			return &im->results[i];
	return NULL;
}

/* Has a class like rep's been seen before results[upto] of im (or in first)? */
static bool seen_before(const struct hp_image *first, const struct hp_image *im, size_t upto,
                        const struct hp_result *rep)
{
	for (size_t i = 0; first && first != im && i < first->n_results; i++)
		if (same_class(&first->results[i], rep))
			return true;
	for (size_t i = 0; i < upto; i++)
		if (same_class(&im->results[i], rep))
			return true;
	return false;
}

static const struct hp_result *top1(const struct hp_image *im)
{
	const struct hp_result *best = NULL;
	for (size_t i = 0; im && i < im->n_results; i++)
		if (!best || im->results[i].confidence > best->confidence)
			best = &im->results[i];
	return best;
}

static void diff_classify(struct msgs *m, const struct hp_image *B, const struct hp_image *C,
                          const struct hp_baseline_tol *tol)
{
	const struct hp_result *b = top1(B), *c = top1(C);
	char l1[32], l2[32];
	if (!b && !c)
		return;
	if (!b || !c || !same_class(b, c)) {
		add(m, "top-1 %s -> %s", b ? label(b, l1, sizeof l1) : "none", c ? label(c, l2, sizeof l2) : "none");
		return;
	}
	if (b->has_confidence && c->has_confidence && beyond(b->confidence, c->confidence, tol->conf))
		add(m, "top-1 %s confidence %.3g -> %.3g", label(b, l1, sizeof l1), b->confidence, c->confidence);
}

static void diff_depth(struct msgs *m, const struct hp_depth *b, const struct hp_depth *c,
                       const struct hp_baseline_tol *tol)
{
	if (!b->present && !c->present)
		return;
	if (!b->present || !c->present) {
		add(m, "depth map %s -> %s", b->present ? "present" : "absent", c->present ? "present" : "absent");
		return;
	}
	if (b->height != c->height || b->width != c->width)
		add(m, "depth map %ldx%ld -> %ldx%ld", b->width, b->height, c->width, c->height);
	/* min and max within --baseline-conf of the baseline's depth range */
	double range = fabs(b->max - b->min);
	if (!(range > 0))
		range = fabs(b->max) > 0 ? fabs(b->max) : 1;
	if (beyond(b->min, c->min, tol->conf * range))
		add(m, "depth min %.4g -> %.4g", b->min, c->min);
	if (beyond(b->max, c->max, tol->conf * range))
		add(m, "depth max %.4g -> %.4g", b->max, c->max);
}

static void diff_image(struct msgs *m, enum hp_task task, const struct hp_image *B, const struct hp_image *C,
                       const struct hp_baseline_tol *tol)
{
	if (task == HP_TASK_CLASSIFY) {
		diff_classify(m, B, C, tol);
		return;
	}
	if (task == HP_TASK_DEPTH)
		diff_depth(m, &B->depth, &C->depth, tol);
	/* every class of either side, in order of first appearance */
	const struct hp_image *sides[2] = { B, C };
	char lb[32];
	for (int s = 0; s < 2; s++) {
		const struct hp_image *im = sides[s];
		for (size_t i = 0; i < im->n_results; i++) {
			const struct hp_result *rep = &im->results[i];
			if (seen_before(s == 1 ? B : NULL, im, i, rep))
				continue;
			size_t nb = count_class(B, rep), nc = count_class(C, rep);
			if (nb != nc)
				add(m, "%s %zu -> %zu", label(rep, lb, sizeof lb), nb, nc);
			if (task == HP_TASK_SEMANTIC) {
				for (size_t k = 0; k < nb && k < nc; k++) {
					const struct hp_result *b = nth_of_class(B, rep, k), *c = nth_of_class(C, rep, k);
					if (beyond(b->pixel_ratio, c->pixel_ratio, tol->conf))
						add(m, "%s pixel ratio %.3g -> %.3g", label(rep, lb, sizeof lb), b->pixel_ratio,
						    c->pixel_ratio);
				}
			} else {
				match_boxes(m, B, C, rep, tol);
			}
		}
	}
}

static int diff(const struct hp_response *base, const struct hp_response *cur, const struct hp_baseline_tol *tol,
                struct msgs *m)
{
	enum hp_task task = cur->task != HP_TASK_UNKNOWN ? cur->task : base->task;
	if (base->task != HP_TASK_UNKNOWN && cur->task != HP_TASK_UNKNOWN && base->task != cur->task) {
		add(m, "task %s -> %s", hp_task_name(base->task), hp_task_name(cur->task));
		return finish(m);
	}
	if (base->n_images != cur->n_images)
		add(m, "frame count %zu -> %zu", base->n_images, cur->n_images);
	bool video = base->n_images > 1 || cur->n_images > 1;
	size_t n = base->n_images < cur->n_images ? base->n_images : cur->n_images;
	char prefix[40] = "";
	const char *given = m->prefix; /* a cut video's frame: "frame 20: " */
	for (size_t f = 0; f < n && !m->oom; f++) {
		if (video)
			snprintf(prefix, sizeof prefix, "frame %zu: ", f);
		m->prefix = video ? prefix : given;
		diff_image(m, task, &base->images[f], &cur->images[f], tol);
	}
	m->prefix = "";
	return finish(m);
}

int hp_baseline_diff(const struct hp_response *base, const struct hp_response *cur,
                     const struct hp_baseline_tol *tol, char ***msgs, size_t *n_msgs)
{
	struct msgs m = { .arr = msgs, .n = n_msgs, .prefix = "" };
	return diff(base, cur, tol, &m);
}

/* ---- the baseline file -------------------------------------------------- */

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	return a->order < b->order ? -1 : (a->order > b->order);
}

static int key_cmp(const void *key, const void *y)
{
	return strcmp(key, ((const struct entry *)y)->file);
}

static const struct entry *find(const struct hp_baseline *b, const char *file)
{
	if (!b || b->n == 0)
		return NULL;
	return bsearch(file, b->e, b->n, sizeof *b->e, key_cmp);
}

size_t hp_baseline_size(const struct hp_baseline *b)
{
	return b ? b->n : 0;
}

static void entry_clear(struct entry *e)
{
	free(e->file);
	free(e->frames);
	hp_response_free(e->resp);
}

void hp_baseline_free(struct hp_baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		entry_clear(&b->e[i]);
	free(b->e);
	free(b);
}

int hp_baseline_check(const struct hp_baseline *b, const char *file, const struct hp_response *r,
                      const struct hp_baseline_tol *tol, char ***msgs, size_t *n_msgs)
{
	struct msgs m = { .arr = msgs, .n = n_msgs, .prefix = "" };
	if (!r)
		return 0;
	const struct entry *e = find(b, file);
	if (!e)
		add(&m, "not in the baseline");
	else if (!e->resp)
		add(&m, "failed in the baseline (exit %ld), answered now", e->error_exit);
	else
		return diff(e->resp, r, tol, &m);
	return finish(&m);
}

int hp_baseline_check_frame(const struct hp_baseline *b, const char *video, long long frame,
                            const struct hp_response *r, const struct hp_baseline_tol *tol, char ***msgs,
                            size_t *n_msgs)
{
	char prefix[48];
	snprintf(prefix, sizeof prefix, "frame %lld: ", frame);
	struct msgs m = { .arr = msgs, .n = n_msgs, .prefix = prefix };
	if (!r)
		return 0;
	const struct entry *e = find(b, video);
	size_t i = 0;
	if (e && e->resp && e->frames)
		while (i < e->resp->n_images && e->frames[i] != frame)
			i++;
	else if (e && e->resp)
		i = frame >= 0 ? (size_t)frame : SIZE_MAX;
	if (!e || (e->resp && i >= e->resp->n_images)) {
		add(&m, "not in the baseline");
	} else if (!e->resp) {
		add(&m, "failed in the baseline (exit %ld), answered now", e->error_exit);
	} else {
		/* the baseline's frame on its own, against this frame's answer */
		struct hp_response one = { .task = e->resp->task, .images = &e->resp->images[i], .n_images = 1 };
		return diff(&one, r, tol, &m);
	}
	return finish(&m);
}

/* The file's bytes, mapped when it is a regular file: pages already read
 * are let go behind each pass (an answer of hundreds of MB is read a part
 * at a time, SPEC 11). */
struct text_map {
	const char *data;
	size_t len;
	bool mapped;
	size_t base, from;      /* the value being walked starts at base; let go up to from */
};

static void let_go(void *arg, size_t upto)
{
	struct text_map *m = arg;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t a = (m->base + m->from) / page * page, z = (m->base + upto) / page * page;
	if (m->mapped && z > a)
		madvise((void *)(m->data + a), z - a, MADV_DONTNEED);
	m->from = upto;
}

/* A walk over [base, ...) of the map starts (again). */
static void *walk_from(struct text_map *m, size_t base)
{
	m->base = base;
	m->from = 0;
	return m;
}

/* The envelope at [at, at + len) of the map (strict JSON) without the bytes
 * of its response ([rs, re), "{}" in their place), parsed: its "file",
 * "file_bytes" and "error". NULL when out of memory. */
static cJSON *parse_without(const struct text_map *m, size_t at, size_t len, const struct hp_json_range *r)
{
	if (!r)
		return cJSON_ParseWithLength(m->data + at, len);
	size_t head = r->start, rest = len - r->end;
	char *t = malloc(head + 2 + rest + 1);
	if (!t)
		return NULL;
	memcpy(t, m->data + at, head);
	memcpy(t + head, "{}", 2);
	memcpy(t + head + 2, m->data + at + r->end, rest);
	cJSON *doc = cJSON_ParseWithLength(t, head + 2 + rest);
	free(t);
	return doc;
}

/* The envelope's name: its "file_bytes" decoded (the exact bytes of a name
 * that is not UTF-8, render_json.c), else "file". NULL when out of memory,
 * or (*bad) when file_bytes is not base64. */
/* A cut video's envelope (render_json.c): the "frame" of each images[]
 * entry, when every entry has one (each entry parsed alone, its results left
 * out when the parts cut them). 0 (e->frames NULL when some entry has none),
 * or -2 when out of memory. */
static int envelope_frames(struct entry *e, const struct text_map *m, size_t at, const struct hp_json_parts *parts)
{
	size_t n = e->resp ? e->resp->n_images : 0, k = 0;
	if (!n || parts->n_images != n)
		return 0;
	if (!(e->frames = malloc(n * sizeof *e->frames)))
		return -2;
	for (size_t i = 0; i < parts->n && k < n; i++) {
		const struct hp_json_part *p = &parts->v[i];
		if (p->is_result)
			continue;
		struct hp_json_range cut = { p->cut_start - p->start, p->cut_end - p->start };
		cJSON *im = parse_without(m, at + p->start, p->end - p->start, p->cut_end ? &cut : NULL);
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(im, "frame");
		bool ok = cJSON_IsNumber(f);
		if (ok)
			e->frames[k++] = (long long)f->valuedouble;
		cJSON_Delete(im);
		if (!im)
			return -2;
		if (!ok)
			break;
	}
	if (k != n) {
		free(e->frames);
		e->frames = NULL;
	}
	return 0;
}

/* An envelope's response, decoded part by part (the answer's ranges, as a
 * big answer is) without its points: the comparison reads none; with a cut
 * video's frame numbers (envelope_frames). */
static int decode_response(struct text_map *m, size_t at, size_t len, struct entry *e, char *err,
                           size_t errlen)
{
	struct hp_json_parts parts;
	size_t bad = 0;
	int rc = hp_json_parts(m->data + at, len, (size_t)1024 * 1024, &parts, &bad, let_go, walk_from(m, at));
	if (rc == -1)
		snprintf(err, errlen, "not JSON (at byte %zu)", bad);
	if (rc == 0)
		rc = hp_response_decode_parts(&e->resp, m->data + at, len, &parts, true, err, errlen, let_go, walk_from(m, at));
	if (rc == 0)
		rc = envelope_frames(e, m, at, &parts);
	hp_json_parts_free(&parts);
	let_go(m, len);
	return rc;
}

static char *envelope_file(const cJSON *env, const cJSON *file, bool *bad)
{
	const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(env, "file_bytes");
	*bad = false;
	if (!cJSON_IsString(bytes))
		return strdup(file->valuestring);
	size_t bl = strlen(bytes->valuestring);
	char *name = malloc(bl / 4 * 3 + 1);
	if (name && hp_base64_decode(name, bytes->valuestring, bl) <= 0) {
		free(name);
		*bad = true;
		return NULL;
	}
	return name;
}

static int add_entry(struct hp_baseline *b, size_t *cap, struct entry *e)
{
	if (b->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct entry *grown = realloc(b->e, nc * sizeof *grown);
		if (!grown)
			return -1;
		b->e = grown;
		*cap = nc;
	}
	b->e[b->n++] = *e;
	return 0;
}

/* The arguments every parser of one baseline layout takes. */
struct parse_ctx {
	struct hp_baseline *b;
	size_t cap;
	const char *name;
	const struct hp_filter *filter;
	struct text_map *m;
	char *err;
	size_t errlen;
	bool oom;               /* an allocation failed: -2, exit 13 */
};

static int oom(struct parse_ctx *c)
{
	c->oom = true;
	snprintf(c->err, c->errlen, "out of memory");
	return -1;
}

/* Add the envelope at [at, at + len) of the map (strict JSON); `where`
 * names it in messages ("element 3", "line 3"). 0, or -1 with err set. */
static int add_envelope(struct parse_ctx *c, size_t at, size_t len, const char *where)
{
	const char *what = "is not a hubpredict json output", *name = c->name;
	struct hp_json_range *r = NULL;
	size_t nr = 0, bad = 0;
	struct entry e = { .order = c->b->n };
	int rc = hp_json_values(c->m->data + at, len, "response", &r, &nr, &bad, let_go, walk_from(c->m, at));
	cJSON *env = rc == 0 ? parse_without(c->m, at, len, nr ? r : NULL) : NULL;
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(env, "file");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(env, "error");
	bool has_resp = nr && c->m->data[at + r->start] == '{', bad_name = false;
	if (!env)
		rc = oom(c);
	else if (!cJSON_IsObject(env))
		rc = -1, snprintf(c->err, c->errlen, "'%s' %s: %s is not an object", name, what, where);
	else if (!cJSON_IsString(file) || !file->valuestring[0])
		rc = -1, snprintf(c->err, c->errlen, "'%s' %s: %s has no \"file\"", name, what, where);
	else if (!has_resp && !cJSON_IsObject(error))
		rc = -1, snprintf(c->err, c->errlen, "'%s' %s: %s has neither a \"response\" nor an \"error\" object",
		                  name, what, where);
	if (rc < 0)
		goto done;
	if (has_resp) {
		char derr[512];
		rc = decode_response(c->m, at + r->start, r->end - r->start, &e, derr, sizeof derr);
		if (rc == -2)
			rc = oom(c);
		else if (rc < 0)
			snprintf(c->err, c->errlen, "'%s': %s: the response is not a prediction: %s", name, where, derr);
		if (rc < 0)
			goto done;
		hp_filter_apply(c->filter, e.resp);
	} else {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "exit");
		e.error_exit = cJSON_IsNumber(code) ? (long)code->valuedouble : 0;
	}
	e.file = envelope_file(env, file, &bad_name);
	if (bad_name)
		rc = -1, snprintf(c->err, c->errlen, "'%s' %s: %s has a \"file_bytes\" that is not base64", name, what, where);
	else if (!e.file || add_entry(c->b, &c->cap, &e) < 0)
		rc = oom(c);
	else
		e = (struct entry){ 0 }; /* the baseline holds it */
done:
	entry_clear(&e);
	cJSON_Delete(env);
	free(r);
	return rc < 0 ? -1 : 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* A -f json output: one array of envelopes, walked element by element. */
static int parse_array(struct parse_ctx *c, size_t at, size_t len)
{
	char where[48];
	struct hp_json_range *v = NULL;
	size_t n = 0, bad = 0;
	int rc = hp_json_values(c->m->data + at, len, NULL, &v, &n, &bad, let_go, walk_from(c->m, at));
	if (rc == -2)
		return oom(c);
	if (rc < 0) {
		snprintf(c->err, c->errlen, "'%s' is not JSON (not a hubpredict -f json output)", c->name);
		return -1;
	}
	for (size_t k = 0; k < n && rc == 0; k++) {
		snprintf(where, sizeof where, "element %zu", k + 1);
		rc = add_envelope(c, at + v[k].start, v[k].end - v[k].start, where);
	}
	free(v);
	return rc;
}

/* One object: a jsonl output of one input, or not ours at all. */
static int parse_object(struct parse_ctx *c, size_t at, size_t len)
{
	struct hp_json_range *r = NULL;
	size_t n = 0, bad = 0;
	int rc = hp_json_values(c->m->data + at, len, "file", &r, &n, &bad, let_go, walk_from(c->m, at));
	free(r);
	if (rc == -2)
		return oom(c);
	if (rc == 0 && n == 0) {
		snprintf(c->err, c->errlen, "'%s' is not a hubpredict json output: one object without \"file\" "
		         "(a server's own document? record the baseline with -f json)", c->name);
		return -1;
	}
	return add_envelope(c, at, len, "line 1");
}

/* JSON Lines: one envelope per line; blank lines are skipped. */
static int parse_lines(struct parse_ctx *c, size_t at, size_t len)
{
	char where[48];
	const char *text = c->m->data + at;
	size_t line = 0;
	for (size_t p = 0; p < len;) {
		const char *nl = memchr(text + p, '\n', len - p);
		size_t end = nl ? (size_t)(nl - text) : len;
		line++;
		if (!blank(text + p, end - p)) {
			snprintf(where, sizeof where, "line %zu", line);
			if (!hp_json_check(text + p, end - p, NULL)) {
				snprintf(c->err, c->errlen, "'%s' is not a hubpredict json or jsonl output: line %zu is not JSON",
				         c->name, line);
				return -1;
			}
			if (add_envelope(c, at + p, end - p, where) < 0)
				return -1;
		}
		p = end + 1;
	}
	return 0;
}

/* Sort by name; of several envelopes for one name, the first is kept. */
static void sort_unique(struct hp_baseline *b)
{
	if (b->n)
		qsort(b->e, b->n, sizeof *b->e, entry_cmp);
	size_t kept = 0;
	for (size_t k = 0; k < b->n; k++) {
		if (kept && strcmp(b->e[kept - 1].file, b->e[k].file) == 0) {
			entry_clear(&b->e[k]);
			continue;
		}
		b->e[kept++] = b->e[k];
	}
	b->n = kept;
}

/* The file's text in m, one layout or another. */
static int parse_map(struct hp_baseline **out, const char *name, struct text_map *m,
                     const struct hp_filter *filter, char *err, size_t errlen)
{
	*out = NULL;
	struct parse_ctx c = { .b = calloc(1, sizeof *c.b), .name = name, .filter = filter, .m = m, .err = err,
	                       .errlen = errlen };
	int rc = -1;
	if (!c.b) {
		oom(&c);
		return -2;
	}
	/* a byte-order mark (Windows editors add one) is not part of the JSON */
	size_t at = m->len >= 3 && memcmp(m->data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0, len = m->len - at;
	const char *text = m->data + at;
	size_t i = 0;
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i == len)
		snprintf(err, errlen, "'%s' is empty, not a hubpredict json output", name);
	else if (text[i] == '[')
		rc = parse_array(&c, at, len);
	else if (text[i] == '{' && hp_json_check(text, len, NULL))
		rc = parse_object(&c, at, len);
	else if (text[i] == '{')
		rc = parse_lines(&c, at, len);
	else
		snprintf(err, errlen, "'%s' is not a hubpredict json output (it does not start with '[' or '{')", name);
	if (rc < 0) {
		hp_baseline_free(c.b);
		return c.oom ? -2 : -1;
	}
	sort_unique(c.b);
	*out = c.b;
	return 0;
}

int hp_baseline_parse(struct hp_baseline **out, const char *name, const char *text, size_t len,
                      const struct hp_filter *filter, char *err, size_t errlen)
{
	struct text_map m = { .data = text, .len = len };
	return parse_map(out, name, &m, filter, err, errlen);
}

/* All of a file that cannot be mapped (a pipe: --baseline <(...)) read into memory. */
static int read_whole(FILE *f, const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	size_t cap = 0;
	for (;;) {
		if (*len == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char *grown = nc <= BASELINE_MAX_BYTES + 1 ? realloc(*buf, nc) : NULL;
			if (!grown) {
				snprintf(err, errlen, "'%s' is too large (more than 1 GiB)", path);
				return -1;
			}
			*buf = grown;
			cap = nc;
		}
		size_t got = fread(*buf + *len, 1, cap - *len, f);
		*len += got;
		if (got == 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
				return -1;
			}
			return 0;
		}
	}
}

int hp_baseline_load(struct hp_baseline **out, const char *path, const struct hp_filter *filter, char *err,
                     size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	struct text_map m = { .data = "" };
	char *buf = NULL;
	struct stat st;
	int rc = -1;
	void *map = MAP_FAILED;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (unsigned long long)st.st_size <= SIZE_MAX / 2 &&
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fileno(f), 0)) != MAP_FAILED) {
		m = (struct text_map){ .data = map, .len = (size_t)st.st_size, .mapped = true };
	} else if (read_whole(f, path, &buf, &m.len, err, errlen) < 0) {
		goto done;
	} else if (buf) {
		m.data = buf;
	}
	rc = parse_map(out, path, &m, filter, err, errlen);
done:
	if (map != MAP_FAILED)
		munmap(map, m.len);
	free(buf);
	fclose(f);
	return rc;
}
