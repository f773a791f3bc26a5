/* batch_impl.h - what the files of the batch share (private to run/).
 *
 * batch.c          the scheduling loop: start inputs up to --jobs, --rate, poll
 * batch_outcome.c  what a finished transfer means: status, redirects, retries
 * batch_body.c     response headers and the body's limits
 * batch_answer.c   a 200's document: decoded, checked, mapped back; the hook
 *                  points where an input is answered without a request and
 *                  where a finished answer is handed on
 * batch_report.c   finished inputs rendered in input order; the progress line
 *
 * Ownership: a struct job owns everything it points to (batch_job_free);
 * struct batch lives on hp_batch_run's stack and borrows the config.
 */
#ifndef HUBPREDICT_RUN_BATCH_IMPL_H
#define HUBPREDICT_RUN_BATCH_IMPL_H

#include "hubpredict/batch.h"
#include "hubpredict/body.h"
#include "hubpredict/pacer.h"
#include "hubpredict/picture.h"
#include "hubpredict/request.h"
#include "hubpredict/response.h"
#include "hubpredict/timings.h"
#include "hubpredict/upload.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define MAX_REDIRECTS 3
#define ERROR_BODY_KEEP ((size_t)64 * 1024)  /* of an error body, for its message */
#define HP_PART_BIG ((size_t)1024 * 1024)   /* a big answer's images[i] past this: parsed result by result */
#define RAW_MEM_KEEP ((size_t)1024 * 1024)   /* raw bodies beyond this spill to a file */

/* A job's life, as curl's lib/multi.c moves a transfer through CURLMstate.
 * batch_job_move() is the one place that changes a job's state; it keeps the
 * counts that follow from it and says each change under -vvv:
 *
 *   QUEUED ─► OPENING ─► WAITING ─► SENDING ─► DONE or FAILED ─► WRITTEN
 *     │          │          ▲        │  ▲ │
 *     ▼          │          │        │  └─┘ a same-origin redirect: the same attempt
 *   SKIPPED      │          └─ BACKOFF, PAUSED_429, COLD_START_WAIT ◄─┘ a retry's wait
 *   (--resume)   └─► DONE or FAILED (a bad input; an answer from --cache)
 *
 * SENDING, interrupted, becomes ABORTED (never written). Counts kept by the
 * move: the batch's running (SENDING) and pending (the four waiting states);
 * the stats' started (leaving QUEUED for OPENING), skipped, requests (into
 * SENDING, not by a redirect), failed (into FAILED), cached (finished with
 * an answer from --cache) and done (WRITTEN); the job's attempts, redirects,
 * retries_used (into BACKOFF) and cold_waits (into COLD_START_WAIT). */
enum job_state {
	JOB_QUEUED,           /* taken from the list */
	JOB_OPENING,          /* being opened, checked, resized, looked up in --cache */
	JOB_WAITING,          /* open: waiting for a slot and its start (--rate, a 429's pause) */
	JOB_SENDING,          /* its transfer is in the multi handle */
	JOB_BACKOFF,          /* a failed attempt: waiting to retry (not_before) */
	JOB_PAUSED_429,       /* rate-limited: waiting out the quota (every start waits) */
	JOB_COLD_START_WAIT,  /* the endpoint is starting: waiting, not using up --retries */
	JOB_DONE,             /* answered: waiting for every earlier input to be written */
	JOB_FAILED,           /* failed (exit_code): waiting likewise */
	JOB_WRITTEN,          /* handed to the renderer and the observers */
	JOB_SKIPPED,          /* --resume: passed over, never opened */
	JOB_ABORTED           /* interrupted while sending: dropped */
};

struct batch;
struct hp_response;
struct hp_annotate_source;

