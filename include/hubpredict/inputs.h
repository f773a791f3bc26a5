/* inputs.h - the list of things to send, produced one at a time.
 *
 * INPUT arguments are files, "-" (standard input) or directories (their image
 * and video files by extension, sorted by name). The source hands out one
 * input at a time so a long list is never held in memory at once.
 *
 * Ownership: strings in a struct hp_input belong to it; hp_input_clear()
 * frees them. The source belongs to the caller: hp_inputs_free().
 */
#ifndef HUBPREDICT_INPUTS_H
#define HUBPREDICT_INPUTS_H

#include <stdbool.h>
#include <stddef.h>

struct hp_input {
	char *path;        /* what to open; "-" for standard input */
	char *error;       /* set when the source itself failed for this entry
	                      (e.g. a directory without images): exit 3 */
};

struct hp_inputs;

/* A source over the positional INPUTs (not copied: they must outlive it). */
struct hp_inputs *hp_inputs_new(char *const *args, size_t n);
void hp_inputs_free(struct hp_inputs *src);

/* Next input into *in. Returns 1, or 0 when there are no more. */
int hp_inputs_next(struct hp_inputs *src, struct hp_input *in);

/* True when the run may have more than one input (several INPUTs or a
 * directory), known before the first is sent. */
bool hp_inputs_several(const struct hp_inputs *src);

void hp_input_clear(struct hp_input *in);

/* True when the name ends in an image or video extension (case-insensitive). */
bool hp_is_media_name(const char *name);
bool hp_is_video_name(const char *name);

#endif
