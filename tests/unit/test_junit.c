/* test_junit.c - the --junit report: XML escaping of hostile names and
 * messages, the counts, the times, and the file written atomically. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "testlib.h"
#include "hubpredict/junit.h"
#include "hubpredict/output.h"
#include "hubpredict/render.h"
#include "hubpredict/text.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static const char *xml(const char *s, size_t n, bool attr)
{
	struct hp_output o = mem_out();
	hp_xml_write_text(&o, s, n, attr);
	return mem_done(&o);
}

static void test_escaping(void)
{
	CHECK_STR(xml("a&b<c>d\"e'f", 11, true), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
	CHECK_STR(xml("a&b<c>d\"e'f", 11, false), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
	/* tab, LF, CR: kept as characters that read back unchanged */
	CHECK_STR(xml("a\tb\nc\rd", 7, true), "a&#9;b&#10;c&#13;d");
	CHECK_STR(xml("a\tb\nc\rd", 7, false), "a\tb\nc&#13;d");
	/* other controls are not XML 1.0 characters: U+FFFD */
	CHECK_STR(xml("a\x01" "b\x1b[31m\x7f", 9, true), "a\xef\xbf\xbd" "b\xef\xbf\xbd[31m\x7f");
	CHECK_STR(xml("a\0b", 3, false), "a\xef\xbf\xbd" "b");
	/* invalid UTF-8: each bad byte becomes U+FFFD; valid text is unchanged */
	CHECK_STR(xml("caf\xc3\xa9 \xff\xfe", 8, true), "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(xml("\xc3", 1, true), "\xef\xbf\xbd");                 /* truncated */
	CHECK_STR(xml("\xc0\xaf", 2, true), "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */
	CHECK_STR(xml("\xed\xa0\x80", 3, true), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	CHECK_STR(xml("\xef\xbf\xbe\xef\xbf\xbf", 6, false), "\xef\xbf\xbd\xef\xbf\xbd"); /* U+FFFE, U+FFFF */
	CHECK_STR(xml("\xe6\x97\xa5\xf0\x9f\x98\x80", 7, true), "\xe6\x97\xa5\xf0\x9f\x98\x80");
	CHECK_STR(xml("]]>", 3, false), "]]&gt;");
	CHECK_STR(xml("", 0, true), "");
}

static struct hp_junit *open_report(const char *dir, char *path, size_t n)
{
	char err[640];
	snprintf(path, n, "%s/report.xml", dir);
	struct hp_junit *j = hp_junit_open(path, 0, err, sizeof err);
	CHECK(j != NULL);
	return j;
}

static void test_report(const char *dir)
{
	char path[4096], err[640];
	struct hp_junit *j = open_report(dir, path, sizeof path);
	if (!j)
		return;
	const char *unmet[] = { "expected person>=2, found 1", "expected car<1, found 1" };
	struct hp_item ok = { .file = "a \"quoted\" & <odd>\x01 name\xff.jpg", .attempts = 1, .elapsed_ms = 1234.5678 };
	struct hp_item fail = { .file = "b.jpg", .attempts = 1, .elapsed_ms = 10, .unmet = unmet, .n_unmet = 2 };
	struct hp_item err404 = { .file = "c.jpg", .exit_code = 5, .http_status = 404, .attempts = 2,
	                          .elapsed_ms = 20, .message = "404 Not Found: no model 'x<y>'" };
	struct hp_item missing = { .file = "d.jpg", .exit_code = 3, .attempts = 0, .elapsed_ms = 0,
	                           .message = "cannot open 'd.jpg': No such file or directory" };
	struct hp_item negative = { .file = "e.jpg", .elapsed_ms = -5 };
	hp_junit_item(j, &ok);
	hp_junit_item(j, &fail);
	hp_junit_item(j, &err404);
	hp_junit_item(j, &missing);
	hp_junit_item(j, &negative);
	/* a cut video's verdict over its frames: met, then unmet (escaped) */
	hp_junit_video(j, "clip.mp4", NULL, 0);
	hp_junit_video(j, "a&b.mp4", unmet, 1);
	size_t t, f, e;
	hp_junit_counts(j, &t, &f, &e);
	CHECK(t == 7 && f == 2 && e == 2);

	struct hp_output o = mem_out();
	hp_junit_write(j, &o, 2.5, "interrupted by SIGINT & \"more\"");
	const char *doc = mem_done(&o);
	CHECK(strncmp(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
	CHECK_CONTAINS(doc, "<testsuites name=\"hubpredict\" tests=\"7\" failures=\"2\" errors=\"2\" time=\"2.500\">");
	CHECK_CONTAINS(doc, "<testsuite name=\"hubpredict\" tests=\"7\" failures=\"2\" errors=\"2\" skipped=\"0\""
	               " time=\"2.500\" timestamp=\"1970-01-01T00:00:00\">");
	CHECK_CONTAINS(doc, "<testcase classname=\"hubpredict\" name=\"a &quot;quoted&quot; &amp; &lt;odd&gt;"
	               "\xef\xbf\xbd name\xef\xbf\xbd.jpg\" time=\"1.235\"/>");
	CHECK_CONTAINS(doc, "name=\"b.jpg\" time=\"0.010\">\n      <failure message=\"expected person&gt;=2, found 1\""
	               " type=\"expectation\">expected person&gt;=2, found 1\nexpected car&lt;1, found 1</failure>");
	CHECK_CONTAINS(doc, "<error message=\"404 Not Found: no model &apos;x&lt;y&gt;&apos;\" type=\"not found\">");
	CHECK_CONTAINS(doc, "exit status: 5 (not found)\nHTTP status: 404\nattempts: 2</error>");
	CHECK_CONTAINS(doc, "name=\"d.jpg\" time=\"0.000\">\n      <error message=\"cannot open &apos;d.jpg&apos;");
	CHECK_CONTAINS(doc, "type=\"input\"");
	CHECK_CONTAINS(doc, "HTTP status: none (no answer was received)\nattempts: 0</error>");
	CHECK_CONTAINS(doc, "name=\"e.jpg\" time=\"0.000\"/>");
	CHECK_CONTAINS(doc, "name=\"clip.mp4 (--expect over its frames)\" time=\"0.000\"/>");
	CHECK_CONTAINS(doc, "name=\"a&amp;b.mp4 (--expect over its frames)\" time=\"0.000\">\n      <failure message="
	               "\"expected person&gt;=2, found 1\" type=\"expectation\">expected person&gt;=2, found 1</failure>");
	CHECK_CONTAINS(doc, "<system-err>interrupted by SIGINT &amp; &quot;more&quot;</system-err>\n"
	               "  </testsuite>\n</testsuites>\n");
	/* input order */
	const char *a = strstr(doc, "name=\"a "), *b = strstr(doc, "name=\"b.jpg\""), *c = strstr(doc, "name=\"c.jpg\"");
	CHECK(a && b && c && a < b && b < c);

	/* nothing at FILE until the end, then exactly FILE (no temporary left) */
	CHECK(access(path, F_OK) != 0);
	CHECK(hp_junit_finish(j, 2.5, NULL, err, sizeof err) == 0);
	hp_junit_free(j);
	FILE *fp = fopen(path, "r");
	CHECK(fp != NULL);
	if (fp) {
		char buf[16384] = "";
		size_t n = fread(buf, 1, sizeof buf - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		CHECK_CONTAINS(buf, "tests=\"7\" failures=\"2\" errors=\"2\"");
		CHECK(strstr(buf, "<system-err>") == NULL);
		CHECK(n > 2 && strcmp(buf + n - 14, "</testsuites>\n") == 0);
	}
	DIR *d = opendir(dir);
	int entries = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	CHECK(entries == 1);
	unlink(path);
}

static void test_empty_and_abandoned(const char *dir)
{
	char path[4096], err[640];
	struct hp_junit *j = open_report(dir, path, sizeof path);
	if (!j)
		return;
	struct hp_output o = mem_out();
	hp_junit_write(j, &o, 0, NULL);
	const char *doc = mem_done(&o);
	CHECK_CONTAINS(doc, "tests=\"0\" failures=\"0\" errors=\"0\" time=\"0.000\"");
	CHECK_CONTAINS(doc, "timestamp=\"1970-01-01T00:00:00\">\n  </testsuite>\n</testsuites>\n");
	hp_junit_free(j); /* never finished: no file, no temporary */
	CHECK(access(path, F_OK) != 0);
	DIR *d = opendir(dir);
	int entries = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	CHECK(entries == 0);
	/* a path under a regular file cannot be created: refused at open */
	snprintf(path, sizeof path, "%s/file", dir);
	FILE *fp = fopen(path, "w");
	if (fp)
		fclose(fp);
	snprintf(path, sizeof path, "%s/file/report.xml", dir);
	CHECK(hp_junit_open(path, 0, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "--junit: cannot write '");
	snprintf(path, sizeof path, "%s/file", dir);
	unlink(path);
	hp_junit_free(NULL);
}

static void test_same_file(const char *dir)
{
	char a[4096], b[4096];
	CHECK(hp_output_same_file("out.xml", "out.xml"));
	CHECK(!hp_output_same_file("out.xml", "out.json"));
	snprintf(a, sizeof a, "%s/x.xml", dir);
	snprintf(b, sizeof b, "%s/./x.xml", dir);
	CHECK(hp_output_same_file(a, b));       /* not there yet: same name, same directory */
	snprintf(b, sizeof b, "%s/nodir/x.xml", dir);
	CHECK(!hp_output_same_file(a, b));
}

int main(void)
{
	char dir[] = "/tmp/hp-junit-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_escaping();
	test_report(dir);
	test_empty_and_abandoned(dir);
	test_same_file(dir);
	rmdir(dir);
	return check_report("test_junit");
}
