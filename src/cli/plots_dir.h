/* plots_dir.h - the folder of --plots DIR (private to src/cli/), checked the
 * same way for every command that draws charts (val, bench) before anything
 * is sent (SPEC §10).
 *
 * Ownership: everything passed is borrowed; hp_plots_join returns a string
 * the caller frees.
 */
#ifndef HUBPREDICT_CLI_PLOTS_DIR_H
#define HUBPREDICT_CLI_PLOTS_DIR_H

#include <stddef.h>

/* dir/prefix+name (one slash between), or NULL when out of memory. */
char *hp_plots_join(const char *dir, const char *prefix, const char *name);

/* DIR may not be a file, a FIFO or anything but a directory, nor be, hold
 * or lie by the folder of an input (as --annotate, preflight.h); none of the
 * n_names file names in it may be a link, a directory or another non-regular
 * file, nor one of the inputs; the image module loads and finds its font;
 * then DIR is made and a file can be created in it. 0, or an exit status (2,
 * or 11 when DIR cannot be made or written) with one line in err. */
int hp_plots_dir_check(const char *dir, const char *const *names, size_t n_names, char *const *inputs,
                       size_t n_inputs, char *err, size_t errlen);

#endif
