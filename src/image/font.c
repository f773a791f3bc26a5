/* font.c - glyphs from FreeType, the font file from fontconfig. */
#define _POSIX_C_SOURCE 200809L
#include "font.h"
#include "hubpredict/image.h"
#include "hubpredict/text.h"

#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rendered ASCII glyphs at the current size: labels repeat the same few
 * characters, and rendering through FreeType's hinter is the slow part. */
struct glyph {
	bool ready, missing;
	int left, top, advance;  /* advance in 26.6 */
	unsigned w, rows;
	unsigned char *bits;     /* w * rows coverage bytes */
};

struct hp_font {
	FT_Library lib;
	FT_Face face;
	int ascent, height;
	struct glyph ascii[128];
};

static void cache_clear(struct hp_font *f)
{
	for (int i = 0; i < 128; i++) {
		free(f->ascii[i].bits);
		f->ascii[i] = (struct glyph){ 0 };
	}
}

/* The glyph for cp: from the cache (ASCII), else rendered into *tmp. NULL
 * when the font cannot render it. */
static const struct glyph *glyph_for(struct hp_font *f, unsigned long cp, struct glyph *tmp)
{
	struct glyph *g = cp < 128 ? &f->ascii[cp] : tmp;
	if (g->ready)
		return g->missing ? NULL : g;
	*g = (struct glyph){ .ready = true, .missing = true };
	if (FT_Load_Char(f->face, cp, FT_LOAD_RENDER) != 0)
		return NULL;
	FT_GlyphSlot s = f->face->glyph;
	size_t n = (size_t)s->bitmap.width * s->bitmap.rows;
	g->bits = malloc(n ? n : 1);
	if (!g->bits)
		return NULL;
	for (unsigned r = 0; r < s->bitmap.rows; r++)
		memcpy(g->bits + (size_t)r * s->bitmap.width, s->bitmap.buffer + (long)r * s->bitmap.pitch,
		       s->bitmap.width);
	g->w = s->bitmap.width;
	g->rows = s->bitmap.rows;
	g->left = s->bitmap_left;
	g->top = s->bitmap_top;
	g->advance = (int)s->advance.x;
	g->missing = false;
	return g;
}

struct hp_font *hp_font_open(char *err, size_t errlen)
{
	struct hp_font *f = calloc(1, sizeof *f);
	char *file = NULL;
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	FcConfig *cfg = FcInitLoadConfigAndFonts();
	FcPattern *pat = FcNameParse((const FcChar8 *)"DejaVu Sans");
	if (cfg && pat) {
		FcConfigSubstitute(cfg, pat, FcMatchPattern);
		FcDefaultSubstitute(pat);
		FcResult res;
		FcPattern *m = FcFontMatch(cfg, pat, &res);
		FcChar8 *path = NULL;
		if (m && FcPatternGetString(m, FC_FILE, 0, &path) == FcResultMatch && path)
			file = strdup((const char *)path);
		if (m)
			FcPatternDestroy(m);
	}
	if (pat)
		FcPatternDestroy(pat);
	if (cfg)
		FcConfigDestroy(cfg);
	FcFini(); /* fontconfig is done with: its caches and defaults go too (valgrind-clean) */
	if (!file) {
		snprintf(err, errlen, "no font found through fontconfig (install fonts-dejavu-core)");
		free(f);
		return NULL;
	}
	if (FT_Init_FreeType(&f->lib) != 0 || FT_New_Face(f->lib, file, 0, &f->face) != 0) {
		snprintf(err, errlen, "cannot load the font '%s'", file);
		free(file);
		hp_font_free(f);
		return NULL;
	}
	free(file);
	return f;
}

int hp_font_set_size(struct hp_font *f, int px)
{
	cache_clear(f);
	if (FT_Set_Pixel_Sizes(f->face, 0, (FT_UInt)px) != 0)
		return -1;
	f->ascent = (int)((f->face->size->metrics.ascender + 63) >> 6);
	f->height = f->ascent + (int)((-f->face->size->metrics.descender + 63) >> 6);
	return 0;
}

/* The next code point of UTF-8 text; U+FFFD for a bad byte or a control. */
static unsigned long next_cp(const unsigned char *s, size_t n, size_t *i)
{
	size_t k = hp_utf8_seq_len(s + *i, n - *i);
	unsigned c = s[*i];
	if (k == 0 || c < 0x20 || c == 0x7f) {
		(*i)++;
		return 0xFFFD;
	}
	unsigned long cp = k == 1 ? c : k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : c & 0x07;
	for (size_t j = 1; j < k; j++)
		cp = cp << 6 | (s[*i + j] & 0x3F);
	*i += k;
	return cp;
}

void hp_font_measure(struct hp_font *f, const char *s, size_t n, int *w, int *h)
{
	long adv = 0;
	for (size_t i = 0; i < n;) {
		struct glyph tmp = { 0 };
		const struct glyph *g = glyph_for(f, next_cp((const unsigned char *)s, n, &i), &tmp);
		if (g)
			adv += g->advance;
		free(tmp.bits);
	}
	*w = (int)((adv + 63) >> 6);
	*h = f->height;
}

void hp_font_draw(struct hp_font *f, struct hp_pixmap *p, int x, int y, const char *s, size_t n, struct hp_rgb c)
{
	long pen = (long)x << 6;
	int base = y + f->ascent;
	for (size_t i = 0; i < n;) {
		struct glyph tmp = { 0 };
		const struct glyph *g = glyph_for(f, next_cp((const unsigned char *)s, n, &i), &tmp);
		if (!g) {
			free(tmp.bits);
			continue;
		}
		int gx = (int)(pen >> 6) + g->left, gy = base - g->top;
		for (unsigned r = 0; r < g->rows; r++)
			for (unsigned col = 0; col < g->w; col++) {
				unsigned char a = g->bits[(size_t)r * g->w + col];
				if (a)
					hp_draw_blend(p, gx + (int)col, gy + (int)r, c, a / 255.0);
			}
		pen += g->advance;
		free(tmp.bits);
	}
}

void hp_font_free(struct hp_font *f)
{
	if (!f)
		return;
	cache_clear(f);
	if (f->face)
		FT_Done_Face(f->face);
	if (f->lib)
		FT_Done_FreeType(f->lib);
	free(f);
}
