/* cmd_deploy.c - `hubpredict deploy VERB [NAME]`: Platform's dedicated deployments
 * (hubpredict(1), DEPLOYMENTS): list, create, show, start, stop, wait, health, logs,
 * metrics, delete; and the serviceUrl behind `predict --deployment NAME`. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/clock.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"
#include "hubpredict/platform.h"
#include "hubpredict/request.h"
#include "hubpredict/signals.h"
#include "hubpredict/text.h"
#include "cmd.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct deploy {
	struct hp_options o;
	struct hp_platform *p;
	struct hp_reply reply;
	const char *verb;
	const char *name;
	bool live;                 /* stderr is a terminal: the live line while waiting */
	bool live_shown;
	char live_text[256];       /* what the live line shows, redrawn only when it changes */
	char err[640];
};

/* Each verb and the deploy-only options it takes (others are exit 2). */
static const struct verb {
	const char *name;
	bool named;
	const char *options;
} verbs[] = {
	{ "list", false, " status model limit owner " },
	{ "create", true, " model region display-name wait wait-timeout owner " },
	{ "show", true, " owner " },
	{ "start", true, " wait wait-timeout owner " },
	{ "stop", true, " wait wait-timeout owner " },
	{ "wait", true, " for wait-timeout owner " },
	{ "health", true, " owner " },
	{ "logs", true, " severity limit owner " },
	{ "metrics", true, " range owner " },
	{ "delete", true, " yes owner " },
};
#define N_VERBS (sizeof verbs / sizeof verbs[0])

static const char *const states[] = { "creating", "deploying", "ready", "stopping", "stopped", "failed", NULL };
static const char *const severities[] = { "DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL",
                                          "ALERT", "EMERGENCY", NULL };
static const char *const ranges[] = { "24h", "1h", "6h", "7d", "30d" };

static void usage(void)
{
	printf("Usage: hubpredict deploy VERB [NAME] [OPTIONS]\n"
	       "Dedicated deployments on Ultralytics Platform (always the Platform API and a key):\n"
	       "  list [--status STATE] [--model PROJECT/MODEL] [--limit N]\n"
	       "  create NAME --model PROJECT/MODEL --region REGION [--display-name TEXT] [--wait]\n"
	       "  show NAME\n"
	       "  start NAME [--wait]          stop NAME [--wait]\n"
	       "  wait NAME [--for ready|stopped] [--wait-timeout SEC]\n"
	       "  health NAME\n"
	       "  logs NAME [--severity LIST] [--limit N]\n"
	       "  metrics NAME [--range 1h|6h|24h|7d|30d]\n"
	       "  delete NAME --yes\n"
	       "Waiting polls every 2 s backing off to 10 s, one stderr line per change of state;\n"
	       "ready ends with one health check. Exit 12: --wait-timeout ran out; 8: failed.\n"
	       "-f json prints the API's document unchanged; -f jsonl (list, logs) one object a line.\n"
	       "Then: hubpredict --deployment NAME [OPTIONS] INPUT... predicts on its own endpoint.\n\n"
	       "Options:\n");
	hp_options_usage_for(HP_CMD_DEPLOY);
	printf("\nExit status: 0 ok, 2 usage, 4 auth, 5 not found, 6 rate limited, 7 rejected (400, 409),\n"
	       "8 server error or failed, 9 network, 10 bad response, 12 waited out, 130 interrupted.\n");
	hp_commands_usage();
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < N_VERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static bool in_list(const char *const *list, const char *word, size_t n)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == n && strncmp(list[i], word, n) == 0)
			return true;
	return false;
}

/* Deploy-only options given on the command line that this verb does not take. */
static int check_verb_options(struct deploy *d, const struct verb *v)
{
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info info;
		char word[64];
		hp_options_info(i, &info);
		if (info.commands != HP_CMD_DEPLOY || d->o.origin[i].source != HP_SOURCE_ARG)
			continue;
		snprintf(word, sizeof word, " %s ", info.name);
		if (!strstr(v->options, word)) {
			hp_msg_error("--%s does not go with deploy %s", info.name, v->name);
			return HP_EXIT_USAGE;
		}
	}
	return 0;
}

