/* decode.c - image bytes into RGB pixels: JPEG (TurboJPEG, with DCT scaling),
 * PNG (libpng: palette, grey, 16-bit and alpha all become 8-bit RGB), WebP
 * (libwebp), BMP (a small reader: 8-bit palette, 24- and 32-bit) and GIF's
 * first frame (giflib). The declared size is checked against
 * HP_IMAGE_MAX_PIXELS before any pixel memory is allocated. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/image.h"

#include <errno.h>
#include <gif_lib.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <webp/decode.h>

bool hp_image_supported(void)
{
	return true;
}

enum hp_image_kind hp_image_sniff(const unsigned char *b, size_t n)
{
	if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
		return HP_IMAGE_JPEG;
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return HP_IMAGE_PNG;
	if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
		return HP_IMAGE_WEBP;
	if (n >= 2 && b[0] == 'B' && b[1] == 'M')
		return HP_IMAGE_BMP;
	if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
		return HP_IMAGE_GIF;
	return HP_IMAGE_UNKNOWN;
}

const char *hp_image_kind_name(enum hp_image_kind k)
{
	static const char *const names[] = { "unknown", "JPEG", "PNG", "WebP", "BMP", "GIF" };
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

void hp_pixmap_free(struct hp_pixmap *p)
{
	if (!p)
		return;
	free(p->rgb);
	p->rgb = NULL;
	p->w = p->h = 0;
}

static int too_big(long w, long h, char *err, size_t errlen)
{
	if (w <= 0 || h <= 0) {
		snprintf(err, errlen, "declares an empty picture (%ldx%ld)", w, h);
		return -1;
	}
	if (w > HP_IMAGE_MAX_PIXELS / h) {
		snprintf(err, errlen, "declares %ldx%ld pixels, over the %ld megapixel limit", w, h,
		         HP_IMAGE_MAX_PIXELS / 1000000);
		return -1;
	}
	return 0;
}

/* The picture's size into *pw, *ph, unless too_big refuses it. */
static int set_size(long w, long h, int *pw, int *ph, char *err, size_t errlen)
{
	if (too_big(w, h, err, errlen) < 0)
		return -1;
	*pw = (int)w;
	*ph = (int)h;
	return 0;
}

static int alloc_rgb(struct hp_pixmap *p, int w, int h, char *err, size_t errlen)
{
	p->rgb = malloc((size_t)w * (size_t)h * 3);
	if (!p->rgb) {
		snprintf(err, errlen, "out of memory for %dx%d pixels", w, h);
		return -1;
	}
	p->w = w;
	p->h = h;
	return 0;
}

/* ---- JPEG ------------------------------------------------------------------ */

static int jpeg_header(const unsigned char *d, size_t n, int *w, int *h, int *cs, char *err, size_t errlen)
{
	tjhandle tj = tjInitDecompress();
	int subsamp = 0, rc = 0;
	if (!tj) {
		snprintf(err, errlen, "cannot start TurboJPEG");
		return -1;
	}
	if (tjDecompressHeader3(tj, d, (unsigned long)n, w, h, &subsamp, cs) != 0) {
		snprintf(err, errlen, "not a readable JPEG: %s", tjGetErrorStr2(tj));
		rc = -1;
	}
	tjDestroy(tj);
	return rc;
}

/* CMYK from an Adobe JPEG (stored inverted, as Photoshop writes it) to RGB. */
static void cmyk_to_rgb(const unsigned char *cmyk, unsigned char *rgb, size_t pixels)
{
	for (size_t i = 0; i < pixels; i++) {
		unsigned k = cmyk[4 * i + 3];
		for (int c = 0; c < 3; c++)
			rgb[3 * i + (size_t)c] = (unsigned char)((cmyk[4 * i + (size_t)c] * k + 127) / 255);
	}
}

