/* decode.c - the response document (hubpredict(1), OUTPUT FORMATS, "json") into struct hp_response.
 *
 * Strict about the documented members (types, required coordinates), silent
 * about everything else: unknown members are ignored wherever they appear.
 */
#include "hubpredict/response.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ctx {
	char *err;
	size_t errlen;
	char path[96]; /* "images[0].results[1]" */
	bool oom;      /* an allocation failed: out of memory, not a bad answer */
};

/* cJSON's allocations go through this, so a parse that failed because memory
 * ran out is told from one that met bad JSON. */
static bool json_oom;

static void *json_malloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		json_oom = true;
	return p;
}

static void json_hooks(void)
{
	static bool installed;
	if (installed)
		return;
	cJSON_Hooks h = { .malloc_fn = json_malloc, .free_fn = free };
	cJSON_InitHooks(&h);
	installed = true;
}

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (c->path[0])
		snprintf(c->err, c->errlen, "%s %s", c->path, what);
	else
		snprintf(c->err, c->errlen, "%s", what);
	return -1;
}

static int nomem(struct ctx *c)
{
	c->oom = true;
	return -1;
}

const char *hp_task_name(enum hp_task t)
{
	switch (t) {
	case HP_TASK_CLASSIFY: return "classify";
	case HP_TASK_DETECT: return "detect";
	case HP_TASK_OBB: return "obb";
	case HP_TASK_SEGMENT: return "segment";
	case HP_TASK_POSE: return "pose";
	case HP_TASK_SEMANTIC: return "semantic";
	case HP_TASK_DEPTH: return "depth";
	default: return "unknown";
	}
}

static enum hp_task task_from_name(const char *s)
{
	for (int t = HP_TASK_CLASSIFY; t <= HP_TASK_DEPTH; t++)
		if (strcmp(s, hp_task_name((enum hp_task)t)) == 0)
			return (enum hp_task)t;
	return HP_TASK_UNKNOWN;
}

/* A number member: 1 found, 0 absent, -1 wrong type (err set). */
static int get_number(struct ctx *c, const cJSON *obj, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v))
		return fail(c, "has a %s that is not a number", key);
	/* 1e999 parses as infinity: it would reach CSV and label files as "inf" */
	if (!isfinite(v->valuedouble))
		return fail(c, "has a %s that is not a finite number", key);
	*out = v->valuedouble;
	return 1;
}

static int get_integer(struct ctx *c, const cJSON *obj, const char *key, long *out)
{
	double d = 0;
	int r = get_number(c, obj, key, &d);
	if (r <= 0)
		return r;
	if (!(d >= -9.2e18 && d <= 9.2e18) || d != floor(d))
		return fail(c, "has a %s that is not a whole number", key);
	*out = (long)d;
	return 1;
}

static int get_numbers(struct ctx *c, const cJSON *arr, const char *what, double **out, size_t *n)
{
	if (!cJSON_IsArray(arr))
		return fail(c, "has a %s that is not an array", what);
	size_t len = (size_t)cJSON_GetArraySize(arr);
	double *v = len ? calloc(len, sizeof *v) : NULL;
	if (len && !v)
		return nomem(c);
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsNumber(e)) {
			free(v);
			return fail(c, "has a %s with an element that is not a number", what);
		}
		if (!isfinite(e->valuedouble)) {
			free(v);
			return fail(c, "has a %s with an element that is not a finite number", what);
		}
		v[i++] = e->valuedouble;
	}
	*out = v;
	*n = len;
	return 0;
}

/* segments {x: [...], y: [...]} or keypoints {x, y, visible?} */
static int get_points(struct ctx *c, const cJSON *obj, const char *key, bool with_visible,
                      struct hp_points *p)
{
	char what[48];
	size_t nx = 0, ny = 0, nv = 0;
	if (!cJSON_IsObject(obj))
		return fail(c, "has a %s that is not an object", key);
	snprintf(what, sizeof what, "%s.x", key);
	if (get_numbers(c, cJSON_GetObjectItemCaseSensitive(obj, "x"), what, &p->x, &nx) < 0)
		return -1;
	snprintf(what, sizeof what, "%s.y", key);
	if (get_numbers(c, cJSON_GetObjectItemCaseSensitive(obj, "y"), what, &p->y, &ny) < 0)
		return -1;
	if (nx != ny)
		return fail(c, "has %s.x and %s.y of different lengths", key, key);
	p->n = nx;
	const cJSON *vis = with_visible ? cJSON_GetObjectItemCaseSensitive(obj, "visible") : NULL;
	if (vis && !cJSON_IsNull(vis)) {
		snprintf(what, sizeof what, "%s.visible", key);
		if (get_numbers(c, vis, what, &p->visible, &nv) < 0)
			return -1;
		if (nv != nx)
			return fail(c, "has %s.visible of another length than %s.x", key, key);
	}
	return 0;
}

