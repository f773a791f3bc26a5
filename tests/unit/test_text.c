/* test_text.c - escaping for every format, numbers, HTTP classification,
 * same-origin redirects, and the atomic output file. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "testlib.h"
#include "hubpredict/batch.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/output.h"
#include "hubpredict/text.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_json(void)
{
	struct hp_output o = mem_out();
	hp_json_write_string(&o, "a\"b\\c\n\t\x01\x7f\xc3\xa9\xff", 12);
	CHECK_STR(mem_done(&o), "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\\ufffd\"");
	o = mem_out();
	const char *doc = "{\n  \"a\" : [1, 2.50, \"x y\\\"z\"],\n\t\"b\":{ } }\n";
	hp_json_write_minified(&o, doc, strlen(doc));
	CHECK_STR(mem_done(&o), "{\"a\":[1,2.50,\"x y\\\"z\"],\"b\":{}}");
	o = mem_out();
	const char *bad = "{\"n\":\"tab\there\xff\"}"; /* raw control and invalid UTF-8 inside a string */
	hp_json_write_minified(&o, bad, strlen(bad));
	CHECK_STR(mem_done(&o), "{\"n\":\"tab\\there\\ufffd\"}");
}

/* Names that are not UTF-8 keep their bytes as base64; key runs are scrubbed. */
static void test_bytes_and_key_runs(void)
{
	struct hp_output o = mem_out();
	hp_json_write_base64(&o, "\xff.png", 5);
	CHECK_STR(mem_done(&o), "\"/y5wbmc=\"");
	char dec[16];
	CHECK(hp_base64_decode(dec, "/y5wbmc=", 8) == 5 && memcmp(dec, "\xff.png", 5) == 0);
	CHECK(hp_base64_decode(dec, "YQ==", 4) == 1 && dec[0] == 'a');
	CHECK(hp_base64_decode(dec, "YQ=", 3) < 0);
	CHECK(hp_base64_decode(dec, "Y=Q=", 4) < 0);
	CHECK(hp_utf8_valid("caf\xc3\xa9", 5));
	CHECK(!hp_utf8_valid("\xfe.png", 5));

	hp_msg_set_secret("ul_abcdefghijklmnopqrstuvwxyz0123456789");
	char msg[128] = "401: key ul_abcdefghijklm... is wrong; abcdefg is not";
	hp_msg_scrub(msg, sizeof msg);
	CHECK_STR(msg, "401: key [redacted]... is wrong; abcdefg is not");
	char body[] = "{\"n\":\"x ghijklmnop y\",\"v\":0123456789}";
	CHECK(hp_msg_mask(body, strlen(body)) == 10);
	CHECK_STR(body, "{\"n\":\"x ********** y\",\"v\":0123456789}");
	hp_msg_set_secret(NULL);
	char none[] = "ghijklmnop";
	CHECK(hp_msg_mask(none, strlen(none)) == 0);
}

static void test_csv(void)
{
	struct hp_output o = mem_out();
	hp_csv_write_field(&o, "plain", 5);
	hp_out_puts(&o, "|");
	hp_csv_write_field(&o, "a,b", 3);
	hp_out_puts(&o, "|");
	hp_csv_write_field(&o, "say \"hi\"", 8);
	hp_out_puts(&o, "|");
	hp_csv_write_field(&o, "two\nlines", 9);
	hp_out_puts(&o, "|");
	hp_csv_write_field(&o, " pad", 4);
	hp_out_puts(&o, "|");
	hp_csv_write_field(&o, "tab\there \xe4\xb8\xad", 12);
	CHECK_STR(mem_done(&o), "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\" pad\"|tab\there \xe4\xb8\xad");
	/* control characters and invalid bytes never reach a terminal through csv */
	o = mem_out();
	hp_csv_write_field(&o, "a\x1b[2J\x07" "b\xff\xc2\x9b,c", 12);
	CHECK_STR(mem_done(&o), "\"a\xef\xbf\xbd[2J\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd,c\"");
}

static void test_terminal(void)
{
	char buf[128];
	bool cut;
	CHECK(hp_term_escape(buf, sizeof buf, "person", 6, &cut) == 6 && !cut);
	CHECK_STR(buf, "person");
	CHECK(hp_term_escape(buf, sizeof buf, "a\tb\nc\x1b[31m", 10, NULL) == 13);
	CHECK_STR(buf, "a\\tb\\nc\\e[31m");
	CHECK(hp_term_escape(buf, sizeof buf, "\xe4\xb8\xad\xe6\x96\x87", 6, NULL) == 4); /* two wide */
	CHECK(hp_term_escape(buf, sizeof buf, "e\xcc\x81", 3, NULL) == 1);               /* combining */
	CHECK(hp_term_escape(buf, sizeof buf, "\xff\xfe", 2, NULL) == 8);
	CHECK_STR(buf, "\\xFF\\xFE");
	CHECK(hp_term_escape(buf, sizeof buf, "\xc0\xaf", 2, NULL) == 8); /* overlong */
	CHECK(hp_term_escape(buf, sizeof buf, "\xe2\x80\xae", 3, NULL) == 6); /* bidi override */
	CHECK_STR(buf, "\\u202E");
	CHECK(hp_term_escape(buf, 6, "abcdefgh", 8, &cut) == 5 && cut);
	CHECK(hp_utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3) == 0); /* surrogate */
	CHECK(hp_utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4) == 4);
}

