/* plot.c - plot.h's charts: a figure of white pixels, the lines drawn in a
 * pixmap of the axes' inside (so they are clipped to it) and copied in, then
 * the frame, ticks, labels, title and legend; the matrix as coloured cells
 * (matplotlib's Blues) with their numbers, tick labels and a colour bar. */
#include "hubpredict/plot.h"
#include "hubpredict/image.h"
#include "hubpredict/output.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "font.h"

#define MAX_TICKS 24

static const struct hp_rgb black = { 0, 0, 0 }, white = { 255, 255, 255 };

struct canvas {
	struct hp_pixmap pix;
	struct hp_font *font;
	double dpi;
	int size;               /* the font's current size in pixels */
};

static double pt(const struct canvas *c, double points)
{
	return points * c->dpi / 72.0;
}

static struct hp_rgb rgb_of(long v)
{
	return (struct hp_rgb){ (unsigned char)(v >> 16 & 255), (unsigned char)(v >> 8 & 255), (unsigned char)(v & 255) };
}

static void font_px(struct canvas *c, double px)
{
	int s = px < 6 ? 6 : (int)lround(px);
	if (s != c->size && hp_font_set_size(c->font, s) == 0)
		c->size = s;
}

static int text_w(struct canvas *c, const char *s)
{
	int w, h;
	hp_font_measure(c->font, s, strlen(s), &w, &h);
	return w;
}

static int line_h(struct canvas *c)
{
	int w, h;
	hp_font_measure(c->font, "", 0, &w, &h);
	return h;
}

/* Text placed by a point and an alignment: ax, ay 0 left/top, 0.5 centre,
 * 1 right/bottom. */
static void text_at(struct canvas *c, double x, double y, double ax, double ay, const char *s, struct hp_rgb col)
{
	int w = text_w(c, s), h = line_h(c);
	hp_font_draw(c->font, &c->pix, (int)lround(x - ax * w), (int)lround(y - ay * h), s, strlen(s), col);
}

/* Text turned a quarter to the left (read upwards), its box placed as
 * text_at's: drawn black on white aside, then blended in. */
static void text_up(struct canvas *c, double x, double y, double ax, double ay, const char *s, struct hp_rgb col)
{
	int w = text_w(c, s), h = line_h(c);
	struct hp_pixmap t = { w, h, calloc((size_t)(w > 0 ? w : 1) * (size_t)(h > 0 ? h : 1) * 3, 1) };
	if (!t.rgb || w <= 0 || h <= 0) {
		free(t.rgb);
		return;
	}
	memset(t.rgb, 255, (size_t)w * (size_t)h * 3);
	hp_font_draw(c->font, &t, 0, 0, s, strlen(s), black);
	int x0 = (int)lround(x - ax * h), y0 = (int)lround(y - ay * w);
	for (int ty = 0; ty < h; ty++)
		for (int tx = 0; tx < w; tx++) {
			unsigned char v = t.rgb[((size_t)ty * (size_t)w + (size_t)tx) * 3];
			if (v < 255)
				hp_draw_blend(&c->pix, x0 + ty, y0 + (w - 1 - tx), col, (255 - v) / 255.0);
		}
	free(t.rgb);
}

/* Ticks as matplotlib's default locator puts them: steps of 1, 2, 2.5 or 5
 * times a power of ten, at most 6 intervals over [lo, hi]. The count; the
 * decimals their labels need in *dec. */
static int nice_ticks(double lo, double hi, double *t, int *dec)
{
	static const double steps[] = { 1, 2, 2.5, 5, 10 };
	double span = hi - lo, step = 1;
	*dec = 0;
	if (!(span > 0) || !isfinite(span))
		return 0;
	double mag = pow(10, floor(log10(span / 10)));
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		step = steps[i] * mag;
		if (span / step <= 6)
			break;
	}
	int d = (int)-floor(log10(step) + 1e-9);
	*dec = d < 0 ? 0 : d + (fmod(step / pow(10, -d), 1) > 1e-9);
	int n = 0;
	for (double k = ceil(lo / step - 1e-9); n < MAX_TICKS && k * step <= hi + step * 1e-9; k++)
		t[n++] = k * step == 0 ? 0 : k * step;
	return n;
}

