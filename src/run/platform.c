/* platform.c - Platform's deployments routes: JSON over one libcurl easy handle. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/platform.h"
#include "hubpredict/endpoint.h"
#include "hubpredict/clock.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/response.h"
#include "hubpredict/retry.h"
#include "hubpredict/signals.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BODY_LIMIT (16u << 20) /* no deployments document comes near this */

struct hp_platform {
	struct hp_platform_config cfg;
	CURL *easy;
	struct curl_slist *headers;   /* holds the key */
	char *origin;
	char *owner;                  /* from the summary (owned), or NULL */
	int calls;
};

struct transfer {
	struct hp_reply *reply;
	size_t cap;
	bool too_big;
	char retry_after[128];
	char reset[128];
};

void hp_reply_clear(struct hp_reply *r)
{
	if (!r)
		return;
	free(r->body);
	cJSON_Delete(r->doc);
	memset(r, 0, sizeof *r);
}

bool hp_platform_name_ok(const char *name, size_t min, size_t max)
{
	size_t n = name ? strlen(name) : 0;
	if (n < min || n > max || n == 0 || name[0] == '-' || name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && name[i + 1] != '-');
		if (!ok)
			return false;
	}
	return true;
}

/* scheme://host[:port] of url, or NULL when it is not an http(s) URL. Caller frees. */
static char *origin_of(const char *url)
{
	size_t skip = strncasecmp(url, "https://", 8) == 0 ? 8 : strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
	if (!skip)
		return NULL;
	size_t n = skip + strcspn(url + skip, "/?#");
	if (n == skip || memchr(url + skip, '@', n - skip))
		return NULL;
	char *o = malloc(n + 1);
	if (o) {
		memcpy(o, url, n);
		o[n] = '\0';
	}
	return o;
}

static int pick_origin(struct hp_platform *p, char *err, size_t errlen)
{
	const char *env = p->cfg.platform_url;
	const char *from = "--url", *url = NULL;
	if (p->cfg.url)
		url = p->cfg.url;
	else if (env && *env)
		url = env, from = "ULTRALYTICS_PLATFORM_URL";
	else
		url = HP_PLATFORM_ORIGIN;
	p->origin = origin_of(url);
	if (!p->origin) {
		snprintf(err, errlen, "%s: '%s' is not an http:// or https:// URL", from, url);
		return HP_EXIT_USAGE;
	}
	return 0;
}

static void setup_easy(struct hp_platform *p)
{
	const struct hp_transport *t = &p->cfg.transport;
	CURL *e = p->easy;
	hp_transport_apply(e, t);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)((t->timeout > 0 ? t->timeout : 120.0) * 1000));
}

int hp_platform_new(struct hp_platform **out, const struct hp_platform_config *cfg, char *err, size_t errlen)
{
	struct hp_platform *p = calloc(1, sizeof *p);
	int status = HP_EXIT_OK;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return HP_EXIT_NOMEM;
	}
	p->cfg = *cfg;
	if ((status = pick_origin(p, err, errlen)) != 0)
		goto done;
	p->headers = curl_slist_append(NULL, "Accept: application/json");
	if (p->headers && cfg->key) {
		size_t n = strlen(cfg->key) + sizeof "Authorization: Bearer ";
		char *h = malloc(n);
		struct curl_slist *grown = NULL;
		if (h) {
			snprintf(h, n, "Authorization: Bearer %s", cfg->key);
			grown = curl_slist_append(p->headers, h);
			memset(h, 0, n);
			free(h);
		}
		if (!grown) {
			curl_slist_free_all(p->headers);
			p->headers = NULL;
		}
	}
	p->easy = curl_easy_init();
	if (!p->headers || !p->easy) {
		snprintf(err, errlen, "out of memory");
		status = HP_EXIT_NOMEM;
		goto done;
	}
	setup_easy(p);
done:
	if (status != 0) {
		hp_platform_free(p);
		return status;
	}
	*out = p;
	return 0;
}

void hp_platform_free(struct hp_platform *p)
{
	if (!p)
		return;
	if (p->easy)
		curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->headers);
	free(p->origin);
	free(p->owner);
	free(p);
}

int hp_platform_calls(const struct hp_platform *p)
{
	return p->calls;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	struct hp_reply *r = t->reply;
	size_t add = size * n;
	if (r->len + add + 1 > BODY_LIMIT) {
		t->too_big = true;
		return 0;
	}
	if (r->len + add + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < r->len + add + 1)
			cap *= 2;
		char *b = realloc(r->body, cap);
		if (!b)
			return 0;
		r->body = b;
		t->cap = cap;
	}
	memcpy(r->body + r->len, data, add);
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

