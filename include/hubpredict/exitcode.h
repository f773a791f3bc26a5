/* exitcode.h - the exit statuses of hubpredict, one enum for the whole program.
 *
 * The numbers are the documented contract (hubpredict(1), EXIT STATUS):
 * every failure anywhere in the code is one of these values, and main() returns it.
 */
#ifndef HUBPREDICT_EXITCODE_H
#define HUBPREDICT_EXITCODE_H

enum hp_exit {
	HP_EXIT_OK = 0,            /* every input succeeded */
	HP_EXIT_EXPECT = 1,        /* requests succeeded, an --expect check failed */
	HP_EXIT_USAGE = 2,         /* bad option or value, missing model or key */
	HP_EXIT_INPUT = 3,         /* missing, unreadable, empty or not a regular file */
	HP_EXIT_AUTH = 4,          /* 401 or 403 */
	HP_EXIT_NOT_FOUND = 5,     /* 404 */
	HP_EXIT_RATE_LIMITED = 6,  /* 429 still after retries */
	HP_EXIT_REJECTED = 7,      /* any other 4xx */
	HP_EXIT_SERVER = 8,        /* 5xx still after retries */
	HP_EXIT_NETWORK = 9,       /* resolve, connect, TLS, timeout, cut-off transfer */
	HP_EXIT_BAD_RESPONSE = 10, /* not JSON, not the documented shape, too big, redirect */
	HP_EXIT_OUTPUT = 11,       /* results could not be written */
	HP_EXIT_WAITED_OUT = 12,   /* deploy --wait / deploy wait reached --wait-timeout first */
	HP_EXIT_NOMEM = 13,        /* out of memory (an answer too large to decode, ...) */
	HP_EXIT_SIGHUP = 129,
	HP_EXIT_SIGINT = 130,
	HP_EXIT_SIGTERM = 143
};

/* The exit status for a final HTTP status (>= 300). 2xx is HP_EXIT_OK. */
enum hp_exit hp_exit_from_http(long status);

/* The exit status for a caught signal (SIGHUP 129, SIGINT 130, SIGTERM 143). */
enum hp_exit hp_exit_from_signal(int sig);

/* True for the statuses of an interrupted run (129, 130, 143). */
int hp_exit_interrupted(int code);

/* A short lowercase name for an exit status ("network", "auth", ...), never NULL. */
const char *hp_exit_name(int code);

/* The standard reason phrase of an HTTP status ("Unauthorized"), or "" when unknown. */
const char *hp_http_reason(long status);

#endif
