/* progress.h - the progress line on stderr (hubpredict(1), "Progress and summary").
 *
 * On a terminal the line is redrawn in place at most ten times a second and
 * erased before any other message (msg.h calls hp_progress_erase through a
 * hook), so it never mixes with errors; stdout is never touched. Forced on
 * a non-terminal (--progress), a plain line is written at most once a second.
 */
#ifndef HUBPREDICT_PROGRESS_H
#define HUBPREDICT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_progress_state {
	size_t done;            /* inputs finished */
	size_t failed;
	size_t total;           /* 0 = unknown */
	double elapsed_s;
	uint64_t up_sent;       /* bytes sent of uploads in flight over 8 MiB */
	uint64_t up_total;
	const char *note;       /* e.g. "waiting for the endpoint to start", or NULL */
};

struct hp_progress;

/* A progress line (a NULL one is off): 0 (*p set), or exit 13 when out of
 * memory. in_place: stderr is a terminal. */
int hp_progress_new(struct hp_progress **p, bool in_place);
/* Redraw (rate-limited unless force). */
void hp_progress_update(struct hp_progress *p, const struct hp_progress_state *st, bool force);
/* Erase the line from the screen (before other stderr output, and at the
 * end); the object stays. NULL-safe. */
void hp_progress_erase(struct hp_progress *p);
void hp_progress_free(struct hp_progress *p);

/* Format the line into buf (exposed for tests). */
void hp_progress_format(char *buf, size_t len, const struct hp_progress_state *st);

#endif
