/* exitcode.c - names of exit statuses and HTTP reason phrases. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/exitcode.h"

#include <signal.h>

enum hp_exit hp_exit_from_http(long status)
{
	if (status >= 200 && status < 300)
		return HP_EXIT_OK;
	if (status == 401 || status == 403)
		return HP_EXIT_AUTH;
	if (status == 404)
		return HP_EXIT_NOT_FOUND;
	if (status == 429)
		return HP_EXIT_RATE_LIMITED;
	if (status >= 400 && status < 500)
		return HP_EXIT_REJECTED;
	if (status >= 500 && status < 600)
		return HP_EXIT_SERVER;
	return HP_EXIT_BAD_RESPONSE; /* 1xx, 3xx or nonsense as a final status */
}

const char *hp_exit_name(int code)
{
	switch (code) {
	case HP_EXIT_OK: return "ok";
	case HP_EXIT_EXPECT: return "expectation";
	case HP_EXIT_USAGE: return "usage";
	case HP_EXIT_INPUT: return "input";
	case HP_EXIT_AUTH: return "auth";
	case HP_EXIT_NOT_FOUND: return "not found";
	case HP_EXIT_RATE_LIMITED: return "rate limited";
	case HP_EXIT_REJECTED: return "rejected";
	case HP_EXIT_SERVER: return "server error";
	case HP_EXIT_NETWORK: return "network";
	case HP_EXIT_BAD_RESPONSE: return "bad response";
	case HP_EXIT_OUTPUT: return "output";
	case HP_EXIT_WAITED_OUT: return "waited out";
	case HP_EXIT_NOMEM: return "out of memory";
	case HP_EXIT_SIGHUP: return "hung up";
	case HP_EXIT_SIGINT: return "interrupted";
	case HP_EXIT_SIGTERM: return "terminated";
	default: return "error";
	}
}

enum hp_exit hp_exit_from_signal(int sig)
{
	switch (sig) {
	case SIGHUP: return HP_EXIT_SIGHUP;
	case SIGTERM: return HP_EXIT_SIGTERM;
	default: return HP_EXIT_SIGINT;
	}
}

int hp_exit_interrupted(int code)
{
	return code == HP_EXIT_SIGHUP || code == HP_EXIT_SIGINT || code == HP_EXIT_SIGTERM;
}

const char *hp_http_reason(long status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 425: return "Too Early";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}
