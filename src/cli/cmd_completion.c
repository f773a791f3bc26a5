/* cmd_completion.c - `hubpredict completion bash|zsh|fish`: a completion
 * script on stdout, generated from the option table (options.c) and the
 * command table (main.c), so it offers exactly what --help lists: each
 * command's options (the table's commands column), the values of enum
 * options, file names for INPUT and FILE options, directories for DIR
 * options, the commands after "hubpredict" and each command's verbs. */
#define _POSIX_C_SOURCE 200809L
#include "hubpredict/exitcode.h"
#include "hubpredict/msg.h"
#include "hubpredict/options.h"
#include "cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* What the value of an option completes to. */
enum value_kind { V_NONE, V_ENUM, V_FILE, V_DIR, V_OTHER };

static enum value_kind value_kind(const struct hp_opt_info *in)
{
	if (!in->arg)
		return V_NONE;
	if (in->values)
		return V_ENUM;
	if (in->type == HP_OT_DIR || strcmp(in->arg, "DIR") == 0)
		return V_DIR;
	if (in->type == HP_OT_FILE || strcmp(in->arg, "FILE") == 0)
		return V_FILE;
	return V_OTHER;
}

/* Values a command takes of an option that others take more of (deploy
 * prints table, json or jsonl: cmd_deploy.c's check_values). */
static const struct narrower {
	const char *option, *command, *values;
} narrower[] = {
	{ "format", "deploy", "table json jsonl" },
};
#define N_NARROWER (sizeof narrower / sizeof narrower[0])

/* Is row i the first of its long name? deploy's --model is predict's
 * --model to the shell: one case pattern for both. */
static bool first_of_name(size_t i)
{
	struct hp_opt_info in, earlier;
	hp_options_info(i, &in);
	for (size_t j = 0; j < i; j++) {
		hp_options_info(j, &earlier);
		if (strcmp(earlier.name, in.name) == 0)
			return false;
	}
	return true;
}

/* Does command c take option in? Every command takes --help; cache, which
 * sends nothing, only its own and those that choose its config file. */
static bool takes(const struct hp_command *c, const struct hp_opt_info *in)
{
	static const char cache_globals[] = " config no-config profile help ";
	char word[40];
	snprintf(word, sizeof word, " %s ", in->name);
	if (c->opts == HP_CMD_CACHE && in->commands == (unsigned)HP_CMD_ALL)
		return strstr(cache_globals, word) != NULL;
	return strcmp(in->name, "help") == 0 || (c->opts & in->commands) != 0;
}

/* The words after the command: its verbs; help's are the commands. */
static void verbs_of(const struct hp_command *c, char *buf, size_t len)
{
	size_t n, used = 0;
	const struct hp_command *all = hp_commands(&n);
	buf[0] = '\0';
	if (c->run != hp_cmd_help) {
		snprintf(buf, len, "%s", c->verbs ? c->verbs : "");
		return;
	}
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", all[i].name);
}

/* "-f --format" (sep " ") or "-f|--format" (sep "|") for row in. */
static void print_names(const struct hp_opt_info *in, const char *sep)
{
	if (in->short_name)
		printf("-%c%s", in->short_name, sep);
	printf("--%s", in->name);
}

/* The options of command c as words separated by spaces. */
static void print_option_words(const struct hp_command *c)
{
	bool first = true;
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info in;
		hp_options_info(i, &in);
		if (!takes(c, &in))
			continue;
		printf("%s", first ? "" : " ");
		print_names(&in, " ");
		first = false;
	}
}

/* "name1|name2|..." of the commands (a shell case pattern), or with spaces. */
static void print_command_names(const char *sep)
{
	size_t n;
	const struct hp_command *all = hp_commands(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? sep : "", all[i].name);
}

/* "-m|--model|..." of every option that takes a value (a case pattern). */
static void print_value_options(const char *sep)
{
	bool first = true;
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info in;
		hp_options_info(i, &in);
		if (value_kind(&in) == V_NONE || !first_of_name(i))
			continue;
		printf("%s", first ? "" : sep);
		print_names(&in, sep);
		first = false;
	}
}

/* The values of row in as words to offer: action[V_ENUM], values, enum_end;
 * per command where a command takes fewer (narrower[]). */
static void print_enum_action(const struct hp_opt_info *in, const char *open, const char *const action[5],
                              const char *enum_end)
{
	bool narrowed = false;
	for (size_t k = 0; k < N_NARROWER; k++) {
		if (strcmp(narrower[k].option, in->name) != 0)
			continue;
		if (!narrowed)
			printf(" case $cmd in");
		printf(" %s%s)%s%s%s ;;", open, narrower[k].command, action[V_ENUM], narrower[k].values, enum_end);
		narrowed = true;
	}
	if (narrowed)
		printf(" %s*)", open);
	printf("%s%s%s", action[V_ENUM], in->values, enum_end);
	if (narrowed)
		printf(" ;; esac");
}

