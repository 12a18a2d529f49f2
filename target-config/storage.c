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
#include "vlun/engine.h"

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

int st_plan(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e)
{
	memset(p, 0, sizeof(*p));
	p->vs = calloc(c->nr_volumes + 1, sizeof(*p->vs));
	if (!p->vs)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_pools; i++) {
		const struct tconf_pool *tp = &c->pools[i];
		struct poolconf pc;
		struct vl_diag d = {{0}};
		if (poolconf_load(confdir, tp->name, &pc, &d) == 0) {
			/* defined already: its members are what the pool says (it may have grown) */
			poolconf_free(&pc);
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
		for (size_t i = 0; i < p->n; i++)
			new_pool |= p->a[i].act == ST_POOL && !strcmp(c->pools[p->a[i].idx].name, tv->pool);
		if (new_pool) {
			/* the pool is created by this run */
			if (!add(p, ST_VOLUME, v, tv->size))
				return -ENOMEM;
			continue;
		}
		int r = open_ro(confdir, tv->pool, &pool, &d);
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
		switch (a->act) {
		case ST_MEMBER_FILE:
			fprintf(f, "  + member file %s (%s, sparse)\n", a->path, s);
			break;
		case ST_POOL:
			fprintf(f, "  + pool %s (%zu member(s))\n", c->pools[a->idx].name,
				c->pools[a->idx].nr_members);
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
	struct vl_pool_create_opts o = {.extent_size = tp->extent_size};
	struct vl_pool *pool;
	int r = vl_pool_create(tp->name, (const char *const *)tp->members, tp->nr_members, &o, &pool, d);
	if (r)
		return r;
	struct poolconf pc;
	if ((r = poolconf_from_pool(pool, &pc)) == 0) {
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

enum vol_op { VOL_CREATE, VOL_GROW, VOL_DELETE };

/* A volume change on a pool this process can open, else through the handler of the
 * tcmu-runner that serves (and locks) it. */
static int vol_change(const char *confdir, const struct tconf_volume *tv, enum vol_op op,
		      uint64_t size, struct vl_diag *d)
{
	struct vl_pool *pool;
	int r = open_defined(confdir, tv->pool, 0, &pool, d);
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
	vl_pool_close(pool);
	return r;
}

int st_apply(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e)
{
	int r = 0;
	for (size_t i = 0; i < p->n && !r; i++) {
		struct st_action *a = &p->a[i];
		struct vl_diag d = {{0}};
		switch (a->act) {
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
		case ST_VOLUME:
		case ST_GROW:
			if (!(r = vol_change(confdir, &c->volumes[a->idx],
					     a->act == ST_VOLUME ? VOL_CREATE : VOL_GROW, a->size, &d)))
				a->done = true;
			break;
		}
		if (r)
			tconf_err(e, c->file, 0, "%s", d.msg[0] ? d.msg : strerror(-r));
	}
	if (r)
		st_undo(c, confdir, p, e);
	else
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
		case ST_MEMBER_FILE:
			r = unlink(a->path) ? -errno : 0;
			break;
		case ST_POOL: {
			struct vl_pool *pool;
			const struct tconf_pool *tp = &c->pools[a->idx];
			if (!(r = vl_pool_open((const char *const *)tp->members, tp->nr_members, 0, &pool, &d))) {
				r = vl_pool_destroy(pool, true, &d);
				vl_pool_close(pool);
			}
			if (!r)
				r = poolconf_remove(confdir, tp->name);
			break;
		}
		case ST_VOLUME:
			r = vol_change(confdir, &c->volumes[a->idx], VOL_DELETE, 0, &d);
			break;
		case ST_GROW:
			r = -EOPNOTSUPP; /* growing is not taken back: no data lives there yet */
			break;
		}
		if (r && a->act != ST_GROW)
			tconf_err(e, c->file, 0, "could not undo the creation of %s: %s",
				  a->act == ST_MEMBER_FILE ? a->path
				  : a->act == ST_POOL     ? c->pools[a->idx].name
							  : c->volumes[a->idx].name,
				  d.msg[0] ? d.msg : strerror(-r));
		else if (!r)
			a->done = false;
	}
}

void st_plan_free(struct st_plan *p)
{
	free(p->a);
	free(p->vs);
	memset(p, 0, sizeof(*p));
}
