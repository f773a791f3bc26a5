/* annotate.c - --annotate: the answer drawn on the picture, as Ultralytics'
 * Annotator and Results.plot() draw it (PIL flavour: a TrueType font):
 *
 *   line width   max(round((H + W) / 2 * 0.003), 2)
 *   font size    max(round((H + W) / 2 * 0.035), 12) pixels
 *   colours      the 20-colour palette by class number; dark text (111F68)
 *                on the light ones, white on the others
 *   label tab    "name 0.92" above the box's top-left corner, inside when
 *                there is no room above, moved left at the right edge
 *   segment      polygons at alpha 0.5, under every box
 *   pose         points of radius 5 (confidence >= 0.25), COCO limbs for 17
 *   classify     the top 5 "name 0.92" at (0.03 H, 0.03 H) on grey at alpha 0.5
 *   semantic     the class-index mask in class colours at alpha 0.5
 *   depth        the depth map in the turbo colour map
 *
 * Results are drawn in increasing confidence, so the best ends on top. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/annotate.h"
#include "draw.h"
#include "font.h"
#include "hubpredict/body.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/image.h"
#include "hubpredict/media.h"
#include "hubpredict/labels.h"
#include "hubpredict/msg.h"
#include "hubpredict/item.h"
#include "hubpredict/response.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_SOURCE ((size_t)1 << 30) /* a picture file larger than 1 GiB is not drawn */

struct hp_annotate {
	const char *dir;
	struct hp_font *font;
	size_t written;
	bool failed;
};

static const struct hp_rgb palette[20] = {
	{ 0x04, 0x2A, 0xFF }, { 0x0B, 0xDB, 0xEB }, { 0xF3, 0xF3, 0xF3 }, { 0x00, 0xDF, 0xB7 }, { 0x11, 0x1F, 0x68 },
	{ 0xFF, 0x6F, 0xDD }, { 0xFF, 0x44, 0x4F }, { 0xCC, 0xED, 0x00 }, { 0x00, 0xF3, 0x44 }, { 0xBD, 0x00, 0xFF },
	{ 0x00, 0xB4, 0xFF }, { 0xDD, 0x00, 0xBA }, { 0x00, 0xFF, 0xFF }, { 0x26, 0xC0, 0x00 }, { 0x01, 0xFF, 0xB3 },
	{ 0x7D, 0x24, 0xFF }, { 0x7B, 0x00, 0x68 }, { 0xFF, 0x1B, 0x6C }, { 0xFC, 0x6D, 0x2F }, { 0xA2, 0xFF, 0x0B },
};
/* Ultralytics' dark_colors: the palette entries that take dark text */
static const bool light_bg[20] = { [1] = true, [2] = true, [3] = true, [5] = true, [7] = true,
	                           [8] = true, [12] = true, [14] = true, [19] = true };
static const struct hp_rgb dark_text = { 0x11, 0x1F, 0x68 }, white = { 255, 255, 255 };

/* Ultralytics' pose palette (RGB here: its table is BGR) and COCO skeleton */
static const struct hp_rgb pose_palette[20] = {
	{ 0, 128, 255 }, { 51, 153, 255 }, { 102, 178, 255 }, { 0, 230, 230 }, { 255, 153, 255 },
	{ 255, 204, 153 }, { 255, 102, 255 }, { 255, 51, 255 }, { 255, 178, 102 }, { 255, 153, 51 },
	{ 153, 153, 255 }, { 102, 102, 255 }, { 51, 51, 255 }, { 153, 255, 153 }, { 102, 255, 102 },
	{ 51, 255, 51 }, { 0, 255, 0 }, { 255, 0, 0 }, { 0, 0, 255 }, { 255, 255, 255 },
};
static const unsigned char skeleton[19][2] = {
	{ 16, 14 }, { 14, 12 }, { 17, 15 }, { 15, 13 }, { 12, 13 }, { 6, 12 }, { 7, 13 }, { 6, 7 }, { 6, 8 }, { 7, 9 },
	{ 8, 10 }, { 9, 11 }, { 2, 3 }, { 1, 2 }, { 1, 3 }, { 2, 4 }, { 3, 5 }, { 4, 6 }, { 5, 7 },
};
static const unsigned char limb_color[19] = { 9, 9, 9, 9, 7, 7, 7, 0, 0, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16 };
static const unsigned char kpt_color[17] = { 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9 };

