/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vlun-config: apply a declarative target configuration to LIO.  See vlun-config(8). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "ctlsock.h"
#include "lio.h"
#include "poolconf.h"
#include "storage.h"
#include "tconf.h"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,   /* apply/clear failed; what ran was rolled back */
	EXIT_USAGE = 2,
	EXIT_INVALID = 3,  /* the configuration file is invalid (nothing touched) */
	EXIT_NOLIO = 4,    /* no LIO/configfs here */
	EXIT_PARTIAL = 5,  /* failed, and some changes could not be rolled back */
};

static struct {
	const char *root, *state, *confdir, *blade;
	bool dry_run, prune;
} g;

static const char usage_text[] =
	"Usage: vlun-config [OPTIONS] COMMAND [FILE]\n"
	"Make LIO (configfs) match a declarative vlun target configuration.\n"
	"\n"
	"Commands:\n"
	"  check FILE        validate FILE (and its secrets file); change nothing\n"
	"  apply FILE        create missing pools and volumes, then bring configfs to the\n"
	"                    state FILE describes, and print what changed\n"
	"  show              the live LIO state as vlun sees it (secrets masked)\n"
	"  clear             remove every configfs object vlun-config manages, nothing else\n"
	"\n"
	"Options:\n"
	"  -n, --dry-run         print the plan, change nothing (apply, clear)\n"
	"      --prune           also remove managed objects FILE no longer describes (apply)\n"
	"  -b, --blade NAME      apply as this blade (default: the blade whose host is this\n"
	"                        machine's host name, or the only blade)\n"
	"      --configfs-root DIR   LIO's configfs directory (default " LIO_DEFAULT_ROOT ")\n"
	"      --state FILE      the managed-objects record (default " LIO_DEFAULT_STATE ")\n"
	"      --config-dir DIR  pool definitions (default $VLUN_CONFIG_DIR or /etc/vlun)\n"
	"  -j, --json            machine-readable output\n"
	"  -q, --quiet           print only errors\n"
	"  -h, --help            this help\n"
	"\n"
	"Exit status: 0 success (also: nothing to change), 1 failed and rolled back,\n"
	"2 usage error, 3 invalid configuration, 4 LIO not available, 5 failed and not\n"
	"everything could be rolled back.  The file format: docs/target-config.md.\n";

static int report(int code, const char *msg)
{
	fprintf(stderr, "vlun-config: %s%s", msg, msg[strlen(msg) ? strlen(msg) - 1 : 0] == '\n' ? "" : "\n");
	if (cli.json)
		json_error(stdout, msg, code);
	return code;
}

static int load(const char *file, struct tconf *c)
{
	struct tconf_errs e = {0};
	int r = tconf_parse(file, c, &e);
	if (r) {
		char head[64];
		snprintf(head, sizeof(head), "%u problem%s in the configuration:\n", e.count,
			 e.count == 1 ? "" : "s");
		fprintf(stderr, "vlun-config: %s%s", head, e.buf);
		if (cli.json) {
			struct json j;
			json_begin(&j, stdout);
			json_obj_open(&j, NULL);
			json_arr_open(&j, "errors");
			for (char *l = e.buf, *nl; *l; l = nl + 1) {
				nl = strchr(l, '\n');
				if (!nl)
					break;
				*nl = 0;
				json_str(&j, NULL, l);
			}
			json_arr_close(&j);
			json_u64(&j, "exit_code", EXIT_INVALID);
			json_obj_close(&j);
			json_end(&j);
		}
		tconf_free(c);
		return r == -EINVAL ? EXIT_INVALID : EXIT_FAILED;
	}
	return 0;
}