/* PROJECT/MODEL, each part by Platform's rule. */
static bool project_model_ok(const char *pm)
{
	const char *slash = pm ? strchr(pm, '/') : NULL;
	char project[160];
	if (!slash || (size_t)(slash - pm) >= sizeof project)
		return false;
	snprintf(project, sizeof project, "%.*s", (int)(slash - pm), pm);
	return hp_platform_name_ok(project, 1, 128) && hp_platform_name_ok(slash + 1, 1, 128);
}

static int severity_ok(const char *list)
{
	for (const char *s = list; *s;) {
		size_t n = strcspn(s, ",");
		char up[16];
		if (n == 0 || n >= sizeof up)
			return 0;
		for (size_t i = 0; i < n; i++)
			up[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
		if (!in_list(severities, up, n))
			return 0;
		s += n + (s[n] == ',');
	}
	return 1;
}

static size_t row_named(const char *name)
{
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info info;
		hp_options_info(i, &info);
		if (strcmp(info.name, name) == 0)
			return i;
	}
	return 0;
}

/* Every value checked before anything is sent (exit 2). */
static int check_values(struct deploy *d, const struct verb *v)
{
	bool list_like = strcmp(v->name, "list") == 0 || strcmp(v->name, "logs") == 0;
	if (d->o.origin[row_named("format")].source != HP_SOURCE_ARG &&
	    (d->o.format == HP_FORMAT_CSV || d->o.format == HP_FORMAT_RAW || (d->o.format == HP_FORMAT_JSONL && !list_like)))
		d->o.format = HP_FORMAT_TABLE; /* a config's format for predict */
	const struct hp_deploy_options *x = &d->o.deploy;
	const char *bad = NULL;
	if (v->named && !hp_platform_name_ok(d->name, 1, 128))
		bad = "NAME";
	else if (x->owner && !hp_platform_name_ok(x->owner, 4, 32))
		bad = "--owner";
	if (bad) {
		hp_msg_error("%s '%s' does not follow Platform's rule: lowercase letters, digits and single '-' "
		             "between them (%s)", bad, bad[0] == 'N' ? d->name : x->owner,
		             bad[0] == 'N' ? "at most 128" : "4 to 32 characters");
		return HP_EXIT_USAGE;
	}
	if (x->status && !in_list(states, x->status, strlen(x->status)))
		bad = "--status must be creating, deploying, ready, stopping, stopped or failed";
	else if (x->model && !project_model_ok(x->model))
		bad = "--model must be PROJECT/MODEL, both by Platform's rule (lowercase letters, digits, '-')";
	else if (x->severity && !severity_ok(x->severity))
		bad = "--severity must be a comma list of DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, "
		      "ALERT, EMERGENCY";
	else if (strcmp(v->name, "list") == 0 && x->limit > 100)
		bad = "deploy list: --limit must be a whole number from 1 to 100";
	else if (strcmp(v->name, "create") == 0 && (!x->model || !x->region || !*x->region))
		bad = "deploy create NAME needs --model PROJECT/MODEL and --region REGION";
	else if (strcmp(v->name, "delete") == 0 && !x->yes)
		bad = "deploy delete is permanent: give --yes to delete (nothing was sent)";
	else if (d->o.format == HP_FORMAT_CSV || d->o.format == HP_FORMAT_RAW)
		bad = "deploy prints -f table, json or jsonl";
	else if (d->o.format == HP_FORMAT_JSONL && strcmp(v->name, "list") != 0 && strcmp(v->name, "logs") != 0)
		bad = "-f jsonl goes with deploy list and deploy logs (use -f json)";
	if (bad) {
		hp_msg_error("%s", bad);
		return HP_EXIT_USAGE;
	}
	return 0;
}

static const char *str(const cJSON *obj, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(m) ? m->valuestring : NULL;
}

static double num(const cJSON *obj, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsNumber(m) ? m->valuedouble : 0;
}

/* An API value as a table or a line shows it, as predict's table does: the
 * key scrubbed (hp_msg_scrub), control characters escaped (hp_term_escape),
 * NULL as absent. Returns a string the caller frees (NULL: out of memory),
 * its display width in *width when not NULL. */