static void test_numbers(void)
{
	char b[40];
	hp_fmt_double(b, sizeof b, 0.92);
	CHECK_STR(b, "0.92");
	hp_fmt_double(b, sizeof b, 118);
	CHECK_STR(b, "118");
	hp_fmt_double(b, sizeof b, 0.9909399747848511);
	CHECK_STR(b, "0.9909399747848511");
	hp_fmt_double(b, sizeof b, 1e300);
	CHECK_STR(b, "1e+300");
	hp_fmt_double(b, sizeof b, 1.0 / 0.0);
	CHECK_STR(b, "inf");
	char *q = hp_shell_quote("it's a $file");
	CHECK_STR(q, "'it'\\''s a $file'");
	free(q);
}

static void test_http(void)
{
	char msg[256];
	const char *b = "{\"message\":\"Invalid API key\"}";
	CHECK(hp_classify_http(401, b, strlen(b), msg, sizeof msg) == HP_EXIT_AUTH);
	CHECK_STR(msg, "401 Unauthorized: Invalid API key");
	CHECK(hp_classify_http(403, "", 0, msg, sizeof msg) == HP_EXIT_AUTH);
	CHECK_STR(msg, "403 Forbidden");
	CHECK(hp_classify_http(404, NULL, 0, msg, sizeof msg) == HP_EXIT_NOT_FOUND);
	CHECK(hp_classify_http(429, NULL, 0, msg, sizeof msg) == HP_EXIT_RATE_LIMITED);
	CHECK(hp_classify_http(400, NULL, 0, msg, sizeof msg) == HP_EXIT_REJECTED);
	CHECK(hp_classify_http(413, NULL, 0, msg, sizeof msg) == HP_EXIT_REJECTED);
	CHECK(hp_classify_http(422, NULL, 0, msg, sizeof msg) == HP_EXIT_REJECTED);
	CHECK(hp_classify_http(500, NULL, 0, msg, sizeof msg) == HP_EXIT_SERVER);
	CHECK(hp_classify_http(503, NULL, 0, msg, sizeof msg) == HP_EXIT_SERVER);
	CHECK(hp_classify_http(599, NULL, 0, msg, sizeof msg) == HP_EXIT_SERVER);
	CHECK_STR(msg, "599");
	CHECK(hp_classify_http(101, NULL, 0, msg, sizeof msg) == HP_EXIT_BAD_RESPONSE);
	b = "<html><head><title>503 Service Unavailable</title></head></html>";
	CHECK(hp_classify_http(503, b, strlen(b), msg, sizeof msg) == HP_EXIT_SERVER);
	CHECK_STR(msg, "503 Service Unavailable");
	b = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
	hp_classify_http(502, b, strlen(b), msg, sizeof msg);
	CHECK_STR(msg, "502 Bad Gateway");
	b = "{\"message\":\"Too Many Requests\"}";
	hp_classify_http(429, b, strlen(b), msg, sizeof msg);
	CHECK_STR(msg, "429 Too Many Requests");

	CHECK(hp_same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b?x"));
	CHECK(hp_same_origin("https://Api.Example.com/a", "https://api.example.com:443/b"));
	CHECK(!hp_same_origin("https://api.example.com/a", "http://api.example.com/a"));
	CHECK(!hp_same_origin("https://api.example.com/a", "https://evil.example.com/a"));
	CHECK(!hp_same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a"));
}

static void test_output_file(void)
{
	char dir[] = "/tmp/hp-out-test.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[256], err[256];
	snprintf(path, sizeof path, "%s/result.json", dir);
	struct hp_output o;
	/* committed: the file appears whole */
	CHECK(hp_output_open(&o, path, err, sizeof err) == 0);
	hp_out_puts(&o, "[]\n");
	CHECK(access(path, F_OK) != 0); /* not there until committed */
	CHECK(hp_output_commit(&o, err, sizeof err) == 0);
	FILE *f = fopen(path, "r");
	char got[16] = "";
	CHECK(f && fgets(got, sizeof got, f));
	if (f)
		fclose(f);
	CHECK_STR(got, "[]\n");
	/* aborted: the old file stays, no temporary file is left */
	CHECK(hp_output_open(&o, path, err, sizeof err) == 0);
	hp_out_puts(&o, "partial");
	hp_output_abort(&o);
	f = fopen(path, "r");
	CHECK(f && fgets(got, sizeof got, f));
	if (f)
		fclose(f);
	CHECK_STR(got, "[]\n");
	char cmd[300];
	snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
	CHECK(system(cmd) == 0);
	/* an unwritable place fails at open, before anything is sent */
	snprintf(path, sizeof path, "%s/no/such/dir/out.csv", dir);
	CHECK(hp_output_open(&o, path, err, sizeof err) != 0);
	CHECK_CONTAINS(err, "cannot write");
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	/* a full device: the error is kept and reported at commit */
	f = fopen("/dev/full", "w");
	if (f) {
		struct hp_output full = { .fp = f };
		for (int i = 0; i < 10000; i++)
			hp_out_puts(&full, "0123456789");
		hp_out_flush(&full);
		CHECK(!hp_output_ok(&full) && full.error == ENOSPC);
		fclose(f);
	}
}

int main(void)
{
	test_json();
	test_bytes_and_key_runs();
	test_csv();
	test_terminal();
	test_numbers();
	test_http();
	test_output_file();
	return check_report("test_text");
}