static int cmd_check(const char *file)
{
	struct tconf c;
	int r = load(file, &c);
	if (r)
		return r;
	if (cli.json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj_open(&j, NULL);
		json_bool(&j, "valid", true);
		json_u64(&j, "blades", c.nr_blades);
		json_u64(&j, "pools", c.nr_pools);
		json_u64(&j, "volumes", c.nr_volumes);
		json_u64(&j, "hosts", c.nr_hosts);
		json_u64(&j, "exports", c.nr_exports);
		json_obj_close(&j);
		json_end(&j);
	} else if (!cli.quiet) {
		printf("%s: valid (version %u): %zu blade(s), %zu pool(s), %zu volume(s), %zu host(s), "
		       "%zu export(s)\n",
		       file, c.version, c.nr_blades, c.nr_pools, c.nr_volumes, c.nr_hosts, c.nr_exports);
	}
	tconf_free(&c);
	return 0;
}

static int open_lio(struct lio *l)
{
	char err[4300] = "";
	if (lio_open(l, g.root, g.state, err, sizeof(err)))
		return report(EXIT_NOLIO, err);
	return 0;
}

static void print_json_requests(const struct st_request *rq, size_t n, bool sent)
{
	struct json j;
	json_begin(&j, stdout);
	json_arr_open(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		json_obj_open(&j, NULL);
		json_str(&j, "request", rq[i].req);
		if (sent) {
			json_bool(&j, "ok", rq[i].code == 0);
			json_str(&j, "answer", rq[i].answer);
		}
		json_obj_close(&j);
	}
	json_arr_close(&j);
}

static void print_json_result(const struct tconf *c, const struct tconf_blade *b,
			      const struct lio_plan *p, size_t storage_changes, bool dry,
			      const struct st_request *rq, size_t nrq)
{
	fflush(stdout);
	printf("{\"blade\": \"%s\", \"tpg\": %u, \"dry_run\": %s, \"storage_changes\": %zu, "
	       "\"configfs_changes\": ",
	       b ? b->name : "", b ? b->tpg : 0, dry ? "true" : "false", storage_changes);
	fflush(stdout);
	lio_plan_print(p, stdout, true);
	fflush(stdout);
	if (c) {
		printf(", \"handler_requests\": ");
		print_json_requests(rq, nrq, !dry);
	}
	printf(", \"target\": \"%s\"}\n", c ? c->iqn : "");
}

/* The shared pools' ALUA goes to the handler once configfs is up to date (not a change:
 * nothing to roll back).  A handler that does not take it up is worth a warning only:
 * such a volume starts unowned, and the first write through a blade takes it. */
static void send_requests(struct st_request *rq, size_t n)
{
	st_alua_send(rq, n);
	for (size_t i = 0; i < n; i++) {
		const struct st_request *r = &rq[i];
		if (!r->code) {
			if (!cli.quiet && !cli.json)
				printf("  > %s: %s\n", r->req, r->answer);
			continue;
		}
		fprintf(stderr, "vlun-config: warning: %s: %s; %s\n", r->req, r->answer,
			r->claim ? "the volume starts unowned (the first write through a blade takes it)"
				 : "this blade's ALUA states stay as configfs has them until the handler "
				   "writes them");
	}
}