#define KPT_CONF 0.25
#define KPT_RADIUS 5.0

static struct hp_rgb class_color(long cls)
{
	long i = cls % 20;
	return palette[i < 0 ? i + 20 : i];
}

static struct hp_rgb text_color(long cls)
{
	long i = cls % 20;
	return light_bg[i < 0 ? i + 20 : i] ? dark_text : white;
}

int hp_annotate_new(struct hp_annotate **out, const char *dir, char *err, size_t errlen)
{
	if (hp_labels_check_dir("--annotate", dir, err, errlen) < 0)
		return HP_EXIT_OUTPUT;
	struct hp_annotate *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NOMEM;
	}
	a->dir = dir;
	char why[256];
	if (!(a->font = hp_font_open(why, sizeof why))) {
		snprintf(err, errlen, "--annotate: %s", why);
		free(a);
		return HP_EXIT_USAGE;
	}
	*out = a;
	return 0;
}

/* ---- one picture ----------------------------------------------------------- */

struct scene {
	struct hp_pixmap *p;
	struct hp_font *font;
	double kx, ky;      /* answer coordinates to pixels */
	int lw;
};

/* "name 0.92" into text (600 bytes), measured; its length, 0 when empty. */
static size_t label_text(struct scene *s, const struct hp_result *r, char *text, int *w, int *h)
{
	int n = snprintf(text, 600, "%.*s %.2f", (int)(r->name_len > 500 ? 500 : r->name_len), r->name ? r->name : "",
	                 r->confidence);
	if (n <= 0)
		return 0;
	size_t len = n < 600 ? (size_t)n : 599;
	hp_font_measure(s->font, text, len, w, h);
	return len;
}

static void label_tab(struct scene *s, double bx, double by, const struct hp_result *r)
{
	char text[600];
	int w, h;
	size_t len = label_text(s, r, text, &w, &h);
	if (!len)
		return;
	int x = (int)lround(bx), y = (int)lround(by);
	bool outside = y >= h;
	if (x > s->p->w - w)
		x = s->p->w - w;
	if (x < 0)
		x = 0;
	int top = outside ? y - h : y;
	hp_draw_rect(s->p, x, top, x + w + 2, top + h + 2, class_color(r->cls), 1);
	hp_font_draw(s->font, s->p, x + 1, top, text, len, text_color(r->cls));
}

static void draw_box_result(struct scene *s, const struct hp_result *r, bool obb)
{
	struct hp_rgb c = class_color(r->cls);
	if (obb && r->n_box == 8) {
		for (int i = 0; i < 4; i++) {
			int j = (i + 1) % 4;
			hp_draw_line(s->p, r->box[2 * i] * s->kx, r->box[2 * i + 1] * s->ky, r->box[2 * j] * s->kx,
			             r->box[2 * j + 1] * s->ky, s->lw, c);
		}
		label_tab(s, r->box[0] * s->kx, r->box[1] * s->ky, r);
		return;
	}
	if (r->n_box < 4)
		return;
	double x1 = r->box[0] * s->kx, y1 = r->box[1] * s->ky, x2 = r->box[2] * s->kx, y2 = r->box[3] * s->ky;
	hp_draw_box(s->p, x1, y1, x2, y2, s->lw, c);
	label_tab(s, x1, y1, r);
}

static void draw_polygon_result(struct scene *s, const struct hp_result *r)
{
	size_t n = r->segment.n;
	if (n < 3)
		return;
	double *xy = malloc(2 * n * sizeof *xy);
	if (!xy)
		return;
	for (size_t i = 0; i < n; i++) {
		xy[i] = r->segment.x[i] * s->kx;
		xy[n + i] = r->segment.y[i] * s->ky;
	}
	hp_draw_polygon(s->p, xy, xy + n, n, class_color(r->cls), 0.5);
	free(xy);
}

static bool kpt_ok(const struct hp_points *k, size_t i)
{
	return !k->visible || k->visible[i] >= KPT_CONF;
}

