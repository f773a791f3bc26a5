/* resume.h - --resume LOG (hubpredict(1), CACHE, RESUME AND SHARDS).
 *
 * LOG is a -f jsonl output of earlier runs. Opening it reads it once, line
 * by line, into a set of (file, size, mtime) of its successful envelopes (a
 * success is an envelope with "response"); a last line without its newline
 * (a run killed while writing it) is cut off, so appends start on a line of
 * their own. Each input of this run then either is in the set (skipped: not
 * opened, not sent, not written) or, once finished, is appended to LOG as
 * one jsonl envelope, flushed per line (and fsync'd when a request was
 * made for it), whatever -f/-o say.
 *
 * The set holds 64 bits of SHA-256 of each triple (a false skip needs a
 * 64-bit collision). Standard input is never skipped; a URL input is
 * matched by its file alone.
 *
 * Ownership: hp_resume_new gives a log the caller frees with hp_resume_free
 * (which closes LOG; what was appended is already on disk).
 */
#ifndef HUBPREDICT_RESUME_H
#define HUBPREDICT_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct hp_item;
struct hp_resume;

/* Open (create) LOG, read it, repair a torn last line. sync: fsync after
 * each line. 0, or an exit status (11: LOG cannot be read or written; 2:
 * LOG is not a file) with a message in err. */
int hp_resume_new(struct hp_resume **out, const char *path, bool sync, char *err, size_t errlen);
void hp_resume_free(struct hp_resume *r);

/* Lines read, successes in the set, and whether a torn line was cut. */
void hp_resume_counts(const struct hp_resume *r, size_t *lines, size_t *done, bool *repaired);

/* True when path (as given) has a successful envelope in LOG with its
 * current size and mtime: st's (the stat taken while listing, borrowed), or
 * when st is NULL a stat of path. */
bool hp_resume_done(const struct hp_resume *r, const char *path, const struct stat *st);

/* An observer (batch.h): the input's envelope, appended to LOG. */
void hp_resume_item(void *state, const struct hp_item *it);

/* True when appending to LOG has failed (the message is out). */
bool hp_resume_failed(const struct hp_resume *r);

#endif