static int cmd_apply(const char *file)
{
	struct tconf c;
	int r = load(file, &c);
	if (r)
		return r;
	struct tconf_errs e = {0};
	const struct tconf_blade *b = tconf_local_blade(&c, g.blade, &e);
	if (!b) {
		tconf_free(&c);
		return report(EXIT_USAGE, e.buf);
	}
	struct lio l;
	if ((r = open_lio(&l))) {
		tconf_free(&c);
		return r;
	}
	struct st_plan sp;
	struct lio_plan lp = {0};
	struct st_request *rq = NULL;
	size_t nrq = 0;
	char err[8192] = "";
	int code = EXIT_OK;
	if ((r = st_plan(&c, b, g.confdir, &sp, &e))) {
		code = report(EXIT_INVALID, e.buf[0] ? e.buf : strerror(-r));
		goto out;
	}
	if ((r = st_alua_requests(&c, b, &rq, &nrq))) {
		code = report(EXIT_FAILED, strerror(-r));
		goto out;
	}
	if (!cli.quiet && !cli.json)
		printf("vlun-config: %s %s as blade %s (TPG %u)%s\n", g.dry_run ? "plan for" : "applying",
		       file, b->name, b->tpg, g.dry_run ? " (dry run: nothing changes)" : "");
	if (!cli.quiet && !cli.json)
		st_plan_print(&c, &sp, stdout);
	/* LIO's persistent-reservation directory first: without it no initiator can register */
	char prdir[4096];
	if (!g.dry_run && (r = lio_pr_dir(&l, prdir, sizeof(prdir), err, sizeof(err)))) {
		code = report(EXIT_FAILED, err);
		goto out;
	}
	if (!g.dry_run && sp.n && (r = st_apply(&c, g.confdir, &sp, &e))) {
		code = report(strstr(e.buf, "could not undo") ? EXIT_PARTIAL : EXIT_FAILED, e.buf);
		goto out;
	}
	if ((r = lio_plan(&l, &c, b, sp.vs, g.prune, &lp, err, sizeof(err)))) {
		struct tconf_errs e2 = {0};
		if (!g.dry_run)
			st_undo(&c, g.confdir, &sp, &e2);
		char msg[16384];
		snprintf(msg, sizeof(msg), "%s%s%s", err, e2.count ? "\n" : "", e2.buf);
		code = report(e2.count ? EXIT_PARTIAL : EXIT_FAILED, msg);
		goto out;
	}
	if (cli.json && g.dry_run) {
		print_json_result(&c, b, &lp, sp.n, true, rq, nrq);
		goto out;
	}
	if (!cli.quiet && !cli.json)
		lio_plan_print(&lp, stdout, false);
	for (size_t i = 0; g.dry_run && !cli.quiet && !cli.json && i < nrq; i++)
		printf("  > %s (to the handler, after the changes)\n", rq[i].req);
	if (g.dry_run) {
		if (!cli.quiet && !cli.json)
			printf("vlun-config: %zu change(s) planned\n", sp.n + lp.n);
		goto out;
	}
	if ((r = lio_apply(&l, &lp, err, sizeof(err)))) {
		struct tconf_errs e2 = {0};
		st_undo(&c, g.confdir, &sp, &e2);
		char msg[16384];
		snprintf(msg, sizeof(msg), "apply failed: %s%s%s", err, e2.count ? "\n" : "", e2.buf);
		code = report(strstr(msg, "could not undo") ? EXIT_PARTIAL : EXIT_FAILED, msg);
		goto out;
	}
	send_requests(rq, nrq);
	if (cli.json)
		print_json_result(&c, b, &lp, sp.n, false, rq, nrq);
	else if (!cli.quiet)
		printf(sp.n + lp.n ? "vlun-config: %zu change(s) applied\n"
				   : "vlun-config: no changes: LIO already matches the file%.0zu\n",
		       sp.n + lp.n);
out:
	free(rq);
	lio_plan_free(&lp);
	st_plan_free(&sp);
	lio_close(&l);
	tconf_free(&c);
	return code;
}

static int cmd_clear(void)
{
	struct lio l;
	int r = open_lio(&l);
	if (r)
		return r;
	struct lio_plan p;
	char err[8192] = "";
	int code = EXIT_OK;
	if ((r = lio_plan_clear(&l, &p))) {
		code = report(EXIT_FAILED, strerror(-r));
	} else if (g.dry_run || p.n == 0) {
		if (cli.json)
			print_json_result(NULL, NULL, &p, 0, g.dry_run, NULL, 0);
		else if (!cli.quiet)
			lio_plan_print(&p, stdout, false),
				printf("vlun-config: %zu object(s) %s\n", p.n, g.dry_run ? "would be removed" : "managed: nothing to remove");
	} else if ((r = lio_apply(&l, &p, err, sizeof(err)))) {
		code = report(EXIT_PARTIAL, err);
	} else if (cli.json) {
		print_json_result(NULL, NULL, &p, 0, false, NULL, 0);
	} else if (!cli.quiet) {
		lio_plan_print(&p, stdout, false);
		printf("vlun-config: removed %zu object(s)\n", p.n);
	}
	lio_plan_free(&p);
	lio_close(&l);
	return code;
}

