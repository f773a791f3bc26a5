/* labels.h - --save-txt: YOLO-format label files, as Ultralytics writes them
 * (Results.save_txt), one per image and one per video frame.
 *
 * The label set is a batch observer (batch.h): it sees every finished input
 * in input order, with the response already filtered by --min-conf and
 * --classes, and writes that input's label files atomically (a temporary
 * file beside each, then rename). Failed inputs write nothing.
 *
 * Ownership: hp_labels_new() returns a label set owned by the caller, freed
 * with hp_labels_free() (NULL-safe). hp_labels_stem() and hp_labels_format()
 * return strings owned by the caller, freed with free().
 */
#ifndef HUBPREDICT_LABELS_H
#define HUBPREDICT_LABELS_H

#include <stdbool.h>
#include <stddef.h>

struct hp_item;
struct hp_image;
struct hp_response;

struct hp_labels_opts {
	const char *dir;        /* --save-txt DIR (not copied: must outlive the set) */
	bool save_conf;         /* --save-conf: confidence at the end of each line */
	bool normalized;        /* --normalize: coordinates are 0-1 already */
};

struct hp_labels;

/* Create DIR (and its parents) and check a file can be created in it.
 * 0 (*l set), or an exit status with a one-line message in err: 11 naming
 * the path, 13 out of memory. */
int hp_labels_new(struct hp_labels **l, const struct hp_labels_opts *o, char *err, size_t errlen);

/* The observer function (state = the label set): write one input's files.
 * After the first write error it prints one message and writes no more. */
void hp_labels_item(void *state, const struct hp_item *it);

/* Label files written so far, and whether any could not be written (the
 * run's exit status is then 11). */
size_t hp_labels_written(const struct hp_labels *l);
bool hp_labels_failed(const struct hp_labels *l);

void hp_labels_free(struct hp_labels *l);

/* Where an input's output files go, relative to DIR and without extension
 * (hubpredict(1), "Label and picture paths"): for a file named as an INPUT or in
 * --files-from (below == 0) its base name ("/data/cam/x.jpg" -> "x"); for a
 * file found inside a directory INPUT, its path below that directory, from
 * input + below, with empty, "." and ".." components dropped ("-r
 * photos/" with "photos/a/x.jpg", below 7 -> "a/x"); "-" gives "stdin"; a
 * URL gives its last path segment with bytes other than [A-Za-z0-9._-] as
 * '_' and a leading '.' as '_'. The extension is the last component's part
 * from its last '.' (not a leading one). NULL when out of memory. */
char *hp_labels_stem(const char *input, size_t below);

/* DIR/STEM + suffix for an input (STEM as hp_labels_stem; trailing '/' of
 * dir dropped); suffix is appended as given: ".txt", "_3.txt" (a video's
 * third frame), or e.g. ".jpg" for a future --annotate DIR. This is the one
 * function that maps inputs to output paths. Caller frees; NULL when out of
 * memory. */
char *hp_output_path(const char *dir, const char *input, size_t below, const char *suffix);

/* The label file an image input maps to (state = the label set), for the
 * preflight check (preflight.h); NULL for a video (one file per frame) or
 * when out of memory. Caller frees. */
char *hp_labels_path_for(void *state, const char *input, size_t below);

/* The text of one image's label file (every line ends in '\n'; "" when it
 * has no results), or NULL when out of memory or when the image's results
 * cannot be normalised (no shape in a pixel answer: *why says so). *len gets
 * the length. Semantic and depth answers have no label format: NULL, *why
 * set. */
char *hp_labels_format(const struct hp_response *r, const struct hp_image *im,
                       const struct hp_labels_opts *o, size_t *len, const char **why);

/* Create DIR (and its parents) and check a file can be made in it; flag
 * ("--save-txt", "--annotate") starts the message in err. 0, or -1: exit 11. */
int hp_labels_check_dir(const char *flag, const char *dir, char *err, size_t errlen);

/* Write len bytes to path atomically (a temporary file beside it, then
 * rename; missing parent directories are made): the writer of every label
 * and picture file. 0, or -1 with errno. */
int hp_labels_write_file(const char *path, const void *data, size_t len);

#endif
