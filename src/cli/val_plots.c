/* val_plots.c - `val --plots DIR` (val_plots.h): the checks of DIR before
 * anything is sent, and Ultralytics' plots (its plot_pr_curve,
 * plot_mc_curve and ConfusionMatrix.plot in ultralytics/utils/metrics.py)
 * drawn by the image module's charts (plot.h). */
#define _POSIX_C_SOURCE 200809L
#include "val_plots.h"
#include "plots_dir.h"
#include "hubpredict/plot.h"
#include "hubpredict/valmetrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLUE 0x0000ff   /* matplotlib's "blue": the all-classes line */
#define GREY 0x808080   /* "grey": each class's line past 20 classes */

static const char *const curve_files[] = { "PR_curve.png", "F1_curve.png", "P_curve.png", "R_curve.png" };
static const char *const prefixes[] = { "", "Box", "Mask", "Pose" };
static const char *const matrix_files[] = { "confusion_matrix.png", "confusion_matrix_normalized.png" };

int hp_val_plots_check(const char *dir, char *const *images, size_t n_images, char *err, size_t errlen)
{
	char names[4 * 4 + 2][64];
	const char *list[4 * 4 + 2];
	size_t n = 0;
	for (size_t p = 0; p < 4; p++)
		for (size_t f = 0; f < 4 + (p == 0 ? 2 : 0); f++) {
			snprintf(names[n], sizeof names[n], "%s%s", prefixes[p], f < 4 ? curve_files[f] : matrix_files[f - 4]);
			list[n] = names[n];
			n++;
		}
	return hp_plots_dir_check(dir, list, n, images, n_images, err, errlen);
}

/* ---- the plots -------------------------------------------------------------- */

/* smooth(y, 0.05) of Ultralytics: a box filter of 51 points, the ends padded. */
static void smooth51(const double *y, double *out)
{
	for (long i = 0; i < HP_VAL_CURVE; i++) {
		double s = 0;
		for (long k = i - 25; k <= i + 25; k++)
			s += y[k < 0 ? 0 : k >= HP_VAL_CURVE ? HP_VAL_CURVE - 1 : k] / 51.0;
		out[i] = s;
	}
}

struct curve_plot {
	const struct hp_val_result *r;
	const char *const *names;
	const double *x;        /* k/999 */
	char (*labels)[160];    /* one per class, then the mean's */
	double *mean;           /* the all-classes line */
	struct hp_plot_series *s;
};

static const char *name_of(const struct curve_plot *cp, long cls)
{
	return cls >= 0 && (size_t)cls < cp->r->cm_n && cp->names[cls] ? cp->names[cls] : "?";
}

/* One chart: per class thin lines (a legend entry each under 21 classes),
 * the thick blue mean; kind 0 is the PR curve, else F1, P or R over the
 * confidence. */
static int curve_chart(struct curve_plot *cp, const struct hp_val_curves *cv, int w, int kind, const char *path,
                       char *err, size_t errlen)
{
	static const char *const ylabels[] = { "Precision", "F1", "Precision", "Recall" };
	static const char *const titles[] = { "Precision-Recall Curve", "F1-Confidence Curve",
		                              "Precision-Confidence Curve", "Recall-Confidence Curve" };
	const double *const data[] = { cv->pr, cv->f1, cv->p, cv->r };
	size_t nc = cp->r->n_classes;
	bool legend = nc > 0 && nc < 21;
	double raw[HP_VAL_CURVE] = { 0 };
	for (size_t c = 0; c < nc; c++) {
		const struct hp_val_class *k = &cp->r->classes[c];
		for (size_t i = 0; i < HP_VAL_CURVE; i++)
			raw[i] += data[kind][c * HP_VAL_CURVE + i] / (double)nc;
		cp->s[c] = (struct hp_plot_series){ cp->x, data[kind] + c * HP_VAL_CURVE, HP_VAL_CURVE, 1,
			                            legend ? HP_PLOT_NEXT_COLOR : GREY, legend ? cp->labels[c] : NULL };
		if (kind == 0)
			snprintf(cp->labels[c], sizeof cp->labels[c], "%s %.3f", name_of(cp, k->cls), k->map50[w]);
		else
			snprintf(cp->labels[c], sizeof cp->labels[c], "%s", name_of(cp, k->cls));
	}
	if (kind == 0) {
		double all = 0;
		for (size_t c = 0; c < nc; c++)
			all += cp->r->classes[c].map50[w] / (double)nc;
		memcpy(cp->mean, raw, sizeof raw);
		snprintf(cp->labels[nc], sizeof cp->labels[nc], "all classes %.3f mAP@0.5", all);
	} else {
		smooth51(raw, cp->mean);
		size_t at = 0;
		for (size_t i = 1; i < HP_VAL_CURVE; i++)
			at = cp->mean[i] > cp->mean[at] ? i : at;
		snprintf(cp->labels[nc], sizeof cp->labels[nc], "all classes %.2f at %.3f", cp->mean[at], cp->x[at]);
	}
	cp->s[nc] = (struct hp_plot_series){ cp->x, cp->mean, HP_VAL_CURVE, 3, BLUE, cp->labels[nc] };
	struct hp_plot_chart ch = { .title = titles[kind], .xlabel = kind == 0 ? "Recall" : "Confidence",
		                    .ylabel = ylabels[kind], .xmin = 0, .xmax = 1, .ymin = 0, .ymax = 1,
		                    .series = cp->s, .n_series = nc + 1 };
	return hp_plot_chart_png(&ch, path, err, errlen);
}

