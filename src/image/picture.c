/* picture.c - --resize: downsize before upload, map the answer back. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/picture.h"
#include "hubpredict/image.h"
#include "hubpredict/output.h"
#include "hubpredict/response.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SOURCE ((size_t)1 << 30) /* larger files are sent as they are */

bool hp_picture_target(int w, int h, int imgsz, int *tw, int *th)
{
	int lng = w > h ? w : h;
	if (imgsz <= 0 || lng <= imgsz)
		return false;
	double s = (double)imgsz / lng;
	*tw = w >= h ? imgsz : (int)lround(w * s);
	*th = h > w ? imgsz : (int)lround(h * s);
	if (*tw < 1)
		*tw = 1;
	if (*th < 1)
		*th = 1;
	return true;
}

int hp_picture_plan(int fd, int imgsz, struct hp_resized *rz, char *err, size_t errlen)
{
	unsigned char *d = NULL;
	size_t n = 0;
	*rz = (struct hp_resized){ 0 };
	if (hp_image_read_fd(fd, MAX_SOURCE, &d, &n) < 0) {
		snprintf(err, errlen, "cannot read it: %s", strerror(errno));
		return -1;
	}
	int w, h, rc = -1;
	struct hp_pixmap full = { 0 };
	enum hp_image_kind kind;
	if (hp_image_probe(d, n, NULL, &w, &h, NULL, err, errlen) == 0) {
		rz->from_w = rz->to_w = w;
		rz->from_h = rz->to_h = h;
		rc = hp_picture_target(w, h, imgsz, &rz->to_w, &rz->to_h) ? 1 : 0;
	}
	/* decoded as the run decodes it: a header that promises a picture the
	 * rest of the file does not hold (a truncated JPEG, a short PNG) is sent
	 * as it is by the run, so the plan says that too */
	if (rc == 1 && hp_image_decode(d, n, rz->to_w > rz->to_h ? rz->to_w : rz->to_h, &full, &kind, err, errlen) < 0)
		rc = -1;
	hp_pixmap_free(&full);
	free(d);
	return rc;
}

int hp_picture_resize_upload(int fd, int imgsz, struct hp_resized *rz, struct hp_picture_copy *copy, char *err,
                             size_t errlen)
{
	unsigned char *d = NULL, *enc = NULL;
	size_t n = 0, enc_n = 0;
	struct hp_pixmap full = { 0 }, small = { 0 };
	int rc = -1, tmp = -1;
	enum hp_image_kind kind;
	int w, h;
	*rz = (struct hp_resized){ 0 };
	if (hp_image_read_fd(fd, MAX_SOURCE, &d, &n) < 0) {
		if (errno == EFBIG) { /* no picture is that large: send it as it is */
			snprintf(err, errlen, "larger than %zu MiB, not read as a picture", MAX_SOURCE >> 20);
			return -1;
		}
		snprintf(err, errlen, "cannot read it: %s", strerror(errno));
		return -2;
	}
	if (hp_image_probe(d, n, &kind, &w, &h, NULL, err, errlen) < 0)
		goto done;
	rz->from_w = rz->to_w = w;
	rz->from_h = rz->to_h = h;
	if (!hp_picture_target(w, h, imgsz, &rz->to_w, &rz->to_h)) {
		rc = 0;
		goto done;
	}
	int target_long = rz->to_w > rz->to_h ? rz->to_w : rz->to_h;
	if (hp_image_decode(d, n, target_long, &full, &kind, err, errlen) < 0)
		goto done;
	free(d);
	d = NULL;
	rc = -2;
	if (hp_pixmap_resize(&full, rz->to_w, rz->to_h, &small) < 0) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	hp_pixmap_free(&full);
	enum hp_image_kind out_kind = kind == HP_IMAGE_JPEG ? HP_IMAGE_JPEG : HP_IMAGE_PNG;
	if (hp_image_encode(&small, out_kind, &enc, &enc_n, err, errlen) < 0)
		goto done;
	if ((tmp = hp_temp_fd("hubpredict-resized")) < 0) {
		snprintf(err, errlen, "cannot make a temporary file: %s", strerror(errno));
		goto done;
	}
	for (size_t off = 0; off < enc_n;) {
		ssize_t wr = write(tmp, enc + off, enc_n - off);
		if (wr < 0 && errno == EINTR)
			continue;
		if (wr < 0) {
			snprintf(err, errlen, "cannot write a temporary file: %s", strerror(errno));
			goto done;
		}
		off += (size_t)wr;
	}
	*copy = (struct hp_picture_copy){
		.fd = tmp,
		.size = (long long)enc_n,
		.mime_type = out_kind == HP_IMAGE_JPEG ? "image/jpeg" : "image/png",
		.as_png = out_kind == HP_IMAGE_PNG && kind != HP_IMAGE_PNG,
	};
	tmp = -1;
	rc = 1;
done:
	if (tmp >= 0)
		close(tmp);
	free(d);
	free(enc);
	hp_pixmap_free(&full);
	hp_pixmap_free(&small);
	return rc;
}

