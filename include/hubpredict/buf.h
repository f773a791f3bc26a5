/* buf.h - the one growing buffer: a byte string kept NUL-terminated, grown by
 * doubling. The buffer owns data; hp_buf_clear frees it (safe twice and on a
 * zeroed struct), or the caller takes data and frees it with free(). */
#ifndef HUBPREDICT_BUF_H
#define HUBPREDICT_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct hp_buf {
	char *data;     /* NUL-terminated once anything was added (owned) */
	size_t len;
	size_t cap;
	bool oom;       /* an add failed: every later add is a no-op (sticky) */
};

/* Grow *data (realloc) to hold at least need bytes: its capacity doubles from
 * min_cap. 0, or -1 when out of memory or need overflows (*data unchanged). */
int hp_grow(char **data, size_t *cap, size_t need, size_t min_cap);

/* Room for need elements of elem bytes in the array v (capacity *cap):
 * returns v itself when it already has room, else the array reallocated,
 * its capacity doubled from min_cap until need fits (*cap updated); NULL
 * when out of memory or the size overflows, v then unchanged and still the
 * caller's (need >= 1). The one growth rule for the arrays of every stage;
 * hp_grow is its byte case. */
void *hp_grow_array(void *v, size_t *cap, size_t need, size_t elem, size_t min_cap);

/* Append n bytes of p. 0, or -1 (b->oom set) when out of memory. */
int hp_buf_add(struct hp_buf *b, const void *p, size_t n);
/* Free the data; the struct is zeroed. */
void hp_buf_clear(struct hp_buf *b);

#endif
