/* yaml.c - the YAML subset of dataset files (yaml.h says what it takes).
 * A line-based recursive descent: block maps and lists by indentation, flow
 * lists and quoted scalars within a line, block scalars taken raw. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/yaml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct yline {
	const char *raw;        /* the line as written (no newline) */
	size_t rawlen;
	int indent;             /* leading spaces */
	bool tab;               /* a tab within the indentation */
	const char *text;       /* content: indentation, comment, trailing blanks removed */
	size_t len;             /* 0: a blank or comment-only line */
};

struct parser {
	struct yline *lines;
	size_t n, i;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(p->err, p->errlen, "%d: ", line);
	if (k < 0 || (size_t)k >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static struct hp_yaml_node *node_new(enum hp_yaml_kind kind, int line)
{
	struct hp_yaml_node *n = calloc(1, sizeof *n);
	if (n) {
		n->kind = kind;
		n->line = line;
	}
	return n;
}

void hp_yaml_free(struct hp_yaml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		hp_yaml_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->scalar);
	free(n);
}

/* Append item (and key, for a map; both owned from here on). */
static int node_add(struct hp_yaml_node *n, char *key, struct hp_yaml_node *item)
{
	struct hp_yaml_node **items = realloc(n->items, (n->n + 1) * sizeof *items);
	if (items)
		n->items = items;
	char **keys = n->keys;
	if (items && n->kind == HP_YAML_MAP) {
		keys = realloc(n->keys, (n->n + 1) * sizeof *keys);
		if (keys)
			n->keys = keys;
	}
	if (!items || (n->kind == HP_YAML_MAP && !keys)) {
		free(key);
		hp_yaml_free(item);
		return -1;
	}
	if (n->kind == HP_YAML_MAP)
		n->keys[n->n] = key;
	n->items[n->n++] = item;
	return 0;
}

const struct hp_yaml_node *hp_yaml_get(const struct hp_yaml_node *n, const char *key)
{
	if (!n || n->kind != HP_YAML_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->keys[i], key) == 0)
			return n->items[i];
	return NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Where a quote may open a scalar: at the start, or after ':', '-', '[', ','
 * and blanks. */
static bool quote_opens(const char *s, size_t at)
{
	while (at > 0 && is_blank(s[at - 1]))
		at--;
	return at == 0 || strchr(":-[,", s[at - 1]) != NULL;
}

/* The content's length without its comment and trailing blanks. */
static size_t content_len(const char *s, size_t n)
{
	char q = 0;
	size_t end = n;
	for (size_t k = 0; k < n; k++) {
		char c = s[k];
		if (q) {
			if (c == q && q == '\'' && k + 1 < n && s[k + 1] == '\'')
				k++;
			else if (c == '\\' && q == '"' && k + 1 < n)
				k++;
			else if (c == q)
				q = 0;
		} else if ((c == '\'' || c == '"') && quote_opens(s, k)) {
			q = c;
		} else if (c == '#' && (k == 0 || is_blank(s[k - 1]))) {
			end = k;
			break;
		}
	}
	while (end > 0 && (is_blank(s[end - 1]) || s[end - 1] == '\r'))
		end--;
	return end;
}

static int split_lines(struct parser *p, const char *text, size_t len)
{
	size_t cap = 16;
	p->lines = malloc(cap * sizeof *p->lines);
	if (!p->lines)
		return -1;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;
		if (p->n == cap) {
			struct yline *l = realloc(p->lines, 2 * cap * sizeof *l);
			if (!l)
				return -1;
			p->lines = l;
			cap *= 2;
		}
		struct yline *l = &p->lines[p->n++];
		memset(l, 0, sizeof *l);
		l->raw = text + at;
		l->rawlen = end - at;
		size_t k = 0;
		while (k < l->rawlen && is_blank(l->raw[k])) {
			if (l->raw[k] == '\t')
				l->tab = true;
			else if (!l->tab)
				l->indent++;
			k++;
		}
		l->text = l->raw + k;
		l->len = content_len(l->text, l->rawlen - k);
		at = end + 1;
	}
	return 0;
}

static void skip_blank(struct parser *p)
{
	while (p->i < p->n && p->lines[p->i].len == 0)
		p->i++;
}

static int line_no(const struct parser *p)
{
	return (int)(p->i < p->n ? p->i + 1 : p->n);
}