/* ---- mapping back ---------------------------------------------------------- */

struct factors {
	double sx, sy;
};

static struct factors factors_for(long shape_w, long shape_h, const struct hp_resized *rz)
{
	/* the answer's shape is what the server saw; fall back on what was sent */
	double sw = shape_w > 0 ? (double)shape_w : rz->to_w, sh = shape_h > 0 ? (double)shape_h : rz->to_h;
	return (struct factors){ rz->from_w / sw, rz->from_h / sh };
}

static void scale_points(struct hp_points *p, const struct factors *f)
{
	if (p->counted)
		return; /* a big answer's light response: only the counts */
	for (size_t i = 0; i < p->n; i++) {
		p->x[i] *= f->sx;
		p->y[i] *= f->sy;
	}
}

void hp_picture_map_response(struct hp_response *r, const struct hp_resized *rz, bool normalized)
{
	for (size_t i = 0; r && i < r->n_images; i++) {
		struct hp_image *im = &r->images[i];
		struct factors f = factors_for(im->has_shape ? im->width : 0, im->has_shape ? im->height : 0, rz);
		im->has_shape = true;
		im->width = rz->from_w;
		im->height = rz->from_h;
		if (normalized)
			continue;
		for (size_t k = 0; k < im->n_results; k++) {
			struct hp_result *res = &im->results[k];
			for (int b = 0; b < res->n_box; b++)
				res->box[b] *= b % 2 ? f.sy : f.sx;
			scale_points(&res->segment, &f);
			scale_points(&res->keypoints, &f);
		}
	}
}

static void set_number(cJSON *n, double v)
{
	v = round(v * 1e4) / 1e4; /* a tenth of a millipixel: enough, and short */
	cJSON_SetNumberValue(n, v);
}

/* Every member of obj whose name starts with x (or y), scaled. */
static void map_xy_members(cJSON *obj, const struct factors *f)
{
	cJSON *m;
	cJSON_ArrayForEach(m, obj)
	{
		if (!m->string || !cJSON_IsNumber(m))
			continue;
		if (m->string[0] == 'x')
			set_number(m, m->valuedouble * f->sx);
		else if (m->string[0] == 'y')
			set_number(m, m->valuedouble * f->sy);
	}
}

/* {x: [...], y: [...]}, or a list of {x, y, ...} objects (older docs). */
static void map_point_set(cJSON *ps, const struct factors *f)
{
	cJSON *e;
	if (cJSON_IsArray(ps)) {
		cJSON_ArrayForEach(e, ps)
			map_xy_members(e, f);
		return;
	}
	cJSON *xs = cJSON_GetObjectItemCaseSensitive(ps, "x"), *ys = cJSON_GetObjectItemCaseSensitive(ps, "y");
	cJSON_ArrayForEach(e, xs)
		if (cJSON_IsNumber(e))
			set_number(e, e->valuedouble * f->sx);
	cJSON_ArrayForEach(e, ys)
		if (cJSON_IsNumber(e))
			set_number(e, e->valuedouble * f->sy);
}