/* No LIO here, but an appliance VM may serve the target: ask it over the control socket. */
static bool show_remote(void)
{
	size_t n = 1 << 20;
	char *buf = malloc(n);
	if (!buf)
		return false;
	int r = ctl_request(cli.json ? "show" : "show-text", buf, n);
	if (!r) {
		for (char *p = buf; *p; p++)
			if (*p == 0x1f)
				*p = '\n';
		fputs(buf, stdout);
		if (buf[0] && buf[strlen(buf) - 1] != '\n')
			fputc('\n', stdout);
	}
	free(buf);
	return r == 0;
}

static int cmd_show(void)
{
	struct lio l;
	char err[4300] = "";
	int r = lio_open(&l, g.root, g.state, err, sizeof(err));
	if (r && !g.root && show_remote())
		return 0;
	if (r)
		return report(EXIT_NOLIO, err);
	lio_show(&l, stdout, cli.json);
	lio_close(&l);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"prune", no_argument, NULL, 'P'},
		{"blade", required_argument, NULL, 'b'},
		{"configfs-root", required_argument, NULL, 'R'},
		{"state", required_argument, NULL, 'S'},
		{"config-dir", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	int c;
	bool help = false;
	cli.prog = "vlun-config";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":nb:jqh", lo, NULL)) != -1) {
		switch (c) {
		case 'n': g.dry_run = true; break;
		case 'P': g.prune = true; break;
		case 'b': g.blade = optarg; break;
		case 'R': g.root = optarg; break;
		case 'S': g.state = optarg; break;
		case 'C': g.confdir = optarg; break;
		case 'j': cli.json = true; break;
		case 'q': cli.quiet = true; break;
		case 'h': help = true; break;
		case 'V': printf("vlun-config %s (configuration format %d)\n", VLUN_VERSION, TCONF_VERSION);
			return 0;
		case ':': return cli_usage("option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (help) {
		fputs(usage_text, stdout);
		return 0;
	}
	g.confdir = poolconf_dir(g.confdir);
	int ac = argc - optind;
	char **av = argv + optind;
	if (ac == 0)
		return cli_usage("missing command (check, apply, show, clear)");
	const char *cmd = av[0];
	bool needs_file = !strcmp(cmd, "check") || !strcmp(cmd, "apply");
	bool no_file = !strcmp(cmd, "show") || !strcmp(cmd, "clear");
	if (!needs_file && !no_file)
		return cli_usage("unknown command '%s' (check, apply, show, clear)", cmd);
	if (needs_file && ac != 2)
		return cli_usage(ac < 2 ? "%s needs the configuration FILE" : "%s takes one FILE; '%s' is extra",
				   cmd, ac > 2 ? av[2] : "");
	if (no_file && ac != 1)
		return cli_usage("%s takes no arguments; '%s' is extra", cmd, av[1]);
	if (g.prune && strcmp(cmd, "apply"))
		return cli_usage("--prune is an option of apply");
	if (g.dry_run && strcmp(cmd, "apply") && strcmp(cmd, "clear"))
		return cli_usage("--dry-run is an option of apply and clear");
	if (g.blade && strcmp(cmd, "apply"))
		return cli_usage("--blade is an option of apply");
	if (!strcmp(cmd, "check"))
		return cmd_check(av[1]);
	if (!strcmp(cmd, "apply"))
		return cmd_apply(av[1]);
	if (!strcmp(cmd, "show"))
		return cmd_show();
	return cmd_clear();
}