static int jpeg_decode(const unsigned char *d, size_t n, int min_long, struct hp_pixmap *out, char *err,
                       size_t errlen)
{
	int w, h, cs, rc = -1;
	unsigned char *cmyk = NULL;
	if (jpeg_header(d, n, &w, &h, &cs, err, errlen) < 0 || too_big(w, h, err, errlen) < 0)
		return -1;
	/* the smallest DCT scale that keeps the long side >= min_long */
	int sw = w, sh = h;
	if (min_long > 0) {
		int nsf = 0;
		tjscalingfactor *sf = tjGetScalingFactors(&nsf);
		for (int i = 0; sf && i < nsf; i++) {
			if (sf[i].num >= sf[i].denom)
				continue;
			int tw = TJSCALED(w, sf[i]), th = TJSCALED(h, sf[i]);
			int lng = tw > th ? tw : th;
			if (lng >= min_long && (long)tw * th < (long)sw * sh) {
				sw = tw;
				sh = th;
			}
		}
	}
	tjhandle tj = tjInitDecompress();
	if (!tj) {
		snprintf(err, errlen, "cannot start TurboJPEG");
		return -1;
	}
	if (alloc_rgb(out, sw, sh, err, errlen) < 0)
		goto done;
	int flags = TJFLAG_STOPONWARNING; /* a truncated file is not an image to draw on */
	if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
		cmyk = malloc((size_t)sw * (size_t)sh * 4);
		if (!cmyk) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		if (tjDecompress2(tj, d, (unsigned long)n, cmyk, sw, 0, sh, TJPF_CMYK, flags) != 0) {
			snprintf(err, errlen, "not a readable JPEG: %s", tjGetErrorStr2(tj));
			goto done;
		}
		cmyk_to_rgb(cmyk, out->rgb, (size_t)sw * (size_t)sh);
	} else if (tjDecompress2(tj, d, (unsigned long)n, out->rgb, sw, 0, sh, TJPF_RGB, flags) != 0) {
		snprintf(err, errlen, "not a readable JPEG: %s", tjGetErrorStr2(tj));
		goto done;
	}
	rc = 0;
done:
	if (rc < 0)
		hp_pixmap_free(out);
	free(cmyk);
	tjDestroy(tj);
	return rc;
}

/* ---- PNG ------------------------------------------------------------------- */

struct png_src {
	const unsigned char *d;
	size_t n, off;
	char *err;
	size_t errlen;
};