/* keypoints as older docs showed them: a list of {x, y, conf?} objects (conf
 * on every point or on none), into the same struct as {x: [], y: [], visible: []}. */
static int get_point_list(struct ctx *c, const cJSON *arr, struct hp_points *p)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0, with_conf = 0;
	if (n == 0)
		return 0;
	p->x = calloc(n, sizeof *p->x);
	p->y = calloc(n, sizeof *p->y);
	p->visible = calloc(n, sizeof *p->visible);
	if (!p->x || !p->y || !p->visible)
		return nomem(c);
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsObject(e))
			return fail(c, "has a keypoint that is not an object");
		int hx = get_number(c, e, "x", &p->x[i]);
		int hy = get_number(c, e, "y", &p->y[i]);
		int hc = get_number(c, e, "conf", &p->visible[i]);
		if (hc == 0)
			hc = get_number(c, e, "visible", &p->visible[i]);
		if (hx < 0 || hy < 0 || hc < 0)
			return -1;
		if (!hx || !hy)
			return fail(c, "has a keypoint without %s", hx ? "y" : "x");
		with_conf += hc > 0;
		i++;
	}
	if (with_conf != 0 && with_conf != n)
		return fail(c, "has keypoints with and without conf");
	if (with_conf == 0) {
		free(p->visible);
		p->visible = NULL;
	}
	p->n = n;
	return 0;
}

static int decode_box(struct ctx *c, const cJSON *box, struct hp_result *r)
{
	static const char *const keys[8] = { "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4" };
	int have[8];
	int corners = 0;
	if (!cJSON_IsObject(box))
		return fail(c, "has a box that is not an object");
	for (int i = 0; i < 8; i++) {
		have[i] = get_number(c, box, keys[i], &r->box[i]);
		if (have[i] < 0)
			return -1;
		if (i < 4 && !have[i])
			return fail(c, "has a box without %s", keys[i]);
		if (i >= 4)
			corners += have[i];
	}
	/* x3..y4 all present (an oriented box) or none of them (an axis-aligned box) */
	for (int i = 4; corners > 0 && i < 8; i++)
		if (!have[i])
			return fail(c, "has an oriented box without %s", keys[i]);
	r->n_box = corners ? 8 : 4;
	return 0;
}

/* class and name: at least one of them; the name copied. */
static int decode_identity(struct ctx *c, const cJSON *o, struct hp_result *r)
{
	if (get_integer(c, o, "class", &r->cls) < 0)
		return -1;
	if (r->cls < 0)
		return fail(c, "has a class of %ld (classes are whole numbers from 0)", r->cls);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	if (name && !cJSON_IsString(name))
		return fail(c, "has a name that is not a string");
	if (!cJSON_GetObjectItemCaseSensitive(o, "class") && !name)
		return fail(c, "has neither class nor name");
	const char *nm = name ? name->valuestring : "";
	r->name_len = strlen(nm);
	r->name = malloc(r->name_len + 1);
	if (!r->name)
		return nomem(c);
	memcpy(r->name, nm, r->name_len + 1);
	return 0;
}

/* box (or an older doc's obb), segments and keypoints; *box is the box
 * member that was used, NULL when none. */
static int decode_shapes(struct ctx *c, const cJSON *o, struct hp_result *r, const cJSON **box)
{
	const cJSON *seg = cJSON_GetObjectItemCaseSensitive(o, "segments");
	const cJSON *kpt = cJSON_GetObjectItemCaseSensitive(o, "keypoints");
	/* older docs: OBB corners in an `obb` object beside an axis-aligned box */
	const cJSON *obb = cJSON_GetObjectItemCaseSensitive(o, "obb");
	*box = cJSON_GetObjectItemCaseSensitive(o, "box");
	if (*box && decode_box(c, *box, r) < 0)
		return -1;
	if (obb && !cJSON_IsNull(obb)) {
		if (decode_box(c, obb, r) < 0)
			return -1;
		if (r->n_box != 8)
			return fail(c, "has an obb without x3, y3, x4 and y4");
		*box = obb;
	}
	if (seg && get_points(c, seg, "segments", false, &r->segment) < 0)
		return -1;
	if (cJSON_IsArray(kpt) ? get_point_list(c, kpt, &r->keypoints) < 0
	                       : (kpt && get_points(c, kpt, "keypoints", true, &r->keypoints) < 0))
		return -1;
	return 0;
}

