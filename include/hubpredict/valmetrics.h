/* valmetrics.h - accuracy against labels as Ultralytics computes it (SPEC
 * §12): per image, predictions matched with labels at ten IoU thresholds
 * (its match_predictions), and at the end AP per class (ap_per_class,
 * compute_ap, smooth), mAP50, mAP75, mAP50-95, fitness, and the confusion
 * matrix (ConfusionMatrix.process_batch: conf > 0.25, IoU > 0.45).
 *
 * Where Ultralytics leaves an order open, the rule here (and in the test
 * suite's numpy reference, tests/val/reference.py):
 *   - an image's predictions are taken by descending confidence, answer order
 *     on ties (a stable sort);
 *   - a prediction whose best labels have equal IoUs takes the one of
 *     highest index (numpy's stable argsort reversed, as Ultralytics' own
 *     [::-1] gives for small arrays); a label taken by several predictions
 *     goes to the first of them in confidence order;
 *   - across images, equal confidences keep image order then answer order;
 *   - thresholds are torch.linspace(0.5, 0.95, 10)'s float32 values, and a
 *     confidence is kept as a float32, as Ultralytics holds both; IoUs are
 *     computed in double.
 * Only what the metrics need is kept per prediction, in its class's bucket:
 * its confidence and ten match bits per metric (8 bytes).
 *
 * Ownership: hp_valstats_new makes an accumulator the caller frees with
 * hp_valstats_free; hp_valstats_compute fills a result the caller embeds and
 * releases with hp_val_result_clear. Inputs are borrowed for the call only.
 */
#ifndef HUBPREDICT_VALMETRICS_H
#define HUBPREDICT_VALMETRICS_H

#include <stdbool.h>
#include <stddef.h>

enum hp_val_task { HP_VAL_DETECT, HP_VAL_SEGMENT, HP_VAL_POSE, HP_VAL_OBB, HP_VAL_CLASSIFY };

/* A label or a prediction, in pixels of the original image. */
struct hp_val_obj {
	long cls;
	double conf;            /* predictions */
	double box[4];          /* x1 y1 x2 y2: detect, segment, pose */
	double obb[5];          /* cx cy w h angle (radians): obb */
	size_t n;               /* segment: polygon points; pose: keypoints */
	const double *x, *y;
	const double *v;        /* pose labels: visibility (a point counts when != 0);
	                           NULL: every point counts */
};

struct hp_val_metric {
	double precision, recall, map50, map75, map50_95, fitness;
};

struct hp_val_class {
	long cls;
	size_t images;          /* images holding at least one label of the class */
	size_t instances;       /* its labels */
	double precision[2], recall[2], map50[2], map50_95[2];  /* [0] box, [1] mask/pose */
};

/* ap_per_class's curves of one metric, for the plots (Ultralytics'
 * PR_curve.png, F1_curve.png, P_curve.png, R_curve.png): per class of
 * hp_val_result.classes, in its order, HP_VAL_CURVE points each; a class
 * without predictions has all zeros. */
#define HP_VAL_CURVE 1000
struct hp_val_curves {
	double *pr;             /* precision envelope at recall k/999 (IoU 0.5) */
	double *p, *r, *f1;     /* precision, recall, F1 at confidence k/999 */
};

struct hp_val_result {
	enum hp_val_task task;
	size_t images, instances;
	struct hp_val_metric box;       /* detect, segment, pose, obb */
	struct hp_val_metric other;     /* segment: mask; pose: OKS */
	bool has_other;
	struct hp_val_class *classes;   /* the classes present in the labels, ascending */
	size_t n_classes;
	double top1, top5;              /* classify */
	bool has_top5;
	double *confusion;              /* (cm_n + 1)^2, row = predicted, column = true;
	                                   index cm_n = background (classify: cm_n^2) */
	size_t cm_n;
	struct hp_val_curves curves[2]; /* [0] box, [1] mask/pose: filled when the
	                                   accumulator keeps them, else NULL */
};

struct hp_valstats;

/* n_names: the class count when known (0: learnt from the labels). */
int hp_valstats_new(struct hp_valstats **out, enum hp_val_task task, size_t n_names);
void hp_valstats_free(struct hp_valstats *s);

/* Let hp_valstats_compute fill the result's curves (val --plots). */
void hp_valstats_keep_curves(struct hp_valstats *s);

/* One image: its labels and predictions (any order; taken by descending
 * confidence). width and height: the original image (segment masks). 0, or
 * -1 when out of memory. */
int hp_valstats_add(struct hp_valstats *s, const struct hp_val_obj *labels, size_t n_labels,
                    const struct hp_val_obj *preds, size_t n_preds, long width, long height);
/* One classify image: its label and the answer's classes by descending
 * confidence (top[0] the first). n_top < 5 for any image: top-5 is not
 * given. 0, or -1 when out of memory. */
int hp_valstats_add_classify(struct hp_valstats *s, long label, const long *top, size_t n_top);

/* The metrics so far. 0, or -1 when out of memory. */
int hp_valstats_compute(struct hp_valstats *s, struct hp_val_result *r);
void hp_val_result_clear(struct hp_val_result *r);

/* Geometry, for the tests. Box IoU of x1 y1 x2 y2 boxes (eps 1e-7). */
double hp_val_box_iou(const double *a, const double *b);
/* The minimum-area rectangle around four corners (x1 y1 ... x4 y4) as
 * cx cy w h angle: rotating calipers over the convex hull, the first edge of
 * least area on ties. */
void hp_val_min_area_rect(const double *xy8, double out[5]);
/* probiou of two cx cy w h angle boxes (eps 1e-7). */
double hp_val_probiou(const double *a, const double *b);

#endif
