/* draw.h - drawing on an RGB pixmap, clipped to it: filled rectangles and
 * polygons with alpha, thick lines, circles, box outlines. Coordinates are
 * pixels, (0,0) the top-left corner of the top-left pixel. */
#ifndef HUBPREDICT_IMAGE_DRAW_H
#define HUBPREDICT_IMAGE_DRAW_H

#include <stddef.h>

struct hp_pixmap;

struct hp_rgb {
	unsigned char r, g, b;
};

/* Pixels whose centres lie in [x0, x1) x [y0, y1), blended at alpha 0-1. */
void hp_draw_rect(struct hp_pixmap *p, double x0, double y0, double x1, double y1, struct hp_rgb c, double alpha);

/* A box's outline, lw pixels wide, centred on its edges (as OpenCV's rectangle). */
void hp_draw_box(struct hp_pixmap *p, double x1, double y1, double x2, double y2, int lw, struct hp_rgb c);

/* A line of the given width with round ends. */
void hp_draw_line(struct hp_pixmap *p, double x0, double y0, double x1, double y1, double width, struct hp_rgb c);

/* A filled polygon (even-odd rule), blended at alpha. */
void hp_draw_polygon(struct hp_pixmap *p, const double *x, const double *y, size_t n, struct hp_rgb c,
                     double alpha);

/* A filled disc. */
void hp_draw_disc(struct hp_pixmap *p, double cx, double cy, double r, struct hp_rgb c);

/* Blend one pixel with coverage a (0-1). */
void hp_draw_blend(struct hp_pixmap *p, int x, int y, struct hp_rgb c, double a);

#endif
