/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctlsock.h"
#include "poolconf.h"
#include "vlun-blade.h"
#include "vlun/engine.h"

/* what a failure to reach the leases of a shared pool says */
#define SANLOCK_HINT                                                                       \
	"is the sanlock daemon running? Shared pools need it on this node: start wdmd and " \
	"sanlock (systemctl start wdmd sanlock)"

static void hint_sanlock(struct vl_diag *d)
{
	if (strstr(d->msg, "wdmd"))
		return; /* the engine said it already */
	size_t l = strlen(d->msg);
	snprintf(d->msg + l, sizeof(d->msg) - l, "%s" SANLOCK_HINT, l ? "; " : "");
}

static struct st_action *add(struct st_plan *p, enum st_act act, size_t idx, uint64_t size)
{
	struct st_action *a = realloc(p->a, (p->n + 1) * sizeof(*a));
	if (!a)
		return NULL;
	p->a = a;
	a = &a[p->n++];
	memset(a, 0, sizeof(*a));
	a->act = act;
	a->idx = idx;
	a->size = size;
	return a;
}

/* open a pool defined in confdir */
static int open_defined(const char *confdir, const char *name, unsigned flags,
			struct vl_pool **pool, struct vl_diag *d)
{
	struct poolconf pc;
	int r = poolconf_load(confdir, name, &pc, d);
	if (r)
		return r;
	r = vl_pool_open((const char *const *)pc.members, pc.nr_members, flags, pool, d);
	poolconf_free(&pc);
	return r;
}

/* read-only without the lock: works while tcmu-runner serves the pool */
static int open_ro(const char *confdir, const char *name, struct vl_pool **pool, struct vl_diag *d)
{
	return open_defined(confdir, name, VL_OPEN_RDONLY | VL_OPEN_NOLOCK, pool, d);
}

/* The config's members, read-only: a pool not defined here yet. */
static int open_members_ro(const struct tconf_pool *tp, struct vl_pool **pool, struct vl_diag *d)
{
	return vl_pool_open((const char *const *)tp->members, tp->nr_members,
			    VL_OPEN_RDONLY | VL_OPEN_NOLOCK, pool, d);
}

/* Every member of the config's pool is a member of a shared pool of that name, which
 * another blade created: this blade adopts it (writes its definition), nothing else. */
static bool adoptable(const struct tconf_pool *tp)
{
	struct vl_pool *pool;
	struct vl_diag d;
	if (!tp->shared || open_members_ro(tp, &pool, &d))
		return false;
	struct vl_pool_info pi;
	struct vl_shared_info si;
	vl_pool_get_info(pool, &pi);
	vl_pool_shared_info(pool, &si);
	bool ok = si.shared && !strcmp(pi.name, tp->name) && pi.nr_members == tp->nr_members;
	vl_pool_close(pool);
	return ok;
}

static int adopt_pool(const struct tconf_pool *tp, const char *confdir, struct vl_diag *d)
{
	struct vl_pool *pool;
	int r = open_members_ro(tp, &pool, d);
	if (r)
		return r;
	struct poolconf pc;
	r = poolconf_from_pool(pool, &pc);
	vl_pool_close(pool);
	if (!r) {
		r = poolconf_save(confdir, &pc, d);
		poolconf_free(&pc);
	}
	return r;
}

int st_refresh(const struct tconf *c, const char *confdir, struct st_plan *p)
{
	for (size_t i = 0; i < c->nr_pools; i++) {
		struct vl_pool *pool;
		struct vl_diag d;
		if (open_ro(confdir, c->pools[i].name, &pool, &d))
			continue;
		for (size_t v = 0; v < c->nr_volumes; v++) {
			struct vl_vol_info vi;
			if (strcmp(c->volumes[v].pool, c->pools[i].name) ||
			    vl_vol_info(pool, c->volumes[v].name, &vi))
				continue;
			snprintf(p->vs[v].serial, sizeof(p->vs[v].serial), "%s", vi.serial);
			p->vs[v].size = vi.size;
		}
		vl_pool_close(pool);
	}
	return 0;
}

