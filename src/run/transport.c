/* transport.c - what every hubpredict handle has alike (transport.h): the
 * one -v trace and the one User-Agent of the predict requests and
 * Platform's calls. */
#include "hubpredict/transport.h"
#include "hubpredict/msg.h"

/* -v: headers both ways (hp_msg_trace scrubs the key); -vv adds libcurl's
 * own lines. */
static int trace(CURL *easy, curl_infotype type, char *data, size_t size, void *user)
{
	(void)easy;
	(void)user;
	switch (type) {
	case CURLINFO_TEXT:
		if (hp_msg_verbose_level() >= 2)
			hp_msg_trace("* ", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		hp_msg_trace("> ", data, size);
		break;
	case CURLINFO_HEADER_IN:
		hp_msg_trace("< ", data, size);
		break;
	default:
		break;
	}
	return 0;
}

void hp_transport_apply(CURL *easy, const struct hp_transport *t)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(easy, CURLOPT_USERAGENT, HP_USER_AGENT);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(t->connect_timeout * 1000));
	if (t->cacert)
		curl_easy_setopt(easy, CURLOPT_CAINFO, t->cacert);
	if (t->insecure) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (t->verbose > 0) {
		curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, trace);
		curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
	}
}
