/* cmd_cache.c - `hubpredict cache stats|prune`: what --cache DIR holds, and
 * keeping it in bounds (hubpredict(1), CACHE, RESUME AND SHARDS). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/cache.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"
#include "hubpredict/request.h"
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A temporary file older than this is a store that died: prune removes it. */
#define STALE_TEMP 3600.0

static void usage(void)
{
	printf("Usage: hubpredict cache stats [--cache DIR] [--cache-ttl SEC]\n"
	       "       hubpredict cache prune [--cache DIR] [--older-than SEC]\n"
	       "stats: entries, their bytes, how many are older than --cache-ttl, and files that are\n"
	       "not entries (damaged, foreign, or a store in progress).\n"
	       "prune: remove entries older than --older-than SEC (default --cache-ttl), damaged\n"
	       "entries, and temporary files older than an hour; any other file is left alone and no\n"
	       "link is followed. DIR must carry the CACHEDIR.TAG that a run with --cache DIR writes;\n"
	       "it may come from the config file's `cache` key.\n");
	hp_commands_usage();
}

struct tally {
	time_t now;
	double ttl;                 /* stats: expired after; prune: removed after */
	bool prune;
	size_t entries, expired, other, temporary, removed, failed;
	long long bytes, removed_bytes;
	time_t oldest, newest;
};

static void count(void *state, const struct hp_cache_file *f)
{
	struct tally *t = state;
	double age = difftime(t->now, f->stored);
	bool old = f->kind == HP_CACHE_ENTRY ? age > t->ttl
	         : f->kind == HP_CACHE_TEMPORARY ? age > STALE_TEMP
	         : f->kind == HP_CACHE_DAMAGED; /* a file not hubpredict's is never removed */
	if (t->prune && old) {
		if (hp_cache_remove(f) == 0 || errno == ENOENT) {
			t->removed++;
			t->removed_bytes += f->bytes;
		} else {
			char q[600];
			t->failed++;
			hp_msg_error("cache prune: cannot remove %s: %s", hp_msg_quote(q, sizeof q, f->path), strerror(errno));
		}
		return;
	}
	if (f->kind == HP_CACHE_ENTRY) {
		t->entries++;
		t->bytes += f->bytes;
		t->expired += old;
		if (!t->oldest || f->stored < t->oldest)
			t->oldest = f->stored;
		if (f->stored > t->newest)
			t->newest = f->stored;
	} else if (f->kind == HP_CACHE_TEMPORARY) {
		t->temporary++;
	} else {
		t->other++;
	}
}

static void stamp(char *buf, size_t len, time_t t)
{
	struct tm tm;
	if (!t || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
}

static int run(const struct hp_options *o, bool prune)
{
	char err[640], a[32], b[32];
	if (!o->cache) {
		hp_msg_error("cache %s needs --cache DIR (or `cache = DIR` in the config file)", prune ? "prune" : "stats");
		return HP_EXIT_USAGE;
	}
	struct tally t = { .now = time(NULL), .ttl = prune && o->older_than >= 0 ? o->older_than : o->cache_ttl,
		           .prune = prune };
	int status = hp_cache_walk(o->cache, count, &t, err, sizeof err);
	if (status != 0) {
		char at[1100];
		hp_options_where(o, "cache", at, sizeof at); /* a config's `cache =`: FILE:LINE */
		hp_msg_error("%s%s", at, err);
		return status;
	}
	stamp(a, sizeof a, t.oldest);
	stamp(b, sizeof b, t.newest);
	if (prune)
		printf("removed %zu files (%lld bytes); kept %zu entries (%lld bytes); left %zu files that are not "
		       "hubpredict's\n", t.removed, t.removed_bytes, t.entries, t.bytes, t.other);
	else
		printf("directory: %s\nentries: %zu\nbytes: %lld\nexpired: %zu (older than %.0f s)\noldest: %s\n"
		       "newest: %s\nnot entries: %zu\ntemporary: %zu\n", o->cache, t.entries, t.bytes, t.expired, t.ttl,
		       a, b, t.other, t.temporary);
	if (fflush(stdout) != 0)
		return HP_EXIT_OUTPUT;
	return t.failed ? HP_EXIT_OUTPUT : HP_EXIT_OK;
}

int hp_cmd_cache(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	bool help = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0;
	if (!help && strcmp(sub, "stats") != 0 && strcmp(sub, "prune") != 0) {
		hp_msg_error(*sub ? "cache: '%s' is not stats or prune" : "cache needs stats or prune%s", sub);
		fputs("try 'hubpredict cache --help'\n", stderr);
		return HP_EXIT_USAGE;
	}
	if (help) {
		usage();
		return fflush(stdout) == 0 ? HP_EXIT_OK : HP_EXIT_OUTPUT;
	}
	struct hp_options o = HP_OPTIONS_INIT;
	char err[640];
	int status = hp_cmd_parse(&o, HP_CMD_CACHE, "cache", usage, argc - 1, argv + 1, err, sizeof err);
	if (status < 0 && o.older_than >= 0 && strcmp(sub, "prune") != 0) {
		hp_msg_error("--older-than goes with cache prune");
		status = HP_EXIT_USAGE;
	} else if (status < 0) {
		status = run(&o, strcmp(sub, "prune") == 0);
	}
	hp_options_free(&o);
	return status;
}
