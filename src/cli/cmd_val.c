/* cmd_val.c - `hubpredict val [OPTIONS] DATA` (SPEC §12): every image of a
 * split through predict's batch (hp_predict_embedded, cmd.h), each answer
 * matched with its labels as it arrives (only the metrics' records are
 * kept), then the metrics as `yolo val` prints them, the --expect metric
 * checks and the --junit report.
 *
 * Engine-facing code (the observer's reading of struct hp_item and struct
 * hp_response, and the call into predict's run) is in the block marked
 * ENGINE below; the rest only sees the dataset, the metrics and the output. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/batch.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/junit.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"
#include "hubpredict/output.h"
#include "hubpredict/render.h"
#include "hubpredict/response.h"
#include "hubpredict/text.h"
#include "hubpredict/valdata.h"
#include "hubpredict/valgate.h"
#include "hubpredict/valmetrics.h"
#include "cmd.h"
#include "val_plots.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const split_names[] = { "val", "test", "train" };

struct val {
	const char *data;
	const char *split;
	enum hp_format format;
	const char *junit;
	const char *plots;      /* --plots DIR */
	bool skip_bad_labels;
	int allow_failed;
	const struct hp_val_gate *gates;
	size_t n_gates;
	double conf;
	struct hp_valdata d;
	char **send;            /* the images sent (d's strings) */
	size_t *send_ix;        /* their index in d.images */
	size_t n_send, next;
	struct hp_valstats *st;
	enum hp_val_task task;
	char **failed;          /* images whose request failed (owned) */
	size_t n_failed;
	char **seen_names;      /* class names from the answers, by number (owned) */
	size_t n_seen;
	size_t left_out;        /* --skip-bad-labels */
	struct pending {        /* answers without results before the task was known */
		size_t i;
		long w, h;
	} *pend;
	size_t n_pend;
	int err_code;           /* an error met in an answer: the run's status */
	char err[1200];
};

static void usage(void)
{
	printf("Usage: hubpredict val [OPTIONS] DATA\n"
	       "Send every image of a labelled dataset's split to the model and print its\n"
	       "accuracy as `yolo val` does (P, R, mAP50, mAP50-95; top-1/top-5 for classify).\n"
	       "DATA: a data.yaml, a folder holding images/ and labels/, or a classify folder.\n\n"
	       "Options:\n");
	hp_options_usage_for(HP_CMD_VAL);
	printf("\nIn val, -c is sent as 0.01 unless a conf is set (command line, environment,\n"
	       "config file); --expect takes metric checks; --junit writes one testcase per\n"
	       "check and per class; -f is table, json or csv; --plots writes PR_curve.png,\n"
	       "F1_curve.png, P_curve.png, R_curve.png, confusion_matrix.png and\n"
	       "confusion_matrix_normalized.png.\n");
	printf("\nExamples:\n"
	       "  hubpredict val -m owner/project/model coco8.yaml\n"
	       "  hubpredict val -m MODEL data.yaml --expect 'map50>=0.6' --junit val.xml\n"
	       "  hubpredict val -m MODEL data.yaml --plots runs/val\n\n"
	       "Exit status: 0 ok, 1 a metric check failed, 2 usage, 3 dataset or input,\n"
	       "4-10 a request failed (as predict), 11 output. See hubpredict(1), VAL.\n");
}

static const char *class_name(const struct val *v, long cls, char *buf, size_t len)
{
	if (cls >= 0 && (size_t)cls < v->d.n_names && v->d.names && v->d.names[cls])
		return v->d.names[cls];
	if (cls >= 0 && (size_t)cls < v->n_seen && v->seen_names[cls])
		return v->seen_names[cls];
	snprintf(buf, len, "%ld", cls);
	return buf;
}

static int note_error(struct val *v, int code, const char *msg)
{
	if (!v->err_code) {
		v->err_code = code;
		snprintf(v->err, sizeof v->err, "%s", msg);
	}
	return code;
}

