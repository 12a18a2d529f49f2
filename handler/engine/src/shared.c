/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared pools (format 2): several blades serve one pool, one owner per volume.
 *
 * The leases live in the pool's lease area (docs/on-disk-format.md) and are held
 * through a lease provider (sanlock in production).  What each lease guards:
 *   - the lockspace: a blade takes part at all (its host id, renewed by sanlock);
 *   - "pool": pool-wide changes (create, delete, resize, rename), one blade at a time;
 *     every change ends by bumping the change record, which the others poll;
 *   - "ag-N": allocation group N, whose extents and metadata blocks only the holder
 *     allocates (alloc.c), so allocation takes no lease per extent;
 *   - "vol-S": the volume in slot S; only the holder reads, writes and commits it.  The
 *     lease's version at acquire is the volume's owner_epoch, written with every
 *     commit; a commit that finds a newer epoch or generation on disk fences the
 *     volume here (the provider fences the process as a whole: sanlock's FORCE).
 *
 * What this blade knows of extents used by other blades only ever grows between
 * opens (their maps are merged into ours, never subtracted), so a stale view can leak
 * space until the next open but can never hand an extent to two volumes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define ADMIN_TRIES 200        /* x 25 ms: waiting for another blade's pool change */

static void space_name(const struct vl_pool *p, char out[VL_LEASE_NAME_MAX + 1])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", p->uuid[i]);
}

static void lease_at(const struct vl_pool *p, struct vl_lease *l, uint64_t unit, const char *kind,
		     int arg)
{
	memset(l, 0, sizeof(*l));
	space_name(p, l->space);
	if (arg < 0)
		snprintf(l->name, sizeof(l->name), "%s", kind);
	else
		snprintf(l->name, sizeof(l->name), "%s-%d", kind, arg);
	l->path = p->m[p->sb.shared.lease_member].path;
	l->offset = p->sb.shared.lease_off + unit * VL_LEASE_ALIGN;
}

void vl_lease_vol(struct vl_pool *p, uint32_t slot, struct vl_lease *l)
{
	lease_at(p, l, (uint64_t)VL_LA_AG0 + p->sb.shared.nr_ags + slot, "vol", (int)slot);
}

static void lease_ag(struct vl_pool *p, uint32_t g, struct vl_lease *l)
{
	lease_at(p, l, (uint64_t)VL_LA_AG0 + g, "ag", (int)g);
}

static void lease_pool(struct vl_pool *p, struct vl_lease *l)
{
	lease_at(p, l, VL_LA_POOL, "pool", -1);
}

uint64_t vl_msg_unit_off(const struct vl_pool *p)
{
	return p->sb.shared.lease_off + (uint64_t)VL_LA_MSG * VL_LEASE_ALIGN;
}

/* ---- the change record ---- */

static int change_read(struct vl_pool *p, uint64_t *seq)
{
	VL_AUTOFREE struct vl_change *c = aligned_alloc(VL_BLK, VL_BLK);
	if (!c)
		return -ENOMEM;
	int r = vl_io_read(p, p->sb.shared.lease_member, c, VL_BLK, vl_msg_unit_off(p));
	if (r)
		return r;
	if (vl_blk_verify(c, VL_BT_CHANGE, p->uuid, p->uuid, 0))
		return -EBADMSG;
	*seq = c->h.gen;
	return 0;
}

static int change_write(struct vl_pool *p, uint64_t seq, uint64_t host, const char *what)
{
	VL_AUTOFREE struct vl_change *c = aligned_alloc(VL_BLK, VL_BLK);
	if (!c)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->h.type = VL_BT_CHANGE;
	c->h.version = VL_FORMAT_SHARED;
	c->h.gen = seq;
	memcpy(c->h.pool_uuid, p->uuid, 16);
	memcpy(c->h.obj_uuid, p->uuid, 16);
	c->host_id = host;
	c->time = (uint64_t)time(NULL);
	snprintf(c->what, sizeof(c->what), "%s", what);
	vl_blk_seal(c);
	uint32_t lm = p->sb.shared.lease_member;
	int r = vl_io_write(p, lm, c, VL_BLK, vl_msg_unit_off(p), true);
	return r ? r : vl_io_sync(p, lm);
}

