/* imgtool.c - JPEG in and out for the picture tests, on TurboJPEG directly
 * (not on hubpredict's code, so the tests check the binary against an
 * independent decoder):
 *
 *   imgtool decode IN.jpg OUT.ppm      pixels as stored (no EXIF applied)
 *   imgtool encode IN.ppm OUT.jpg [ORIENTATION [cmyk]]
 *       quality 95, 4:4:4; ORIENTATION 1-8 adds an EXIF APP1 segment with
 *       that tag; "cmyk" writes an Adobe-style (inverted) CMYK JPEG
 *   imgtool webp IN.ppm OUT.webp
 *       a lossless WebP (libwebp's encoder)
 *   imgtool photo W H OUT.jpg
 *       a photo-like picture for the benchmarks: smooth shapes plus grain,
 *       so that it does not compress to nothing (quality 92, 4:2:0)
 *
 * Exit 0 on success, 1 with a message on stderr otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/encode.h>

static unsigned char *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 20, len = 0;
	unsigned char *b = malloc(cap);
	size_t got;
	while (b && (got = fread(b + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			unsigned char *nb = realloc(b, cap *= 2);
			if (!nb) {
				free(b);
				b = NULL;
			}
			b = nb;
		}
	}
	fclose(f);
	*n = len;
	return b;
}

/* A binary PPM's pixels: a pointer into *file (the caller frees *file), or NULL. */
static const unsigned char *read_ppm(const char *path, unsigned char **file, int *w, int *h)
{
	size_t n;
	int maxv, off = 0;
	*file = read_all(path, &n);
	if (!*file || sscanf((char *)*file, "P6 %d %d %d%n", w, h, &maxv, &off) != 3 || maxv != 255 || *w <= 0 ||
	    *h <= 0 || (size_t)off + 1 + (size_t)*w * (size_t)*h * 3 > n)
		return NULL;
	return *file + off + 1; /* the single white space after maxval */
}

static int fail(const char *what)
{
	fprintf(stderr, "imgtool: %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "decode") == 0) {
		size_t n;
		unsigned char *j = read_all(argv[2], &n);
		int w, h, ss, cs;
		tjhandle tj = tjInitDecompress();
		if (!j || !tj || tjDecompressHeader3(tj, j, (unsigned long)n, &w, &h, &ss, &cs) != 0)
			return fail("cannot read the JPEG");
		unsigned char *px = malloc((size_t)w * (size_t)h * 3);
		if (!px || tjDecompress2(tj, j, (unsigned long)n, px, w, 0, h, TJPF_RGB, 0) != 0)
			return fail(tjGetErrorStr2(tj));
		FILE *o = fopen(argv[3], "wb");
		if (!o)
			return fail("cannot write the PPM");
		fprintf(o, "P6\n%d %d\n255\n", w, h);
		fwrite(px, 3, (size_t)w * (size_t)h, o);
		fclose(o);
		free(px);
		free(j);
		tjDestroy(tj);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "encode") == 0) {
		unsigned char *p;
		int w, h;
		const unsigned char *src = read_ppm(argv[2], &p, &w, &h);
		if (!src)
			return fail("cannot read the PPM");
		int orientation = argc >= 5 ? atoi(argv[4]) : 0;
		int cmyk = argc >= 6 && strcmp(argv[5], "cmyk") == 0;
		unsigned char *conv = NULL;
		int pf = TJPF_RGB;
		if (cmyk) {
			conv = malloc((size_t)w * (size_t)h * 4);
			if (!conv)
				return fail("out of memory");
			/* inverted CMYK with K = 255 (Adobe): C' = R, ... */
			for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
				conv[4 * i] = src[3 * i];
				conv[4 * i + 1] = src[3 * i + 1];
				conv[4 * i + 2] = src[3 * i + 2];
				conv[4 * i + 3] = 255;
			}
			src = conv;
			pf = TJPF_CMYK;
		}
		tjhandle tj = tjInitCompress();
		unsigned char *jb = NULL;
		unsigned long jn = 0;
		if (!tj || tjCompress2(tj, src, w, 0, h, pf, &jb, &jn, TJSAMP_444, 95, 0) != 0)
			return fail(tj ? tjGetErrorStr2(tj) : "cannot start TurboJPEG");
		FILE *o = fopen(argv[3], "wb");
		if (!o)
			return fail("cannot write the JPEG");
		fwrite(jb, 1, 2, o); /* SOI */
		if (orientation >= 1 && orientation <= 8) {
			/* APP1: "Exif\0\0", a big-endian TIFF header, IFD0 with one entry */
			unsigned char app1[] = { 0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
			                         'M', 'M', 0, 42, 0, 0, 0, 8,
			                         0, 1,                                 /* one entry */
			                         0x01, 0x12, 0, 3, 0, 0, 0, 1,         /* Orientation, SHORT, 1 */
			                         0, (unsigned char)orientation, 0, 0, /* its value */
			                         0, 0, 0, 0 };                         /* no next IFD */
			fwrite(app1, 1, sizeof app1, o);
		}
		fwrite(jb + 2, 1, jn - 2, o);
		fclose(o);
		tjFree(jb);
		tjDestroy(tj);
		free(conv);
		free(p);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "webp") == 0) {
		unsigned char *p, *out = NULL;
		int w, h;
		const unsigned char *src = read_ppm(argv[2], &p, &w, &h);
		if (!src)
			return fail("cannot read the PPM");
		size_t len = WebPEncodeLosslessRGB(src, w, h, w * 3, &out);
		FILE *o = len ? fopen(argv[3], "wb") : NULL;
		if (!o)
			return fail("cannot write the WebP");
		fwrite(out, 1, len, o);
		fclose(o);
		WebPFree(out);
		free(p);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "photo") == 0) {
		int w = atoi(argv[2]), h = atoi(argv[3]);
		if (w <= 0 || h <= 0 || w > 20000 || h > 20000)
			return fail("bad size");
		unsigned char *px = malloc((size_t)w * (size_t)h * 3);
		if (!px)
			return fail("out of memory");
		unsigned long seed = 12345;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				unsigned char *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
				for (int c = 0; c < 3; c++) {
					seed = seed * 6364136223846793005UL + 1442695040888963407UL;
					int grain = (int)((seed >> 33) % 41) - 20;
					int v = 128 + (int)(60 * sin(x * (0.003 + 0.001 * c)) + 50 * cos(y * 0.004 + c)) + grain;
					p[c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
				}
			}
		tjhandle tj = tjInitCompress();
		unsigned char *jb = NULL;
		unsigned long jn = 0;
		if (!tj || tjCompress2(tj, px, w, 0, h, TJPF_RGB, &jb, &jn, TJSAMP_420, 92, 0) != 0)
			return fail("cannot encode");
		FILE *o = fopen(argv[4], "wb");
		if (!o)
			return fail("cannot write the JPEG");
		fwrite(jb, 1, jn, o);
		fclose(o);
		tjFree(jb);
		tjDestroy(tj);
		free(px);
		return 0;
	}
	fprintf(stderr, "usage: imgtool decode IN.jpg OUT.ppm | encode IN.ppm OUT.jpg [ORIENTATION [cmyk]] | photo W H OUT.jpg\n");
	return 2;
}