static char *safe_value(const char *s, const char *absent, int *width)
{
	if (!s)
		s = absent;
	size_t n = strlen(s), cap = 10 * n + 16; /* "[redacted]" in place of each key run */
	char *scrubbed = malloc(cap), *esc = NULL;
	if (scrubbed) {
		memcpy(scrubbed, s, n + 1);
		hp_msg_scrub(scrubbed, cap);
		n = strlen(scrubbed);
		esc = malloc(4 * n + 1); /* \xNN for a byte at most */
	}
	if (esc) {
		int w = hp_term_escape(esc, 4 * n + 1, scrubbed, n, NULL);
		if (width)
			*width = w;
	}
	free(scrubbed);
	return esc;
}

/* safe_value() on standard output, padded with spaces to width columns. */
static void put_value(const char *s, const char *absent, int width)
{
	int w = 0;
	char *v = safe_value(s, absent, &w);
	if (v)
		fputs(v, stdout);
	for (; w < width; w++)
		putchar(' ');
	free(v);
}

/* -f json: the API's document as it came (a key it quoted masked). */
static void print_document(struct deploy *d)
{
	hp_msg_mask(d->reply.body, d->reply.len);
	fwrite(d->reply.body, 1, d->reply.len, stdout);
	if (d->reply.len == 0 || d->reply.body[d->reply.len - 1] != '\n')
		putchar('\n');
}

/* The live line of a wait, if shown, erased (also the message hook while waiting). */
static void erase_live(void *arg)
{
	struct deploy *d = arg;
	if (d->live_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		d->live_shown = false;
	}
}

/* The failure of a call: its one line, its exit status. */
static int failed(struct deploy *d, int status)
{
	erase_live(d);
	const char *m = d->reply.message;
	if (status == HP_EXIT_AUTH && !d->o.api_key)
		hp_msg_error("%s (no key was given: -k, --api-key-file or ULTRALYTICS_API_KEY)", m);
	else
		hp_msg_error("%s%s%s", d->name ? d->name : "deploy", ": ", m[0] ? m : hp_exit_name(status));
	return status;
}

static int call(struct deploy *d, const char *method, const char *rest, const char *body)
{
	int status = hp_platform_call(d->p, method, rest, body, &d->reply);
	return status ? failed(d, status) : 0;
}

/* "/NAME" + suffix into buf. */
static const char *named(const struct deploy *d, const char *suffix, char *buf, size_t len)
{
	snprintf(buf, len, "/%s%s", d->name, suffix);
	return buf;
}

/* The deployment document of a show answer, or NULL (exit 10 said). */
static const cJSON *shown(struct deploy *d, int *status)
{
	const cJSON *dep = cJSON_GetObjectItemCaseSensitive(d->reply.doc, "deployment");
	if (!cJSON_IsObject(dep) || !str(dep, "status")) {
		snprintf(d->reply.message, sizeof d->reply.message, "the show answer has no deployment with a status");
		*status = failed(d, HP_EXIT_BAD_RESPONSE);
		return NULL;
	}
	*status = 0;
	return dep;
}

/* -- waiting ---------------------------------------------------------------------------------- */

/* On a terminal: `cam  deploying  Container starting  0:14`, rewritten in place. */
static void show_live(struct deploy *d, const char *state, const char *message, double elapsed)
{
	if (!d->live)
		return;
	long s = (long)elapsed;
	char line[sizeof d->live_text];
	char *st = safe_value(state, "", NULL), *why = safe_value(message, "", NULL);
	snprintf(line, sizeof line, "%s  %s  %s  %ld:%02ld", d->name, st ? st : "", why ? why : "", s / 60, s % 60);
	free(st);
	free(why);
	if (d->live_shown && strcmp(line, d->live_text) == 0)
		return;
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	memcpy(d->live_text, line, sizeof line);
	d->live_shown = true;
}

