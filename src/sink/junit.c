/* junit.c - the --junit report: testcases spooled as inputs finish, the
 * document written and renamed into place at the end. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/junit.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/output.h"
#include "hubpredict/item.h"
#include "hubpredict/text.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hp_junit {
	struct hp_output report;    /* the temporary file beside FILE */
	struct hp_output spool;     /* the testcases so far (unlinked temp file) */
	size_t tests, failures, errors;
	time_t started;
};

struct hp_junit *hp_junit_open(const char *path, time_t started, char *err, size_t errlen)
{
	char why[600];
	struct hp_junit *j = calloc(1, sizeof *j);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	j->started = started;
	if (hp_output_open(&j->report, path, why, sizeof why) < 0) {
		snprintf(err, errlen, "--junit: %s", why);
		free(j);
		return NULL;
	}
	int fd = hp_temp_fd("hubpredict-junit");
	if (fd < 0 || !(j->spool.fp = fdopen(fd, "w+"))) {
		snprintf(err, errlen, "--junit: cannot create a temporary file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		hp_output_abort(&j->report);
		free(j);
		return NULL;
	}
	return j;
}

static void xml_attr(struct hp_output *out, const char *s)
{
	hp_xml_write_text(out, s, strlen(s), true);
}

static void xml_text(struct hp_output *out, const char *s)
{
	hp_xml_write_text(out, s, strlen(s), false);
}

/* Seconds with millisecond precision, never negative (inputs that never
 * reached the network have 0). */
static double seconds(double ms)
{
	return isfinite(ms) && ms > 0 ? ms / 1000.0 : 0.0;
}

/* Checks not met: one failure (most readers show only one), whose message
 * is the first check and whose text lists all of them; ends the testcase. */
static void unmet_failure(struct hp_junit *j, const char *const *unmet, size_t n)
{
	struct hp_output *o = &j->spool;
	j->failures++;
	hp_out_puts(o, ">\n      <failure message=\"");
	xml_attr(o, unmet[0]);
	hp_out_puts(o, "\" type=\"expectation\">");
	for (size_t i = 0; i < n; i++) {
		xml_text(o, unmet[i]);
		if (i + 1 < n)
			hp_out_puts(o, "\n");
	}
	hp_out_puts(o, "</failure>\n    </testcase>\n");
}

void hp_junit_item(void *state, const struct hp_item *it)
{
	struct hp_junit *j = state;
	struct hp_output *o = &j->spool;
	j->tests++;
	hp_out_puts(o, "    <testcase classname=\"hubpredict\" name=\"");
	xml_attr(o, it->file ? it->file : "");
	hp_out_printf(o, "\" time=\"%.3f\"", seconds(it->elapsed_ms));
	if (it->exit_code != 0) {
		/* the request failed: an error, typed by the exit status's name */
		const char *name = hp_exit_name(it->exit_code);
		const char *msg = it->message && *it->message ? it->message : name;
		j->errors++;
		hp_out_puts(o, ">\n      <error message=\"");
		xml_attr(o, msg);
		hp_out_puts(o, "\" type=\"");
		xml_attr(o, name);
		hp_out_puts(o, "\">");
		xml_text(o, msg);
		hp_out_printf(o, "\nexit status: %d (", it->exit_code);
		xml_text(o, name);
		if (it->http_status > 0)
			hp_out_printf(o, ")\nHTTP status: %ld\n", it->http_status);
		else
			hp_out_puts(o, ")\nHTTP status: none (no answer was received)\n");
		hp_out_printf(o, "attempts: %d", it->attempts);
		if (it->request_id) {
			/* what the vendor's support asks for, as in the one-line error */
			hp_out_puts(o, "\nx-request-id: ");
			xml_text(o, it->request_id);
		}
		hp_out_puts(o, "</error>\n    </testcase>\n");
	} else if (it->n_unmet > 0) {
		unmet_failure(j, it->unmet, it->n_unmet);
	} else {
		hp_out_puts(o, "/>\n");
	}
}

void hp_junit_video(void *state, const char *video, const char *const *unmet, size_t n_unmet)
{
	struct hp_junit *j = state;
	struct hp_output *o = &j->spool;
	j->tests++;
	hp_out_puts(o, "    <testcase classname=\"hubpredict\" name=\"");
	xml_attr(o, video);
	hp_out_puts(o, " (--expect over its frames)\" time=\"0.000\"");
	if (n_unmet == 0) {
		hp_out_puts(o, "/>\n");
		return;
	}
	unmet_failure(j, unmet, n_unmet);
}

void hp_junit_write(struct hp_junit *j, struct hp_output *out, double elapsed_s, const char *note)
{
	char stamp[32] = "1970-01-01T00:00:00";
	struct tm tm;
	if (gmtime_r(&j->started, &tm))
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	double t = isfinite(elapsed_s) && elapsed_s > 0 ? elapsed_s : 0.0;
	hp_out_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	hp_out_printf(out, "<testsuites name=\"hubpredict\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n",
	              j->tests, j->failures, j->errors, t);
	hp_out_printf(out, "  <testsuite name=\"hubpredict\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\""
	              " time=\"%.3f\" timestamp=\"%s\">\n", j->tests, j->failures, j->errors, t, stamp);
	/* the testcases, as spooled */
	hp_out_flush(&j->spool);
	if (!j->spool.error && fseek(j->spool.fp, 0, SEEK_SET) != 0)
		j->spool.error = errno ? errno : EIO;
	char buf[16384];
	size_t got;
	while (!j->spool.error && (got = fread(buf, 1, sizeof buf, j->spool.fp)) > 0)
		hp_out_write(out, buf, got);
	if (!j->spool.error && ferror(j->spool.fp))
		j->spool.error = errno ? errno : EIO;
	fseek(j->spool.fp, 0, SEEK_END); /* more items append, as before */
	if (note && *note) {
		hp_out_puts(out, "    <system-err>");
		xml_text(out, note);
		hp_out_puts(out, "</system-err>\n");
	}
	hp_out_puts(out, "  </testsuite>\n</testsuites>\n");
	if (j->spool.error && !out->error)
		out->error = j->spool.error; /* a lost testcase fails the report */
}

int hp_junit_finish(struct hp_junit *j, double elapsed_s, const char *note, char *err, size_t errlen)
{
	char why[600];
	hp_junit_write(j, &j->report, elapsed_s, note);
	if (hp_output_commit(&j->report, why, sizeof why) < 0) {
		snprintf(err, errlen, "--junit: %s", why);
		return -1;
	}
	return 0;
}

void hp_junit_counts(const struct hp_junit *j, size_t *tests, size_t *failures, size_t *errors)
{
	*tests = j->tests;
	*failures = j->failures;
	*errors = j->errors;
}

void hp_junit_free(struct hp_junit *j)
{
	if (!j)
		return;
	hp_output_abort(&j->report);
	if (j->spool.fp)
		fclose(j->spool.fp);
	free(j);
}

void hp_junit_write_case(struct hp_output *out, const char *classname, const char *name, const char *failure)
{
	hp_out_puts(out, "    <testcase classname=\"");
	hp_xml_write_text(out, classname, strlen(classname), true);
	hp_out_puts(out, "\" name=\"");
	hp_xml_write_text(out, name, strlen(name), true);
	if (!failure) {
		hp_out_puts(out, "\"/>\n");
		return;
	}
	hp_out_puts(out, "\">\n      <failure message=\"");
	hp_xml_write_text(out, failure, strlen(failure), true);
	hp_out_puts(out, "\"/>\n    </testcase>\n");
}
