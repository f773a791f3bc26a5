/* cmd.h - the commands of hubpredict (private to src/cli/).
 *
 * Each command is one row of the table in main.c and one cmd_NAME.c with
 * an entry point of the shape below. argv[0] is the command's name (or the
 * program's, for predict chosen by default); the entry point parses the
 * rest itself, prints its own --help, and returns the exit status (see the
 * man page's EXIT STATUS). Nothing in argv is owned by the command.
 */
#ifndef HUBPREDICT_CLI_CMD_H
#define HUBPREDICT_CLI_CMD_H

#include <stddef.h>

int hp_cmd_predict(int argc, char **argv);
int hp_cmd_config(int argc, char **argv);
int hp_cmd_cache(int argc, char **argv);
int hp_cmd_completion(int argc, char **argv);
int hp_cmd_deploy(int argc, char **argv);
int hp_cmd_val(int argc, char **argv);
int hp_cmd_bench(int argc, char **argv);

struct hp_options;
/* predict --deployment: read the deployment o->predict.deployment once; when it is
 * ready, its serviceUrl + "/predict" into *url (caller frees). 0, or an exit
 * status whose one line is already on stderr (7: not ready, with the
 * command that starts it). */
int hp_deploy_predict_url(const struct hp_options *o, char **url);
int hp_cmd_help(int argc, char **argv);

/* The version line(s) for -V (main.c). */
void hp_print_version(void);

struct hp_batch_stats;
struct hp_output;
struct hp_item;
/* A command that runs predict's batch over inputs of its own (val): predict's
 * whole setup (endpoint, key, --deployment, preflight of -o/--junit/--resume
 * against the inputs, --cache, --resume, progress, the summary), with the
 * per-input output silenced, one more observer, and a report written at the
 * end into -o (or stdout) before it is committed. Borrowed by the run. */
struct hp_predict_embed {
	char *const *inputs;        /* the files to send, in order */
	size_t n_inputs;
	void (*item)(void *state, const struct hp_item *it); /* each finished input */
	/* After the batch (also after an interruption): write the report into
	 * out and return the exit status, given the batch's. */
	int (*finish)(void *state, const struct hp_batch_stats *stats, struct hp_output *out, int status);
	void *state;
};
/* Run o (parsed for the embedding command; taken over: freed here) as above.
 * Returns the exit status; the run's messages are on stderr. */
int hp_predict_embedded(struct hp_options *o, const struct hp_predict_embed *e);

/* One row of the command table in main.c. */
struct hp_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;    /* the words after "hubpredict", for --help */
	const char *summary;
	unsigned opts;        /* the HP_CMD_* bit of the options it takes (options.h); 0: only --help */
	const char *verbs;    /* its sub-verbs, space-separated ("" = none), for the completions */
};

/* The command table (static), its length in *n. */
const struct hp_command *hp_commands(size_t *n);

struct hp_options;
/* Parse a command's options into *o (HP_OPTIONS_INIT) for `command` (an
 * HP_CMD_* bit): --help prints usage(), --version the version, a bad option
 * its one line and "try 'hubpredict NAME --help'". Returns -1 when the
 * command should run, else the exit status to return. */
int hp_cmd_parse(struct hp_options *o, unsigned command, const char *name, void (*usage)(void), int argc,
                 char **argv, char *err, size_t errlen);

/* The "Commands:" block of --help, from the table in main.c, on stdout. */
void hp_commands_usage(void);

#endif