/* Sleep up to `seconds`, the live line ticking: an exit status on a signal. */
static int pause_polling(struct deploy *d, double seconds, const char *state, const char *message, double start)
{
	double now = hp_clock_ms() / 1000.0, until = now + seconds;
	for (; now < until; now = hp_clock_ms() / 1000.0) {
		if (hp_signal_caught())
			return hp_exit_from_signal(hp_signal_caught());
		show_live(d, state, message, now - start);
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return hp_signal_caught() ? hp_exit_from_signal(hp_signal_caught()) : 0;
}

/* ready reached: one health check, which also warms the endpoint. */
static int ready_health(struct deploy *d, double elapsed)
{
	char rest[200];
	int status = hp_platform_call(d->p, "GET", named(d, "/health", rest, sizeof rest), NULL, &d->reply);
	if (status != 0) {
		hp_msg_warn("%s: ready, but the health check failed: %s", d->name, d->reply.message);
		return 0;
	}
	const cJSON *healthy = cJSON_GetObjectItemCaseSensitive(d->reply.doc, "healthy");
	if (!d->o.quiet)
		hp_msg_error("%s: ready, %s (%.0f ms), %.0f s", d->name, cJSON_IsTrue(healthy) ? "healthy" : "not healthy yet",
		             num(d->reply.doc, "latencyMs"), elapsed);
	return 0;
}

/* Poll show until the deployment is in `target` (hubpredict(1), DEPLOYMENTS). */
static int wait_for(struct deploy *d, const char *target)
{
	char rest[200], last[32] = "", message[256] = "";
	double start = hp_clock_ms() / 1000.0, interval = 2.0, limit = d->o.deploy.wait_timeout;
	int status;
	hp_msg_set_before_hook(erase_live, d);
	for (;;) {
		if ((status = call(d, "GET", named(d, "", rest, sizeof rest), NULL)) != 0)
			break;
		const cJSON *dep = shown(d, &status);
		if (!dep)
			break;
		const char *state = str(dep, "status"), *why = str(dep, "statusMessage");
		double elapsed = hp_clock_ms() / 1000.0 - start;
		snprintf(message, sizeof message, "%s", why ? why : "");
		if (strcmp(state, last) != 0 && !d->o.quiet && strcmp(state, target) != 0)
			hp_msg_error("%s: %s%s%s%s, %.0f s", d->name, state, why ? " (" : "", why ? why : "", why ? ")" : "",
			             elapsed);
		snprintf(last, sizeof last, "%s", state);
		if (strcmp(state, target) == 0) {
			status = strcmp(target, "ready") == 0 ? ready_health(d, elapsed) : 0;
			if (status == 0 && strcmp(target, "stopped") == 0 && !d->o.quiet)
				hp_msg_error("%s: stopped, %.0f s", d->name, elapsed);
			break;
		}
		if (strcmp(state, "failed") == 0) {
			erase_live(d);
			hp_msg_error("%s: failed: %s", d->name, message[0] ? message : "(no status message)");
			status = HP_EXIT_SERVER;
			break;
		}
		if (elapsed >= limit) {
			erase_live(d);
			hp_msg_error("%s: still %s%s%s%s after %.0f s (--wait-timeout); the deployment is left as it is",
			             d->name, state, message[0] ? " (" : "", message, message[0] ? ")" : "", elapsed);
			status = HP_EXIT_WAITED_OUT;
			break;
		}
		double nap = interval < limit - elapsed ? interval : limit - elapsed;
		if ((status = pause_polling(d, nap, state, message, start)) != 0) {
			erase_live(d);
			hp_msg_error("interrupted: %s is left as it is (%s); 'hubpredict deploy wait %s' waits again",
			             d->name, last, d->name);
			break;
		}
		interval = interval * 1.5 < 10.0 ? interval * 1.5 : 10.0;
	}
	erase_live(d);
	hp_msg_set_before_hook(NULL, NULL);
	return status;
}

/* -- the verbs -------------------------------------------------------------------------------- */

static int print_jsonl(struct deploy *d, const char *member)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(d->reply.doc, member), *it;
	if (!cJSON_IsArray(items)) {
		snprintf(d->reply.message, sizeof d->reply.message, "the answer has no %s array", member);
		return failed(d, HP_EXIT_BAD_RESPONSE);
	}
	cJSON_ArrayForEach(it, items) {
		char *line = cJSON_PrintUnformatted(it);
		if (!line)
			return HP_EXIT_OUTPUT;
		hp_msg_mask(line, strlen(line));
		puts(line);
		free(line);
	}
	return 0;
}

