/* request.h - the one place where options become libcurl settings (hubpredict(1), "The request").
 *
 * A request context is built once per run (headers, field values); each
 * attempt of each input then gets its easy handle configured from it with a
 * fresh multipart form that streams the file from its descriptor.
 */
#ifndef HUBPREDICT_REQUEST_H
#define HUBPREDICT_REQUEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <sys/types.h>
#include "hubpredict/endpoint.h"
#include "hubpredict/options.h"

struct hp_upload;

struct hp_request_ctx {
	const struct hp_options *opts;
	const struct hp_endpoint *ep;
	struct curl_slist *headers;  /* owned: the auth header (holds the key) */
	char user_agent[64];
	char imgsz[16], conf[32], iou[32], decimals[16];
	long stall_seconds;          /* no progress for this long fails an attempt */
};

/* Build the context. key may be NULL (dry run). Returns 0 or -1 (out of memory). */
int hp_request_ctx_init(struct hp_request_ctx *ctx, const struct hp_options *o,
                        const struct hp_endpoint *ep, const char *key);
void hp_request_ctx_free(struct hp_request_ctx *ctx);

/* Where a mime read callback is in the file; one per attempt. */
struct hp_upload_cursor {
	int fd;
	off_t size;
	off_t pos;
};

/* Per attempt: when bytes last moved either way, for the stall limit
 * (libcurl's LOW_SPEED options average over a window and fire seconds late). */
struct hp_stall {
	long limit_ms;
	curl_off_t last_bytes;
	double last_change_ms;
	bool fired;              /* the attempt was aborted as stalled */
};

/* Configure `easy` for one attempt at `url`: method, headers, the multipart
 * form (returned: free it with curl_mime_free after the transfer), TLS and
 * timeouts. cursor and stall must live until the transfer ends. NULL when
 * out of memory. */
curl_mime *hp_request_setup(CURL *easy, const struct hp_request_ctx *ctx,
                            const struct hp_upload *up, struct hp_upload_cursor *cursor,
                            struct hp_stall *stall, const char *url, char *errbuf);

/* Each form field but the file (or URL source), in the order they are
 * sent: fn(state, name, value), strings borrowed for the call. Stops at the
 * first nonzero return: 0, or -1. */
int hp_request_each_field(const struct hp_request_ctx *ctx, int (*fn)(void *state, const char *name, const char *value),
                          void *state);

/* The equivalent curl command for path (--dry-run), key as
 * $ULTRALYTICS_API_KEY (no Authorization for Platform without a key), the
 * file part named and typed as up (the opened input; NULL for a URL input)
 * says. Caller frees; NULL when out of memory. */
char *hp_request_curl_command(const struct hp_request_ctx *ctx, const char *path, const struct hp_upload *up);

/* The version line(s) for -V. */
void hp_print_version(void);

/* --cacert, --insecure and -v on one easy handle, -v's lines through
 * trace_fn (which redacts the key): the predict requests and Platform's
 * deployment calls set them alike. */
void hp_request_tls_and_trace(CURL *easy, const struct hp_options *o, curl_debug_callback trace_fn);

#endif
