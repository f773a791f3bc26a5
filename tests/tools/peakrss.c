/* peakrss.c - run a command and write "EXIT MAXRSS_KIB" to a file.
 *
 *   peakrss RESULT_FILE COMMAND [ARGS...]
 *
 * The peak RSS of a child counts the memory of the process it was forked
 * from (Linux carries the high-water mark across exec), so measuring from a
 * Python test inflates it by the interpreter's size. This launcher is small,
 * so what it reports is the command's own peak. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: peakrss RESULT_FILE COMMAND [ARGS...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0)
		return 2;
	FILE *f = fopen(argv[1], "w");
	if (!f)
		return 2;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(f, "%d %ld\n", code, ru.ru_maxrss);
	return fclose(f) == 0 ? 0 : 2;
}