static bool is_item(const struct yline *l)
{
	return l->text[0] == '-' && (l->len == 1 || l->text[1] == ' ');
}

/* A quoted scalar at s[*k] (the quote): its text into a new string. */
static char *quoted(struct parser *p, int line, const char *s, size_t n, size_t *k)
{
	char q = s[*k];
	char *out = malloc(n + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t j = *k + 1; j < n; j++) {
		char c = s[j];
		if (c == q && q == '\'' && j + 1 < n && s[j + 1] == '\'') {
			out[o++] = '\'';
			j++;
		} else if (c == q) {
			out[o] = '\0';
			*k = j + 1;
			return out;
		} else if (c == '\\' && q == '"' && j + 1 < n) {
			const char *from = "\"\\/ntr0", *to = "\"\\/\n\t\r";
			const char *e = strchr(from, s[++j]);
			if (!e || s[j] == '0' || !*e) {
				free(out);
				fail(p, line, "unsupported escape \\%c in a double-quoted string", s[j]);
				return NULL;
			}
			out[o++] = to[e - from];
		} else {
			out[o++] = c;
		}
	}
	free(out);
	fail(p, line, "unterminated quoted string");
	return NULL;
}

static struct hp_yaml_node *scalar_node(const char *s, size_t n, int line, bool plain)
{
	if (plain && (n == 0 || (n == 1 && s[0] == '~') || (n == 4 && (!memcmp(s, "null", 4) ||
	    !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)))))
		return node_new(HP_YAML_NULL, line);
	struct hp_yaml_node *node = node_new(HP_YAML_SCALAR, line);
	if (node && !(node->scalar = strndup(s, n))) {
		free(node);
		node = NULL;
	}
	return node;
}

static struct hp_yaml_node *flow_list(struct parser *p, int line, const char *s, size_t n,
                                      size_t *k);

/* One flow item at s[*k]: a nested list, a quoted or a plain scalar. */
static struct hp_yaml_node *flow_item(struct parser *p, int line, const char *s, size_t n,
                                      size_t *k)
{
	if (s[*k] == '[')
		return flow_list(p, line, s, n, k);
	if (s[*k] == '{') {
		fail(p, line, "flow maps {...} are not supported");
		return NULL;
	}
	if (s[*k] == '\'' || s[*k] == '"') {
		char *t = quoted(p, line, s, n, k);
		if (!t)
			return NULL;
		struct hp_yaml_node *node = scalar_node(t, strlen(t), line, false);
		free(t);
		return node;
	}
	size_t start = *k;
	while (*k < n && s[*k] != ',' && s[*k] != ']')
		(*k)++;
	size_t end = *k;
	while (end > start && is_blank(s[end - 1]))
		end--;
	return scalar_node(s + start, end - start, line, true);
}

static struct hp_yaml_node *flow_list(struct parser *p, int line, const char *s, size_t n,
                                      size_t *k)
{
	struct hp_yaml_node *list = node_new(HP_YAML_LIST, line);
	if (!list)
		return NULL;
	for ((*k)++;;) {
		while (*k < n && is_blank(s[*k]))
			(*k)++;
		if (*k < n && s[*k] == ']' ) {
			(*k)++;
			return list;
		}
		struct hp_yaml_node *item = *k < n ? flow_item(p, line, s, n, k) : NULL;
		if (!item || node_add(list, NULL, item) != 0)
			break;
		while (*k < n && is_blank(s[*k]))
			(*k)++;
		if (*k < n && s[*k] == ',')
			(*k)++;
		else if (*k >= n || s[*k] != ']')
			break;
	}
	if (!p->err[0])
		fail(p, line, "unterminated flow list [...]");
	hp_yaml_free(list);
	return NULL;
}

/* A value written on the key's or the item's line. */
static struct hp_yaml_node *inline_value(struct parser *p, int line, const char *s, size_t n)
{
	if (n > 0 && strchr("&*!{%@`", s[0])) {
		fail(p, line, "'%c' (anchors, aliases, tags, flow maps) is not supported", s[0]);
		return NULL;
	}
	if (n > 0 && (s[0] == '[' || s[0] == '\'' || s[0] == '"')) {
		size_t k = 0;
		struct hp_yaml_node *node = flow_item(p, line, s, n, &k);
		if (node && k != n) {
			hp_yaml_free(node);
			fail(p, line, "unexpected text after the value");
			return NULL;
		}
		return node;
	}
	for (size_t k = 0; k < n; k++)
		if (s[k] == ':' && (k + 1 == n || s[k + 1] == ' ')) {
			fail(p, line, "a map where a single value belongs");
			return NULL;
		}
	return scalar_node(s, n, line, true);
}

