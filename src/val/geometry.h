/* geometry.h - private to src/val: OKS and polygon masks (box IoU, the
 * minimum-area rectangle and probiou are in valmetrics.h for the tests). */
#ifndef HP_VAL_GEOMETRY_H
#define HP_VAL_GEOMETRY_H

#include "hubpredict/valmetrics.h"

/* OKS of a pose label and prediction (Ultralytics' kpt_iou): the 17 COCO
 * sigmas for 17 points, else 1/n each; area = the label box's w*h*0.53;
 * only label points with v != 0 count. */
double hp_val_oks(const struct hp_val_obj *label, const struct hp_val_obj *pred);

/* A polygon's pixels within its bounding rectangle (one byte each, owned;
 * released with hp_val_mask_clear). */
struct hp_val_mask {
	long x0, y0, w, h;
	unsigned char *bits;
	size_t area;
};
/* Rasterise o's polygon on a width x height image: a pixel is in when its
 * centre (x+0.5, y+0.5) is inside by the even-odd rule. 0, or -1 when out of
 * memory. Fewer than 3 points: an empty mask. */
int hp_val_mask_make(struct hp_val_mask *m, const struct hp_val_obj *o, long width, long height);
void hp_val_mask_clear(struct hp_val_mask *m);
/* intersection / (union + 1e-7), as Ultralytics' mask_iou. */
double hp_val_mask_iou(const struct hp_val_mask *a, const struct hp_val_mask *b);

#endif