/* The four curves of metric w (0 box, 1 mask/pose) with the file prefix. */
static int curves(const char *dir, const struct hp_val_result *r, const char *const *names, int w,
                  const char *prefix, char *err, size_t errlen)
{
	size_t nc = r->n_classes;
	double x[HP_VAL_CURVE];
	for (size_t i = 0; i < HP_VAL_CURVE; i++)
		x[i] = i == HP_VAL_CURVE - 1 ? 1.0 : (double)i * (1.0 / (HP_VAL_CURVE - 1));
	struct curve_plot cp = { r, names, x, calloc(nc + 1, sizeof *cp.labels),
		                 malloc(HP_VAL_CURVE * sizeof *cp.mean), calloc(nc + 1, sizeof *cp.s) };
	int rc = -1;
	if (!cp.labels || !cp.mean || !cp.s || !r->curves[w].pr) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
	for (int kind = 0; kind < 4 && rc == 0; kind++) {
		char *path = hp_plots_join(dir, prefix, curve_files[kind]);
		rc = path ? curve_chart(&cp, &r->curves[w], w, kind, path, err, errlen) : -1;
		if (!path)
			snprintf(err, errlen, "out of memory");
		free(path);
	}
done:
	free(cp.labels);
	free(cp.mean);
	free(cp.s);
	return rc;
}

/* ConfusionMatrix.plot: counts, and columns normalised; cells under 0.005
 * left empty; a background row and column but for classify. */
static int matrices(const char *dir, const struct hp_val_result *r, const char *const *names, char *err,
                    size_t errlen)
{
	size_t k = r->task == HP_VAL_CLASSIFY ? r->cm_n : r->cm_n + 1;
	double *v = malloc((k * k + 1) * sizeof *v);
	const char **ticks = calloc(k + 1, sizeof *ticks);
	int rc = -1;
	if (!v || !ticks) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < k; i++)
		ticks[i] = i < r->cm_n ? names[i] : "background";
	rc = 0;
	for (int norm = 0; norm < 2 && rc == 0; norm++) {
		for (size_t col = 0; col < k; col++) {
			double sum = 0;
			for (size_t row = 0; row < k; row++)
				sum += r->confusion[row * k + col];
			for (size_t row = 0; row < k; row++) {
				double x = r->confusion[row * k + col] / (norm ? sum + 1e-9 : 1);
				v[row * k + col] = x < 0.005 ? NAN : x;
			}
		}
		struct hp_plot_matrix m = { norm ? "Confusion Matrix Normalized" : "Confusion Matrix", "True", "Predicted",
			                    v, k, k, ticks, ticks, norm ? 2 : 0, 0, 0, 0 };
		char *path = hp_plots_join(dir, "", matrix_files[norm]);
		rc = path ? hp_plot_matrix_png(&m, path, err, errlen) : -1;
		if (!path)
			snprintf(err, errlen, "out of memory");
		free(path);
	}
done:
	free(v);
	free(ticks);
	return rc;
}

int hp_val_plots_write(const char *dir, const struct hp_val_result *r, const char *const *names, char *err,
                       size_t errlen)
{
	int rc = 0;
	if (r->task != HP_VAL_CLASSIFY) {
		rc = curves(dir, r, names, 0, r->has_other ? "Box" : "", err, errlen);
		if (rc == 0 && r->has_other)
			rc = curves(dir, r, names, 1, r->task == HP_VAL_POSE ? "Pose" : "Mask", err, errlen);
	}
	if (rc == 0 && r->confusion && r->cm_n > 0)
		rc = matrices(dir, r, names, err, errlen);
	return rc;
}