/* One case branch per option that takes a value (a name once), in bash or
 * zsh syntax: the script's own text for files, directories, other values; an
 * enum's values stand between action[V_ENUM] and enum_end. */
static void print_value_cases(const char *open, const char *const action[5], const char *enum_end)
{
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info in;
		hp_options_info(i, &in);
		enum value_kind k = value_kind(&in);
		if (k == V_NONE || !first_of_name(i))
			continue;
		printf("\t%s", open);
		print_names(&in, "|");
		printf(")");
		if (k == V_ENUM)
			print_enum_action(&in, open, action, enum_end);
		else
			printf("%s", action[k]);
		printf(" ;;\n");
	}
}

/* Per command: the case branch for an option word, in bash or zsh syntax. */
static void print_option_cases(const char *open, const char *pre, const char *post)
{
	size_t n;
	const struct hp_command *all = hp_commands(&n);
	for (size_t i = 0; i < n; i++) {
		printf("\t\t%s%s) %s", open, all[i].name, pre);
		print_option_words(&all[i]);
		printf("%s ;;\n", post);
	}
}

/* Per command: what a word that is not an option completes to. */
static void print_positional_cases(const char *open, const char *verbs_pre, const char *verbs_end,
                                   const char *files)
{
	size_t n;
	char verbs[512];
	const struct hp_command *all = hp_commands(&n);
	for (size_t i = 0; i < n; i++) {
		verbs_of(&all[i], verbs, sizeof verbs);
		printf("\t%s%s)", open, all[i].name);
		if (*verbs)
			printf("%s%s%s", verbs_pre, verbs, verbs_end);
		if (all[i].opts & HP_CMD_PREDICT)
			printf("%s", files);
		printf(" ;;\n");
	}
}

/* The shared head of the bash and zsh functions: find the command and
 * count the words after it that are not options or their values. */
static void print_scan(const char *first, const char *arr, const char *open)
{
	printf("\tif [ \"$cword\" -gt %s ]; then\n\t\tcase ${%s[%s]} in\n\t\t%s", first, arr, first, open);
	print_command_names("|");
	printf(") cmd=${%s[%s]}; s=$((%s + 1)) ;;\n\t\tesac\n\tfi\n", arr, first, first);
	printf("\ti=$s\n\twhile [ \"$i\" -lt \"$cword\" ]; do\n\t\tcase ${%s[i]} in\n\t\t%s", arr, open);
	print_value_options("|");
	printf(") [ \"${%s[i+1]}\" = \"=\" ] && i=$((i + 1)); i=$((i + 1)) ;;\n", arr);
	printf("\t\t%s-*) ;;\n\t\t%s*) n=$((n + 1)) ;;\n\t\tesac\n\t\ti=$((i + 1))\n\tdone\n", open, open);
}

/* How the bash and the zsh function differ, so one printer writes both. */
struct sh_syntax {
	const char *first;            /* the index of the first word after "hubpredict" */
	const char *words;            /* the array of words */
	const char *open;             /* before a case pattern: "" or "(" */
	const char *action[5];        /* per value_kind; an enum's values follow action[V_ENUM] */
	const char *add, *add_end;    /* around a list of words to offer */
	const char *files;            /* offer file names */
};

static const struct sh_syntax bash_syntax = {
	"1", "COMP_WORDS", "",
	{ "", " _hubpredict_add -W \"", " compopt -o filenames 2>/dev/null; _hubpredict_add -f",
	  " compopt -o filenames 2>/dev/null; _hubpredict_add -d", " :" },
	"_hubpredict_add -W \"", "\"", " compopt -o filenames 2>/dev/null; _hubpredict_add -f",
};

static const struct sh_syntax zsh_syntax = {
	"2", "words", "(",
	{ "", " compadd -- ", " _files", " _files -/", " _message value" },
	"compadd -- ", "", " _files",
};

