/* cmd_config.c - `hubpredict config`: the settings in force and where each
 * came from, printed as a config file that gives the same settings. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/endpoint.h"
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"
#include "hubpredict/request.h"
#include "cmd.h"

#include <stdio.h>
#include <string.h>

static void usage(void)
{
	printf("Usage: hubpredict config [--profile NAME] [--config FILE | --no-config] [GLOBAL OPTIONS]\n"
	       "Print the settings in force as a config file: 'name = value' lines, each group after a\n"
	       "'# SOURCE' comment: 'command line', 'env NAME', 'FILE:LINE [profile NAME]' or 'default'.\n"
	       "An empty value is one that is not set (nothing is sent). Saved and given to --config,\n"
	       "the output gives the same settings. The key is never shown: a comment says where it\n"
	       "came from ('yolo login (PATH)' for Ultralytics' settings.json).\n"
	       "Global options: -k, --api-key-file, -u, --api,\n"
	       "-m, --config, --no-config, --profile, -v, -q, --cacert, --insecure,\n"
	       "--connect-timeout, --timeout.\n");
	hp_commands_usage();
}

static void source_text(const struct hp_origin *from, char *buf, size_t len)
{
	switch (from->source) {
	case HP_SOURCE_DEFAULT: snprintf(buf, len, "default"); break;
	case HP_SOURCE_ARG: snprintf(buf, len, "command line"); break;
	case HP_SOURCE_ENV: snprintf(buf, len, "env %s", from->env); break;
	case HP_SOURCE_FILE: snprintf(buf, len, "%s:%d", from->file, from->line); break;
	case HP_SOURCE_PROFILE: snprintf(buf, len, "%s:%d [profile %s]", from->file, from->line, from->profile); break;
	}
}

static int resolve_spec(struct hp_endpoint *ep, const struct hp_options *o, char *err, size_t errlen)
{
	struct hp_endpoint_spec spec;
	hp_options_endpoint_spec(o, &spec);
	return hp_endpoint_resolve(ep, &spec, err, errlen);
}

/* The flavour in force, as predict would choose it; AUTO when nothing says. */
static enum hp_flavour flavour_of(const struct hp_options *o)
{
	struct hp_endpoint ep = { 0 };
	char err[640];
	enum hp_flavour f = o->api;
	if (f == HP_FLAVOUR_AUTO && (o->model || o->url) && resolve_spec(&ep, o, err, sizeof err) == 0)
		f = ep.flavour;
	else if (f == HP_FLAVOUR_AUTO && o->api_key)
		f = strncmp(o->api_key, "ul_", 3) == 0 ? HP_FLAVOUR_PLATFORM : HP_FLAVOUR_HUB;
	hp_endpoint_clear(&ep);
	return f;
}

/* A --progress / --no-progress row that says nothing while the other holds. */
static bool silent_twin(const struct hp_options *o, size_t i, const char *value)
{
	struct hp_opt_info in, other;
	char v[16];
	hp_options_info(i, &in);
	if (in.type != HP_OT_SET || *value)
		return false;
	for (size_t j = 0; j < hp_options_count(); j++) {
		hp_options_info(j, &other);
		hp_options_value(o, j, v, sizeof v);
		if (j != i && other.off == in.off && (*v || j < i))
			return true; /* the other holds, or prints the empty line itself */
	}
	return false;
}

/* What the value in force means when the line alone does not say; "" if it does.
 * iou and api are filled in from the flavour. */
static const char *note(const char *name, char *value, size_t len, enum hp_flavour f)
{
	if (strcmp(name, "iou") == 0 && !*value && f != HP_FLAVOUR_AUTO) {
		snprintf(value, len, "%s", f == HP_FLAVOUR_PLATFORM ? "0.7" : "0.45");
		return f == HP_FLAVOUR_PLATFORM ? "the platform default" : "the hub default";
	}
	if (strcmp(name, "iou") == 0 && !*value)
		return "not known yet: 0.45 with hub, 0.7 with platform";
	if (strcmp(name, "api") == 0 && !*value && f != HP_FLAVOUR_AUTO) {
		snprintf(value, len, "%s", hp_flavour_name(f));
		return "from the key, the URL or the model";
	}
	if (strcmp(name, "api") == 0 && !*value)
		return "not known yet: from the key, the URL or the model";
	if (*value)
		return "";
	if (strcmp(name, "decimals") == 0)
		return "not sent";
	if (strcmp(name, "timeout") == 0)
		return "none (60 s without progress fails)";
	if (strcmp(name, "rate") == 0)
		return "no limit";
	if (strcmp(name, "progress") == 0)
		return "on a terminal";
	if (strcmp(name, "baseline-iou") == 0)
		return "0.5 with baseline";
	if (strcmp(name, "baseline-conf") == 0)
		return "0.10 with baseline";
	return "";
}

/* The lines before the settings: the file, the profile, where the key is. */
static void print_head(const struct hp_options *o, size_t profile_row)
{
	char from[1200];
	printf("# hubpredict config: the settings in force; as a config file these lines give the same\n");
	printf("# config file: %s\n", o->config_path ? o->config_path : o->no_config ? "none (--no-config)" : "none");
	if (o->profile) {
		source_text(&o->origin[profile_row], from, sizeof from);
		printf("# profile: %s (%s)\n", o->profile, from);
	}
	if (o->api_key)
		printf("# api-key: [redacted], from %s\n", o->key_from ? o->key_from : "?");
	else
		printf("# api-key: none\n");
}

static bool same_origin(const struct hp_origin *a, const struct hp_origin *b)
{
	return a->source == b->source && a->line == b->line && a->file == b->file &&
	       (a->env == b->env || (a->env && b->env && strcmp(a->env, b->env) == 0));
}

static void print_settings(const struct hp_options *o)
{
	char value[2048], from[1200];
	const struct hp_origin *last = NULL;
	enum hp_flavour f = flavour_of(o);
	size_t profile_row = 0;
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info info;
		hp_options_info(i, &info);
		profile_row = strcmp(info.name, "profile") == 0 ? i : profile_row;
	}
	print_head(o, profile_row);
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info info;
		hp_options_info(i, &info);
		if (!info.key || strcmp(info.name, "api-key") == 0)
			continue; /* not for a file; the key is in the head */
		hp_options_value(o, i, value, sizeof value);
		if (silent_twin(o, i, value))
			continue;
		const char *what = note(info.name, value, sizeof value, f);
		if (strcmp(info.name, "api-key-file") == 0 && strcmp(value, "-") == 0) {
			printf("# api-key-file = - (standard input)\n");
			continue;
		}
		if (!last || !same_origin(last, &o->origin[i])) {
			source_text(&o->origin[i], from, sizeof from);
			printf("# %s\n", from);
			last = &o->origin[i];
		}
		if (*what)
			printf("# %s: %s\n", info.name, what);
		for (char *v = value, *nl;; v = nl + 1) {
			nl = strchr(v, '\n');
			printf("%s =%s%.*s\n", info.name, *v ? " " : "", nl ? (int)(nl - v) : (int)strlen(v), v);
			if (!nl)
				break;
		}
	}
}

int hp_cmd_config(int argc, char **argv)
{
	struct hp_options o = HP_OPTIONS_INIT;
	char err[640];
	int status = hp_cmd_parse(&o, HP_CMD_CONFIG, "config", usage, argc, argv, err, sizeof err);
	if (status < 0) {
		print_settings(&o);
		status = HP_EXIT_OK;
	}
	if (status == HP_EXIT_OK && fflush(stdout) != 0)
		status = HP_EXIT_OUTPUT;
	hp_options_free(&o);
	return status;
}
