/* text.h - the escaping rules of every output format, in one place.
 *
 * Names in responses come from a remote server: they may hold commas, quotes,
 * tabs, newlines, control characters or invalid UTF-8. Each writer below makes
 * any byte string safe for one destination.
 *
 * Ownership: the writers and checkers take borrowed bytes and allocate
 * nothing; hp_term_escape, hp_fmt_double and hp_base64_decode write into the
 * caller's buffer. The one exception is hp_shell_quote, which returns a new
 * string the caller frees with free().
 */
#ifndef HUBPREDICT_TEXT_H
#define HUBPREDICT_TEXT_H

#include <stddef.h>
#include <stdbool.h>

struct hp_output;

/* Length in bytes of the valid UTF-8 sequence at s (at most n bytes), or 0 when
 * s does not start with one (bad lead byte, truncated, overlong, surrogate). */
size_t hp_utf8_seq_len(const unsigned char *s, size_t n);

/* True when s[0..n) is valid UTF-8 throughout. */
bool hp_utf8_valid(const char *s, size_t n);

/* Write the bytes s[0..n) as a JSON string of their standard base64 (RFC
 * 4648, with padding): how a name that is not UTF-8 keeps its exact bytes. */
void hp_json_write_base64(struct hp_output *out, const char *s, size_t n);

/* Decode standard base64 text s[0..n) into dst (at least n / 4 * 3 + 1
 * bytes, NUL-terminated). Returns the decoded length, or -1 when s is not
 * base64. */
long hp_base64_decode(char *dst, const char *s, size_t n);

/* Terminal columns taken by the code point cp (0 for combining marks, 2 for
 * East Asian wide and emoji, else 1). */
int hp_codepoint_width(unsigned cp);

/* Escape s for a terminal into dst (always NUL-terminated): control characters
 * become \t \n \r \e or \xNN, invalid UTF-8 bytes \xNN, a backslash stays as is.
 * Returns the display width of the escaped text; *truncated is set when dst was
 * too small (it may be NULL). */
int hp_term_escape(char *dst, size_t dstlen, const char *s, size_t n, bool *truncated);

/* Write s as a JSON string literal (with the quotes): exact for valid UTF-8,
 * control characters as \uXXXX, invalid UTF-8 bytes as U+FFFD. */
void hp_json_write_string(struct hp_output *out, const char *s, size_t n);

/* Write a JSON document's text without insignificant white space, every token
 * otherwise unchanged (raw control characters and invalid UTF-8 inside strings
 * are escaped as hp_json_write_string does). The text must be valid JSON. */
void hp_json_write_minified(struct hp_output *out, const char *s, size_t n);

/* Write one CSV field per RFC 4180: quoted when it holds a comma, quote, CR, LF
 * or leading/trailing space; quotes doubled. Control characters other than
 * tab, CR and LF, and invalid UTF-8 bytes, become U+FFFD: the output is valid
 * UTF-8 and safe on a terminal. Everything else is unchanged. */
void hp_csv_write_field(struct hp_output *out, const char *s, size_t n);

/* Write s as XML 1.0 character data, for an attribute value (attr) or element
 * text: & < > " ' become entities; characters XML 1.0 does not allow (controls
 * other than tab, LF and CR, U+FFFE, U+FFFF) and invalid UTF-8 bytes become
 * U+FFFD. CR is written as &#13; (a parser would turn it into LF), and in an
 * attribute tab and LF too (a parser would turn them into spaces), so every
 * allowed character reads back unchanged. */
void hp_xml_write_text(struct hp_output *out, const char *s, size_t n, bool attr);

/* Format a double in the C locale with the fewest digits that read back to the
 * same value ("0.92", "118", "1e+300"); "null"-free: NaN and infinities come out
 * as "nan", "inf", "-inf". Returns the length. */
int hp_fmt_double(char *dst, size_t dstlen, double v);

/* Quote s for a POSIX shell in single quotes ('it'\''s'), into a new string
 * (caller frees), or NULL when out of memory. */
char *hp_shell_quote(const char *s);

#endif
