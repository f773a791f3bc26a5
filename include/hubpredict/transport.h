/* transport.h - how hubpredict talks HTTP, whatever it asks: timeouts, TLS,
 * -v's trace and the User-Agent, for the predict requests (request.h) and
 * Platform's deployment calls (platform.h) alike. cli/ fills the struct from
 * the options; run/ never sees the options.
 *
 * Ownership: struct hp_transport is plain data; its strings are borrowed
 * (argv's or the config's) and must outlive every handle it configures.
 */
#ifndef HUBPREDICT_TRANSPORT_H
#define HUBPREDICT_TRANSPORT_H

#include <curl/curl.h>
#include <stdbool.h>
#include "hubpredict/version.h"

/* The one User-Agent of every request (static). */
#define HP_USER_AGENT "hubpredict/" HP_VERSION

struct hp_transport {
	double connect_timeout;     /* --connect-timeout, seconds */
	double timeout;             /* --max-time, seconds, 0 = none */
	const char *cacert;         /* --cacert, NULL = libcurl's default */
	bool insecure;              /* --insecure */
	int verbose;                /* -v: >0 traces headers, >=2 libcurl's own lines too */
	long stall_seconds;         /* no byte moved either way for this long fails an
	                               attempt (hubpredict(1), "Timeouts": 60) */
};

/* What every hubpredict handle has alike: no signals, http(s) only, no
 * redirects followed by libcurl (the caller judges them: the key goes with
 * the request), every encoding libcurl decodes, the User-Agent, the connect
 * timeout, --cacert/--insecure and -v's trace (the key scrubbed). The total
 * timeout is the caller's (it differs by call). */
void hp_transport_apply(CURL *easy, const struct hp_transport *t);

#endif