/* Milliseconds since t0 (CLOCK_MONOTONIC).  Signed: the nanosecond difference is often
 * negative (an unsigned one once made a wait end at a random early moment). */
static unsigned ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
	return ms < 0 ? 0 : (unsigned)ms;
}

/* Acquire, retrying every 2 ms for up to timeout_ms while the lease is held. */
static int acquire_wait(struct vl_vol *v, unsigned timeout_ms, struct vl_diag *d)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct vl_diag d2 = {{0}};
		int r = vl_vol_acquire(v, &d2);
		if (r != -EBUSY || ms_since(&t0) >= timeout_ms) {
			if (r)
				*d = d2;
			return r;
		}
		usleep(2000);
	}
}

int vl_vol_takeover(struct vl_vol *v, unsigned timeout_ms, unsigned flags, struct vl_diag *d)
{
	return vl_vol_takeover_timed(v, timeout_ms, flags, NULL, NULL, d);
}

static int takeover(struct vl_vol *v, unsigned timeout_ms, unsigned flags, struct vl_diag *d);

int vl_vol_takeover_timed(struct vl_vol *v, unsigned timeout_ms, unsigned flags, unsigned *wait_ms,
			  unsigned *acquire_ms, struct vl_diag *d)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	v->last_acquire_ms = 0;
	int r = takeover(v, timeout_ms, flags, d);
	unsigned all = ms_since(&t0), acq = r ? 0 : v->last_acquire_ms;
	if (wait_ms)
		*wait_ms = all > acq ? all - acq : 0;
	if (acquire_ms)
		*acquire_ms = acq;
	return r;
}

/* Who holds the volume's lease: the provider knows; else the last owner on disk. */
static uint64_t holder_of(struct vl_vol *v)
{
	struct vl_pool *p = v->pool;
	struct vl_lease l;
	uint64_t ver, holder = 0;
	vl_lease_vol(p, v->slot, &l);
	if (!p->sh.ops->holder || p->sh.ops->holder(p->sh.ctx, &l, &holder, &ver) || !holder) {
		VL_AUTOFREE struct vl_volhdr *vh = aligned_alloc(VL_BLK, VL_BLK);
		uint32_t copy;
		holder = vh && !vl_slot_read(p, v->slot, vh, &copy) ? vh->owner_node : 0;
	}
	return holder;
}

uint64_t vl_vol_holder(struct vl_vol *v)
{
	return v->pool->is_shared && v->pool->sh.on ? holder_of(v) : 0;
}

