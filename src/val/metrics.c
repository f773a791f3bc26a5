/* metrics.c - the val accumulator: per image the IoU matrices and
 * Ultralytics' match_predictions into ten bits per prediction, the confusion
 * matrix; at the end ap_per_class (valmetrics.h says where an order is fixed
 * here that Ultralytics leaves open). */
#include "hubpredict/valmetrics.h"
#include "hubpredict/buf.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geometry.h"

#define MAX_CLASS (1L << 24)    /* a label class beyond this is not counted */
#define NCURVE HP_VAL_CURVE

struct rec {                    /* one prediction: 8 bytes, kept in its class's bucket */
	float conf;
	uint16_t tp[2];         /* match bits per threshold: box, mask/pose */
};
_Static_assert(sizeof(struct rec) == 8, "a prediction is kept in 8 bytes");

struct bucket {                 /* one predicted class's records, in order of arrival */
	uint32_t cls;
	struct rec *r;
	size_t n, cap;
};

struct hp_valstats {
	enum hp_val_task task;
	size_t n_names;
	float thr[10];
	struct bucket *b;       /* per predicted class */
	size_t nb, bcap;
	uint32_t *slot;         /* open addressing: class -> bucket index + 1 */
	size_t nslot;
	size_t *nt, *nimg;      /* per label class: instances, images */
	size_t ncls;            /* classes 0..ncls-1 have counters */
	size_t images, instances;
	double *cm;
	size_t cm_n;
	size_t cls_ok1, cls_ok5;
	bool no_top5;
	bool keep_curves;       /* hp_valstats_keep_curves: the result gets the curves */
};

/* torch.linspace(0.5, 0.95, 10) in float32, as Ultralytics' iouv. */
static void thresholds(float *thr)
{
	volatile float start = 0.5f, end = 0.95f;
	volatile float step = (end - start) / 9.0f;
	for (int i = 0; i < 10; i++)
		thr[i] = i < 5 ? start + step * (float)i : end - step * (float)(9 - i);
}

int hp_valstats_new(struct hp_valstats **out, enum hp_val_task task, size_t n_names)
{
	struct hp_valstats *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->task = task;
	s->n_names = n_names < (size_t)MAX_CLASS ? n_names : (size_t)MAX_CLASS;
	thresholds(s->thr);
	*out = s;
	return 0;
}

void hp_valstats_keep_curves(struct hp_valstats *s)
{
	s->keep_curves = true;
}

void hp_valstats_free(struct hp_valstats *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->nb; k++)
		free(s->b[k].r);
	free(s->b);
	free(s->slot);
	free(s->nt);
	free(s->nimg);
	free(s->cm);
	free(s);
}

/* Counters for classes 0..cls; the confusion matrix grows with them (the
 * named classes when names are known). */
static int grow_classes(struct hp_valstats *s, size_t cls)
{
	size_t need = cls + 1 > s->n_names ? cls + 1 : s->n_names;
	if (need > s->ncls) {
		size_t *nt = realloc(s->nt, need * sizeof *nt);
		if (nt)
			s->nt = nt;
		size_t *ni = nt ? realloc(s->nimg, need * sizeof *ni) : NULL;
		if (!ni)
			return -1;
		s->nimg = ni;
		memset(s->nt + s->ncls, 0, (need - s->ncls) * sizeof *nt);
		memset(s->nimg + s->ncls, 0, (need - s->ncls) * sizeof *ni);
		s->ncls = need;
	}
	size_t k = s->task == HP_VAL_CLASSIFY ? need : need + 1;
	if (need > s->cm_n || !s->cm) {
		double *cm = calloc(k * k, sizeof *cm);
		if (!cm)
			return -1;
		size_t old = s->task == HP_VAL_CLASSIFY ? s->cm_n : s->cm_n + 1;
		for (size_t r = 0; s->cm && r < old; r++)
			for (size_t c = 0; c < old; c++) {
				size_t nr = r == s->cm_n && s->task != HP_VAL_CLASSIFY ? need : r;
				size_t nc = c == s->cm_n && s->task != HP_VAL_CLASSIFY ? need : c;
				cm[nr * k + nc] = s->cm[r * old + c];
			}
		free(s->cm);
		s->cm = cm;
		s->cm_n = need;
	}
	return 0;
}

/* row: a predicted class (one beyond the classes has no row: left out) or
 * -1 for the background; col: a true class or -1. */
