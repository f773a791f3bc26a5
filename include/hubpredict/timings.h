/* timings.h - when an input's request was meant to start, when it did, and
 * where the time of its last attempt went, as libcurl measured it
 * (CURLINFO_*_TIME_T), copied from the transfer before its handle is
 * reused or freed. Observers read it through the finished item (bench's
 * per-phase figures, a stream's latency).
 *
 * Ownership: plain data, embedded in the batch's job; an observer's pointer
 * to it is valid during its call only.
 */
#ifndef HUBPREDICT_TIMINGS_H
#define HUBPREDICT_TIMINGS_H

struct hp_timings {
	double scheduled_ms;        /* the pacer's time for the first attempt (clock.h's ms);
	                               the same as started_ms unless an open-loop schedule is late */
	double started_ms;          /* the first attempt's start (clock.h's ms); 0 = never sent */
	/* the last attempt, in seconds from its start; -1 when it has none
	 * (answered from --cache, or failed before it was sent) */
	double connect_s;           /* TCP connected (CURLINFO_CONNECT_TIME_T) */
	double appconnect_s;        /* TLS done (CURLINFO_APPCONNECT_TIME_T; 0 over plain HTTP) */
	double pretransfer_s;       /* about to send (CURLINFO_PRETRANSFER_TIME_T) */
	double upload_done_s;       /* the file's last byte handed to libcurl (libcurl 7.88 has no
	                               POSTTRANSFER_TIME_T): by the engine's clock from the attempt's
	                               start (a form sent with the headers: pretransfer_s); -1
	                               unknown (a URL source) */
	double starttransfer_s;     /* the first byte of the answer (CURLINFO_STARTTRANSFER_TIME_T;
	                               a 100 Continue's, when the server sent one) */
	double answer_s;            /* the final answer's status line after a 100 Continue, by the
	                               engine's clock from the attempt's start; -1 unknown, or no
	                               interim answer came (then starttransfer_s is the answer's) */
	double total_s;             /* the whole attempt (CURLINFO_TOTAL_TIME_T) */
	long long sent_bytes;       /* the request body as sent (CURLINFO_SIZE_UPLOAD_T) */
	long long received_bytes;   /* the answer's body as received (CURLINFO_SIZE_DOWNLOAD_T) */
};

#define HP_TIMINGS_NONE { .connect_s = -1, .appconnect_s = -1, .pretransfer_s = -1, .upload_done_s = -1, .starttransfer_s = -1, .answer_s = -1, \
	.total_s = -1, .sent_bytes = -1, .received_bytes = -1 }

#endif
