/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vlun-alua: show which blade's path is Active/Optimized for each volume of a shared pool,
 * and move it (with the volume's ownership) to another blade.  See vlun-alua(8) and
 * docs/alua.md.  It talks to the local handler's control socket (ctlsock.h); the handler
 * does the work, this tool resolves names through vlun.conf and reports. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alua-answer.h"
#include "ctlsock.h"
#include "cli.h"
#include "json.h"
#include "tconf.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NOTFOUND = 3,
	EXIT_BUSY = 4,    /* move: the owner did not let go (retry with --force) */
	EXIT_CHECK = 6,   /* status: a blade disagrees, is unreachable or transitioning */
	EXIT_TIMEOUT = 8, /* move: some blade did not confirm the new state in time */
	EXIT_HOSTDOWN = 9 /* move: the target blade is down or does not serve the pool */
};

#define CONF_DEFAULT "/etc/vlun/vlun.conf"
#define TIMEOUT_DEFAULT_MS 30000
/* The handler takes 100-600000 ms, but waits up to twice the timeout (with force) plus 3 s,
 * and ctl_request gives up on an answer after 600 s. */
#define TIMEOUT_MIN_MS 100
#define TIMEOUT_MAX_S 240
/* Volumes per alua-move request: the answer (at most CTL_MSG_MAX - 1 bytes, about 520 per
 * volume at most: name, numbers, lagging list, why) must fit, and so must the request
 * (64 words in 4096 bytes, handler/control/ctlsock.c; VL_TAKE_MAX = 64 volumes). */
#define MOVE_VOLS_MAX 30

static struct {
	const char *conf_arg; /* -c FILE */
	const char *conf_file;
	bool have_conf;
	char conf_why[512]; /* why there is none */
	struct tconf conf;
	bool force;
	const char *vm, *to, *timeout;
} g;

enum { O_TO = 1 << 0, O_TIMEOUT = 1 << 1, O_FORCE = 1 << 2, O_VM = 1 << 3 };
static const char *const opt_names[] = {"--to", "--timeout", "--force", "--vm"};

/* human output on stdout: not with --json or --quiet */
/* ---- help ---- */

static const char usage_text[] =
	"Usage: vlun-alua [OPTIONS] status [VOLUME... | --vm VM]\n"
	"       vlun-alua [OPTIONS] move (VOLUME... | --vm VM) --to BLADE [--timeout S]\n"
	"                 [--force]\n"
	"  status  each volume's owner and epoch, and which blade every blade reports\n"
	"          Active/Optimized (! disagrees with the owner, ? unreachable,\n"
	"          ~ transitioning); default: every pool of vlun.conf\n"
	"  move    make BLADE the owner and every blade report it Active/Optimized;\n"
	"          safe to repeat (a volume already there is left alone)\n"
	"VOLUME: POOL/VOLUME, or a volume or export name of vlun.conf; --vm VM: every\n"
	"export of the VM ([export] vm). BLADE: a blade name or host id, or 'here'\n"
	"(the blade this runs on).\n"
	"Options:\n"
	"  -c, --config FILE  vlun.conf (default $VLUN_CONF, else " CONF_DEFAULT ")\n"
	"  --to BLADE         move: the new owner\n"
	"  --timeout S        move: seconds the blades have to confirm (default 30)\n"
	"  --force            move: take the lease even if the owner does not let go\n"
	"                     (sanlock kills the owner's tcmu-runner if it must)\n"
	"  --json             machine-readable output;  -q, --quiet  nothing on success\n"
	"  -h, --help         this help;  --version  print the version\n"
	"Exit codes: 0 ok (moved or already there), 1 failed (no handler, garbled\n"
	"  answer, ...), 2 usage, 3 volume/VM/pool/blade not found, 4 the owner did not\n"
	"  let go (retry with --force), 6 status found problems, 8 some blade did not\n"
	"  confirm in time (the move may be done; re-run it), 9 the target blade is\n"
	"  down or does not serve the pool.\n";

/* ---- a list of names for messages: "a, b, c and 4 more" ---- */

struct names {
	char buf[1024];
	size_t len, n;
};

static void names_add(struct names *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void names_add(struct names *l, const char *fmt, ...)
{
	if (l->n++ >= 12)
		return;
	char one[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	int k = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s%s", l->len ? ", " : "", one);
	if (k > 0)
		l->len = l->len + (size_t)k < sizeof(l->buf) ? l->len + (size_t)k : sizeof(l->buf) - 1;
}

static const char *names_str(struct names *l, const char *none)
{
	if (l->n == 0)
		return none;
	if (l->n > 12) {
		size_t k = (size_t)snprintf(l->buf + l->len, sizeof(l->buf) - l->len, " and %zu more",
					    l->n - 12);
		l->len += k < sizeof(l->buf) - l->len ? k : 0;
		l->n = 12; /* once */
	}
	return l->buf;
}

/* ---- vlun.conf ---- */

static int load_conf(void)
{
	const char *f = g.conf_arg;
	if (!f && (f = getenv("VLUN_CONF")) && !*f)
		f = NULL;
	g.conf_file = f ? f : CONF_DEFAULT;
	struct tconf_errs e;
	memset(&e, 0, sizeof(e));
	int r = tconf_parse(g.conf_file, &g.conf, &e);
	if (r == 0) {
		g.have_conf = true;
		return 0;
	}
	if (r == -EINVAL) {
		size_t first = strcspn(e.buf, "\n");
		return cli_fail(EXIT_USAGE, "%s is not a valid vlun.conf: %.*s%s (check it with "
					"'vlun-config check %s', or name another with -c FILE)",
			    g.conf_file, (int)first, e.buf, e.count > 1 ? " (and more)" : "", g.conf_file);
	}
	if (g.conf_arg)
		return cli_fail(EXIT_NOTFOUND, "cannot read %s: %s", g.conf_file, strerror(-r));
	snprintf(g.conf_why, sizeof(g.conf_why), "%s: %s", g.conf_file, strerror(-r));
	return 0;
}

static const struct tconf_blade *conf_blade_by_host(uint32_t host)
{
	if (!g.have_conf)
		return NULL;
	for (size_t i = 0; i < g.conf.nr_blades; i++)
		if (g.conf.blades[i].host_id == host)
			return &g.conf.blades[i];
	return NULL;
}

static const struct tconf_export *conf_export(const char *name)
{
	for (size_t i = 0; i < g.conf.nr_exports; i++)
		if (!strcmp(g.conf.exports[i].name, name))
			return &g.conf.exports[i];
	return NULL;
}

/* ---- the volumes a command is about ---- */

struct target {
	char pool[ALUA_NAME_MAX + 1], vol[ALUA_NAME_MAX + 1];
};

struct targets {
	struct target *v;
	size_t n;
	/* the pools, in the order they first appear */
	char (*pools)[ALUA_NAME_MAX + 1];
	size_t nr_pools;
};

static int targets_add(struct targets *t, const char *pool, const char *vol)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].pool, pool) && !strcmp(t->v[i].vol, vol))
			return 0;
	struct target *nv = realloc(t->v, (t->n + 1) * sizeof(*nv));
	if (!nv)
		return cli_fail(EXIT_FAILED, "out of memory");
	t->v = nv;
	snprintf(t->v[t->n].pool, sizeof(t->v[t->n].pool), "%s", pool);
	snprintf(t->v[t->n].vol, sizeof(t->v[t->n].vol), "%s", vol);
	t->n++;
	for (size_t i = 0; i < t->nr_pools; i++)
		if (!strcmp(t->pools[i], pool))
			return 0;
	char (*np)[ALUA_NAME_MAX + 1] = realloc(t->pools, (t->nr_pools + 1) * sizeof(*np));
	if (!np)
		return cli_fail(EXIT_FAILED, "out of memory");
	t->pools = np;
	snprintf(t->pools[t->nr_pools++], ALUA_NAME_MAX + 1, "%s", pool);
	return 0;
}