/* A block scalar (| or >) under a line of indentation `parent`: the lines
 * indented more, as they are, their common indentation removed. */
static struct hp_yaml_node *block_scalar(struct parser *p, int parent, int line)
{
	size_t first = p->i, last = p->i;
	int ind = -1;
	for (; p->i < p->n; p->i++) {
		const struct yline *l = &p->lines[p->i];
		if ((size_t)(l->text - l->raw) == l->rawlen ||
		    (l->rawlen == 1 + (size_t)(l->text - l->raw) && l->text[0] == '\r'))
			continue;       /* only blanks: inside the block */
		if (l->indent <= parent && !l->tab)
			break;
		if (ind < 0)
			ind = l->indent;
		last = p->i + 1;
	}
	p->i = last > first ? last : first;
	size_t cap = 1;
	for (size_t j = first; j < p->i; j++)
		cap += p->lines[j].rawlen + 1;
	struct hp_yaml_node *node = node_new(HP_YAML_SCALAR, line);
	char *t = malloc(cap);
	if (!node || !t) {
		free(node);
		free(t);
		return NULL;
	}
	size_t o = 0;
	for (size_t j = first; j < p->i; j++) {
		const struct yline *l = &p->lines[j];
		size_t skip = (size_t)(ind > 0 ? ind : 0);
		if (skip > l->rawlen)
			skip = l->rawlen;
		memcpy(t + o, l->raw + skip, l->rawlen - skip);
		o += l->rawlen - skip;
		t[o++] = '\n';
	}
	t[o] = '\0';
	node->scalar = t;
	return node;
}

static int parse_block(struct parser *p, int indent, struct hp_yaml_node **out);

/* The value after "key:" or "-" on line `no` (indentation `ind`), text s[0..n). */
static int parse_value(struct parser *p, int ind, int no, const char *s, size_t n,
                       bool in_map, struct hp_yaml_node **out)
{
	if (n > 0 && (s[0] == '|' || s[0] == '>')) {
		if (n > 2 || (n == 2 && s[1] != '-' && s[1] != '+'))
			return fail(p, no, "unsupported block scalar header '%.*s'", (int)n, s);
		*out = block_scalar(p, ind, no);
		return *out ? 0 : -1;
	}
	if (n > 0) {
		*out = inline_value(p, no, s, n);
		return *out ? 0 : -1;
	}
	skip_blank(p);
	if (p->i < p->n && (p->lines[p->i].indent > ind ||
	    (in_map && p->lines[p->i].indent == ind && is_item(&p->lines[p->i]))))
		return parse_block(p, p->lines[p->i].indent, out);
	*out = node_new(HP_YAML_NULL, no);
	return *out ? 0 : -1;
}

static int parse_list(struct parser *p, int ind, struct hp_yaml_node **out)
{
	struct hp_yaml_node *list = node_new(HP_YAML_LIST, line_no(p));
	int rc = -1;
	if (!list)
		goto done;
	for (skip_blank(p); p->i < p->n; skip_blank(p)) {
		const struct yline *l = &p->lines[p->i];
		if (l->indent < ind || (l->indent == ind && !is_item(l)))
			break;
		if (l->indent > ind || l->tab) {
			fail(p, line_no(p), "unexpected indentation");
			goto done;
		}
		int no = line_no(p);
		size_t k = 1;
		while (k < l->len && l->text[k] == ' ')
			k++;
		if (k < l->len && is_item(&(struct yline){ .text = l->text + k, .len = l->len - k })) {
			fail(p, no, "a list inside a list item is not supported");
			goto done;
		}
		p->i++;
		struct hp_yaml_node *item = NULL;
		if (parse_value(p, ind, no, l->text + k, l->len - k, false, &item) != 0 ||
		    node_add(list, NULL, item) != 0)
			goto done;
	}
	*out = list;
	list = NULL;
	rc = 0;
done:
	hp_yaml_free(list);
	return rc;
}

