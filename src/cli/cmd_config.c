/* cmd_config.c - `hubpredict config`: each effective setting and its source. */
#define _POSIX_C_SOURCE 200809L
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
	       "Print each effective setting, one a line, with where it came from: 'command line',\n"
	       "'env NAME', 'FILE:LINE [profile NAME]', 'yolo login (PATH)' or 'default'.\n"
	       "The key is shown as [redacted]. Global options: -k, --api-key-file, -u, --api,\n"
	       "-m, --config, --no-config, --profile, -v, -q, --cacert, --insecure,\n"
	       "--connect-timeout, --timeout.\n");
	hp_commands_usage();
}

static void print_source(const struct hp_origin *from)
{
	switch (from->source) {
	case HP_SOURCE_DEFAULT: printf("default"); break;
	case HP_SOURCE_ARG: printf("command line"); break;
	case HP_SOURCE_ENV: printf("env %s", from->env); break;
	case HP_SOURCE_FILE: printf("%s:%d", from->file, from->line); break;
	case HP_SOURCE_PROFILE: printf("%s:%d [profile %s]", from->file, from->line, from->profile); break;
	}
}

static void print_settings(const struct hp_options *o)
{
	char value[1024];
	printf("# config file: %s\n", o->config_path ? o->config_path : o->no_config ? "none (--no-config)" : "none");
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info info;
		hp_options_info(i, &info);
		if (!info.key && strcmp(info.name, "profile") != 0)
			continue;
		hp_options_value(o, i, value, sizeof value);
		printf("%s = %s  (", info.name, value);
		if (strcmp(info.name, "api-key") == 0 && o->key_from)
			printf("%s", o->key_from);
		else if (strcmp(info.name, "api-key") == 0 && !o->api_key)
			printf("none");
		else
			print_source(&o->origin[i]);
		printf(")\n");
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
