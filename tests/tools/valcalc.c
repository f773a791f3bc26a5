/* valcalc - the val metrics without a server, for the reference tests
 * (tests/val): valcalc DATA SPLIT TASK PREDS.json prints the metrics as JSON.
 * PREDS.json maps an image's file name to {"shape": [h, w], "preds": [{"cls",
 * "conf", "box": [x1,y1,x2,y2], "obb": [x1,y1,...,x4,y4], "poly": [[x,y]...],
 * "kpts": [[x,y]...]}], "top": [classes]}. Exit 3 on a dataset error. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubpredict/valdata.h"
#include "hubpredict/valmetrics.h"

static cJSON *load(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(64 << 20);
	size_t n = f && buf ? fread(buf, 1, (64 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	cJSON *j = cJSON_Parse(buf);
	free(buf);
	return j;
}

static double num(const cJSON *a, int i)
{
	const cJSON *v = cJSON_GetArrayItem(a, i);
	return v ? v->valuedouble : 0;
}

/* The predictions of one image into objs (points into pts). */
static size_t preds_of(const cJSON *img, enum hp_val_task task, struct hp_val_obj *objs, double *pts)
{
	size_t n = 0, used = 0;
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(img, "preds")) {
		struct hp_val_obj *o = &objs[n++];
		const cJSON *box = cJSON_GetObjectItem(p, "box"), *obb = cJSON_GetObjectItem(p, "obb");
		const cJSON *pts_j = cJSON_GetObjectItem(p, task == HP_VAL_POSE ? "kpts" : "poly");
		memset(o, 0, sizeof *o);
		o->cls = (long)cJSON_GetObjectItem(p, "cls")->valuedouble;
		o->conf = cJSON_GetObjectItem(p, "conf")->valuedouble;
		for (int k = 0; k < 4 && box; k++)
			o->box[k] = num(box, k);
		if (obb) {
			double xy[8];
			for (int k = 0; k < 8; k++)
				xy[k] = num(obb, k);
			hp_val_min_area_rect(xy, o->obb);
		}
		int m = pts_j ? cJSON_GetArraySize(pts_j) : 0;
		o->n = (size_t)m;
		o->x = pts + used;
		o->y = pts + used + m;
		for (int k = 0; k < m; k++) {
			pts[used + (size_t)k] = num(cJSON_GetArrayItem(pts_j, k), 0);
			pts[used + (size_t)(m + k)] = num(cJSON_GetArrayItem(pts_j, k), 1);
		}
		used += 2 * (size_t)m;
	}
	return n;
}

static void print_metric(const char *name, const struct hp_val_metric *m)
{
	printf("\"%s\": {\"precision\": %.17g, \"recall\": %.17g, \"map50\": %.17g, \"map75\": %.17g, "
	       "\"map50_95\": %.17g, \"fitness\": %.17g}, ", name, m->precision, m->recall, m->map50,
	       m->map75, m->map50_95, m->fitness);
}

/* The plots' curves, every 37th point (the last among them). */
static void print_curves(const struct hp_val_result *r)
{
	static const char *const names[] = { "pr", "p", "r", "f1" };
	printf(", \"curves\": {");
	for (int w = 0; w < (r->has_other ? 2 : 1); w++) {
		const struct hp_val_curves *c = &r->curves[w];
		const double *const v[] = { c->pr, c->p, c->r, c->f1 };
		printf("%s\"%s\": {", w ? ", " : "", w ? "other" : "box");
		for (int k = 0; k < 4; k++) {
			printf("%s\"%s\": [", k ? ", " : "", names[k]);
			for (size_t i = 0; i < r->n_classes; i++)
				for (size_t j = 0; j < HP_VAL_CURVE; j += 37)   /* 999 = 27 x 37 */
					printf("%s%.17g", i + j ? ", " : "", v[k] ? v[k][i * HP_VAL_CURVE + j] : 0);
			printf("]");
		}
		printf("}");
	}
	printf("}");
}