static void targets_free(struct targets *t)
{
	free(t->v);
	free(t->pools);
	memset(t, 0, sizeof(*t));
}

static int no_conf(const char *what)
{
	return cli_fail(EXIT_NOTFOUND,
		    "%s, and there is no vlun.conf to look it up in (%s): give POOL/VOLUME, or the "
		    "file with -c FILE",
		    what, g.conf_why);
}

static int add_volume_arg(struct targets *t, const char *arg)
{
	const char *slash = strchr(arg, '/');
	if (slash) {
		size_t pl = (size_t)(slash - arg);
		if (!alua_name_ok(arg, pl) || !alua_name_ok(slash + 1, strlen(slash + 1)))
			return cli_usage("'%s' is not POOL/VOLUME (names: 1-%d of A-Z a-z 0-9 _ - ., "
					   "not starting with . or -)",
					   arg, ALUA_NAME_MAX);
		char pool[ALUA_NAME_MAX + 1];
		memcpy(pool, arg, pl);
		pool[pl] = 0;
		return targets_add(t, pool, slash + 1);
	}
	if (!alua_name_ok(arg, strlen(arg)))
		return cli_usage("'%s' is not POOL/VOLUME, a volume name or an export name", arg);
	if (!g.have_conf) {
		char what[160];
		snprintf(what, sizeof(what), "'%s' is not POOL/VOLUME", arg);
		return no_conf(what);
	}
	const struct tconf_volume *v = tconf_volume(&g.conf, arg);
	const struct tconf_export *x = conf_export(arg);
	if (v && x && strcmp(x->volume, v->name))
		return cli_usage("'%s' is a volume and also the export of volume %s in %s: give "
				   "POOL/VOLUME",
				   arg, x->volume, g.conf_file);
	if (!v && x)
		v = tconf_volume(&g.conf, x->volume);
	if (!v) {
		struct names vn = {0}, xn = {0};
		for (size_t i = 0; i < g.conf.nr_volumes; i++)
			names_add(&vn, "%s", g.conf.volumes[i].name);
		for (size_t i = 0; i < g.conf.nr_exports; i++)
			names_add(&xn, "%s", g.conf.exports[i].name);
		return cli_fail(EXIT_NOTFOUND, "no volume or export '%s' in %s (volumes: %s; exports: %s)",
			    arg, g.conf_file, names_str(&vn, "none"), names_str(&xn, "none"));
	}
	return targets_add(t, v->pool, v->name);
}

static int add_vm(struct targets *t, const char *vm)
{
	if (!alua_name_ok(vm, strlen(vm)))
		return cli_usage("'%s' is not a VM name (1-%d of A-Z a-z 0-9 _ - ., not starting "
				   "with . or -)",
				   vm, ALUA_NAME_MAX);
	if (!g.have_conf) {
		char what[160];
		snprintf(what, sizeof(what), "--vm %s needs the exports of vlun.conf", vm);
		return no_conf(what);
	}
	size_t n = tconf_vm_exports(&g.conf, vm, NULL, 0);
	if (n == 0) {
		struct names vms = {0};
		for (size_t i = 0; i < g.conf.nr_exports; i++) {
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				seen = !strcmp(g.conf.exports[j].vm, g.conf.exports[i].vm);
			if (!seen)
				names_add(&vms, "%s", g.conf.exports[i].vm);
		}
		return cli_fail(EXIT_NOTFOUND, "no export of VM '%s' in %s (VMs: %s)", vm, g.conf_file,
			    names_str(&vms, "none"));
	}
	const struct tconf_export **xs = calloc(n, sizeof(*xs));
	if (!xs)
		return cli_fail(EXIT_FAILED, "out of memory");
	n = tconf_vm_exports(&g.conf, vm, xs, n);
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		const struct tconf_volume *v = tconf_volume(&g.conf, xs[i]->volume);
		r = v ? targets_add(t, v->pool, v->name)
		      : cli_fail(EXIT_NOTFOUND, "[export %s] names volume %s, which %s does not define",
			     xs[i]->name, xs[i]->volume, g.conf_file);
	}
	free(xs);
	return r;
}

static int collect(struct targets *t, int argc, char **argv)
{
	if (g.vm && argc)
		return cli_usage("give VOLUME... or --vm VM, not both");
	if (g.vm)
		return add_vm(t, g.vm);
	int r = 0;
	for (int i = 0; i < argc && !r; i++)
		r = add_volume_arg(t, argv[i]);
	return r;
}

/* ---- talking to the handler ---- */

static char answer[CTL_MSG_MAX];
/* The answer filled answer[]: it may have been cut short (the handler cuts its answers at
 * CTL_MSG_MAX - 1 bytes, ctl_request at the buffer).  Then its last record is dropped. */
static bool truncated;

/* Send REQ.  Returns 0 with the handler's code in *code and its text in answer[], or an
 * exit code after saying why there is no answer (what_if_lost: for a move, whether it
 * may have happened). */