static void draw_keypoints(struct scene *s, const struct hp_result *r)
{
	const struct hp_points *k = &r->keypoints;
	bool coco = k->n == 17;
	for (size_t i = 0; i < k->n; i++) {
		if (!kpt_ok(k, i))
			continue;
		struct hp_rgb c = coco ? pose_palette[kpt_color[i]] : class_color((long)i);
		hp_draw_disc(s->p, k->x[i] * s->kx, k->y[i] * s->ky, KPT_RADIUS, c);
	}
	if (!coco)
		return;
	double width = ceil(s->lw / 2.0);
	for (size_t l = 0; l < 19; l++) {
		size_t a = skeleton[l][0] - 1u, b = skeleton[l][1] - 1u;
		if (!kpt_ok(k, a) || !kpt_ok(k, b))
			continue;
		hp_draw_line(s->p, k->x[a] * s->kx, k->y[a] * s->ky, k->x[b] * s->kx, k->y[b] * s->ky, width,
		             pose_palette[limb_color[l]]);
	}
}

static int by_confidence_up(const void *pa, const void *pb)
{
	const struct hp_result *a = *(const struct hp_result *const *)pa;
	const struct hp_result *b = *(const struct hp_result *const *)pb;
	if (a->confidence != b->confidence)
		return a->confidence < b->confidence ? -1 : 1;
	return a > b ? -1 : a < b; /* among equals, the server's first ends on top */
}

static void draw_classify(struct scene *s, const struct hp_result *const *order, size_t n, int img_h)
{
	int x = (int)lround(img_h * 0.03), y = x;
	/* best first, at most 5 */
	for (size_t i = 0; i < n && i < 5; i++) {
		const struct hp_result *r = order[n - 1 - i];
		char text[600];
		int w, h;
		size_t tl = label_text(s, r, text, &w, &h);
		if (!tl)
			continue;
		hp_draw_rect(s->p, x, y, x + w + 2, y + h, (struct hp_rgb){ 64, 64, 64 }, 128 / 255.0);
		hp_font_draw(s->font, s->p, x + 1, y, text, tl, white);
		y += h;
	}
}

/* ---- maps carried as base64 PNGs in the document ------------------------- */

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static unsigned char *b64_decode(const char *s, size_t *n)
{
	size_t len = strlen(s);
	unsigned char *out = malloc(len / 4 * 3 + 3);
	if (!out)
		return NULL;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			continue; /* padding, white space */
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*n = o;
	return out;
}

/* images[index].MEMBER.data of the server's document, decoded to grey. */
static int member_map(const struct hp_body *body, size_t index, const char *member, int *w, int *h,
                      unsigned char **grey, char *err, size_t errlen)
{
	int rc = -1;
	cJSON *doc = body ? cJSON_ParseWithLength(body->data, body->len) : NULL;
	cJSON *im = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "images"), (int)index);
	cJSON *m = cJSON_GetObjectItemCaseSensitive(im, member);
	cJSON *data = cJSON_GetObjectItemCaseSensitive(m, "data");
	if (!cJSON_IsString(data)) {
		snprintf(err, errlen, "the answer has no %s data", member);
		goto done;
	}
	size_t n = 0;
	unsigned char *png = b64_decode(data->valuestring, &n);
	if (!png) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	char why[200];
	rc = hp_image_decode_grey(png, n, w, h, grey, why, sizeof why);
	if (rc < 0)
		snprintf(err, errlen, "its %s is %s", member, why);
	free(png);
done:
	cJSON_Delete(doc);
	return rc;
}

