/* vframe.c - a decoded frame to RGB, rotated, downsized, JPEG. */
#include "vframe.h"
#include "hubpredict/image.h"
#include "hubpredict/picture.h"
#include "hubpredict/video.h"

#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

void hp_vframe_size(int w, int h, int rotation, int imgsz, int *tw, int *th)
{
	if (rotation == 90 || rotation == 270) {
		int t = w;
		w = h;
		h = t;
	}
	if (!hp_picture_target(w, h, imgsz, tw, th)) {
		*tw = w;
		*th = h;
	}
}

/* The deprecated full-range ("J") formats as their plain twins: swscale
 * then takes the range from the colour details instead of warning. */
static enum AVPixelFormat plain_format(enum AVPixelFormat f, int *full)
{
	switch (f) {
	case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
	case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
	case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
	case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
	case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
	default: return f;
	}
}

/* The scaler for f at ow x oh in dst (RGB24, or YUV420P at JPEG's full
 * range), with the frame's matrix and range. */
static struct SwsContext *scaler(struct SwsContext **sws, const AVFrame *f, int ow, int oh, enum AVPixelFormat dst)
{
	int full = f->color_range == AVCOL_RANGE_JPEG;
	enum AVPixelFormat fmt = plain_format((enum AVPixelFormat)f->format, &full);
	if (sws_isSupportedInput(fmt) <= 0)
		return NULL;
	/* an area average when downsizing, as --resize does for pictures */
	int flags = (ow < f->width || oh < f->height ? SWS_AREA : SWS_BILINEAR) | SWS_ACCURATE_RND |
	            SWS_FULL_CHR_H_INT;
	*sws = sws_getCachedContext(*sws, f->width, f->height, fmt, ow, oh, dst, flags, NULL, NULL,
	                            NULL);
	if (!*sws)
		return NULL;
	int cs = f->colorspace > 0 && f->colorspace <= AVCOL_SPC_BT2020_CL ? (int)f->colorspace : SWS_CS_DEFAULT;
	sws_setColorspaceDetails(*sws, sws_getCoefficients(cs), full, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0,
	                         1 << 16, 1 << 16);
	return *sws;
}

/* f at w x h (before rotation) into p->rgb, then turned. -1 or -2 as below. */
static int to_rgb(struct SwsContext **sws, const AVFrame *f, int rotation, int w, int h, struct hp_pixmap *p,
                  char *err, size_t errlen)
{
	p->w = w;
	p->h = h;
	if (!scaler(sws, f, w, h, AV_PIX_FMT_RGB24)) {
		snprintf(err, errlen, "cannot convert frames of pixel format %d", f->format);
		return -1;
	}
	if (!(p->rgb = malloc((size_t)w * (size_t)h * 3))) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	uint8_t *dst[4] = { p->rgb, NULL, NULL, NULL };
	int stride[4] = { w * 3, 0, 0, 0 };
	if (sws_scale(*sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride) != h) {
		snprintf(err, errlen, "cannot convert a frame");
		return -1;
	}
	int orientation = rotation == 90 ? 6 : rotation == 180 ? 3 : rotation == 270 ? 8 : 1;
	if (hp_pixmap_orient(p, orientation) < 0) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	return 0;
}

/* Are f's colours JPEG's YCbCr (BT.601) but for the range? Then no RGB is
 * needed: the frame is scaled in its planes and encoded from them. */
static bool jpeg_matrix(const AVFrame *f)
{
	return f->colorspace == AVCOL_SPC_UNSPECIFIED || f->colorspace == AVCOL_SPC_BT470BG ||
	       f->colorspace == AVCOL_SPC_SMPTE170M;
}

/* TurboJPEG's buffer into a malloc'ed copy (what the frame owns). */
static int take_jpeg(tjhandle tj, int ok, unsigned char *jb, unsigned long jn, struct hp_video_frame *out,
                     char *err, size_t errlen)
{
	int rc = -2;
	if (ok != 0)
		snprintf(err, errlen, "cannot encode JPEG: %s", tjGetErrorStr2(tj));
	else if (!(out->jpeg = malloc(jn)))
		snprintf(err, errlen, "out of memory");
	else {
		memcpy(out->jpeg, jb, jn);
		out->jpeg_len = jn;
		rc = 0;
	}
	tjFree(jb);
	return rc;
}

