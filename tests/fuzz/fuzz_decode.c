/* fuzz_decode.c - libFuzzer target: a response body from a hostile server.
 *
 * Each input is taken as a body and goes where a real one goes:
 *   - hp_error_message() (an error status), into buffers of several sizes;
 *   - hp_response_decode() (a 2xx), and when that succeeds, every renderer
 *     (table with and without colour, json, jsonl, csv, raw, raw spilled to a
 *     temporary file), with an item built as src/run/batch.c render_job() does,
 *     followed by a failed item carrying the error message;
 *   - the escapers of text.h on the bytes themselves.
 * Beyond what ASan/UBSan/LeakSanitizer catch, the outputs are checked
 * (fuzz_util.h: HPF_CHECK names each check; $HP_FUZZ_SKIP turns one off):
 *   errmsg-*    the error message is NUL-terminated inside its buffer, short,
 *               free of control characters
 *   decode-*    the result and error text of the decoder are consistent
 *   json-out    json/jsonl output is strict JSON (RFC 8259, UTF-8) when the
 *               body was strict JSON (else: a bug of hp_json_write_minified)
 *   json-lenient json/jsonl output is strict JSON when the body was not, but
 *               the decoder accepted it (cJSON is lenient; what it accepts
 *               the minifier copies)
 *   json-ctrl   no raw control character in json/jsonl output
 *   table-ctrl  table output has no control character, invalid UTF-8, C1 or
 *               bidi control; with colour only the renderer's own SGR codes
 *   csv-shape   csv output is strict RFC 4180: a header and one 18-field
 *               record per result
 *   csv-ctrl    no control character but TAB, CR, LF (quoted) in csv output:
 *               an ESC from a name would reach the terminal
 *   raw-exact   raw output is the body byte for byte
 *   term-escape, json-string, csv-field: the escapers on the input itself
 */
#define _GNU_SOURCE /* open_memstream, memmem */
#include "fuzz_util.h"

#include "hubpredict/body.h"
#include "hubpredict/options.h"
#include "hubpredict/output.h"
#include "hubpredict/render.h"
#include "hubpredict/response.h"
#include "hubpredict/text.h"

#include <cjson/cJSON.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	hpf_init_skips();
	return 0;
}

/* An in-memory hp_output. */
struct sink {
	struct hp_output out;
	char *buf;
	size_t len;
};

static void sink_open(struct sink *s)
{
	memset(s, 0, sizeof *s);
	s->out.fp = open_memstream(&s->buf, &s->len);
	if (!s->out.fp)
		abort();
}

static void sink_close(struct sink *s)
{
	fclose(s->out.fp);
	s->out.fp = NULL;
}

static void sink_free(struct sink *s)
{
	free(s->buf);
	s->buf = NULL;
}

/* ---- error messages ------------------------------------------------------ */

static void check_error_message(const uint8_t *data, size_t size)
{
	/* exact-size heap buffers, so ASan sees a write past the end: the usual
	 * size, the edge of its "longer than 124" rule, the smallest that holds
	 * "...", and one byte (each call parses the body again: keep them few) */
	static const size_t sizes[] = { 256, 124, 4, 1 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t n = sizes[k];
		if (n < 5 && hpf_skipped("errmsg-small"))
			continue;
		char *dst = malloc(n);
		if (!dst)
			abort();
		memset(dst, 'Z', n);
		hp_error_message(dst, n, (const char *)data, size);
		size_t len = strnlen(dst, n);
		HPF_CHECK("errmsg-nul", len < n, "hp_error_message(dstlen %zu) left no NUL", n);
		HPF_CHECK("errmsg-len", len <= 123, "hp_error_message gave %zu bytes (at most ~120 documented)", len);
		HPF_CHECK("errmsg-empty", size > 0 || len == 0, "a message for an empty body");
		for (size_t i = 0; i < len; i++)
			HPF_CHECK("errmsg-ctrl", (unsigned char)dst[i] >= 0x20 && dst[i] != 0x7F,
			          "hp_error_message kept control byte 0x%02x at %zu", (unsigned char)dst[i], i);
		free(dst);
	}
}

/* ---- escapers on the input ----------------------------------------------- */