struct job {
	struct job *next;            /* the queue, in input order */
	struct batch *batch;         /* the run it belongs to (for callbacks) */
	bool sent;                   /* this attempt's request has gone out */
	enum job_state state;
	char *file;                  /* the input as named */
	size_t file_below;           /* hp_input.below */
	char *video;                 /* hp_input.video (owned), frame and time */
	long long frame;
	double time;
	struct hp_upload up;
	struct hp_upload_cursor cursor;
	struct hp_stall stall;
	CURL *easy;
	curl_mime *mime;
	struct hp_body body;
	struct hp_body src_body;     /* --resize, a big answer: the server's document (body holds
	                                the mapped one), for the walk over its parts */
	bool raw;                    /* the body is kept unparsed (raw output) */
	bool body_configured;        /* limits chosen from the status line */
	char errbuf[CURL_ERROR_SIZE];
	char *url;                   /* after a same-origin redirect; NULL = the endpoint */
	int redirects;
	int attempts;
	int retries_used;            /* retries counted against --retries (429s are not) */
	int last_code;               /* the outcome of the last attempt */
	char retry_after[64];        /* headers of the last response */
	char ratelimit_reset[64];
	char request_id[80];         /* x-request-id of the last response ("" = none) */
	int cold_waits;              /* waits for a starting endpoint (not retries) */
	double not_before;           /* waiting: do not start before this (ms) */
	double t_start;              /* the first attempt's start (ms) */
	double t_attempt;            /* this attempt's start (ms) */
	double answer_ms;            /* this attempt's final status line came after an interim
	                                one (100 Continue) (ms; 0: not yet, or none came first) */
	bool interim;                /* an interim (1xx) status line came in this attempt */
	struct hp_timings timings;   /* scheduled and started; the last attempt's phases */
	/* outcome */
	int exit_code;
	long http_status;
	double elapsed_ms;
	char message[640];
	struct hp_response *resp;    /* filtered by --min-conf/--classes */
	struct hp_json_parts parts;  /* a big answer decoded light: its parts, walked for the */
	struct hp_answer_parts walk; /* points (item.h) by batch_answer_parts */
	char **unmet;                /* --expect messages, then --baseline differences
	                                (owned), printed with the input */
	size_t n_unmet;
	size_t n_differences;        /* of them, from --baseline (the last ones) */
	int orig_fd;                 /* the original bytes, kept for --annotate (-1: none) */
	bool resized;                /* --resize sent a smaller copy: sizes in `rz` */
	struct hp_resized rz;
	bool unreadable;             /* --resize found no readable image (and warned) */
	struct hp_annotate_source *pre; /* --annotate: decoded while the server works */
	/* the input file as found (envelopes carry size and mtime: --resume) */
	bool has_stat;
	long long in_size;
	struct timespec in_mtime;
	/* a live INPUT's frame (hp_input.stream): the jsonl members of SPEC 13 */
	const char *stream;
	long long stream_frame;
	struct timespec stream_time, stream_at;
	size_t held_bytes;           /* DONE: what it holds in memory (the window) */
	/* --cache */
	bool has_key;                /* key holds this upload's cache key */
	unsigned char key[32];
	bool cached;                 /* answered from the cache: nothing sent */
};

