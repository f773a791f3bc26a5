/* phases.h - one bench request's time split into phases, from libcurl's
 * timings (hubpredict bench; SPEC §14). Nothing to own: plain values in,
 * plain values out.
 *
 * libcurl's CURLINFO_*_TIME_T values count microseconds from the transfer's
 * start (when the handle was added to the multi handle), each one cumulative:
 * CONNECT (TCP up) <= APPCONNECT (TLS up; 0 without TLS) <= PRETRANSFER (about
 * to send the request) <= STARTTRANSFER (first byte of the answer) <= TOTAL.
 * libcurl 7.88 (Debian 12) has no POSTTRANSFER_TIME_T (8.10 added it), so
 * the moment the last byte of the upload was handed to the socket is taken
 * by the engine in its XFERINFOFUNCTION, on the first call where ulnow ==
 * ultotal, as curl_easy_getinfo(CURLINFO_TOTAL_TIME_T) there: libcurl's own
 * clock at that moment, the same origin as the others.
 *
 * The phases (milliseconds):
 *   connect  = PRETRANSFER: name lookup, TCP, TLS (0-ish on a reused
 *              connection);
 *   upload   = upload_done - PRETRANSFER (0 when upload_done is unknown,
 *              then the upload is counted in wait);
 *   server   = the answer's `speed` sum (preprocess + inference +
 *              postprocess), as the server reports it;
 *   wait     = STARTTRANSFER - upload_done - server, at least 0: the network
 *              both ways and the server's queueing;
 *   download = TOTAL - STARTTRANSFER.
 * When server <= the time between the upload and the first byte, the five
 * add up to TOTAL. upload_done is clamped into [PRETRANSFER, STARTTRANSFER]
 * (a server may answer before the upload ends); STARTTRANSFER 0 (no byte
 * came) is taken as TOTAL.
 *
 * latency = behind + TOTAL, where behind = started - scheduled (at least 0):
 * measured from the request's scheduled start, as wrk2 does, so a server
 * that stalls shows in the latency of every request that was due meanwhile
 * (coordinated omission corrected). In a closed loop scheduled = started.
 */
#ifndef HUBPREDICT_PHASES_H
#define HUBPREDICT_PHASES_H

#include <stdint.h>

struct hp_timings {
	int64_t connect_us;        /* CURLINFO_CONNECT_TIME_T */
	int64_t appconnect_us;     /* CURLINFO_APPCONNECT_TIME_T (0: no TLS) */
	int64_t pretransfer_us;    /* CURLINFO_PRETRANSFER_TIME_T */
	int64_t upload_done_us;    /* from the progress callback; < 0 unknown */
	int64_t starttransfer_us;  /* CURLINFO_STARTTRANSFER_TIME_T */
	int64_t total_us;          /* CURLINFO_TOTAL_TIME_T */
	double server_ms;          /* the answer's speed sum; < 0 unknown (no answer) */
	double scheduled_ms;       /* hp_clock_ms() the request was due */
	double started_ms;         /* hp_clock_ms() it was handed to libcurl */
};

struct hp_phases {
	double connect_ms, upload_ms, server_ms, wait_ms, download_ms;
	double behind_ms;          /* how late the client started it */
	double latency_ms;         /* behind + total */
};

/* The phases of t (formulas above). */
struct hp_phases hp_phases_of(const struct hp_timings *t);

#endif