static void bladeconf_path(const char *confdir, char *buf, size_t n)
{
	snprintf(buf, n, "%s/blade.conf", confdir);
}

/* The bytes of a small file: 0, -ENOENT, or -errno. */
static int slurp(const char *path, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t k = 0;
	while (buf && (k = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)k;
		if (n == cap) {
			char *b = cap < (1u << 20) ? realloc(buf, cap *= 2) : NULL;
			if (!b) {
				free(buf);
				buf = NULL;
			}
			buf = b;
		}
	}
	int r = !buf ? -ENOMEM : k < 0 ? -errno : 0;
	close(fd);
	if (r) {
		free(buf);
		return r;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* blade.conf says which blade this node is and its host id, for the handler and
 * vlunctl: written when the local blade has a host_id that it does not say yet. */
static int plan_bladeconf(const char *confdir, const struct tconf_blade *b, struct st_plan *p,
			  struct tconf_errs *e, const struct tconf *c)
{
	if (!b || !b->host_id)
		return 0;
	struct bladeconf bc;
	struct vl_diag d = {{0}};
	int r = bladeconf_load(confdir, &bc, &d);
	if (!r && bc.host_id == b->host_id && !strcmp(bc.name, b->name))
		return 0;
	char path[4200];
	bladeconf_path(confdir, path, sizeof(path));
	struct st_action *a = add(p, ST_BLADECONF, 0, b->host_id);
	if (!a)
		return -ENOMEM;
	if (!r)
		snprintf(a->path, sizeof(a->path), "blade %s, host id %llu", bc.name,
			 (unsigned long long)bc.host_id);
	else if (r != -ENOENT)
		snprintf(a->path, sizeof(a->path), "unreadable: %s", d.msg);
	r = slurp(path, &a->saved, &a->saved_len);
	if (r && r != -ENOENT) {
		tconf_err(e, c->file, b->line, "[blade %s] host_id: cannot read %s: %s", b->name, path,
			  strerror(-r));
		return 0;
	}
	return 0;
}

/* The on-disk sharing of a pool that exists must be what the file says: apply never
 * converts a pool (it must not be served meanwhile: vlunctl pool share does it). */
static void plan_existing_shared(const struct tconf *c, const struct tconf_pool *tp,
				 const char *confdir, struct tconf_errs *e)
{
	struct vl_pool *pool;
	struct vl_diag d = {{0}};
	if (open_ro(confdir, tp->name, &pool, &d))
		return; /* the pool's volumes report why it does not open */
	struct vl_shared_info si;
	vl_pool_shared_info(pool, &si);
	vl_pool_close(pool);
	int line = tp->shared_line ? tp->shared_line : tp->line;
	if (tp->shared && !si.shared) {
		tconf_err(e, c->file, line,
			  "[pool %s] shared: pool %s exists as a single-blade pool (format 1); "
			  "vlun-config does not convert it, because it must not be served while it is "
			  "converted: stop serving it (tcmu-runner), run 'vlunctl pool share %s' (with "
			  "--max-volumes, --blades, --io-timeout as the file says), then apply again",
			  tp->name, tp->name, tp->name);
		return;
	}
	if (!tp->shared && si.shared) {
		tconf_err(e, c->file, line,
			  "[pool %s]: pool %s is shared between blades (format 2); write shared = yes "
			  "in its section, and host_id = N in every [blade]",
			  tp->name, tp->name);
		return;
	}
	if (!si.shared)
		return;
	for (size_t i = 0; i < c->nr_blades; i++)
		if (c->blades[i].host_id > si.max_hosts)
			tconf_err(e, c->file, c->blades[i].host_id_line,
				  "[blade %s] host_id: pool %s takes blades with host ids 1-%u (fixed "
				  "when it was shared), so blade %s could not open it; give it a host id "
				  "of at most %u",
				  c->blades[i].name, tp->name, si.max_hosts, c->blades[i].name,
				  si.max_hosts);
	size_t nv = 0;
	for (size_t v = 0; v < c->nr_volumes; v++)
		nv += !strcmp(c->volumes[v].pool, tp->name);
	if (nv > si.nr_slots)
		tconf_err(e, c->file, tp->max_volumes_line ? tp->max_volumes_line : tp->line,
			  "[pool %s]: the file puts %zu volumes in it, but the shared pool has %u "
			  "volume slots (fixed when it was shared: max_volumes counts only when "
			  "apply creates the pool); move some to another pool",
			  tp->name, nv, si.nr_slots);
}

int st_plan(const struct tconf *c, const struct tconf_blade *local, const char *confdir,
	    struct st_plan *p, struct tconf_errs *e)
{
	memset(p, 0, sizeof(*p));
	p->local = local;
	p->vs = calloc(c->nr_volumes + 1, sizeof(*p->vs));
	if (!p->vs)
		return -ENOMEM;
	int r0 = plan_bladeconf(confdir, local, p, e, c);
	if (r0)
		return r0;
	for (size_t i = 0; i < c->nr_pools; i++) {
		const struct tconf_pool *tp = &c->pools[i];
		struct poolconf pc;
		struct vl_diag d = {{0}};
		if (poolconf_load(confdir, tp->name, &pc, &d) == 0) {
			/* defined already: its members are what the pool says (it may have grown) */
			poolconf_free(&pc);
			plan_existing_shared(c, tp, confdir, e);
			continue;
		}
		if (adoptable(tp)) {
			if (!add(p, ST_ADOPT, i, 0))
				return -ENOMEM;
			continue;
		}
		for (size_t m = 0; m < tp->nr_members; m++) {
			struct stat st;
			struct vl_member_ident id;
			if (stat(tp->members[m], &st)) {
				if (!tp->member_size) {
					tconf_err(e, c->file, tp->line,
						  "[pool %s] members: %s does not exist; create it, or set "
						  "member_size to let vlun-config create sparse files",
						  tp->name, tp->members[m]);
					continue;
				}
				if (!add(p, ST_MEMBER_FILE, i, tp->member_size))
					return -ENOMEM;
				snprintf(p->a[p->n - 1].path, sizeof(p->a[0].path), "%s", tp->members[m]);
			} else if (vl_member_identify(tp->members[m], &id) == 0) {
				tconf_err(e, c->file, tp->line,
					  "[pool %s] members: %s already belongs to pool '%s' that is not "
					  "defined here; run 'vlunctl pool assemble %s ...' to take it over, or "
					  "wipe it",
					  tp->name, tp->members[m], id.pool_name, tp->members[m]);
			}
		}
		if (!add(p, ST_POOL, i, 0))
			return -ENOMEM;
	}
	for (size_t v = 0; v < c->nr_volumes; v++) {
		const struct tconf_volume *tv = &c->volumes[v];
		struct vl_pool *pool;
		struct vl_diag d = {{0}};
		struct vl_vol_info vi;
		bool new_pool = false;
		const struct tconf_pool *adopted = NULL;
		for (size_t i = 0; i < p->n; i++) {
			new_pool |= p->a[i].act == ST_POOL && !strcmp(c->pools[p->a[i].idx].name, tv->pool);
			if (p->a[i].act == ST_ADOPT && !strcmp(c->pools[p->a[i].idx].name, tv->pool))
				adopted = &c->pools[p->a[i].idx];
		}
		if (new_pool) {
			/* the pool is created by this run */
			if (!add(p, ST_VOLUME, v, tv->size))
				return -ENOMEM;
			continue;
		}
		int r = adopted ? open_members_ro(adopted, &pool, &d) : open_ro(confdir, tv->pool, &pool, &d);
		if (r) {
			tconf_err(e, c->file, tv->line, "[volume %s] pool %s: %s", tv->name, tv->pool, d.msg);
			continue;
		}
		r = vl_vol_info(pool, tv->name, &vi);
		vl_pool_close(pool);
		if (r == -ENOENT) {
			if (!add(p, ST_VOLUME, v, tv->size))
				return -ENOMEM;
		} else if (r) {
			tconf_err(e, c->file, tv->line, "[volume %s]: %s", tv->name, strerror(-r));
		} else if (vi.size > tv->size) {
			char a[32], b[32];
			vl_format_size(vi.size, a, sizeof(a));
			vl_format_size(tv->size, b, sizeof(b));
			tconf_err(e, c->file, tv->line,
				  "[volume %s] size: the volume is %s, the file says %s; vlun never shrinks "
				  "a volume implicitly: write size = %s (or shrink it with 'vlunctl vol "
				  "resize --shrink')",
				  tv->name, a, b, a);
		} else {
			snprintf(p->vs[v].serial, sizeof(p->vs[v].serial), "%s", vi.serial);
			p->vs[v].size = vi.size;
			if (vi.size < tv->size && !add(p, ST_GROW, v, tv->size))
				return -ENOMEM;
		}
	}
	return e->count ? -EINVAL : 0;
}

void st_plan_print(const struct tconf *c, const struct st_plan *p, FILE *f)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct st_action *a = &p->a[i];
		char s[32];
		vl_format_size(a->size, s, sizeof(s));
		const struct tconf_pool *tp = a->act == ST_POOL ? &c->pools[a->idx] : NULL;
		switch (a->act) {
		case ST_BLADECONF:
			fprintf(f, "  %c blade.conf: blade %s, host id %" PRIu64 "%s%s%s\n",
				a->path[0] ? '~' : '+', p->local ? p->local->name : "?", a->size,
				a->path[0] ? " (was: " : "", a->path, a->path[0] ? ")" : "");
			break;
		case ST_MEMBER_FILE:
			fprintf(f, "  + member file %s (%s, sparse)\n", a->path, s);
			break;
		case ST_POOL:
			if (tp->shared)
				fprintf(f, "  + pool %s (%zu member(s), shared: %u volume slots, host ids "
					   "1-%u, lease I/O timeout %u s)\n",
					tp->name, tp->nr_members, tp->max_volumes, tp->max_blades,
					tp->lease_io_timeout);
			else
				fprintf(f, "  + pool %s (%zu member(s))\n", tp->name, tp->nr_members);
			break;
		case ST_ADOPT:
			fprintf(f, "  + pool %s: the shared pool on its members (made by another blade) "
				   "is defined here\n",
				c->pools[a->idx].name);
			break;
		case ST_VOLUME:
			fprintf(f, "  + volume %s/%s (%s, %s)\n", c->volumes[a->idx].pool,
				c->volumes[a->idx].name, s, c->volumes[a->idx].thick ? "thick" : "thin");
			break;
		case ST_GROW:
			fprintf(f, "  ~ volume %s/%s grows to %s\n", c->volumes[a->idx].pool,
				c->volumes[a->idx].name, s);
			break;
		}
	}
}