static void add_query(char *buf, size_t len, const char *name, const char *value)
{
	if (!value)
		return;
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, "%c%s=%s", strchr(buf, '?') ? '&' : '?', name, value);
}

/* GET rest (with --limit added to its query) and print it as -f json or
 * jsonl ask (returns the status), or find the array `member` for the table
 * (*items; returns -1). */
static int fetch_array(struct deploy *d, char *rest, size_t len, const char *member, const cJSON **items)
{
	char limit[16];
	snprintf(limit, sizeof limit, "%d", d->o.deploy.limit);
	add_query(rest, len, "limit", d->o.deploy.limit ? limit : NULL);
	int status = call(d, "GET", rest, NULL);
	if (status != 0)
		return status;
	if (d->o.format == HP_FORMAT_JSON)
		return print_document(d), 0;
	if (d->o.format == HP_FORMAT_JSONL)
		return print_jsonl(d, member);
	*items = cJSON_GetObjectItemCaseSensitive(d->reply.doc, member);
	if (!cJSON_IsArray(*items)) {
		snprintf(d->reply.message, sizeof d->reply.message, "the answer has no %s array", member);
		return failed(d, HP_EXIT_BAD_RESPONSE);
	}
	return -1;
}

static int verb_list(struct deploy *d)
{
	char rest[512] = "";
	add_query(rest, sizeof rest, "status", d->o.deploy.status);
	add_query(rest, sizeof rest, "model", d->o.deploy.model);
	const cJSON *items = NULL, *it;
	int status = fetch_array(d, rest, sizeof rest, "deployments", &items);
	if (status >= 0)
		return status;
	printf("%-24s %-10s %-14s %-28s %s\n", "NAME", "STATUS", "REGION", "MODEL", "URL");
	cJSON_ArrayForEach(it, items) {
		char model[300];
		snprintf(model, sizeof model, "%s/%s", str(it, "project") ? str(it, "project") : "-",
		         str(it, "model") ? str(it, "model") : "-");
		static const struct { const char *member; int width; } cells[] = {
			{ "deployment", 24 }, { "status", 10 }, { "region", 14 }, { NULL, 28 }, { "serviceUrl", 0 },
		};
		for (size_t c = 0; c < sizeof cells / sizeof *cells; c++) {
			put_value(cells[c].member ? str(it, cells[c].member) : model, "-", cells[c].width);
			putchar(cells[c].width ? ' ' : '\n');
		}
	}
	int shown = cJSON_GetArraySize(items);
	if (num(d->reply.doc, "total") > shown)
		hp_msg_note("%d of %.0f deployments shown: --limit N shows up to 100", shown, num(d->reply.doc, "total"));
	return 0;
}

/* One member of show's document: "prefix.name: value", both sides made safe. */
static void print_field(const char *prefix, const cJSON *m)
{
	char inner[128];
	snprintf(inner, sizeof inner, "%s%s", prefix, m->string);
	if (cJSON_IsObject(m)) {
		const cJSON *c;
		snprintf(inner, sizeof inner, "%s%s.", prefix, m->string);
		cJSON_ArrayForEach(c, m)
			print_field(inner, c);
		return;
	}
	if (!cJSON_IsString(m) && !cJSON_IsNumber(m) && !cJSON_IsBool(m))
		return;
	put_value(inner, "", 0);
	fputs(": ", stdout);
	if (cJSON_IsString(m))
		put_value(m->valuestring, "", 0);
	else if (cJSON_IsNumber(m))
		printf("%g", m->valuedouble);
	else
		fputs(cJSON_IsTrue(m) ? "true" : "false", stdout);
	putchar('\n');
}

static int verb_show(struct deploy *d)
{
	char rest[200];
	int status = call(d, "GET", named(d, "", rest, sizeof rest), NULL);
	if (status != 0)
		return status;
	const cJSON *dep = shown(d, &status), *m;
	if (!dep)
		return status;
	if (d->o.format == HP_FORMAT_JSON)
		return print_document(d), 0;
	cJSON_ArrayForEach(m, dep)
		print_field("", m);
	return 0;
}