static void fmt_num(char *b, size_t len, double v, int dec)
{
	snprintf(b, len, "%.*f", dec, v);
	if (strcmp(b, "-0") == 0 || strncmp(b, "-0.", 3) == 0) {
		char *e = b + 1;
		while (*e == '0' || *e == '.')
			e++;
		if (!*e)
			memmove(b, b + 1, strlen(b));
	}
}

static int open_canvas(struct canvas *c, double fw, double fh, int dpi, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->dpi = dpi > 0 ? dpi : 150;
	c->pix.w = (int)lround(fw * c->dpi);
	c->pix.h = (int)lround(fh * c->dpi);
	if (c->pix.w < 64 || c->pix.h < 64 || (long)c->pix.w * c->pix.h > HP_IMAGE_MAX_PIXELS) {
		snprintf(err, errlen, "a plot of %dx%d pixels", c->pix.w, c->pix.h);
		return -1;
	}
	if (!(c->font = hp_font_open(err, errlen)))
		return -1;
	c->pix.rgb = malloc((size_t)c->pix.w * (size_t)c->pix.h * 3);
	if (!c->pix.rgb) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(c->pix.rgb, 255, (size_t)c->pix.w * (size_t)c->pix.h * 3);
	return 0;
}

static void close_canvas(struct canvas *c)
{
	hp_font_free(c->font);
	hp_pixmap_free(&c->pix);
}

int hp_plot_ready(char *err, size_t errlen)
{
	struct hp_font *f = hp_font_open(err, errlen);
	hp_font_free(f);
	return f ? 0 : -1;
}

/* Encode as PNG and write path (a temporary file beside it, then rename). */
static int save_png(const struct canvas *c, const char *path, char *err, size_t errlen)
{
	unsigned char *png = NULL;
	size_t n = 0;
	if (hp_image_encode(&c->pix, HP_IMAGE_PNG, &png, &n, err, errlen) < 0)
		return -1;
	int rc = hp_output_write_file(path, png, n, err, errlen);
	free(png);
	return rc;
}

/* ---- lines over axes ------------------------------------------------------ */

struct axes {
	double x0, y0, w, h;    /* the axes' box in the figure, whole pixels */
	double xmin, xmax, ymin, ymax;
};

static double ax_x(const struct axes *a, double x)
{
	return (x - a->xmin) / (a->xmax - a->xmin) * a->w;
}

static double ax_y(const struct axes *a, double y)
{
	return (a->ymax - y) / (a->ymax - a->ymin) * a->h;
}

static const long tab10[] = { 0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
	                      0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf };

static long series_color(const struct hp_plot_chart *ch, size_t i)
{
	size_t k = 0;
	for (size_t j = 0; j < i; j++)
		k += ch->series[j].color == HP_PLOT_NEXT_COLOR;
	return ch->series[i].color == HP_PLOT_NEXT_COLOR ? tab10[k % 10] : ch->series[i].color;
}

/* The series in a pixmap of the axes' inside, copied into the figure. */
static int draw_series(struct canvas *c, const struct hp_plot_chart *ch, const struct axes *a)
{
	struct hp_pixmap in = { (int)a->w, (int)a->h, malloc((size_t)a->w * (size_t)a->h * 3) };
	if (!in.rgb)
		return -1;
	memset(in.rgb, 255, (size_t)in.w * (size_t)in.h * 3);
	for (size_t i = 0; i < ch->n_series; i++) {
		const struct hp_plot_series *s = &ch->series[i];
		struct hp_rgb col = rgb_of(series_color(ch, i));
		double lw = pt(c, s->width > 0 ? s->width : 1.5);
		for (size_t k = 0; k + 1 < s->n; k++) {
			double x0 = s->x[k], y0 = s->y[k], x1 = s->x[k + 1], y1 = s->y[k + 1];
			if (isfinite(x0) && isfinite(y0) && isfinite(x1) && isfinite(y1))
				hp_draw_line(&in, ax_x(a, x0), ax_y(a, y0), ax_x(a, x1), ax_y(a, y1), lw, col);
		}
		if (s->n == 1 && isfinite(s->x[0]) && isfinite(s->y[0]))
			hp_draw_disc(&in, ax_x(a, s->x[0]), ax_y(a, s->y[0]), lw, col);
	}
	for (int y = 0; y < in.h; y++)
		memcpy(c->pix.rgb + (((size_t)a->y0 + (size_t)y) * (size_t)c->pix.w + (size_t)a->x0) * 3,
		       in.rgb + (size_t)y * (size_t)in.w * 3, (size_t)in.w * 3);
	free(in.rgb);
	return 0;
}

