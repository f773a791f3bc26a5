/* endpoint.c - model ID, pasted URLs, --url and the key into one URL and a
 * flavour (hubpredict(1), "Flavours: HUB and Platform"). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/endpoint.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HUB_HOST "hub.ultralytics.com"
#define PLATFORM_HOST "platform.ultralytics.com"
#define HUB_API_HOST "api.ultralytics.com"

const char *hp_flavour_auth_header(enum hp_flavour f)
{
	return f == HP_FLAVOUR_PLATFORM ? "Authorization" : "x-api-key";
}

const char *hp_flavour_name(enum hp_flavour f)
{
	return f == HP_FLAVOUR_PLATFORM ? "platform" : "hub";
}

static bool segment_ok(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int hp_model_id_segments(const char *id)
{
	int n = 0;
	const char *p = id;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (!segment_ok(p, len))
			return 0;
		n++;
		if (!slash)
			break;
		p = slash + 1;
	}
	return (n == 1 || n == 3) ? n : 0;
}

/* Platform's name rule: ^[a-z0-9]+(?:-[a-z0-9]+)*$, within [min, max] characters. */
static bool platform_name_ok(const char *s, size_t n, size_t min, size_t max)
{
	if (n < min || n > max || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && s[i + 1] != '-')))
			return false;
	}
	return true;
}