static int create_pool(const struct tconf_pool *tp, const char *confdir, struct vl_diag *d)
{
	/* a shared pool uses slots 0..max_volumes-1 of its volume table: no bigger one */
	struct vl_pool_create_opts o = {.extent_size = tp->extent_size,
					.max_volumes = tp->shared ? tp->max_volumes : 0};
	struct vl_pool *pool;
	int r = vl_pool_create(tp->name, (const char *const *)tp->members, tp->nr_members, &o, &pool, d);
	if (r)
		return r;
	if (tp->shared) {
		/* created single-blade and exclusive (nobody can serve it yet), then converted */
		struct vl_share_opts so = {.nr_slots = tp->max_volumes,
					   .max_hosts = tp->max_blades,
					   .io_timeout = tp->lease_io_timeout};
		const struct vl_lease_ops *ops;
		void *ctx;
		if ((r = blade_provider(&ops, &ctx)))
			snprintf(d->msg, sizeof(d->msg), "no lease provider: %s", strerror(-r));
		else
			r = vl_pool_share(pool, &so, ops, ctx, d);
		if (r) {
			char m[sizeof(d->msg)];
			snprintf(m, sizeof(m), "creating shared pool %s: %s", tp->name, d->msg);
			snprintf(d->msg, sizeof(d->msg), "%s", m);
			hint_sanlock(d);
		}
	}
	struct poolconf pc;
	if (!r && (r = poolconf_from_pool(pool, &pc)) == 0) {
		r = poolconf_save(confdir, &pc, d);
		poolconf_free(&pc);
	}
	if (r) {
		struct vl_diag d2;
		vl_pool_destroy(pool, true, &d2);
	}
	vl_pool_close(pool);
	return r;
}