/* ---- ENGINE: what the batch hands over, read into the metrics ---------- */

static enum hp_val_task task_of(enum hp_task t, bool *ok)
{
	*ok = true;
	switch (t) {
	case HP_TASK_DETECT: return HP_VAL_DETECT;
	case HP_TASK_SEGMENT: return HP_VAL_SEGMENT;
	case HP_TASK_POSE: return HP_VAL_POSE;
	case HP_TASK_OBB: return HP_VAL_OBB;
	case HP_TASK_CLASSIFY: return HP_VAL_CLASSIFY;
	default: *ok = false; return HP_VAL_DETECT;
	}
}

/* Remember the answers' names of classes (when the dataset has none). */
static void seen_name(struct val *v, const struct hp_result *res)
{
	if (v->d.n_names || res->cls < 0 || res->cls >= 100000 || !res->name)
		return;
	size_t c = (size_t)res->cls;
	if (c >= v->n_seen) {
		char **n = realloc(v->seen_names, (c + 1) * sizeof *n);
		if (!n)
			return;
		memset(n + v->n_seen, 0, (c + 1 - v->n_seen) * sizeof *n);
		v->seen_names = n;
		v->n_seen = c + 1;
	}
	if (!v->seen_names[c])
		v->seen_names[c] = strdup(res->name);
}

/* One classify answer: its classes by descending confidence, mapped to the
 * dataset's by name when it has the name. */
static int add_classify(struct val *v, const struct hp_image *im, size_t i)
{
	long top[5];
	size_t n = 0;
	bool used[64] = { false };
	for (; n < 5 && n < im->n_results && n < 64; n++) {
		size_t best = SIZE_MAX;
		for (size_t k = 0; k < im->n_results && k < 64; k++)
			if (!used[k] && (best == SIZE_MAX || im->results[k].confidence > im->results[best].confidence))
				best = k;
		used[best] = true;
		const struct hp_result *res = &im->results[best];
		top[n] = res->cls;
		for (size_t c = 0; res->name && c < v->d.n_names; c++)
			if (v->d.names[c] && strcmp(v->d.names[c], res->name) == 0)
				top[n] = (long)c;
	}
	return hp_valstats_add_classify(v->st, v->d.image_class[i], top, n);
}

/* The answer's results as predictions of the task. */
static void to_preds(struct val *v, const struct hp_image *im, struct hp_val_obj *p)
{
	for (size_t k = 0; k < im->n_results; k++) {
		const struct hp_result *res = &im->results[k];
		memset(&p[k], 0, sizeof p[k]);
		p[k].cls = res->cls;
		p[k].conf = res->confidence;
		seen_name(v, res);
		if (res->n_box == 8)
			hp_val_min_area_rect(res->box, p[k].obb);
		else
			memcpy(p[k].box, res->box, sizeof p[k].box);
		const struct hp_points *pts = v->task == HP_VAL_SEGMENT ? &res->segment
		                            : v->task == HP_VAL_POSE ? &res->keypoints : NULL;
		if (pts) {
			p[k].n = pts->n;
			p[k].x = pts->x;
			p[k].y = pts->y;
		}
	}
}

/* One detect/segment/pose/obb answer against image i's labels. */
static int add_objects(struct val *v, const struct hp_image *im, size_t i, const char *file)
{
	struct hp_val_labels l;
	struct hp_val_obj *labels = NULL, *preds = calloc(im->n_results + 1, sizeof *preds);
	char err[1024];
	int rc = hp_val_labels_read(&l, v->d.images[i], v->d.n_names, err, sizeof err);
	if (rc == 0)
		rc = hp_val_labels_objects(&l, v->task, (double)im->width, (double)im->height, v->d.kpt_n,
		                           v->d.kpt_dim, &labels, err, sizeof err);
	if (rc != 0 && v->skip_bad_labels) {
		hp_msg_warn("%s; '%s' left out (--skip-bad-labels)", err, file);
		v->left_out++;
		rc = 0;
	} else if (rc != 0) {
		note_error(v, HP_EXIT_INPUT, err);
	} else if (!preds) {
		rc = note_error(v, HP_EXIT_OUTPUT, "out of memory");
	} else {
		to_preds(v, im, preds);
		if (hp_valstats_add(v->st, labels, l.n, preds, im->n_results, im->width, im->height) != 0)
			rc = note_error(v, HP_EXIT_OUTPUT, "out of memory");
	}
	hp_val_labels_clear(&l);
	free(labels);
	free(preds);
	return rc;
}