static int verb_wait(struct deploy *d)
{
	return wait_for(d, d->o.deploy.wait_for == 1 ? "stopped" : "ready");
}

/* create, start, stop: the answer's line, then --wait. */
static int after_change(struct deploy *d, const char *target)
{
	const char *state = str(d->reply.doc, "status"), *message = str(d->reply.doc, "message");
	if (d->o.format == HP_FORMAT_JSON)
		print_document(d);
	else {
		printf("%s: %s", d->name, d->reply.status == 200 ? "already " : "");
		put_value(state, d->reply.status == 200 ? target : "?", 0);
		fputs(" (", stdout);
		put_value(message, d->reply.status == 200 ? "nothing to do" : "", 0);
		fputs(")\n", stdout);
	}
	fflush(stdout);
	return d->o.deploy.wait ? wait_for(d, target) : 0;
}

static int change(struct deploy *d, const char *action, const char *target)
{
	char rest[200], body[64];
	snprintf(body, sizeof body, "{\"action\":\"%s\"}", action);
	int status = call(d, "PATCH", named(d, "", rest, sizeof rest), body);
	return status ? status : after_change(d, target);
}

static int verb_start(struct deploy *d)
{
	return change(d, "start", "ready");
}

static int verb_stop(struct deploy *d)
{
	return change(d, "stop", "stopped");
}

static int verb_create(struct deploy *d)
{
	const struct hp_deploy_options *x = &d->o.deploy;
	const char *slash = strchr(x->model, '/');
	char project[160];
	snprintf(project, sizeof project, "%.*s", (int)(slash - x->model), x->model);
	cJSON *body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "project", project) ||
	    !cJSON_AddStringToObject(body, "model", slash + 1) || !cJSON_AddStringToObject(body, "deployment", d->name) ||
	    !cJSON_AddStringToObject(body, "name", x->display_name ? x->display_name : d->name) ||
	    !cJSON_AddStringToObject(body, "region", x->region)) {
		cJSON_Delete(body);
		return HP_EXIT_USAGE;
	}
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (!text)
		return HP_EXIT_USAGE;
	int status = call(d, "POST", "", text);
	free(text);
	return status ? status : after_change(d, "ready");
}

static int verb_delete(struct deploy *d)
{
	char rest[200];
	int status = call(d, "DELETE", named(d, "", rest, sizeof rest), NULL);
	if (status != 0)
		return status;
	if (d->o.format == HP_FORMAT_JSON)
		print_document(d);
	else
		printf("%s: deleted\n", d->name);
	return 0;
}

static int verb_health(struct deploy *d)
{
	char rest[200];
	int status = call(d, "GET", named(d, "/health", rest, sizeof rest), NULL);
	if (status != 0)
		return status;
	const cJSON *healthy = cJSON_GetObjectItemCaseSensitive(d->reply.doc, "healthy");
	if (!cJSON_IsBool(healthy)) {
		snprintf(d->reply.message, sizeof d->reply.message, "the health answer has no 'healthy'");
		return failed(d, HP_EXIT_BAD_RESPONSE);
	}
	if (d->o.format == HP_FORMAT_JSON)
		print_document(d);
	else if (cJSON_IsTrue(healthy))
		printf("%s: healthy (%.1f ms)\n", d->name, num(d->reply.doc, "latencyMs"));
	else {
		printf("%s: not healthy (%.0f): ", d->name, num(d->reply.doc, "status"));
		put_value(str(d->reply.doc, "error"), "no reason given", 0);
		putchar('\n');
	}
	if (!cJSON_IsTrue(healthy)) {
		fflush(stdout);
		hp_msg_error("%s is not healthy", d->name);
		return HP_EXIT_SERVER;
	}
	return 0;
}