/* The task one result's members say. */
static enum hp_task result_task(const cJSON *o, const struct hp_result *r, bool has_ratio, bool has_box)
{
	if (has_ratio && !has_box)
		return HP_TASK_SEMANTIC;
	if (cJSON_GetObjectItemCaseSensitive(o, "keypoints"))
		return HP_TASK_POSE;
	if (cJSON_GetObjectItemCaseSensitive(o, "segments"))
		return HP_TASK_SEGMENT;
	if (r->n_box == 8)
		return HP_TASK_OBB;
	return has_box ? HP_TASK_DETECT : HP_TASK_CLASSIFY;
}

static bool detect_family(enum hp_task t)
{
	return t == HP_TASK_DETECT || t == HP_TASK_SEGMENT || t == HP_TASK_POSE;
}

/* The response's task is the most specific one seen; every result must fit it. */
static int merge_task(struct ctx *c, enum hp_task *task, enum hp_task t)
{
	if (*task == HP_TASK_UNKNOWN) {
		*task = t;
	} else if (*task != t) {
		if (!(detect_family(*task) && detect_family(t)))
			return fail(c, "is a %s result among %s results", hp_task_name(t), hp_task_name(*task));
		if (*task == HP_TASK_DETECT)
			*task = t; /* a polygon or keypoints may be missing on some results */
		else if (t != HP_TASK_DETECT)
			return fail(c, "is a %s result among %s results", hp_task_name(t), hp_task_name(*task));
	}
	return 0;
}

static int decode_result(struct ctx *c, const cJSON *o, struct hp_result *r, enum hp_task *task)
{
	if (!cJSON_IsObject(o))
		return fail(c, "is not an object");
	if (decode_identity(c, o, r) < 0)
		return -1;
	int has_conf = get_number(c, o, "confidence", &r->confidence);
	int has_ratio = get_number(c, o, "pixel_ratio", &r->pixel_ratio);
	if (has_conf < 0 || has_ratio < 0)
		return -1;
	if (has_conf && !(r->confidence >= 0.0 && r->confidence <= 1.0))
		return fail(c, "has a confidence of %g (not from 0 to 1)", r->confidence);
	r->has_confidence = has_conf > 0;
	if (get_integer(c, o, "track_id", &r->track_id) < 0)
		return -1;
	r->has_track_id = cJSON_GetObjectItemCaseSensitive(o, "track_id") != NULL;
	const cJSON *box;
	if (decode_shapes(c, o, r, &box) < 0)
		return -1;
	enum hp_task t = result_task(o, r, has_ratio > 0, box != NULL);
	if (t != HP_TASK_SEMANTIC && !has_conf)
		return fail(c, "has no confidence");
	if ((t == HP_TASK_SEGMENT || t == HP_TASK_POSE) && !box)
		return fail(c, "has no box");
	return merge_task(c, task, t);
}

static int decode_depth(struct ctx *c, const cJSON *d, struct hp_depth *dp)
{
	if (!cJSON_IsObject(d))
		return fail(c, "has a depth that is not an object");
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(d, "shape");
	if (shape) {
		const cJSON *h = cJSON_GetArrayItem(shape, 0), *w = cJSON_GetArrayItem(shape, 1);
		if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2 || !cJSON_IsNumber(h) ||
		    !cJSON_IsNumber(w) || !(h->valuedouble >= 0 && h->valuedouble <= 1e9) ||
		    !(w->valuedouble >= 0 && w->valuedouble <= 1e9))
			return fail(c, "has a depth.shape that is not [height, width]");
		dp->height = (long)cJSON_GetArrayItem(shape, 0)->valuedouble;
		dp->width = (long)cJSON_GetArrayItem(shape, 1)->valuedouble;
	}
	if (get_number(c, d, "min", &dp->min) < 0 || get_number(c, d, "max", &dp->max) < 0 ||
	    get_integer(c, d, "bits", &dp->bits) < 0)
		return -1;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(d, "data");
	if (data && !cJSON_IsString(data))
		return fail(c, "has a depth.data that is not a string");
	dp->present = true;
	return 0;
}

