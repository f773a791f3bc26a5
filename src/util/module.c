/* module.c - private modules loaded on first use (module.h). */
#define _GNU_SOURCE
#include "hubpredict/module.h"
#include "hubpredict/msg.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where an install keeps the modules, relative to the bindir (CMake sets it
 * from GNUInstallDirs). */
#ifndef HP_MODULE_RELDIR
#define HP_MODULE_RELDIR "../libexec/hubpredict"
#endif

/* The modules loaded, closed at exit (so that a leak checker finds nothing
 * of the dynamic loader's bookkeeping still allocated). A resident module
 * (HP_MODULE_RESIDENT) is opened RTLD_NODELETE: closing it does not unmap it,
 * so what its libraries keep for the life of the process (FFmpeg's, and those
 * it loads, allocate at load time and never free) stays reachable, not
 * reported as leaked from an unmapped library. The others are unmapped at
 * exit, so memcheck finds none of the loader's records left. */
#define MODULES_MAX 4
static void *loaded[MODULES_MAX];
static size_t n_loaded;

static void close_modules(void)
{
	while (n_loaded > 0)
		dlclose(loaded[--n_loaded]);
}

/* Keep handle open until exit; false when there is no room for it. */
static bool keep(void *handle)
{
	if (n_loaded == MODULES_MAX || (n_loaded == 0 && atexit(close_modules) != 0))
		return false;
	loaded[n_loaded++] = handle;
	return true;
}

/* Append REL's components to the absolute directory in dir (NUL-terminated,
 * room for cap bytes): ".." drops the last one (never "/"), "." and empty
 * ones are skipped. -1 when it does not fit. */
static int join_lexically(char *dir, size_t cap, const char *rel)
{
	while (*rel) {
		size_t n = strcspn(rel, "/");
		size_t len = strlen(dir);
		if (n == 2 && rel[0] == '.' && rel[1] == '.') {
			char *slash = strrchr(dir, '/');
			if (slash)
				*(slash == dir ? slash + 1 : slash) = '\0';
		} else if (n > 0 && !(n == 1 && rel[0] == '.')) {
			size_t sep = len > 0 && dir[len - 1] == '/' ? 0 : 1;
			if (len + sep + n + 1 > cap)
				return -1;
			if (sep)
				dir[len++] = '/';
			memcpy(dir + len, rel, n);
			dir[len + n] = '\0';
		}
		rel += n + (rel[n] == '/');
	}
	return 0;
}

/* The module's path: beside the executable when it is there (a build tree),
 * else where an install keeps it. -1 when the executable's path is unknown
 * or too long (err set). */
static int module_path(const char *name, char *path, size_t cap, char *err, size_t errlen)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash = n > 0 ? memchr(exe, '/', (size_t)n) : NULL;
	if (!slash) {
		snprintf(err, errlen, "cannot find %s: the path of the running program is unknown (%s)", name,
		         n < 0 ? strerror(errno) : "not absolute");
		return -1;
	}
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	struct stat st;
	int len = snprintf(path, cap, "%s/%s", exe[0] ? exe : "", name);
	if (len > 0 && (size_t)len < cap && stat(path, &st) == 0)
		return 0;
	if ((size_t)snprintf(path, cap, "%s", exe[0] ? exe : "/") >= cap || join_lexically(path, cap, HP_MODULE_RELDIR) ||
	    join_lexically(path, cap, name)) {
		snprintf(err, errlen, "cannot find %s: the path of the running program is too long", name);
		return -1;
	}
	return 0;
}

int hp_module_load(const char *name, const char *entry, unsigned abi, unsigned flags,
                   const struct hp_module_header **table, char *err, size_t errlen)
{
	char path[PATH_MAX + 64], q[PATH_MAX + 80];
	void *handle = NULL;
	int rc = -1;
	if (module_path(name, path, sizeof path, err, errlen) < 0)
		goto done;
	hp_msg_quote(q, sizeof q, path);
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen, "%s is missing (%s)", q, strerror(errno));
		goto done;
	}
	if (!(handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | (flags & HP_MODULE_RESIDENT ? RTLD_NODELETE : 0)))) {
		const char *why = dlerror();
		snprintf(err, errlen, "%s cannot be loaded: %s", q, why ? why : "unknown error");
		goto done;
	}
	hp_module_entry_fn *fn;
	*(void **)&fn = dlsym(handle, entry);
	const struct hp_module_header *h = fn ? fn() : NULL;
	if (!h) {
		snprintf(err, errlen, "%s is not a module of hubpredict (no %s)", q, entry);
		goto done;
	}
	if (h->abi != abi || !h->version || strcmp(h->version, HP_VERSION) != 0) {
		snprintf(err, errlen, "%s is from another build of hubpredict (%.32s, interface %u; this one: %s, %u)", q,
		         h->version ? h->version : "?", h->abi, HP_VERSION, abi);
		goto done;
	}
	if (!keep(handle)) {
		snprintf(err, errlen, "%s: too many modules loaded", q);
		goto done;
	}
	*table = h;
	handle = NULL; /* closed at exit */
	rc = 0;
done:
	if (handle)
		dlclose(handle);
	return rc;
}