static void check_escapers(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	/* terminal: always NUL-terminated, never anything a terminal acts on */
	static const size_t tsizes[] = { 4096, 64, 7, 1 };
	for (size_t k = 0; k < sizeof tsizes / sizeof tsizes[0]; k++) {
		size_t n = tsizes[k];
		char *dst = malloc(n);
		if (!dst)
			abort();
		bool cut = false;
		int w = hp_term_escape(dst, n, s, size, &cut);
		size_t len = strnlen(dst, n);
		HPF_CHECK("term-escape", len < n, "hp_term_escape(dstlen %zu) left no NUL", n);
		HPF_CHECK("term-escape", w >= 0, "negative width %d", w);
		size_t bad = hpf_first_unsafe(dst, len, false);
		HPF_CHECK_DUMP("term-escape", bad == (size_t)-1, "input", data, size,
		               "hp_term_escape output has an unsafe byte 0x%02x at %zu", (unsigned char)dst[bad], bad);
		/* an escape is at most 4 bytes per input byte (\xNN) */
		HPF_CHECK("term-escape", n <= 4 * size || !cut,
		          "hp_term_escape truncated a %zu-byte input in %zu bytes", size, n);
		free(dst);
	}

	/* JSON string: strict JSON, and exactly the input when it is valid UTF-8 */
	struct sink k;
	sink_open(&k);
	hp_json_write_string(&k.out, s, size);
	sink_close(&k);
	bool ok = hpf_json_valid(k.buf, k.len) && k.len >= 2 && k.buf[0] == '"';
	HPF_CHECK_DUMP("json-string", ok, "hp_json_write_string output", k.buf, k.len,
	               "hp_json_write_string wrote invalid JSON");
	if (ok && hpf_utf8_valid(data, size) && !memchr(data, 0, size)) {
		cJSON *v = cJSON_ParseWithLength(k.buf, k.len);
		HPF_CHECK("json-string", cJSON_IsString(v), "cJSON rejects hp_json_write_string output");
		if (cJSON_IsString(v))
			HPF_CHECK("json-string", strlen(v->valuestring) == size && memcmp(v->valuestring, s, size) == 0,
			          "hp_json_write_string did not round-trip valid UTF-8");
		cJSON_Delete(v);
	}
	sink_free(&k);

	/* CSV field: one field, valid UTF-8 with no control character but tab, CR
	 * and LF; exactly the input when the input was already like that */
	sink_open(&k);
	hp_csv_write_field(&k.out, s, size);
	sink_close(&k);
	{
		const char *p = k.buf;
		size_t cap = 3 * size + 1; /* each byte may become U+FFFD */
		char *val = malloc(cap);
		size_t vlen = 0;
		if (!val)
			abort();
		bool fine = hpf_csv_field(&p, k.buf + k.len, val, cap, &vlen);
		HPF_CHECK("csv-field", fine && p == k.buf + k.len, "hp_csv_write_field output is not one CSV field");
		HPF_CHECK("csv-field", hpf_utf8_valid(val, vlen), "hp_csv_write_field wrote invalid UTF-8");
		bool controls = false;
		for (size_t i = 0; i < vlen; i++) {
			unsigned char c = (unsigned char)val[i];
			controls |= (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f ||
			            (c == 0xc2 && i + 1 < vlen && (unsigned char)val[i + 1] < 0xa0);
		}
		HPF_CHECK("csv-field", !controls, "hp_csv_write_field let a control character through");
		bool clean_input = hpf_utf8_valid(data, size);
		for (size_t i = 0; i < size && clean_input; i++) {
			unsigned char c = (unsigned char)s[i];
			clean_input = !((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f ||
			                (c == 0xc2 && i + 1 < size && (unsigned char)s[i + 1] < 0xa0));
		}
		HPF_CHECK("csv-field", !clean_input || (vlen == size && memcmp(val, s, size) == 0),
		          "hp_csv_write_field did not round-trip clean text");
		bool must_quote = size && (s[0] == ' ' || s[size - 1] == ' ');
		for (size_t i = 0; i < size; i++)
			must_quote |= s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
		HPF_CHECK("csv-field", !must_quote || (k.len && k.buf[0] == '"'), "a field that needs quotes has none");
		free(val);
	}
	sink_free(&k);
}

/* ---- renderers ----------------------------------------------------------- */

/* Only the renderer's own SGR codes may carry an ESC in a coloured table. */
static size_t table_first_unsafe(const char *s, size_t n, bool color)
{
	static const char *const sgr[] = { "\033[0m", "\033[1m", "\033[2m" };
	size_t i = 0;
	while (i < n) {
		if (color && s[i] == '\033') {
			bool known = false;
			for (size_t k = 0; k < 3 && !known; k++)
				if (n - i >= 4 && memcmp(s + i, sgr[k], 4) == 0)
					known = true;
			if (!known)
				return i;
			i += 4;
			continue;
		}
		size_t j = i;
		while (j < n && s[j] != '\033')
			j++;
		size_t bad = hpf_first_unsafe(s + i, j - i, true);
		if (bad != (size_t)-1)
			return i + bad;
		if (!color && j < n)
			return j;
		i = j;
	}
	return (size_t)-1;
}

static void render(const struct hp_render_opts *ro, const struct hp_item *ok_item, const struct hp_item *bad_item,
                   struct sink *k)
{
	sink_open(k);
	struct hp_renderer *r = NULL;
	if (hp_renderer_new(&r, ro, &k->out) != 0)
		abort();
	hp_renderer_begin(r);
	hp_renderer_item(r, ok_item);
	hp_renderer_item(r, bad_item);
	hp_renderer_end(r);
	hp_renderer_free(r);
	sink_close(k);
	HPF_CHECK("render-io", k->out.error == 0, "an in-memory write failed: errno %d", k->out.error);
}

static void check_renderers(const uint8_t *data, size_t size, const struct hp_response *resp, const char *errmsg)
{
	struct hp_body body;
	hp_body_init(&body, HP_BODY_MAX, HP_BODY_MAX, false); /* as batch.c for a 2xx */
	if (hp_body_append(&body, data, size) != 0)
		abort();
	struct hp_item ok_item = {
		.file = "fuzz.jpg",
		.exit_code = 0,
		.http_status = 200,
		.attempts = 1,
		.elapsed_ms = 12.5,
		.response = resp,
		.body = &body,
		.message = "",
	};
	struct hp_item bad_item = {
		.file = "bad.jpg",
		.exit_code = 10,
		.http_status = 502,
		.attempts = 2,
		.elapsed_ms = 3.25,
		.response = NULL,
		.body = NULL,
		.message = errmsg,
	};
	struct sink k;

	/* table: plain, coloured, normalised */
	for (int v = 0; v < 3; v++) {
		struct hp_render_opts ro = { .format = HP_FORMAT_TABLE, .color = v == 1, .normalized = v == 2 };
		render(&ro, &ok_item, &bad_item, &k);
		size_t bad = table_first_unsafe(k.buf, k.len, ro.color);
		HPF_CHECK_DUMP("table-ctrl", bad == (size_t)-1, "table output", k.buf, k.len,
		               "table output has an unsafe byte 0x%02x at %zu", (unsigned char)k.buf[bad], bad);
		sink_free(&k);
	}

	/* json: one array of two envelopes */
	struct hp_render_opts ro = { .format = HP_FORMAT_JSON };
	render(&ro, &ok_item, &bad_item, &k);
	for (size_t i = 0; i < k.len; i++)
		HPF_CHECK_DUMP("json-ctrl", (unsigned char)k.buf[i] >= 0x20 || k.buf[i] == '\n', "json output", k.buf,
		               k.len, "json output has control byte 0x%02x at %zu", (unsigned char)k.buf[i], i);
	/* invalid output from a strict body is the minifier's fault; from a body
	 * that is not RFC 8259 JSON (cJSON takes "01", "1.", "-.5", a BOM, any
	 * byte up to 0x20 as white space), the decoder's for accepting it */
	const char *json_check = hpf_json_valid(data, size) ? "json-out" : "json-lenient";
	{
		bool ok = hpf_json_valid(k.buf, k.len);
		HPF_CHECK_DUMP(json_check, ok, "json output", k.buf, k.len, "json output is not valid JSON");
		cJSON *doc = cJSON_ParseWithLength(k.buf, k.len);
		HPF_CHECK("json-out", !ok || cJSON_GetArraySize(doc) == 2, "json output is not an array of two");
		cJSON_Delete(doc);
	}
	sink_free(&k);

	/* jsonl: two lines, each one JSON document */
	ro.format = HP_FORMAT_JSONL;
	render(&ro, &ok_item, &bad_item, &k);
	{
		size_t lines = 0, start = 0;
		for (size_t i = 0; i < k.len; i++) {
			unsigned char c = (unsigned char)k.buf[i];
			HPF_CHECK_DUMP("json-ctrl", c >= 0x20 || c == '\n', "jsonl output", k.buf, k.len,
			               "jsonl output has control byte 0x%02x at %zu", c, i);
			if (c == '\n') {
				HPF_CHECK_DUMP(json_check, hpf_json_valid(k.buf + start, i - start), "jsonl line",
				               k.buf + start, i - start, "jsonl line %zu is not valid JSON", lines + 1);
				lines++;
				start = i + 1;
			}
		}
		HPF_CHECK("json-out", lines == 2 && start == k.len, "jsonl output has %zu lines for 2 items", lines);
	}
	sink_free(&k);

	/* csv: header + a record per result, 18 fields each */
	ro.format = HP_FORMAT_CSV;
	render(&ro, &ok_item, &bad_item, &k);
	{
		long recs = hpf_csv_records(k.buf, k.len, 18);
		HPF_CHECK_DUMP("csv-shape", recs == (long)hp_response_count(resp) + 1, "csv output", k.buf, k.len,
		               "csv output has %ld records for %zu results", recs, hp_response_count(resp));
		for (size_t i = 0; i < k.len; i++) {
			unsigned char c = (unsigned char)k.buf[i];
			HPF_CHECK_DUMP("csv-ctrl", (c >= 0x20 && c != 0x7F) || c == '\t' || c == '\n' || c == '\r',
			               "csv output", k.buf, k.len, "csv output has control byte 0x%02x at %zu", c, i);
		}
	}
	sink_free(&k);

	/* raw: the body exactly (several: and a newline) */
	for (int several = 0; several < 2; several++) {
		ro = (struct hp_render_opts){ .format = HP_FORMAT_RAW, .several = several };
		render(&ro, &ok_item, &bad_item, &k);
		HPF_CHECK("raw-exact", k.len == size + (size_t)several && memcmp(k.buf, data, size) == 0 &&
		                           (!several || k.buf[size] == '\n'),
		          "raw output differs from the body (%zu bytes for %zu)", k.len, size);
		sink_free(&k);
	}
	hp_body_free(&body);

	/* raw from a body spilled to a temporary file, as batch.c keeps raw bodies */
	if (size > 512) {
		struct hp_body spilled;
		hp_body_init(&spilled, 512, 0, true);
		size_t half = size / 2;
		if (hp_body_append(&spilled, data, half) != 0 || hp_body_append(&spilled, data + half, size - half) != 0)
			abort();
		HPF_CHECK("raw-exact", spilled.total == size && spilled.len == 512, "body kept %zu/%zu bytes",
		          spilled.len, spilled.total);
		ok_item.body = &spilled;
		ok_item.response = NULL;
		ro = (struct hp_render_opts){ .format = HP_FORMAT_RAW };
		render(&ro, &ok_item, &bad_item, &k);
		HPF_CHECK("raw-exact", k.len == size && memcmp(k.buf, data, size) == 0,
		          "raw output of a spilled body differs (%zu bytes for %zu)", k.len, size);
		sink_free(&k);
		hp_body_free(&spilled);
	}
}

/* ---- the decoded structure ----------------------------------------------- */

static void check_response(const struct hp_response *r)
{
	size_t count = 0;
	HPF_CHECK("decode-shape", r->n_images == 0 || r->images, "n_images without images");
	for (size_t i = 0; i < r->n_images; i++) {
		const struct hp_image *im = &r->images[i];
		HPF_CHECK("decode-shape", im->n_results == 0 || im->results, "n_results without results");
		count += im->n_results;
		for (size_t j = 0; j < im->n_results; j++) {
			const struct hp_result *res = &im->results[j];
			HPF_CHECK("decode-shape", res->name && strlen(res->name) == res->name_len,
			          "name_len %zu is not the name's length", res->name_len);
			HPF_CHECK("decode-shape", res->n_box == 0 || res->n_box == 4 || res->n_box == 8,
			          "n_box %d", res->n_box);
			const struct hp_points *pts[2] = { &res->segment, &res->keypoints };
			for (int p = 0; p < 2; p++)
				HPF_CHECK("decode-shape", pts[p]->n == 0 || (pts[p]->x && pts[p]->y),
				          "points without coordinates");
			HPF_CHECK("decode-shape", hp_visible_keypoints(&res->keypoints) <= res->keypoints.n,
			          "more visible keypoints than keypoints");
		}
	}
	HPF_CHECK("decode-shape", hp_response_count(r) == count, "hp_response_count is wrong");
	HPF_CHECK("decode-shape", strcmp(hp_task_name(r->task), "") != 0, "task without a name");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[256];
	check_error_message(data, size);
	hp_error_message(msg, sizeof msg, (const char *)data, size);
	check_escapers(data, size);

	struct hp_response *resp = (struct hp_response *)1;
	char err[256];
	memset(err, 'Z', sizeof err);
	int rc = hp_response_decode(&resp, (const char *)data, size, err, sizeof err);
	size_t elen = strnlen(err, sizeof err);
	HPF_CHECK("decode-err", elen < sizeof err, "the decoder's error is not NUL-terminated");
	if (rc == 0) {
		HPF_CHECK("decode-err", resp != NULL, "success without a response");
		check_response(resp);
		check_renderers(data, size, resp, msg);
	} else {
		HPF_CHECK("decode-err", rc == -1 && resp == NULL && elen > 0,
		          "failure (rc %d) without -1, NULL and a message", rc);
		for (size_t i = 0; i < elen; i++)
			HPF_CHECK("decode-err", (unsigned char)err[i] >= 0x20 && err[i] != 0x7F,
			          "the decoder's error has control byte 0x%02x", (unsigned char)err[i]);
	}
	hp_response_free(rc == 0 ? resp : NULL);
	return 0;
}