static int takeover(struct vl_vol *v, unsigned timeout_ms, unsigned flags, struct vl_diag *d)
{
	struct vl_pool *p = v->pool;
	int r = vl_vol_acquire(v, d);
	if (r != -EBUSY || !p->is_shared)
		return r;
	struct vl_lease l;
	uint64_t holder = holder_of(v);
	vl_lease_vol(p, v->slot, &l);
	if (flags & VL_TAKEOVER_SILENT) {
		/* the caller knows the holder does not answer: asking it is no use */
		if (!(flags & VL_TAKEOVER_FORCE))
			return vl_diag_set(d, -EBUSY,
					   "volume '%s' is owned by the blade with host id %" PRIu64
					   ", which does not answer (its status block stopped "
					   "changing): move with force to fence it",
					   v->name, holder);
	} else {
		struct vl_msg_entry e = {.kind = VL_MSG_RELEASE, .slot = v->slot};
		memcpy(e.vol_uuid, v->uuid, 16);
		int s = vl_msg_send(p, holder, &e, 1);
		if (s && !(flags & VL_TAKEOVER_FORCE))
			return vl_diag_set(d, -EBUSY,
					   "volume '%s' is owned by the blade with host id %" PRIu64
					   " and cannot be asked to let go (%s): release it there",
					   v->name, holder,
					   s == -EOPNOTSUPP ? "message slots serve host ids 1-15"
							    : strerror(-s));
		if (!s && (r = acquire_wait(v, timeout_ms, d)) != -EBUSY)
			return r;
		if (!(flags & VL_TAKEOVER_FORCE))
			return vl_diag_set(d, -EBUSY,
					   "volume '%s': the blade with host id %" PRIu64
					   " did not let go within %u ms",
					   v->name, holder, timeout_ms);
	}
	/* it does not answer: its node's sanlock kills the holder (a hung node is reset by
	 * its watchdog before its lease can expire) */
	vl_pool_finding(p, "volume %s: the blade with host id %" PRIu64 " did not let go; "
			   "fencing it",
			v->name, holder);
	if (!p->sh.ops->request_force)
		return vl_diag_set(d, -EOPNOTSUPP, "the lease provider cannot fence");
	if ((r = p->sh.ops->request_force(p->sh.ctx, &l)))
		return vl_diag_set(d, r, "volume '%s': fencing its owner (host id %" PRIu64
					 ") failed: %s",
				   v->name, holder, strerror(-r));
	r = acquire_wait(v, timeout_ms, d);
	return r == -EBUSY ? vl_diag_set(d, -EBUSY,
					  "volume '%s': its owner (host id %" PRIu64 ") was told to "
					  "die but the lease is not free yet; retry",
					  v->name, holder)
			   : r;
}

/* ---- converting a pool ---- */