static void fail_image(struct val *v, const char *file)
{
	char **f = realloc(v->failed, (v->n_failed + 1) * sizeof *f);
	if (f && (f[v->n_failed] = strdup(file))) {
		v->failed = f;
		v->n_failed++;
	} else if (f) {
		v->failed = f;
	}
}

/* One answered image against its labels, the task known. */
static void score(struct val *v, const struct hp_image *im, size_t i, const char *file)
{
	char msg[1000], q[512];
	if (v->task == HP_VAL_CLASSIFY) {
		if (add_classify(v, im, i) != 0)
			note_error(v, HP_EXIT_OUTPUT, "out of memory");
	} else if (!im->has_shape || im->width <= 0 || im->height <= 0) {
		snprintf(msg, sizeof msg, "%s: the answer gives no image size to scale the labels to",
		         hp_msg_quote(q, sizeof q, file));
		note_error(v, HP_EXIT_BAD_RESPONSE, msg);
	} else {
		add_objects(v, im, i, file);
	}
}

/* The task is known (the first answer with results, or the end): the
 * accumulator, then the empty answers met before it. */
static void start_task(struct val *v, enum hp_val_task t)
{
	v->task = t;
	if (hp_valstats_new(&v->st, t, v->d.n_names) != 0) {
		note_error(v, HP_EXIT_OUTPUT, "out of memory");
		return;
	}
	if (v->plots)
		hp_valstats_keep_curves(v->st);
	for (size_t k = 0; k < v->n_pend && !v->err_code; k++) {
		struct hp_image im = { .has_shape = true, .width = v->pend[k].w, .height = v->pend[k].h };
		score(v, &im, v->pend[k].i, v->d.images[v->pend[k].i]);
	}
	v->n_pend = 0;
}

/* An answer without results tells no task: kept (3 numbers) until one does. */
static void pend(struct val *v, const struct hp_image *im, size_t i)
{
	struct pending *p = realloc(v->pend, (v->n_pend + 1) * sizeof *p);
	if (!p) {
		note_error(v, HP_EXIT_OUTPUT, "out of memory");
		return;
	}
	v->pend = p;
	v->pend[v->n_pend++] = (struct pending){ i, im->has_shape ? im->width : 0, im->has_shape ? im->height : 0 };
}

/* The observer: each finished image, in input order. */
static void val_item(void *state, const struct hp_item *it)
{
	struct val *v = state;
	while (v->next < v->n_send && strcmp(v->send[v->next], it->file) != 0)
		v->next++;      /* --resume: images answered in the log are not handed over */
	if (v->next >= v->n_send || v->err_code)
		return;
	size_t i = v->send_ix[v->next++];
	const struct hp_response *r = it->response;
	if (it->exit_code != 0 || !r || r->n_images < 1) {
		fail_image(v, it->file);
		return;
	}
	const struct hp_image *im = &r->images[0];
	bool ok;
	enum hp_val_task t = task_of(r->task, &ok);
	if (r->task == HP_TASK_UNKNOWN && im->n_results == 0) {
		if (v->st)
			score(v, im, i, it->file);
		else
			pend(v, im, i);
		return;
	}
	char msg[1000], q[512];
	hp_msg_quote(q, sizeof q, it->file);
	if (!ok || (t == HP_VAL_CLASSIFY) != v->d.classify || (v->st && t != v->task)) {
		snprintf(msg, sizeof msg, "%s: a %s answer %s", q, hp_task_name(r->task),
		         !ok ? "cannot be scored (val takes detect, segment, pose, obb and classify)"
		         : v->st ? "among answers of another task" : v->d.classify
		         ? "for a classification folder" : "for a dataset of labels");
		note_error(v, ok ? HP_EXIT_INPUT : HP_EXIT_BAD_RESPONSE, msg);
		return;
	}
	if (!v->st)
		start_task(v, t);
	if (!v->err_code)
		score(v, im, i, it->file);
}

