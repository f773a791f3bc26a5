/* preflight.h - every destination checked against every input before the
 * first request (hubpredict(1), "Safety of what is written and read"), so a batch is never sent only to be thrown away.
 *
 * Destinations are single files (-o, --junit) and trees of files derived
 * from the inputs (--save-txt's label files; a picture tree the same way).
 * Each is probed with hp_output_probe() (output.h, the one writer): a
 * directory is refused, and so is a destination that is one of the inputs
 * (same device and inode) or, for a single file, an existing image or video
 * (by its first bytes: how `-o *.jpg` goes wrong).
 */
#ifndef HUBPREDICT_PREFLIGHT_H
#define HUBPREDICT_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

struct hp_inputs_config;

struct hp_preflight_file {
	const char *flag;           /* "--output", "--junit" (for messages) */
	const char *path;
};

struct hp_preflight_tree {
	const char *flag;           /* "--save-txt", "--annotate" */
	/* The file an input maps to (caller of path_for frees it with free()),
	 * or NULL when it has none; below as struct hp_input's. */
	char *(*path_for)(void *state, const char *input, size_t below);
	void *state;
};

struct hp_preflight_dir;

struct hp_preflight {
	const struct hp_inputs_config *inputs;
	const struct hp_preflight_file *files;
	size_t n_files;
	const struct hp_preflight_tree *trees;
	size_t n_trees;
	struct hp_preflight_dir *annotate_dir; /* --annotate DIR, or NULL: hp_preflight_input checks it too */
};

/* Check everything above. Inputs are listed once more (directories walked
 * again, a regular --files-from FILE read again; a list on a pipe cannot be,
 * and is checked only for its first pass). Returns 0, or HP_EXIT_USAGE with a
 * one-line message in err naming the flag and both paths. */
int hp_preflight_check(const struct hp_preflight *p, char *err, size_t errlen);

/* True when hp_preflight_check() reads the --files-from list ahead (a
 * regular file); a pipe's entries need hp_preflight_input() instead. */
bool hp_preflight_reads_list(const char *files_from);

/* The same check for one input met while the batch runs (an entry of a
 * --files-from list on a pipe, which hp_preflight_check() cannot read
 * ahead): state is the struct hp_preflight. 0, or HP_EXIT_USAGE with err. */
int hp_preflight_input(void *state, const char *path, char *err, size_t errlen);

/* --annotate DIR against the inputs (hubpredict(1), "Safety of what is
 * written and read"): DIR may not be the folder of an input, nor contain an
 * input, nor be, contain or lie inside a directory INPUT, so no picture
 * lands among the originals. Compared by device and inode along each
 * folder's ancestors; a DIR not made yet is placed by its nearest existing
 * ancestor (as mkdir -p would make it). Checked before DIR is created.
 *
 * hp_preflight_dir_new: the state for DIR into *out (flag names it in
 * messages; both strings must outlive it): 0, or HP_EXIT_OUTPUT when out of
 * memory (*out untouched). The caller frees it with hp_preflight_dir_free(). */
int hp_preflight_dir_new(struct hp_preflight_dir **out, const char *flag, const char *dir);
void hp_preflight_dir_free(struct hp_preflight_dir *d);

/* Every input of cfg (a --files-from list on a pipe excepted, as above)
 * against DIR: 0, or HP_EXIT_USAGE with a one-line message in err. */
int hp_preflight_dir_check(struct hp_preflight_dir *d, const struct hp_inputs_config *cfg, char *err,
                           size_t errlen);

/* One input (path as struct hp_input's, below likewise) against DIR. */
int hp_preflight_dir_input(struct hp_preflight_dir *d, const char *path, size_t below, char *err, size_t errlen);

#endif