static int decode_image(struct ctx *c, const cJSON *o, struct hp_image *im, enum hp_task *task)
{
	if (!cJSON_IsObject(o))
		return fail(c, "is not an object");
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(o, "results");
	if (!results)
		return fail(c, "has no results");
	if (!cJSON_IsArray(results))
		return fail(c, "has results that are not an array");
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(o, "shape");
	if (shape) {
		const cJSON *h = cJSON_GetArrayItem(shape, 0), *w = cJSON_GetArrayItem(shape, 1);
		if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) < 2 || !cJSON_IsNumber(h) ||
		    !cJSON_IsNumber(w) || h->valuedouble < 0 || w->valuedouble < 0 ||
		    h->valuedouble > 1e9 || w->valuedouble > 1e9)
			return fail(c, "has a shape that is not [height, width]");
		im->has_shape = true;
		im->height = (long)h->valuedouble;
		im->width = (long)w->valuedouble;
	}
	const cJSON *speed = cJSON_GetObjectItemCaseSensitive(o, "speed");
	if (speed && !cJSON_IsNull(speed)) {
		if (!cJSON_IsObject(speed))
			return fail(c, "has a speed that is not an object");
		if (get_number(c, speed, "preprocess", &im->preprocess_ms) < 0 ||
		    get_number(c, speed, "inference", &im->inference_ms) < 0 ||
		    get_number(c, speed, "postprocess", &im->postprocess_ms) < 0)
			return -1;
		im->has_speed = cJSON_GetObjectItemCaseSensitive(speed, "inference") != NULL;
	}
	const cJSON *depth = cJSON_GetObjectItemCaseSensitive(o, "depth");
	if (depth && !cJSON_IsNull(depth)) {
		if (decode_depth(c, depth, &im->depth) < 0)
			return -1;
	}

	size_t n = (size_t)cJSON_GetArraySize(results);
	if (n) {
		im->results = calloc(n, sizeof *im->results);
		if (!im->results)
			return nomem(c);
	}
	size_t plen = strlen(c->path);
	const cJSON *r;
	cJSON_ArrayForEach(r, results) {
		snprintf(c->path + plen, sizeof c->path - plen, ".results[%zu]", im->n_results);
		struct hp_result *res = &im->results[im->n_results++];
		if (decode_result(c, r, res, task) < 0)
			return -1;
	}
	c->path[plen] = '\0';
	return 0;
}

/* The task from the members present, else depth maps, else metadata.task. */
static enum hp_task final_task(const cJSON *doc, enum hp_task task, bool any_depth)
{
	if (any_depth && task == HP_TASK_UNKNOWN)
		task = HP_TASK_DEPTH;
	if (task == HP_TASK_UNKNOWN) {
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
		const cJSON *mt = cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "task") : NULL;
		if (cJSON_IsString(mt))
			task = task_from_name(mt->valuestring);
	}
	return task;
}

int hp_response_decode(struct hp_response **out, const char *body, size_t len, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen };
	struct hp_response *resp = NULL;
	const char *end = NULL;
	int rc = -1;
	*out = NULL;
	err[0] = '\0';

	json_hooks();
	json_oom = false;
	size_t bad_at = 0;
	if (!hp_json_check(body, len, &bad_at)) {
		snprintf(err, errlen, "not JSON (at byte %zu of %zu)", bad_at, len);
		return -1;
	}
	cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, false);
	if (!doc) {
		size_t at = end && end >= body ? (size_t)(end - body) : 0;
		snprintf(err, errlen, "not JSON (at byte %zu of %zu)", at, len);
		goto done;
	}
	for (const char *p = end; p && p < body + len; p++) {
		if (!isspace((unsigned char)*p)) {
			snprintf(err, errlen, "not JSON (unexpected data after the document at byte %zu)",
			         (size_t)(p - body));
			goto done;
		}
	}
	if (!cJSON_IsObject(doc)) {
		fail(&c, "not a JSON object");
		goto done;
	}
	const cJSON *images = cJSON_GetObjectItemCaseSensitive(doc, "images");
	if (!images) {
		fail(&c, "no images member");
		goto done;
	}
	if (!cJSON_IsArray(images)) {
		fail(&c, "images is not an array");
		goto done;
	}
	resp = calloc(1, sizeof *resp);
	size_t n = (size_t)cJSON_GetArraySize(images);
	if (!resp || (n && !(resp->images = calloc(n, sizeof *resp->images)))) {
		nomem(&c);
		goto done;
	}
	enum hp_task task = HP_TASK_UNKNOWN;
	bool any_depth = false;
	const cJSON *im;
	cJSON_ArrayForEach(im, images) {
		snprintf(c.path, sizeof c.path, "images[%zu]", resp->n_images);
		struct hp_image *img = &resp->images[resp->n_images++];
		if (decode_image(&c, im, img, &task) < 0)
			goto done;
		any_depth |= img->depth.present;
	}
	c.path[0] = '\0';
	resp->task = final_task(doc, task, any_depth);
	*out = resp;
	resp = NULL;
	rc = 0;