static int request(const char *req, const char *pool, const char *what_if_lost, int *code)
{
	const char *path = ctl_socket_path();
	struct stat st;
	char reason[256] = "";
	if (stat(path, &st))
		snprintf(reason, sizeof(reason), "%s", strerror(errno));
	else if (!S_ISSOCK(st.st_mode))
		snprintf(reason, sizeof(reason), "not a socket");
	int r = 0;
	if (!reason[0]) {
		answer[0] = 0;
		r = ctl_request(req, answer, sizeof(answer));
		/* ctl_request could not connect: "... no vlun handler answers on PATH (WHY)" */
		const char *p = alua_is_records(answer) ? NULL : strstr(answer, "no vlun handler answers on ");
		if (r < 0 && p) {
			const char *open = strstr(p, path);
			open = open ? open + strlen(path) : p;
			if (*open == ' ')
				open++;
			size_t n = strlen(open);
			if (n >= 2 && open[0] == '(' && open[n - 1] == ')')
				snprintf(reason, sizeof(reason), "%.*s", (int)(n - 2), open + 1);
			else
				snprintf(reason, sizeof(reason), "%s", strerror(-r));
		}
	}
	if (reason[0]) {
		if (strstr(reason, "ermission"))
			return cli_fail(EXIT_FAILED, "cannot talk to the vlun handler on %s (%s): only root may; run vlun-alua as root",
				    path, reason);
		return cli_fail(EXIT_FAILED,
			    "no vlun handler answers on %s (%s): start tcmu-runner on this blade "
			    "(systemctl start tcmu-runner), and check that this node is a blade of "
			    "pool %s ($VLUN_CTL_SOCKET names another socket)",
			    path, reason, pool);
	}
	if (r == -EIO && (strstr(answer, "no answer from the vlun handler") || strstr(answer, "writing to ")))
		return cli_fail(EXIT_FAILED, "%s: the vlun handler on %s closed the connection without an answer%s",
			    req, path, what_if_lost);
	if (r == -EPROTO && strstr(answer, "garbled answer"))
		return cli_fail(EXIT_FAILED, "%s%s", answer, what_if_lost);
	truncated = strlen(answer) >= sizeof(answer) - 1;
	if (truncated && alua_is_records(answer)) {
		char *last = strrchr(answer, ';');
		if (!last)
			return cli_fail(EXIT_FAILED, "garbled answer from the vlun handler to '%s': one record "
						 "of %zu bytes%s",
				    req, sizeof(answer) - 1, what_if_lost);
		*last = 0;
	}
	if (r == -EPERM)
		return cli_fail(EXIT_FAILED, "the vlun handler refused '%s': %s (run vlun-alua as root)", req,
			    answer);
	*code = r;
	return 0;
}

/* ---- status ---- */

struct pool_status {
	char name[ALUA_NAME_MAX + 1];
	bool have;
	bool cut; /* the answer was cut short: volumes after the last are missing */
	struct alua_answer a;
};

/* alua-status POOL into *ps.  0, or an exit code (said); EXIT_NOTFOUND quietly when
 * quiet_enoent and the handler does not serve the pool or has no ALUA states for it */
static int pool_status(const char *pool, struct pool_status *ps, bool quiet_enoent)
{
	char req[ALUA_NAME_MAX + 32];
	int code, r;
	snprintf(ps->name, sizeof(ps->name), "%s", pool);
	snprintf(req, sizeof(req), "alua-status %s", pool);
	if ((r = request(req, pool, "", &code)))
		return r;
	if (code == -ENOENT || (code == -EOPNOTSUPP && quiet_enoent)) {
		if (quiet_enoent)
			return EXIT_NOTFOUND;
		return cli_fail(EXIT_NOTFOUND, "pool %s: %s (is this node a blade of pool %s? 'vlun-alua status' "
					   "lists the pools of vlun.conf served here)",
			    pool, answer, pool);
	}
	if (code)
		return cli_fail(code == -EINVAL ? EXIT_USAGE : EXIT_FAILED, "pool %s: alua-status failed: %s (%s)",
			    pool, answer[0] ? answer : strerror(-code), strerror(-code));
	char err[320];
	if (!alua_is_records(answer))
		return cli_fail(EXIT_FAILED, "garbled answer from the vlun handler to '%s': no records: %.100s", req,
			    answer);
	r = alua_parse(answer, sizeof(answer), ALUA_STATUS, &ps->a, err, sizeof(err));
	if (r)
		return cli_fail(EXIT_FAILED, "garbled answer from the vlun handler to '%s': %s", req, err);
	if (ps->a.nr_blades == 0) {
		alua_answer_free(&ps->a);
		return cli_fail(EXIT_FAILED, "garbled answer from the vlun handler to '%s': no blade records", req);
	}
	ps->have = true;
	ps->cut = truncated;
	return 0;
}

/* a blade's name: as it calls itself in the pool, else from vlun.conf; NULL if unknown */
static const char *blade_name(const struct pool_status *ps, uint32_t host)
{
	const struct alua_blade *b = ps && ps->have ? alua_find_blade(&ps->a, host) : NULL;
	if (b && b->name[0])
		return b->name;
	const struct tconf_blade *cb = conf_blade_by_host(host);
	return cb ? cb->name : NULL;
}

/* "blade NAME (host N)", "host N", or "nobody" (host 0); "NAME (host N)" when short */
static const char *label(const struct pool_status *ps, uint32_t host, bool shrt, char *buf, size_t n)
{
	const char *name = blade_name(ps, host);
	if (host == 0)
		snprintf(buf, n, "nobody");
	else if (name)
		snprintf(buf, n, "%s%s (host %u)", shrt ? "" : "blade ", name, host);
	else
		snprintf(buf, n, "host %u", host);
	return buf;
}

static const char *host_label(const struct pool_status *ps, uint32_t host, char *buf, size_t n)
{
	return label(ps, host, false, buf, n);
}

static const char *short_label(const struct pool_status *ps, uint32_t host, char *buf, size_t n)
{
	return label(ps, host, true, buf, n);
}

static const char *age_str(const struct alua_blade *b, char *buf, size_t n)
{
	if (!b->has_age)
		snprintf(buf, n, "-");
	else if (b->age_ms < 1000)
		snprintf(buf, n, "%" PRIu64 " ms", b->age_ms);
	else if (b->age_ms < 600000)
		snprintf(buf, n, "%.1f s", (double)b->age_ms / 1000);
	else
		snprintf(buf, n, "%" PRIu64 " min", b->age_ms / 60000);
	return buf;
}

static bool in_list(const uint32_t *l, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == h)
			return true;
	return false;
}

struct judged {
	bool exports, reachable, moving, agrees;
	char mark; /* ' ', '?', '~', '!' */
};

