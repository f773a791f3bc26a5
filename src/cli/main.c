/* main.c - hubpredict's entry: pick the command from the first argument.
 *
 * A first argument that names a command selects it; anything else runs
 * predict with the whole command line, so every predict command line keeps
 * working, and an input file named like a command is reached as ./NAME (the
 * man page's COMMANDS section). A new command is one row here and one
 * cmd_NAME.c (cmd.h). */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"
#include "hubpredict/version.h"
#include "cmd.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

void hp_print_version(void)
{
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	printf("hubpredict %s\n", HP_VERSION);
	printf("libcurl %s%s%s\n", v->version, v->ssl_version ? " " : "", v->ssl_version ? v->ssl_version : "");
	printf("cJSON %s\n", cJSON_Version());
#ifdef HP_HAVE_IMAGES
	const char *images = "yes";
#else
	const char *images = "no";
#endif
	printf("build: TLS %s, HTTP/2 %s, image support %s\n", v->ssl_version ? v->ssl_version : "none",
	       (v->features & CURL_VERSION_HTTP2) ? "yes" : "no", images);
	/* the module is not loaded for this: the sonames it was built for */
#ifdef HP_HAVE_VIDEO
	printf("video support yes (module; FFmpeg %s %s %s %s)\n", HP_AVFORMAT_SONAME, HP_AVCODEC_SONAME,
	       HP_SWSCALE_SONAME, HP_AVUTIL_SONAME);
#else
	printf("video support no (built without HUBPREDICT_VIDEO)\n");
#endif
}

static const struct hp_command commands[] = {
	{ "predict", hp_cmd_predict, "[predict] [OPTIONS] INPUT...", "send inputs to a model and print its answers (the default)",
	  HP_CMD_PREDICT, "" },
	{ "deploy", hp_cmd_deploy, "deploy VERB [NAME] [OPTIONS]", "dedicated deployments on Platform: list, create, start, wait, stop ...",
	  HP_CMD_DEPLOY, "list create show start stop wait health logs metrics delete" },
	{ "val", hp_cmd_val, "val [OPTIONS] DATA", "accuracy against a labelled dataset, as yolo val (mAP, P, R)",
	  HP_CMD_VAL, "" },
	{ "bench", hp_cmd_bench, "bench [OPTIONS] INPUT...", "latency and throughput of endpoints: closed or open loop, gates",
	  HP_CMD_BENCH, "" },
	{ "config", hp_cmd_config, "config [--profile NAME]", "the effective settings and where each one came from",
	  HP_CMD_CONFIG, "" },
	{ "cache", hp_cmd_cache, "cache stats|prune", "what a --cache DIR holds; remove old entries",
	  HP_CMD_CACHE, "stats prune" },
	{ "completion", hp_cmd_completion, "completion bash|zsh|fish", "a completion script for the shell on stdout",
	  0, "bash zsh fish" },
	{ "help", hp_cmd_help, "help [COMMAND]", "the same as COMMAND --help", 0, "" },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

const struct hp_command *hp_commands(size_t *n)
{
	*n = N_COMMANDS;
	return commands;
}

static const struct hp_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void hp_commands_usage(void)
{
	printf("\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  hubpredict %-28s  %s\n", commands[i].usage, commands[i].summary);
}

static void help_usage(void)
{
	printf("Usage: hubpredict help [COMMAND]\n"
	       "Show COMMAND's help, the same as 'hubpredict COMMAND --help';\n"
	       "without COMMAND, the help of predict, the default command.\n");
	hp_commands_usage();
}

int hp_cmd_help(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		help_usage();
		return fflush(stdout) == 0 ? HP_EXIT_OK : HP_EXIT_OUTPUT;
	}
	if (argc > 2) {
		hp_msg_error("help takes one COMMAND, not '%s'", argv[2]);
		fputs("try 'hubpredict help --help'\n", stderr);
		return HP_EXIT_USAGE;
	}
	const char *name = argc > 1 ? argv[1] : "predict";
	const struct hp_command *c = find_command(name);
	if (!c) {
		hp_msg_error("'%s': no such command", name);
		fputs("try 'hubpredict --help'\n", stderr);
		return HP_EXIT_USAGE;
	}
	char help_flag[] = "--help";
	char *args[] = { argv[0], help_flag, NULL };
	if (c->run == hp_cmd_help) {
		help_usage();
		return fflush(stdout) == 0 ? HP_EXIT_OK : HP_EXIT_OUTPUT;
	}
	return c->run(2, args);
}

int main(int argc, char **argv)
{
	const struct hp_command *c = argc > 1 ? find_command(argv[1]) : NULL;
	if (c)
		return c->run(argc - 1, argv + 1);
	return hp_cmd_predict(argc, argv);
}

int hp_cmd_parse(struct hp_options *o, unsigned command, const char *name, void (*usage)(void), int argc,
                 char **argv, char *err, size_t errlen)
{
	switch (hp_options_parse_for(o, command, argc, argv, err, errlen)) {
	case HP_PARSE_HELP:
		usage();
		return HP_EXIT_OK;
	case HP_PARSE_VERSION:
		hp_print_version();
		return HP_EXIT_OK;
	case HP_PARSE_ERROR:
		hp_msg_error("%s", err);
		fprintf(stderr, "try 'hubpredict %s --help'\n", name);
		return HP_EXIT_USAGE;
	case HP_PARSE_RUN:
	default:
		return -1;
	}
}