int vl_pool_share(struct vl_pool *p, const struct vl_share_opts *o, const struct vl_lease_ops *ops,
		  void *ctx, struct vl_diag *d)
{
	VL_LOCK_SCOPE(&p->lock);
	if (p->is_shared)
		return vl_diag_set(d, -EEXIST, "pool %s is shared already", p->sb.pool_name);
	if (p->flags & (VL_OPEN_RDONLY | VL_OPEN_NOLOCK))
		return vl_diag_set(d, -EROFS, "pool %s must be opened exclusively to be converted",
				   p->sb.pool_name);
	if (atomic_load(&p->failed))
		return vl_diag_set(d, -EIO, "pool has failed after an I/O error; reopen it");
	if (!ops || !ops->format_space || !ops->format_lease)
		return vl_diag_set(d, -EINVAL, "no lease provider to write the leases with");
	struct vl_sb_shared x = {
		.flags = VL_SHF_SHARED,
		.nr_ags = o && o->nr_ags ? o->nr_ags : VL_AGS_DEFAULT,
		.nr_slots = o && o->nr_slots ? o->nr_slots : VL_SHARED_SLOTS_DEFAULT,
		.max_hosts = o && o->max_hosts ? o->max_hosts : 64,
		.io_timeout = o && o->io_timeout ? o->io_timeout : VL_IO_TIMEOUT_DEFAULT,
	};
	if (x.nr_slots > p->sb.max_volumes)
		x.nr_slots = p->sb.max_volumes;
	if (x.nr_ags > VL_AG_MAX)
		return vl_diag_set(d, -EINVAL, "at most %u allocation groups", VL_AG_MAX);
	if (x.max_hosts > VL_LS_MAX_HOSTS)
		return vl_diag_set(d, -EINVAL, "at most %u blades (host ids)", VL_LS_MAX_HOSTS);
	if (x.io_timeout > 300)
		return vl_diag_set(d, -EINVAL, "io timeout: at most 300 s");
	for (uint32_t s = x.nr_slots; s < p->sb.max_volumes; s++)
		if (p->slots[s])
			return vl_diag_set(d, -ENOSPC,
					   "volume '%s' is in slot %u; a shared pool of %u volumes "
					   "keeps them in slots 0-%u: ask for at least %u volumes",
					   p->slots[s]->name, s, x.nr_slots, x.nr_slots - 1, s + 1);
	/* the lease area: the end of the first metadata mirror, after its last extent */
	uint32_t lm = p->sb.mirrors[0];
	struct vl_member *m = &p->m[lm];
	uint64_t units = (uint64_t)VL_LA_AG0 + x.nr_ags + x.nr_slots;
	x.lease_member = lm;
	x.lease_len = units * VL_LEASE_ALIGN;
	uint64_t msize = p->sb.members[lm].size;
	if (msize < p->sb.data_off + x.lease_len + p->extent_size)
		return vl_diag_set(d, -ENOSPC, "member %s is too small for a lease area of %" PRIu64
					       " MiB",
				   m->path, x.lease_len >> 20);
	x.lease_off = (msize - x.lease_len) / VL_LEASE_ALIGN * VL_LEASE_ALIGN;
	uint32_t keep = (uint32_t)((x.lease_off - p->sb.data_off) >> p->ext_shift);
	if (keep > m->nr_ext)
		keep = m->nr_ext;
	for (uint32_t e = keep; e < m->nr_ext; e++)
		if (m->bm[e >> 6] >> (e & 63) & 1)
			return vl_diag_set(d, -ENOSPC,
					   "the lease area needs the last %" PRIu64 " MiB of %s, but "
					   "extent %u there holds data; free it (move the volume's "
					   "data elsewhere) or add a member first",
					   x.lease_len >> 20, m->path, e);
	/* 1. the leases, in space no volume uses: a crash here leaves a format 1 pool */
	struct vl_lease_space ls = {.path = m->path, .offset = x.lease_off,
				    .max_hosts = x.max_hosts, .io_timeout = x.io_timeout};
	space_name(p, ls.name);
	struct vl_sb nsb = p->sb;
	nsb.shared = x; /* lease_at reads the geometry from p->sb: set it for the writes */
	struct vl_sb saved = p->sb;
	p->sb.shared = x;
	int r = ops->format_space(ctx, &ls);
	struct vl_lease l;
	if (!r) {
		lease_pool(p, &l);
		r = ops->format_lease(ctx, &l);
	}
	for (uint32_t g = 0; g < x.nr_ags && !r; g++) {
		lease_ag(p, g, &l);
		r = ops->format_lease(ctx, &l);
	}
	for (uint32_t s = 0; s < x.nr_slots && !r; s++) {
		vl_lease_vol(p, s, &l);
		r = ops->format_lease(ctx, &l);
	}
	if (!r) { /* the message unit: no stale bytes from old data where slots are read */
		VL_AUTOFREE uint8_t *z = aligned_alloc(VL_BLK, VL_LEASE_ALIGN);
		r = z ? 0 : -ENOMEM;
		if (z) {
			memset(z, 0, VL_LEASE_ALIGN);
			r = vl_io_write(p, lm, z, VL_LEASE_ALIGN, vl_msg_unit_off(p), true);
		}
	}
	if (!r)
		r = change_write(p, 1, 0, "pool shared");
	p->sb = saved;
	if (r)
		return vl_diag_set(d, r, "writing the leases on %s failed: %s", m->path, strerror(-r));
	/* 2. the superblocks: the newest one decides, so the pool is shared from the first
	 * member written on, and a crash before that leaves it as it was */
	nsb.h.version = VL_FORMAT_SHARED;
	nsb.members[lm].extents = keep;
	if ((r = vl_sb_commit(p, &nsb)))
		return vl_diag_set(d, r, "writing the superblocks failed: %s (reopen the pool: it "
					 "opens as it was or shared)",
				   strerror(-r));
	m->nr_free -= m->nr_ext - keep;
	m->nr_ext = keep;
	return 0;
}

/* ---- opening and closing ---- */