static void cm_add(struct hp_valstats *s, long row, long col)
{
	size_t k = s->cm_n + 1;
	size_t r = row == -1 ? s->cm_n : (size_t)row, c = col == -1 ? s->cm_n : (size_t)col;
	if (row >= -1 && col >= -1 && (row == -1 || r < s->cm_n) && (col == -1 || c < s->cm_n))
		s->cm[r * k + c] += 1;
}

/* Ultralytics' match_predictions for one threshold set: iou is L x D (labels
 * by rows), preds in confidence order; bits[d] gets bit t when matched. */
static void match(const struct hp_valstats *s, const double *iou, const long *lcls, size_t nl,
                  const long *pcls, size_t np, uint16_t *bits, long *best, unsigned char *taken)
{
	for (int t = 0; t < 10; t++) {
		double thr = (double)s->thr[t];
		for (size_t d = 0; d < np; d++) {
			double b = -1;
			best[d] = -1;
			for (size_t l = 0; l < nl; l++) {
				double v = iou[l * np + d];
				if (lcls[l] == pcls[d] && v >= thr && v >= b) {
					b = v;
					best[d] = (long)l;
				}
			}
		}
		memset(taken, 0, nl);
		for (size_t d = 0; d < np; d++)
			if (best[d] >= 0 && !taken[best[d]]) {
				taken[best[d]] = 1;
				bits[d] |= (uint16_t)(1u << t);
			}
	}
}

/* ConfusionMatrix.process_batch (conf > 0.25, IoU > 0.45) on the box IoUs. */
static void confusion(struct hp_valstats *s, const double *iou, const long *lcls, size_t nl,
                      const long *pcls, const float *conf, size_t np, long *best, long *owner)
{
	long bg = -1;
	for (size_t d = 0; d < np; d++) {
		best[d] = -1;
		if (conf[d] <= 0.25f)
			continue;
		double b = -1;
		for (size_t l = 0; l < nl; l++)
			if (iou[l * np + d] > 0.45 && iou[l * np + d] >= b) {
				b = iou[l * np + d];
				best[d] = (long)l;
			}
	}
	for (size_t l = 0; l < nl; l++) {
		double b = -1;
		owner[l] = -1;
		for (size_t d = 0; d < np; d++)
			if (best[d] == (long)l && iou[l * np + d] >= b) {
				b = iou[l * np + d];
				owner[l] = (long)d;
			}
		if (owner[l] >= 0)
			cm_add(s, pcls[owner[l]], lcls[l]);
		else
			cm_add(s, bg, lcls[l]);
	}
	for (size_t d = 0; d < np; d++) {
		if (conf[d] <= 0.25f)
			continue;
		bool matched = best[d] >= 0 && owner[best[d]] == (long)d;
		if (!matched)
			cm_add(s, pcls[d], bg);
	}
}

static int cmp_conf_desc(const void *pa, const void *pb, const struct hp_val_obj *p)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	float ca = (float)p[a].conf, cb = (float)p[b].conf;
	if (ca != cb)
		return ca > cb ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Stable order of preds by descending float32 confidence (insertion sort:
 * an image holds few). */
static void order_preds(const struct hp_val_obj *p, size_t np, size_t *ord)
{
	for (size_t i = 0; i < np; i++) {
		size_t v = ord[i] = i, j = i;
		while (j > 0 && cmp_conf_desc(&ord[j - 1], &v, p) > 0) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = v;
	}
}

/* IoU matrices of one image: box[L x D] and, for segment and pose, other. */
static int iou_matrices(const struct hp_valstats *s, const struct hp_val_obj *labels, size_t nl,
                        const struct hp_val_obj *preds, const size_t *ord, size_t np,
                        long width, long height, double *box, double *other)
{
	struct hp_val_mask *lm = NULL, *pm = NULL;
	int rc = -1;
	if (s->task == HP_VAL_SEGMENT) {
		lm = calloc(nl + 1, sizeof *lm);
		pm = calloc(np + 1, sizeof *pm);
		if (!lm || !pm)
			goto done;
		for (size_t l = 0; l < nl; l++)
			if (hp_val_mask_make(&lm[l], &labels[l], width, height) != 0)
				goto done;
		for (size_t d = 0; d < np; d++)
			if (hp_val_mask_make(&pm[d], &preds[ord[d]], width, height) != 0)
				goto done;
	}
	for (size_t l = 0; l < nl; l++)
		for (size_t d = 0; d < np; d++) {
			const struct hp_val_obj *p = &preds[ord[d]];
			box[l * np + d] = s->task == HP_VAL_OBB ? hp_val_probiou(labels[l].obb, p->obb)
			                                        : hp_val_box_iou(labels[l].box, p->box);
			if (s->task == HP_VAL_SEGMENT)
				other[l * np + d] = hp_val_mask_iou(&lm[l], &pm[d]);
			else if (s->task == HP_VAL_POSE)
				other[l * np + d] = hp_val_oks(&labels[l], p);
		}
	rc = 0;
done:
	for (size_t l = 0; lm && l < nl; l++)
		hp_val_mask_clear(&lm[l]);
	for (size_t d = 0; pm && d < np; d++)
		hp_val_mask_clear(&pm[d]);
	free(lm);
	free(pm);
	return rc;
}

