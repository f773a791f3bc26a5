/* draw.c - the few primitives the annotations need. */
#include "draw.h"
#include "hubpredict/image.h"

#include <math.h>
#include <stdlib.h>

void hp_draw_blend(struct hp_pixmap *p, int x, int y, struct hp_rgb c, double a)
{
	if (x < 0 || y < 0 || x >= p->w || y >= p->h || a <= 0)
		return;
	unsigned char *q = p->rgb + ((size_t)y * (size_t)p->w + (size_t)x) * 3;
	if (a >= 1) {
		q[0] = c.r;
		q[1] = c.g;
		q[2] = c.b;
		return;
	}
	q[0] = (unsigned char)lround(q[0] * (1 - a) + c.r * a);
	q[1] = (unsigned char)lround(q[1] * (1 - a) + c.g * a);
	q[2] = (unsigned char)lround(q[2] * (1 - a) + c.b * a);
}

static int clampi(double v, int lo, int hi)
{
	if (!(v > lo)) /* also NaN */
		return lo;
	if (v > hi)
		return hi;
	return (int)v;
}

void hp_draw_rect(struct hp_pixmap *p, double x0, double y0, double x1, double y1, struct hp_rgb c, double alpha)
{
	/* pixel i's centre is i + 0.5: it is inside when x0 <= i + 0.5 < x1 */
	int xa = clampi(ceil(x0 - 0.5), 0, p->w), xb = clampi(ceil(x1 - 0.5), 0, p->w);
	int ya = clampi(ceil(y0 - 0.5), 0, p->h), yb = clampi(ceil(y1 - 0.5), 0, p->h);
	for (int y = ya; y < yb; y++)
		for (int x = xa; x < xb; x++)
			hp_draw_blend(p, x, y, c, alpha);
}

void hp_draw_box(struct hp_pixmap *p, double x1, double y1, double x2, double y2, int lw, struct hp_rgb c)
{
	double h = lw / 2.0;
	hp_draw_rect(p, x1 - h, y1 - h, x2 + h, y1 + h, c, 1);  /* top */
	hp_draw_rect(p, x1 - h, y2 - h, x2 + h, y2 + h, c, 1);  /* bottom */
	hp_draw_rect(p, x1 - h, y1 + h, x1 + h, y2 - h, c, 1);  /* left */
	hp_draw_rect(p, x2 - h, y1 + h, x2 + h, y2 - h, c, 1);  /* right */
}

/* Coverage of pixel (x, y) by the capsule of radius r around the segment. */
static double capsule_cover(double px, double py, double x0, double y0, double dx, double dy, double len2, double r)
{
	px -= x0;
	py -= y0;
	double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	double ex = px - t * dx, ey = py - t * dy;
	double a = r + 0.5 - sqrt(ex * ex + ey * ey); /* one pixel of anti-aliasing at the edge */
	return a > 1 ? 1 : a;
}

void hp_draw_line(struct hp_pixmap *p, double x0, double y0, double x1, double y1, double width, struct hp_rgb c)
{
	double r = width / 2.0;
	if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
		return;
	int xa = clampi(floor(fmin(x0, x1) - r - 1), 0, p->w), xb = clampi(ceil(fmax(x0, x1) + r + 1), 0, p->w);
	int ya = clampi(floor(fmin(y0, y1) - r - 1), 0, p->h), yb = clampi(ceil(fmax(y0, y1) + r + 1), 0, p->h);
	double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
	/* Only a band around the line is visited, row by row for a steep line,
	 * column by column for a flat one: the work grows with the line's
	 * length, not with the area of its bounding box. */
	bool steep = fabs(dy) > fabs(dx);
	double slope = steep ? dx / dy : (dx != 0 ? dy / dx : 0);
	double half = (r + 1.5) * sqrt(1 + slope * slope) + 1;
	int outer_a = steep ? ya : xa, outer_b = steep ? yb : xb;
	for (int o = outer_a; o < outer_b; o++) {
		double centre = steep ? x0 + (o + 0.5 - y0) * slope : y0 + (o + 0.5 - x0) * slope;
		int lo = steep ? xa : ya, hi = steep ? xb : yb;
		int ia = clampi(floor(centre - half), lo, hi), ib = clampi(ceil(centre + half), lo, hi);
		for (int i = ia; i < ib; i++) {
			int x = steep ? i : o, y = steep ? o : i;
			double a = capsule_cover(x + 0.5, y + 0.5, x0, y0, dx, dy, len2, r);
			if (a > 0)
				hp_draw_blend(p, x, y, c, a);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void hp_draw_polygon(struct hp_pixmap *p, const double *x, const double *y, size_t n, struct hp_rgb c,
                     double alpha)
{
	if (n < 3)
		return;
	double ymin = y[0], ymax = y[0];
	for (size_t i = 1; i < n; i++) {
		ymin = fmin(ymin, y[i]);
		ymax = fmax(ymax, y[i]);
	}
	double *xs = malloc(n * sizeof *xs);
	if (!xs)
		return;
	int ya = clampi(floor(ymin), 0, p->h), yb = clampi(ceil(ymax) + 1, 0, p->h);
	for (int row = ya; row < yb; row++) {
		double cy = row + 0.5;
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			size_t j = (i + 1) % n;
			double y0 = y[i], y1 = y[j];
			if ((y0 <= cy && y1 > cy) || (y1 <= cy && y0 > cy))
				xs[k++] = x[i] + (cy - y0) * (x[j] - x[i]) / (y1 - y0);
		}
		qsort(xs, k, sizeof *xs, cmp_double);
		for (size_t i = 0; i + 1 < k; i += 2) {
			int xa = clampi(ceil(xs[i] - 0.5), 0, p->w), xb = clampi(ceil(xs[i + 1] - 0.5), 0, p->w);
			for (int col = xa; col < xb; col++)
				hp_draw_blend(p, col, row, c, alpha);
		}
	}
	free(xs);
}

void hp_draw_disc(struct hp_pixmap *p, double cx, double cy, double r, struct hp_rgb c)
{
	hp_draw_line(p, cx, cy, cx, cy, 2 * r, c);
}
