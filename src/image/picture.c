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

int hp_picture_map_body(char **data, size_t *len, const struct hp_resized *rz, bool normalized)
{
	cJSON *doc = cJSON_ParseWithLength(*data, *len);
	cJSON *images = cJSON_GetObjectItemCaseSensitive(doc, "images"), *im;
	if (!cJSON_IsArray(images)) {
		cJSON_Delete(doc);
		return -1;
	}
	cJSON_ArrayForEach(im, images)
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
		if (normalized)
			continue;
		struct factors f = factors_for(sw, sh, rz);
		cJSON *res;
		cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(im, "results"))
		{
			map_xy_members(cJSON_GetObjectItemCaseSensitive(res, "box"), &f);
			map_xy_members(cJSON_GetObjectItemCaseSensitive(res, "obb"), &f);
			map_point_set(cJSON_GetObjectItemCaseSensitive(res, "segments"), &f);
			map_point_set(cJSON_GetObjectItemCaseSensitive(res, "keypoints"), &f);
		}
	}
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return -1;
	free(*data);
	*data = text;
	*len = strlen(text);
	return 0;
}