/* A shared pool this run opened (joined: seconds), kept for its next steps. */
static struct vl_pool *cached(struct st_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nr_open; i++)
		if (!strcmp(p->open[i].name, name))
			return p->open[i].pool;
	return NULL;
}

static void close_cached(struct st_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nr_open; i++)
		if (!name || !strcmp(p->open[i].name, name)) {
			vl_pool_close(p->open[i].pool);
			p->open[i--] = p->open[--p->nr_open];
		}
	if (!p->nr_open) {
		free(p->open);
		p->open = NULL;
	}
}

/* Open a shared pool for writing as this blade: its host id is the file's (else
 * VLUN_HOST_ID, else blade.conf); the process's sanlock connection holds the leases. */
static int open_shared(struct st_plan *p, const char *confdir, const char *name,
		       struct vl_pool **pool, struct vl_diag *d)
{
	if ((*pool = cached(p, name)))
		return 0;
	uint64_t host_id;
	struct poolconf pc;
	int r = blade_host_id(confdir, p->local ? p->local->host_id : 0, &host_id, d);
	if (r || (r = poolconf_load(confdir, name, &pc, d)))
		return r;
	r = blade_pool_open(&pc, 0, host_id, pool, d);
	poolconf_free(&pc);
	if (r) {
		if (host_id)
			hint_sanlock(d);
		return r;
	}
	struct st_open *o = realloc(p->open, (p->nr_open + 1) * sizeof(*o));
	if (!o) {
		vl_pool_close(*pool);
		return -ENOMEM;
	}
	p->open = o;
	snprintf(o[p->nr_open].name, sizeof(o[0].name), "%s", name);
	o[p->nr_open++].pool = *pool;
	return 0;
}

