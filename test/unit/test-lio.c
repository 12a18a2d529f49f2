/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configfs planner's ALUA groups on a plain directory tree: the owner Active/
 * Optimized, the others Standby; a shared pool's states written only when the group is
 * created (the handler owns them after), a single-blade pool's on every apply; the
 * delays on every group.  (No storage: the planner gets the volumes' serials.) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lio.h"
#include "tconf.h"

static int failures;
static char dir[] = "/tmp/lio-test.XXXXXX";

static void check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	failures += !ok;
}

/* two blades; vs (shared pool sp) owned by b, vl (single-blade pool lp) owned by a */
static const char conf[] =
	"[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\ndemo_mode = yes\n"
	"[blade a]\ntpg = 1\nportals = 127.0.0.1\nhost_id = 1\n"
	"[blade b]\ntpg = 2\nportals = 127.0.0.2\nhost_id = 2\n"
	"[pool sp]\nmembers = /dev/null\nshared = yes\n[pool lp]\nmembers = /dev/zero\n"
	"[volume vs]\npool = sp\nsize = 1G\n[volume vl]\npool = lp\nsize = 1G\n"
	"[export vs]\nvolume = vs\nlun = 0\nowner = b\n[export vl]\nvolume = vl\nlun = 1\nowner = a\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
}

static const char *cat(const char *root, const char *rel, char *buf, size_t n)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "r");
	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)n, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* the action on PATH (relative to root), or NULL */
static const struct lio_action *find(const struct lio_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->a[i].path, path))
			return &p->a[i];
	return NULL;
}

/* the create-time value of attribute NAME of the MKDIR action a, or NULL */
static const char *cattr(const struct lio_action *a, const char *name)
{
	for (int i = 0; a && i < a->nr_attrs; i++)
		if (!strcmp(a->attrs[i].name, name))
			return a->attrs[i].value;
	return NULL;
}

static int plan(struct lio *l, const struct tconf *c, const struct lio_volstate *vs, struct lio_plan *p)
{
	char err[4096] = "";
	int r = lio_plan(l, c, tconf_blade(c, "a"), vs, false, p, err, sizeof(err));
	if (r)
		printf("plan: %s\n", err);
	return r;
}

