/* request.h - the one place where a predict request becomes libcurl
 * settings (hubpredict(1), "The request").
 *
 * A request context is built once per run from the form (struct hp_form),
 * the transport (transport.h) and the endpoint, which cli/ fills from the
 * options; each attempt of each input then gets its easy handle configured
 * from it with a fresh multipart form that streams the file from its
 * descriptor.
 *
 * Ownership: the context copies the form and the transport by value; their
 * strings, and the endpoint, are borrowed and must outlive it. Its headers
 * (which hold the key) are its own: hp_request_ctx_clear wipes and frees them.
 */
#ifndef HUBPREDICT_REQUEST_H
#define HUBPREDICT_REQUEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <sys/types.h>
#include "hubpredict/endpoint.h"
#include "hubpredict/transport.h"

struct hp_upload;

/* The form's fields besides the file (hubpredict(1), OPTIONS). */
struct hp_form {
	int imgsz;                  /* --imgsz */
	double conf;                /* --conf */
	double iou;                 /* --iou, or the flavour's default (hp_endpoint.iou) */
	bool normalize;             /* --normalize: sent as normalize=true */
	int decimals;               /* --decimals, -1 = not sent */
	const char *const *fields;  /* --field NAME=VALUE, in order (borrowed) */
	size_t n_fields;
};

struct hp_request_ctx {
	struct hp_form form;
	struct hp_transport transport;
	const struct hp_endpoint *ep;
	struct curl_slist *headers;  /* owned: the auth header (holds the key) */
	char imgsz[16], conf[32], iou[32], decimals[16];
};

/* Build the context. key may be NULL (dry run, or Platform's public
 * models). Returns 0 or -1 (out of memory). */
int hp_request_ctx_init(struct hp_request_ctx *ctx, const struct hp_form *form, const struct hp_transport *t,
                        const struct hp_endpoint *ep, const char *key);
/* The headers wiped and freed; safe on a zeroed context and twice. */
void hp_request_ctx_clear(struct hp_request_ctx *ctx);

/* Where a read callback is in the file (or a big prebuilt form); one per attempt. */
struct hp_upload_cursor {
	int fd;              /* -1 for a prebuilt form (struct hp_form_body) */
	const char *data;    /* a prebuilt form over HP_FORM_WITH_HEADERS: its bytes; else NULL */
	bool with_headers;   /* a prebuilt form sent with the request's headers: it has gone
	                        to libcurl whole when the request is about to go (PREREQFUNCTION) */
	off_t size;          /* the file's size, or the prebuilt form's */
	off_t pos;
	double read_all_ms;  /* hp_clock_ms() when the last byte was handed to libcurl
	                        (bench's upload phase), 0 = not yet */
};

/* Per attempt: when bytes last moved either way, for the stall limit
 * (libcurl's LOW_SPEED options average over a window and fire seconds late). */
struct hp_stall {
	long limit_ms;
	curl_off_t last_bytes;
	double last_change_ms;
	bool fired;              /* the attempt was aborted as stalled */
};

/* The multipart form of one input built once, for a run that sends the same
 * input again and again (bench): the bytes libcurl's mime would format anew
 * for each request (its headers, a random boundary), and the header list
 * with the Content-Type that names the boundary. Owns both. */
struct hp_form_body {
	char *data;
	size_t len;
	struct curl_slist *headers;   /* the context's headers and the Content-Type */
};

/* Build up's form as hp_request_setup's mime would send it (the file part,
 * then each field). Returns 0; 1 when this input is not built (a URL
 * source, a file over max bytes, a name libcurl would escape, the boundary
 * met in the data, the file unreadable): send it with a mime; -1 when out of
 * memory. fb is left empty unless 0. */
int hp_form_body_build(struct hp_form_body *fb, const struct hp_request_ctx *ctx, const struct hp_upload *up,
                       size_t max);
void hp_form_body_free(struct hp_form_body *fb);

/* A prebuilt form up to this size goes in one piece with the headers
 * (libcurl's MAX_INITIAL_POST_SIZE); a bigger one after them. */
#define HP_FORM_WITH_HEADERS (64 * 1024)

/* Configure `easy` for one attempt at `url`: method, headers, the multipart
 * form, TLS and timeouts. The form is fb when given (sent from its bytes;
 * *mime set NULL), else a mime built from up (*mime: free it with
 * curl_mime_free after the transfer). cursor, stall and fb must live until
 * the transfer ends. 0, or -1 when out of memory. */
int hp_request_setup(CURL *easy, const struct hp_request_ctx *ctx, const struct hp_upload *up,
                     const struct hp_form_body *fb, struct hp_upload_cursor *cursor, struct hp_stall *stall,
                     const char *url, char *errbuf, curl_mime **mime);

/* Each form field but the file (or URL source), in the order they are
 * sent: fn(state, name, value), strings borrowed for the call. Stops at the
 * first nonzero return: 0, or -1. */
int hp_request_each_field(const struct hp_request_ctx *ctx, int (*fn)(void *state, const char *name, const char *value),
                          void *state);

/* What the question is, for the keys of --cache and --resume: s (started
 * by the caller) takes the tag, then the URL, the flavour and every form
 * field sorted by name then value, each as NUL-terminated text so no two run
 * together. Two requests that differ only in the order of their --field
 * options get the same digest. 0, or -1 when out of memory (s unusable). */
struct hp_sha256;
int hp_request_digest(const struct hp_request_ctx *ctx, const char *tag, struct hp_sha256 *s);

/* The equivalent curl command for path (--dry-run), key as
 * $ULTRALYTICS_API_KEY (no Authorization for Platform without a key), the
 * file part named and typed as up (the opened input; NULL for a URL input)
 * says. Caller frees; NULL when out of memory. */
char *hp_request_curl_command(const struct hp_request_ctx *ctx, const char *path, const struct hp_upload *up);

#endif