static void turbo(double x, struct hp_rgb *c)
{
	x = x < 0 ? 0 : x > 1 ? 1 : x;
	double r = 0.13572138 + x * (4.61539260 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
	double g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
	double b = 0.10667330 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
	c->r = (unsigned char)lround(255 * (r < 0 ? 0 : r > 1 ? 1 : r));
	c->g = (unsigned char)lround(255 * (g < 0 ? 0 : g > 1 ? 1 : g));
	c->b = (unsigned char)lround(255 * (b < 0 ? 0 : b > 1 ? 1 : b));
}

/* A map of mw x mh over the whole picture: the pixel's map value (nearest). */
static unsigned char map_at(const unsigned char *m, int mw, int mh, const struct hp_pixmap *p, int x, int y)
{
	long mx = (long)x * mw / p->w, my = (long)y * mh / p->h;
	return m[my * mw + mx];
}

static int draw_semantic(struct scene *s, const struct hp_item *it, const struct hp_image *im, size_t index,
                         char *err, size_t errlen)
{
	int mw, mh;
	unsigned char *m = NULL;
	if (member_map(it->body, index, "semantic_mask", &mw, &mh, &m, err, errlen) < 0)
		return -1;
	bool show[256] = { false };
	for (size_t i = 0; i < im->n_results; i++)
		if (im->results[i].cls >= 0 && im->results[i].cls < 256)
			show[im->results[i].cls] = true;
	for (int y = 0; y < s->p->h; y++)
		for (int x = 0; x < s->p->w; x++) {
			unsigned char c = map_at(m, mw, mh, s->p, x, y);
			if (show[c])
				hp_draw_blend(s->p, x, y, class_color(c), 0.5);
		}
	free(m);
	return 0;
}

static int draw_depth(struct scene *s, const struct hp_item *it, size_t index, char *err, size_t errlen)
{
	int mw, mh;
	unsigned char *m = NULL;
	if (member_map(it->body, index, "depth", &mw, &mh, &m, err, errlen) < 0)
		return -1;
	int lo = 255, hi = 0;
	for (size_t i = 0; i < (size_t)mw * (size_t)mh; i++) {
		lo = m[i] < lo ? m[i] : lo;
		hi = m[i] > hi ? m[i] : hi;
	}
	struct hp_rgb lut[256];
	for (int v = 0; v < 256; v++)
		turbo(hi > lo ? (double)(v - lo) / (hi - lo) : 0.5, &lut[v]);
	for (int y = 0; y < s->p->h; y++)
		for (int x = 0; x < s->p->w; x++)
			hp_draw_blend(s->p, x, y, lut[map_at(m, mw, mh, s->p, x, y)], 1);
	free(m);
	return 0;
}

/* Draw image im of r on p. -1 with err when a map could not be read. */
static int draw_answer(struct hp_annotate *a, struct hp_pixmap *p, const struct hp_item *it,
                       const struct hp_response *r, size_t index, char *err, size_t errlen)
{
	const struct hp_image *im = &r->images[index];
	struct scene s = { .p = p, .font = a->font, .kx = 1, .ky = 1 };
	if (im->has_shape && im->width > 0 && im->height > 0) {
		s.kx = (double)p->w / (double)im->width;
		s.ky = (double)p->h / (double)im->height;
	}
	long lw = lround((p->h + p->w) / 2.0 * 0.003);
	s.lw = lw < 2 ? 2 : (int)lw;
	long fs = lround((p->h + p->w) / 2.0 * 0.035);
	hp_font_set_size(a->font, fs < 12 ? 12 : (int)fs);

	if (r->task == HP_TASK_SEMANTIC)
		return draw_semantic(&s, it, im, index, err, errlen);
	if (r->task == HP_TASK_DEPTH)
		return draw_depth(&s, it, index, err, errlen);

	const struct hp_result **order = malloc((im->n_results ? im->n_results : 1) * sizeof *order);
	if (!order) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < im->n_results; i++)
		order[i] = &im->results[i];
	qsort(order, im->n_results, sizeof *order, by_confidence_up);
	if (r->task == HP_TASK_CLASSIFY) {
		draw_classify(&s, order, im->n_results, p->h);
	} else {
		if (r->task == HP_TASK_SEGMENT)
			for (size_t i = 0; i < im->n_results; i++)
				draw_polygon_result(&s, order[i]);
		for (size_t i = 0; i < im->n_results; i++)
			draw_box_result(&s, order[i], r->task == HP_TASK_OBB);
		if (r->task == HP_TASK_POSE)
			for (size_t i = 0; i < im->n_results; i++)
				draw_keypoints(&s, order[i]);
	}
	free(order);
	return 0;
}

struct hp_annotate_source {
	struct hp_pixmap pix;
	enum hp_image_kind kind;
	bool ok;
	char err[400];          /* why not, when !ok */
};

/* Read and decode fd into s. */
static void source_decode(struct hp_annotate_source *s, int fd)
{
	unsigned char *bytes = NULL;
	size_t n = 0;
	if (hp_image_read_fd(fd, MAX_SOURCE, &bytes, &n) < 0) {
		snprintf(s->err, sizeof s->err, "cannot read it again: %s", strerror(errno));
		return;
	}
	s->ok = hp_image_decode(bytes, n, 0, &s->pix, &s->kind, s->err, sizeof s->err) == 0;
	free(bytes);
}

struct hp_annotate_source *hp_annotate_source_new(int fd)
{
	struct hp_annotate_source *s = calloc(1, sizeof *s);
	if (s)
		source_decode(s, fd);
	return s;
}

void hp_annotate_source_free(struct hp_annotate_source *s)
{
	if (!s)
		return;
	hp_pixmap_free(&s->pix);
	free(s);
}

