/* annotate.h - --annotate DIR (hubpredict(1), "Pictures"): each image input that succeeded,
 * drawn with its answer in Ultralytics' style, written atomically to the
 * label path rule's place below DIR (labels.h): .jpg for a JPEG input
 * (quality 95), .png for any other readable image.
 *
 * The set is a batch observer (batch.h): it sees each finished input in
 * input order, its response filtered by --min-conf and --classes, and the
 * input's original bytes (hp_item.source_fd).
 *
 * Ownership: hp_annotate_new() returns a set owned by the caller, freed
 * with hp_annotate_free() (NULL-safe).
 */
#ifndef HUBPREDICT_ANNOTATE_H
#define HUBPREDICT_ANNOTATE_H

#include <stdbool.h>
#include <stddef.h>

struct hp_item;
struct hp_annotate;
struct hp_pixmap;

/* Create DIR, check a file can be made in it, load the font. 0 (*a set),
 * or an exit status with a message in err: 11 (no font, or no image
 * support: 2; out of memory: 13). */
int hp_annotate_new(struct hp_annotate **a, const char *dir, char *err, size_t errlen);

/* An input's picture decoded ahead of its answer, while the server works, so
 * that --annotate adds only the drawing and the encoding to a run. Owned by
 * the caller, freed with hp_annotate_source_free() (NULL-safe). */
struct hp_annotate_source;

/* Decode the picture in fd (read with pread; its position is left alone).
 * NULL only when out of memory: a picture that does not decode keeps the
 * reason, for the warning hp_annotate_item() prints. */
struct hp_annotate_source *hp_annotate_source_new(int fd);
void hp_annotate_source_free(struct hp_annotate_source *s);

/* The observer function (state = the set). Uses it->source_picture when
 * there is one (taking its pixels), else decodes it->source_fd. */
void hp_annotate_item(void *state, const struct hp_item *it);

/* The answer of a successful it (its first image) drawn on p (borrowed,
 * drawn on in place), scaled from the answer's shape to p's size: how a
 * video's frames are drawn for its MP4 (frames.h). 0 (also when there is
 * nothing to draw), or -1 with err (a map that could not be read). */
int hp_annotate_draw(struct hp_annotate *a, struct hp_pixmap *p, const struct hp_item *it, char *err, size_t errlen);

/* The picture file an input maps to (state = the set), for the preflight
 * check (preflight.h); NULL for a video or URL input, which is not drawn.
 * Caller frees. */
char *hp_annotate_path_for(void *state, const char *input, size_t below);

/* Pictures written, and whether one could not be written (exit 11). */
size_t hp_annotate_written(const struct hp_annotate *a);
bool hp_annotate_failed(const struct hp_annotate *a);

void hp_annotate_free(struct hp_annotate *a);

#endif