/* f scaled straight into 4:2:0 planes of w x h at full range, and the
 * JPEG encoded from them: no RGB either way. -1 or -2 as below. */
static int yuv_jpeg(struct SwsContext **sws, const AVFrame *f, int w, int h, struct hp_video_frame *out,
                    char *err, size_t errlen)
{
	int cw = (w + 1) / 2, ch = (h + 1) / 2, rc = -2;
	size_t ys = (size_t)w * (size_t)h, cs = (size_t)cw * (size_t)ch;
	unsigned char *buf = malloc(ys + 2 * cs), *jb = NULL;
	unsigned long jn = 0;
	tjhandle tj = NULL;
	if (!buf || !(tj = tjInitCompress())) {
		snprintf(err, errlen, buf ? "cannot start TurboJPEG" : "out of memory");
		goto done;
	}
	rc = -1;
	if (!scaler(sws, f, w, h, AV_PIX_FMT_YUV420P)) {
		snprintf(err, errlen, "cannot convert frames of pixel format %d", f->format);
		goto done;
	}
	uint8_t *dst[4] = { buf, buf + ys, buf + ys + cs, NULL };
	int stride[4] = { w, cw, cw, 0 };
	if (sws_scale(*sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride) != h) {
		snprintf(err, errlen, "cannot convert a frame");
		goto done;
	}
	const unsigned char *planes[3] = { dst[0], dst[1], dst[2] };
	int ok = tjCompressFromYUVPlanes(tj, planes, w, stride, h, TJSAMP_420, &jb, &jn, 95, 0);
	rc = take_jpeg(tj, ok, jb, jn, out, err, errlen);
done:
	if (tj)
		tjDestroy(tj);
	free(buf);
	return rc;
}

int hp_vframe_jpeg(struct SwsContext **sws, const AVFrame *f, int rotation, int imgsz, bool pixels,
                   struct hp_video_frame *out, char *err, size_t errlen)
{
	struct hp_pixmap full = { 0 }, sent = { 0 };
	int rc = -1, tw, th;
	if (f->width <= 0 || f->height <= 0 || f->width > HP_VIDEO_MAX_SIDE || f->height > HP_VIDEO_MAX_SIDE ||
	    (long)f->width * f->height > HP_VIDEO_MAX_PIXELS) {
		snprintf(err, errlen, "a frame of %dx%d pixels, over the limits", f->width, f->height);
		goto done;
	}
	hp_vframe_size(f->width, f->height, rotation, imgsz, &tw, &th);
	bool swap = rotation == 90 || rotation == 270;
	if (!pixels && rotation == 0 && jpeg_matrix(f)) {
		if ((rc = yuv_jpeg(sws, f, tw, th, out, err, errlen)) < 0)
			goto done;
		out->w = tw;
		out->h = th;
		out->src_w = f->width;
		out->src_h = f->height;
		goto done;
	}
	if (pixels) {
		/* the source size for drawing; the one sent downsized from it */
		if ((rc = to_rgb(sws, f, rotation, f->width, f->height, &full, err, errlen)) < 0)
			goto done;
		rc = -2;
		if ((tw != full.w || th != full.h) && hp_pixmap_resize(&full, tw, th, &sent) < 0) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	} else if ((rc = to_rgb(sws, f, rotation, swap ? th : tw, swap ? tw : th, &sent, err, errlen)) < 0) {
		goto done;
	}
	rc = -2;
	const struct hp_pixmap *enc = sent.rgb ? &sent : &full;
	if (hp_image_encode(enc, HP_IMAGE_JPEG, &out->jpeg, &out->jpeg_len, err, errlen) < 0)
		goto done;
	out->w = enc->w;
	out->h = enc->h;
	out->src_w = swap ? f->height : f->width;
	out->src_h = swap ? f->width : f->height;
	if (pixels) {
		out->rgb = full;
		full = (struct hp_pixmap){ 0 };
	}
	rc = 0;
done:
	hp_pixmap_free(&full);
	hp_pixmap_free(&sent);
	return rc;
}