static int val_finish(void *state, const struct hp_batch_stats *stats, struct hp_output *out, int status);

/* The batch over the split, predict's setup (cmd_predict.c). */
static int run_engine(struct val *v, struct hp_options *o)
{
	struct hp_predict_embed e = { .inputs = v->send, .n_inputs = v->n_send, .item = val_item,
	                              .finish = val_finish, .state = v };
	return hp_predict_embedded(o, &e);
}

/* ---- end of ENGINE ----------------------------------------------------- */

/* ---- the report --------------------------------------------------------- */

static const char *const block_names[] = { "box", "mask", "pose" };

static void put_num(struct hp_output *out, double x)
{
	char b[40];
	hp_fmt_double(b, sizeof b, x);
	hp_out_puts(out, isfinite(x) ? b : "null");
}

static void put_metric(struct hp_output *out, const char *name, const struct hp_val_metric *m)
{
	const double x[] = { m->precision, m->recall, m->map50, m->map75, m->map50_95, m->fitness };
	static const char *const k[] = { "precision", "recall", "map50", "map75", "map50_95", "fitness" };
	hp_out_printf(out, "\"%s\": {", name);
	for (int i = 0; i < 6; i++) {
		hp_out_printf(out, "%s\"%s\": ", i ? ", " : "", k[i]);
		put_num(out, x[i]);
	}
	hp_out_puts(out, "}");
}

static void put_class_json(const struct val *v, const struct hp_val_result *r, const struct hp_val_class *c,
                           struct hp_output *out)
{
	char buf[32];
	const char *name = class_name(v, c->cls, buf, sizeof buf);
	hp_out_printf(out, "{\"class\": %ld, \"name\": ", c->cls);
	hp_json_write_string(out, name, strlen(name));
	hp_out_printf(out, ", \"images\": %zu, \"instances\": %zu", c->images, c->instances);
	for (int w = 0; r->task != HP_VAL_CLASSIFY && w < (r->has_other ? 2 : 1); w++) {
		const char *bn = w == 0 ? "box" : block_names[r->task == HP_VAL_POSE ? 2 : 1];
		const double x[] = { c->precision[w], c->recall[w], c->map50[w], c->map50_95[w] };
		static const char *const k[] = { "precision", "recall", "map50", "map50_95" };
		hp_out_printf(out, ", \"%s\": {", bn);
		for (int i = 0; i < 4; i++) {
			hp_out_printf(out, "%s\"%s\": ", i ? ", " : "", k[i]);
			put_num(out, x[i]);
		}
		hp_out_puts(out, "}");
	}
	hp_out_puts(out, "}");
}

