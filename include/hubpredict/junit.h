/* junit.h - the --junit report: one JUnit XML testcase per input.
 *
 * A struct hp_observer (item.h) hands every finished input to
 * hp_junit_item() in input order. The testcases are spooled to an unlinked
 * temporary file (constant memory, whatever the batch's size); finishing
 * writes the counts, the spooled testcases and the closing tags to a
 * temporary file beside FILE and renames it over FILE (output.h), so FILE is
 * either untouched or a complete, valid report - also after an interruption,
 * when it holds the inputs that had finished.
 *
 * An input that succeeded passes; one whose checks failed (--expect) gets one
 * <failure type="expectation">; one whose request failed gets one <error>
 * whose type is its exit status's name (hp_exit_name: "auth", "not found").
 */
#ifndef HUBPREDICT_JUNIT_H
#define HUBPREDICT_JUNIT_H

#include <stddef.h>
#include <time.h>

struct hp_item;
struct hp_output;
struct hp_junit;

/* Start a report for path: creates the temporary file beside it now, so an
 * unwritable path fails before anything is sent. started is the run's start
 * (the testsuite's timestamp). Returns a new report (free with
 * hp_junit_free), or NULL with a message in err (exit 11). */
struct hp_junit *hp_junit_open(const char *path, time_t started, char *err, size_t errlen);

/* One finished input (the hp_observer callback; state is the struct hp_junit). */
void hp_junit_item(void *state, const struct hp_item *it);

/* A video cut into frames, judged by --expect over its frames (hp_observer's
 * video callback): a testcase of its own, named "VIDEO (--expect over its
 * frames)", with a failure listing the n_unmet checks not met in any frame. */
void hp_junit_video(void *state, const char *video, const char *const *unmet, size_t n_unmet);

/* Write the whole report to out (for the unit tests; hp_junit_finish uses
 * it): elapsed_s is the run's wall time, note (may be NULL) a line for the
 * testsuite's <system-err>, such as why the run ended early. */
void hp_junit_write(struct hp_junit *j, struct hp_output *out, double elapsed_s, const char *note);

/* Write the report and rename it over the path. Returns 0, or -1 with a
 * message in err (exit 11). Call once. */
int hp_junit_finish(struct hp_junit *j, double elapsed_s, const char *note, char *err, size_t errlen);

/* Counts so far (tests, failures, errors), for the unit tests. */
void hp_junit_counts(const struct hp_junit *j, size_t *tests, size_t *failures, size_t *errors);

/* One <testcase> of a report a command writes itself (val's and bench's
 * checks): classname and name escaped, and a <failure> with the message when
 * failure is not NULL. Writes into out; borrows everything. */
void hp_junit_write_case(struct hp_output *out, const char *classname, const char *name, const char *failure);

/* Free; an unfinished report's temporary file is removed. NULL-safe. */
void hp_junit_free(struct hp_junit *j);

#endif
