/* val_plots.h - `val --plots DIR` (private to src/cli/): the folder checked
 * before anything is sent, and Ultralytics' plots of the metrics written at
 * the end (hubpredict(1), VAL): PR_curve.png, F1_curve.png, P_curve.png,
 * R_curve.png (Box and Mask/Pose prefixed for segment and pose), and
 * confusion_matrix.png, confusion_matrix_normalized.png.
 *
 * Ownership: everything passed is borrowed for the call.
 */
#ifndef HUBPREDICT_CLI_VAL_PLOTS_H
#define HUBPREDICT_CLI_VAL_PLOTS_H

#include <stddef.h>

struct hp_val_result;

/* Before anything is sent: DIR may not be a file, a FIFO or anything but a
 * directory, nor be, hold or lie by the folder of an image (as --annotate,
 * preflight.h); no plot's name in it may be a link, a directory or another
 * non-regular file, nor one of the images; the image module loads and finds
 * its font; then DIR
 * is made and a file can be created in it. 0, or an exit status (2, or 11
 * when DIR cannot be made or written) with one line in err. */
int hp_val_plots_check(const char *dir, char *const *images, size_t n_images, char *err, size_t errlen);

/* The plots of r (its curves kept: hp_valstats_keep_curves) into DIR.
 * names[k]: class k's name, for k < r->cm_n. 0, or -1 with one line in
 * err (exit 11). */
int hp_val_plots_write(const char *dir, const struct hp_val_result *r, const char *const *names, char *err,
                       size_t errlen);

#endif