struct batch {
	const struct hp_batch_config *cfg;
	CURLM *multi;
	struct job *head, *tail;
	size_t running;              /* transfers in flight */
	size_t pending;              /* jobs waiting for their start time */
	size_t finished;             /* jobs DONE or FAILED, not yet written (0: none to flush) */
	size_t queued;               /* jobs in the queue (any state) */
	struct hp_pacer pacer;       /* --rate's spacing, or a fixed schedule */
	size_t held;                 /* bytes held by DONE jobs not yet written */
	double paused_until;         /* a 429 holds every start until then (ms) */
	double next_due;             /* the next start's time (ms), or -1: none known */
	int timer_fd;                /* a timerfd waking the loop at next_due, or -1 */
	double t0;
	size_t predecoded;           /* jobs holding a decoded picture (pre) */
	size_t total;                /* inputs expected (progress), 0 = unknown */
	bool hub_noted;              /* the HUB shutdown note was printed */
	/* --expect across the frames of a cut video (SPEC 13): the video whose
	 * frames are being written (owned) and a tally per expectation (owned) */
	char *tally_video;
	struct hp_expect_tally *tally;
	bool tally_any;              /* one of its frames was answered */
	long long tally_frame;       /* the last frame's number (a lower one: the video again) */
	bool inputs_done;
	bool source_idle;            /* the source had nothing yet (source.h's -1) */
	bool stop_new;               /* --fail-fast, a signal or a broken output */
	bool redraw;                 /* the progress line was erased for results */
	bool cache_warned;           /* a store failed: said once */
	/* easy handles of finished attempts, reset for the next (at most one per
	 * job in flight): a new handle costs allocations each request */
	CURL **pool;
	size_t n_pool, cap_pool;
	/* cfg->repeat_inputs: each input's form built once (request.h) */
	struct batch_form *forms;
	size_t n_forms, cap_forms, forms_bytes;
	struct hp_batch_stats *stats;
};

struct batch_form {
	char *path;
	bool built;                  /* false: this input goes with a mime */
	struct hp_form_body fb;
};

/* batch.c */
double batch_now_ms(void);
void batch_job_free(struct job *j);
/* Move j to state `to` (the diagram above), keeping the counts. */
void batch_job_move(struct batch *b, struct job *j, enum job_state to);
/* DONE or FAILED: ready to be written in its turn. */
bool batch_job_finished(const struct job *j);
/* Configure and add one attempt to the multi handle: 0, or -1 with j->message set. */
int batch_attempt_start(struct batch *b, struct job *j);
/* A finished attempt's handle (removed from the multi handle): reset and
 * kept for the next attempt, or cleaned up. NULL is a no-op. */
void batch_easy_release(struct batch *b, CURL *easy);
void batch_rate_mark_sent(struct batch *b, struct job *j);

/* batch_outcome.c: a transfer ended with rc; the job waits to retry, follows
 * a redirect, or is done. */
void batch_attempt_finished(struct batch *b, struct job *j, CURLcode rc);

/* batch_body.c: libcurl's header and write callbacks (arg: the job). */
size_t batch_on_header(char *p, size_t size, size_t n, void *arg);
size_t batch_on_body(char *p, size_t size, size_t n, void *arg);
/* The body of a 2xx answer, empty, with the run's limits (--max-answer). */
void batch_body_init_answer(const struct batch *b, struct job *j);
/* "larger than 4 GiB": the --max-answer limit in words, for its message. */
void batch_limit_text(unsigned long long limit, char *dst, size_t dstlen);

/* batch_answer.c */
/* A 200's body in j->body (fresh: from the server, not a cache): masked, decoded, checked, mapped back, checked
 * against --expect/--baseline; the job is done with the outcome. */
void batch_answer_accept(struct batch *b, struct job *j, bool fresh);
/* Hook: the input is open (and resized): answer it without a request when
 * that is possible. True when the job is done. */
bool batch_answer_without_request(struct batch *b, struct job *j);

/* Hook: an input taken from the list that this run skips altogether (not
 * opened, not rendered). */
struct hp_input;
bool batch_input_skipped(struct batch *b, const struct hp_input *in);

/* batch_report.c */
void batch_job_done(struct batch *b, struct job *j, int code);
/* Render every finished job at the head of the queue. With `all`, also those
 * behind unfinished ones (after an interruption), dropping the unfinished. */
/* The cut video whose frames were written last is over: its --expect
 * verdict on stderr and in the stats; the tally freed. */
void batch_video_expect_end(struct batch *b);
void batch_flush_done(struct batch *b, bool all);
void batch_update_progress(struct batch *b, bool force);
/* May another input start? In input order, the finished answers held for an
 * earlier one stay under cfg->window_bytes; with --annotate (an open picture
 * each) also fewer than `entries` of them. */
bool batch_window_open(const struct batch *b, size_t entries);

#endif