int hp_platform_name_check(const char *id, char *err, size_t errlen)
{
	static const char *const what[3] = { "owner", "project", "model" };
	const char *p = id;
	for (int i = 0; i < 3; i++) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		size_t min = i == 0 ? 4 : 1, max = i == 0 ? 32 : 128;
		if (!platform_name_ok(p, len, min, max)) {
			snprintf(err, errlen, "--model: the %s '%.*s' in '%s' is not a Platform name: lowercase letters, "
			         "digits and single '-' between them (^[a-z0-9]+(?:-[a-z0-9]+)*$), %zu-%zu characters",
			         what[i], (int)(len > 200 ? 200 : len), p, id, min, max);
			return -1;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

/* The host of an http(s) URL (lowercase, caller frees), or NULL when it is not one. */
static char *url_host(const char *url, char **path_out)
{
	CURLU *u = curl_url();
	char *host = NULL, *scheme = NULL, *path = NULL;
	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		for (char *p = host; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (path_out && curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
			path = NULL;
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	char *h = host ? strdup(host) : NULL;
	curl_free(host);
	if (path_out) {
		*path_out = path ? strdup(path) : NULL;
		curl_free(path);
	}
	return h;
}

/* Is host Platform's: platform.ultralytics.com, or that of ULTRALYTICS_PLATFORM_URL? */
static bool platform_host(const char *host, const char *origin_host)
{
	return host && (strcmp(host, PLATFORM_HOST) == 0 || (origin_host && strcmp(host, origin_host) == 0));
}

/* Why url_host() found no host, in words for the --url message. */
static const char *url_problem(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p == ' ')
			return "has a space in it (write it as %20)";
		if (*p < 0x20 || *p == 0x7F)
			return "has a control character in it";
	}
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return "is not an http:// or https:// URL";
	CURLU *u = curl_url();
	CURLUcode rc = u ? curl_url_set(u, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;
	curl_url_cleanup(u);
	switch (rc) {
	case CURLUE_BAD_PORT_NUMBER: return "has a port that is not a number from 1 to 65535";
	case CURLUE_NO_HOST: return "has no host name";
	case CURLUE_BAD_HOSTNAME: return "has a host name that is not valid";
	default: return "is not a valid http:// or https:// URL";
	}
}

/* A pasted model page URL into its model ID: hub.ultralytics.com/models/ID,
 * platform.ultralytics.com/[models/]ID-or-owner/project/model. A Platform
 * API URL (path /api/...) is used as it is: *as_is is set and the URL itself
 * returned. */
static char *model_from_url(const char *url, const char *origin_host, bool *platform, bool *as_is,
                            char *err, size_t errlen)
{
	char *path = NULL;
	char *host = url_host(url, &path);
	char *id = NULL;
	if (!host || (strcmp(host, HUB_HOST) != 0 && !platform_host(host, origin_host))) {
		snprintf(err, errlen, "--model: '%s' is not a %s or %s model URL (use --url for an endpoint)",
		         url, HUB_HOST, PLATFORM_HOST);
		goto done;
	}
	*platform = platform_host(host, origin_host);
	if (*platform && path && strncmp(path, "/api/", 5) == 0) {
		/* e.g. /api/deployments/acme/cam/predict: already the request URL */
		*as_is = true;
		id = strdup(url);
		if (!id)
			snprintf(err, errlen, "out of memory");
		goto done;
	}
	/* split the path into segments, dropping empty ones */
	char *segs[16];
	int n = 0;
	for (char *tok = strtok(path ? path : (char *)"", "/"); tok && n < 16; tok = strtok(NULL, "/"))
		segs[n++] = tok;
	int first = 0;
	if (*platform && first < n && strcmp(segs[first], "api") == 0)
		first++;
	if (first < n && strcmp(segs[first], "models") == 0)
		first++;
	if (n - first > 1 && strcmp(segs[n - 1], "predict") == 0)
		n--;
	int count = n - first;
	if (!((count == 1) || (*platform && count == 3))) {
		snprintf(err, errlen, "--model: cannot find a model ID in '%s'", url);
		goto done;
	}
	size_t len = 0;
	for (int i = first; i < n; i++)
		len += strlen(segs[i]) + 1;
	id = malloc(len + 1);
	if (!id) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	id[0] = '\0';
	for (int i = first; i < n; i++) {
		if (i > first)
			strcat(id, "/");
		strcat(id, segs[i]);
	}
done:
	free(host);
	free(path);
	return id;
}

/* ULTRALYTICS_PLATFORM_URL (the official SDK's variable) or the default
 * origin, without a trailing '/'; its host into *host (caller frees, NULL
 * for the default). NULL with err set when the variable is not a URL. */
static char *platform_origin(const char *env, char **host, char *err, size_t errlen)
{
	*host = NULL;
	if (!env || !*env)
		return strdup(HP_PLATFORM_ORIGIN);
	*host = url_host(env, NULL);
	if (!*host || !**host) {
		snprintf(err, errlen, "ULTRALYTICS_PLATFORM_URL: '%s' is not an http:// or https:// URL", env);
		free(*host);
		*host = NULL;
		return NULL;
	}
	char *o = strdup(env);
	if (o) {
		size_t l = strlen(o);
		while (l > 0 && o[l - 1] == '/')
			o[--l] = '\0';
	}
	return o;
}

/* What the model and the URL say about the flavour and the URL to build. */
struct hints {
	bool model_says_platform, url_says_platform, url_empty_path;
	bool model_url_as_is, model_says_hub, url_says_hub;
};

/* -m: a pasted URL taken apart, or an ID checked. 0, or -1 with err set. */
static int resolve_model(struct hp_endpoint *ep, const struct hp_endpoint_spec *o, const char *origin_host,
                         struct hints *h, char *err, size_t errlen)
{
	if (strncasecmp(o->model, "https://", 8) == 0 || strncasecmp(o->model, "http://", 7) == 0) {
		ep->model = model_from_url(o->model, origin_host, &h->model_says_platform, &h->model_url_as_is, err,
		                           errlen);
		if (!ep->model)
			return -1;
		h->model_says_hub = !h->model_says_platform;
	} else if (!(ep->model = strdup(o->model))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int segments = h->model_url_as_is ? 1 : hp_model_id_segments(ep->model);
	if (segments == 0) {
		snprintf(err, errlen, "--model: '%s' is not a model ID (letters, digits, '.', '_', '-'; "
		         "or owner/project/model)", ep->model);
		return -1;
	}
	/* OWNER/PROJECT/MODEL means Platform, and follows its name rule */
	if (segments == 3) {
		if (hp_platform_name_check(ep->model, err, errlen) < 0)
			return -1;
		h->model_says_platform = true;
	}
	return 0;
}

/* -u: its host says the flavour. 0, or -1 with err set. */
static int resolve_url_host(struct hp_endpoint *ep, const struct hp_endpoint_spec *o, const char *origin_host,
                            struct hints *h, char *err, size_t errlen)
{
	char *path = NULL;
	char *host = url_host(o->url, &path);
	if (!host || !*host) {
		snprintf(err, errlen, "--url: '%s' %s", o->url, url_problem(o->url));
		free(host);
		free(path);
		return -1;
	}
	h->url_says_platform = platform_host(host, origin_host);
	h->url_says_hub = strcmp(host, HUB_API_HOST) == 0 || strcmp(host, HUB_HOST) == 0;
	h->url_empty_path = !path || strcmp(path, "/") == 0 || !*path;
	ep->hub_shared = strcmp(host, HUB_API_HOST) == 0;
	free(host);
	free(path);
	return 0;
}

/* The flavour, and what does not go with it. 0, or -1 with err set. */
static int choose_flavour(struct hp_endpoint *ep, const struct hp_endpoint_spec *o, const struct hints *h,
                          char *err, size_t errlen)
{
	/* a key of one flavour with a vendor URL of the other goes
	 * out without a word and gets a 404 */
	bool ul_key = o->has_key && o->platform_key;
	const char *pasted = o->url ? o->url : o->model;
	if (o->has_key && (h->model_says_hub || h->url_says_hub) && ul_key) {
		snprintf(err, errlen, "a Platform key (ul_...) does not work with the HUB URL '%s': HUB shut down "
		         "on 2026-07-31; use the model's Platform URL or OWNER/PROJECT/MODEL", pasted);
		return -1;
	}
	if (o->has_key && (h->model_says_platform || h->url_says_platform) && !ul_key && o->api == HP_FLAVOUR_AUTO &&
	    strchr(pasted ? pasted : "", ':')) {
		snprintf(err, errlen, "a HUB key (not ul_...) does not work with the Platform URL '%s': Platform keys "
		         "start with ul_ (or give --api platform to send this key anyway)", pasted);
		return -1;
	}
	if (o->api != HP_FLAVOUR_AUTO)
		ep->flavour = o->api;
	else if (ul_key || h->url_says_platform || h->model_says_platform)
		ep->flavour = HP_FLAVOUR_PLATFORM;
	else
		ep->flavour = HP_FLAVOUR_HUB;
	bool hub = ep->flavour == HP_FLAVOUR_HUB;
	const char *bad = NULL;
	if (hub && ep->model && !h->model_url_as_is && strchr(ep->model, '/'))
		bad = "--model: owner/project/model IDs need --api platform";
	else if (hub && o->normalize)
		bad = "--normalize is Platform only (use --api platform)";
	else if (hub && o->decimals)
		bad = "--decimals is Platform only (use --api platform)";
	if (bad) {
		snprintf(err, errlen, "%s", bad);
		return -1;
	}
	return 0;
}

/* -u as given (Platform: /predict added to a bare origin), or the model's URL. */
static int build_url(struct hp_endpoint *ep, const struct hp_endpoint_spec *o, const char *origin, const struct hints *h,
                     char *err, size_t errlen)
{
	bool hub = ep->flavour == HP_FLAVOUR_HUB;
	char *url;
	if (o->url) {
		bool add_predict = h->url_empty_path && !hub; /* Platform: requests go to /predict */
		size_t n = strlen(o->url) + sizeof "/predict";
		url = malloc(n);
		if (url) {
			strcpy(url, o->url);
			if (add_predict) {
				size_t l = strlen(url);
				if (l && url[l - 1] == '/')
					url[l - 1] = '\0';
				strcat(url, "/predict");
			}
		}
		ep->dedicated = true;
	} else if (h->model_url_as_is) {
		url = strdup(ep->model);
	} else if (ep->model) {
		size_t n = strlen(ep->model) + strlen(origin) + sizeof HP_HUB_URL_FMT + sizeof "/api/models//predict";
		url = malloc(n);
		if (url && hub)
			snprintf(url, n, HP_HUB_URL_FMT, ep->model);
		else if (url)
			snprintf(url, n, "%s/api/models/%s/predict", origin, ep->model);
		ep->hub_shared = hub;
	} else {
		snprintf(err, errlen, "no model: give -m MODEL_ID (or set HUBPREDICT_MODEL), or -u URL");
		return -1;
	}
	ep->url = url;
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int hp_endpoint_resolve(struct hp_endpoint *ep, const struct hp_endpoint_spec *o, char *err, size_t errlen)
{
	struct hints h = { 0 };
	char *origin_host = NULL;
	char *origin = NULL;
	int rc = -1;
	memset(ep, 0, sizeof *ep);

	if (!(origin = platform_origin(o->platform_url, &origin_host, err, errlen))) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((o->model && resolve_model(ep, o, origin_host, &h, err, errlen) < 0) ||
	    (o->url && resolve_url_host(ep, o, origin_host, &h, err, errlen) < 0) ||
	    choose_flavour(ep, o, &h, err, errlen) < 0 || build_url(ep, o, origin, &h, err, errlen) < 0)
		goto done;
	ep->iou = o->iou >= 0 ? o->iou : (ep->flavour == HP_FLAVOUR_HUB ? 0.45 : 0.7);
	rc = 0;
done:
	free(origin);
	free(origin_host);
	if (rc < 0) {
		free(ep->model);
		ep->model = NULL;
	}
	return rc;
}

void hp_endpoint_clear(struct hp_endpoint *ep)
{
	if (!ep)
		return;
	free(ep->url);
	free(ep->model);
	ep->url = ep->model = NULL;
}