static void print_json(const struct val *v, const struct hp_val_result *r, struct hp_output *out)
{
	static const char *const tasks[] = { "detect", "segment", "pose", "obb", "classify" };
	hp_out_printf(out, "{\"task\": \"%s\", \"data\": ", tasks[r->task]);
	hp_json_write_string(out, v->data, strlen(v->data));
	hp_out_printf(out, ", \"split\": \"%s\", \"images\": %zu, \"instances\": %zu, \"conf\": ", v->split,
	              r->images, r->instances);
	put_num(out, v->conf);
	hp_out_puts(out, ", \"metrics\": {");
	if (r->task == HP_VAL_CLASSIFY) {
		hp_out_puts(out, "\"top1\": ");
		put_num(out, r->top1);
		hp_out_puts(out, ", \"top5\": ");
		put_num(out, r->has_top5 ? r->top5 : NAN);
	} else {
		put_metric(out, "box", &r->box);
		if (r->has_other) {
			hp_out_puts(out, ", ");
			put_metric(out, block_names[r->task == HP_VAL_POSE ? 2 : 1], &r->other);
		}
	}
	hp_out_puts(out, "}, \"classes\": [");
	for (size_t i = 0; i < r->n_classes; i++) {
		hp_out_puts(out, i ? ", " : "");
		put_class_json(v, r, &r->classes[i], out);
	}
	hp_out_puts(out, "], \"failed\": [");
	for (size_t i = 0; i < v->n_failed; i++) {
		hp_out_puts(out, i ? ", " : "");
		hp_json_write_string(out, v->failed[i], strlen(v->failed[i]));
	}
	hp_out_puts(out, "]}\n");
}

/* One row: the table's (%11.3g, as yolo val) or csv's (full doubles). */
static void put_row(struct hp_output *out, bool csv, const char *name, size_t images, size_t instances,
                    const double *x, int n)
{
	if (csv) {
		hp_csv_write_field(out, name, strlen(name));
		hp_out_printf(out, ",%zu,%zu", images, instances);
		for (int i = 0; i < n; i++) {
			hp_out_puts(out, ",");
			put_num(out, x[i]);
		}
	} else {
		char cut[23];
		snprintf(cut, sizeof cut, "%s", name);
		hp_out_printf(out, "%22s%11zu%11zu", cut, images, instances);
		for (int i = 0; i < n; i++)
			isfinite(x[i]) ? hp_out_printf(out, "%11.3g", x[i]) : hp_out_printf(out, "%11s", "-");
	}
	hp_out_puts(out, "\n");
}

static void print_header(const struct hp_val_result *r, struct hp_output *out, bool csv)
{
	const char *o = r->task == HP_VAL_POSE ? "pose" : "mask";
	if (r->task == HP_VAL_CLASSIFY && csv)
		hp_out_puts(out, "class,images,instances,top1_acc,top5_acc\n");
	else if (r->task == HP_VAL_CLASSIFY)
		hp_out_printf(out, "%22s%11s%11s%11s%11s\n", "Class", "Images", "Instances", "top1_acc", "top5_acc");
	else if (csv)
		hp_out_puts(out, "class,images,instances,box_p,box_r,box_map50,box_map50_95");
	else
		hp_out_printf(out, "%22s%11s%11s%11s%11s%11s%11s", "Class", "Images", "Instances", "Box(P", "R",
		              "mAP50", "mAP50-95)");
	if (r->task == HP_VAL_CLASSIFY)
		return;
	if (r->has_other && csv)
		hp_out_printf(out, ",%s_p,%s_r,%s_map50,%s_map50_95", o, o, o, o);
	else if (r->has_other)
		hp_out_printf(out, "%11s%11s%11s%11s", r->task == HP_VAL_POSE ? "Pose(P" : "Mask(P", "R", "mAP50",
		              "mAP50-95)");
	hp_out_puts(out, "\n");
}