static struct judged judge(const struct pool_status *ps, const struct alua_vol *v,
			   const struct alua_state *s)
{
	struct judged j = {0};
	const struct alua_blade *b = alua_find_blade(&ps->a, s->host);
	j.exports = s->ao != ALUA_AO_NOT_EXPORTED;
	j.reachable = b && b->answering && (!b->has_alive || b->alive);
	j.moving = in_list(v->moving, v->nr_moving, s->host);
	j.agrees = !j.exports || (uint32_t)s->ao == v->owner;
	j.mark = !j.exports ? ' ' : !j.reachable ? '?' : j.moving ? '~' : !j.agrees ? '!' : ' ';
	return j;
}

/* how many of v's blades are marked (plus 1 when a blade moves it but reports nothing) */
static unsigned vol_problems(const struct pool_status *ps, const struct alua_vol *v)
{
	unsigned n = 0;
	for (size_t i = 0; i < v->nr_states; i++)
		n += judge(ps, v, &v->states[i]).mark != ' ';
	for (size_t i = 0; i < v->nr_moving; i++) {
		bool listed = false;
		for (size_t k = 0; k < v->nr_states && !listed; k++)
			listed = v->states[k].host == v->moving[i];
		n += !listed;
	}
	return n;
}

static bool wanted(const struct targets *t, const char *pool, const char *vol)
{
	if (!t->n)
		return true;
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].pool, pool) && !strcmp(t->v[i].vol, vol))
			return true;
	return false;
}