/* The key at the start of l: its text into a new string, *k after the ':'. */
static char *map_key(struct parser *p, const struct yline *l, size_t *k)
{
	int no = line_no(p);
	char *key = NULL;
	size_t j = 0;
	if (l->text[0] == '\'' || l->text[0] == '"') {
		if (!(key = quoted(p, no, l->text, l->len, &j)))
			return NULL;
		while (j < l->len && is_blank(l->text[j]))
			j++;
	} else {
		while (j < l->len && !(l->text[j] == ':' && (j + 1 == l->len || l->text[j + 1] == ' ')))
			j++;
		size_t e = j;
		while (e > 0 && is_blank(l->text[e - 1]))
			e--;
		if (j < l->len && !(key = strndup(l->text, e)))
			return NULL;
	}
	if (j >= l->len || l->text[j] != ':') {
		free(key);
		fail(p, no, "expected 'key: value'");
		return NULL;
	}
	for (j++; j < l->len && l->text[j] == ' '; j++)
		;
	*k = j;
	return key;
}

static int parse_map(struct parser *p, int ind, struct hp_yaml_node **out)
{
	struct hp_yaml_node *map = node_new(HP_YAML_MAP, line_no(p));
	int rc = -1;
	if (!map)
		goto done;
	for (skip_blank(p); p->i < p->n; skip_blank(p)) {
		const struct yline *l = &p->lines[p->i];
		if (l->indent < ind)
			break;
		int no = line_no(p);
		if (l->indent > ind || l->tab || is_item(l)) {
			fail(p, no, l->tab ? "a tab in the indentation" : "unexpected indentation");
			goto done;
		}
		size_t k = 0;
		char *key = map_key(p, l, &k);
		if (!key)
			goto done;
		if (hp_yaml_get(map, key)) {
			fail(p, no, "duplicate key '%s'", key);
			free(key);
			goto done;
		}
		p->i++;
		struct hp_yaml_node *value = NULL;
		if (parse_value(p, ind, no, l->text + k, l->len - k, true, &value) != 0) {
			free(key);
			goto done;
		}
		if (node_add(map, key, value) != 0)
			goto done;
	}
	*out = map;
	map = NULL;
	rc = 0;
done:
	hp_yaml_free(map);
	return rc;
}

static int parse_block(struct parser *p, int indent, struct hp_yaml_node **out)
{
	const struct yline *l = &p->lines[p->i];
	if (l->tab)
		return fail(p, line_no(p), "a tab in the indentation");
	if (is_item(l))
		return parse_list(p, indent, out);
	if (l->text[0] == '[' || l->text[0] == '\'' || l->text[0] == '"' ||
	    !memchr(l->text, ':', l->len)) {
		int no = line_no(p);
		p->i++;
		*out = inline_value(p, no, l->text, l->len);
		return *out ? 0 : -1;
	}
	return parse_map(p, indent, out);
}

int hp_yaml_parse(struct hp_yaml_node **out, const char *text, size_t len, char *err,
                  size_t errlen)
{
	struct parser p = { .err = err, .errlen = errlen };
	struct hp_yaml_node *root = NULL;
	int rc = -1;
	err[0] = '\0';
	if (split_lines(&p, text, len) != 0)
		goto oom;
	skip_blank(&p);
	if (p.i < p.n && p.lines[p.i].len == 3 && !memcmp(p.lines[p.i].text, "---", 3)) {
		p.i++;
		skip_blank(&p);
	}
	if (p.i >= p.n) {
		root = node_new(HP_YAML_NULL, 1);
	} else if (parse_block(&p, p.lines[p.i].indent, &root) != 0) {
		goto done;
	}
	skip_blank(&p);
	if (p.i < p.n) {
		fail(&p, line_no(&p), "%s", p.lines[p.i].len >= 3 && !memcmp(p.lines[p.i].text, "---", 3)
		     ? "several documents are not supported" : "unexpected indentation");
		goto done;
	}
	if (!root)
		goto oom;
	*out = root;
	root = NULL;
	rc = 0;
	goto done;
oom:
	if (!err[0])
		snprintf(err, errlen, "out of memory");
done:
	if (rc != 0 && !err[0])
		snprintf(err, errlen, "out of memory");
	hp_yaml_free(root);
	free(p.lines);
	return rc;
}