static void print_rows(const struct val *v, const struct hp_val_result *r, struct hp_output *out, bool csv)
{
	print_header(r, out, csv);
	if (r->task == HP_VAL_CLASSIFY) {
		const double x[] = { r->top1, r->has_top5 ? r->top5 : NAN };
		put_row(out, csv, "all", r->images, r->instances, x, 2);
		return;
	}
	const struct hp_val_metric *b = &r->box, *m = &r->other;
	const double all[] = { b->precision, b->recall, b->map50, b->map50_95,
	                       m->precision, m->recall, m->map50, m->map50_95 };
	put_row(out, csv, "all", r->images, r->instances, all, r->has_other ? 8 : 4);
	for (size_t i = 0; i < r->n_classes; i++) {
		const struct hp_val_class *c = &r->classes[i];
		char buf[32];
		const double x[] = { c->precision[0], c->recall[0], c->map50[0], c->map50_95[0],
		                     c->precision[1], c->recall[1], c->map50[1], c->map50_95[1] };
		put_row(out, csv, class_name(v, c->cls, buf, sizeof buf), c->images, c->instances, x,
		        r->has_other ? 8 : 4);
	}
}

/* ---- checks, JUnit, the end of the run ---------------------------------- */

/* Each --expect check: unmet ones named on stderr (and in *unmet, one line
 * each, for JUnit). Returns how many are unmet. */
static size_t check_gates(const struct val *v, const struct hp_val_result *r, char **unmet)
{
	size_t n = 0;
	char *const *names = v->d.n_names ? v->d.names : v->seen_names;
	size_t nn = v->d.n_names ? v->d.n_names : v->n_seen;
	for (size_t i = 0; i < v->n_gates; i++) {
		double got;
		char why[300], num[40], line[700];
		unmet[i] = NULL;
		if (hp_val_gate_check(&v->gates[i], r, names, nn, &got, why, sizeof why))
			continue;
		hp_fmt_double(num, sizeof num, got);
		snprintf(line, sizeof line, "expected %s, %s%s", v->gates[i].text, why[0] ? "but " : "found ",
		         why[0] ? why : num);
		hp_msg_error("val: %s", line);
		unmet[i] = strdup(line);
		n++;
	}
	return n;
}

/* --junit: one testcase per check and per class (a class's numbers in its
 * name), written atomically. 0, or 11 with the message out. */
static int write_junit(const struct val *v, const struct hp_val_result *r, char *const *unmet, size_t n_unmet)
{
	struct hp_output j;
	char err[640];
	if (hp_output_open(&j, v->junit, err, sizeof err) < 0) {
		hp_msg_error("%s", err);
		return HP_EXIT_OUTPUT;
	}
	hp_out_printf(&j, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"hubpredict val\" "
	              "tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n", v->n_gates + r->n_classes, n_unmet);
	for (size_t i = 0; i < v->n_gates; i++)
		hp_junit_write_case(&j, "val.expect", v->gates[i].text, unmet[i]);
	for (size_t i = 0; i < r->n_classes; i++) {
		char buf[32], name[400];
		const struct hp_val_class *c = &r->classes[i];
		if (r->task == HP_VAL_CLASSIFY)
			snprintf(name, sizeof name, "%s: %zu images", class_name(v, c->cls, buf, sizeof buf), c->images);
		else
			snprintf(name, sizeof name, "%s: %zu instances, P %.3g R %.3g mAP50 %.3g mAP50-95 %.3g",
			         class_name(v, c->cls, buf, sizeof buf), c->instances, c->precision[0], c->recall[0],
			         c->map50[0], c->map50_95[0]);
		hp_junit_write_case(&j, "val.class", name, NULL);
	}
	hp_out_puts(&j, "  </testsuite>\n</testsuites>\n");
	if (hp_output_commit(&j, err, sizeof err) < 0) {
		hp_msg_error("%s", err);
		return HP_EXIT_OUTPUT;
	}
	return 0;
}

/* --plots: the curves and the confusion matrix into DIR. 0, or 11 with the
 * message out. */
static int write_plots(const struct val *v, const struct hp_val_result *r)
{
	char err[1024];
	const char **names = calloc(r->cm_n + 1, sizeof *names);
	char (*num)[32] = calloc(r->cm_n + 1, sizeof *num);
	int rc = 0;
	if (!names || !num) {
		snprintf(err, sizeof err, "out of memory");
		rc = -1;
	}
	for (size_t k = 0; !rc && k < r->cm_n; k++)
		names[k] = class_name(v, (long)k, num[k], sizeof num[k]);
	if (!rc)
		rc = hp_val_plots_write(v->plots, r, names, err, sizeof err);
	if (rc)
		hp_msg_error("--plots: %s", err);
	free(names);
	free(num);
	return rc ? HP_EXIT_OUTPUT : 0;
}