static int count_labels(struct hp_valstats *s, const struct hp_val_obj *labels, size_t nl)
{
	s->images++;
	for (size_t l = 0; l < nl; l++) {
		long c = labels[l].cls;
		if (c < 0 || c >= MAX_CLASS)
			continue;
		if (grow_classes(s, (size_t)c) != 0)
			return -1;
		bool seen = false;
		for (size_t k = 0; k < l && !seen; k++)
			seen = labels[k].cls == c;
		s->nimg[c] += !seen;
		s->nt[c]++;
		s->instances++;
	}
	return s->cm ? 0 : grow_classes(s, 0);
}

static size_t slot_of(const struct hp_valstats *s, uint32_t cls)
{
	size_t h = (size_t)(cls * 2654435761u) & (s->nslot - 1);
	while (s->slot[h] && s->b[s->slot[h] - 1].cls != cls)
		h = (h + 1) & (s->nslot - 1);
	return h;
}

/* The bucket of a class (NULL when there is none and !create, or out of
 * memory). */
static struct bucket *bucket_of(struct hp_valstats *s, uint32_t cls, bool create)
{
	if (s->nslot) {
		size_t h = slot_of(s, cls);
		if (s->slot[h])
			return &s->b[s->slot[h] - 1];
	}
	if (!create)
		return NULL;
	if (2 * (s->nb + 1) > s->nslot) {
		size_t ns = s->nslot ? 2 * s->nslot : 64;
		uint32_t *sl = calloc(ns, sizeof *sl);
		if (!sl)
			return NULL;
		free(s->slot);
		s->slot = sl;
		s->nslot = ns;
		for (size_t k = 0; k < s->nb; k++)
			s->slot[slot_of(s, s->b[k].cls)] = (uint32_t)k + 1;
	}
	struct bucket *nb = hp_grow_array(s->b, &s->bcap, s->nb + 1, sizeof *nb, 16);
	if (!nb)
		return NULL;
	s->b = nb;
	s->b[s->nb] = (struct bucket){ cls, NULL, 0, 0 };
	s->slot[slot_of(s, cls)] = (uint32_t)++s->nb;
	return &s->b[s->nb - 1];
}

static int append(struct hp_valstats *s, const struct hp_val_obj *p, uint16_t tp0, uint16_t tp1)
{
	if (p->cls < 0 || (unsigned long)p->cls > UINT32_MAX)
		return 0;       /* no label has such a class */
	struct bucket *b = bucket_of(s, (uint32_t)p->cls, true);
	if (!b)
		return -1;
	if (b->n == UINT32_MAX)
		return -1;      /* sort_key holds the order of arrival in 32 bits */
	struct rec *r = hp_grow_array(b->r, &b->cap, b->n + 1, sizeof *r, 256);
	if (!r)
		return -1;
	b->r = r;
	b->r[b->n++] = (struct rec){ (float)p->conf, { tp0, tp1 } };
	return 0;
}