done:
	cJSON_Delete(doc);
	hp_response_free(resp);
	if (rc < 0 && (c.oom || json_oom)) {
		snprintf(err, errlen, "out of memory");
		rc = -2;
	}
	return rc;
}

static void points_free(struct hp_points *p)
{
	free(p->x);
	free(p->y);
	free(p->visible);
}

void hp_result_clear(struct hp_result *res)
{
	free(res->name);
	points_free(&res->segment);
	points_free(&res->keypoints);
	memset(res, 0, sizeof *res);
}

void hp_response_free(struct hp_response *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_images; i++) {
		struct hp_image *im = &r->images[i];
		for (size_t j = 0; j < im->n_results; j++)
			hp_result_clear(&im->results[j]);
		free(im->results);
	}
	free(r->images);
	free(r);
}

/* Light decoding: a result keeps the counts of its points, not the points. */
static void lighten(struct hp_points *p)
{
	if (p->counted)
		return;
	p->n_visible = hp_visible_keypoints(p);
	free(p->x);
	free(p->y);
	free(p->visible);
	p->x = p->y = p->visible = NULL;
	p->counted = true;
}

/* The bytes [start, end) but [cut_start, cut_end), parsed (the body was
 * checked: NULL means out of memory, or a parse cJSON refused). */
static cJSON *parse_cut(const char *body, size_t start, size_t end, size_t cut_start, size_t cut_end)
{
	if (!cut_end)
		return cJSON_ParseWithLength(body + start, end - start);
	size_t a = cut_start - start, b = end - cut_end;
	char *t = malloc(a + b + 1);
	if (!t) {
		json_oom = true;
		return NULL;
	}
	memcpy(t, body + start, a);
	memcpy(t + a, body + cut_end, b);
	cJSON *doc = cJSON_ParseWithLength(t, a + b);
	free(t);
	return doc;
}

/* Results side by side, [start, end), as one array. */
static cJSON *parse_list(const char *body, size_t start, size_t end)
{
	char *t = malloc(end - start + 2);
	if (!t) {
		json_oom = true;
		return NULL;
	}
	t[0] = '[';
	memcpy(t + 1, body + start, end - start);
	t[end - start + 1] = ']';
	cJSON *doc = cJSON_ParseWithLength(t, end - start + 2);
	free(t);
	return doc;
}

/* One part into resp: an entry, or one result of an entry decoded before it. */
static int decode_part(struct ctx *c, const cJSON *doc, const struct hp_json_part *p, struct hp_response *resp,
                       enum hp_task *task, bool light)
{
	struct hp_image *img = &resp->images[p->image];
	if (p->is_result) {
		const cJSON *r;
		size_t k = 0;
		if (!img->results || img->n_results != p->result || cJSON_GetArraySize(doc) != (int)p->n_results)
			return fail(c, "is not where it was found");
		cJSON_ArrayForEach(r, doc) {
			snprintf(c->path, sizeof c->path, "images[%zu].results[%zu]", p->image, p->result + k++);
			struct hp_result *res = &img->results[img->n_results++];
			if (decode_result(c, r, res, task) < 0)
				return -1;
			if (light) {
				lighten(&res->segment);
				lighten(&res->keypoints);
			}
		}
		return 0;
	}
	snprintf(c->path, sizeof c->path, "images[%zu]", p->image);
	resp->n_images = p->image + 1;
	if (decode_image(c, doc, img, task) < 0)
		return -1;
	if (p->cut_end && p->n_results && !(img->results = calloc(p->n_results, sizeof *img->results)))
		return nomem(c);
	for (size_t j = 0; light && j < img->n_results; j++) {
		lighten(&img->results[j].segment);
		lighten(&img->results[j].keypoints);
	}
	return 0;
}

