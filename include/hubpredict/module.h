/* module.h - private modules of hubpredict, loaded (dlopen) when a run first
 * needs them, so that the runs that do not never map their libraries: the
 * image module (--annotate, --resize: TurboJPEG, libpng, libwebp, giflib,
 * FreeType, fontconfig) is one.
 *
 * A module is a shared object NAME (e.g. "hubpredict-image.so") found, by
 * way of the executable's own path (/proc/self/exe), beside the executable
 * (the build tree) or else in HP_MODULE_RELDIR from its directory (the
 * install: ${CMAKE_INSTALL_LIBDIR}/hubpredict relative to the bindir, so an
 * installed tree works wherever it was unpacked). It exports one function,
 * ENTRY, of type hp_module_entry_fn, returning a static table of functions
 * that starts with a struct hp_module_header; the module is refused unless
 * the header's ABI number and hubpredict version are the binary's own. The
 * module calls back into the binary only through the few symbols the binary
 * exports (its link's dynamic list).
 *
 * Ownership: the table is the module's, static, valid until exit, when the
 * module is closed (atexit: a leak checker finds nothing of it left).
 */
#ifndef HUBPREDICT_MODULE_H
#define HUBPREDICT_MODULE_H

#include <stddef.h>

struct hp_module_header {
	unsigned abi;           /* the table's layout; bumped when it changes */
	const char *version;    /* HP_VERSION of the build the module came from */
};

typedef const struct hp_module_header *hp_module_entry_fn(void);

/* hp_module_load's flags. RESIDENT: never unmapped, even at exit (a module
 * whose libraries keep allocations for the life of the process: video's
 * FFmpeg); the others are closed at exit. */
#define HP_MODULE_RESIDENT 1u

/* Load NAME and return the table its ENTRY gives (*table set: static, see
 * above). 0, or -1 with one line in err naming the file: missing (the path
 * where an install keeps it), not loadable (dlerror: a library it needs is
 * missing), no ENTRY, or from another build. Loading the same NAME again
 * returns the same table. */
int hp_module_load(const char *name, const char *entry, unsigned abi, unsigned flags,
                   const struct hp_module_header **table, char *err, size_t errlen);

#endif
