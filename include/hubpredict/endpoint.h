/* endpoint.h - from model ID, --url, --api and the key to one URL and flavour.
 *
 * Model IDs are validated here (each segment [A-Za-z0-9._-]+, not "." or ".."),
 * pasted hub.ultralytics.com / platform.ultralytics.com URLs are taken apart
 * (a Platform API URL, path /api/..., is used as it is), and the flavour is
 * chosen (hubpredict(1), "Model IDs"): Platform when the key starts with "ul_", the model is
 * OWNER/PROJECT/MODEL, or a URL's host is platform.ultralytics.com or that of
 * ULTRALYTICS_PLATFORM_URL (which also replaces the Platform origin of the
 * URLs built here), else HUB, unless --api says otherwise. A ul_ key with a
 * HUB URL, or another key with a Platform URL, is a usage error.
 */
#ifndef HUBPREDICT_ENDPOINT_H
#define HUBPREDICT_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

enum hp_flavour { HP_FLAVOUR_AUTO = 0, HP_FLAVOUR_HUB, HP_FLAVOUR_PLATFORM };

#define HP_HUB_URL_FMT "https://api.ultralytics.com/v1/predict/%s"
#define HP_PLATFORM_ORIGIN "https://platform.ultralytics.com" /* env ULTRALYTICS_PLATFORM_URL replaces it */

struct hp_endpoint {
	enum hp_flavour flavour;    /* never AUTO once resolved */
	char *url;                  /* owned: where requests are POSTed */
	char *model;                /* owned: the model ID (may be owner/project/model), or NULL */
	double iou;                 /* the iou to send: --iou or the flavour's default */
	bool hub_shared;            /* the URL is HUB's shared one (api.ultralytics.com):
	                               failures 4, 5, 9 add the shutdown note (hubpredict(1), "Flavours: HUB and Platform") */
	bool dedicated;             /* -u: a dedicated endpoint or another full URL
	                               (connection refused may be a cold start) */
};

/* What the endpoint is resolved from; cli/ fills it from the options and the
 * environment. Strings borrowed for the call. */
struct hp_endpoint_spec {
	const char *model;          /* -m / $HUBPREDICT_MODEL, or NULL */
	const char *url;            /* -u / $HUBPREDICT_URL, or NULL */
	bool has_key;               /* a key will be sent (NULL: --dry-run, public models) */
	bool platform_key;          /* it starts with ul_ */
	enum hp_flavour api;        /* --api; AUTO: from the model, URL and key */
	bool normalize;             /* --normalize (Platform only) */
	bool decimals;              /* --decimals given (Platform only) */
	double iou;                 /* --iou, < 0 = the flavour's default */
	const char *platform_url;   /* $ULTRALYTICS_PLATFORM_URL, NULL or "" = Platform's own */
};

/* Resolve spec into *ep. Returns 0, or -1 with a usage message in err
 * (exit 2). */
int hp_endpoint_resolve(struct hp_endpoint *ep, const struct hp_endpoint_spec *spec, char *err, size_t errlen);

/* What ep owns freed; safe on a zeroed endpoint and twice. */
void hp_endpoint_clear(struct hp_endpoint *ep);

/* Check a model ID: 1 or 3 slash-separated segments of [A-Za-z0-9._-]+, none
 * "." or "..". Returns the number of segments, or 0 when invalid. */
int hp_model_id_segments(const char *id);

/* Platform's rule for the three parts of OWNER/PROJECT/MODEL
 * (^[a-z0-9]+(?:-[a-z0-9]+)*$, owner 4-32 characters, the others 1-128).
 * 0, or -1 with a usage message naming the part and the rule in err. */
int hp_platform_name_check(const char *id, char *err, size_t errlen);

/* The auth header for a flavour, e.g. "x-api-key" or "Authorization". */
const char *hp_flavour_auth_header(enum hp_flavour f);
const char *hp_flavour_name(enum hp_flavour f);

#endif