static void print_status_json(struct pool_status *ps, size_t np, const struct targets *t,
			      unsigned bad, int code)
{
	struct json j;
	json_begin(&j, stdout);
	json_obj_open(&j, NULL);
	json_arr_open(&j, "pools");
	for (size_t p = 0; p < np; p++) {
		json_obj_open(&j, NULL);
		json_str(&j, "name", ps[p].name);
		json_bool(&j, "served", ps[p].have);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_arr_open(&j, "blades");
	for (size_t p = 0; p < np; p++)
		for (size_t i = 0; ps[p].have && i < ps[p].a.nr_blades; i++) {
			const struct alua_blade *b = &ps[p].a.blades[i];
			json_obj_open(&j, NULL);
			json_str(&j, "pool", ps[p].name);
			json_str(&j, "name", blade_name(&ps[p], b->host));
			json_u64(&j, "host_id", b->host);
			if (b->has_alive)
				json_bool(&j, "alive", b->alive);
			json_bool(&j, "answering", b->answering);
			if (b->has_age)
				json_u64(&j, "age_ms", b->age_ms);
			json_bool(&j, "local", b->local);
			json_obj_close(&j);
		}
	json_arr_close(&j);
	json_arr_open(&j, "volumes");
	for (size_t p = 0; p < np; p++)
		for (size_t i = 0; ps[p].have && i < ps[p].a.nr_vols; i++) {
			const struct alua_vol *v = &ps[p].a.vols[i];
			if (!wanted(t, ps[p].name, v->name))
				continue;
			json_obj_open(&j, NULL);
			json_str(&j, "pool", ps[p].name);
			json_str(&j, "name", v->name);
			json_u64(&j, "owner", v->owner);
			json_str(&j, "owner_name", v->owner ? blade_name(&ps[p], v->owner) : NULL);
			json_u64(&j, "epoch", v->epoch);
			json_bool(&j, "consistent", vol_problems(&ps[p], v) == 0);
			json_arr_open(&j, "moving");
			for (size_t k = 0; k < v->nr_moving; k++)
				json_u64(&j, NULL, v->moving[k]);
			json_arr_close(&j);
			json_arr_open(&j, "states");
			for (size_t k = 0; k < v->nr_states; k++) {
				const struct alua_state *s = &v->states[k];
				struct judged jd = judge(&ps[p], v, s);
				json_obj_open(&j, NULL);
				json_str(&j, "blade", blade_name(&ps[p], s->host));
				json_u64(&j, "host_id", s->host);
				json_bool(&j, "exports", jd.exports);
				json_u64(&j, "reports_ao", jd.exports ? (uint64_t)s->ao : 0);
				json_bool(&j, "agrees", jd.agrees);
				json_bool(&j, "reachable", jd.reachable);
				json_bool(&j, "moving", jd.moving);
				json_obj_close(&j);
			}
			json_arr_close(&j);
			json_obj_close(&j);
		}
	json_arr_close(&j);
	json_u64(&j, "problems", bad);
	json_u64(&j, "exit_code", (uint64_t)code);
	json_obj_close(&j);
	json_end(&j);
}

static void print_status(struct pool_status *ps, size_t np, const struct targets *t)
{
	char a[64], b[96], c[96];
	for (size_t p = 0; p < np; p++) {
		if (!ps[p].have)
			continue;
		const struct alua_answer *an = &ps[p].a;
		const struct alua_blade *local = NULL;
		for (size_t i = 0; i < an->nr_blades && !local; i++)
			local = an->blades[i].local ? &an->blades[i] : NULL;
		cli_out("%sPool %s%s%s:\n", p ? "\n" : "", ps[p].name, local ? ", as seen from " : "",
		    local ? short_label(&ps[p], local->host, b, sizeof(b)) : "");
		bool alive = false; /* a column when the handler tells */
		for (size_t i = 0; i < an->nr_blades; i++)
			alive |= an->blades[i].has_alive;
		cli_out("  %-20s %5s  %s%-9s  %s\n", "BLADE", "HOST", alive ? "ALIVE  " : "", "ANSWERING",
		    "LAST CHANGE");
		for (size_t i = 0; i < an->nr_blades; i++) {
			const struct alua_blade *x = &an->blades[i];
			const char *name = blade_name(&ps[p], x->host);
			cli_out("  %-20s %5u  %s%-9s  %s%s%s\n", name ? name : "-", x->host,
			    !alive ? "" : !x->has_alive ? "-      " : x->alive ? "yes    " : "no     ",
			    x->answering ? "yes" : "no", age_str(x, a, sizeof(a)), x->has_age ? " ago" : "",
			    x->local ? "  (this blade)" : "");
		}
		for (size_t i = 0; i < an->nr_vols; i++) {
			const struct alua_vol *v = &an->vols[i];
			if (!wanted(t, ps[p].name, v->name))
				continue;
			cli_out("%s/%s: owner %s, epoch %" PRIu64 "%s\n", ps[p].name, v->name,
			    short_label(&ps[p], v->owner, b, sizeof(b)), v->epoch,
			    v->owner ? "" : " (nobody holds its lease)");
			for (size_t k = 0; k < v->nr_states; k++) {
				const struct alua_state *s = &v->states[k];
				struct judged jd = judge(&ps[p], v, s);
				short_label(&ps[p], s->host, b, sizeof(b));
				if (!jd.exports) {
					cli_out("    %-28s does not export it\n", b);
					continue;
				}
				if (s->ao)
					short_label(&ps[p], (uint32_t)s->ao, c, sizeof(c));
				else
					snprintf(c, sizeof(c), "no blade");
				const char *why = jd.mark == '?'  ? ": unreachable (not alive or not answering)"
						  : jd.mark == '~' ? ": transitioning (moving the volume)"
						  : jd.mark == '!' ? ": disagrees with the owner"
								   : "";
				cli_out("  %c %-28s reports %s Active/Optimized%s\n", jd.mark, b, c, why);
			}
			for (size_t k = 0; k < v->nr_moving; k++) {
				bool listed = false;
				for (size_t m = 0; m < v->nr_states && !listed; m++)
					listed = v->states[m].host == v->moving[k];
				if (!listed)
					cli_out("  ~ %-28s transitioning (moving the volume)\n",
					    short_label(&ps[p], v->moving[k], b, sizeof(b)));
			}
		}
	}
}

static int cmd_status(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("status", O_VM)))
		return r;
	if (g.vm && argc)
		return cli_usage("give VOLUME... or --vm VM, not both");
	if ((r = load_conf()))
		return r;
	struct targets t = {0};
	if ((r = collect(&t, argc, argv))) {
		targets_free(&t);
		return r;
	}
	bool all = t.n == 0; /* every pool of vlun.conf */
	size_t np = all ? (g.have_conf ? g.conf.nr_pools : 0) : t.nr_pools;
	if (all && !g.have_conf) {
		targets_free(&t);
		return no_conf("status without VOLUME lists the pools of vlun.conf");
	}
	if (all && np == 0) {
		targets_free(&t);
		return cli_fail(EXIT_NOTFOUND, "%s defines no pools: give POOL/VOLUME", g.conf_file);
	}
	struct pool_status *ps = calloc(np, sizeof(*ps));
	if (!ps) {
		targets_free(&t);
		return cli_fail(EXIT_FAILED, "out of memory");
	}
	size_t served = 0;
	struct names skipped = {0};
	for (size_t p = 0; p < np && !r; p++) {
		const char *pool = all ? g.conf.pools[p].name : t.pools[p];
		r = pool_status(pool, &ps[p], all);
		if (all && r == EXIT_NOTFOUND) { /* a pool of another blade */
			snprintf(ps[p].name, sizeof(ps[p].name), "%s", pool);
			names_add(&skipped, "%s", pool);
			r = 0;
		}
		served += ps[p].have;
	}
	/* every volume asked for must exist */
	for (size_t i = 0; !r && i < t.n; i++) {
		struct pool_status *pp = NULL;
		for (size_t p = 0; p < np && !pp; p++)
			pp = !strcmp(ps[p].name, t.v[i].pool) ? &ps[p] : NULL;
		if (pp && !alua_find_vol(&pp->a, t.v[i].vol) && pp->cut) {
			r = cli_fail(EXIT_FAILED, "the handler's answer for pool %s was cut short at %zu bytes "
					      "before volume %s",
				 t.v[i].pool, sizeof(answer) - 1, t.v[i].vol);
		} else if (pp && !alua_find_vol(&pp->a, t.v[i].vol)) {
			struct names vn = {0};
			for (size_t k = 0; k < pp->a.nr_vols; k++)
				names_add(&vn, "%s", pp->a.vols[k].name);
			r = cli_fail(EXIT_NOTFOUND, "no volume %s in pool %s (volumes: %s)", t.v[i].vol,
				 t.v[i].pool, names_str(&vn, "none"));
		}
	}
	if (!r && all && !served)
		r = cli_fail(EXIT_NOTFOUND,
			 "the vlun handler here serves none of the pools of %s (%s): is this node a "
			 "blade of them (vlun-config apply)?",
			 g.conf_file, names_str(&skipped, "none"));
	if (!r) {
		unsigned bad = 0, nv = 0;
		for (size_t p = 0; p < np; p++)
			for (size_t i = 0; ps[p].have && i < ps[p].a.nr_vols; i++)
				if (wanted(&t, ps[p].name, ps[p].a.vols[i].name)) {
					nv++;
					bad += vol_problems(&ps[p], &ps[p].a.vols[i]) != 0;
				}
		r = bad ? EXIT_CHECK : EXIT_OK;
		bool cut = false;
		for (size_t p = 0; p < np; p++)
			cut |= all && ps[p].cut;
		if (cut && !bad)
			r = EXIT_FAILED; /* not every volume could be looked at */
		if (cli.json) {
			print_status_json(ps, np, &t, bad, r);
		} else {
			print_status(ps, np, &t);
			if (skipped.n)
				cli_out("\nNot served here (pools of other blades?): %s\n",
				    names_str(&skipped, ""));
			if (!bad)
				cli_out("\nEvery answering blade agrees on the owner of %s.\n",
				    nv == 1 ? "the volume" : nv ? "every volume" : "every volume (there are none)");
		}
		for (size_t p = 0; p < np; p++)
			if (all && ps[p].cut)
				fprintf(stderr, "vlun-alua: the handler's answer for pool %s was cut short at "
						"%zu bytes: volumes after %s are not shown; name them to see "
						"them\n",
					ps[p].name, sizeof(answer) - 1,
					ps[p].a.nr_vols ? ps[p].a.vols[ps[p].a.nr_vols - 1].name : "the blades");
		if (bad && !cli.json)
			fprintf(stderr,
				"vlun-alua: %u of %u volume(s) need attention (! disagrees with the owner, "
				"? unreachable: start its tcmu-runner or check the blade, ~ transitioning: "
				"look again in a few seconds). 'vlun-alua move VOLUME --to OWNER' writes "
				"every blade's state again (safe to repeat).\n",
				bad, nv);
	}
	for (size_t p = 0; p < np; p++)
		alua_answer_free(&ps[p].a);
	free(ps);
	targets_free(&t);
	return r;
}

/* ---- move ---- */

static int parse_timeout(const char *s, unsigned *ms)
{
	if (!s) {
		*ms = TIMEOUT_DEFAULT_MS;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v * 1000 < TIMEOUT_MIN_MS || v > TIMEOUT_MAX_S ||
	    strpbrk(s, "xXpP"))
		return cli_usage("invalid --timeout '%s': give seconds, %g to %d (e.g. 30 or 2.5)", s,
				   TIMEOUT_MIN_MS / 1000.0, TIMEOUT_MAX_S);
	*ms = (unsigned)llround(v * 1000);
	return 0;
}

