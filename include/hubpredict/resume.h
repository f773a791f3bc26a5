/* resume.h - --resume LOG (hubpredict(1), CACHE, RESUME AND SHARDS).
 *
 * LOG is a -f jsonl output of earlier runs. Opening it checks that it is
 * one, locks it and reads it once, line by line, into a set of the
 * successful envelopes (an envelope with "response" whose line is strict
 * JSON as a whole) keyed by (file, size, mtime, request). Each input of this
 * run then either is in the set (skipped: not opened, not sent, not written)
 * or, once finished, is appended to LOG as one jsonl envelope, flushed per
 * line (and fsync'd when a request was made for it), whatever -f/-o say.
 *
 * What is refused (exit 2, before anything is written to LOG): a LOG that is
 * not a regular file (a FIFO, device or directory; checked before it is
 * opened, and again on the descriptor), a symlink to nothing, a file another
 * user owns, an existing non-empty file whose first line does not begin as
 * a hubpredict envelope does ({"file":), and a LOG another run holds. A symlink is followed
 * (as for every output, SPEC §10) and its target must pass the same checks,
 * so a planted link can only lead to a log of the user's own. That LOG is
 * no input and no image or video is the preflight's (preflight.h: LOG is
 * one of its files).
 *
 * The lock is a classic fcntl() write lock on the whole file, held from open
 * to hp_resume_free: it works on NFS (flock there is emulated by it anyway)
 * and F_GETLK names the holder's PID. Such a lock is dropped when the process
 * closes ANY descriptor of the file, so LOG is opened once and read through
 * that descriptor (pread), never dup'ed nor opened again while held.
 *
 * A last line without its newline (a run killed while writing it) is cut
 * off, so appends start on a line of their own; only once the file is known
 * to be a log.
 *
 * The request key (hp_resume_request_key) is 128 bits of SHA-256 over the
 * URL, the flavour and every form field sorted by name, as the cache's key
 * without the bytes; -f jsonl envelopes carry it as "request". A line
 * without it (an older log) matches no request: its input is sent again.
 * The set holds 64 bits of SHA-256 of each (file, size, mtime, request) (a
 * false skip needs a 64-bit collision). Standard input is never skipped; a
 * URL input is matched by its file alone (and the request).
 *
 * Ownership: hp_resume_new gives a log the caller frees with hp_resume_free
 * (which closes LOG, releasing the lock; what was appended is on disk).
 */
#ifndef HUBPREDICT_RESUME_H
#define HUBPREDICT_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct hp_item;
struct hp_request_ctx;
struct hp_resume;

/* The request key in hex (32 digits and a NUL). */
#define HP_RESUME_KEY_LEN 33

/* The key of every request made through req, into hex. 0, or -1 when out
 * of memory. */
int hp_resume_request_key(const struct hp_request_ctx *req, char hex[HP_RESUME_KEY_LEN]);

/* Open (create) LOG, check, lock and read it, repair a torn last line.
 * request: this run's key (copied). sync: fsync after each line. 0, or an
 * exit status (2: refused, see above; 11: LOG cannot be read, written or
 * locked) with a one-line message in err. */
int hp_resume_new(struct hp_resume **out, const char *path, const char *request, bool sync, char *err,
                  size_t errlen);
void hp_resume_free(struct hp_resume *r);

/* Lines read, successes in the set, and whether a torn line was cut. */
void hp_resume_counts(const struct hp_resume *r, size_t *lines, size_t *done, bool *repaired);

/* True when path (as given) has a successful envelope in LOG for this
 * request with its current size and mtime: st's (the stat taken while
 * listing, borrowed), or when st is NULL a stat of path. */
bool hp_resume_done(const struct hp_resume *r, const char *path, const struct stat *st);

/* An observer (batch.h): the input's envelope, appended to LOG. */
void hp_resume_item(void *state, const struct hp_item *it);

/* True when appending to LOG has failed (the message is out): the batch
 * starts no other request. */
bool hp_resume_failed(const struct hp_resume *r);

#endif
