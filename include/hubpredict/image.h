/* image.h - pictures: decoding (JPEG, PNG, WebP, BMP, GIF's first frame),
 * EXIF orientation, downsizing and encoding (JPEG at quality 95, PNG), on
 * Debian's libraries (TurboJPEG, libpng, libwebp). For --annotate and
 * --resize (hubpredict(1), "Pictures").
 *
 * Pixels are 8-bit RGB, rows top to bottom, no padding.
 *
 * Ownership: every struct hp_pixmap filled by these functions owns its
 * pixels, freed with hp_pixmap_free() (NULL-safe, idempotent); every byte
 * buffer returned through `unsigned char **out` is the caller's, freed with
 * free().
 */
#ifndef HUBPREDICT_IMAGE_H
#define HUBPREDICT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

/* Anything larger is refused before any pixel memory is allocated. */
#define HP_IMAGE_MAX_PIXELS 100000000L

enum hp_image_kind {
	HP_IMAGE_UNKNOWN = 0,
	HP_IMAGE_JPEG,
	HP_IMAGE_PNG,
	HP_IMAGE_WEBP,
	HP_IMAGE_BMP,
	HP_IMAGE_GIF
};

struct hp_pixmap {
	int w, h;
	unsigned char *rgb;     /* w * h * 3 bytes */
};

/* True when this build has image support (HUBPREDICT_IMAGES). */
bool hp_image_supported(void);

/* In the binary, everything here and in annotate.h and picture.h lives in
 * the image module, hubpredict-image.so (module.h), loaded by the first call
 * of annotate.h's or picture.h's functions; this loads it now, for a run
 * with --annotate or --resize, before anything is sent. 0, or -1 with one
 * line in err naming the file (in a build without image support: "no image
 * support"). Tests that link the image code directly do not need it. */
int hp_image_load(char *err, size_t errlen);

/* The format from the first bytes. */
enum hp_image_kind hp_image_sniff(const unsigned char *data, size_t n);

/* "JPEG", "PNG", ... */
const char *hp_image_kind_name(enum hp_image_kind k);

/* The EXIF orientation (1-8) of a JPEG's APP1 segment; 1 when there is none
 * or it cannot be read. Reads at most n bytes; never fails. */
int hp_exif_orientation(const unsigned char *data, size_t n);

/* The picture's size as the model sees it: the stored size with EXIF
 * orientation 5-8 swapping width and height. 0, or -1 with a reason in err
 * ("not an image", "truncated PNG header", "declares 50000x50000 pixels, over
 * the 100 megapixel limit"). */
int hp_image_probe(const unsigned char *data, size_t n, enum hp_image_kind *kind, int *w, int *h,
                   int *orientation, char *err, size_t errlen);

/* Decode, with the EXIF orientation applied. min_long > 0 lets a JPEG be
 * decoded at a DCT-scaled size whose long side is still >= min_long (much
 * faster when downsizing); 0 decodes at full size. 0, or -1 with a reason
 * in err. */
int hp_image_decode(const unsigned char *data, size_t n, int min_long, struct hp_pixmap *out,
                    enum hp_image_kind *kind, char *err, size_t errlen);

/* A box-filtered (area average) copy of src at w x h (each at most src's). */
int hp_pixmap_resize(const struct hp_pixmap *src, int w, int h, struct hp_pixmap *dst);

/* Rotate/flip p in place for EXIF orientation o (1-8). -1 when out of memory. */
int hp_pixmap_orient(struct hp_pixmap *p, int o);

/* Encode as JPEG (quality 95, 4:2:0) or PNG. 0, or -1 with a reason in err. */
int hp_image_encode(const struct hp_pixmap *p, enum hp_image_kind kind, unsigned char **out, size_t *n,
                    char *err, size_t errlen);

/* Decode a PNG holding one 8- or 16-bit grey channel (semantic class
 * indices, depth), scaled to 8 bits when 16. 0, or -1 with err. */
int hp_image_decode_grey(const unsigned char *data, size_t n, int *w, int *h, unsigned char **grey,
                         char *err, size_t errlen);

void hp_pixmap_free(struct hp_pixmap *p);

/* Read a whole open file from offset 0 (pread: its position is left alone),
 * at most max bytes. 0, or -1 with errno. */
int hp_image_read_fd(int fd, size_t max, unsigned char **data, size_t *n);

#endif