int hp_valstats_add(struct hp_valstats *s, const struct hp_val_obj *labels, size_t nl,
                    const struct hp_val_obj *preds, size_t np, long width, long height)
{
	int rc = -1;
	size_t cells = (nl ? nl : 1) * (np ? np : 1);
	size_t *ord = malloc((np + 1) * sizeof *ord);
	long *lcls = malloc((nl + 1) * sizeof *lcls), *pcls = malloc((np + 1) * sizeof *pcls);
	long *best = malloc((np + 1) * sizeof *best), *owner = malloc((nl + 1) * sizeof *owner);
	float *conf = malloc((np + 1) * sizeof *conf);
	uint16_t *bits = calloc(2 * (np + 1), sizeof *bits);
	unsigned char *taken = malloc(nl + 1);
	double *box = malloc(cells * sizeof *box), *other = malloc(cells * sizeof *other);
	if (!ord || !lcls || !pcls || !best || !owner || !conf || !bits || !taken || !box || !other)
		goto done;
	if (count_labels(s, labels, nl) != 0)
		goto done;
	order_preds(preds, np, ord);
	for (size_t l = 0; l < nl; l++)
		lcls[l] = labels[l].cls;
	for (size_t d = 0; d < np; d++) {
		pcls[d] = preds[ord[d]].cls;
		conf[d] = (float)preds[ord[d]].conf;
	}
	if (iou_matrices(s, labels, nl, preds, ord, np, width, height, box, other) != 0)
		goto done;
	match(s, box, lcls, nl, pcls, np, bits, best, taken);
	if (s->task == HP_VAL_SEGMENT || s->task == HP_VAL_POSE)
		match(s, other, lcls, nl, pcls, np, bits + np + 1, best, taken);
	confusion(s, box, lcls, nl, pcls, conf, np, best, owner);
	for (size_t d = 0; d < np; d++)
		if (append(s, &preds[ord[d]], bits[d], bits[np + 1 + d]) != 0)
			goto done;
	rc = 0;
done:
	free(ord);
	free(lcls);
	free(pcls);
	free(best);
	free(owner);
	free(conf);
	free(bits);
	free(taken);
	free(box);
	free(other);
	return rc;
}

int hp_valstats_add_classify(struct hp_valstats *s, long label, const long *top, size_t n_top)
{
	if (label < 0 || label >= MAX_CLASS || grow_classes(s, (size_t)label) != 0)
		return label < 0 || label >= MAX_CLASS ? 0 : -1;
	s->images++;
	s->instances++;
	s->nt[label]++;
	s->nimg[label]++;
	if (n_top < 5)
		s->no_top5 = true;
	for (size_t k = 0; k < n_top && k < 5; k++)
		if (top[k] == label) {
			s->cls_ok1 += k == 0;
			s->cls_ok5++;
			break;
		}
	if (n_top > 0 && top[0] >= 0 && (size_t)top[0] < s->cm_n)
		s->cm[(size_t)top[0] * s->cm_n + (size_t)label] += 1;
	return 0;
}

/* A class's sort key: descending confidence, then the order of arrival (the
 * low 32 bits). Keys are unique, so any sort gives the one order. */
static uint64_t sort_key(float conf, size_t pos)
{
	uint32_t u;
	memcpy(&u, &conf, sizeof u);
	u = (u & 0x80000000u) ? ~u : u | 0x80000000u;   /* ascending as floats */
	return (uint64_t)~u << 32 | (uint64_t)pos;
}

