/* test_val.c - the val command's parts that need no server: the YAML subset
 * reader, the dataset loader and its label errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hubpredict/yaml.h"

static const char *fixtures = "tests/fixtures";

/* The tree as compact JSON, every scalar a string. */
static void dump(const struct hp_yaml_node *n, char *out, size_t cap)
{
	size_t len = strlen(out);
	switch (n->kind) {
	case HP_YAML_NULL:
		snprintf(out + len, cap - len, "null");
		break;
	case HP_YAML_SCALAR:
		snprintf(out + len, cap - len, "\"");
		for (const char *s = n->scalar; *s; s++) {
			len = strlen(out);
			if (*s == '"' || *s == '\\')
				snprintf(out + len, cap - len, "\\%c", *s);
			else if (*s == '\n')
				snprintf(out + len, cap - len, "\\n");
			else
				snprintf(out + len, cap - len, "%c", *s);
		}
		len = strlen(out);
		snprintf(out + len, cap - len, "\"");
		break;
	case HP_YAML_MAP:
	case HP_YAML_LIST:
		snprintf(out + len, cap - len, n->kind == HP_YAML_MAP ? "{" : "[");
		for (size_t i = 0; i < n->n; i++) {
			len = strlen(out);
			if (n->kind == HP_YAML_MAP)
				snprintf(out + len, cap - len, "%s\"%s\": ", i ? ", " : "", n->keys[i]);
			else if (i)
				snprintf(out + len, cap - len, ", ");
			dump(n->items[i], out, cap);
		}
		len = strlen(out);
		snprintf(out + len, cap - len, n->kind == HP_YAML_MAP ? "}" : "]");
		break;
	}
}

static char dumped[8192];
static char yaml_err[256];

/* Parse text; dumped holds the tree, or "ERROR LINE: reason". */
static const char *parse(const char *text)
{
	struct hp_yaml_node *root = NULL;
	dumped[0] = '\0';
	if (hp_yaml_parse(&root, text, strlen(text), yaml_err, sizeof yaml_err) != 0) {
		snprintf(dumped, sizeof dumped, "ERROR %s", yaml_err);
		return dumped;
	}
	dump(root, dumped, sizeof dumped);
	hp_yaml_free(root);
	return dumped;
}

static const char *parse_file(const char *name)
{
	char path[1024], *buf = calloc(1, 1 << 16);
	snprintf(path, sizeof path, "%s/val/%s", fixtures, name);
	FILE *f = fopen(path, "rb");
	if (!f || !buf) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	buf[n] = '\0';
	parse(buf);
	free(buf);
	return dumped;
}

/* Each fixture in the shape of one of Ultralytics' dataset files; the
 * expected trees are PyYAML's (yaml.safe_load), every scalar as text. */
static void test_yaml_fixtures(void)
{
	CHECK_STR(parse_file("detect.yaml"), "{\"path\": \"shapes8\", \"train\": \"images/train\", "
	          "\"val\": \"images/val\", \"test\": null, \"names\": {\"0\": \"person\", \"1\": \"bicycle\", "
	          "\"2\": \"traffic light\", \"3\": \"parking meter\", \"10\": \"fire hydrant\"}, "
	          "\"download\": \"https://example.invalid/shapes8.zip\"}");
	CHECK_STR(parse_file("segment.yaml"), "{\"path\": \"../segsets/s4\", \"train\": [\"images/train\", "
	          "\"extra/train.txt\"], \"val\": [\"images/val\", \"lists/val #2.txt\"], \"names\": [\"cat\", "
	          "\"dog\", \"hot, dog\", \"a \\\"quoted\\\" one\"], \"nc\": \"4\", \"download\": \"from pathlib "
	          "import Path\\n\\n# not a YAML comment: Python in a literal block\\ndef fetch(url: str, dir: "
	          "Path):\\n    print(f\\\"{url}: {dir}\\\")  # key: value lookalike\\nfetch('https://"
	          "example.invalid/s4.zip', Path('.'))\\n\"}");
	CHECK_STR(parse_file("pose.yaml"), "{\"path\": \"people\", \"train\": \"images/train\", \"val\": "
	          "\"images/val\", \"test\": null, \"kpt_shape\": [\"17\", \"3\"], \"flip_idx\": [\"0\", \"2\", "
	          "\"1\", \"4\", \"3\", \"6\", \"5\", \"8\", \"7\", \"10\", \"9\", \"12\", \"11\", \"14\", \"13\", "
	          "\"16\", \"15\"], \"names\": {\"0\": \"person\"}}");
	CHECK_STR(parse_file("obb.yaml"), "{\"path\": \"aerial\", \"train\": \"images/train\", \"val\": "
	          "\"images/val\", \"names\": [\"plane\", \"ship\", \"storage tank\", \"ground track field\"], "
	          "\"download\": \"https://example.invalid/aerial.zip\\n\"}");
	CHECK_STR(parse_file("classify.yaml"), "{\"path\": \"../flowers\", \"train\": \"train\", \"val\": "
	          "\"val\", \"test\": \"test\", \"names\": {\"0\": \"daisy\", \"1\": \"dandelion\", \"2\": \"rose\"}}");
}

