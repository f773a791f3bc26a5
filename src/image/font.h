/* font.h - anti-aliased text with FreeType, in a font fontconfig finds
 * (DejaVu Sans, from fonts-dejavu-core, as the dependency).
 *
 * Ownership: hp_font_open() returns a font owned by the caller, freed with
 * hp_font_free() (NULL-safe). */
#ifndef HUBPREDICT_IMAGE_FONT_H
#define HUBPREDICT_IMAGE_FONT_H

#include <stddef.h>
#include "draw.h"

struct hp_font;
struct hp_pixmap;

/* NULL with a reason in err when no font can be found or loaded. */
struct hp_font *hp_font_open(char *err, size_t errlen);

/* Text height in pixels (ascent + descent) for later calls. 0, or -1. */
int hp_font_set_size(struct hp_font *f, int px);

/* The text's advance width and the line height, in pixels (UTF-8; invalid
 * bytes and control characters are drawn as U+FFFD). */
void hp_font_measure(struct hp_font *f, const char *s, size_t n, int *w, int *h);

/* Draw with the line's top-left corner at (x, y). */
void hp_font_draw(struct hp_font *f, struct hp_pixmap *p, int x, int y, const char *s, size_t n, struct hp_rgb c);

void hp_font_free(struct hp_font *f);

#endif