/* The failed images: listed, and the batch's status unless --allow-failed
 * covers them. */
static int failed_status(const struct val *v, int status)
{
	for (size_t i = 0; i < v->n_failed; i++) {
		char q[512];
		hp_msg_error("val: failed: %s", hp_msg_quote(q, sizeof q, v->failed[i]));
	}
	if (v->n_failed > 0 && v->n_failed <= (size_t)v->allow_failed && status != HP_EXIT_OUTPUT) {
		hp_msg_note("%zu failed image%s left out of the metrics (--allow-failed %d)", v->n_failed,
		            v->n_failed == 1 ? "" : "s", v->allow_failed);
		return HP_EXIT_OK;
	}
	return status;
}

static int report(struct val *v, struct hp_output *out, int status)
{
	struct hp_val_result r;
	if (!v->st)
		start_task(v, v->d.classify ? HP_VAL_CLASSIFY : HP_VAL_DETECT);
	if (v->err_code) {
		hp_msg_error("%s", v->err);
		return v->err_code;
	}
	if (hp_valstats_compute(v->st, &r) != 0) {
		hp_msg_error("out of memory");
		return HP_EXIT_OUTPUT;
	}
	hp_msg_note("val: the curve was cut at conf %g (predictions below it were not sent back): "
	            "mAP is optimistic; see hubpredict(1), VAL", v->conf);
	if (v->left_out)
		hp_msg_warn("val: %zu image%s left out for bad labels (--skip-bad-labels)", v->left_out,
		            v->left_out == 1 ? "" : "s");
	if (v->format == HP_FORMAT_JSON)
		print_json(v, &r, out);
	else
		print_rows(v, &r, out, v->format == HP_FORMAT_CSV);
	status = failed_status(v, status);
	char **unmet = calloc(v->n_gates + 1, sizeof *unmet);
	size_t n_unmet = unmet ? check_gates(v, &r, unmet) : 0;
	if (n_unmet && status == HP_EXIT_OK)
		status = HP_EXIT_EXPECT;
	int jrc = v->junit && unmet ? write_junit(v, &r, unmet, n_unmet) : 0;
	if (!jrc && v->plots)
		jrc = write_plots(v, &r);
	if (jrc && (status == HP_EXIT_OK || status == HP_EXIT_EXPECT))
		status = jrc;
	for (size_t i = 0; unmet && i < v->n_gates; i++)
		free(unmet[i]);
	free(unmet);
	hp_val_result_clear(&r);
	return status;
}

static int val_finish(void *state, const struct hp_batch_stats *stats, struct hp_output *out, int status)
{
	struct val *v = state;
	if (hp_exit_interrupted(status))
		return status;
	if (stats->skipped > 0)
		hp_msg_warn("val: --resume: %zu image%s answered in the log %s not in the metrics (answers are "
		            "not read back from the log)", stats->skipped, stats->skipped == 1 ? "" : "s",
		            stats->skipped == 1 ? "is" : "are");
	if (v->err_code) {
		hp_msg_error("%s", v->err);
		return v->err_code;
	}
	return report(v, out, status);
}

/* ---- the dataset before anything is sent -------------------------------- */

/* Every label file read once (syntax, classes): a bad one is exit 3 before
 * anything is sent, or with --skip-bad-labels its image is not sent. */