int hp_annotate_draw(struct hp_annotate *a, struct hp_pixmap *p, const struct hp_item *it, char *err, size_t errlen)
{
	const struct hp_response *r = it->response;
	if (it->exit_code != 0 || !r || r->n_images == 0)
		return 0;
	return draw_answer(a, p, it, r, 0, err, errlen);
}

void hp_annotate_item(void *state, const struct hp_item *it)
{
	struct hp_annotate *a = state;
	const struct hp_response *r = it->response;
	char q[512], err[400];
	unsigned char *enc = NULL;
	size_t enc_n = 0;
	char *path = NULL;
	struct hp_pixmap pix = { 0 };
	if (a->failed || it->exit_code != 0 || !r || it->video)
		return; /* a video's frames make its MP4 instead (frames.h) */
	hp_msg_quote(q, sizeof q, it->file);
	if (hp_is_url_input(it->file)) {
		hp_msg_warn("%s: --annotate: a URL input has no local picture to draw on; not drawn", q);
		return;
	}
	/* A GIF is a video to Ultralytics: drawn (its first frame) when the
	 * answer has one frame, like a picture */
	const char *dot = strrchr(it->file, '.');
	bool gif = dot && strcasecmp(dot, ".gif") == 0;
	if ((hp_is_video_name(it->file) && !gif) || r->n_images > 1) {
		hp_msg_warn("%s: --annotate: videos are not drawn", q);
		return;
	}
	if (it->source_unreadable || !it->has_source || r->n_images == 0)
		return;
	struct hp_annotate_source here = { 0 }, *src = it->source_picture;
	if (!src) {
		source_decode(&here, it->source_fd);
		src = &here;
	}
	if (!src->ok) {
		hp_msg_warn("%s: --annotate: %s; not drawn", q, src->err);
		hp_pixmap_free(&src->pix);
		goto done;
	}
	enum hp_image_kind kind = src->kind;
	pix = src->pix; /* the pixels are drawn on: taken, freed below */
	src->pix = (struct hp_pixmap){ 0 };
	if (draw_answer(a, &pix, it, r, 0, err, sizeof err) < 0) {
		hp_msg_warn("%s: --annotate: %s; not drawn", q, err);
		goto done;
	}
	enum hp_image_kind out_kind = kind == HP_IMAGE_JPEG ? HP_IMAGE_JPEG : HP_IMAGE_PNG;
	if (hp_image_encode(&pix, out_kind, &enc, &enc_n, err, sizeof err) < 0) {
		hp_msg_error("%s: --annotate: %s", q, err);
		a->failed = true;
		goto done;
	}
	path = hp_output_path(a->dir, it->file, it->file_below, out_kind == HP_IMAGE_JPEG ? ".jpg" : ".png");
	if (!path) {
		hp_msg_error("%s: --annotate: out of memory", q);
		a->failed = true;
	} else if (hp_labels_write_file(path, enc, enc_n) < 0) {
		char qp[512];
		hp_msg_error("cannot write picture %s: %s", hp_msg_quote(qp, sizeof qp, path), strerror(errno));
		a->failed = true;
	} else {
		a->written++;
	}
done:
	free(enc);
	free(path);
	hp_pixmap_free(&pix);
}

/* The extension a picture of this input gets: .jpg for a JPEG (by its
 * first bytes), else .png. */
static const char *picture_suffix(const char *input)
{
	unsigned char head[16];
	ssize_t n = -1;
	int fd = strcmp(input, "-") == 0 ? -1 : open(input, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		n = read(fd, head, sizeof head);
		close(fd);
	}
	return n > 0 && hp_image_sniff(head, (size_t)n) == HP_IMAGE_JPEG ? ".jpg" : ".png";
}

char *hp_annotate_path_for(void *state, const char *input, size_t below)
{
	const struct hp_annotate *a = state;
	if (hp_is_video_name(input) || hp_is_url_input(input))
		return NULL; /* never drawn */
	return hp_output_path(a->dir, input, below, picture_suffix(input));
}

size_t hp_annotate_written(const struct hp_annotate *a)
{
	return a ? a->written : 0;
}

bool hp_annotate_failed(const struct hp_annotate *a)
{
	return a && a->failed;
}

void hp_annotate_free(struct hp_annotate *a)
{
	if (!a)
		return;
	hp_font_free(a->font);
	free(a);
}