/* BLADE: a host id, a blade of vlun.conf, or a blade as the pools' blades call themselves
 * (asking the handler: *ps gets that pool's status) */
static int resolve_blade(const char *arg, const struct targets *t, struct pool_status *ps,
			 uint32_t *host)
{
	if (arg[0] && strspn(arg, "0123456789") == strlen(arg)) { /* a host id */
		char *end;
		errno = 0;
		unsigned long v = strtoul(arg, &end, 10);
		if (*end || errno || v < 1 || v > ALUA_HOST_MAX)
			return cli_usage("invalid --to '%s': give a blade name or its host id, 1 to %d",
					   arg, ALUA_HOST_MAX);
		*host = (uint32_t)v;
		return 0;
	}
	if (!alua_name_ok(arg, strlen(arg)))
		return cli_usage("invalid --to '%s': give a blade name or its host id", arg);
	const struct tconf_blade *b = g.have_conf ? tconf_blade(&g.conf, arg) : NULL;
	if (b) {
		if (!b->host_id)
			return cli_fail(EXIT_NOTFOUND, "[blade %s] in %s has no host_id: add host_id = N "
						   "(its sanlock host id), or give the host id",
				    arg, g.conf_file);
		*host = b->host_id;
		return 0;
	}
	if (!strcmp(arg, "here")) { /* the blade this runs on: the one its handler calls local */
		uint32_t here = 0;
		for (size_t p = 0; p < t->nr_pools; p++) {
			int r = pool_status(t->pools[p], &ps[p], false);
			if (r)
				return r;
			const struct alua_blade *x = NULL;
			for (size_t i = 0; i < ps[p].a.nr_blades && !x; i++)
				x = ps[p].a.blades[i].local ? &ps[p].a.blades[i] : NULL;
			if (!x || (here && x->host != here))
				return cli_fail(EXIT_NOTFOUND, "--to here: this node is not %s blade of pool %s",
						x ? "the same" : "a", t->pools[p]);
			here = x->host;
		}
		*host = here;
		return here ? 0 : cli_fail(EXIT_NOTFOUND, "--to here: no pool to ask");
	}
	struct names known = {0};
	if (g.have_conf)
		for (size_t i = 0; i < g.conf.nr_blades; i++)
			if (g.conf.blades[i].host_id)
				names_add(&known, "%s (host %u)", g.conf.blades[i].name,
					  g.conf.blades[i].host_id);
	for (size_t p = 0; p < t->nr_pools; p++) {
		int r = pool_status(t->pools[p], &ps[p], false);
		if (r)
			return r;
		for (size_t i = 0; i < ps[p].a.nr_blades; i++) {
			const struct alua_blade *x = &ps[p].a.blades[i];
			if (!strcmp(x->name, arg)) {
				*host = x->host;
				return 0;
			}
			if (x->name[0] && !(g.have_conf && tconf_blade(&g.conf, x->name)))
				names_add(&known, "%s (host %u)", x->name, x->host);
		}
	}
	return cli_fail(EXIT_NOTFOUND, "no blade '%s' in %s or among the blades of pool%s %s (blades: %s): "
				   "give a blade name or a host id",
		    arg, g.have_conf ? g.conf_file : "vlun.conf", t->nr_pools > 1 ? "s" : "",
		    t->pools[0], names_str(&known, "none"));
}

static int exit_for_move(int code)
{
	switch (-code) {
	case 0: return EXIT_OK;
	case EBUSY: return EXIT_BUSY;
	case ETIMEDOUT: return EXIT_TIMEOUT;
	case EHOSTDOWN: return EXIT_HOSTDOWN;
	case ENOENT: return EXIT_NOTFOUND;
	case EINVAL: return EXIT_USAGE;
	default: return EXIT_FAILED;
	}
}

/* what happened to one volume */
struct moved {
	const struct target *t;
	bool have; /* a record of the handler */
	struct alua_vol v;
	const char *error; /* the pool's message when there is no record */
};

static const char *const phase_words[ALUA_PHASES] = {
	"the new owner took up the request",
	"the old owner drained, flushed and let go of the lease",
	"the new owner took the lease, re-read the metadata and committed the epoch",
	"every answering blade reports the new owner Active/Optimized",
	"from the request to the last confirmation",
};

static void lagging_str(const struct pool_status *ps, const struct alua_vol *v, char *buf, size_t n)
{
	struct names l = {0};
	char one[96];
	for (size_t i = 0; i < v->nr_lagging; i++)
		names_add(&l, "%s", host_label(ps, v->lagging[i], one, sizeof(one)));
	snprintf(buf, n, "%s", names_str(&l, ""));
}

static void print_moved(const struct pool_status *ps, const struct moved *m)
{
	char a[96], b[96], lag[1100];
	const struct alua_vol *v = &m->v;
	if (!m->have) {
		cli_out("%s/%s: not moved: %s\n", m->t->pool, m->t->vol, m->error);
		return;
	}
	switch (v->result) {
	case ALUA_RES_ALREADY:
		cli_out("%s/%s: already on %s%s", m->t->pool, m->t->vol, host_label(ps, v->to, a, sizeof(a)),
		    v->has_epoch ? "" : "\n");
		if (v->has_epoch)
			cli_out(", epoch %" PRIu64 "\n", v->epoch);
		break;
	case ALUA_RES_MOVED:
		cli_out("%s/%s: %s -> %s, epoch %" PRIu64 "\n", m->t->pool, m->t->vol,
		    host_label(ps, v->from, a, sizeof(a)), host_label(ps, v->to, b, sizeof(b)), v->epoch);
		for (int p = 0; p < ALUA_PHASES; p++)
			if (v->has_phase[p])
				cli_out("    %-8s %6" PRIu64 " ms  %s\n", alua_phase_names[p], v->phase_ms[p],
				    phase_words[p]);
		break;
	default:
		cli_out("%s/%s: not moved: %s\n", m->t->pool, m->t->vol,
		    v->why[0] ? v->why : v->err ? strerror(-v->err) : "the handler gave no reason");
		break;
	}
	if (v->nr_lagging) {
		lagging_str(ps, v, lag, sizeof(lag));
		cli_out("    not confirmed in time by: %s (the move itself is done)\n", lag);
	}
}

