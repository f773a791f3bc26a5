/* endpoint.h - from model ID, --url, --api and the key to one URL and flavour.
 *
 * Model IDs are validated here (each segment [A-Za-z0-9._-]+, not "." or ".."),
 * pasted hub.ultralytics.com / platform.ultralytics.com URLs are taken apart,
 * and the flavour is chosen: Platform when the key starts with "ul_" or a URL's
 * host is platform.ultralytics.com, else HUB, unless --api says otherwise.
 */
#ifndef HUBPREDICT_ENDPOINT_H
#define HUBPREDICT_ENDPOINT_H

#include <stddef.h>
#include "hubpredict/options.h"

#define HP_HUB_URL_FMT "https://api.ultralytics.com/v1/predict/%s"
#define HP_PLATFORM_URL_FMT "https://platform.ultralytics.com/api/models/%s/predict"

struct hp_endpoint {
	enum hp_flavour flavour;    /* never AUTO once resolved */
	char *url;                  /* owned: where requests are POSTed */
	char *model;                /* owned: the model ID (may be owner/project/model), or NULL */
	double iou;                 /* the iou to send: --iou or the flavour's default */
};

/* Resolve o (and o->api_key, which may be NULL for --dry-run) into *ep.
 * Returns 0, or -1 with a usage message in err (exit 2). */
int hp_endpoint_resolve(struct hp_endpoint *ep, const struct hp_options *o,
                        char *err, size_t errlen);

void hp_endpoint_free(struct hp_endpoint *ep);

/* Check a model ID: 1 or 3 slash-separated segments of [A-Za-z0-9._-]+, none
 * "." or "..". Returns the number of segments, or 0 when invalid. */
int hp_model_id_segments(const char *id);

/* The auth header for a flavour, e.g. "x-api-key" or "Authorization". */
const char *hp_flavour_auth_header(enum hp_flavour f);
const char *hp_flavour_name(enum hp_flavour f);

#endif