/* The frame (0.8 pt), the ticks (3.5 pt, outside) and their labels. */
static void draw_frame(struct canvas *c, const struct axes *a, const struct hp_plot_chart *ch)
{
	double lw = pt(c, 0.8), tl = pt(c, 3.5), gap = pt(c, 3.5);
	double x0 = a->x0, y0 = a->y0, x1 = a->x0 + a->w, y1 = a->y0 + a->h;
	hp_draw_rect(&c->pix, x0 - lw / 2, y0 - lw / 2, x1 + lw / 2, y0 + lw / 2, black, 1);
	hp_draw_rect(&c->pix, x0 - lw / 2, y1 - lw / 2, x1 + lw / 2, y1 + lw / 2, black, 1);
	hp_draw_rect(&c->pix, x0 - lw / 2, y0 - lw / 2, x0 + lw / 2, y1 + lw / 2, black, 1);
	hp_draw_rect(&c->pix, x1 - lw / 2, y0 - lw / 2, x1 + lw / 2, y1 + lw / 2, black, 1);
	double t[MAX_TICKS];
	char b[64];
	int dec, n = ch->n_xticks ? (int)ch->n_xticks : nice_ticks(a->xmin, a->xmax, t, &dec);
	for (int i = 0; i < n; i++) {
		double v = ch->n_xticks ? ch->xticks[i] : t[i];
		double x = x0 + ax_x(a, v);
		if (v < a->xmin || v > a->xmax)
			continue;
		hp_draw_rect(&c->pix, x - lw / 2, y1, x + lw / 2, y1 + tl, black, 1);
		if (ch->n_xticks)
			snprintf(b, sizeof b, "%s", ch->xtick_labels[i]);
		else
			fmt_num(b, sizeof b, t[i], dec);
		text_at(c, x, y1 + tl + gap, 0.5, 0, b, black);
	}
	n = nice_ticks(a->ymin, a->ymax, t, &dec);
	for (int i = 0; i < n; i++) {
		double y = y0 + ax_y(a, t[i]);
		hp_draw_rect(&c->pix, x0 - tl, y - lw / 2, x0, y + lw / 2, black, 1);
		fmt_num(b, sizeof b, t[i], dec);
		text_at(c, x0 - tl - gap, y, 1, 0.5, b, black);
	}
}

/* The widest tick label of [lo, hi]. */
static int ticks_w(struct canvas *c, double lo, double hi)
{
	double t[MAX_TICKS];
	char b[64];
	int dec, n = nice_ticks(lo, hi, t, &dec), w = 0;
	for (int i = 0; i < n; i++) {
		fmt_num(b, sizeof b, t[i], dec);
		int tw = text_w(c, b);
		w = tw > w ? tw : w;
	}
	return w;
}

/* The legend's size: matplotlib's (handle 2 em, gaps 0.8 em and 0.5 em,
 * border 0.4 em); 0 x 0 when no series has a label. */
static void legend_size(struct canvas *c, const struct hp_plot_chart *ch, double *w, double *h)
{
	double em = c->size, tw = 0;
	size_t n = 0;
	for (size_t i = 0; i < ch->n_series; i++)
		if (ch->series[i].label) {
			double x = text_w(c, ch->series[i].label);
			tw = x > tw ? x : tw;
			n++;
		}
	*w = n ? tw + em * (0.4 + 2 + 0.8 + 0.4) + em * 0.5 : 0;
	*h = n ? (double)n * line_h(c) + (double)(n - 1) * 0.5 * em + 0.8 * em : 0;
}

