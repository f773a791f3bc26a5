/* batch.h - the run: every input through libcurl's multi interface in one
 * thread, answers written in input order whatever order they finish in (or,
 * asked, in the order they finish).
 *
 * Per input (source.h: a path, or produced bytes): open it (upload.h), configure an attempt (request.h), run
 * it, classify the outcome (status, body, curl error) into an exit status and
 * a one-line message, decode the body (response.h), hand it to the renderer
 * (render.h) once every earlier input has been handed over.
 *
 * Ownership: every pointer in struct hp_batch_config is borrowed: the caller
 * made each (request context, inputs, renderer, output, filter, expects,
 * baseline, observers, progress) and frees it after hp_batch_run returns; the
 * batch frees none of them. What the batch hands to an observer (struct
 * hp_item, item.h) is the batch's, valid during that call only.
 * struct hp_batch_stats is filled in by value.
 */
#ifndef HUBPREDICT_BATCH_H
#define HUBPREDICT_BATCH_H

#include "hubpredict/item.h"

#include <stdbool.h>
#include <stddef.h>
#include "hubpredict/source.h"

struct hp_request_ctx;
struct hp_renderer;
struct hp_output;
struct hp_progress;
struct hp_filter;
struct hp_expect;
struct hp_baseline;
struct hp_cache;
struct hp_resume;


struct hp_batch_config {
	const struct hp_request_ctx *req;
	struct hp_input_source source;    /* the inputs (source.h): the list of paths, or produced bytes */
	const struct hp_upload_limits *limits; /* --max-upload, NULL = none */
	/* Called for each input before it is opened, NULL = none: nonzero (with
	 * a message) refuses it and ends the run, its outputs not written
	 * (an input that is also an output, met in a list on a pipe). */
	int (*check_input)(void *state, const char *path, char *err, size_t errlen); /* paths only */
	void *check_state;
	struct hp_renderer *renderer;
	struct hp_output *out;      /* to notice a closed or full stdout */
	int jobs;                   /* requests in flight at once */
	bool completion_order;      /* hand each input on as it finishes, not in input order
	                               (streams, bench) */
	/* for a source whose next() may say "nothing yet" (-1, source.h): how
	 * many ms until it may have something, and a descriptor (in *fd, -1
	 * none) readable when it should be asked sooner; the transfers in
	 * flight go on meanwhile. NULL for the others. */
	double (*source_idle)(void *state, int *fd);
	bool sigint_ends;           /* SIGINT ends the run normally (a stream): the inputs
	                               finished are written, exit status as without it */
	size_t window_bytes;        /* input order: finished answers held for an earlier one
	                               stay under this many bytes (0 = the larger of
	                               HP_WINDOW_BYTES and 64 KiB a job; an answer past 8 MiB
	                               is in a file and counts little) */
	double rate_interval;       /* --rate: seconds between starts, 0 = none */
	bool rate_schedule;         /* open loop (pacer.h): start i at t0 + i * rate_interval, whatever
	                               the earlier ones did; false: --rate's spacing */
	int retries;                /* --retries: of a failed attempt (429 waits aside) */
	bool quiet_failures;        /* a failed input is not said on stderr: an observer
	                               does it (bench: the first of each kind) */
	bool pause_on_429;          /* a 429 not retried (bench) still holds every start for
	                               its Retry-After (said on stderr when a pause begins) */
	double retry_max_time;      /* --retry-max-time: seconds per input in all */
	double cold_start_wait;     /* --cold-start-wait: 503s (and refused connections
	                               to a -u URL) within this many seconds of an
	                               input's first attempt do not use up retries */
	bool fail_fast;
	bool raw;                   /* keep bodies unparsed (raw output) */
	bool repeat_inputs;         /* the same inputs are sent again and again (bench): each
	                               one's form is built once and sent from memory
	                               (request.h's hp_form_body), read when first sent */
	bool need_points;           /* an observer reads polygons and keypoints from the response
	                               (pictures): a big answer keeps them, not only their counts;
	                               without it, hp_item.parts brings them part by part */
	unsigned long long max_answer; /* --max-answer: a longer answer fails (exit 10)
	                               before the rest is read; 0 = no limit */
	const struct hp_filter *filter; /* --min-conf/--classes, NULL = none (not raw) */
	const struct hp_expect *expects; /* --expect checks, not owned (not raw) */
	size_t n_expects;
	const struct hp_baseline *baseline; /* --baseline, not owned; NULL = none */
	double baseline_iou;        /* --baseline-iou */
	double baseline_conf;       /* --baseline-conf */
	const struct hp_observer *observers; /* n_observers of them, may be NULL */
	size_t n_observers;
	struct hp_progress *progress; /* NULL = no progress display */
	bool progress_batches_only; /* show it only for batches and large uploads */
	bool several;               /* the run may have more than one input */
	size_t total;               /* inputs expected, 0 = unknown (progress) */
	int resize_imgsz;           /* --resize: downsize images to this long side, 0 = off */
	bool normalized;            /* --normalize: answers need no mapping back */
	bool keep_source;           /* --annotate: keep each input's bytes open until it is written */
	struct hp_cache *cache;     /* --cache, NULL = none (not owned) */
	const struct hp_resume *resume; /* --resume: inputs done in LOG are skipped (not owned;
	                               the log itself is an observer) */
};

#define HP_WINDOW_BYTES ((size_t)1024 * 1024)

struct hp_batch_stats {
	size_t done;                /* inputs handed to the renderer */
	size_t failed;
	size_t unmet;               /* --expect checks not met, over all inputs */
	size_t differences;         /* --baseline differences, over all inputs */
	size_t requests;            /* attempts made */
	size_t started;             /* inputs taken from the list */
	size_t cached;              /* of those done, answered from --cache */
	size_t skipped;             /* --resume: inputs passed over, already in LOG */
	bool stopped_early;         /* --fail-fast, a signal or a broken output left inputs not started */
	bool refused;               /* check_input refused an input: exit 2, write no output */
	double elapsed_s;
	int exit_code;              /* per hubpredict(1) EXIT STATUS: the first failure's code in input order,
	                               else 1 when a check was not met or a
	                               baseline difference was found */
	bool broken_pipe;           /* stdout's reader went away: end quietly */
};

/* Run every input. Returns the exit status (also in stats). */
int hp_batch_run(const struct hp_batch_config *cfg, struct hp_batch_stats *stats);

/* Classify a finished attempt that did not get a 2xx: exit status and a
 * one-line message into msg ("401 Unauthorized: Invalid API key").
 * Exposed for unit tests. */
int hp_classify_http(long status, const char *body, size_t len, char *msg, size_t msglen);

/* True when two absolute URLs have the same scheme, host and port. */
bool hp_same_origin(const char *a, const char *b);

#endif