int hp_response_decode_parts(struct hp_response **out, const char *body, size_t len,
                             const struct hp_json_parts *parts, bool light, char *err, size_t errlen,
                             void (*release)(void *arg, size_t upto), void *arg)
{
	if (!parts->images_at)
		return hp_response_decode(out, body, len, err, errlen); /* a message about images */
	struct ctx c = { .err = err, .errlen = errlen };
	struct hp_response *resp = NULL;
	enum hp_task task = HP_TASK_UNKNOWN;
	bool any_depth = false;
	int rc = -1;
	*out = NULL;
	err[0] = '\0';
	json_hooks();
	json_oom = false;
	/* the document with its images left out: the members beside them */
	cJSON *skel = parse_cut(body, 0, len, parts->images_at, parts->images_end), *doc = NULL;
	resp = calloc(1, sizeof *resp);
	if (!skel || !resp || (parts->n_images && !(resp->images = calloc(parts->n_images, sizeof *resp->images)))) {
		nomem(&c);
		goto done;
	}
	for (size_t i = 0; i < parts->n; i++) {
		const struct hp_json_part *p = &parts->v[i];
		doc = p->is_result ? parse_list(body, p->start, p->end) : parse_cut(body, p->start, p->end, p->cut_start, p->cut_end);
		if (!doc) {
			nomem(&c);
			goto done;
		}
		if (decode_part(&c, doc, p, resp, &task, light) < 0)
			goto done;
		any_depth |= resp->images[p->image].depth.present;
		cJSON_Delete(doc);
		doc = NULL;
		if (release)
			release(arg, p->cut_end ? p->cut_start : p->end); /* an entry's results come next */
	}
	c.path[0] = '\0';
	resp->n_images = parts->n_images;
	resp->task = final_task(skel, task, any_depth);
	*out = resp;
	resp = NULL;
	rc = 0;
done:
	cJSON_Delete(doc);
	cJSON_Delete(skel);
	hp_response_free(resp);
	if (rc < 0 && (c.oom || json_oom)) {
		snprintf(err, errlen, "out of memory");
		rc = -2;
	}
	return rc;
}

void hp_image_clear(struct hp_image *im)
{
	for (size_t j = 0; j < im->n_results; j++)
		hp_result_clear(&im->results[j]);
	free(im->results);
	memset(im, 0, sizeof *im);
}

int hp_response_decode_part(struct hp_image *im, const char *body, const struct hp_json_part *p, char *err,
                            size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen };
	enum hp_task task = HP_TASK_UNKNOWN;
	int rc = -1;
	memset(im, 0, sizeof *im);
	err[0] = '\0';
	json_hooks();
	json_oom = false;
	cJSON *doc = p->is_result ? parse_list(body, p->start, p->end)
	                          : parse_cut(body, p->start, p->end, p->cut_start, p->cut_end);
	if (!doc) {
		nomem(&c);
		goto done;
	}
	if (p->is_result) {
		size_t n = (size_t)cJSON_GetArraySize(doc);
		const cJSON *r;
		if (n && !(im->results = calloc(n, sizeof *im->results))) {
			nomem(&c);
			goto done;
		}
		cJSON_ArrayForEach(r, doc) {
			snprintf(c.path, sizeof c.path, "images[%zu].results[%zu]", p->image, p->result + im->n_results);
			if (decode_result(&c, r, &im->results[im->n_results++], &task) < 0)
				goto done;
		}
	} else {
		snprintf(c.path, sizeof c.path, "images[%zu]", p->image);
		if (decode_image(&c, doc, im, &task) < 0)
			goto done;
	}
	rc = 0;
done:
	cJSON_Delete(doc);
	if (rc < 0) {
		hp_image_clear(im);
		if (c.oom || json_oom) {
			snprintf(err, errlen, "out of memory");
			rc = -2;
		}
	}
	return rc;
}