/* The body of _hubpredict after its first lines, in bash or zsh. */
static void print_sh_body(const struct sh_syntax *sx)
{
	char verbs_pre[64], verbs_end[8];
	print_scan(sx->first, sx->words, sx->open);
	printf("\tcase $prev in\n");
	print_value_cases(sx->open, sx->action, sx->add_end);
	printf("\t%s*)\n\t\tif [[ $cur == -* ]]; then\n\t\t\tcase $cmd in\n", sx->open);
	print_option_cases(sx->open, sx->add, sx->add_end);
	printf("\t\t\tesac\n\t\t\treturn\n\t\tfi\n\t\tif [ \"$cword\" -eq %s ]; then %s", sx->first, sx->add);
	print_command_names(" ");
	printf("%s; fi\n\t\tcase $cmd in\n", sx->add_end);
	snprintf(verbs_pre, sizeof verbs_pre, " [ \"$n\" -eq 0 ] && %s", sx->add);
	snprintf(verbs_end, sizeof verbs_end, "%s;", sx->add_end);
	print_positional_cases(sx->open, verbs_pre, verbs_end, sx->files);
	printf("\t\tesac ;;\n\tesac\n}\n\n");
}

static void print_bash(void)
{
	printf("# bash completion for hubpredict, generated by 'hubpredict completion bash' (%s).\n"
	       "# Load it with: source <(hubpredict completion bash)\n\n"
	       "_hubpredict_add() {\n\tlocal w\n"
	       "\twhile IFS= read -r w; do COMPREPLY+=(\"$w\"); done < <(compgen \"$@\" -- \"$cur\")\n}\n\n"
	       "_hubpredict() {\n"
	       "\tlocal cword=$COMP_CWORD cur=${COMP_WORDS[COMP_CWORD]} prev= cmd=predict s=1 n=0 i\n"
	       "\tCOMPREPLY=()\n"
	       "\t[ \"$cword\" -gt 0 ] && prev=${COMP_WORDS[cword-1]}\n"
	       "\tif [ \"$cur\" = \"=\" ]; then cur=\n"
	       "\telif [ \"$prev\" = \"=\" ] && [ \"$cword\" -gt 1 ]; then prev=${COMP_WORDS[cword-2]}\n\tfi\n",
	       HP_VERSION);
	print_sh_body(&bash_syntax);
	printf("complete -F _hubpredict hubpredict\n");
}

static void print_zsh(void)
{
	printf("#compdef hubpredict\n"
	       "# zsh completion for hubpredict, generated by 'hubpredict completion zsh' (%s).\n"
	       "# Install as _hubpredict in $fpath, or load it with: source <(hubpredict completion zsh)\n\n"
	       "_hubpredict() {\n"
	       "\tlocal cword=$CURRENT cur=${words[CURRENT]} prev=${words[CURRENT-1]} cmd=predict s=2 n=0 i\n"
	       "\tif [[ $cur == --*=* ]]; then prev=${cur%%%%=*}; cur=${cur#*=}; compset -P '*='; fi\n",
	       HP_VERSION);
	print_sh_body(&zsh_syntax);
	printf("if [ \"${funcstack[1]}\" = _hubpredict ]; then\n\t_hubpredict \"$@\"\nelse\n"
	       "\tcompdef _hubpredict hubpredict\nfi\n");
}

/* s inside single quotes for fish: \ and ' escaped. */
static void print_fish_quoted(const char *s)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\\' || *s == '\'')
			putchar('\\');
		putchar(*s);
	}
	putchar('\'');
}

/* Does a narrower[] row give command c its own values of option in? */
static const struct narrower *narrowed_for(const struct hp_command *c, const struct hp_opt_info *in)
{
	for (size_t k = 0; k < N_NARROWER; k++)
		if (strcmp(narrower[k].option, in->name) == 0 && strcmp(narrower[k].command, c->name) == 0)
			return &narrower[k];
	return NULL;
}

/* One fish `complete` line of option in for the commands in `cmds` (names
 * after "__hubpredict_in"), its values `values` when an enum. */
static void print_fish_line(const struct hp_opt_info *in, const char *cmds, const char *values, const char *help)
{
	printf("complete -c hubpredict -n '__hubpredict_in%s'", cmds);
	if (in->short_name)
		printf(" -s %c", in->short_name);
	printf(" -l %s", in->name);
	switch (value_kind(in)) {
	case V_ENUM: printf(" -x -a '%s'", values); break;
	case V_FILE: printf(" -r -F"); break;
	case V_DIR: printf(" -x -a '(__fish_complete_directories (commandline -ct))'"); break;
	case V_OTHER: printf(" -x"); break;
	case V_NONE: break;
	}
	printf(" -d ");
	print_fish_quoted(help);
	printf("\n");
}

/* One `complete` line per option: the commands that take it as condition;
 * a command with values of its own (narrower[]) has a line of its own. */
