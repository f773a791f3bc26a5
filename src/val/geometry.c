/* geometry.c - the IoUs of `hubpredict val`, as Ultralytics' metrics.py
 * defines them: box IoU, probiou of oriented boxes (with the minimum-area
 * rectangle of four corners), OKS of keypoints, and polygon masks rasterised
 * at the original size (a pixel is in when its centre is, by the even-odd
 * rule). */
#include "geometry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-7

double hp_val_box_iou(const double *a, const double *b)
{
	double iw = fmin(a[2], b[2]) - fmax(a[0], b[0]);
	double ih = fmin(a[3], b[3]) - fmax(a[1], b[1]);
	double inter = (iw > 0 ? iw : 0) * (ih > 0 ? ih : 0);
	double area_a = (a[2] - a[0]) * (a[3] - a[1]);
	double area_b = (b[2] - b[0]) * (b[3] - b[1]);
	return inter / (area_a + area_b - inter + EPS);
}

static double cross(const double *o, const double *a, const double *b)
{
	return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

static int cmp_point(const void *pa, const void *pb)
{
	const double *a = pa, *b = pb;
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* Convex hull of 4 points (monotone chain, counter-clockwise in y-up terms,
 * collinear points dropped) into hull; returns its size. */
static int hull4(const double *xy8, double hull[8][2])
{
	double p[4][2];
	int k = 0;
	memcpy(p, xy8, sizeof p);
	qsort(p, 4, sizeof p[0], cmp_point);
	for (int i = 0; i < 4; i++) {
		while (k >= 2 && cross(hull[k - 2], hull[k - 1], p[i]) <= 0)
			k--;
		memcpy(hull[k++], p[i], sizeof p[i]);
	}
	for (int i = 2, t = k + 1; i >= 0; i--) {
		while (k >= t && cross(hull[k - 2], hull[k - 1], p[i]) <= 0)
			k--;
		memcpy(hull[k++], p[i], sizeof p[i]);
	}
	return k > 1 ? k - 1 : k;
}

void hp_val_min_area_rect(const double *xy8, double out[5])
{
	double hull[8][2];
	int n = hull4(xy8, hull);
	double best = INFINITY;
	memset(out, 0, 5 * sizeof *out);
	out[0] = hull[0][0];
	out[1] = hull[0][1];
	for (int i = 0; i < n && n > 1; i++) {
		const double *a = hull[i], *b = hull[(i + 1) % n];
		double dx = b[0] - a[0], dy = b[1] - a[1], len = hypot(dx, dy);
		if (len == 0)
			continue;
		double ux = dx / len, uy = dy / len;
		double lo_u = INFINITY, hi_u = -INFINITY, lo_v = INFINITY, hi_v = -INFINITY;
		for (int j = 0; j < n; j++) {
			double u = (hull[j][0] - a[0]) * ux + (hull[j][1] - a[1]) * uy;
			double v = -(hull[j][0] - a[0]) * uy + (hull[j][1] - a[1]) * ux;
			lo_u = fmin(lo_u, u);
			hi_u = fmax(hi_u, u);
			lo_v = fmin(lo_v, v);
			hi_v = fmax(hi_v, v);
		}
		double area = (hi_u - lo_u) * (hi_v - lo_v);
		if (area < best) {
			double cu = (lo_u + hi_u) / 2, cv = (lo_v + hi_v) / 2;
			best = area;
			out[0] = a[0] + cu * ux - cv * uy;
			out[1] = a[1] + cu * uy + cv * ux;
			out[2] = hi_u - lo_u;
			out[3] = hi_v - lo_v;
			out[4] = atan2(uy, ux);
		}
	}
}

static void covariance(const double *b, double *a_, double *b_, double *c_)
{
	double a = b[2] * b[2] / 12, bb = b[3] * b[3] / 12;
	double cs = cos(b[4]), sn = sin(b[4]);
	*a_ = a * cs * cs + bb * sn * sn;
	*b_ = a * sn * sn + bb * cs * cs;
	*c_ = (a - bb) * cs * sn;
}

double hp_val_probiou(const double *p, const double *q)
{
	double a1, b1, c1, a2, b2, c2;
	covariance(p, &a1, &b1, &c1);
	covariance(q, &a2, &b2, &c2);
	double x1 = p[0], y1 = p[1], x2 = q[0], y2 = q[1];
	double den = (a1 + a2) * (b1 + b2) - (c1 + c2) * (c1 + c2) + EPS;
	double t1 = ((a1 + a2) * (y1 - y2) * (y1 - y2) + (b1 + b2) * (x1 - x2) * (x1 - x2)) / den * 0.25;
	double t2 = ((c1 + c2) * (x2 - x1) * (y1 - y2)) / den * 0.5;
	double d1 = a1 * b1 - c1 * c1, d2 = a2 * b2 - c2 * c2;
	double t3 = log(((a1 + a2) * (b1 + b2) - (c1 + c2) * (c1 + c2)) /
	                (4 * sqrt((d1 > 0 ? d1 : 0) * (d2 > 0 ? d2 : 0)) + EPS) + EPS) * 0.5;
	double bd = t1 + t2 + t3;
	bd = bd < EPS ? EPS : bd > 100.0 ? 100.0 : bd;
	double hd = sqrt(1.0 - exp(-bd) + EPS);
	return 1 - hd;
}

/* The 17 COCO sigmas of OKS_SIGMA in Ultralytics (divided by 10 there). */
static const double coco_sigma[17] = { 0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72,
	0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89 };

double hp_val_oks(const struct hp_val_obj *label, const struct hp_val_obj *pred)
{
	size_t n = label->n;
	double area = (label->box[2] - label->box[0]) * (label->box[3] - label->box[1]) * 0.53;
	double sum = 0, count = 0;
	for (size_t k = 0; k < n; k++) {
		if (label->v && label->v[k] == 0)
			continue;
		count += 1;
		if (k >= pred->n)
			continue;       /* a point the answer lacks counts as missed */
		double sigma = n == 17 ? coco_sigma[k] / 10.0 : 1.0 / (double)n;
		double dx = label->x[k] - pred->x[k], dy = label->y[k] - pred->y[k];
		double d = dx * dx + dy * dy;
		double e = d / ((2 * sigma) * (2 * sigma) * (area + EPS) * 2);
		sum += exp(-e);
	}
	return sum / (count + EPS);
}

void hp_val_mask_clear(struct hp_val_mask *m)
{
	free(m->bits);
	memset(m, 0, sizeof *m);
}

/* Crossings of the row centre cy with the polygon's edges, unsorted. */
static size_t row_crossings(const struct hp_val_obj *o, double cy, double *xs)
{
	size_t c = 0;
	for (size_t k = 0; k < o->n; k++) {
		size_t k1 = k + 1 == o->n ? 0 : k + 1;
		double ax = o->x[k], ay = o->y[k], bx = o->x[k1], by = o->y[k1];
		if ((ay > cy) != (by > cy))
			xs[c++] = ax + (cy - ay) * (bx - ax) / (by - ay);
	}
	return c;
}

int hp_val_mask_make(struct hp_val_mask *m, const struct hp_val_obj *o, long width, long height)
{
	memset(m, 0, sizeof *m);
	if (o->n < 3 || width <= 0 || height <= 0)
		return 0;
	double lx = INFINITY, hx = -INFINITY, ly = INFINITY, hy = -INFINITY;
	for (size_t k = 0; k < o->n; k++) {
		lx = fmin(lx, o->x[k]);
		hx = fmax(hx, o->x[k]);
		ly = fmin(ly, o->y[k]);
		hy = fmax(hy, o->y[k]);
	}
	if (!(lx <= hx && ly <= hy))
		return 0;
	long x0 = lx < 0 ? 0 : lx > width ? width : (long)floor(lx);
	long x1 = hx < 0 ? 0 : hx > width ? width : (long)ceil(hx);
	long y0 = ly < 0 ? 0 : ly > height ? height : (long)floor(ly);
	long y1 = hy < 0 ? 0 : hy > height ? height : (long)ceil(hy);
	if (x1 <= x0 || y1 <= y0)
		return 0;
	double *xs = malloc(o->n * sizeof *xs);
	m->bits = calloc((size_t)(x1 - x0) * (size_t)(y1 - y0), 1);
	if (!xs || !m->bits) {
		free(xs);
		hp_val_mask_clear(m);
		return -1;
	}
	m->x0 = x0;
	m->y0 = y0;
	m->w = x1 - x0;
	m->h = y1 - y0;
	for (long py = y0; py < y1; py++) {
		size_t c = row_crossings(o, (double)py + 0.5, xs);
		for (long px = x0; px < x1 && c > 0; px++) {
			double cx = (double)px + 0.5;
			size_t right = 0;
			for (size_t k = 0; k < c; k++)
				right += cx < xs[k];
			if (right & 1) {
				m->bits[(size_t)(py - y0) * (size_t)m->w + (size_t)(px - x0)] = 1;
				m->area++;
			}
		}
	}
	free(xs);
	return 0;
}

double hp_val_mask_iou(const struct hp_val_mask *a, const struct hp_val_mask *b)
{
	double inter = 0;
	long x0 = a->x0 > b->x0 ? a->x0 : b->x0, y0 = a->y0 > b->y0 ? a->y0 : b->y0;
	long x1 = a->x0 + a->w < b->x0 + b->w ? a->x0 + a->w : b->x0 + b->w;
	long y1 = a->y0 + a->h < b->y0 + b->h ? a->y0 + a->h : b->y0 + b->h;
	for (long y = y0; y < y1; y++) {
		const unsigned char *ra = a->bits + (size_t)(y - a->y0) * (size_t)a->w;
		const unsigned char *rb = b->bits + (size_t)(y - b->y0) * (size_t)b->w;
		for (long x = x0; x < x1; x++)
			inter += ra[x - a->x0] & rb[x - b->x0];
	}
	return inter / (((double)a->area + (double)b->area) - inter + EPS);
}