size_t hp_response_bytes(const struct hp_response *r)
{
	if (!r)
		return 0;
	size_t n = sizeof *r + r->n_images * sizeof *r->images;
	for (size_t i = 0; i < r->n_images; i++) {
		const struct hp_image *im = &r->images[i];
		n += im->n_results * sizeof *im->results;
		for (size_t j = 0; j < im->n_results; j++) {
			const struct hp_result *res = &im->results[j];
			n += res->name_len + 1;
			n += (res->segment.counted ? 0 : res->segment.n) * 3 * sizeof(double);
			n += (res->keypoints.counted ? 0 : res->keypoints.n) * 3 * sizeof(double);
		}
	}
	return n;
}

int hp_response_check_upload(const struct hp_response *r, bool video, char *err, size_t errlen)
{
	if (!video && r->n_images == 0) {
		snprintf(err, errlen, "images is empty: no entry for the image sent");
		return -1;
	}
	return 0;
}

size_t hp_response_count(const struct hp_response *r)
{
	size_t n = 0;
	for (size_t i = 0; r && i < r->n_images; i++)
		n += r->images[i].n_results;
	return n;
}

size_t hp_visible_keypoints(const struct hp_points *k)
{
	if (k->counted)
		return k->n_visible;
	if (!k->visible)
		return k->n;
	size_t n = 0;
	for (size_t i = 0; i < k->n; i++)
		n += k->visible[i] >= 0.5;
	return n;
}

/* ---- error bodies ------------------------------------------------------ */

static const char *string_member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return (cJSON_IsString(v) && v->valuestring[0]) ? v->valuestring : NULL;
}

/* Fold white space, drop control characters and (for HTML) tags, cut at max. */
static void excerpt(char *dst, size_t dstlen, const char *s, size_t n, bool html)
{
	size_t o = 0;
	bool space = false, in_tag = false;
	size_t max = dstlen > 124 ? 120 : dstlen > 4 ? dstlen - 4 : 0;
	for (size_t i = 0; i < n && o < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (html && ch == '<') {
			in_tag = true;
			space = o > 0;
			continue;
		}
		if (in_tag) {
			if (ch == '>')
				in_tag = false;
			continue;
		}
		if (ch < 0x20 || ch == 0x7F || ch == ' ') {
			space = o > 0;
			continue;
		}
		if (space) {
			dst[o++] = ' ';
			space = false;
			if (o >= max)
				break;
		}
		dst[o++] = (char)ch;
	}
	/* do not end in the middle of a UTF-8 sequence */
	while (o > 0 && ((unsigned char)dst[o - 1] & 0xC0) == 0x80)
		o--;
	if (o > 0 && ((unsigned char)dst[o - 1] & 0xC0) == 0xC0)
		o--;
	dst[o] = '\0';
	if (o >= max && o + 3 < dstlen)
		strcat(dst, "...");
}

void hp_error_message(char *dst, size_t dstlen, const char *body, size_t len)
{
	if (dstlen == 0)
		return;
	dst[0] = '\0';
	if (!body || len == 0)
		return;
	cJSON *doc = cJSON_ParseWithLength(body, len);
	const char *msg = NULL;
	if (cJSON_IsObject(doc)) {
		const cJSON *details = cJSON_GetObjectItemCaseSensitive(doc, "details");
		const cJSON *error = cJSON_GetObjectItemCaseSensitive(doc, "error");
		const cJSON *detail = cJSON_GetObjectItemCaseSensitive(doc, "detail");
		msg = string_member(doc, "message");
		if (!msg)
			msg = string_member(doc, "error");
		if (!msg)
			msg = string_member(doc, "detail");
		if (!msg && cJSON_IsObject(details))
			msg = string_member(details, "message");
		if (!msg && cJSON_IsObject(error))
			msg = string_member(error, "message");
		if (!msg && cJSON_IsArray(detail) && cJSON_IsObject(cJSON_GetArrayItem(detail, 0)))
			msg = string_member(cJSON_GetArrayItem(detail, 0), "msg");
	}
	if (msg) {
		excerpt(dst, dstlen, msg, strlen(msg), false);
	} else {
		/* An HTML page: its <title> says it best. */
		const char *t = NULL;
		for (size_t i = 0; i + 7 <= len && !t; i++)
			if (strncasecmp(body + i, "<title>", 7) == 0)
				t = body + i + 7;
		bool html = t != NULL || (len > 0 && body[0] == '<');
		if (t) {
			const char *e = t;
			while (e < body + len && *e != '<')
				e++;
			excerpt(dst, dstlen, t, (size_t)(e - t), false);
		}
		if (!dst[0])
			excerpt(dst, dstlen, body, len, html);
	}
	cJSON_Delete(doc);
}