static int verb_logs(struct deploy *d)
{
	char rest[512];
	named(d, "/logs", rest, sizeof rest);
	add_query(rest, sizeof rest, "severity", d->o.deploy.severity);
	const cJSON *items = NULL, *e;
	int status = fetch_array(d, rest, sizeof rest, "entries", &items);
	if (status >= 0)
		return status;
	cJSON_ArrayForEach(e, items) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "httpRequest");
		put_value(str(e, "timestamp"), "-", 0);
		fputs("  ", stdout);
		put_value(str(e, "severity"), "-", 8);
		fputs("  ", stdout);
		put_value(str(e, "message"), "", 0);
		if (cJSON_IsObject(r)) {
			fputs("  [", stdout);
			put_value(str(r, "method"), "?", 0);
			putchar(' ');
			put_value(str(r, "url"), "?", 0);
			printf(" %.0f %.1f ms]", num(r, "status"), num(r, "latencyMs"));
		}
		putchar('\n');
	}
	if (str(d->reply.doc, "nextPageToken"))
		hp_msg_note("older entries than these %d: --limit N shows up to 200, -f json has the API's nextPageToken",
		            cJSON_GetArraySize(items));
	return 0;
}

/* On a terminal: the requests series as one line of block characters. */
static void sparkline(const cJSON *series)
{
	static const char *const blocks[] = { "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587",
	                                      "\u2588" };
	const cJSON *p;
	double top = 0;
	cJSON_ArrayForEach(p, series)
		top = num(p, "value") > top ? num(p, "value") : top;
	printf("requests  ");
	cJSON_ArrayForEach(p, series) {
		int level = top > 0 ? (int)(num(p, "value") / top * 7.0 + 0.5) : 0;
		fputs(blocks[level < 0 ? 0 : level > 7 ? 7 : level], stdout);
	}
	putchar('\n');
}

static int verb_metrics(struct deploy *d)
{
	char rest[256];
	named(d, "/metrics", rest, sizeof rest);
	add_query(rest, sizeof rest, "range", ranges[d->o.deploy.range_index]);
	int status = call(d, "GET", rest, NULL);
	if (status != 0)
		return status;
	if (d->o.format == HP_FORMAT_JSON)
		return print_document(d), 0;
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(d->reply.doc, "summary");
	if (!cJSON_IsObject(s)) {
		snprintf(d->reply.message, sizeof d->reply.message, "the metrics answer has no summary");
		return failed(d, HP_EXIT_BAD_RESPONSE);
	}
	printf("%s (%s): %.0f requests, %.0f errors (%.2f%%), latency avg %.1f ms, p50 %.1f, p95 %.1f, p99 %.1f\n",
	       d->name, ranges[d->o.deploy.range_index], num(s, "totalRequests"), num(s, "errorCount"),
	       num(s, "errorRate") * 100.0, num(s, "avgLatencyMs"), num(s, "p50LatencyMs"), num(s, "p95LatencyMs"),
	       num(s, "p99LatencyMs"));
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(d->reply.doc, "timeSeries");
	const cJSON *req = ts ? cJSON_GetObjectItemCaseSensitive(ts, "requests") : NULL;
	if (cJSON_IsArray(req) && isatty(STDOUT_FILENO) == 1)
		sparkline(req);
	return 0;
}

static int run_verb(struct deploy *d, const struct verb *v)
{
	static const struct {
		const char *name;
		int (*fn)(struct deploy *);
	} table[] = { { "list", verb_list }, { "create", verb_create }, { "show", verb_show },
	              { "start", verb_start }, { "stop", verb_stop }, { "wait", verb_wait },
	              { "health", verb_health }, { "logs", verb_logs }, { "metrics", verb_metrics },
	              { "delete", verb_delete } };
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].name, v->name) == 0)
			return table[i].fn(d);
	return HP_EXIT_USAGE;
}