static void test_yaml_shapes(void)
{
	CHECK_STR(parse(""), "null");
	CHECK_STR(parse("# only a comment\n\n"), "null");
	CHECK_STR(parse("a: 1\r\nb: 'it''s'\r\n"), "{\"a\": \"1\", \"b\": \"it's\"}");
	CHECK_STR(parse("a: [[0, 1], [], 'x,y', ~]\n"), "{\"a\": [[\"0\", \"1\"], [], \"x,y\", null]}");
	CHECK_STR(parse("a:\n  b:\n    c: d\n  e: f\ng: h\n"),
	          "{\"a\": {\"b\": {\"c\": \"d\"}, \"e\": \"f\"}, \"g\": \"h\"}");
	CHECK_STR(parse("a:\n    - x # c\n    -\n    - 'y' \nb: it's #1\n"),
	          "{\"a\": [\"x\", null, \"y\"], \"b\": \"it's\"}");
	CHECK_STR(parse("- a\n- b\n"), "[\"a\", \"b\"]");
	CHECK_STR(parse("url: http://x/y#z\n"), "{\"url\": \"http://x/y#z\"}");
	CHECK_STR(parse("d: |\n  x\n\n    y\nz: 1\n"), "{\"d\": \"x\\n\\n  y\\n\", \"z\": \"1\"}");
}

/* Every refusal names its line. */
static void test_yaml_errors(void)
{
	CHECK_STR(parse("a: 1\n\tb: 2\n"), "ERROR 2: a tab in the indentation");
	CHECK_STR(parse("a: 1\na: 2\n"), "ERROR 2: duplicate key 'a'");
	CHECK_STR(parse("a: {b: c}\n"), "ERROR 1: '{' (anchors, aliases, tags, flow maps) is not supported");
	CHECK_STR(parse("a: &x 1\n"), "ERROR 1: '&' (anchors, aliases, tags, flow maps) is not supported");
	CHECK_STR(parse("a: [1, 2\n"), "ERROR 1: unterminated flow list [...]");
	CHECK_STR(parse("a: 'x\n"), "ERROR 1: unterminated quoted string");
	CHECK_STR(parse("a: 1\n   b: 2\n"), "ERROR 2: unexpected indentation");
	CHECK_STR(parse("a:\n  - b: 1\n"), "ERROR 2: a map where a single value belongs");
	CHECK_STR(parse("a: b: c\n"), "ERROR 1: a map where a single value belongs");
	CHECK_STR(parse("a: 1\njust text\n"), "ERROR 2: expected 'key: value'");
	CHECK_STR(parse("a: 1\n---\nb: 2\n"), "ERROR 2: expected 'key: value'");
	CHECK_STR(parse("a: \"\\q\"\n"), "ERROR 1: unsupported escape \\q in a double-quoted string");
	CHECK_STR(parse("a: 1\n- b\n"), "ERROR 2: unexpected indentation");
}

int main(int argc, char **argv)
{
	if (argc > 1)
		fixtures = argv[1];
	test_yaml_fixtures();
	test_yaml_shapes();
	test_yaml_errors();
	return check_report("test_val");
}
