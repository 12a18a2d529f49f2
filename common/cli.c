#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

#include "json.h"

struct cli cli = {.prog = "vlun"};

static int vfail(int code, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static int vfail(int code, const char *fmt, va_list ap)
{
	char msg[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fflush(stdout); /* in order with what was printed before, when both go to one file */
	fprintf(stderr, "%s: error: %s\n", cli.prog, msg);
	if (cli.json)
		json_error(stdout, msg, code);
	return code;
}

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(code, fmt, ap);
	va_end(ap);
	return r;
}

int cli_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_fail(CLI_EXIT_USAGE, "%s (see '%s --help')", msg, cli.prog);
}

int cli_only_opts(const char *cmd, unsigned allowed)
{
	unsigned bad = cli.given & ~allowed;
	for (unsigned i = 0; i < cli.nr_opts; i++)
		if (bad & (1u << i))
			return cli_usage("%s does not apply to '%s'", cli.opt_names[i], cmd);
	return 0;
}

void cli_out(const char *fmt, ...)
{
	if (cli.json || cli.quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