/* Verb, NAME and values checked; then the client. */
static int start_run(struct deploy *d, const struct verb **v)
{
	struct hp_options *o = &d->o;
	if (o->n_inputs == 0) {
		hp_msg_error("deploy needs a VERB: list, create, show, start, stop, wait, health, logs, metrics, delete");
		return HP_EXIT_USAGE;
	}
	d->verb = o->inputs[0];
	if (!(*v = find_verb(d->verb))) {
		hp_msg_error("deploy: '%s' is not a verb (list, create, show, start, stop, wait, health, logs, metrics, "
		             "delete)", d->verb);
		return HP_EXIT_USAGE;
	}
	size_t want = (*v)->named ? 2 : 1;
	if (o->n_inputs != want) {
		if (o->n_inputs < want)
			hp_msg_error("deploy %s needs a NAME", d->verb);
		else
			hp_msg_error("deploy %s: unexpected argument '%s'", d->verb, o->inputs[want]);
		return HP_EXIT_USAGE;
	}
	d->name = (*v)->named ? o->inputs[1] : NULL;
	int status = check_verb_options(d, *v);
	if (status == 0)
		status = check_values(d, *v);
	if (status != 0)
		return status;
	hp_msg_set_secret(o->api_key);
	hp_msg_set_verbose(o->verbose);
	hp_signals_install();
	struct hp_platform_config pc;
	hp_options_platform_config(o, &pc);
	if ((status = hp_platform_new(&d->p, &pc, d->err, sizeof d->err)) != 0)
		hp_msg_error("%s", d->err);
	return status;
}

int hp_cmd_deploy(int argc, char **argv)
{
	struct deploy d = { .o = HP_OPTIONS_INIT };
	const struct verb *v = NULL;
	int status = hp_cmd_parse(&d.o, HP_CMD_DEPLOY, "deploy", usage, argc, argv, d.err, sizeof d.err);
	if (status < 0) {
		d.live = isatty(STDERR_FILENO) == 1 && !d.o.quiet;
		status = start_run(&d, &v);
		if (status == 0)
			status = run_verb(&d, v);
	}
	if (fflush(stdout) != 0 && status == HP_EXIT_OK)
		status = HP_EXIT_OUTPUT;
	hp_reply_clear(&d.reply);
	hp_platform_free(d.p);
	hp_options_free(&d.o);
	return status;
}

int hp_deploy_predict_url(const struct hp_options *o, char **url)
{
	const char *name = o->predict.deployment;
	struct deploy d = { .name = name };
	char rest[200], err[640];
	int status;
	*url = NULL;
	if (!hp_platform_name_ok(name, 1, 128) || (o->deploy.owner && !hp_platform_name_ok(o->deploy.owner, 4, 32))) {
		hp_msg_error("--%s '%s' does not follow Platform's rule: lowercase letters, digits and single '-' between them",
		             hp_platform_name_ok(name, 1, 128) ? "owner" : "deployment",
		             hp_platform_name_ok(name, 1, 128) ? o->deploy.owner : name);
		return HP_EXIT_USAGE;
	}
	d.o.quiet = o->quiet;
	struct hp_platform_config pc;
	hp_options_platform_config(o, &pc);
	if ((status = hp_platform_new(&d.p, &pc, err, sizeof err)) != 0) {
		hp_msg_error("%s", err);
		return status;
	}
	const cJSON *dep = NULL;
	if ((status = call(&d, "GET", named(&d, "", rest, sizeof rest), NULL)) == 0)
		dep = shown(&d, &status);
	const char *state = dep ? str(dep, "status") : NULL, *service = dep ? str(dep, "serviceUrl") : NULL;
	if (dep && strcmp(state, "ready") != 0) {
		hp_msg_error("deployment %s is %s, not ready: run 'hubpredict deploy start %s --wait' first", d.name,
		             state, d.name);
		status = HP_EXIT_REJECTED;
	} else if (dep && (!service || (strncmp(service, "https://", 8) != 0 && strncmp(service, "http://", 7) != 0))) {
		hp_msg_error("deployment %s is ready but has no http(s) serviceUrl", d.name);
		status = HP_EXIT_BAD_RESPONSE;
	} else if (dep) {
		size_t n = strlen(service) + sizeof "/predict";
		if ((*url = malloc(n)) != NULL)
			snprintf(*url, n, "%s%s/predict", service, "");
		if (*url && n > 9 && (*url)[strlen(service) - 1] == '/')
			memmove(*url + strlen(service) - 1, *url + strlen(service), sizeof "/predict");
		hp_msg_verbose(1, "deployment %s: ready at %s (%d call%s)", d.name, service, hp_platform_calls(d.p),
		               hp_platform_calls(d.p) == 1 ? "" : "s");
		status = *url ? 0 : HP_EXIT_USAGE;
	}
	hp_reply_clear(&d.reply);
	hp_platform_free(d.p);
	return status;
}