static void header_value(const char *line, size_t n, const char *name, char *dst, size_t dstlen)
{
	size_t nl = strlen(name);
	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	const char *v = line + nl + 1;
	size_t vl = n - nl - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	snprintf(dst, dstlen, "%.*s", (int)(vl < dstlen ? vl : dstlen - 1), v);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	header_value(data, size * n, "Retry-After", t->retry_after, sizeof t->retry_after);
	header_value(data, size * n, "X-RateLimit-Reset", t->reset, sizeof t->reset);
	return size * n;
}

/* Sleep `seconds`, a little at a time: an exit status when a signal came. */
static int nap(double seconds)
{
	while (seconds > 0) {
		if (hp_signal_caught())
			return hp_exit_from_signal(hp_signal_caught());
		double step = seconds < 0.1 ? seconds : 0.1;
		struct timespec ts = { 0, (long)(step * 1e9) };
		nanosleep(&ts, NULL);
		seconds -= step;
	}
	return hp_signal_caught() ? hp_exit_from_signal(hp_signal_caught()) : 0;
}

/* The server's one-line message for a failed answer, sanitised. */
static void server_message(struct hp_reply *r)
{
	const char *text = NULL;
	char excerpt[160] = "";
	cJSON *doc = r->body ? cJSON_Parse(r->body) : NULL;
	static const char *const members[] = { "error", "message", "detail" };
	for (size_t i = 0; doc && !text && i < 3; i++) {
		cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, members[i]);
		if (cJSON_IsString(m) && *m->valuestring)
			text = m->valuestring;
	}
	cJSON *details = doc ? cJSON_GetObjectItemCaseSensitive(doc, "details") : NULL;
	cJSON *dm = details ? cJSON_GetObjectItemCaseSensitive(details, "message") : NULL;
	if (!text && cJSON_IsString(dm))
		text = dm->valuestring;
	if (!text && r->body) {
		size_t k = 0;
		for (size_t i = 0; i < r->len && k < sizeof excerpt - 4; i++)
			excerpt[k++] = (r->body[i] >= 0x20 && r->body[i] < 0x7f) ? r->body[i] : ' ';
		excerpt[k] = '\0';
		text = excerpt;
	}
	snprintf(r->message, sizeof r->message, "%ld %s%s%s", r->status, hp_http_reason(r->status),
	         text && *text ? ": " : "", text ? text : "");
	cJSON_Delete(doc);
}

/* A 2xx body: strict JSON, an object. */
static int accept_body(struct hp_reply *r, const char *what)
{
	size_t bad;
	if (r->body && hp_json_check(r->body, r->len, &bad))
		r->doc = cJSON_ParseWithLength(r->body, r->len);
	if (!cJSON_IsObject(r->doc)) {
		snprintf(r->message, sizeof r->message, "%s: the answer (%ld) is not a JSON object", what, r->status);
		return HP_EXIT_BAD_RESPONSE;
	}
	return 0;
}