int vl_shared_open(struct vl_pool *p, const struct vl_pool_open_opts *o, struct vl_diag *d)
{
	const struct vl_sb_shared *x = &p->sb.shared;
	const struct vl_lease_ops *ops = o->lease;
	if (!ops || !ops->join || !ops->acquire || !ops->release)
		return vl_diag_set(d, -EINVAL, "the lease provider lacks join/acquire/release");
	if (o->host_id == 0 || o->host_id > x->max_hosts)
		return vl_diag_set(d, -EINVAL,
				   "host id %" PRIu64 " is out of range: pool %s takes blades "
				   "with host ids 1-%u",
				   o->host_id, p->sb.pool_name, x->max_hosts);
	struct vl_shared *sh = &p->sh;
	sh->ops = ops;
	sh->ctx = o->lease_ctx;
	space_name(p, sh->ls.name);
	sh->ls.path = p->m[x->lease_member].path;
	sh->ls.offset = x->lease_off;
	sh->ls.host_id = o->host_id;
	sh->ls.max_hosts = x->max_hosts;
	sh->ls.io_timeout = x->io_timeout;
	int r = ops->join(sh->ctx, &sh->ls);
	if (r)
		return vl_diag_set(d, r,
				   "cannot join the lockspace of shared pool %s as host id %" PRIu64
				   " (%s): is sanlock running (systemctl start wdmd sanlock) and "
				   "is another blade using this host id?",
				   p->sb.pool_name, o->host_id, strerror(-r));
	if ((r = vl_msg_init(p)))
		return vl_diag_set(d, r, "pool %s: cannot read the message slots: %s",
				   p->sb.pool_name, strerror(-r));
	if ((r = change_read(p, &sh->change_seq)))
		return vl_diag_set(d, r, "pool %s: cannot read the change record: %s",
				   p->sb.pool_name, strerror(-r));
	pthread_mutex_lock(&p->alloc_lock);
	sh->on = true;
	vl_ag_recount(p); /* no group held yet: nothing to allocate from */
	pthread_mutex_unlock(&p->alloc_lock);
	r = vl_ag_grow(p);
	return r == -ENOSPC ? 0 : r; /* every group taken: allocation asks again later */
}

void vl_shared_close(struct vl_pool *p)
{
	struct vl_shared *sh = &p->sh;
	struct vl_lease l;
	for (uint32_t g = 0; sh->on && g < p->sb.shared.nr_ags; g++)
		if (sh->ag_held[g / 64] >> (g % 64) & 1) {
			lease_ag(p, g, &l);
			(void)sh->ops->release(sh->ctx, &l);
		}
	/* The lockspace is the blade's, not this process's: another process of this node
	 * (tcmu-runner, while vlunctl runs) may hold leases in it, and leaving would end
	 * them.  Leases end with the process; the blade leaves when sanlock stops. */
	sh->on = false;
}

/* ---- allocation groups ---- */

/* Merge what every volume on disk uses into the allocators (see the top). */
static int merge_disk_usage(struct vl_pool *p)
{
	VL_AUTOFREE struct vl_volhdr *vh = aligned_alloc(VL_BLK, VL_BLK);
	if (!vh)
		return -ENOMEM;
	for (uint32_t s = 0; s < p->sb.shared.nr_slots; s++) {
		int r = -EAGAIN;
		for (int tries = 0; tries < 20 && r == -EAGAIN; tries++) {
			uint32_t copy;
			r = vl_slot_read(p, s, vh, &copy);
			if (r == -ENOENT || (!r && vh->state != VL_VOL_LIVE)) {
				r = 0;
				break;
			}
			struct vl_vol *t = NULL;
			if (!r && !(r = vl_vol_load(p, vh, copy, true, &t)))
				vl_vol_free(t);
		}
		if (r)
			return r;
	}
	return 0;
}

int vl_ag_grow(struct vl_pool *p)
{
	struct vl_shared *sh = &p->sh;
	uint32_t G = p->sb.shared.nr_ags;
	VL_LOCK_SCOPE(&sh->ag_lock);
	uint32_t start = (uint32_t)((sh->ls.host_id - 1) * 5 % G);
	for (uint32_t k = 0; k < G; k++) {
		uint32_t g = (start + k) % G;
		if (sh->ag_held[g / 64] >> (g % 64) & 1)
			continue;
		struct vl_lease l;
		uint64_t ver, holder;
		lease_ag(p, g, &l);
		int r = sh->ops->acquire(sh->ctx, &l, &ver, &holder);
		if (r == -EBUSY || r == -EAGAIN)
			continue;
		if (r)
			return r;
		/* its previous holder committed all it allocated there before letting go */
		if ((r = merge_disk_usage(p))) {
			(void)sh->ops->release(sh->ctx, &l);
			return r;
		}
		VL_LOCK_SCOPE(&p->alloc_lock);
		sh->ag_held[g / 64] |= 1ull << (g % 64);
		sh->nr_held++;
		vl_ag_recount(p);
		return 0;
	}
	return -ENOSPC;
}