static void draw_legend(struct canvas *c, const struct hp_plot_chart *ch, double x, double y, double w, double h)
{
	double em = c->size;
	struct hp_rgb edge = { 204, 204, 204 };
	if (w <= 0)
		return;
	hp_draw_box(&c->pix, x, y, x + w, y + h, (int)lround(pt(c, 0.8)) > 0 ? (int)lround(pt(c, 0.8)) : 1, edge);
	double ty = y + 0.4 * em;
	for (size_t i = 0; i < ch->n_series; i++) {
		const struct hp_plot_series *s = &ch->series[i];
		if (!s->label)
			continue;
		double my = ty + line_h(c) / 2.0, lx = x + 0.4 * em + 0.25 * em;
		hp_draw_line(&c->pix, lx, my, lx + 2 * em - 0.5 * em, my, pt(c, s->width > 0 ? s->width : 1.5),
		             rgb_of(series_color(ch, i)));
		text_at(c, x + em * (0.4 + 2 + 0.8), ty, 0, 0, s->label, black);
		ty += line_h(c) + 0.5 * em;
	}
}

int hp_plot_chart_png(const struct hp_plot_chart *ch, const char *path, char *err, size_t errlen)
{
	struct canvas c;
	int rc = -1;
	if (open_canvas(&c, ch->fig_w > 0 ? ch->fig_w : 9, ch->fig_h > 0 ? ch->fig_h : 6, ch->dpi, err, errlen) < 0)
		goto done;
	font_px(&c, pt(&c, 12));
	double pad = pt(&c, 10.8), title_h = ch->title ? line_h(&c) + pt(&c, 6) : 0;
	font_px(&c, pt(&c, 10));
	double lh = line_h(&c), ticks = pt(&c, 3.5) * 2, lw, lhh;
	legend_size(&c, ch, &lw, &lhh);
	double left = pad + (ch->ylabel ? lh + pt(&c, 4) : 0) + ticks_w(&c, ch->ymin, ch->ymax) + ticks;
	double bottom = pad + (ch->xlabel ? lh + pt(&c, 4) : 0) + lh + ticks;
	double top = pad + title_h, right = pad + lw;
	struct axes a = { round(left), round(top), 0, 0, ch->xmin, ch->xmax, ch->ymin, ch->ymax };
	a.w = floor((c.pix.w - left - right) / (lw > 0 ? 1.04 : 1));
	a.h = floor(c.pix.h - top - bottom);
	if (a.w < 16 || a.h < 16 || !(ch->xmax > ch->xmin) || !(ch->ymax > ch->ymin)) {
		snprintf(err, errlen, "a chart without room for its axes");
		goto done;
	}
	if (draw_series(&c, ch, &a) < 0) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	draw_frame(&c, &a, ch);
	if (ch->xlabel)
		text_at(&c, a.x0 + a.w / 2, c.pix.h - pad, 0.5, 1, ch->xlabel, black);
	if (ch->ylabel)
		text_up(&c, pad, a.y0 + a.h / 2, 0, 0.5, ch->ylabel, black);
	draw_legend(&c, ch, a.x0 + a.w * 1.04, a.y0, lw - pt(&c, 5), lhh);
	if (ch->title) {
		font_px(&c, pt(&c, 12));
		text_at(&c, a.x0 + a.w / 2, a.y0 - pt(&c, 6), 0.5, 1, ch->title, black);
	}
	rc = save_png(&c, path, err, errlen);
done:
	close_canvas(&c);
	return rc;
}

/* ---- the matrix ------------------------------------------------------------ */

/* matplotlib's Blues (ColorBrewer's nine), t in 0-1. */
static struct hp_rgb blues(double t)
{
	static const long stop[] = { 0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6,
	                             0x4292c6, 0x2171b5, 0x08519c, 0x08306b };
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	double f = t * 8;
	int i = f >= 8 ? 7 : (int)f;
	double u = f - i;
	struct hp_rgb a = rgb_of(stop[i]), b = rgb_of(stop[i + 1]);
	return (struct hp_rgb){ (unsigned char)lround(a.r + (b.r - a.r) * u), (unsigned char)lround(a.g + (b.g - a.g) * u),
		                (unsigned char)lround(a.b + (b.b - a.b) * u) };
}