enum vol_op { VOL_CREATE, VOL_GROW, VOL_DELETE };

/* A volume change on a pool this process can open, else through the handler of the
 * tcmu-runner that serves it: a single-blade pool is locked by that runner; a shared
 * pool is not (its lockspace is shared), so the runner is asked whether it serves it. */
static int vol_change(struct st_plan *p, const char *confdir, const struct tconf_volume *tv,
		      enum vol_op op, uint64_t size, struct vl_diag *d)
{
	struct vl_pool *pool = cached(p, tv->pool);
	bool shared = pool != NULL;
	int r = pool ? 0 : open_defined(confdir, tv->pool, 0, &pool, d);
	if (r == -ENOLCK) { /* shared */
		char req[TCONF_NAME_MAX + 16], msg[256];
		snprintf(req, sizeof(req), "serves %s", tv->pool);
		shared = true;
		r = ctl_request(req, msg, sizeof(msg)) == 0 ? -EBUSY
							     : open_shared(p, confdir, tv->pool, &pool, d);
	}
	if (r == -EBUSY) {
		char req[256];
		if (op == VOL_CREATE)
			snprintf(req, sizeof(req), "vol-create %s %s %" PRIu64 " %s", tv->pool, tv->name,
				 size, tv->thick ? "thick" : "thin");
		else if (op == VOL_GROW)
			snprintf(req, sizeof(req), "vol-grow %s %s %" PRIu64, tv->pool, tv->name, size);
		else
			snprintf(req, sizeof(req), "vol-delete %s %s", tv->pool, tv->name);
		return ctl_request(req, d->msg, sizeof(d->msg));
	}
	if (r)
		return r;
	if (op == VOL_CREATE) {
		struct vl_vol_create_opts o = {.thick = tv->thick};
		r = vl_vol_create(pool, tv->name, size, &o, d);
	} else if (op == VOL_GROW) {
		r = vl_vol_resize(pool, tv->name, size, false, d);
	} else {
		r = vl_vol_delete(pool, tv->name, d);
	}
	if (!shared)
		vl_pool_close(pool); /* a shared one stays open (joined) for the run */
	return r;
}