static void sort_keys(uint64_t *k, size_t n)
{
	while (n > 16) {
		uint64_t a = k[0], b = k[n / 2], c = k[n - 1];
		uint64_t pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
		size_t i = 0, j = n - 1;
		for (;;) {
			while (k[i] < pivot)
				i++;
			while (pivot < k[j])
				j--;
			if (i >= j)
				break;
			uint64_t t = k[i];
			k[i++] = k[j];
			k[j--] = t;
		}
		if (j + 1 < n - j - 1) {        /* recurse into the smaller part */
			sort_keys(k, j + 1);
			k += j + 1;
			n -= j + 1;
		} else {
			sort_keys(k + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		uint64_t v = k[i];
		size_t j = i;
		for (; j > 0 && v < k[j - 1]; j--)
			k[j] = k[j - 1];
		k[j] = v;
	}
}

/* A bucket's records best first, in one contiguous array (caller frees):
 * the keys are sorted in place, then each is replaced by its record. The
 * passes over thresholds then read memory in order. NULL when out of
 * memory. */
static struct rec *sorted_records(const struct bucket *b)
{
	void *mem = malloc((b->n + 1) * sizeof(uint64_t));
	if (!mem)
		return NULL;
	uint64_t *key = mem;
	for (size_t i = 0; i < b->n; i++)
		key[i] = sort_key(b->r[i].conf, i);
	sort_keys(key, b->n);
	struct rec *out = mem;
	for (size_t i = 0; i < b->n; i++) {
		struct rec r = b->r[key[i] & 0xffffffffu];
		memcpy(&out[i], &r, sizeof r);  /* out[i] overlays key[i] alone */
	}
	return out;
}

/* numpy's interp at x of (xp, fp) when the search gave j, the last index with
 * xp[j] <= x (xp[j] < x < xp[j + 1] unless x == xp[j]). */
static double interp_at(double x, double xj, double fj, double xj1, double fj1)
{
	if (x == xj)
		return fj;
	double slope = (fj1 - fj) / (xj1 - xj);
	return slope * (x - xj) + fj;
}

struct seq {                    /* one class's predictions, best first */
	const struct rec *r;
	size_t n, nl;           /* predictions, labels */
	int which;              /* 0 box, 1 mask/pose */
};

static bool bit(const struct seq *q, size_t k, int t)
{
	return (q->r[k].tp[q->which] >> t) & 1u;
}

/* numpy's interp(x, mrec, mpre) of compute_ap at threshold t: the precision
 * envelope with the sentinels (0, 1) and (1, 0), at x = m/(npts-1) for m in
 * 0..npts-1 (np.linspace(0, 1, npts)'s values), into y. Streamed backwards:
 * recall and precision are never stored. */
static void envelope_at(const struct seq *q, int t, int npts, double *y)
{
	double eps = 1e-16, step = 1.0 / (npts - 1);
	size_t tot = 0;
	for (size_t k = 0; k < q->n; k++)
		tot += bit(q, k, t);
	int m = npts - 1;
	while (m >= 0 && (m == npts - 1 ? 1.0 : m * step) >= 1.0)
		y[m--] = 0.0;   /* at the last sentinel (1, 0) */
	double next_rec = 1.0, next_env = 0.0;
	size_t tpc = tot;
	for (size_t i = q->n + 1; i-- > 0;) {
		/* point i: 0 the sentinel (0, 1), else prediction i-1 */
		double rec = 0.0, pre = 1.0;
		if (i > 0) {
			rec = (double)tpc / ((double)q->nl + eps);
			pre = (double)tpc / (double)i;
			tpc -= bit(q, i - 1, t);
		}
		double env = pre > next_env ? pre : next_env;
		while (m >= 0 && m * step >= rec) {
			double x = m * step;
			y[m--] = interp_at(x, rec, env, next_rec, next_env);
		}
		next_rec = rec;
		next_env = env;
	}
}

/* compute_ap of threshold t: the 101-point interpolation of the envelope,
 * integrated by the trapezoid rule. */
static double class_ap(const struct seq *q, int t)
{
	double y[101];
	envelope_at(q, t, 101, y);
	double ap = 0;
	for (int k = 0; k < 100; k++) {
		double x0 = k * (1.0 / 100), x1 = k + 1 == 100 ? 1.0 : (k + 1) * (1.0 / 100);
		ap += (x1 - x0) * (y[k + 1] + y[k]) / 2.0;
	}
	return ap;
}

/* The class's precision and recall curves at 1000 confidences (x = k/999):
 * np.interp(-x, -conf, recall, left=0) and (..., precision, left=1). */
static void class_curves(const struct seq *q, double *pc, double *rc)
{
	double eps = 1e-16, step = 1.0 / 999;
	size_t j = 0, tpc = bit(q, 0, 0);      /* tpc: true positives in 0..j */
	size_t n = q->n;
	for (int k = NCURVE - 1; k >= 0; k--) {
		double x = k == NCURVE - 1 ? 1.0 : k * step, nx = -x;
		while (j + 1 < n && -(double)q->r[j + 1].conf <= nx)
			tpc += bit(q, ++j, 0);
		double xj = -(double)q->r[j].conf;
		double rj = (double)tpc / ((double)q->nl + eps), pj = (double)tpc / (double)(j + 1);
		if (nx < xj) {
			rc[k] = 0.0;
			pc[k] = 1.0;
		} else if (j + 1 >= n) {
			rc[k] = rj;
			pc[k] = pj;
		} else {
			size_t t1 = tpc + bit(q, j + 1, 0);
			double xj1 = -(double)q->r[j + 1].conf;
			rc[k] = interp_at(nx, xj, rj, xj1, (double)t1 / ((double)q->nl + eps));
			pc[k] = interp_at(nx, xj, pj, xj1, (double)t1 / (double)(j + 2));
		}
	}
}

/* smooth(y, 0.1): a box filter of 101 points, the ends padded; the index of
 * its first maximum. */
static size_t smoothed_argmax(const double *y)
{
	size_t nf = 101, half = nf / 2, best = 0;
	double best_v = -INFINITY;
	for (size_t i = 0; i < NCURVE; i++) {
		double sum = 0;
		for (size_t k = 0; k < nf; k++) {
			long at = (long)(i + k) - (long)half;
			double v = at < 0 ? y[0] : at >= NCURVE ? y[NCURVE - 1] : y[at];
			sum += v * (1.0 / (double)nf);
		}
		if (sum > best_v) {
			best_v = sum;
			best = i;
		}
	}
	return best;
}

struct curves {                 /* per class and metric: P and R at 1000 confidences, AP x 10,
	                           and (for the plots, else NULL) the PR envelope */
	double *pc[2], *rc[2], *ap[2], *pr[2];
};

/* The curves and APs of every labelled class (cls[0..nc)), one class at a
 * time: its records sorted into one array, read in order by each pass. */
static int class_passes(const struct hp_valstats *s, const long *cls, size_t nc, int nwhich,
                        struct curves *cv)
{
	for (size_t c = 0; c < nc; c++) {
		const struct bucket *b = bucket_of((struct hp_valstats *)s, (uint32_t)cls[c], false);
		if (!b || b->n == 0)
			continue;
		struct rec *sorted = sorted_records(b);
		if (!sorted)
			return -1;
		for (int w = 0; w < nwhich; w++) {
			struct seq q = { sorted, b->n, s->nt[cls[c]], w };
			class_curves(&q, cv->pc[w] + c * NCURVE, cv->rc[w] + c * NCURVE);
			for (int t = 0; t < 10; t++)
				cv->ap[w][c * 10 + (size_t)t] = class_ap(&q, t);
			if (cv->pr[w])
				envelope_at(&q, 0, NCURVE, cv->pr[w] + c * NCURVE);
		}
		free(sorted);
	}
	return 0;
}

/* ap_per_class's summary for one metric: the confidence of the best mean F1
 * (smoothed), each class's P and R there, and the means, into r's classes
 * and out. */
static int summarize(const struct curves *cv, size_t nc, int which, struct hp_val_result *r,
                     struct hp_val_metric *out)
{
	const double *pc = cv->pc[which], *rcv = cv->rc[which], *ap = cv->ap[which];
	double *f1 = calloc(NCURVE, sizeof *f1);
	if (!f1)
		return -1;
	for (size_t c = 0; c < nc; c++)
		for (size_t k = 0; k < NCURVE; k++) {
			double p = pc[c * NCURVE + k], rr = rcv[c * NCURVE + k];
			f1[k] += 2 * p * rr / (p + rr + 1e-16);
		}
	for (size_t k = 0; k < NCURVE && nc > 0; k++)
		f1[k] /= (double)nc;
	size_t at = nc > 0 ? smoothed_argmax(f1) : 0;
	free(f1);
	double all = 0;
	memset(out, 0, sizeof *out);
	for (size_t c = 0; c < nc; c++) {
		struct hp_val_class *k = &r->classes[c];
		double sum = 0;
		for (int t = 0; t < 10; t++)
			sum += ap[c * 10 + (size_t)t];
		k->precision[which] = pc[c * NCURVE + at];
		k->recall[which] = rcv[c * NCURVE + at];
		k->map50[which] = ap[c * 10];
		k->map50_95[which] = sum / 10;
		out->precision += k->precision[which];
		out->recall += k->recall[which];
		out->map50 += ap[c * 10];
		out->map75 += ap[c * 10 + 5];
		all += sum;
	}
	if (nc > 0) {
		out->precision /= (double)nc;
		out->recall /= (double)nc;
		out->map50 /= (double)nc;
		out->map75 /= (double)nc;
		out->map50_95 = all / (double)(nc * 10);
	}
	out->fitness = 0.1 * out->map50 + 0.9 * out->map50_95;
	return 0;
}

static int fill_classes(const struct hp_valstats *s, struct hp_val_result *r, long **cls_out)
{
	size_t nc = 0;
	for (size_t c = 0; c < s->ncls; c++)
		nc += s->nt[c] > 0;
	r->classes = calloc(nc + 1, sizeof *r->classes);
	long *cls = malloc((nc + 1) * sizeof *cls);
	if (!r->classes || !cls) {
		free(cls);
		return -1;
	}
	for (size_t c = 0, k = 0; c < s->ncls; c++)
		if (s->nt[c] > 0) {
			cls[k] = (long)c;
			r->classes[k].cls = (long)c;
			r->classes[k].images = s->nimg[c];
			r->classes[k++].instances = s->nt[c];
		}
	r->n_classes = nc;
	*cls_out = cls;
	return 0;
}

/* The result takes the curves of metric w (pr, P, R) and gets F1 from them. */
static int give_curves(struct curves *cv, int w, size_t nc, struct hp_val_curves *out)
{
	double *f1 = malloc((nc * NCURVE + 1) * sizeof *f1);
	if (!f1)
		return -1;
	for (size_t k = 0; k < nc * NCURVE; k++) {
		double p = cv->pc[w][k], rr = cv->rc[w][k];
		f1[k] = 2 * p * rr / (p + rr + 1e-16);
	}
	*out = (struct hp_val_curves){ cv->pr[w], cv->pc[w], cv->rc[w], f1 };
	cv->pr[w] = cv->pc[w] = cv->rc[w] = NULL;
	return 0;
}

static int detection_metrics(const struct hp_valstats *s, struct hp_val_result *r)
{
	long *cls = NULL;
	struct curves cv = { { NULL, NULL }, { NULL, NULL }, { NULL, NULL }, { NULL, NULL } };
	int rc = -1;
	if (fill_classes(s, r, &cls) != 0)
		goto done;
	size_t nc = r->n_classes;
	r->has_other = s->task == HP_VAL_SEGMENT || s->task == HP_VAL_POSE;
	int nwhich = r->has_other ? 2 : 1;
	for (int w = 0; w < nwhich; w++) {
		cv.pc[w] = calloc(nc * NCURVE + 1, sizeof *cv.pc[w]);
		cv.rc[w] = calloc(nc * NCURVE + 1, sizeof *cv.rc[w]);
		cv.ap[w] = calloc(nc * 10 + 1, sizeof *cv.ap[w]);
		if (s->keep_curves)
			cv.pr[w] = calloc(nc * NCURVE + 1, sizeof *cv.pr[w]);
		if (!cv.pc[w] || !cv.rc[w] || !cv.ap[w] || (s->keep_curves && !cv.pr[w]))
			goto done;
	}
	if (class_passes(s, cls, nc, nwhich, &cv) != 0)
		goto done;
	for (int w = 0; w < nwhich; w++)
		if (summarize(&cv, nc, w, r, w == 0 ? &r->box : &r->other) != 0 ||
		    (s->keep_curves && give_curves(&cv, w, nc, &r->curves[w]) != 0))
			goto done;
	rc = 0;
done:
	for (int w = 0; w < 2; w++) {
		free(cv.pc[w]);
		free(cv.rc[w]);
		free(cv.ap[w]);
		free(cv.pr[w]);
	}
	free(cls);
	return rc;
}

int hp_valstats_compute(struct hp_valstats *s, struct hp_val_result *r)
{
	memset(r, 0, sizeof *r);
	r->task = s->task;
	r->images = s->images;
	r->instances = s->instances;
	size_t k = s->task == HP_VAL_CLASSIFY ? s->cm_n : s->cm_n + 1;
	if (s->cm) {
		r->confusion = malloc(k * k * sizeof *r->confusion);
		if (!r->confusion)
			goto fail;
		memcpy(r->confusion, s->cm, k * k * sizeof *r->confusion);
		r->cm_n = s->cm_n;
	}
	if (s->task == HP_VAL_CLASSIFY) {
		long *cls = NULL;
		if (fill_classes(s, r, &cls) != 0)
			goto fail;
		free(cls);
		r->top1 = s->images ? (double)s->cls_ok1 / (double)s->images : 0;
		r->top5 = s->images ? (double)s->cls_ok5 / (double)s->images : 0;
		r->has_top5 = !s->no_top5;
		return 0;
	}
	if (detection_metrics(s, r) == 0)
		return 0;
fail:
	hp_val_result_clear(r);
	return -1;
}

void hp_val_result_clear(struct hp_val_result *r)
{
	free(r->classes);
	free(r->confusion);
	for (int w = 0; w < 2; w++) {
		free(r->curves[w].pr);
		free(r->curves[w].p);
		free(r->curves[w].r);
		free(r->curves[w].f1);
	}
	memset(r, 0, sizeof *r);
}