/* ---- ownership ---- */

int vl_fence_check(struct vl_vol *v)
{
	struct vl_pool *p = v->pool;
	VL_AUTOFREE struct vl_volhdr *vh = aligned_alloc(VL_BLK, VL_BLK);
	if (!vh)
		return -ENOMEM;
	uint32_t copy;
	int r = vl_slot_read(p, v->slot, vh, &copy);
	if (r == -ENOENT) /* a new volume's first commit */
		return v->gen == p->slot_gen[v->slot] ? 0 : -ESTALE;
	if (r)
		return r;
	if (vh->h.gen == v->gen && vh->owner_epoch <= v->owner_epoch)
		return 0;
	v->fenced = true;
	atomic_store(&v->owned, false);
	vl_pool_finding(p,
			"volume %s: fenced: the disk holds generation %" PRIu64 " of blade %" PRIu64
			" (epoch %" PRIu64 "), this blade had generation %" PRIu64 " (epoch %" PRIu64
			"); nothing more of it is written here",
			v->name, vh->h.gen, vh->owner_node, vh->owner_epoch, v->gen, v->owner_epoch);
	return -ESTALE;
}

/* Caller holds p->lock. */
int vl_vol_lease_take(struct vl_vol *v, bool reload, struct vl_diag *d)
{
	struct vl_pool *p = v->pool;
	struct vl_shared *sh = &p->sh;
	if (v->lease_held)
		return 0;
	struct vl_lease l;
	uint64_t ver = 0, holder = 0;
	vl_lease_vol(p, v->slot, &l);
	int r = sh->ops->acquire(sh->ctx, &l, &ver, &holder);
	if (r == -EBUSY)
		return holder ? vl_diag_set(d, r, "volume '%s' is owned by the blade with host id "
						  "%" PRIu64 "; it must release it first",
					    v->name, holder)
			      : vl_diag_set(d, r, "volume '%s' is owned by another blade", v->name);
	if (r == -EAGAIN)
		return vl_diag_set(d, -EBUSY,
				   "volume '%s': its last owner (host id %" PRIu64 ") stopped "
				   "renewing its lease, which has not expired yet; try again later",
				   v->name, holder);
	if (r)
		return vl_diag_set(d, r, "volume '%s': cannot acquire its lease: %s", v->name,
				   strerror(-r));
	v->lease_held = true;
	if (reload && (r = vl_vol_reload(v))) {
		(void)sh->ops->release(sh->ctx, &l);
		v->lease_held = false;
		return vl_diag_set(d, r, "volume '%s': cannot read its metadata: %s", v->name,
				   strerror(-r));
	}
	pthread_mutex_lock(&v->lock);
	v->owner_node = sh->ls.host_id;
	v->owner_epoch = ver;
	v->fenced = false;
	v->hdr_dirty = true;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* Caller holds p->lock.  The volume is committed (or fenced) already. */
void vl_vol_lease_drop(struct vl_vol *v)
{
	struct vl_pool *p = v->pool;
	if (!v->lease_held)
		return;
	struct vl_lease l;
	vl_lease_vol(p, v->slot, &l);
	(void)p->sh.ops->release(p->sh.ctx, &l);
	v->lease_held = false;
}

int vl_vol_acquire(struct vl_vol *v, struct vl_diag *d)
{
	struct vl_pool *p = v->pool;
	if (!p->is_shared)
		return 0;
	if (!p->sh.on)
		return vl_diag_set(d, -EROFS, "pool %s is open without its leases", p->sb.pool_name);
	VL_LOCK_SCOPE(&p->lock);
	if (atomic_load(&v->owned))
		return 0;
	if (v->gone)
		return vl_diag_set(d, -ENOENT, "volume '%s' was deleted by another blade", v->name);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = vl_vol_lease_take(v, true, d);
	if (r)
		return r;
	r = vl_vol_commit(v); /* the new epoch on disk: every older owner is fenced */
	if (r) {
		vl_vol_lease_drop(v);
		return vl_diag_set(d, r, "volume '%s': cannot commit its new owner: %s", v->name,
				   strerror(-r));
	}
	atomic_store(&v->owned, true);
	v->last_acquire_ms = ms_since(&t0);
	(void)vl_status_write_locked(p); /* the claim, for the other blades' ALUA view */
	return 0;
}

int vl_vol_claim(struct vl_vol *v, struct vl_diag *d)
{
	struct vl_pool *p = v->pool;
	if (!p->is_shared || atomic_load(&v->owned))
		return 0;
	VL_AUTOFREE struct vl_volhdr *vh = aligned_alloc(VL_BLK, VL_BLK);
	if (!vh)
		return vl_diag_set(d, -ENOMEM, "out of memory");
	uint32_t copy;
	int r = vl_slot_read(p, v->slot, vh, &copy);
	if (r && r != -ENOENT)
		return vl_diag_set(d, r, "volume '%s': cannot read its header: %s", v->name,
				   strerror(-r));
	/* nobody else took it since: a volume never owned, or one this blade owned last
	 * (also after a reset: the states every blade reports name it still) */
	if (!r && vh->owner_node && vh->owner_node != p->sh.ls.host_id)
		return vl_diag_set(d, -EBUSY,
				   "volume '%s' was last owned by the blade with host id %" PRIu64
				   " (epoch %" PRIu64 "); it stays there until moved",
				   v->name, vh->owner_node, vh->owner_epoch);
	return vl_vol_acquire(v, d);
}

int vl_vol_release(struct vl_vol *v)
{
	struct vl_pool *p = v->pool;
	if (!p->is_shared)
		return 0;
	VL_LOCK_SCOPE(&p->lock);
	if (!v->lease_held)
		return 0;
	atomic_store(&v->owned, false);
	vl_vol_grace(v);            /* every I/O that passed the ownership check is done */
	int r = vl_vol_commit(v);   /* commits, and flushes the data on the members */
	vl_vol_lease_drop(v);
	(void)vl_status_write_locked(p);
	return r;
}

bool vl_vol_owned(const struct vl_vol *v) { return atomic_load(&v->owned); }

/* ---- pool-wide changes ---- */

int vl_admin_begin(struct vl_pool *p, struct vl_diag *d)
{
	if (!p->is_shared)
		return 0;
	if (!p->sh.on)
		return vl_diag_set(d, -EROFS, "pool %s is shared and open without its leases",
				   p->sb.pool_name);
	struct vl_lease l;
	uint64_t ver, holder = 0;
	lease_pool(p, &l);
	int r = -EBUSY;
	for (int i = 0; i < ADMIN_TRIES && (r == -EBUSY || r == -EAGAIN); i++) {
		r = p->sh.ops->acquire(p->sh.ctx, &l, &ver, &holder);
		if (r == -EBUSY || r == -EAGAIN)
			usleep(25000);
	}
	if (r)
		return vl_diag_set(d, r == -EAGAIN ? -EBUSY : r,
				   "pool %s is being changed by the blade with host id %" PRIu64
				   "; try again",
				   p->sb.pool_name, holder);
	if ((r = vl_refresh_locked(p))) {
		(void)p->sh.ops->release(p->sh.ctx, &l);
		return vl_diag_set(d, r, "pool %s: cannot re-read the volume table: %s",
				   p->sb.pool_name, strerror(-r));
	}
	return 0;
}

void vl_admin_end(struct vl_pool *p, const char *what, bool changed)
{
	if (!p->is_shared || !p->sh.on)
		return;
	if (changed) {
		uint64_t seq = 0;
		if (change_read(p, &seq) == 0 &&
		    change_write(p, seq + 1, p->sh.ls.host_id, what) == 0)
			p->sh.change_seq = seq + 1;
	}
	struct vl_lease l;
	lease_pool(p, &l);
	(void)p->sh.ops->release(p->sh.ctx, &l);
}

/* Caller holds p->lock: bring the volume table up to what the disks say. */
int vl_refresh_locked(struct vl_pool *p)
{
	VL_AUTOFREE struct vl_volhdr *vh = aligned_alloc(VL_BLK, VL_BLK);
	if (!vh)
		return -ENOMEM;
	for (uint32_t s = 0; s < p->sb.shared.nr_slots; s++) {
		uint32_t copy = 0;
		int r = vl_slot_read(p, s, vh, &copy);
		if (r && r != -ENOENT)
			return r;
		struct vl_vol *v = p->slots[s];
		bool live = !r && vh->state == VL_VOL_LIVE;
		if (v && (v->lease_held || atomic_load(&v->owned)))
			continue; /* ours: this blade's copy is the truth */
		if (!r) {
			p->slot_gen[s] = vh->h.gen;
			p->slot_copy[s] = (uint8_t)copy;
		}
		if (v && (!live || memcmp(v->uuid, vh->h.obj_uuid, 16))) {
			/* deleted elsewhere; its extents stay marked (see the top) */
			p->slots[s] = NULL;
			p->nr_vols--;
			if (v->open_count) {
				v->gone = true; /* freed at pool close */
				v->gone_next = p->gone;
				p->gone = v;
			} else {
				vl_vol_free(v);
			}
			v = NULL;
		}
		if (!live)
			continue;
		if (v) {
			if (v->gen != vh->h.gen && (r = vl_vol_reload(v)))
				return r;
			continue;
		}
		struct vl_vol *n = NULL;
		r = -EAGAIN;
		for (int tries = 0; tries < 20 && r == -EAGAIN; tries++) {
			r = vl_vol_load(p, vh, copy, true, &n);
			if (r == -EAGAIN && vl_slot_read(p, s, vh, &copy))
				break;
		}
		if (r)
			return r;
		p->slots[s] = n;
		p->nr_vols++;
	}
	return 0;
}

int vl_pool_poll(struct vl_pool *p, bool *changed)
{
	*changed = false;
	if (!p->is_shared)
		return 0;
	uint64_t seq;
	int r = change_read(p, &seq);
	if (r)
		return r;
	VL_LOCK_SCOPE(&p->lock);
	if (seq == p->sh.change_seq)
		return 0;
	if ((r = vl_refresh_locked(p)))
		return r;
	p->sh.change_seq = seq;
	*changed = true;
	return 0;
}

void vl_pool_shared_info(struct vl_pool *p, struct vl_shared_info *in)
{
	memset(in, 0, sizeof(*in));
	if (!p->is_shared)
		return;
	const struct vl_sb_shared *x = &p->sb.shared;
	in->shared = true;
	in->host_id = p->sh.on ? p->sh.ls.host_id : 0;
	in->nr_ags = x->nr_ags;
	in->ags_held = p->sh.nr_held;
	in->nr_slots = x->nr_slots;
	in->max_hosts = x->max_hosts;
	in->io_timeout = x->io_timeout;
	in->lease_member = x->lease_member;
	in->lease_off = x->lease_off;
	in->lease_len = x->lease_len;
	in->change_seq = p->sh.change_seq;
}

int vl_pool_lease_space(struct vl_pool *p, struct vl_lease_space *ls)
{
	if (!p->is_shared)
		return -EINVAL;
	const struct vl_sb_shared *x = &p->sb.shared;
	memset(ls, 0, sizeof(*ls));
	space_name(p, ls->name);
	ls->path = p->m[x->lease_member].path;
	ls->offset = x->lease_off;
	ls->host_id = p->sh.on ? p->sh.ls.host_id : 0;
	ls->max_hosts = x->max_hosts;
	ls->io_timeout = x->io_timeout;
	return 0;
}