static void map_result(cJSON *res, const struct factors *f)
{
	map_xy_members(cJSON_GetObjectItemCaseSensitive(res, "box"), f);
	map_xy_members(cJSON_GetObjectItemCaseSensitive(res, "obb"), f);
	map_point_set(cJSON_GetObjectItemCaseSensitive(res, "segments"), f);
	map_point_set(cJSON_GetObjectItemCaseSensitive(res, "keypoints"), f);
}

/* One images[i] entry: its shape set to the original's, its results mapped
 * (unless normalized); *f gets the factors its results take. */
static void map_entry(cJSON *im, const struct hp_resized *rz, bool normalized, struct factors *f)
{
	cJSON *shape = cJSON_GetObjectItemCaseSensitive(im, "shape");
	long sh = 0, sw = 0;
	if (cJSON_GetArraySize(shape) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(shape, 0)) &&
	    cJSON_IsNumber(cJSON_GetArrayItem(shape, 1))) {
		sh = (long)cJSON_GetArrayItem(shape, 0)->valuedouble;
		sw = (long)cJSON_GetArrayItem(shape, 1)->valuedouble;
		cJSON_SetNumberValue(cJSON_GetArrayItem(shape, 0), rz->from_h);
		cJSON_SetNumberValue(cJSON_GetArrayItem(shape, 1), rz->from_w);
	}
	*f = factors_for(sw, sh, rz);
	if (normalized)
		*f = (struct factors){ 1, 1 };
	cJSON *res;
	cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(im, "results"))
		if (!normalized)
			map_result(res, f);
}

int hp_picture_map_body(char **data, size_t *len, const struct hp_resized *rz, bool normalized)
{
	cJSON *doc = cJSON_ParseWithLength(*data, *len);
	cJSON *images = cJSON_GetObjectItemCaseSensitive(doc, "images"), *im;
	if (!cJSON_IsArray(images)) {
		cJSON_Delete(doc);
		return -1;
	}
	struct factors f;
	cJSON_ArrayForEach(im, images)
		map_entry(im, rz, normalized, &f);
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return -1;
	free(*data);
	*data = text;
	*len = strlen(text);
	return 0;
}

/* ---- a big answer, part by part (SPEC 11) ------------------------------ */

struct map_out {
	FILE *out;
	const char *body;
	size_t pos;             /* the body's bytes before this are written */
	char *tail;             /* a cut entry's printed rest, after its results (owned) */
	size_t *cuts, n_cuts, cap_cuts, last_cut;
	bool failed;
};

static void out_write(struct map_out *m, const char *p, size_t n)
{
	if (n && fwrite(p, 1, n, m->out) != n)
		m->failed = true;
}

/* Where the document written so far may be cut (between two values). */
static void note_cut(struct map_out *m)
{
	long at = ftell(m->out);
	if (at < 0 || (size_t)at < m->last_cut + HP_JSON_RELEASE_STEP)
		return;
	if (m->n_cuts == m->cap_cuts) {
		size_t cap = m->cap_cuts ? m->cap_cuts * 2 : 64;
		size_t *t = realloc(m->cuts, cap * sizeof *t);
		if (!t) {
			m->failed = true;
			return;
		}
		m->cuts = t;
		m->cap_cuts = cap;
	}
	m->cuts[m->n_cuts++] = m->last_cut = (size_t)at;
}

/* The bytes [a, b) of the body but [ca, cb) ("" in their place), wrapped
 * in pre and post, parsed. NULL: out of memory. */
