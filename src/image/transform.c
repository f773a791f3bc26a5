/* transform.c - EXIF orientation, downsizing by area averaging, and
 * encoding (TurboJPEG at quality 95, libpng). */
#include "hubpredict/image.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

int hp_pixmap_orient(struct hp_pixmap *p, int o)
{
	if (o <= 1 || o > 8)
		return 0;
	int W = p->w, H = p->h;
	int ow = o >= 5 ? H : W, oh = o >= 5 ? W : H;
	unsigned char *d = malloc((size_t)W * (size_t)H * 3);
	if (!d)
		return -1;
	for (int y = 0; y < oh; y++) {
		for (int x = 0; x < ow; x++) {
			int sx, sy;
			switch (o) {
			case 2: sx = W - 1 - x; sy = y; break;
			case 3: sx = W - 1 - x; sy = H - 1 - y; break;
			case 4: sx = x; sy = H - 1 - y; break;
			case 5: sx = y; sy = x; break;
			case 6: sx = y; sy = H - 1 - x; break;
			case 7: sx = W - 1 - y; sy = H - 1 - x; break;
			default: sx = W - 1 - y; sy = x; break; /* 8 */
			}
			memcpy(d + ((size_t)y * (size_t)ow + (size_t)x) * 3, p->rgb + ((size_t)sy * (size_t)W + (size_t)sx) * 3, 3);
		}
	}
	free(p->rgb);
	p->rgb = d;
	p->w = ow;
	p->h = oh;
	return 0;
}

/* The weights of source pixels [first, first+count) for each output pixel
 * along one axis: an output pixel covers n/m source pixels (area averaging,
 * as OpenCV's INTER_AREA). */
struct taps {
	int *first, *count;
	float *w;       /* count weights each, at stride max */
	int max;
};

static int taps_make(struct taps *t, int n, int m)
{
	double scale = (double)n / m;
	t->max = (int)scale + 2;
	t->first = malloc((size_t)m * sizeof *t->first);
	t->count = malloc((size_t)m * sizeof *t->count);
	t->w = malloc((size_t)m * (size_t)t->max * sizeof *t->w);
	if (!t->first || !t->count || !t->w)
		return -1;
	for (int i = 0; i < m; i++) {
		double a = i * scale, b = (i + 1) * scale;
		int s = (int)a, c = 0;
		for (int k = s; k < n && k < b && c < t->max; k++) {
			double lo = k > a ? k : a, hi = k + 1 < b ? k + 1 : b;
			t->w[i * t->max + c++] = (float)((hi - lo) / scale);
		}
		t->first[i] = s;
		t->count[i] = c;
	}
	return 0;
}

static void taps_free(struct taps *t)
{
	free(t->first);
	free(t->count);
	free(t->w);
}

int hp_pixmap_resize(const struct hp_pixmap *src, int w, int h, struct hp_pixmap *dst)
{
	struct taps tx = { 0 }, ty = { 0 };
	float *tmp = NULL;
	int rc = -1;
	*dst = (struct hp_pixmap){ 0 };
	if (w <= 0 || h <= 0 || w > src->w || h > src->h)
		return -1;
	if (taps_make(&tx, src->w, w) < 0 || taps_make(&ty, src->h, h) < 0)
		goto done;
	tmp = malloc((size_t)w * (size_t)src->h * 3 * sizeof *tmp);
	dst->rgb = malloc((size_t)w * (size_t)h * 3);
	if (!tmp || !dst->rgb)
		goto done;
	for (int y = 0; y < src->h; y++) {
		const unsigned char *row = src->rgb + (size_t)y * (size_t)src->w * 3;
		float *o = tmp + (size_t)y * (size_t)w * 3;
		for (int x = 0; x < w; x++) {
			float acc[3] = { 0, 0, 0 };
			const float *wt = tx.w + x * tx.max;
			const unsigned char *p = row + (size_t)tx.first[x] * 3;
			for (int k = 0; k < tx.count[x]; k++, p += 3) {
				acc[0] += wt[k] * p[0];
				acc[1] += wt[k] * p[1];
				acc[2] += wt[k] * p[2];
			}
			memcpy(o + (size_t)x * 3, acc, sizeof acc);
		}
	}
	for (int y = 0; y < h; y++) {
		unsigned char *o = dst->rgb + (size_t)y * (size_t)w * 3;
		const float *wt = ty.w + y * ty.max;
		for (size_t i = 0; i < (size_t)w * 3; i++) {
			float acc = 0;
			for (int k = 0; k < ty.count[y]; k++)
				acc += wt[k] * tmp[(size_t)(ty.first[y] + k) * (size_t)w * 3 + i];
			int v = (int)(acc + 0.5f);
			o[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
	dst->w = w;
	dst->h = h;
	rc = 0;
done:
	if (rc < 0)
		hp_pixmap_free(dst);
	free(tmp);
	taps_free(&tx);
	taps_free(&ty);
	return rc;
}

int hp_image_encode(const struct hp_pixmap *p, enum hp_image_kind kind, unsigned char **out, size_t *n,
                    char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (kind == HP_IMAGE_JPEG) {
		tjhandle tj = tjInitCompress();
		unsigned char *jb = NULL;
		unsigned long jn = 0;
		int rc = -1;
		if (!tj) {
			snprintf(err, errlen, "cannot start TurboJPEG");
			return -1;
		}
		if (tjCompress2(tj, p->rgb, p->w, 0, p->h, TJPF_RGB, &jb, &jn, TJSAMP_420, 95, 0) != 0) {
			snprintf(err, errlen, "cannot encode JPEG: %s", tjGetErrorStr2(tj));
		} else if ((*out = malloc(jn)) == NULL) {
			snprintf(err, errlen, "out of memory");
		} else {
			memcpy(*out, jb, jn);
			*n = jn;
			rc = 0;
		}
		tjFree(jb);
		tjDestroy(tj);
		return rc;
	}
	png_image img;
	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)p->w;
	img.height = (png_uint_32)p->h;
	img.format = PNG_FORMAT_RGB;
	png_alloc_size_t size = 0;
	if (!png_image_write_to_memory(&img, NULL, &size, 0, p->rgb, 0, NULL)) {
		snprintf(err, errlen, "cannot encode PNG: %s", img.message);
		return -1;
	}
	if (!(*out = malloc(size))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!png_image_write_to_memory(&img, *out, &size, 0, p->rgb, 0, NULL)) {
		snprintf(err, errlen, "cannot encode PNG: %s", img.message);
		free(*out);
		*out = NULL;
		return -1;
	}
	*n = size;
	return 0;
}