struct grid {
	double x0, y0, cell, vmax;
	const struct hp_plot_matrix *m;
};

static const char *tick_name(const char *const *names, size_t i, char *b, size_t len)
{
	if (names && names[i])
		return names[i];
	snprintf(b, len, "%zu", i);
	return b;
}

/* The cells and their numbers (when they fit: under 30 rows, as Ultralytics;
 * white on the darker half of the scale). */
static void draw_cells(struct canvas *c, const struct grid *g)
{
	const struct hp_plot_matrix *m = g->m;
	char b[64];
	font_px(c, fmin(pt(c, 10), g->cell * 0.3));
	for (size_t r = 0; r < m->rows; r++)
		for (size_t k = 0; k < m->cols; k++) {
			double v = m->v[r * m->cols + k], x = g->x0 + (double)k * g->cell, y = g->y0 + (double)r * g->cell;
			if (!isfinite(v))
				continue;
			double t = v / g->vmax;
			hp_draw_rect(&c->pix, x, y, x + g->cell, y + g->cell, blues(t), 1);
			if (m->rows >= 30 || m->cols >= 30)
				continue;
			fmt_num(b, sizeof b, v, m->decimals);
			if (text_w(c, b) < g->cell * 0.95)
				text_at(c, x + g->cell / 2, y + g->cell / 2, 0.5, 0.5, b, t > 0.5 ? white : black);
		}
}

/* Tick labels: names under 99 rows (the x ones read upwards), else numbers
 * every few cells. */
static void draw_matrix_ticks(struct canvas *c, const struct grid *g)
{
	const struct hp_plot_matrix *m = g->m;
	char b[64];
	double gap = pt(c, 3.5), tl = pt(c, 3.5), lw = pt(c, 0.8);
	font_px(c, fmin(pt(c, 10), g->cell * 0.8));
	size_t every = m->rows < 99 ? 1 : (m->rows + 19) / 20;
	for (size_t r = 0; r < m->rows; r += every) {
		double y = g->y0 + ((double)r + 0.5) * g->cell;
		hp_draw_rect(&c->pix, g->x0 - tl, y - lw / 2, g->x0, y + lw / 2, black, 1);
		text_at(c, g->x0 - tl - gap, y, 1, 0.5, tick_name(every == 1 ? m->row_names : NULL, r, b, sizeof b), black);
	}
	double yb = g->y0 + (double)m->rows * g->cell;
	every = m->cols < 99 ? 1 : (m->cols + 19) / 20;
	for (size_t k = 0; k < m->cols; k += every) {
		double x = g->x0 + ((double)k + 0.5) * g->cell;
		hp_draw_rect(&c->pix, x - lw / 2, yb, x + lw / 2, yb + tl, black, 1);
		text_up(c, x, yb + tl + gap, 0.5, 0, tick_name(every == 1 ? m->col_names : NULL, k, b, sizeof b), black);
	}
}

/* The colour bar to the right of the matrix, with its ticks. */
static void draw_colorbar(struct canvas *c, const struct grid *g, double x, double w)
{
	double h = (double)g->m->rows * g->cell, lw = pt(c, 0.8);
	for (int y = 0; y < (int)h; y++)
		hp_draw_rect(&c->pix, x, g->y0 + y, x + w, g->y0 + y + 1, blues(1 - (y + 0.5) / h), 1);
	hp_draw_box(&c->pix, x, g->y0, x + w, g->y0 + h, (int)fmax(1, lround(lw)), black);
	double t[MAX_TICKS];
	char b[64];
	int dec, n = nice_ticks(0, g->vmax, t, &dec);
	font_px(c, pt(c, 10));
	for (int i = 0; i < n; i++) {
		double y = g->y0 + h - t[i] / g->vmax * h;
		hp_draw_rect(&c->pix, x + w, y - lw / 2, x + w + pt(c, 3.5), y + lw / 2, black, 1);
		fmt_num(b, sizeof b, t[i], dec);
		text_at(c, x + w + pt(c, 7), y, 0, 0.5, b, black);
	}
}