static void png_read_mem(png_structp png, png_bytep out, png_size_t len)
{
	struct png_src *s = png_get_io_ptr(png);
	if (len > s->n - s->off)
		png_error(png, "truncated PNG");
	memcpy(out, s->d + s->off, len);
	s->off += len;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
	struct png_src *s = png_get_error_ptr(png);
	snprintf(s->err, s->errlen, "not a readable PNG: %s", msg);
	png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* grey: one channel, palette indices kept (class-index masks); else RGB. */
static int png_decode_any(const unsigned char *d, size_t n, bool grey, int *pw, int *ph, unsigned char **pix,
                          bool probe_only, char *err, size_t errlen)
{
	struct png_src src = { d, n, 0, err, errlen };
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	/* volatile: they change between setjmp and a longjmp back */
	unsigned char *volatile buf = NULL;
	png_bytep *volatile rows = NULL;
	int rc = -1;
	if (!info) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (setjmp(png_jmpbuf(png)))
		goto done;
	png_set_read_fn(png, &src, png_read_mem);
	png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
	png_set_chunk_malloc_max(png, 64 * 1024 * 1024);
	png_read_info(png, info);
	png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
	if (set_size((long)w, (long)h, pw, ph, err, errlen) < 0)
		goto done;
	if (probe_only) {
		rc = 0;
		goto done;
	}
	int ct = png_get_color_type(png, info);
	png_set_strip_16(png);
	png_set_packing(png);
	if (grey) {
		if (ct == PNG_COLOR_TYPE_GRAY)
			png_set_expand_gray_1_2_4_to_8(png);
		png_set_strip_alpha(png);
	} else {
		if (ct == PNG_COLOR_TYPE_PALETTE)
			png_set_palette_to_rgb(png);
		if (ct == PNG_COLOR_TYPE_GRAY)
			png_set_expand_gray_1_2_4_to_8(png);
		if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA)
			png_set_gray_to_rgb(png);
		png_set_strip_alpha(png);
	}
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	size_t channels = png_get_channels(png, info);
	size_t rowbytes = png_get_rowbytes(png, info);
	if (rowbytes != (size_t)w * channels || (grey ? channels == 0 : channels != 3)) {
		snprintf(err, errlen, "not a readable PNG: unexpected layout");
		goto done;
	}
	buf = malloc(rowbytes * h);
	rows = malloc(h * sizeof *rows);
	if (!buf || !rows) {
		snprintf(err, errlen, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
		goto done;
	}
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = buf + (size_t)y * rowbytes;
	png_read_image(png, rows);
	if (grey && channels > 1) { /* an RGB "mask": its first channel */
		for (size_t i = 0; i < (size_t)w * h; i++)
			buf[i] = buf[i * channels];
	}
	*pix = buf;
	buf = NULL;
	rc = 0;
done:
	free(buf);
	free(rows);
	png_destroy_read_struct(&png, info ? &info : NULL, NULL);
	return rc;
}

int hp_image_decode_grey(const unsigned char *data, size_t n, int *w, int *h, unsigned char **grey, char *err,
                         size_t errlen)
{
	*grey = NULL;
	if (hp_image_sniff(data, n) != HP_IMAGE_PNG) {
		snprintf(err, errlen, "not a PNG");
		return -1;
	}
	return png_decode_any(data, n, true, w, h, grey, false, err, errlen);
}

/* ---- WebP ------------------------------------------------------------------ */

static int webp_decode(const unsigned char *d, size_t n, struct hp_pixmap *out, bool probe_only, int *pw,
                       int *ph, char *err, size_t errlen)
{
	int w = 0, h = 0;
	if (!WebPGetInfo(d, n, &w, &h)) {
		snprintf(err, errlen, "not a readable WebP");
		return -1;
	}
	if (set_size(w, h, pw, ph, err, errlen) < 0)
		return -1;
	if (probe_only)
		return 0;
	if (alloc_rgb(out, w, h, err, errlen) < 0)
		return -1;
	if (!WebPDecodeRGBInto(d, n, out->rgb, (size_t)w * (size_t)h * 3, w * 3)) {
		snprintf(err, errlen, "not a readable WebP");
		hp_pixmap_free(out);
		return -1;
	}
	return 0;
}

/* ---- BMP ------------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bmp_decode(const unsigned char *d, size_t n, struct hp_pixmap *out, bool probe_only, int *pw, int *ph,
                      char *err, size_t errlen)
{
	if (n < 54) {
		snprintf(err, errlen, "not a readable BMP: truncated header");
		return -1;
	}
	uint32_t off = le32(d + 10), dib = le32(d + 14);
	int32_t w = (int32_t)le32(d + 18), hh = (int32_t)le32(d + 22);
	unsigned bpp = (unsigned)(d[28] | d[29] << 8);
	uint32_t comp = le32(d + 30), ncolors = le32(d + 46);
	bool top_down = hh < 0;
	long h = top_down ? -(long)hh : (long)hh;
	if (dib < 40 || (comp != 0 && !(comp == 3 && bpp == 32)) || (bpp != 8 && bpp != 24 && bpp != 32)) {
		snprintf(err, errlen, "not a readable BMP: only uncompressed 8-, 24- and 32-bit files are read");
		return -1;
	}
	if (set_size(w, h, pw, ph, err, errlen) < 0)
		return -1;
	if (probe_only)
		return 0;
	size_t stride = (((size_t)w * bpp + 31) / 32) * 4;
	if (off > n || (n - off) / stride < (size_t)h) {
		snprintf(err, errlen, "not a readable BMP: truncated pixels");
		return -1;
	}
	const unsigned char *pal = d + 14 + dib;
	if (ncolors == 0 || ncolors > 256)
		ncolors = 256;
	if (bpp == 8 && (14 + (size_t)dib + 4 * (size_t)ncolors > off)) {
		snprintf(err, errlen, "not a readable BMP: truncated palette");
		return -1;
	}
	if (alloc_rgb(out, (int)w, (int)h, err, errlen) < 0)
		return -1;
	for (long y = 0; y < h; y++) {
		const unsigned char *row = d + off + stride * (size_t)(top_down ? y : h - 1 - y);
		unsigned char *o = out->rgb + (size_t)y * (size_t)w * 3;
		for (long x = 0; x < w; x++, o += 3) {
			const unsigned char *p;
			if (bpp == 8) {
				unsigned idx = row[x];
				p = idx < ncolors ? pal + 4 * idx : pal;
			} else {
				p = row + (size_t)x * (bpp / 8);
			}
			o[0] = p[2];
			o[1] = p[1];
			o[2] = p[0];
		}
	}
	return 0;
}

/* ---- GIF (first frame) ----------------------------------------------------- */

struct gif_src {
	const unsigned char *d;
	size_t n, off;
};

static int gif_read_mem(GifFileType *g, GifByteType *buf, int len)
{
	struct gif_src *s = g->UserData;
	size_t k = (size_t)len < s->n - s->off ? (size_t)len : s->n - s->off;
	memcpy(buf, s->d + s->off, k);
	s->off += k;
	return (int)k;
}

/* Read records up to the first image's descriptor; *trans: its transparent
 * colour index from a graphics control extension, or -1. 0, or -1 (GIF_ERROR). */
static int gif_first_image(GifFileType *g, int *trans)
{
	GifRecordType rt;
	*trans = -1;
	do {
		if (DGifGetRecordType(g, &rt) == GIF_ERROR)
			return -1;
		if (rt == EXTENSION_RECORD_TYPE) {
			int code;
			GifByteType *ext;
			if (DGifGetExtension(g, &code, &ext) == GIF_ERROR)
				return -1;
			while (ext) {
				if (code == GRAPHICS_EXT_FUNC_CODE && ext[0] >= 4 && (ext[1] & 1))
					*trans = ext[4];
				if (DGifGetExtensionNext(g, &ext) == GIF_ERROR)
					return -1;
			}
		}
	} while (rt != IMAGE_DESC_RECORD_TYPE && rt != TERMINATE_RECORD_TYPE);
	if (rt != IMAGE_DESC_RECORD_TYPE || DGifGetImageDesc(g) == GIF_ERROR)
		return -1;
	return 0;
}

/* The canvas: the background colour where the frame does not reach. */
static void gif_background(const GifFileType *g, struct hp_pixmap *out)
{
	GifColorType bg = { 0, 0, 0 };
	if (g->SColorMap && g->SBackGroundColor < g->SColorMap->ColorCount)
		bg = g->SColorMap->Colors[g->SBackGroundColor];
	for (size_t i = 0; i < (size_t)out->w * (size_t)out->h; i++) {
		out->rgb[3 * i] = bg.Red;
		out->rgb[3 * i + 1] = bg.Green;
		out->rgb[3 * i + 2] = bg.Blue;
	}
}

/* The frame's lines (interlaced or not) onto the canvas, through colour map
 * cm, leaving transparent pixels alone. line holds the frame's width.
 * 0, or -1 (GIF_ERROR). */
static int gif_frame(GifFileType *g, const ColorMapObject *cm, int trans, GifByteType *line, struct hp_pixmap *out)
{
	static const int ioff[] = { 0, 4, 2, 1 }, istep[] = { 8, 8, 4, 2 };
	const GifImageDesc *id = &g->Image;
	int passes = id->Interlace ? 4 : 1;
	for (int p = 0; p < passes; p++) {
		for (int y = id->Interlace ? ioff[p] : 0; y < id->Height; y += id->Interlace ? istep[p] : 1) {
			if (DGifGetLine(g, line, id->Width) == GIF_ERROR)
				return -1;
			unsigned char *o = out->rgb + ((size_t)(id->Top + y) * (size_t)out->w + (size_t)id->Left) * 3;
			for (int x = 0; x < id->Width; x++, o += 3) {
				if (line[x] == trans || line[x] >= cm->ColorCount)
					continue;
				o[0] = cm->Colors[line[x]].Red;
				o[1] = cm->Colors[line[x]].Green;
				o[2] = cm->Colors[line[x]].Blue;
			}
		}
	}
	return 0;
}

static int gif_decode(const unsigned char *d, size_t n, struct hp_pixmap *out, bool probe_only, int *pw, int *ph,
                      char *err, size_t errlen)
{
	struct gif_src src = { d, n, 0 };
	int gerr = 0, rc = -1, trans;
	GifByteType *line = NULL;
	GifFileType *g = DGifOpen(&src, gif_read_mem, &gerr);
	if (!g) {
		snprintf(err, errlen, "not a readable GIF: %s", GifErrorString(gerr));
		return -1;
	}
	if (set_size(g->SWidth, g->SHeight, pw, ph, err, errlen) < 0)
		goto done;
	if (probe_only) {
		rc = 0;
		goto done;
	}
	if (gif_first_image(g, &trans) < 0)
		goto bad;
	GifImageDesc *id = &g->Image;
	ColorMapObject *cm = id->ColorMap ? id->ColorMap : g->SColorMap;
	if (!cm || id->Width <= 0 || id->Height <= 0 || id->Left < 0 || id->Top < 0 ||
	    id->Left + id->Width > g->SWidth || id->Top + id->Height > g->SHeight)
		goto bad;
	if (alloc_rgb(out, g->SWidth, g->SHeight, err, errlen) < 0)
		goto done;
	gif_background(g, out);
	line = malloc((size_t)id->Width);
	if (!line) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (gif_frame(g, cm, trans, line, out) < 0)
		goto bad;
	rc = 0;
	goto done;
bad:
	snprintf(err, errlen, "not a readable GIF: %s", GifErrorString(g->Error));
done:
	if (rc < 0)
		hp_pixmap_free(out);
	free(line);
	DGifCloseFile(g, &gerr);
	return rc;
}

/* ---- the entry points ------------------------------------------------------ */

static int decode_kind(const unsigned char *d, size_t n, enum hp_image_kind k, int min_long, struct hp_pixmap *out,
                       bool probe_only, int *w, int *h, char *err, size_t errlen)
{
	unsigned char *pix = NULL;
	switch (k) {
	case HP_IMAGE_JPEG:
		if (probe_only) {
			int cs;
			if (jpeg_header(d, n, w, h, &cs, err, errlen) < 0)
				return -1;
			return too_big(*w, *h, err, errlen);
		}
		return jpeg_decode(d, n, min_long, out, err, errlen);
	case HP_IMAGE_PNG:
		if (png_decode_any(d, n, false, w, h, &pix, probe_only, err, errlen) < 0)
			return -1;
		if (!probe_only) {
			out->rgb = pix;
			out->w = *w;
			out->h = *h;
		}
		return 0;
	case HP_IMAGE_WEBP:
		return webp_decode(d, n, out, probe_only, w, h, err, errlen);
	case HP_IMAGE_BMP:
		return bmp_decode(d, n, out, probe_only, w, h, err, errlen);
	case HP_IMAGE_GIF:
		return gif_decode(d, n, out, probe_only, w, h, err, errlen);
	default:
		snprintf(err, errlen, "not an image hubpredict can read (JPEG, PNG, WebP, BMP, GIF)");
		return -1;
	}
}

int hp_image_probe(const unsigned char *data, size_t n, enum hp_image_kind *kind, int *w, int *h,
                   int *orientation, char *err, size_t errlen)
{
	enum hp_image_kind k = hp_image_sniff(data, n);
	int o = k == HP_IMAGE_JPEG ? hp_exif_orientation(data, n) : 1;
	if (decode_kind(data, n, k, 0, NULL, true, w, h, err, errlen) < 0)
		return -1;
	if (o >= 5) {
		int t = *w;
		*w = *h;
		*h = t;
	}
	if (kind)
		*kind = k;
	if (orientation)
		*orientation = o;
	return 0;
}

int hp_image_decode(const unsigned char *data, size_t n, int min_long, struct hp_pixmap *out,
                    enum hp_image_kind *kind, char *err, size_t errlen)
{
	enum hp_image_kind k = hp_image_sniff(data, n);
	int w = 0, h = 0;
	*out = (struct hp_pixmap){ 0 };
	if (decode_kind(data, n, k, min_long, out, false, &w, &h, err, errlen) < 0)
		return -1;
	int o = k == HP_IMAGE_JPEG ? hp_exif_orientation(data, n) : 1;
	if (hp_pixmap_orient(out, o) < 0) {
		hp_pixmap_free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (kind)
		*kind = k;
	return 0;
}

int hp_image_read_fd(int fd, size_t max, unsigned char **data, size_t *n)
{
	size_t cap = 1 << 16, len = 0;
	unsigned char *b = malloc(cap);
	if (!b)
		return -1;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				free(b);
				errno = EFBIG;
				return -1;
			}
			size_t nc = cap * 2 > max ? max : cap * 2;
			unsigned char *nb = realloc(b, nc);
			if (!nb) {
				free(b);
				return -1;
			}
			b = nb;
			cap = nc;
		}
		ssize_t got = pread(fd, b + len, cap - len, (off_t)len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(b);
			errno = e;
			return -1;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	*data = b;
	*n = len;
	return 0;
}
