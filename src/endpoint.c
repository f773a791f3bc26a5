/* endpoint.c - model ID, pasted URLs, --url and the key into one URL and a
 * flavour (API.md, "Two flavours of the same API"). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/endpoint.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HUB_HOST "hub.ultralytics.com"
#define PLATFORM_HOST "platform.ultralytics.com"

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
 * platform.ultralytics.com/[api/][models/]ID-or-owner/project/model[/predict]. */
static char *model_from_url(const char *url, bool *platform, char *err, size_t errlen)
{
	char *path = NULL;
	char *host = url_host(url, &path);
	char *id = NULL;
	if (!host || (strcmp(host, HUB_HOST) != 0 && strcmp(host, PLATFORM_HOST) != 0)) {
		snprintf(err, errlen, "--model: '%s' is not a %s or %s model URL (use --url for an endpoint)",
		         url, HUB_HOST, PLATFORM_HOST);
		goto done;
	}
	*platform = strcmp(host, PLATFORM_HOST) == 0;
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

int hp_endpoint_resolve(struct hp_endpoint *ep, const struct hp_options *o, char *err, size_t errlen)
{
	bool model_says_platform = false, url_says_platform = false, url_empty_path = false;
	memset(ep, 0, sizeof *ep);

	if (o->model) {
		if (strncasecmp(o->model, "https://", 8) == 0 || strncasecmp(o->model, "http://", 7) == 0) {
			ep->model = model_from_url(o->model, &model_says_platform, err, errlen);
			if (!ep->model)
				return -1;
		} else {
			ep->model = strdup(o->model);
			if (!ep->model) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
		if (hp_model_id_segments(ep->model) == 0) {
			snprintf(err, errlen, "--model: '%s' is not a model ID (letters, digits, '.', '_', '-'; "
			         "or owner/project/model)", ep->model);
			goto fail;
		}
	}
	if (o->url) {
		char *path = NULL;
		char *host = url_host(o->url, &path);
		if (!host || !*host) {
			snprintf(err, errlen, "--url: '%s' %s", o->url, url_problem(o->url));
			free(host);
			free(path);
			goto fail;
		}
		url_says_platform = strcmp(host, PLATFORM_HOST) == 0;
		url_empty_path = !path || strcmp(path, "/") == 0 || !*path;
		free(host);
		free(path);
	}

	if (o->api != HP_FLAVOUR_AUTO)
		ep->flavour = o->api;
	else if ((o->api_key && strncmp(o->api_key, "ul_", 3) == 0) || url_says_platform || model_says_platform)
		ep->flavour = HP_FLAVOUR_PLATFORM;
	else
		ep->flavour = HP_FLAVOUR_HUB;

	bool hub = ep->flavour == HP_FLAVOUR_HUB;
	if (hub && ep->model && strchr(ep->model, '/')) {
		snprintf(err, errlen, "--model: owner/project/model IDs need --api platform");
		goto fail;
	}
	if (hub && o->normalize) {
		snprintf(err, errlen, "--normalize is Platform only (use --api platform)");
		goto fail;
	}
	if (hub && o->decimals >= 0) {
		snprintf(err, errlen, "--decimals is Platform only (use --api platform)");
		goto fail;
	}

	char *url;
	if (o->url) {
		bool add_predict = url_empty_path && !hub; /* Platform: requests go to /predict */
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
	} else if (ep->model) {
		size_t n = strlen(ep->model) + sizeof HP_PLATFORM_URL_FMT;
		url = malloc(n);
		if (url)
			snprintf(url, n, hub ? HP_HUB_URL_FMT : HP_PLATFORM_URL_FMT, ep->model);
	} else {
		snprintf(err, errlen, "no model: give -m MODEL_ID (or set HUBPREDICT_MODEL), or -u URL");
		goto fail;
	}
	ep->url = url;
	if (!url) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ep->iou = o->iou >= 0 ? o->iou : (hub ? 0.45 : 0.7);
	return 0;
fail:
	free(ep->model);
	ep->model = NULL;
	return -1;
}

void hp_endpoint_free(struct hp_endpoint *ep)
{
	if (!ep)
		return;
	free(ep->url);
	free(ep->model);
	ep->url = ep->model = NULL;
}