/* The widest tick label of the matrix's rows or columns at the tick size. */
static double names_w(struct canvas *c, const char *const *names, size_t n)
{
	char b[64];
	double w = 0;
	for (size_t i = 0; i < n; i++)
		w = fmax(w, text_w(c, tick_name(n < 99 ? names : NULL, i, b, sizeof b)));
	return w;
}

int hp_plot_matrix_png(const struct hp_plot_matrix *m, const char *path, char *err, size_t errlen)
{
	struct canvas c;
	struct grid g = { 0, 0, 0, 0, m };
	int rc = -1;
	if (open_canvas(&c, m->fig_w > 0 ? m->fig_w : 12, m->fig_h > 0 ? m->fig_h : 9, m->dpi, err, errlen) < 0)
		goto done;
	if (m->rows == 0 || m->cols == 0) {
		snprintf(err, errlen, "an empty matrix");
		goto done;
	}
	for (size_t i = 0; i < m->rows * m->cols; i++)
		if (isfinite(m->v[i]) && m->v[i] > g.vmax)
			g.vmax = m->v[i];
	g.vmax = g.vmax > 0 ? g.vmax : 1;
	double pad = pt(&c, 10.8);
	font_px(&c, pt(&c, 12));
	double title_h = m->title ? line_h(&c) + pt(&c, 20) : 0, lh = line_h(&c);
	/* tick labels at most 10 pt: sized for a first guess of the cell */
	double guess = fmin((c.pix.w - 2 * pad) * 0.7 / (double)m->cols, (c.pix.h - 2 * pad) * 0.7 / (double)m->rows);
	font_px(&c, fmin(pt(&c, 10), guess * 0.8));
	double yw = names_w(&c, m->row_names, m->rows), xw = names_w(&c, m->col_names, m->cols);
	double ticks = pt(&c, 7), bar = pt(&c, 10.8) + pt(&c, 40);
	font_px(&c, pt(&c, 10));
	double bar_labels = ticks_w(&c, 0, g.vmax) + pt(&c, 7);
	double left = pad + (m->ylabel ? lh + pt(&c, 10) : 0) + yw + ticks;
	double bottom = pad + (m->xlabel ? lh + pt(&c, 10) : 0) + xw + ticks;
	double room_w = c.pix.w - left - pad - bar - bar_labels, room_h = c.pix.h - pad - title_h - bottom;
	g.cell = fmin(room_w / (double)m->cols, room_h / (double)m->rows);
	g.cell = g.cell >= 4 ? floor(g.cell) : g.cell;  /* past ~250 classes a cell is under a pixel */
	if (!(g.cell > 0)) {
		snprintf(err, errlen, "a matrix without room for its cells");
		goto done;
	}
	g.x0 = round(left + (room_w - g.cell * (double)m->cols) / 2);
	g.y0 = round(pad + title_h);
	draw_cells(&c, &g);
	hp_draw_box(&c.pix, g.x0, g.y0, g.x0 + g.cell * (double)m->cols, g.y0 + g.cell * (double)m->rows,
	            (int)fmax(1, lround(pt(&c, 0.8))), black);
	draw_matrix_ticks(&c, &g);
	draw_colorbar(&c, &g, g.x0 + g.cell * (double)m->cols + pt(&c, 10.8), pt(&c, 14));
	font_px(&c, pt(&c, 12));
	double mx = g.x0 + g.cell * (double)m->cols / 2, my = g.y0 + g.cell * (double)m->rows / 2;
	if (m->xlabel)
		text_at(&c, mx, c.pix.h - pad, 0.5, 1, m->xlabel, black);
	if (m->ylabel)
		text_up(&c, pad, my, 0, 0.5, m->ylabel, black);
	if (m->title)
		text_at(&c, mx, g.y0 - pt(&c, 20), 0.5, 1, m->title, black);
	rc = save_png(&c, path, err, errlen);
done:
	close_canvas(&c);
	return rc;
}
