/* annotate.h - --annotate DIR (SPEC 8): each image input that succeeded,
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

/* Create DIR, check a file can be made in it, load the font. NULL with a
 * message in err: exit 11 (no font: exit 2). *code gets the exit status. */
struct hp_annotate *hp_annotate_new(const char *dir, char *err, size_t errlen, int *code);

/* The observer function (state = the set). */
void hp_annotate_item(void *state, const struct hp_item *it);

/* Pictures written, and whether one could not be written (exit 11). */
size_t hp_annotate_written(const struct hp_annotate *a);
bool hp_annotate_failed(const struct hp_annotate *a);

void hp_annotate_free(struct hp_annotate *a);

#endif
