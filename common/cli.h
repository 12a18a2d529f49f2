/* How vlun's command-line tools report (layer 0, no vlun dependency): an error is one
 * line "PROG: error: MESSAGE" on stderr and, with --json, {"error": ..., "exit_code": N}
 * on stdout; a usage error (exit 2) says where the help is; human output is silenced by
 * --json and --quiet.  A tool fills in `cli` while it parses its options. */
#ifndef VLUN_CLI_H
#define VLUN_CLI_H

#include <stdbool.h>

#define CLI_EXIT_USAGE 2

struct cli {
	const char *prog;	      /* "vlunctl" */
	bool json, quiet;
	unsigned given;		      /* bit i: command-specific option opt_names[i] given */
	const char *const *opt_names; /* for "--x does not apply to 'cmd'" */
	unsigned nr_opts;
};
extern struct cli cli;

/* Report an error; returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a usage error, "... (see 'PROG --help')"; returns CLI_EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error if an option outside `allowed` was given to cmd; else 0. */
int cli_only_opts(const char *cmd, unsigned allowed);
/* Human output on stdout: nothing with --json or --quiet. */
void cli_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
