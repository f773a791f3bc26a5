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
 * temporary file (".tmp-" and letters or digits, created O_EXCL with mode
 * 0666 less the umask) in the same directory, fsync'd and renamed over the
 * name: concurrent runs (other machines on NFS too) share DIR without a lock.
 *
 * DIR carries the standard CACHEDIR.TAG (bford.info/cachedir: tar, borg and
 * restic skip such a folder). hp_cache_new writes it into a DIR it creates,
 * an empty one, or one that holds nothing but hubpredict's own files (a
 * cache an earlier version made); any other DIR without it is refused.
 * Nothing here follows a link below DIR or leaves it: the fan-out
 * directories and the files in them are opened relative to DIR's
 * descriptor with O_NOFOLLOW, files with O_NONBLOCK and their type checked
 * before anything is read (a FIFO or a link is a miss, never waited on).
 * An entry larger than HP_CACHE_BODY_MAX is a miss unread, and a body past
 * 1 MiB is checked against its SHA-256 before it is read into memory.
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
/* The largest body an entry may hold: a run never keeps a larger answer (body.h's HP_BODY_MAX). */
#define HP_CACHE_BODY_MAX ((uint64_t)512 * 1024 * 1024)
#define HP_CACHE_TAG "CACHEDIR.TAG"
#define HP_CACHE_TAG_SIGNATURE "Signature: 8a477f597d28d172789f06886806bc55"

struct hp_cache;

/* Open (and create, one level, when missing) DIR and tag it (above). ttl:
 * seconds an entry is good for. 0, HP_EXIT_USAGE (a DIR that is not a
 * cache), or HP_EXIT_OUTPUT, with a message in err. */
int hp_cache_new(struct hp_cache **out, const char *dir, double ttl, char *err, size_t errlen);
void hp_cache_free(struct hp_cache *c);

/* The key of one upload through req: 0, or -1 (read error, errno set). The
 * file is read once, in pieces, from its descriptor (pread). */
int hp_cache_key(const struct hp_request_ctx *req, const struct hp_upload *up, unsigned char key[HP_SHA256_LEN]);

/* A fresh entry for key into body (hp_body_init'ed by the caller): 1, or 0
 * for a miss (none, expired, or not a valid entry). */
int hp_cache_get(struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], struct hp_body *body);

/* Store a whole body (in memory, or mapped: read in pieces, each piece's
 * pages let go after it, hp_body_release) under key: 0, or -1 with a
 * message in err (the run goes on). */
int hp_cache_put(struct hp_cache *c, const unsigned char key[HP_SHA256_LEN], struct hp_body *body, char *err,
                 size_t errlen);

/* What one file in DIR's fan-out directories is, for `hubpredict cache`. */
enum hp_cache_kind {
	HP_CACHE_ENTRY,        /* a whole entry whose name is its key */
	HP_CACHE_DAMAGED,      /* named as an entry and starting as that entry, but cut or grown */
	HP_CACHE_TEMPORARY,    /* a store in progress (or one that died) */
	HP_CACHE_FOREIGN       /* anything else: never removed (a link, a FIFO, a folder, another's file) */
};

struct hp_cache_file {
	const char *path;      /* DIR/ab/name, for messages; borrowed for the call */
	enum hp_cache_kind kind;
	time_t stored;         /* an entry: when it was stored; else the file's mtime */
	long long bytes;       /* the file's size */
	int dirfd;             /* for hp_cache_remove: the fan-out directory (-1: none) */
	const char *name;      /* the name in it */
};

/* Every file in the fan-out directories of a tagged DIR: fn(state, file).
 * 0, or HP_EXIT_INPUT (DIR cannot be read) or HP_EXIT_USAGE (no valid
 * CACHEDIR.TAG), with a message in err. */
int hp_cache_walk(const char *dir, void (*fn)(void *state, const struct hp_cache_file *f), void *state, char *err,
                  size_t errlen);

/* Remove f (during the walk's call), never a FOREIGN one and never what a
 * link points at: 0, or -1 with errno set. */
int hp_cache_remove(const struct hp_cache_file *f);

#endif
