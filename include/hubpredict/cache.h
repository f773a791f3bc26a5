/* cache.h - --cache DIR: 200 answers kept by content (hubpredict(1), CACHE,
 * RESUME AND SHARDS).
 *
 * The key is SHA-256 over a fixed text: the request URL, the flavour, every
 * form field sorted by name (then value), the file part's type, and the
 * SHA-256 of the bytes uploaded (after --resize, the resized copy), or the
 * URL of a URL input. An entry is DIR/ab/cdef... (the key in hex, its first
 * two digits a directory), holding
 *
 *   "HPCACHE1" | key (32) | stored time (8, seconds, big-endian) |
 *   body length (8, big-endian) | SHA-256 of the body (32) | body
 *
 * so a file that is truncated, corrupt, foreign or has another key is a
 * miss (and is replaced by the next store). Entries are written to a
 * temporary file in the same directory, fsync'd and renamed over the name:
 * concurrent runs (other machines on NFS too) share DIR without a lock.
 *
 * Ownership: hp_cache_new gives a cache the caller frees with hp_cache_free.
 */
#ifndef HUBPREDICT_CACHE_H
#define HUBPREDICT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "hubpredict/sha256.h"

struct hp_request_ctx;
struct hp_upload;
struct hp_body;

#define HP_CACHE_MAGIC "HPCACHE1"
#define HP_CACHE_HEADER 88 /* magic 8 + key 32 + time 8 + length 8 + digest 32 */

struct hp_cache;

/* Open (and create, one level, when missing) DIR. ttl: seconds an entry is
 * good for. 0, or HP_EXIT_OUTPUT with a message in err. */
int hp_cache_new(struct hp_cache **out, const char *dir, double ttl, char *err, size_t errlen);
void hp_cache_free(struct hp_cache *c);

/* The key of one upload through req: 0, or -1 (read error, errno set). The
 * file is read once, in pieces, from its descriptor (pread). */
int hp_cache_key(const struct hp_request_ctx *req, const struct hp_upload *up, unsigned char key[HP_SHA256_LEN]);

/* A fresh entry for key into body (hp_body_init'ed by the caller): 1, or 0
 * for a miss (none, expired, or not a valid entry). */
int hp_cache_get(struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], struct hp_body *body);

/* Store data under key: 0, or -1 with a message in err (the run goes on). */
int hp_cache_put(struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], const void *data, size_t len,
                 char *err, size_t errlen);

/* What one file in DIR is, for `hubpredict cache`. */
struct hp_cache_file {
	const char *path;      /* borrowed for the call */
	bool valid;            /* a whole entry whose name is its key */
	bool temporary;        /* a store in progress (or one that died) */
	time_t stored;         /* valid: when it was stored; else the file's mtime */
	long long bytes;       /* the file's size */
};

/* Every regular file in DIR's fan-out directories: fn(state, file). 0, or
 * -1 with a message in err when DIR cannot be read. */
int hp_cache_walk(const char *dir, void (*fn)(void *state, const struct hp_cache_file *f), void *state, char *err,
                  size_t errlen);

#endif