static void print_fish_options(void)
{
	size_t n;
	const struct hp_command *all = hp_commands(&n);
	for (size_t i = 0; i < hp_options_count(); i++) {
		struct hp_opt_info in;
		char help[256], cmds[256] = "", one[64];
		size_t used = 0;
		hp_options_info(i, &in);
		hp_options_help(i, help, sizeof help);
		for (size_t c = 0; c < n && used < sizeof cmds; c++)
			if (takes(&all[c], &in) && !narrowed_for(&all[c], &in))
				used += (size_t)snprintf(cmds + used, sizeof cmds - used, " %s", all[c].name);
		if (*cmds)
			print_fish_line(&in, cmds, in.values, help);
		for (size_t c = 0; c < n; c++) {
			const struct narrower *nw = takes(&all[c], &in) ? narrowed_for(&all[c], &in) : NULL;
			snprintf(one, sizeof one, " %s", all[c].name);
			if (nw)
				print_fish_line(&in, one, nw->values, help);
		}
	}
}

/* The commands after "hubpredict", each command's verbs, files for INPUT. */
static void print_fish_words(void)
{
	size_t n;
	char verbs[512];
	const struct hp_command *all = hp_commands(&n);
	for (size_t c = 0; c < n; c++) {
		printf("complete -c hubpredict -n __hubpredict_first -a %s -d ", all[c].name);
		print_fish_quoted(all[c].summary);
		printf("\n");
	}
	for (size_t c = 0; c < n; c++) {
		verbs_of(&all[c], verbs, sizeof verbs);
		if (*verbs)
			printf("complete -c hubpredict -n '__hubpredict_in %s; and __hubpredict_no_word' -a '%s'\n",
			       all[c].name, verbs);
		if (all[c].opts & HP_CMD_PREDICT)
			printf("complete -c hubpredict -n '__hubpredict_in %s' -F\n", all[c].name);
	}
}

static void print_fish(void)
{
	printf("# fish completion for hubpredict, generated by 'hubpredict completion fish' (%s).\n"
	       "# Install as hubpredict.fish in a vendor_completions.d directory, or load it with:\n"
	       "#   hubpredict completion fish | source\n\n"
	       "complete -c hubpredict -e\ncomplete -c hubpredict -f\n\n"
	       "function __hubpredict_cmd\n\tset -l t (commandline -opc)\n"
	       "\tif test (count $t) -ge 2; and contains -- $t[2] ", HP_VERSION);
	print_command_names(" ");
	printf("\n\t\techo $t[2]\n\telse\n\t\techo predict\n\tend\nend\n\n"
	       "function __hubpredict_in\n\tcontains -- (__hubpredict_cmd) $argv\nend\n\n"
	       "function __hubpredict_first\n\ttest (count (commandline -opc)) -eq 1\nend\n\n"
	       "# true while no word but options and their values follows the command\n"
	       "function __hubpredict_no_word\n\tset -l t (commandline -opc)\n\tset -l i 3\n\tset -l skip 0\n"
	       "\twhile test $i -le (count $t)\n\t\tif test $skip -eq 1\n\t\t\tset skip 0\n"
	       "\t\telse\n\t\t\tswitch $t[$i]\n\t\t\t\tcase ");
	print_value_options(" ");
	printf("\n\t\t\t\t\tset skip 1\n\t\t\t\tcase '-*'\n\t\t\t\tcase '*'\n\t\t\t\t\treturn 1\n\t\t\tend\n"
	       "\t\tend\n\t\tset i (math $i + 1)\n\tend\nend\n\n");
	print_fish_words();
	print_fish_options();
}

static void usage(void)
{
	printf("Usage: hubpredict completion bash|zsh|fish\n"
	       "Print a completion script for the shell on stdout: the commands, each command's\n"
	       "options and verbs, the values of --format, --api and the like, and file names\n"
	       "for INPUT and FILE options. Load it for the running shell with\n"
	       "  bash: source <(hubpredict completion bash)\n"
	       "  zsh:  source <(hubpredict completion zsh)   (after compinit)\n"
	       "  fish: hubpredict completion fish | source\n"
	       "or install it where the shell looks (cmake --install and the .deb do).\n");
	hp_commands_usage();
}

int hp_cmd_completion(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		usage();
	else if (argc == 2 && strcmp(argv[1], "bash") == 0)
		print_bash();
	else if (argc == 2 && strcmp(argv[1], "zsh") == 0)
		print_zsh();
	else if (argc == 2 && strcmp(argv[1], "fish") == 0)
		print_fish();
	else {
		if (argc < 2)
			hp_msg_error("completion needs a shell: bash, zsh or fish");
		else if (argc > 2)
			hp_msg_error("completion takes one shell, not '%s'", argv[2]);
		else
			hp_msg_error("'%s': no completion for that shell; bash, zsh or fish", argv[1]);
		return HP_EXIT_USAGE;
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? HP_EXIT_OK : HP_EXIT_OUTPUT;
}