/* One attempt: 0 with reply->status set, or 9 with reply->message set. */
static int attempt(struct hp_platform *p, const char *method, const char *url, const char *body,
                   struct transfer *t, bool *retryable)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *e = p->easy;
	hp_reply_clear(t->reply);
	t->cap = 0;
	t->too_big = false;
	t->retry_after[0] = t->reset[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	struct curl_slist *h = p->headers, *typed = NULL;
	if (body && !(typed = curl_slist_append(NULL, "Content-Type: application/json")))
		return HP_EXIT_USAGE;
	if (typed)
		typed->next = p->headers, h = typed;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	p->calls++;
	CURLcode rc = curl_easy_perform(e);
	if (typed) {
		typed->next = NULL;
		curl_slist_free_all(typed);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	if (t->too_big) {
		snprintf(t->reply->message, sizeof t->reply->message, "%s: the answer is larger than %u MiB", url,
		         BODY_LIMIT >> 20);
		return HP_EXIT_BAD_RESPONSE;
	}
	if (rc != CURLE_OK) {
		*retryable = hp_retryable_curl(rc);
		snprintf(t->reply->message, sizeof t->reply->message, "%s %s: %s", method, url,
		         errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return HP_EXIT_NETWORK;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t->reply->status);
	return 0;
}

/* How long a 429 asks to wait (the computed backoff when it says nothing). */
static double rate_wait(const struct transfer *t, int n)
{
	time_t now = time(NULL);
	double w = t->retry_after[0] ? hp_parse_retry_after(t->retry_after, now) : -1;
	if (w < 0 && t->reset[0])
		w = hp_parse_ratelimit_reset(t->reset, now);
	return w >= 0 ? w : hp_backoff_seconds(n, hp_retry_jitter());
}

/* The calls of one request until it has its answer: 429 waits, retries. */
static int perform(struct hp_platform *p, const char *method, const char *url, const char *body,
                   struct hp_reply *reply)
{
	const struct hp_platform_config *o = &p->cfg;
	struct transfer t = { .reply = reply };
	double start = hp_clock_ms() / 1000.0;
	bool get = strcmp(method, "GET") == 0;
	for (int tries = 0, waits = 0;;) {
		bool retryable = false;
		int status = attempt(p, method, url, body, &t, &retryable);
		long http = reply->status;
		double wait = -1;
		if (status == HP_EXIT_NETWORK && retryable && tries < o->retries)
			wait = hp_backoff_seconds(++tries, hp_retry_jitter());
		else if (status != 0)
			return status;
		else if (http == 429 && o->retries > 0)
			wait = rate_wait(&t, ++waits);
		else if (get && (http == 502 || http == 503 || http == 504 || http == 500) && tries < o->retries)
			wait = hp_backoff_seconds(++tries, hp_retry_jitter());
		if (wait < 0)
			return 0;
		if (hp_clock_ms() / 1000.0 - start + wait > o->retry_max_time)
			return http == 429 ? 0 : status;
		hp_msg_verbose(1, "%s %s: %s, again in %.0f s", method, url,
		               status ? "network failure" : http == 429 ? "rate limited" : "server error", wait);
		if ((status = nap(wait)) != 0) {
			snprintf(reply->message, sizeof reply->message, "interrupted while waiting to retry %s %s", method,
			         url);
			return status;
		}
	}
}

static int call_url(struct hp_platform *p, const char *method, const char *url, const char *body,
                    struct hp_reply *reply)
{
	int status = perform(p, method, url, body, reply);
	if (status != 0)
		return status;
	if (reply->status >= 200 && reply->status < 300)
		return accept_body(reply, url);
	server_message(reply);
	if (reply->status >= 300 && reply->status < 400)
		return HP_EXIT_BAD_RESPONSE; /* a redirect: the key does not follow it */
	return hp_exit_from_http(reply->status);
}

int hp_platform_owner(struct hp_platform *p, const char **owner, struct hp_reply *reply)
{
	hp_reply_clear(reply);
	if (p->cfg.owner) {
		*owner = p->cfg.owner;
		return 0;
	}
	if (!p->owner) {
		size_t n = strlen(p->origin) + sizeof "/api/account/summary";
		char *url = malloc(n);
		if (!url)
			return HP_EXIT_USAGE;
		snprintf(url, n, "%s/api/account/summary", p->origin);
		int status = call_url(p, "GET", url, NULL, reply);
		free(url);
		if (status != 0)
			return status;
		cJSON *u = cJSON_GetObjectItemCaseSensitive(reply->doc, "username");
		if (!cJSON_IsString(u) || !hp_platform_name_ok(u->valuestring, 4, 32)) {
			snprintf(reply->message, sizeof reply->message,
			         "the account summary has no username of Platform's form; give --owner OWNER");
			return HP_EXIT_BAD_RESPONSE;
		}
		if (!(p->owner = strdup(u->valuestring)))
			return HP_EXIT_USAGE;
		hp_msg_verbose(1, "owner %s, from the account summary", p->owner);
		hp_reply_clear(reply);
	}
	*owner = p->owner;
	return 0;
}

int hp_platform_call(struct hp_platform *p, const char *method, const char *rest, const char *body,
                     struct hp_reply *reply)
{
	const char *owner;
	int status = hp_platform_owner(p, &owner, reply);
	if (status != 0)
		return status;
	size_t n = strlen(p->origin) + strlen(owner) + strlen(rest) + sizeof "/api/deployments/";
	char *url = malloc(n);
	if (!url)
		return HP_EXIT_USAGE;
	snprintf(url, n, "%s/api/deployments/%s%s", p->origin, owner, rest);
	status = call_url(p, method, url, body, reply);
	free(url);
	return status;
}