static cJSON *parse_range(const char *body, size_t a, size_t b, size_t ca, size_t cb, const char *pre,
                          const char *post)
{
	if (!cb)
		ca = cb = b;
	size_t lp = strlen(pre), lq = strlen(post), n = lp + (ca - a) + (b - cb) + lq;
	char *t = malloc(n + 1);
	if (!t)
		return NULL;
	memcpy(t, pre, lp);
	memcpy(t + lp, body + a, ca - a);
	memcpy(t + lp + (ca - a), body + cb, b - cb);
	memcpy(t + n - lq, post, lq);
	cJSON *doc = cJSON_ParseWithLength(t, n);
	free(t);
	return doc;
}

/* An entry: the body up to it as it is, the entry mapped; a cut one is
 * written up to its results' '[' and the rest kept for after them. */
static int map_entry_part(struct map_out *m, const struct hp_json_part *p, const struct hp_resized *rz,
                          bool normalized, struct factors *f)
{
	cJSON *doc = parse_range(m->body, p->start, p->end, p->cut_start, p->cut_end, "", "");
	cJSON *mark = doc && p->cut_end ? cJSON_CreateRaw("[\001]") : NULL;
	char *text = NULL;
	int rc = -1;
	if (!doc || (p->cut_end && (!mark || !cJSON_ReplaceItemInObjectCaseSensitive(doc, "results", mark)))) {
		cJSON_Delete(mark);
		goto done;
	}
	map_entry(doc, rz, normalized, f);
	if (!(text = cJSON_PrintUnformatted(doc)))
		goto done;
	out_write(m, m->body + m->pos, p->start - m->pos);
	char *cut = p->cut_end ? strchr(text, '\001') : NULL;
	out_write(m, text, cut ? (size_t)(cut - text) : strlen(text));
	if (cut && !(m->tail = strdup(cut + 1)))
		goto done;
	m->pos = p->end;
	rc = 0;
done:
	free(text);
	cJSON_Delete(doc);
	return rc;
}

/* A run of results of the entry before it, mapped, after a ',' unless first. */
static int map_results_part(struct map_out *m, const struct hp_json_part *p, const struct factors *f, bool first,
                            bool normalized)
{
	cJSON *doc = parse_range(m->body, p->start, p->end, 0, 0, "[", "]"), *res;
	if (!doc)
		return -1;
	if (!normalized)
		cJSON_ArrayForEach(res, doc)
			map_result(res, f);
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return -1;
	if (!first)
		out_write(m, ",", 1);
	out_write(m, text + 1, strlen(text) - 2);
	free(text);
	return 0;
}

static void end_entry(struct map_out *m)
{
	if (!m->tail)
		return;
	out_write(m, m->tail, strlen(m->tail));
	free(m->tail);
	m->tail = NULL;
}

int hp_picture_map_parts(const char *body, size_t len, const struct hp_json_parts *parts,
                         const struct hp_resized *rz, bool normalized, FILE *out, size_t **cuts, size_t *n_cuts,
                         void (*release)(void *arg, size_t upto), void *arg)
{
	struct map_out m = { .out = out, .body = body };
	struct factors f = { 1, 1 };
	int rc = 0;
	for (size_t i = 0; i < parts->n && rc == 0 && !m.failed; i++) {
		const struct hp_json_part *p = &parts->v[i];
		note_cut(&m);
		if (p->is_result) {
			rc = map_results_part(&m, p, &f, i == 0 || !parts->v[i - 1].is_result, normalized);
		} else {
			end_entry(&m);
			rc = map_entry_part(&m, p, rz, normalized, &f);
		}
		if (release)
			release(arg, p->cut_end ? p->cut_start : p->end);
	}
	end_entry(&m);
	if (rc == 0)
		out_write(&m, body + m.pos, len - m.pos);
	if (rc == 0 && (m.failed || fflush(out) != 0))
		rc = -1;
	if (rc < 0) {
		free(m.cuts);
		m.cuts = NULL;
		m.n_cuts = 0;
	}
	*cuts = m.cuts;
	*n_cuts = m.n_cuts;
	return rc;
}
