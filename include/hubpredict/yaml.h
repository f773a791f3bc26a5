/* yaml.h - the YAML subset that Ultralytics' dataset files use (data.yaml),
 * read into a small tree. No libyaml: the binary's dependencies stay as they
 * are.
 *
 * What it takes:
 *   - comments: '#' at the start of a line's content or after white space,
 *     outside quotes; blank lines; a leading '---' line
 *   - block maps `key: value` nested by indentation (spaces only), keys plain
 *     or quoted ('0': person); a duplicate key is an error
 *   - block lists `- value` (under a key, indented or at the key's own
 *     indentation); an item is a scalar or a flow list
 *   - flow lists `[a, 'b, c', [1, 2]]`, nested, on one line
 *   - scalars: plain (trimmed), 'single quoted' ('' is a quote) and
 *     "double quoted" (\" \\ \/ \n \t \r escapes); an empty value, `~` and
 *     `null` are null
 *   - block scalars `|` and `>` (with - or +): the more indented lines
 *     after them are taken as they are (Python in a `download:` block), the
 *     text kept with newlines and its common indentation removed
 * What it refuses (an error naming the line): tabs in indentation, flow maps
 * `{...}`, anchors `&`, aliases `*`, tags `!`, a list item that is a map
 * (`- key: value`), several documents, a line at an indentation that belongs
 * to nothing.
 *
 * Ownership: hp_yaml_parse() returns a tree the caller frees with
 * hp_yaml_free(); every pointer inside belongs to the tree. Lookups return
 * borrowed nodes, valid until the tree is freed.
 */
#ifndef HUBPREDICT_YAML_H
#define HUBPREDICT_YAML_H

#include <stddef.h>

enum hp_yaml_kind { HP_YAML_NULL, HP_YAML_SCALAR, HP_YAML_MAP, HP_YAML_LIST };

struct hp_yaml_node {
	enum hp_yaml_kind kind;
	int line;                       /* 1-based line where the node starts */
	char *scalar;                   /* SCALAR: the text (NUL-terminated) */
	size_t n;                       /* MAP, LIST: entries */
	char **keys;                    /* MAP: n keys */
	struct hp_yaml_node **items;    /* MAP: the values; LIST: the items */
};

/* Parse text[0..len). 0 and *out set, or -1 with "LINE: reason" in err. The
 * root of an empty document is a NULL node. */
int hp_yaml_parse(struct hp_yaml_node **out, const char *text, size_t len, char *err,
                  size_t errlen);
void hp_yaml_free(struct hp_yaml_node *n);

/* A map's value for key, or NULL when n is not a map or has no such key
 * (borrowed). */
const struct hp_yaml_node *hp_yaml_get(const struct hp_yaml_node *n, const char *key);

#endif
