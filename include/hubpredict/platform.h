/* platform.h - Platform's REST routes for dedicated deployments (hubpredict(1), DEPLOYMENTS).
 *
 * JSON over one libcurl easy handle, reused for every call of a run. The key
 * goes in "Authorization: Bearer" and is never printed (-v traces scrub it).
 * A 429 is waited out as its Retry-After / X-RateLimit-Reset says (within
 * --retry-max-time, unless --retries 0); network failures and 502/503/504
 * are retried with backoff up to --retries times. Every call answers with an
 * exit status and, when it is not 0, a one-line message.
 *
 * Ownership: hp_platform_new's object is freed with hp_platform_free;
 * struct hp_reply is embedded by callers and released by hp_reply_clear.
 */
#ifndef HUBPREDICT_PLATFORM_H
#define HUBPREDICT_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include "hubpredict/transport.h"

struct cJSON;
struct hp_platform;

struct hp_reply {
	long status;            /* the final HTTP status, 0 when none came */
	char *body;             /* owned: the body, NUL-terminated */
	size_t len;
	struct cJSON *doc;      /* owned: the body parsed (always an object when the status is 0) */
	char message[512];      /* the one-line failure, when the status returned is not 0 */
};

/* What the client is made from; cli/ fills it from the options. Strings are
 * borrowed and must outlive the client. */
struct hp_platform_config {
	struct hp_transport transport; /* the total timeout, 0, means 120 s here */
	const char *key;            /* the API key, or NULL (no Authorization) */
	const char *url;            /* -u when given on the command line (not from the
	                               environment or a config file), else NULL */
	const char *platform_url;   /* $ULTRALYTICS_PLATFORM_URL, NULL or "" = none */
	int retries;                /* --retries */
	double retry_max_time;      /* --retry-max-time, seconds */
	const char *owner;          /* --owner / the config's owner, NULL = ask the account */
};

/* The client for cfg (copied; its strings borrowed). The origin is the
 * scheme://host[:port] of cfg->url, else of cfg->platform_url, else
 * https://platform.ultralytics.com. 0, or an exit status with err set. */
int hp_platform_new(struct hp_platform **out, const struct hp_platform_config *cfg, char *err, size_t errlen);
void hp_platform_free(struct hp_platform *p);

/* The owner: --owner / the config's owner, else the username of
 * GET /api/account/summary (asked once, then remembered). Borrowed: valid
 * until hp_platform_free. 0, or an exit status with reply->message set. */
int hp_platform_owner(struct hp_platform *p, const char **owner, struct hp_reply *reply);

/* One call: METHOD origin/api/deployments/OWNER + rest (rest: "" or
 * "/NAME..." with its query already escaped), with body (JSON, or NULL).
 * A 2xx whose body is a JSON object: 0. Else an exit status (hp_exit_from_http,
 * 9 network, 10 a body of the wrong shape) with reply->message holding the
 * server's own message. reply is cleared first. */
int hp_platform_call(struct hp_platform *p, const char *method, const char *rest, const char *body,
                     struct hp_reply *reply);

/* Calls made so far (for -v). */
int hp_platform_calls(const struct hp_platform *p);

void hp_reply_clear(struct hp_reply *r);

/* Platform's name rule ^[a-z0-9]+(?:-[a-z0-9]+)*$ with a length of min..max. */
bool hp_platform_name_ok(const char *name, size_t min, size_t max);

#endif