/* blade.conf back as it was */
static int restore_bladeconf(const char *confdir, const struct st_action *a)
{
	char path[4200], tmp[4300];
	bladeconf_path(confdir, path, sizeof(path));
	if (!a->saved)
		return unlink(path) && errno != ENOENT ? -errno : 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = write(fd, a->saved, a->saved_len) == (ssize_t)a->saved_len && !fsync(fd) ? 0 : -EIO;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int st_apply(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e)
{
	int r = 0;
	for (size_t i = 0; i < p->n && !r; i++) {
		struct st_action *a = &p->a[i];
		struct vl_diag d = {{0}};
		switch (a->act) {
		case ST_BLADECONF: {
			struct bladeconf bc = {.host_id = a->size};
			snprintf(bc.name, sizeof(bc.name), "%s", p->local->name);
			if (!(r = bladeconf_save(confdir, &bc, &d)))
				a->done = true;
			break;
		}
		case ST_MEMBER_FILE: {
			int fd = open(a->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0 || ftruncate(fd, (off_t)a->size)) {
				r = -errno;
				snprintf(d.msg, sizeof(d.msg), "creating %s: %s", a->path, strerror(errno));
				if (fd >= 0) {
					close(fd);
					unlink(a->path);
				}
			} else {
				close(fd);
				a->done = true;
			}
			break;
		}
		case ST_POOL:
			if (!(r = create_pool(&c->pools[a->idx], confdir, &d)))
				a->done = true;
			break;
		case ST_ADOPT:
			if (!(r = adopt_pool(&c->pools[a->idx], confdir, &d)))
				a->done = true;
			break;
		case ST_VOLUME:
		case ST_GROW:
			if (!(r = vol_change(p, confdir, &c->volumes[a->idx],
					     a->act == ST_VOLUME ? VOL_CREATE : VOL_GROW, a->size, &d)))
				a->done = true;
			break;
		}
		if (r)
			tconf_err(e, c->file, 0, "%s", d.msg[0] ? d.msg : strerror(-r));
	}
	if (r)
		st_undo(c, confdir, p, e);
	close_cached(p, NULL); /* the shared pools are the runner's to serve */
	if (!r)
		st_refresh(c, confdir, p);
	return r;
}

void st_undo(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e)
{
	for (size_t i = p->n; i-- > 0;) {
		struct st_action *a = &p->a[i];
		if (!a->done)
			continue;
		struct vl_diag d = {{0}};
		int r = 0;
		switch (a->act) {
		case ST_BLADECONF:
			r = restore_bladeconf(confdir, a);
			break;
		case ST_MEMBER_FILE:
			r = unlink(a->path) ? -errno : 0;
			break;
		case ST_ADOPT:
			r = poolconf_remove(confdir, c->pools[a->idx].name);
			break;
		case ST_POOL: {
			struct vl_pool *pool = cached(p, c->pools[a->idx].name);
			const struct tconf_pool *tp = &c->pools[a->idx];
			if (!pool)
				r = vl_pool_open((const char *const *)tp->members, tp->nr_members, 0, &pool, &d);
			if (r == -ENOLCK) /* shared: open it as this blade */
				r = open_shared(p, confdir, tp->name, &pool, &d);
			if (!r) {
				/* a shared pool's lockspace outlives the pool handle (it is the
				 * blade's); this one goes with the pool */
				struct vl_lease_space ls;
				char lspath[4096] = "";
				if (vl_pool_lease_space(pool, &ls) == 0 && ls.host_id) {
					snprintf(lspath, sizeof(lspath), "%s", ls.path);
					ls.path = lspath;
				}
				r = vl_pool_destroy(pool, true, &d);
				if (cached(p, tp->name))
					close_cached(p, tp->name);
				else
					vl_pool_close(pool);
				const struct vl_lease_ops *ops;
				void *ctx;
				if (!r && lspath[0] && !blade_provider(&ops, &ctx))
					(void)ops->leave(ctx, &ls); /* -EBUSY if someone still holds a lease */
			}
			if (!r)
				r = poolconf_remove(confdir, tp->name);
			break;
		}
		case ST_VOLUME:
			r = vol_change(p, confdir, &c->volumes[a->idx], VOL_DELETE, 0, &d);
			break;
		case ST_GROW:
			r = -EOPNOTSUPP; /* growing is not taken back: no data lives there yet */
			break;
		}
		if (r && a->act != ST_GROW)
			tconf_err(e, c->file, 0, "could not undo the %s of %s: %s",
				  a->act == ST_BLADECONF ? "writing" : "creation",
				  a->act == ST_BLADECONF     ? "blade.conf"
				  : a->act == ST_MEMBER_FILE ? a->path
				  : a->act == ST_POOL	     ? c->pools[a->idx].name
							     : c->volumes[a->idx].name,
				  d.msg[0] ? d.msg : strerror(-r));
		else if (!r)
			a->done = false;
	}
	close_cached(p, NULL);
}

void st_plan_free(struct st_plan *p)
{
	close_cached(p, NULL);
	for (size_t i = 0; i < p->n; i++)
		free(p->a[i].saved);
	free(p->a);
	free(p->vs);
	memset(p, 0, sizeof(*p));
}

/* ---- after an apply: the handler takes up the shared pools' ALUA ---- */

static bool pool_exported(const struct tconf *c, const char *pool)
{
	for (size_t e = 0; e < c->nr_exports; e++) {
		const struct tconf_volume *v = tconf_volume(c, c->exports[e].volume);
		if (v && !strcmp(v->pool, pool))
			return true;
	}
	return false;
}

static struct st_request *add_request(struct st_request **rq, size_t *n, bool claim,
				      const char *pool, const char *volume)
{
	struct st_request *r = realloc(*rq, (*n + 1) * sizeof(*r));
	if (!r)
		return NULL;
	*rq = r;
	r = &r[(*n)++];
	memset(r, 0, sizeof(*r));
	r->claim = claim;
	if (claim)
		snprintf(r->req, sizeof(r->req), "alua-claim %s %s", pool, volume);
	else
		snprintf(r->req, sizeof(r->req), "alua-sync %s", pool);
	return r;
}

int st_alua_requests(const struct tconf *c, const struct tconf_blade *local,
		     struct st_request **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < c->nr_pools; i++) {
		const struct tconf_pool *tp = &c->pools[i];
		if (!tp->shared || !pool_exported(c, tp->name))
			continue;
		for (size_t e = 0; e < c->nr_exports; e++) {
			const struct tconf_export *x = &c->exports[e];
			const struct tconf_volume *v = tconf_volume(c, x->volume);
			if (v && !strcmp(v->pool, tp->name) && local && !strcmp(x->owner, local->name) &&
			    !add_request(out, n, true, tp->name, v->name))
				return -ENOMEM;
		}
		if (!add_request(out, n, false, tp->name, NULL))
			return -ENOMEM;
	}
	return 0;
}

size_t st_alua_send(struct st_request *rq, size_t n)
{
	char *msg = malloc(CTL_MSG_MAX);
	size_t failed = 0;
	for (size_t i = 0; i < n; i++) {
		struct st_request *r = &rq[i];
		if (msg)
			msg[0] = 0;
		r->code = msg ? ctl_request(r->req, msg, CTL_MSG_MAX) : -ENOMEM;
		/* not reached: ctl_request's words are about a pool another process holds */
		const char *why = msg ? strstr(msg, "no vlun handler answers") : NULL;
		snprintf(r->answer, sizeof(r->answer), "%s",
			 why ? why : msg && msg[0] ? msg : r->code ? strerror(-r->code) : "");
		failed += r->code != 0;
	}
	free(msg);
	return failed;
}