static void json_moved(struct json *j, const struct pool_status *ps, const struct moved *m)
{
	json_obj_open(j, NULL);
	json_str(j, "name", m->t->vol);
	json_str(j, "pool", m->t->pool);
	const struct alua_vol *v = &m->v;
	if (!m->have) {
		json_str(j, "result", "failed");
		json_str(j, "error", m->error);
		json_obj_close(j);
		return;
	}
	json_u64(j, "from", v->from);
	if (v->from && blade_name(ps, v->from))
		json_str(j, "from_blade", blade_name(ps, v->from));
	json_u64(j, "to", v->to);
	if (v->to && blade_name(ps, v->to))
		json_str(j, "to_blade", blade_name(ps, v->to));
	json_u64(j, "epoch", v->epoch);
	json_str(j, "result", v->result == ALUA_RES_MOVED	? "moved"
			      : v->result == ALUA_RES_ALREADY ? "already"
							      : "failed");
	json_obj_open(j, "phases_ms");
	for (int p = 0; p < ALUA_PHASES; p++)
		if (v->has_phase[p])
			json_u64(j, alua_phase_names[p], v->phase_ms[p]);
	json_obj_close(j);
	json_arr_open(j, "lagging");
	for (size_t i = 0; i < v->nr_lagging; i++)
		json_u64(j, NULL, v->lagging[i]);
	json_arr_close(j);
	if (v->err)
		json_u64(j, "errno", (uint64_t)-v->err);
	if (v->result == ALUA_RES_FAILED || v->why[0])
		json_str(j, "error", v->why[0] ? v->why : v->err ? strerror(-v->err) : "failed");
	json_obj_close(j);
}

/* The message for a pool whose move did not fully succeed (to stderr, and the JSON error). */
/* The message for a pool whose move did not fully succeed (to stderr, and the JSON error).
 * text: the handler's reason (the first failed volume's why, or its plain answer). */
static void move_error(char *buf, size_t n, int code, const char *pool, const char *to,
		       const char *text, const struct moved *m, size_t nm,
		       const struct pool_status *ps)
{
	char lag[1100] = "", why[ALUA_WHY_MAX + 1];
	for (size_t i = 0; i < nm && !lag[0]; i++)
		if (m[i].have && m[i].v.nr_lagging && !strcmp(m[i].t->pool, pool))
			lagging_str(ps, &m[i].v, lag, sizeof(lag));
	/* the handler's own hint is worded for the socket ("retry with force") */
	snprintf(why, sizeof(why), "%s", text);
	size_t wl = strlen(why);
	static const char hint[] = " (retry with force)";
	if (wl >= sizeof(hint) - 1 && !strcmp(why + wl - (sizeof(hint) - 1), hint))
		why[wl -= sizeof(hint) - 1] = 0;
	while (wl && strchr(". ", why[wl - 1]))
		why[--wl] = 0;
	const char *stop = wl && strchr("?!", why[wl - 1]) ? "" : "."; /* ends a sentence */
	switch (code) {
	case EXIT_BUSY:
		if (g.force)
			snprintf(buf, n, "pool %s: %s (even with --force: look at the owner blade, its "
					 "sanlock and its disks)",
				 pool, why[0] ? why : "the owner did not let go");
		else
			snprintf(buf, n, "pool %s: %s: retry with --force (then sanlock kills the owner's "
					 "tcmu-runner if it still does not let go: every LUN it serves moves "
					 "or stops)",
				 pool, why[0] ? why : "the owner did not let go");
		break;
	case EXIT_TIMEOUT:
		snprintf(buf, n, "pool %s: %s did not confirm the new state in time (--timeout): the move "
				 "itself may be done; re-running it is safe (vlun-alua status shows every "
				 "blade's state)",
			 pool, lag[0] ? lag : "some blade");
		break;
	case EXIT_HOSTDOWN:
		snprintf(buf, n, "pool %s: the target %s is down or does not serve the pool (it is not in "
				 "the pool's lockspace or does not answer)%s%s%s Start its tcmu-runner (and "
				 "vlun-config apply there), or move to another blade",
			 pool, to, why[0] ? ": " : "", why, why[0] ? stop : ".");
		break;
	case EXIT_NOTFOUND:
		snprintf(buf, n, "pool %s: %s (is this node a blade of pool %s? vlun-alua status lists "
				 "what is served here)",
			 pool, why[0] ? why : "not found", pool);
		break;
	default:
		snprintf(buf, n, "pool %s: the move failed: %s", pool, why[0] ? why : "no reason given");
	}
}

