/* phases.h - one bench request's time split into phases, from the engine's
 * copy of libcurl's timings (timings.h; hubpredict bench, SPEC §14). Nothing
 * to own: plain values in, plain values out.
 *
 * libcurl's CURLINFO_*_TIME_T values count from the attempt's start, each
 * one cumulative: CONNECT (TCP up) <= APPCONNECT (TLS up; 0 without TLS) <=
 * PRETRANSFER (about to send the request) <= STARTTRANSFER (first byte of
 * the answer) <= TOTAL. libcurl 7.88 (Debian 12) has no POSTTRANSFER_TIME_T
 * (8.10 added it), so the end of the upload is the engine's: when its read
 * callback handed libcurl the file's last byte (timings.h, upload_done_s).
 *
 * The phases (milliseconds):
 *   connect  = PRETRANSFER: name lookup, TCP, TLS (0-ish on a reused
 *              connection);
 *   upload   = upload_done - PRETRANSFER (0 when upload_done is unknown,
 *              then the upload is counted in wait);
 *   server   = the answer's `speed` sum (preprocess + inference +
 *              postprocess), as the server reports it;
 *   wait     = first - upload_done - server, at least 0: the network
 *              both ways and the server's queueing;
 *   download = TOTAL - first,
 * where first is the final answer's first byte: the engine's answer_s (a
 * 100 Continue before it makes STARTTRANSFER too early), else STARTTRANSFER.
 * upload_done is clamped into [PRETRANSFER, first] (a server may answer
 * before the upload ends); then, when first - upload_done < server, the
 * client noted a time late (it lost the CPU between sending and noting it):
 * upload_done (and PRETRANSFER when past it) is moved back to first - server,
 * the server's own time being a floor. So the five add up to TOTAL whenever
 * server <= first. STARTTRANSFER 0 (no byte came) is taken as TOTAL; a
 * timing of -1 (unknown) as 0.
 *
 * latency = behind + TOTAL, where behind = started - scheduled (at least 0):
 * measured from the request's scheduled start, as wrk2 does, so a server
 * that stalls shows in the latency of every request that was due meanwhile
 * (coordinated omission corrected). In a closed loop scheduled = started.
 */
#ifndef HUBPREDICT_PHASES_H
#define HUBPREDICT_PHASES_H

#include "hubpredict/timings.h"


struct hp_phases {
	double connect_ms, upload_ms, server_ms, wait_ms, download_ms;
	double behind_ms;          /* how late the client started it */
	double latency_ms;         /* behind + total */
};

/* The phases of t (formulas above), the answer's speed sum server_ms (< 0:
 * no answer, 0). */
struct hp_phases hp_phases_of(const struct hp_timings *t, double server_ms);

#endif
