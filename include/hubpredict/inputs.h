/* inputs.h - the list of things to send, produced one at a time.
 *
 * INPUT arguments are files, "-" (standard input) or directories (their image
 * and video files by extension, sorted by name; with `recursive`, their
 * subdirectories too, depth first in name order). After the arguments come
 * the entries of --files-from, one path per line (or NUL-separated), read
 * lazily: a list of a million paths is never held in memory. A directory
 * holds one sorted listing per level being walked.
 *
 * The list is one kind of source (source.h) for the engine.
 *
 * Ownership: strings in a struct hp_input belong to it; hp_input_clear()
 * frees them. The list belongs to the caller: hp_inputs_free().
 */
#ifndef HUBPREDICT_INPUTS_H
#define HUBPREDICT_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hubpredict/source.h" /* struct hp_input, hp_input_clear */

struct hp_inputs_config {
	char *const *args;          /* positional INPUTs (not copied: must outlive the source) */
	size_t n_args;
	bool recursive;             /* -r */
	const char *files_from;     /* --files-from FILE, "-" = stdin, or NULL */
	bool null_separated;        /* -0 */
	unsigned long shard_k;      /* --shard K/N: keep only the inputs of shard K */
	unsigned long shard_n;      /* of N (0 or 1 = every input) */
};

struct hp_inputs;

/* A list over cfg into *out (set only on success; the caller frees it with
 * hp_inputs_free). 0, or HP_EXIT_INPUT (3) with a message in err when
 * --files-from cannot be opened or out of memory. */
int hp_inputs_new(struct hp_inputs **out, const struct hp_inputs_config *cfg, char *err, size_t errlen);
void hp_inputs_free(struct hp_inputs *src);

/* Next input into *in. Returns 1, or 0 when there are no more. With
 * --shard, inputs (and per-entry errors) of other shards are passed over. */
int hp_inputs_next(struct hp_inputs *src, struct hp_input *in);

/* True when the run may have more than one input (several INPUTs, a
 * directory, or a list), known before the first is sent. */
bool hp_inputs_several(const struct hp_inputs *src);

/* Count the inputs cfg will produce without keeping them (a second pass
 * over directories and a regular --files-from file), for the progress
 * display. Returns 0 when the count cannot be known (a list on a pipe). */
size_t hp_inputs_count(const struct hp_inputs_config *cfg);

/* The list as a source for the engine (source.h): borrowed, valid while
 * src is. */
struct hp_input_source hp_inputs_source(struct hp_inputs *src);

/* --shard K/N (hubpredict(1), CACHE, RESUME AND SHARDS): the path as given,
 * its bytes hashed with FNV-1a 64; kept when the hash mod N is K-1. */
uint64_t hp_fnv1a64(const void *data, size_t len);
bool hp_shard_keeps(const char *path, unsigned long k, unsigned long n);

/* hp_is_media_name, hp_is_video_name: media.h */
#include "hubpredict/media.h"

#endif
