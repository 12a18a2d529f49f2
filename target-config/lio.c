/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "lio.h"
#include "sysattr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "json.h"
#include "vlun/engine.h"

#define CONFIGFS_MAGIC 0x62656570

/* ---- small helpers ---- */

static int push_str(char ***arr, size_t *n, const char *s)
{
	char **p = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!p)
		return -ENOMEM;
	*arr = p;
	if (!(p[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static bool has_str(char **arr, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(arr[i], s))
			return true;
	return false;
}

static void free_strs(char **arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

static void abspath(const struct lio *l, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", l->root, rel);
}

/* Read an attribute; trailing newline removed.  -errno if unreadable. */
static int rd(const struct lio *l, const char *rel, char *buf, size_t n)
{
	char p[4608];
	abspath(l, rel, p, sizeof(p));
	return sysattr_read(p, buf, n);
}

/* A plain tree has none of the default groups configfs makes (attrib/, wwn/, alua/, lun/,
 * ...): there, parents are created on demand. */
static void fake_parents(const struct lio *l, const char *abs)
{
	if (!l->fake)
		return;
	char p[4608];
	snprintf(p, sizeof(p), "%s", abs);
	for (char *s = p + strlen(l->root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
}

static int wr(const struct lio *l, const char *rel, const char *val)
{
	char p[4608];
	abspath(l, rel, p, sizeof(p));
	fake_parents(l, p);
	int fd = open(p, O_WRONLY | O_CLOEXEC | (l->fake ? O_CREAT | O_TRUNC : 0), 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(val);
	ssize_t k = write(fd, val, len);
	int e = errno;
	if (close(fd) && k >= 0)
		return -errno;
	if (k < 0)
		return -e;
	return (size_t)k == len ? 0 : -EIO;
}

static bool exists(const struct lio *l, const char *rel)
{
	char p[4608];
	struct stat st;
	abspath(l, rel, p, sizeof(p));
	return lstat(p, &st) == 0;
}

/* a fake tree keeps the attribute files we wrote: remove them with the directory */
static int remove_dir(const struct lio *l, const char *rel)
{
	char p[4608];
	abspath(l, rel, p, sizeof(p));
	if (rmdir(p) == 0)
		return 0;
	if (!l->fake || (errno != ENOTEMPTY && errno != EEXIST))
		return -errno;
	DIR *d = opendir(p);
	if (!d)
		return -errno;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) && !r) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char sub[4608];
		snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
		char sp[4608];
		abspath(l, sub, sp, sizeof(sp));
		struct stat st;
		if (lstat(sp, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			r = remove_dir(l, sub);
		} else if (S_ISREG(st.st_mode)) {
			if (unlink(sp))
				r = -errno;
		} else {
			r = -ENOTEMPTY; /* a link: something still refers to this object */
		}
	}
	closedir(d);
	if (!r && rmdir(p))
		r = -errno;
	return r;
}

/* The value an attribute reads back as, in the form it is written. */
static void normalize(const char *name, char *v)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	const char *pfx = NULL;
	if (!strcmp(base, "vpd_unit_serial"))
		pfx = "T10 VPD Unit Serial Number:";
	else if (!strcmp(base, "alua_tg_pt_gp"))
		pfx = "TG Port Alias:";
	if (pfx) {
		char *s = strstr(v, pfx);
		if (s) {
			s += strlen(pfx);
			while (*s == ' ')
				s++;
			size_t n = strcspn(s, "\n");
			memmove(v, s, n);
			v[n] = 0;
		}
	}
}

/* A backstore parameter: attrib/KEY on a live device, else from the control string
 * written at creation (what a plain tree keeps). */
static int bs_param(const struct lio *l, const char *bs, const char *key, char *out, size_t n)
{
	char path[700], ctl[512];
	snprintf(path, sizeof(path), "%s/attrib/%s", bs, key);
	if (rd(l, path, out, n) == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/control", bs);
	if (rd(l, path, ctl, sizeof(ctl)))
		return -ENOENT;
	char pat[80];
	snprintf(pat, sizeof(pat), "%s=", key);
	char *s = strstr(ctl, pat);
	if (!s)
		return -ENOENT;
	s += strlen(pat);
	snprintf(out, n, "%.*s", (int)strcspn(s, ",\n"), s);
	return 0;
}

/* ---- state ---- */

static int load_state(struct lio *l)
{
	FILE *f = fopen(l->state, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	char line[1024];
	int r = 0;
	while (!r && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (*line && *line != '#' && !strstr(line, ".."))
			r = push_str(&l->managed, &l->nr_managed, line);
	}
	fclose(f);
	return r;
}

static int save_state(struct lio *l)
{
	char tmp[4200], dir[4096];
	snprintf(dir, sizeof(dir), "%s", l->state);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", l->state);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "# configfs objects vlun-config manages under %s (do not edit)\n", l->root);
	for (size_t i = 0; i < l->nr_managed; i++)
		fprintf(f, "%s\n", l->managed[i]);
	if (fflush(f) || fsync(fileno(f))) {
		int e = errno;
		fclose(f);
		return -e;
	}
	fclose(f);
	return rename(tmp, l->state) ? -errno : 0;
}

int lio_open(struct lio *l, const char *root, const char *state, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->root, sizeof(l->root), "%s", root ? root : LIO_DEFAULT_ROOT);
	struct statfs sf;
	if (statfs(l->root, &sf)) {
		snprintf(err, errlen,
			 "%s: %s; is LIO loaded? (modprobe target_core_user iscsi_target_mod; mount -t "
			 "configfs none /sys/kernel/config)",
			 l->root, strerror(errno));
		return -ENOENT;
	}
	l->fake = sf.f_type != CONFIGFS_MAGIC;
	if (state)
		snprintf(l->state, sizeof(l->state), "%s", state);
	else if (l->fake)
		snprintf(l->state, sizeof(l->state), "%s.vlun-state", l->root);
	else
		snprintf(l->state, sizeof(l->state), "%s", LIO_DEFAULT_STATE);
	int r = load_state(l);
	if (r)
		snprintf(err, errlen, "%s: %s", l->state, strerror(-r));
	return r;
}

void lio_close(struct lio *l)
{
	free_strs(l->managed, l->nr_managed);
	l->managed = NULL;
	l->nr_managed = 0;
}

/* ---- the desired state ---- */

struct want {
	struct lio *l;
	struct lio_plan *p;
	char *err;
	size_t errlen;
	int r;
};

static struct lio_action *add(struct want *w, enum lio_act act, const char *path)
{
	if (w->r)
		return NULL;
	struct lio_action *a = realloc(w->p->a, (w->p->n + 1) * sizeof(*a));
	if (!a) {
		w->r = -ENOMEM;
		return NULL;
	}
	w->p->a = a;
	a = &a[w->p->n++];
	memset(a, 0, sizeof(*a));
	a->act = act;
	snprintf(a->path, sizeof(a->path), "%s", path);
	return a;
}

static void keep(struct want *w, const char *path)
{
	if (!w->r && !has_str(w->p->keep, w->p->nr_keep, path))
		w->r = push_str(&w->p->keep, &w->p->nr_keep, path);
}

/* A directory object with create-time attributes (written once, in order, right after
 * mkdir).  Returns true if it exists already. */
static bool dir(struct want *w, const char *path, const char *what, const char *const *cattrs)
{
	keep(w, path);
	if (exists(w->l, path)) {
		if (!has_str(w->l->managed, w->l->nr_managed, path) && !w->r)
			w->r = push_str(&w->p->adopt, &w->p->nr_adopt, path);
		return true;
	}
	struct lio_action *a = add(w, LIO_MKDIR, path);
	if (!a)
		return false;
	snprintf(a->what, sizeof(a->what), "%s", what);
	for (int i = 0; cattrs && cattrs[i] && i < 16; i += 2) {
		snprintf(a->attrs[a->nr_attrs].name, sizeof(a->attrs[0].name), "%s", cattrs[i]);
		snprintf(a->attrs[a->nr_attrs].value, sizeof(a->attrs[0].value), "%s", cattrs[i + 1]);
		a->nr_attrs++;
	}
	return false;
}

/* An attribute that must read `val` (written if it does not). */
static void attr(struct want *w, const char *obj, const char *name, const char *val, bool secret)
{
	char path[600], cur[512];
	snprintf(path, sizeof(path), "%s/%s", obj, name);
	/* a new object: nothing to compare with; write after creation */
	bool fresh = !exists(w->l, obj);
	if (!fresh && rd(w->l, path, cur, sizeof(cur)) == 0) {
		normalize(name, cur);
		if (!strcmp(cur, val))
			return;
	} else if (!fresh) {
		cur[0] = 0;
	}
	struct lio_action *a = add(w, LIO_SET, path);
	if (!a)
		return;
	snprintf(a->value, sizeof(a->value), "%s", val);
	snprintf(a->old, sizeof(a->old), "%s", fresh ? "" : cur);
	a->secret = secret;
	a->fresh = fresh;
	snprintf(a->what, sizeof(a->what), "%s", name);
}

static void link_to(struct want *w, const char *path, const char *target, const char *what)
{
	keep(w, path);
	char p[4608], t[4608], rp[PATH_MAX], rt[PATH_MAX];
	abspath(w->l, path, p, sizeof(p));
	abspath(w->l, target, t, sizeof(t));
	struct stat st;
	if (lstat(p, &st) == 0) {
		if (!realpath(p, rp) || !realpath(t, rt) || strcmp(rp, rt)) {
			snprintf(w->err, w->errlen,
				 "%s exists and points elsewhere than %s; remove it first (vlun-config clear, "
				 "or targetcli)",
				 path, target);
			w->r = -EEXIST;
		} else if (!has_str(w->l->managed, w->l->nr_managed, path) && !w->r) {
			w->r = push_str(&w->p->adopt, &w->p->nr_adopt, path);
		}
		return;
	}
	struct lio_action *a = add(w, LIO_LINK, path);
	if (a) {
		snprintf(a->value, sizeof(a->value), "%s", target);
		snprintf(a->what, sizeof(a->what), "%s", what);
	}
}

/* A LUN serves one backstore: one linked under another name is a conflict to report
 * (LIO would refuse a second link), not something to add to. */
static void lun_free_for(struct want *w, const char *lun, const char *name)
{
	char p[4608];
	abspath(w->l, lun, p, sizeof(p));
	DIR *d = opendir(p);
	if (!d)
		return;
	struct dirent *de;
	while (!w->r && (de = readdir(d))) {
		char e[4608 + 256];
		struct stat st;
		snprintf(e, sizeof(e), "%s/%s", p, de->d_name);
		if (lstat(e, &st) || !S_ISLNK(st.st_mode) || !strcmp(de->d_name, name))
			continue;
		snprintf(w->err, w->errlen,
			 "%s already serves backstore '%s'; the file wants '%s' there: remove that LUN "
			 "first (vlun-config clear, or targetcli), or choose another lun",
			 lun, de->d_name, name);
		w->r = -EEXIST;
	}
	closedir(d);
}

static void fmt(char *buf, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t n, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, n, f, ap);
	va_end(ap);
}

/* One ALUA group per blade on backstore bs: id = the blade's TPG tag, implicit ALUA; the
 * owner Active/Optimized (0), the others Standby (2), never Active/Non-optimized: an
 * initiator fails I/O on a Standby path at once and switches path group, where an ANO
 * old path would keep taking I/O (and, with implicit failover, pull the volume back)
 * until multipathd re-reads priorities.  In a shared pool the state is written only when
 * the group is created: then the handler manages it, and the pool's disks say who owns
 * the volume now (an apply must never move it back to its configured owner).  The
 * delays are set on every apply: no ANO delay, no transition delay, and RTPG's implicit
 * transition time bounds an initiator's wait on a transitioning port. */
static void alua_group(struct want *w, const char *bs, const struct tconf_volume *v,
		       const struct tconf_blade *bl, const char *owner, bool shared, bool ano)
{
	char g[400], id[16], gw[200];
	const char *state = owner && !strcmp(owner, bl->name) ? "0" : ano ? "1" : "2";
	fmt(g, sizeof(g), "%s/alua/%s", bs, bl->name);
	fmt(id, sizeof(id), "%u", bl->tpg);
	fmt(gw, sizeof(gw), "ALUA group %s of %s (id %u)", bl->name, v->name, bl->tpg);
	/* the state needs the id and implicit ALUA first (LIO refuses it before) */
	const char *ga[] = {"tg_pt_gp_id", id, "alua_access_type", "1",
			    shared ? "alua_access_state" : NULL, state, NULL};
	dir(w, g, gw, ga);
	if (!shared)
		attr(w, g, "alua_access_state", state, false);
	attr(w, g, "nonop_delay_msecs", "0", false);
	attr(w, g, "trans_delay_msecs", "0", false);
	attr(w, g, "implicit_trans_secs", "10", false);
	/* the handler reads the non-owner state off it (docs/alua.md) */
	attr(w, g, "alua_support_standby", ano ? "0" : "1", false);
}

/* the user:vlun backstore serving volume v: core/HBA/NAME */
static void backstore(struct want *w, const struct tconf *c, const struct tconf_volume *v,
		      const struct lio_volstate *vs)
{
	char bs[256], ctl[256], size[32], what[160], hs[32];
	fmt(bs, sizeof(bs), "core/%s/%s", LIO_HBA, v->name);
	/* commands of up to max_transfer_kb (hw_max_sectors counts the backstore's 512-byte
	 * blocks) and a ring data area for LIO's default queue of 64 of them (8 MiB at least,
	 * tcmu's default); both are creation parameters of a user backstore */
	unsigned mdam = c->max_transfer_kb / 16 > 8 ? c->max_transfer_kb / 16 : 8;
	fmt(ctl, sizeof(ctl),
	    "dev_config=vlun/%s/%s,dev_size=%" PRIu64 ",hw_max_sectors=%u,max_data_area_mb=%u",
	    v->pool, v->name, v->size, c->max_transfer_kb * 2, mdam);
	fmt(size, sizeof(size), "%" PRIu64, v->size);
	vl_format_size(v->size, hs, sizeof(hs));
	fmt(what, sizeof(what), "backstore user:vlun %s (%s/%s, %s)", v->name, v->pool, v->name, hs);
	const char *serial = vs->serial[0] ? vs->serial : "(serial of the new volume)";
	const char *ca[] = {"control", ctl, "enable", "1", "wwn/vpd_unit_serial", serial, NULL};
	if (dir(w, bs, what, ca)) {
		/* exists: it must serve the same volume; it may grow */
		char cfg[512] = "", want_cfg[256], cur_size[64];
		fmt(want_cfg, sizeof(want_cfg), "vlun/%s/%s", v->pool, v->name);
		bs_param(w->l, bs, "dev_config", cfg, sizeof(cfg));
		if (strcmp(cfg, want_cfg)) {
			fmt(w->err, w->errlen,
			    "backstore %s exists but serves '%s', not '%s'; remove it first (vlun-config "
			    "clear, or targetcli)",
			    bs, cfg, want_cfg);
			w->r = -EEXIST;
			return;
		}
		if (bs_param(w->l, bs, "dev_size", cur_size, sizeof(cur_size)) == 0) {
			uint64_t cur = strtoull(cur_size, NULL, 10);
			if (cur > v->size) {
				fmt(w->err, w->errlen,
				    "backstore %s is %s bytes, the file says %s: LUNs never shrink implicitly",
				    bs, cur_size, size);
				w->r = -EINVAL;
				return;
			}
			if (cur < v->size)
				attr(w, bs, "attrib/dev_size", size, false);
		}
		if (vs->serial[0])
			attr(w, bs, "wwn/vpd_unit_serial", vs->serial, false);
	}
	const char *owner = NULL;
	for (size_t e = 0; e < c->nr_exports; e++)
		if (!strcmp(c->exports[e].volume, v->name))
			owner = c->exports[e].owner;
	const struct tconf_pool *tp = tconf_pool(c, v->pool);
	for (size_t b = 0; b < c->nr_blades; b++)
		alua_group(w, bs, v, &c->blades[b], owner, tp && tp->shared, c->nonowner_ano);
}

static void tpg(struct want *w, const struct tconf *c, const struct tconf_blade *b, bool local)
{
	char t[300], what[160], tag[16];
	fmt(t, sizeof(t), "iscsi/%s/tpgt_%u", c->iqn, b->tpg);
	fmt(what, sizeof(what), "TPG %u of blade %s (%s)", b->tpg, b->name,
	    local ? "local, enabled" : "remote, disabled here");
	fmt(tag, sizeof(tag), "%u", b->tpg);
	dir(w, t, what, NULL);
	bool chap = false;
	for (size_t h = 0; h < c->nr_hosts; h++)
		chap |= c->hosts[h].chap != TCONF_CHAP_NONE;
	attr(w, t, "attrib/authentication", chap ? "1" : "0", false);
	attr(w, t, "attrib/generate_node_acls", c->demo_mode ? "1" : "0", false);
	attr(w, t, "attrib/demo_mode_write_protect", c->demo_mode ? "0" : "1", false);
	attr(w, t, "attrib/cache_dynamic_acls", c->demo_mode ? "1" : "0", false);
	if (local)
		for (size_t i = 0; i < b->nr_portals; i++) {
			char np[400], pw[160];
			fmt(np, sizeof(np), "%s/np/%s", t, b->portals[i]);
			fmt(pw, sizeof(pw), "portal %s", b->portals[i]);
			dir(w, np, pw, NULL);
		}
	for (size_t e = 0; e < c->nr_exports; e++) {
		const struct tconf_export *x = &c->exports[e];
		char lun[400], lw[160], lk[600], bs[300];
		fmt(lun, sizeof(lun), "%s/lun/lun_%u", t, x->lun);
		fmt(lw, sizeof(lw), "LUN %u on TPG %u", x->lun, b->tpg);
		fmt(bs, sizeof(bs), "core/%s/%s", LIO_HBA, x->volume);
		fmt(lk, sizeof(lk), "%s/%s", lun, x->volume);
		dir(w, lun, lw, NULL);
		fmt(lw, sizeof(lw), "LUN %u -> %s", x->lun, x->volume);
		lun_free_for(w, lun, x->volume);
		link_to(w, lk, bs, lw);
		attr(w, lun, "alua_tg_pt_gp", b->name, false);
	}
	for (size_t h = 0; h < c->nr_hosts && !c->demo_mode; h++) {
		const struct tconf_host *ho = &c->hosts[h];
		bool used = false;
		for (size_t e = 0; e < c->nr_exports; e++)
			for (size_t k = 0; k < c->exports[e].nr_hosts; k++)
				used |= !strcmp(c->exports[e].hosts[k], ho->name);
		if (!used)
			continue;
		char acl[600], aw[300], v[16];
		fmt(acl, sizeof(acl), "%s/acls/%s", t, ho->iqn);
		fmt(aw, sizeof(aw), "ACL for host %s (%s)", ho->name, ho->iqn);
		dir(w, acl, aw, NULL);
		fmt(v, sizeof(v), "%u", c->nopin_timeout);
		attr(w, acl, "attrib/nopin_timeout", v, false);
		fmt(v, sizeof(v), "%u", c->nopin_response_timeout);
		attr(w, acl, "attrib/nopin_response_timeout", v, false);
		if (ho->chap != TCONF_CHAP_NONE) {
			attr(w, acl, "auth/userid", ho->userid, false);
			attr(w, acl, "auth/password", ho->password, true);
		}
		if (ho->chap == TCONF_CHAP_MUTUAL) {
			attr(w, acl, "auth/userid_mutual", ho->mutual_userid, false);
			attr(w, acl, "auth/password_mutual", ho->mutual_password, true);
		}
		for (size_t e = 0; e < c->nr_exports; e++) {
			const struct tconf_export *x = &c->exports[e];
			bool mine = false;
			for (size_t k = 0; k < x->nr_hosts; k++)
				mine |= !strcmp(x->hosts[k], ho->name);
			if (!mine)
				continue;
			char ml[700], link[800], lun[400], mw[300];
			fmt(ml, sizeof(ml), "%s/lun_%u", acl, x->lun);
			fmt(lun, sizeof(lun), "%s/lun/lun_%u", t, x->lun);
			fmt(link, sizeof(link), "%s/vlun", ml);
			fmt(mw, sizeof(mw), "LUN %u for host %s", x->lun, ho->name);
			dir(w, ml, mw, NULL);
			link_to(w, link, lun, mw);
		}
	}
	attr(w, t, "enable", local ? "1" : "0", false);
}

static int cmp_remove(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	/* fabric objects (which link to backstores) before backstores, deepest first */
	bool xc = !strncmp(x, "core/", 5), yc = !strncmp(y, "core/", 5);
	if (xc != yc)
		return xc - yc;
	int dx = 0, dy = 0;
	for (const char *p = x; *p; p++)
		dx += *p == '/';
	for (const char *p = y; *p; p++)
		dy += *p == '/';
	if (dx != dy)
		return dy - dx;
	return strcmp(y, x);
}

static int plan_removals(struct lio *l, struct lio_plan *p, char **keepv, size_t nkeep)
{
	char **rm = NULL;
	size_t n = 0;
	int r = 0;
	for (size_t i = 0; i < l->nr_managed && !r; i++)
		if (!has_str(keepv, nkeep, l->managed[i]) && exists(l, l->managed[i]))
			r = push_str(&rm, &n, l->managed[i]);
	if (!r && n)
		qsort(rm, n, sizeof(*rm), cmp_remove);
	struct want w = {l, p, NULL, 0, r};
	for (size_t i = 0; i < n && !w.r; i++) {
		char ap[4608];
		struct stat st;
		abspath(l, rm[i], ap, sizeof(ap));
		if (lstat(ap, &st))
			continue;
		struct lio_action *a = add(&w, S_ISLNK(st.st_mode) ? LIO_UNLINK : LIO_RMDIR, rm[i]);
		if (a)
			snprintf(a->what, sizeof(a->what), "%s", "no longer in the file");
	}
	free_strs(rm, n);
	return w.r;
}

int lio_plan(struct lio *l, const struct tconf *c, const struct tconf_blade *local,
	     const struct lio_volstate *vs, bool prune, struct lio_plan *p, char *err,
	     size_t errlen)
{
	memset(p, 0, sizeof(*p));
	struct want w = {l, p, err, errlen, 0};
	if (!exists(l, "core/" LIO_HBA)) {
		struct lio_action *a = add(&w, LIO_MKDIR, "core/" LIO_HBA);
		if (a)
			snprintf(a->what, sizeof(a->what), "HBA for user:vlun backstores");
	}
	for (size_t e = 0; e < c->nr_exports && !w.r; e++) {
		const struct tconf_volume *v = tconf_volume(c, c->exports[e].volume);
		backstore(&w, c, v, &vs[v - c->volumes]);
	}
	if (!w.r && !exists(l, "iscsi")) {
		struct lio_action *a = add(&w, LIO_MKDIR, "iscsi");
		if (a)
			snprintf(a->what, sizeof(a->what), "iSCSI fabric");
	}
	char t[300];
	fmt(t, sizeof(t), "iscsi/%s", c->iqn);
	char what[300];
	fmt(what, sizeof(what), "target %s", c->iqn);
	if (!w.r)
		dir(&w, t, what, NULL);
	/* remote blades first: the local TPG is enabled last, once everything is in place */
	for (size_t b = 0; b < c->nr_blades && !w.r; b++)
		if (&c->blades[b] != local)
			tpg(&w, c, &c->blades[b], false);
	if (!w.r)
		tpg(&w, c, local, true);
	if (!w.r && prune)
		w.r = plan_removals(l, p, p->keep, p->nr_keep);
	if (w.r && !err[0])
		snprintf(err, errlen, "planning: %s", strerror(-w.r));
	return w.r;
}

int lio_plan_clear(struct lio *l, struct lio_plan *p)
{
	memset(p, 0, sizeof(*p));
	return plan_removals(l, p, NULL, 0);
}

void lio_plan_free(struct lio_plan *p)
{
	if (p->a)
		explicit_bzero(p->a, p->n * sizeof(*p->a));
	free(p->a);
	free_strs(p->adopt, p->nr_adopt);
	free_strs(p->keep, p->nr_keep);
	memset(p, 0, sizeof(*p));
}

static const char *shown(const struct lio_action *a, const char *v)
{
	return a->secret ? "********" : v;
}

void lio_plan_print(const struct lio_plan *p, FILE *f, bool json)
{
	if (json) {
		struct json j;
		json_begin(&j, f);
		json_arr_open(&j, NULL);
		for (size_t i = 0; i < p->n; i++) {
			const struct lio_action *a = &p->a[i];
			static const char *const names[] = {"create", "link", "set", "remove", "unlink"};
			json_obj_open(&j, NULL);
			json_str(&j, "action", names[a->act]);
			json_str(&j, "path", a->path);
			if (a->act == LIO_LINK)
				json_str(&j, "target", a->value);
			if (a->act == LIO_SET) {
				json_str(&j, "value", shown(a, a->value));
				json_str(&j, "was", shown(a, a->old));
			}
			json_str(&j, "what", a->what);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_end(&j);
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct lio_action *a = &p->a[i];
		switch (a->act) {
		case LIO_MKDIR:
			fprintf(f, "  + %s: %s\n", a->what, a->path);
			break;
		case LIO_LINK:
			fprintf(f, "  + %s: %s -> %s\n", a->what, a->path, a->value);
			break;
		case LIO_SET:
			if (a->fresh)
				break; /* part of setting up a new object */
			fprintf(f, "  ~ %s = %s%s%s%s\n", a->path, shown(a, a->value),
				a->old[0] ? " (was " : "", a->old[0] ? shown(a, a->old) : "",
				a->old[0] ? ")" : "");
			break;
		case LIO_RMDIR:
		case LIO_UNLINK:
			fprintf(f, "  - %s (%s)\n", a->path, a->what);
			break;
		}
	}
}

/* ---- applying ---- */

static int run(struct lio *l, struct lio_action *a, char *err, size_t errlen)
{
	char p[4608], t[4608];
	abspath(l, a->path, p, sizeof(p));
	int r = 0;
	switch (a->act) {
	case LIO_MKDIR:
		fake_parents(l, p);
		if (mkdir(p, 0755))
			r = -errno;
		else
			a->done = true;
		for (int i = 0; !r && i < a->nr_attrs; i++) {
			char ap[700];
			fmt(ap, sizeof(ap), "%s/%s", a->path, a->attrs[i].name);
			if ((r = wr(l, ap, a->attrs[i].value)))
				fmt(err, errlen, "%s: writing '%s': %s", ap, a->attrs[i].value, strerror(-r));
		}
		if (r && !err[0])
			fmt(err, errlen, "%s: mkdir: %s", a->path, strerror(-r));
		return r;
	case LIO_LINK:
		abspath(l, a->value, t, sizeof(t));
		fake_parents(l, p);
		if (symlink(t, p)) {
			r = -errno;
			fmt(err, errlen, "%s -> %s: %s", a->path, a->value, strerror(errno));
		} else {
			a->done = true;
		}
		return r;
	case LIO_SET:
		if ((r = wr(l, a->path, a->value)))
			fmt(err, errlen, "%s: writing '%s': %s", a->path, shown(a, a->value), strerror(-r));
		else
			a->done = true;
		return r;
	case LIO_RMDIR:
		if ((r = remove_dir(l, a->path)))
			fmt(err, errlen, "%s: cannot remove: %s%s", a->path, strerror(-r),
			    r == -ENOTEMPTY || r == -EBUSY
				    ? " (it holds or is used by objects vlun-config did not create)"
				    : "");
		else
			a->done = true;
		return r;
	case LIO_UNLINK:
		if (unlink(p)) {
			r = -errno;
			fmt(err, errlen, "%s: cannot remove: %s", a->path, strerror(errno));
		} else {
			a->done = true;
		}
		return r;
	}
	return -EINVAL;
}

static int undo(struct lio *l, struct lio_action *a)
{
	char p[4608];
	abspath(l, a->path, p, sizeof(p));
	switch (a->act) {
	case LIO_MKDIR:
		return remove_dir(l, a->path);
	case LIO_LINK:
		return unlink(p) ? -errno : 0;
	case LIO_SET:
		return a->old[0] ? wr(l, a->path, a->old) : 0;
	default:
		return -EOPNOTSUPP; /* a removal cannot be taken back */
	}
}

static void drop_managed(struct lio *l, const char *path)
{
	for (size_t i = 0; i < l->nr_managed; i++)
		if (!strcmp(l->managed[i], path)) {
			free(l->managed[i]);
			l->managed[i] = l->managed[--l->nr_managed];
			return;
		}
}

int lio_apply(struct lio *l, struct lio_plan *p, char *err, size_t errlen)
{
	int r = 0;
	size_t i;
	err[0] = 0;
	for (i = 0; i < p->n && !r; i++)
		r = run(l, &p->a[i], err, errlen);
	if (r) {
		size_t len = strlen(err);
		int undone = 0, stuck = 0;
		for (size_t k = i; k-- > 0;) {
			struct lio_action *a = &p->a[k];
			if (!a->done)
				continue;
			int u = undo(l, a);
			if (u) {
				stuck++;
				len += (size_t)snprintf(err + len, len < errlen ? errlen - len : 0,
							"\n  could not undo: %s %s (%s)",
							a->act == LIO_RMDIR || a->act == LIO_UNLINK ? "removal of"
												 : "creation of",
							a->path, strerror(-u));
				if (len >= errlen)
					len = errlen - 1;
			} else {
				undone++;
			}
		}
		snprintf(err + len, len < errlen ? errlen - len : 0,
			 "\n  rolled back %d change(s) of this run%s", undone,
			 stuck ? "; the ones above remain" : "");
	}
	/* record what now exists: created and adopted objects in, removed ones out */
	for (size_t k = 0; k < p->n; k++) {
		struct lio_action *a = &p->a[k];
		bool present = exists(l, a->path);
		if ((a->act == LIO_MKDIR || a->act == LIO_LINK) && present &&
		    strcmp(a->path, "iscsi") && strcmp(a->path, "core/" LIO_HBA) &&
		    !has_str(l->managed, l->nr_managed, a->path))
			push_str(&l->managed, &l->nr_managed, a->path);
		if ((a->act == LIO_RMDIR || a->act == LIO_UNLINK) && !present)
			drop_managed(l, a->path);
	}
	for (size_t k = 0; !r && k < p->nr_adopt; k++)
		if (!has_str(l->managed, l->nr_managed, p->adopt[k]))
			push_str(&l->managed, &l->nr_managed, p->adopt[k]);
	/* managed objects that vanished (removed by hand, or a reboot) are forgotten */
	for (size_t k = l->nr_managed; k-- > 0;)
		if (!exists(l, l->managed[k]))
			drop_managed(l, l->managed[k]);
	int s = save_state(l);
	if (!r && s)
		fmt(err, errlen, "saving %s: %s", l->state, strerror(-s));
	return r ? r : s;
}

/* ---- show ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int list_dir(const struct lio *l, const char *rel, char ***out, size_t *n, bool dirs_only)
{
	char p[4608];
	abspath(l, rel, p, sizeof(p));
	DIR *d = opendir(p);
	if (!d)
		return -errno;
	struct dirent *de;
	int r = 0;
	while (!r && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (dirs_only) {
			char s[4608];
			struct stat st;
			snprintf(s, sizeof(s), "%s/%s", p, de->d_name);
			if (lstat(s, &st) || !S_ISDIR(st.st_mode))
				continue;
		}
		r = push_str(out, n, de->d_name);
	}
	closedir(d);
	if (!r && *n)
		qsort(*out, *n, sizeof(**out), cmp_str);
	return r;
}

static void rd_or(const struct lio *l, const char *rel, char *buf, size_t n, const char *def)
{
	if (rd(l, rel, buf, n))
		snprintf(buf, n, "%s", def);
	normalize(rel, buf);
}

struct out {
	FILE *f;
	bool json;
	struct json j;
};

static void o_str(struct out *o, const char *k, const char *v, int indent)
{
	if (o->json)
		json_str(&o->j, k, v);
	else
		fprintf(o->f, "%*s%s: %s\n", indent, "", k, v);
}

static void show_backstores(struct lio *l, struct out *o)
{
	char **hbas = NULL;
	size_t nh = 0;
	list_dir(l, "core", &hbas, &nh, true);
	if (o->json)
		json_arr_open(&o->j, "backstores");
	else
		fprintf(o->f, "backstores (user:vlun):\n");
	for (size_t h = 0; h < nh; h++) {
		if (strncmp(hbas[h], "user_", 5))
			continue;
		char rel[300];
		fmt(rel, sizeof(rel), "core/%s", hbas[h]);
		char **devs = NULL;
		size_t nd = 0;
		list_dir(l, rel, &devs, &nd, true);
		for (size_t d = 0; d < nd; d++) {
			char bs[600], path[700], cfg[512] = "", v[512];
			fmt(bs, sizeof(bs), "%s/%s", rel, devs[d]);
			bs_param(l, bs, "dev_config", cfg, sizeof(cfg));
			if (strncmp(cfg, "vlun/", 5))
				continue;
			if (o->json)
				json_obj_open(&o->j, NULL);
			else
				fprintf(o->f, "  %s\n", devs[d]);
			o_str(o, "name", devs[d], 4);
			o_str(o, "path", bs, 4);
			o_str(o, "volume", cfg + 5, 4);
			if (bs_param(l, bs, "dev_size", v, sizeof(v)))
				snprintf(v, sizeof(v), "?");
			o_str(o, "size", v, 4);
			fmt(path, sizeof(path), "%s/wwn/vpd_unit_serial", bs);
			rd_or(l, path, v, sizeof(v), "");
			o_str(o, "serial", v, 4);
			fmt(path, sizeof(path), "%s/enable", bs);
			rd_or(l, path, v, sizeof(v), "?");
			o_str(o, "enabled", !strcmp(v, "1") ? "yes" : "no", 4);
			o_str(o, "managed", has_str(l->managed, l->nr_managed, bs) ? "yes" : "no", 4);
			char **gs = NULL;
			size_t ng = 0;
			fmt(path, sizeof(path), "%s/alua", bs);
			list_dir(l, path, &gs, &ng, true);
			if (o->json)
				json_arr_open(&o->j, "alua_groups");
			for (size_t g = 0; g < ng; g++) {
				if (!strcmp(gs[g], "default_tg_pt_gp"))
					continue;
				char id[64], st[64], gp[800];
				fmt(gp, sizeof(gp), "%s/alua/%s/tg_pt_gp_id", bs, gs[g]);
				rd_or(l, gp, id, sizeof(id), "?");
				fmt(gp, sizeof(gp), "%s/alua/%s/alua_access_state", bs, gs[g]);
				rd_or(l, gp, st, sizeof(st), "?");
				static const char *const states[] = {"active/optimized", "active/non-optimized",
								     "standby", "unavailable"};
				int s = atoi(st);
				const char *sn = s >= 0 && s < 4 && st[0] != '?' ? states[s]
					       : s == 14 ? "offline" : s == 15 ? "transitioning" : st;
				if (o->json) {
					json_obj_open(&o->j, NULL);
					json_str(&o->j, "group", gs[g]);
					json_str(&o->j, "id", id);
					json_str(&o->j, "state", sn);
					json_obj_close(&o->j);
				} else {
					fprintf(o->f, "    alua group %s (id %s): %s\n", gs[g], id, sn);
				}
			}
			if (o->json)
				json_arr_close(&o->j);
			free_strs(gs, ng);
			if (o->json)
				json_obj_close(&o->j);
		}
		free_strs(devs, nd);
	}
	free_strs(hbas, nh);
	if (o->json)
		json_arr_close(&o->j);
}

static void show_tpg(struct lio *l, struct out *o, const char *t)
{
	char path[900], v[512];
	fmt(path, sizeof(path), "%s/enable", t);
	rd_or(l, path, v, sizeof(v), "?");
	o_str(o, "enabled", !strcmp(v, "1") ? "yes" : "no", 6);
	fmt(path, sizeof(path), "%s/attrib/authentication", t);
	rd_or(l, path, v, sizeof(v), "?");
	o_str(o, "authentication", !strcmp(v, "1") ? "chap" : "none", 6);
	fmt(path, sizeof(path), "%s/attrib/generate_node_acls", t);
	rd_or(l, path, v, sizeof(v), "?");
	o_str(o, "demo_mode", !strcmp(v, "1") ? "yes" : "no", 6);
	char **ls = NULL;
	size_t n = 0;
	fmt(path, sizeof(path), "%s/np", t);
	list_dir(l, path, &ls, &n, true);
	if (o->json)
		json_arr_open(&o->j, "portals");
	for (size_t i = 0; i < n; i++)
		o->json ? json_str(&o->j, NULL, ls[i]) : (void)fprintf(o->f, "      portal: %s\n", ls[i]);
	if (o->json)
		json_arr_close(&o->j);
	free_strs(ls, n);
	ls = NULL;
	n = 0;
	fmt(path, sizeof(path), "%s/lun", t);
	list_dir(l, path, &ls, &n, true);
	if (o->json)
		json_arr_open(&o->j, "luns");
	for (size_t i = 0; i < n; i++) {
		char lp[1000], bs[64] = "?", grp[512];
		fmt(lp, sizeof(lp), "%s/lun/%s", t, ls[i]);
		char **ents = NULL;
		size_t ne = 0;
		char ap[4608];
		abspath(l, lp, ap, sizeof(ap));
		list_dir(l, lp, &ents, &ne, false);
		for (size_t k = 0; k < ne; k++) {
			char e[4608];
			struct stat st;
			snprintf(e, sizeof(e), "%s/%s", ap, ents[k]);
			if (!lstat(e, &st) && S_ISLNK(st.st_mode)) {
				char tgt[PATH_MAX];
				if (realpath(e, tgt)) {
					char *b = strrchr(tgt, '/');
					snprintf(bs, sizeof(bs), "%s", b ? b + 1 : tgt);
				}
			}
		}
		free_strs(ents, ne);
		fmt(lp, sizeof(lp), "%s/lun/%s/alua_tg_pt_gp", t, ls[i]);
		rd_or(l, lp, grp, sizeof(grp), "");
		if (o->json) {
			json_obj_open(&o->j, NULL);
			json_str(&o->j, "lun", ls[i] + 4);
			json_str(&o->j, "backstore", bs);
			json_str(&o->j, "alua_group", grp);
			json_obj_close(&o->j);
		} else {
			fprintf(o->f, "      %s -> %s (alua group %s)\n", ls[i], bs, grp[0] ? grp : "-");
		}
	}
	if (o->json)
		json_arr_close(&o->j);
	free_strs(ls, n);
	ls = NULL;
	n = 0;
	fmt(path, sizeof(path), "%s/acls", t);
	list_dir(l, path, &ls, &n, true);
	if (o->json)
		json_arr_open(&o->j, "acls");
	for (size_t i = 0; i < n; i++) {
		char ap[1200], user[300], pw[300], mu[300];
		fmt(ap, sizeof(ap), "%s/acls/%s/auth/userid", t, ls[i]);
		rd_or(l, ap, user, sizeof(user), "");
		fmt(ap, sizeof(ap), "%s/acls/%s/auth/password", t, ls[i]);
		rd_or(l, ap, pw, sizeof(pw), "");
		fmt(ap, sizeof(ap), "%s/acls/%s/auth/userid_mutual", t, ls[i]);
		rd_or(l, ap, mu, sizeof(mu), "");
		char **ml = NULL;
		size_t nm = 0;
		fmt(ap, sizeof(ap), "%s/acls/%s", t, ls[i]);
		list_dir(l, ap, &ml, &nm, true);
		if (o->json) {
			json_obj_open(&o->j, NULL);
			json_str(&o->j, "initiator", ls[i]);
			json_str(&o->j, "chap_userid", user);
			json_str(&o->j, "chap_password", pw[0] ? "********" : "");
			json_str(&o->j, "chap_mutual_userid", mu);
			json_arr_open(&o->j, "mapped_luns");
		} else {
			fprintf(o->f, "      acl %s%s%s%s%s\n", ls[i], user[0] ? " chap user " : "", user,
				pw[0] ? " password ********" : "", mu[0] ? " (mutual)" : "");
		}
		for (size_t k = 0; k < nm; k++)
			if (!strncmp(ml[k], "lun_", 4))
				o->json ? json_str(&o->j, NULL, ml[k] + 4)
					: (void)fprintf(o->f, "        mapped %s\n", ml[k]);
		if (o->json) {
			json_arr_close(&o->j);
			json_obj_close(&o->j);
		}
		free_strs(ml, nm);
	}
	if (o->json)
		json_arr_close(&o->j);
	free_strs(ls, n);
}

int lio_pr_dir(struct lio *l, char *dir, size_t n, char *err, size_t errlen)
{
	char db[PATH_MAX];
	dir[0] = 0;
	int r = rd(l, "dbroot", db, sizeof(db));
	if (r == -ENOENT && l->fake)
		return 0; /* a test's plain tree without one */
	if (r) {
		fmt(err, errlen, "%s/dbroot: %s", l->root, strerror(-r));
		return r;
	}
	if (db[0] != '/' || strstr(db, "/../")) {
		fmt(err, errlen, "%s/dbroot: '%s' is not an absolute path", l->root, db);
		return -EINVAL;
	}
	fmt(dir, n, "%s/pr", db);
	if ((mkdir(db, 0755) && errno != EEXIST) || (mkdir(dir, 0700) && errno != EEXIST)) {
		r = -errno;
		fmt(err, errlen,
		    "cannot create %s, where LIO keeps persistent reservations (without it every "
		    "PR OUT REGISTER fails with NOT READY): %s",
		    dir, strerror(-r));
		return r;
	}
	return 0;
}

int lio_show(struct lio *l, FILE *f, bool json)
{
	struct out o = {f, json, {0}};
	if (json) {
		json_begin(&o.j, f);
		json_obj_open(&o.j, NULL);
		json_str(&o.j, "configfs", l->root);
	}
	show_backstores(l, &o);
	char **tg = NULL;
	size_t nt = 0;
	list_dir(l, "iscsi", &tg, &nt, true);
	if (json)
		json_arr_open(&o.j, "targets");
	else
		fprintf(f, "iscsi targets:\n");
	for (size_t i = 0; i < nt; i++) {
		if (strncmp(tg[i], "iqn.", 4) && strncmp(tg[i], "eui.", 4) && strncmp(tg[i], "naa.", 4))
			continue;
		char t[400];
		fmt(t, sizeof(t), "iscsi/%s", tg[i]);
		if (json) {
			json_obj_open(&o.j, NULL);
			json_str(&o.j, "iqn", tg[i]);
			json_bool(&o.j, "managed", has_str(l->managed, l->nr_managed, t));
			json_arr_open(&o.j, "tpgs");
		} else {
			fprintf(f, "  %s%s\n", tg[i], has_str(l->managed, l->nr_managed, t) ? " (managed)" : "");
		}
		char **tp = NULL;
		size_t np = 0;
		list_dir(l, t, &tp, &np, true);
		for (size_t k = 0; k < np; k++) {
			if (strncmp(tp[k], "tpgt_", 5))
				continue;
			char tt[500];
			fmt(tt, sizeof(tt), "%s/%s", t, tp[k]);
			if (json) {
				json_obj_open(&o.j, NULL);
				json_str(&o.j, "tag", tp[k] + 5);
			} else {
				fprintf(f, "    tpg %s\n", tp[k] + 5);
			}
			show_tpg(l, &o, tt);
			if (json)
				json_obj_close(&o.j);
		}
		free_strs(tp, np);
		if (json) {
			json_arr_close(&o.j);
			json_obj_close(&o.j);
		}
	}
	free_strs(tg, nt);
	if (json) {
		json_arr_close(&o.j);
		json_obj_close(&o.j);
		json_end(&o.j);
	}
	return 0;
}