static int cmd_move(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("move", O_VM | O_TO | O_TIMEOUT | O_FORCE)))
		return r;
	if (!argc && !g.vm)
		return cli_usage("move needs VOLUME... or --vm VM");
	if (!g.to)
		return cli_usage("move needs --to BLADE (a blade name or host id)");
	unsigned ms = TIMEOUT_DEFAULT_MS;
	if ((r = parse_timeout(g.timeout, &ms)))
		return r;
	if (g.vm && argc)
		return cli_usage("give VOLUME... or --vm VM, not both");
	if ((r = load_conf()))
		return r;
	struct targets t = {0};
	if ((r = collect(&t, argc, argv))) {
		targets_free(&t);
		return r;
	}
	struct pool_status *ps = calloc(t.nr_pools, sizeof(*ps));
	struct moved *m = calloc(t.n, sizeof(*m));
	char (*errs)[2048] = calloc(t.nr_pools, sizeof(*errs));
	uint32_t to = 0;
	if (!ps || !m || !errs) {
		r = cli_fail(EXIT_FAILED, "out of memory");
		goto done;
	}
	if ((r = resolve_blade(g.to, &t, ps, &to)))
		goto done;
	char tolabel[96];
	host_label(&ps[0], to, tolabel, sizeof(tolabel));
	if (!cli.quiet && isatty(STDERR_FILENO)) {
		struct names l = {0};
		for (size_t i = 0; i < t.n; i++)
			if (t.nr_pools > 1)
				names_add(&l, "%s/%s", t.v[i].pool, t.v[i].vol);
			else
				names_add(&l, "%s", t.v[i].vol);
		fprintf(stderr, "moving %s to %s...\n", names_str(&l, ""), tolabel);
	}
	int code_all = EXIT_OK;
	size_t with_record = 0;
	for (size_t i = 0; i < t.n; i++)
		m[i].t = &t.v[i];
	for (size_t p = 0; p < t.nr_pools; p++) {
		const char *pool = t.pools[p];
		size_t next = 0; /* the next of t.v[] to look at */
		for (;;) { /* one request per pool, of at most MOVE_VOLS_MAX volumes */
			size_t idx[MOVE_VOLS_MAX], k = 0;
			char req[(ALUA_NAME_MAX + 1) * (MOVE_VOLS_MAX + 1) + 64];
			size_t len = (size_t)snprintf(req, sizeof(req), "alua-move %s %u %u %s", pool, to,
						      ms, g.force ? "force" : "safe");
			for (; next < t.n && k < MOVE_VOLS_MAX; next++)
				if (!strcmp(t.v[next].pool, pool)) {
					idx[k++] = next;
					len += (size_t)snprintf(req + len, sizeof(req) - len, " %s",
								t.v[next].vol);
				}
			if (!k)
				break;
			int code;
			r = request(req, pool, ": the move may or may not have happened ('vlun-alua status' "
					       "shows where the volumes are; re-running the move is safe)",
				    &code);
			if (r) /* the handler is gone: the other pools would fare no better */
				goto done;
			int ec = exit_for_move(code);
			struct alua_answer an = {0};
			char err[320] = "";
			if (alua_is_records(answer)) {
				r = alua_parse(answer, sizeof(answer), ALUA_MOVE, &an, err, sizeof(err));
			} else if (code == 0) {
				snprintf(err, sizeof(err), "no records: %.100s", answer);
				r = -EPROTO;
			}
			for (size_t q = 0; q < k && !r; q++) {
				struct moved *mm = &m[idx[q]];
				const struct alua_vol *v = alua_find_vol(&an, mm->t->vol);
				if (v) {
					mm->have = true;
					mm->v = *v;
					with_record++;
					/* a volume that failed under code 0 contradicts the code */
					if (code == 0 && v->result == ALUA_RES_FAILED)
						ec = EXIT_FAILED;
				} else if (truncated) {
					mm->error = "the handler's answer was cut short before it: re-run the "
						    "move for it (safe)";
					if (!ec)
						ec = EXIT_FAILED;
				} else if (code == 0) {
					snprintf(err, sizeof(err), "nothing about volume %s", mm->t->vol);
					r = -EPROTO;
				} else {
					mm->error = an.nr_vols ? "the handler gave no result for it"
							       : (answer[0] ? answer : strerror(-code));
				}
			}
			if (r) {
				alua_answer_free(&an);
				r = cli_fail(EXIT_FAILED, "garbled answer from the vlun handler to '%.200s': %s: "
						      "the move may or may not have happened ('vlun-alua "
						      "status' shows where the volumes are; re-running it is "
						      "safe)",
					 req, err);
				goto done;
			}
			/* the pool's message: the first why of a failed volume, else the text */
			char text[ALUA_WHY_MAX + 1];
			snprintf(text, sizeof(text), "%s", an.nr_vols ? "" : answer);
			for (size_t q = 0; q < k && !text[0]; q++)
				if (m[idx[q]].have && m[idx[q]].v.result == ALUA_RES_FAILED)
					snprintf(text, sizeof(text), "%s", m[idx[q]].v.why);
			alua_answer_free(&an);
			for (size_t q = 0; q < k; q++)
				print_moved(&ps[p], &m[idx[q]]);
			if (ec && !errs[p][0]) {
				move_error(errs[p], sizeof(errs[p]), ec, pool, tolabel, text, m, t.n, &ps[p]);
				fflush(stdout);
				fprintf(stderr, "vlun-alua: error: %s\n", errs[p]);
			}
			/* the first failure other than a late confirmation decides the exit code */
			if (ec && ec != EXIT_TIMEOUT && (code_all == EXIT_OK || code_all == EXIT_TIMEOUT))
				code_all = ec;
			else if (ec == EXIT_TIMEOUT && code_all == EXIT_OK)
				code_all = EXIT_TIMEOUT;
		}
	}
	r = code_all;
	if (cli.json) {
		const char *first = NULL;
		for (size_t p = 0; p < t.nr_pools && !first; p++)
			first = errs[p][0] ? errs[p] : NULL;
		if (!with_record && r) {
			json_error(stdout, first ? first : "the move failed", r);
		} else {
			struct json j;
			json_begin(&j, stdout);
			json_obj_open(&j, NULL);
			json_arr_open(&j, "volumes");
			for (size_t i = 0; i < t.n; i++) {
				size_t p = 0;
				while (p + 1 < t.nr_pools && strcmp(t.pools[p], t.v[i].pool))
					p++;
				json_moved(&j, &ps[p], &m[i]);
			}
			json_arr_close(&j);
			if (r && first)
				json_str(&j, "error", first);
			json_u64(&j, "exit_code", (uint64_t)r);
			json_obj_close(&j);
			json_end(&j);
		}
	}
done:
	for (size_t p = 0; ps && p < t.nr_pools; p++)
		alua_answer_free(&ps[p].a);
	free(ps);
	free(m);
	free(errs);
	targets_free(&t);
	return r;
}

/* ---- dispatch ---- */

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"vm", required_argument, NULL, 'm'},
		{"to", required_argument, NULL, 't'},
		{"timeout", required_argument, NULL, 'T'},
		{"force", no_argument, NULL, 'f'},
		{0},
	};
	bool help = false;
	int c;
	cli.prog = "vlun-alua";
	cli.opt_names = opt_names;
	cli.nr_opts = sizeof(opt_names) / sizeof(opt_names[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': g.conf_arg = optarg; break;
		case 'j': cli.json = true; break;
		case 'q': cli.quiet = true; break;
		case 'h': help = true; break;
		case 'V':
			printf("vlun-alua %s (vlun.conf format %d; control requests of docs/alua.md)\n",
			       VLUN_VERSION, TCONF_VERSION);
			return 0;
		case 'm': g.vm = optarg; cli.given |= O_VM; break;
		case 't': g.to = optarg; cli.given |= O_TO; break;
		case 'T': g.timeout = optarg; cli.given |= O_TIMEOUT; break;
		case 'f': g.force = true; cli.given |= O_FORCE; break;
		case ':':
			return cli_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	int ac = argc - optind;
	char **av = argv + optind;
	if (help || ac == 0 || strcmp(av[0], "help") == 0) {
		fputs(usage_text, help || ac ? stdout : stderr);
		return help || ac ? 0 : EXIT_USAGE;
	}
	int (*fn)(int, char **) = !strcmp(av[0], "status") ? cmd_status
				  : !strcmp(av[0], "move") ? cmd_move
							   : NULL;
	if (!fn)
		return cli_usage("unknown command '%s' (status, move)", av[0]);
	int r = fn(ac - 1, av + 1);
	if (g.have_conf)
		tconf_free(&g.conf);
	return r;
}