#define G(vol, blade) "core/" LIO_HBA "/" vol "/alua/" blade

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	char path[256], root[256], state[256], buf[64];
	snprintf(path, sizeof(path), "%s/vlun.conf", dir);
	snprintf(root, sizeof(root), "%s/target", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(root, 0755);
	write_file(path, conf);
	struct tconf c;
	struct tconf_errs e = {0};
	if (tconf_parse(path, &c, &e)) {
		printf("FAIL parse: %s", e.buf);
		return 1;
	}
	struct lio l;
	char err[4096] = "";
	if (lio_open(&l, root, state, err, sizeof(err))) {
		printf("FAIL lio_open: %s\n", err);
		return 1;
	}
	struct lio_volstate vs[2] = {{"0123456789abcdef0123456789abcdef", 1 << 30},
				     {"fedcba9876543210fedcba9876543210", 1 << 30}};
	struct lio_plan p;
	if (plan(&l, &c, vs, &p))
		return 1;
	/* first apply: every group created */
	const struct lio_action *sa = find(&p, G("vs", "a")), *sb = find(&p, G("vs", "b"));
	check(sa && sa->act == LIO_MKDIR && cattr(sa, "alua_access_state") &&
	      !strcmp(cattr(sa, "alua_access_state"), "2") && sb &&
	      !strcmp(cattr(sb, "alua_access_state") ? cattr(sb, "alua_access_state") : "", "0"),
	      "shared pool: the state is written when the group is created (owner 0, other 2)");
	check(sa && sa->nr_attrs == 3 && !strcmp(sa->attrs[0].name, "tg_pt_gp_id") &&
	      !strcmp(sa->attrs[1].name, "alua_access_type") && !strcmp(sa->attrs[2].name, "alua_access_state"),
	      "after the group id and the access type");
	check(!find(&p, G("vs", "a") "/alua_access_state") && !find(&p, G("vs", "b") "/alua_access_state"),
	      "shared pool: no separate state write");
	const struct lio_action *bsa = find(&p, "core/" LIO_HBA "/vs");
	check(bsa && cattr(bsa, "control") &&
	      strstr(cattr(bsa, "control"), ",hw_max_sectors=2048,max_data_area_mb=64"),
	      "backstores take 1 MiB commands (hw_max_sectors 2048) and a 64 MiB ring data area");
	const struct lio_action *la = find(&p, G("vl", "a")), *lb = find(&p, G("vl", "b"));
	check(la && !cattr(la, "alua_access_state") && lb && !cattr(lb, "alua_access_state") &&
	      find(&p, G("vl", "a") "/alua_access_state") && find(&p, G("vl", "b") "/alua_access_state"),
	      "single-blade pool: the state is an attribute of every apply");
	if (lio_apply(&l, &p, err, sizeof(err))) {
		printf("FAIL apply: %s\n", err);
		return 1;
	}
	lio_plan_free(&p);
	static const char *const groups[] = {G("vs", "a"), G("vs", "b"), G("vl", "a"), G("vl", "b")};
	static const char *const want[] = {"2", "0", "0", "2"};
	bool ok = true, delays = true;
	for (int i = 0; i < 4; i++) {
		char a[300];
		snprintf(a, sizeof(a), "%s/alua_access_state", groups[i]);
		ok &= !strcmp(cat(root, a, buf, sizeof(buf)), want[i]);
		snprintf(a, sizeof(a), "%s/nonop_delay_msecs", groups[i]);
		delays &= !strcmp(cat(root, a, buf, sizeof(buf)), "0");
		snprintf(a, sizeof(a), "%s/trans_delay_msecs", groups[i]);
		delays &= !strcmp(cat(root, a, buf, sizeof(buf)), "0");
		snprintf(a, sizeof(a), "%s/implicit_trans_secs", groups[i]);
		delays &= !strcmp(cat(root, a, buf, sizeof(buf)), "10");
	}
	check(ok, "applied: owners active/optimized (0), the other blades standby (2)");
	check(delays, "every group: nonop_delay_msecs 0, trans_delay_msecs 0, implicit_trans_secs 10");
	if (plan(&l, &c, vs, &p))
		return 1;
	check(p.n == 0, "a second plan: nothing to do");
	lio_plan_free(&p);
	/* the states change under us (the handler moved vs; someone wrote vl's) */
	char f[4096];
	snprintf(f, sizeof(f), "%s/" G("vs", "a") "/alua_access_state", root);
	write_file(f, "0\n");
	snprintf(f, sizeof(f), "%s/" G("vs", "b") "/alua_access_state", root);
	write_file(f, "2\n");
	snprintf(f, sizeof(f), "%s/" G("vl", "a") "/alua_access_state", root);
	write_file(f, "2\n");
	snprintf(f, sizeof(f), "%s/" G("vl", "b") "/nonop_delay_msecs", root);
	write_file(f, "100\n");
	if (plan(&l, &c, vs, &p))
		return 1;
	check(!find(&p, G("vs", "a") "/alua_access_state") && !find(&p, G("vs", "b") "/alua_access_state"),
	      "shared pool: a later apply leaves the states alone (never back to the configured owner)");
	const struct lio_action *s = find(&p, G("vl", "a") "/alua_access_state");
	check(s && s->act == LIO_SET && !strcmp(s->value, "0") && !strcmp(s->old, "2"),
	      "single-blade pool: the configured owner's state is written back");
	s = find(&p, G("vl", "b") "/nonop_delay_msecs");
	check(s && !strcmp(s->value, "0") && p.n == 2, "a changed delay is written back; nothing else");
	lio_plan_free(&p);
	/* LIO's persistent-reservation directory under its dbroot */
	char pr[512], db[300], dbf[300];
	struct stat st;
	check(lio_pr_dir(&l, pr, sizeof(pr), err, sizeof(err)) == 0 && pr[0] == 0,
	      "a plain tree without dbroot: nothing to create");
	snprintf(db, sizeof(db), "%s/etc-target\n", dir);
	snprintf(dbf, sizeof(dbf), "%s/dbroot", root);
	write_file(dbf, db);
	check(lio_pr_dir(&l, pr, sizeof(pr), err, sizeof(err)) == 0 && strstr(pr, "/etc-target/pr") &&
	      !stat(pr, &st) && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	      "dbroot's pr/ is created (0700)");
	check(lio_pr_dir(&l, pr, sizeof(pr), err, sizeof(err)) == 0, "and is kept when it exists");
	write_file(dbf, "relative/dir\n");
	check(lio_pr_dir(&l, pr, sizeof(pr), err, sizeof(err)) == -EINVAL && strstr(err, "absolute"),
	      "a dbroot that is not an absolute path is refused");
	write_file(dbf, "/proc/vlun-no-such-dir\n");
	check(lio_pr_dir(&l, pr, sizeof(pr), err, sizeof(err)) < 0 && strstr(err, "persistent reservations"),
	      "a pr/ that cannot be created: an error that says what it is for");
	unlink(dbf);
	lio_close(&l);
	tconf_free(&c);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) {
	}
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
