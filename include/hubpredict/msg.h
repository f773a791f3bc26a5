/* msg.h - every line hubpredict writes to stderr goes through here.
 *
 * Lines start with "hubpredict: ", are one line (control characters escaped) and
 * never contain the API key: once hp_msg_set_secret() has been called, every
 * run of 8 or more of the key's characters in a message (the whole key, or a
 * fragment a server quoted) is replaced with "[redacted]".
 */
#ifndef HUBPREDICT_MSG_H
#define HUBPREDICT_MSG_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__GNUC__)
#define HP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HP_PRINTF(a, b)
#endif

/* The key to scrub from every message (not copied: it must outlive all calls;
 * NULL or "" turns scrubbing off). */
void hp_msg_set_secret(const char *key);
/* -q: warnings off (errors still print). */
void hp_msg_set_quiet(bool quiet);
/* -v: verbosity level for hp_msg_verbose(). */
void hp_msg_set_verbose(int level);
int hp_msg_verbose_level(void);

/* A function called before any message is written (the progress display
 * erases its line); NULL to remove. */
void hp_msg_set_before_hook(void (*fn)(void *), void *arg);

/* "hubpredict: MESSAGE" */
void hp_msg_error(const char *fmt, ...) HP_PRINTF(1, 2);
/* "hubpredict: warning: MESSAGE", unless quiet */
void hp_msg_warn(const char *fmt, ...) HP_PRINTF(1, 2);
/* "hubpredict: note: MESSAGE", unless quiet: something the user may not expect */
void hp_msg_note(const char *fmt, ...) HP_PRINTF(1, 2);
/* "hubpredict: MESSAGE" only when -v was given at least `level` times */
void hp_msg_verbose(int level, const char *fmt, ...) HP_PRINTF(2, 3);
/* Raw verbose text (libcurl's trace), key scrubbed, control characters escaped;
 * each line of it prefixed with `prefix`. */
void hp_msg_trace(const char *prefix, const char *text, size_t n);

/* Replace every run of 8 or more of the secret's characters (every
 * occurrence of a secret shorter than that) in buf (NUL-terminated) in place
 * with "[redacted]" as far as it fits; returns buf. */
char *hp_msg_scrub(char *buf, size_t buflen);

/* Overwrite every such run inside the JSON string literals of buf[0..n)
 * with '*', keeping the length (a response body on its way to stdout: its
 * JSON stays valid, its numbers untouched). Returns the bytes masked. */
size_t hp_msg_mask(char *buf, size_t n);

/* True when buf[0..n) holds such a run anywhere (for a warning where the
 * bytes must stay as they are: -f raw). */
bool hp_msg_holds_secret(const char *buf, size_t n);

/* Quote a file name for a message: 'name' with control characters and invalid
 * UTF-8 escaped. Writes into dst (NUL-terminated, truncated with "..."). */
const char *hp_msg_quote(char *dst, size_t dstlen, const char *name);

#endif