static void print_result(const struct hp_val_result *r)
{
	printf("{\"images\": %zu, \"instances\": %zu, ", r->images, r->instances);
	if (r->task == HP_VAL_CLASSIFY) {
		printf("\"top1\": %.17g, \"top5\": ", r->top1);
		r->has_top5 ? printf("%.17g, ", r->top5) : printf("null, ");
	} else {
		print_metric("box", &r->box);
		if (r->has_other)
			print_metric("other", &r->other);
	}
	printf("\"classes\": [");
	for (size_t i = 0; i < r->n_classes; i++) {
		const struct hp_val_class *c = &r->classes[i];
		printf("%s{\"class\": %ld, \"images\": %zu, \"instances\": %zu", i ? ", " : "", c->cls,
		       c->images, c->instances);
		for (int w = 0; w < (r->has_other ? 2 : 1) && r->task != HP_VAL_CLASSIFY; w++)
			printf(", \"%s\": [%.17g, %.17g, %.17g, %.17g]", w ? "other" : "box", c->precision[w],
			       c->recall[w], c->map50[w], c->map50_95[w]);
		printf("}");
	}
	size_t k = r->task == HP_VAL_CLASSIFY ? r->cm_n : r->cm_n + 1;
	printf("], \"confusion\": [");
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < k; j++)
			printf("%s%.17g", i + j ? ", " : "", r->confusion ? r->confusion[i * k + j] : 0);
	printf("], \"cm_n\": %zu", r->cm_n);
	if (r->task != HP_VAL_CLASSIFY)
		print_curves(r);
	printf("}\n");
}

static enum hp_val_task task_of(const char *s)
{
	return !strcmp(s, "segment") ? HP_VAL_SEGMENT : !strcmp(s, "pose") ? HP_VAL_POSE
	     : !strcmp(s, "obb") ? HP_VAL_OBB : !strcmp(s, "classify") ? HP_VAL_CLASSIFY : HP_VAL_DETECT;
}

static int one_image(struct hp_valstats *st, const struct hp_valdata *d, size_t i,
                     enum hp_val_task task, const cJSON *img, char *err, size_t errlen)
{
	if (task == HP_VAL_CLASSIFY) {
		long top[16];
		size_t n = 0;
		const cJSON *t;
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(img, "top"))
			if (n < 16)
				top[n++] = (long)t->valuedouble;
		return hp_valstats_add_classify(st, d->image_class[i], top, n);
	}
	const cJSON *shape = cJSON_GetObjectItem(img, "shape");
	long h = (long)num(shape, 0), w = (long)num(shape, 1);
	struct hp_val_labels l;
	struct hp_val_obj *labels = NULL, *preds = calloc(4096, sizeof *preds);
	double *pts = malloc((1 << 20) * sizeof *pts);
	int rc = hp_val_labels_read(&l, d->images[i], d->n_names, err, errlen);
	if (rc == 0)
		rc = hp_val_labels_objects(&l, task, (double)w, (double)h, d->kpt_n, d->kpt_dim, &labels,
		                           err, errlen);
	if (rc == 0) {
		size_t np = preds_of(img, task, preds, pts);
		rc = hp_valstats_add(st, labels, l.n, preds, np, w, h) == 0 ? 0 : 1;
	}
	hp_val_labels_clear(&l);
	free(labels);
	free(preds);
	free(pts);
	return rc;
}

int main(int argc, char **argv)
{
	struct hp_valdata d;
	struct hp_valstats *st = NULL;
	struct hp_val_result r;
	char err[1024];
	if (argc != 5) {
		fprintf(stderr, "usage: valcalc DATA SPLIT TASK PREDS.json\n");
		return 2;
	}
	enum hp_val_task task = task_of(argv[3]);
	int rc = hp_valdata_open(&d, argv[1], argv[2], err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "valcalc: %s\n", err);
		return rc;
	}
	cJSON *all = load(argv[4]);
	if (!all || hp_valstats_new(&st, task, d.n_names) != 0)
		return 2;
	hp_valstats_keep_curves(st);
	for (size_t i = 0; i < d.n_images && rc == 0; i++) {
		const char *base = strrchr(d.images[i], '/');
		const cJSON *img = cJSON_GetObjectItem(all, base ? base + 1 : d.images[i]);
		if (img && (rc = one_image(st, &d, i, task, img, err, sizeof err)) != 0)
			fprintf(stderr, "valcalc: %s\n", err);
	}
	if (rc == 0 && hp_valstats_compute(st, &r) == 0) {
		print_result(&r);
		hp_val_result_clear(&r);
	}
	hp_valstats_free(st);
	hp_valdata_clear(&d);
	cJSON_Delete(all);
	return rc;
}