static int choose_images(struct val *v)
{
	char err[1024];
	v->send = calloc(v->d.n_images + 1, sizeof *v->send);
	v->send_ix = calloc(v->d.n_images + 1, sizeof *v->send_ix);
	if (!v->send || !v->send_ix) {
		hp_msg_error("out of memory");
		return HP_EXIT_OUTPUT;
	}
	for (size_t i = 0; i < v->d.n_images; i++) {
		struct hp_val_labels l;
		int rc = v->d.classify ? 0 : hp_val_labels_read(&l, v->d.images[i], v->d.n_names, err, sizeof err);
		if (!v->d.classify)
			hp_val_labels_clear(&l);
		if (rc != 0 && !v->skip_bad_labels) {
			hp_msg_error("%s", err);
			return rc;
		}
		if (rc != 0) {
			char q[512];
			hp_msg_warn("%s; %s left out (--skip-bad-labels)", err, hp_msg_quote(q, sizeof q, v->d.images[i]));
			v->left_out++;
			continue;
		}
		v->send_ix[v->n_send] = i;
		v->send[v->n_send++] = v->d.images[i];
	}
	return 0;
}

static void val_clear(struct val *v)
{
	hp_valstats_free(v->st);
	hp_valdata_clear(&v->d);
	free(v->send);
	free(v->send_ix);
	free(v->pend);
	for (size_t i = 0; i < v->n_failed; i++)
		free(v->failed[i]);
	free(v->failed);
	for (size_t i = 0; i < v->n_seen; i++)
		free(v->seen_names[i]);
	free(v->seen_names);
}

/* conf 0.01 unless one was set on the command line, in the environment or a
 * config file. */
static void default_conf(struct hp_options *o)
{
	struct hp_opt_info info;
	for (size_t i = 0; i < hp_options_count(); i++) {
		hp_options_info(i, &info);
		if (strcmp(info.name, "conf") == 0 && o->origin[i].source == HP_SOURCE_DEFAULT)
			o->predict.conf = 0.01;
	}
}

static int usage_error(const char *msg)
{
	hp_msg_error("%s", msg);
	fputs("try 'hubpredict val --help'\n", stderr);
	return HP_EXIT_USAGE;
}

static int run_val(struct hp_options *o)
{
	struct val v = { .format = o->format, .junit = o->predict.junit, .plots = o->val.plots,
	                 .skip_bad_labels = o->val.skip_bad_labels,
	                 .allow_failed = o->val.allow_failed, .gates = o->val.gates, .n_gates = o->val.n_gates };
	char err[1024];
	if (o->n_inputs != 1)
		return usage_error(o->n_inputs ? "val takes one DATA (a data.yaml or a dataset folder)"
		                               : "no DATA given (a data.yaml, a dataset folder or a classify folder)");
	if (o->format == HP_FORMAT_JSONL || o->format == HP_FORMAT_RAW)
		return usage_error("val writes -f table, json or csv");
	default_conf(o);
	v.conf = o->predict.conf;
	v.data = o->inputs[0];
	v.split = split_names[o->val.split >= 0 && o->val.split < 3 ? o->val.split : 0];
	int status = hp_valdata_open(&v.d, v.data, v.split, err, sizeof err);
	if (status != 0)
		hp_msg_error("%s", err);
	else if ((status = choose_images(&v)) == 0 && v.n_send == 0) {
		hp_msg_error("val: no image left to send");
		status = HP_EXIT_INPUT;
	}
	if (status == 0 && v.plots && (status = hp_val_plots_check(v.plots, v.send, v.n_send, err, sizeof err)) != 0)
		hp_msg_error("%s", err);
	if (status == 0)
		status = run_engine(&v, o);     /* takes o over */
	val_clear(&v);
	return status;
}

int hp_cmd_val(int argc, char **argv)
{
	struct hp_options o = HP_OPTIONS_INIT;
	char err[640];
	int status = hp_cmd_parse(&o, HP_CMD_VAL, "val", usage, argc, argv, err, sizeof err);
	if (status < 0)
		status = run_val(&o);
	hp_options_free(&o);
	return status;
}
