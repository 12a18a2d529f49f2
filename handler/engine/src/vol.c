/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Volumes: loading a volume's metadata, the copy-on-write commit that makes
 * its map durable, and the administrative operations.
 *
 * Commit protocol (per volume, serialised by commit_lock):
 *   1. snapshot dirty map pages into fresh metadata blocks (never in place)
 *      and rebuild the index pages that point at them;
 *   2. write those blocks to every metadata mirror;
 *   3. fdatasync every member with unsynced data and every mirror;
 *   4. write the volume header (generation + 1) into the table copy that
 *      does not hold the current header, on every mirror; fdatasync mirrors;
 *   5. after a grace period for in-flight I/O, return the extents the commit
 *      freed and the superseded metadata blocks to the allocators.
 * A crash before 4 completes leaves the previous header, whose blocks were
 * not touched; a torn header fails its checksum and the previous one wins.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

int vl_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct vl_vol *vl_vol_find(struct vl_pool *p, const char *name)
{
	for (uint32_t s = 0; s < p->sb.max_volumes; s++)
		if (p->slots[s] && strcmp(p->slots[s]->name, name) == 0)
			return p->slots[s];
	return NULL;
}

static bool vl_entry_valid(struct vl_pool *p, uint32_t e)
{
	return vl_entry_member(e) < p->nr_members &&
	       vl_entry_local(e) < p->m[vl_entry_member(e)].nr_ext;
}

static struct vl_vol *vol_new(struct vl_pool *p)
{
	struct vl_vol *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->pool = p;
	atomic_store(&v->owned, !p->is_shared);
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->commit_lock, NULL);
	return v;
}

void vl_vol_free(struct vl_vol *v)
{
	if (!v)
		return;
	vl_map_destroy(v);
	free(v->pending.v);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->commit_lock);
	free(v);
}

static void damage(struct vl_vol *v, const char *what, bool fixable)
{
	v->unfixable |= !fixable;
	if (!v->damaged)
		snprintf(v->damage, sizeof(v->damage), "%s", what);
	v->damaged = true;
	vl_pool_finding(v->pool, "volume %s: %s", v->name, what);
}

int vl_vol_load(struct vl_pool *p, const struct vl_volhdr *vh, uint32_t copy, bool reload,
		struct vl_vol **out)
{
	struct vl_vol *v = vol_new(p);
	if (!v)
		return -ENOMEM;
	memcpy(v->name, vh->name, sizeof(v->name));
	v->name[VL_NAME_MAX] = 0;
	memcpy(v->uuid, vh->h.obj_uuid, 16);
	v->slot = (uint32_t)vh->h.index;
	v->cur_copy = copy;
	v->gen = vh->h.gen;
	v->created = vh->created;
	atomic_store(&v->size, vh->size);
	v->layout = (enum vl_layout)vh->layout;
	v->thick = vh->vflags & VL_VOLF_THICK;
	v->owner_node = vh->owner_node;
	v->owner_epoch = vh->owner_epoch;
	v->nr_idx = vh->nr_index;
	memcpy(v->idx_blk, vh->index_blk, sizeof(v->idx_blk));
	int r = vl_map_init(v, vh->size);
	if (r) {
		vl_vol_free(v);
		return r;
	}
	uint64_t nr_ext = vl_vol_nr_ext(p, vh->size);
	uint32_t nleaves = vl_nr_leaves(nr_ext);
	uint64_t count = 0;
	struct vl_page *pg = aligned_alloc(VL_BLK, VL_BLK);
	if (!pg) {
		vl_vol_free(v);
		return -ENOMEM;
	}
	char what[200];
	for (uint32_t i = 0; i < v->nr_idx; i++) {
		uint32_t ib = v->idx_blk[i];
		if (!ib)
			continue;
		if (reload) {
			vl_mark_union_meta(p, ib);
		} else if (!vl_meta_mark(p, ib)) {
			snprintf(what, sizeof(what), "index page %u: metadata block %u used twice", i, ib);
			damage(v, what, false);
			continue;
		}
		if (vl_meta_read_blk(p, vl_meta_blk_off(p, ib), pg, VL_BT_INDEX, v->uuid, i, true) ||
		    pg->h.gen > v->gen) {
			if (reload)
				goto torn;
			snprintf(what, sizeof(what),
				 "index page %u (block %u) unreadable on every mirror", i, ib);
			damage(v, what, false);
			continue;
		}
		uint32_t idx[VL_PER_PAGE];
		memcpy(idx, pg->e, sizeof(idx));
		for (uint32_t j = 0; j < VL_PER_PAGE; j++) {
			uint32_t mb = idx[j];
			if (!mb)
				continue;
			uint64_t l = (uint64_t)i * VL_PER_PAGE + j;
			if (l >= nleaves || mb >= p->sb.meta_blocks) {
				snprintf(what, sizeof(what), "map page %llu: bad pointer %u",
					 (unsigned long long)l, mb);
				damage(v, what, false);
				continue;
			}
			if (reload) {
				vl_mark_union_meta(p, mb);
			} else if (!vl_meta_mark(p, mb)) {
				snprintf(what, sizeof(what), "map page %llu: metadata block %u used twice",
					 (unsigned long long)l, mb);
				damage(v, what, false);
				continue;
			}
			v->leaf_blk[l] = mb;
			if (vl_meta_read_blk(p, vl_meta_blk_off(p, mb), pg, VL_BT_MAP, v->uuid, l,
					     true) ||
			    pg->h.gen > v->gen) {
				if (reload)
					goto torn;
				snprintf(what, sizeof(what),
					 "map page %llu (block %u) unreadable on every mirror",
					 (unsigned long long)l, mb);
				damage(v, what, false);
				continue;
			}
			uint32_t *leaf = vl_map_leaf_get(v, (uint32_t)l, true);
			if (!leaf) {
				free(pg);
				vl_vol_free(v);
				return -ENOMEM;
			}
			for (uint32_t k = 0; k < VL_PER_PAGE; k++) {
				uint32_t e = pg->e[k];
				if (!e)
					continue;
				uint64_t vext = l * VL_PER_PAGE + k;
				if (vext >= nr_ext) {
					snprintf(what, sizeof(what),
						 "extent %llu mapped beyond the volume size",
						 (unsigned long long)vext);
					damage(v, what, true);
					continue;
				}
				if (reload) {
					vl_mark_union_ext(p, e);
				} else if (!vl_ext_mark(p, e)) {
					snprintf(what, sizeof(what),
						 "extent %llu maps to member %u extent %u, which is "
						 "invalid or mapped twice",
						 (unsigned long long)vext, vl_entry_member(e),
						 vl_entry_local(e));
					damage(v, what, !vl_entry_valid(p, e));
					continue;
				}
				leaf[k] = e;
				count++;
			}
		}
	}
	free(pg);
	atomic_store(&v->nr_alloc, count);
	if (!v->damaged && count != vh->nr_alloc)
		vl_pool_finding(p, "volume %s: header counts %llu extents, map has %llu", v->name,
				(unsigned long long)vh->nr_alloc, (unsigned long long)count);
	*out = v;
	return 0;
torn: /* the owner committed while we read: the caller reads the header again */
	free(pg);
	vl_vol_free(v);
	return -EAGAIN;
}

int vl_slot_read(struct vl_pool *p, uint32_t slot, struct vl_volhdr *vh, uint32_t *copy)
{
	VL_AUTOFREE uint8_t *buf = aligned_alloc(VL_BLK, 2 * VL_BLK);
	if (!buf)
		return -ENOMEM;
	bool found = false;
	for (uint32_t k = 0; k < p->sb.nr_mirrors; k++) {
		int r = vl_io_read(p, p->sb.mirrors[k], buf, 2 * VL_BLK, vl_vt_off(p, slot, 0));
		if (r)
			return r;
		for (uint32_t c = 0; c < 2; c++) {
			const struct vl_volhdr *h = (const void *)(buf + c * VL_BLK);
			if (vl_blk_verify(h, VL_BT_VOL, p->uuid, NULL, slot) ||
			    vl_volhdr_validate(h, &p->sb, NULL))
				continue;
			if (!found || h->h.gen > vh->h.gen) {
				*vh = *h;
				*copy = c;
				found = true;
			}
		}
	}
	return found ? 0 : -ENOENT;
}

/* Move the freshly loaded n's map and header into v, and v's old map into n (freed with
 * it).  v is unowned: no I/O looks at its map (the ownership check comes first). */
static void vol_take(struct vl_vol *v, struct vl_vol *n)
{
	struct vl_mapdir *od = atomic_load(&v->dir), *nd = atomic_load(&n->dir);
	atomic_store(&v->dir, nd);
	atomic_store(&n->dir, od);
	uint32_t *lb = v->leaf_blk;
	uint8_t *ld = v->leaf_dirty;
	v->leaf_blk = n->leaf_blk;
	v->leaf_dirty = n->leaf_dirty;
	v->leaf_cap = n->leaf_cap;
	n->leaf_blk = lb;
	n->leaf_dirty = ld;
	n->leaf_cap = 0;
	memcpy(v->name, n->name, sizeof(v->name));
	v->cur_copy = n->cur_copy;
	v->gen = n->gen;
	atomic_store(&v->size, atomic_load(&n->size));
	v->owner_node = n->owner_node;
	v->owner_epoch = n->owner_epoch;
	v->nr_idx = n->nr_idx;
	memcpy(v->idx_blk, n->idx_blk, sizeof(v->idx_blk));
	v->nr_dirty = 0;
	v->hdr_dirty = false;
	atomic_store(&v->nr_alloc, atomic_load(&n->nr_alloc));
	v->damaged = n->damaged;
	v->unfixable = n->unfixable;
	memcpy(v->damage, n->damage, sizeof(v->damage));
}

int vl_vol_reload(struct vl_vol *v)
{
	struct vl_pool *p = v->pool;
	for (int tries = 0; tries < 20; tries++) {
		struct vl_volhdr *vh = aligned_alloc(VL_BLK, VL_BLK);
		if (!vh)
			return -ENOMEM;
		uint32_t copy;
		int r = vl_slot_read(p, v->slot, vh, &copy);
		if (!r && (vh->state != VL_VOL_LIVE || memcmp(vh->h.obj_uuid, v->uuid, 16)))
			r = -ENOENT;
		struct vl_vol *n = NULL;
		if (!r)
			r = vl_vol_load(p, vh, copy, true, &n);
		free(vh);
		if (r == -EAGAIN)
			continue;
		if (r)
			return r;
		pthread_mutex_lock(&v->lock);
		vol_take(v, n);
		pthread_mutex_unlock(&v->lock);
		vl_vol_free(n);
		return 0;
	}
	return -EAGAIN;
}

/* Caller holds v->lock.  Sets one map entry, reserving metadata for the commit. */
int vl_vol_set_entry(struct vl_vol *v, uint64_t vext, uint32_t entry)
{
	uint32_t l = (uint32_t)(vext / VL_PER_PAGE);
	uint32_t *leaf = vl_map_leaf_get(v, l, entry != 0);
	if (!leaf)
		return entry ? -ENOMEM : 0;
	if (!v->leaf_dirty[l]) {
		int r = vl_meta_reserve(v->pool, 2);
		if (r)
			return r;
		v->meta_reserved += 2;
		v->leaf_dirty[l] = 1;
		v->nr_dirty++;
	}
	_Atomic uint32_t *slot = (_Atomic uint32_t *)&leaf[vext % VL_PER_PAGE];
	uint32_t old = atomic_load_explicit(slot, memory_order_relaxed);
	atomic_store_explicit(slot, entry, memory_order_release);
	if (!old && entry)
		atomic_fetch_add(&v->nr_alloc, 1);
	else if (old && !entry)
		atomic_fetch_sub(&v->nr_alloc, 1);
	return 0;
}

/* Caller holds v->lock.  Allocate, zero and map the extent at vext.  nowait: only an
 * extent that needs no zeroing (a hole in a member file), else -EAGAIN. */
int vl_vol_alloc_ext(struct vl_vol *v, uint64_t vext, bool nowait, uint32_t *entry)
{
	struct vl_pool *p = v->pool;
	uint32_t e;
	int r = vl_ext_alloc(p, (uint32_t)(vext + v->slot), v->layout == VL_LAYOUT_STRIPED, &e);
	if (r)
		return r;
	/* the previous owner's data must never show through */
	uint64_t eoff = vl_ext_off(p, vl_entry_local(e));
	r = nowait ? vl_io_is_hole(p, vl_entry_member(e), eoff, p->extent_size)
		   : vl_io_zero(p, vl_entry_member(e), eoff, p->extent_size, false);
	if (!r)
		r = vl_vol_set_entry(v, vext, e);
	if (r) {
		vl_ext_free(p, e);
		return r;
	}
	*entry = e;
	return 0;
}

static int pending_push(struct vl_pefree *pf, uint32_t e)
{
	return vl_u32_push(&pf->v, &pf->n, &pf->cap, e);
}

/* Caller holds v->lock.  Unmap an extent; it returns to the pool after commit. */
int vl_vol_unmap_ext(struct vl_vol *v, uint64_t vext)
{
	uint32_t e = vl_map_lookup(v, vext);
	if (!e)
		return 0;
	int r = pending_push(&v->pending, e);
	if (r)
		return r;
	r = vl_vol_set_entry(v, vext, 0);
	if (r)
		v->pending.n--;
	return r;
}

/* Wait until every I/O that might have looked up an old mapping is done. */
void vl_vol_grace(struct vl_vol *v)
{
	for (int k = 0; k < 2; k++) {
		uint32_t old = atomic_fetch_add(&v->epoch, 1);
		while (atomic_load(&v->inflight[old & 1]) != 0)
			sched_yield();
	}
}

static void hdr_fill(struct vl_vol *v, struct vl_volhdr *vh, uint64_t gen, uint32_t state)
{
	struct vl_pool *p = v->pool;
	memset(vh, 0, sizeof(*vh));
	vh->h.type = VL_BT_VOL;
	vh->h.gen = gen;
	memcpy(vh->h.pool_uuid, p->uuid, 16);
	memcpy(vh->h.obj_uuid, v->uuid, 16);
	vh->h.index = v->slot;
	memcpy(vh->name, v->name, sizeof(vh->name));
	vh->size = atomic_load(&v->size);
	vh->created = v->created;
	vh->state = state;
	vh->layout = v->layout;
	vh->vflags = v->thick ? VL_VOLF_THICK : 0;
	vh->owner_node = v->owner_node;
	vh->owner_epoch = v->owner_epoch;
	vh->nr_alloc = atomic_load(&v->nr_alloc);
	vh->nr_index = v->nr_idx;
	memcpy(vh->index_blk, v->idx_blk, sizeof(vh->index_blk));
	vl_blk_seal(vh);
}

static int fail(struct vl_pool *p, int r)
{
	atomic_store(&p->failed, true);
	vl_pool_finding(p, "pool failed: metadata commit error %d (%s); no further writes accepted",
			r, strerror(-r));
	return r;
}

/* fdatasync every member with unsynced data (and the mirrors if `mirrors`). */
static int sync_all(struct vl_pool *p, bool mirrors)
{
	for (uint32_t i = 0; i < p->nr_members; i++) {
		bool mirror = false;
		for (uint32_t k = 0; mirrors && k < p->sb.nr_mirrors; k++)
			mirror |= p->sb.mirrors[k] == i;
		int r = mirror ? vl_io_sync(p, i) : vl_io_sync_dirty(p, i);
		if (r)
			return r;
	}
	return 0;
}

struct commit_buf {
	struct vl_page *pages;
	uint32_t *blks;
	size_t n, cap;
	uint32_t *old;
	size_t nold, capold;
};

static struct vl_page *cb_add(struct commit_buf *cb, uint32_t blk)
{
	if (cb->n == cb->cap) {
		size_t nc = cb->cap ? cb->cap * 2 : 16;
		struct vl_page *np = aligned_alloc(VL_BLK, nc * VL_BLK);
		uint32_t *nb = realloc(cb->blks, nc * sizeof(*nb));
		if (!np || !nb) {
			free(np);
			if (nb)
				cb->blks = nb;
			return NULL;
		}
		if (cb->n)
			memcpy(np, cb->pages, cb->n * VL_BLK);
		free(cb->pages);
		cb->pages = np;
		cb->blks = nb;
		cb->cap = nc;
	}
	cb->blks[cb->n] = blk;
	struct vl_page *pg = &cb->pages[cb->n++];
	memset(pg, 0, sizeof(*pg));
	return pg;
}

static int cb_old(struct commit_buf *cb, uint32_t blk)
{
	return blk ? vl_u32_push(&cb->old, &cb->nold, &cb->capold, blk) : 0;
}

static void page_hdr(struct vl_vol *v, struct vl_page *pg, uint16_t type, uint64_t gen,
		     uint64_t index)
{
	pg->h.type = type;
	pg->h.gen = gen;
	memcpy(pg->h.pool_uuid, v->pool->uuid, 16);
	memcpy(pg->h.obj_uuid, v->uuid, 16);
	pg->h.index = index;
}

/* Caller holds v->lock: build the new pages for every dirty leaf. */
static int snapshot(struct vl_vol *v, struct commit_buf *cb, uint64_t gen)
{
	struct vl_pool *p = v->pool;
	struct vl_mapdir *d = atomic_load(&v->dir);
	uint32_t nleaves = vl_nr_leaves(vl_vol_nr_ext(p, atomic_load(&v->size)));
	uint8_t idx_dirty[VL_HDR_INDEX_MAX] = {0};
	uint64_t used = 0;
	int r;
	for (uint32_t l = 0; l < d->n && v->nr_dirty; l++) {
		if (!v->leaf_dirty[l])
			continue;
		uint32_t *leaf = atomic_load(&d->leaf[l]);
		bool any = false;
		for (uint32_t k = 0; leaf && k < VL_PER_PAGE && !any; k++)
			any = leaf[k] != 0;
		if ((r = cb_old(cb, v->leaf_blk[l])))
			return r;
		v->leaf_blk[l] = 0;
		if (any && l < nleaves) {
			uint32_t nb = vl_meta_alloc_reserved(p);
			used++;
			struct vl_page *pg = cb_add(cb, nb);
			if (!nb || !pg)
				return -ENOMEM;
			page_hdr(v, pg, VL_BT_MAP, gen, l);
			for (uint32_t k = 0; k < VL_PER_PAGE; k++)
				pg->e[k] = atomic_load_explicit((_Atomic uint32_t *)&leaf[k],
								memory_order_relaxed);
			vl_blk_seal(pg);
			v->leaf_blk[l] = nb;
		}
		v->leaf_dirty[l] = 0;
		v->nr_dirty--;
		idx_dirty[l / VL_PER_PAGE] = 1;
	}
	/* index pages */
	uint32_t nidx = 0;
	for (uint32_t i = 0; i < VL_HDR_INDEX_MAX; i++) {
		uint32_t first = i * VL_PER_PAGE;
		if (first >= d->n)
			break;
		if (!idx_dirty[i]) {
			if (v->idx_blk[i])
				nidx = i + 1;
			continue;
		}
		if ((r = cb_old(cb, v->idx_blk[i])))
			return r;
		v->idx_blk[i] = 0;
		bool any = false;
		for (uint32_t j = 0; j < VL_PER_PAGE && first + j < d->n; j++)
			any |= v->leaf_blk[first + j] != 0;
		if (!any)
			continue;
		uint32_t nb = vl_meta_alloc_reserved(p);
		used++;
		struct vl_page *pg = cb_add(cb, nb);
		if (!nb || !pg)
			return -ENOMEM;
		page_hdr(v, pg, VL_BT_INDEX, gen, i);
		for (uint32_t j = 0; j < VL_PER_PAGE && first + j < d->n; j++)
			pg->e[j] = v->leaf_blk[first + j];
		vl_blk_seal(pg);
		v->idx_blk[i] = nb;
		nidx = i + 1;
	}
	for (uint32_t i = nidx; i < VL_HDR_INDEX_MAX; i++)
		v->idx_blk[i] = 0;
	v->nr_idx = nidx;
	if (v->meta_reserved < used)
		return -EFAULT;
	vl_meta_unreserve(p, v->meta_reserved - used);
	v->meta_reserved = 0;
	return 0;
}

static int commit_state(struct vl_vol *v, uint32_t state)
{
	struct vl_pool *p = v->pool;
	if (atomic_load(&p->failed))
		return -EIO;
	struct commit_buf cb = {0};
	struct vl_pefree pend = {0};
	struct vl_volhdr *vh = aligned_alloc(VL_BLK, VL_BLK);
	if (!vh)
		return -ENOMEM;
	uint64_t gen = v->gen + 1;
	uint32_t copy = v->cur_copy ^ 1u;
	int r;

	if (p->is_shared && (!v->lease_held || v->fenced)) {
		/* not ours: nothing of it may be written here */
		free(vh);
		return v->fenced ? -ESTALE : 0;
	}
	pthread_mutex_lock(&v->lock);
	if (!v->nr_dirty && !v->hdr_dirty && !v->pending.n && state == VL_VOL_LIVE) {
		pthread_mutex_unlock(&v->lock);
		free(vh);
		/* nothing in the map changed: data durability only */
		r = sync_all(p, false);
		return r ? fail(p, r) : 0;
	}
	pthread_mutex_unlock(&v->lock);
	if (p->is_shared && (r = vl_fence_check(v))) {
		free(vh);
		return r;
	}
	pthread_mutex_lock(&v->lock);
	r = snapshot(v, &cb, gen);
	if (!r) {
		pend = v->pending;
		memset(&v->pending, 0, sizeof(v->pending));
		v->hdr_dirty = false;
		hdr_fill(v, vh, gen, state);
	}
	pthread_mutex_unlock(&v->lock);
	if (r)
		goto out_fail;

	for (size_t i = 0; i < cb.n && !r; i++)
		r = vl_meta_write_blk(p, vl_meta_blk_off(p, cb.blks[i]), &cb.pages[i]);
	if (!r)
		r = sync_all(p, true);
	if (!r)
		r = vl_meta_write_blk(p, vl_vt_off(p, v->slot, copy), vh);
	if (!r)
		r = vl_meta_sync(p);
	if (r)
		goto out_fail;
	v->gen = gen;
	v->cur_copy = copy;
	p->slot_gen[v->slot] = gen;
	p->slot_copy[v->slot] = (uint8_t)copy;
	if (pend.n)
		vl_vol_grace(v);
	for (size_t i = 0; i < pend.n; i++)
		vl_ext_free(p, pend.v[i]);
	for (size_t i = 0; i < cb.nold; i++)
		vl_meta_free(p, cb.old[i]);
	goto out;
out_fail:
	fail(p, r);
out:
	free(pend.v);
	free(cb.pages);
	free(cb.blks);
	free(cb.old);
	free(vh);
	return r;
}

int vl_vol_commit(struct vl_vol *v)
{
	VL_LOCK_SCOPE(&v->commit_lock);
	return commit_state(v, VL_VOL_LIVE);
}

/* ---- administrative operations (pool->lock held by the callers below) ---- */

static uint32_t free_slot(struct vl_pool *p)
{
	uint32_t n = p->is_shared ? p->sb.shared.nr_slots : p->sb.max_volumes;
	for (uint32_t s = 0; s < n; s++)
		if (!p->slots[s])
			return s;
	return UINT32_MAX;
}

static int check_size(struct vl_pool *p, uint64_t size, struct vl_diag *d)
{
	if (size == 0 || size % 4096)
		return vl_diag_set(d, -EINVAL, "size must be a positive multiple of 4 KiB");
	uint64_t ext = vl_vol_nr_ext(p, size);
	uint64_t idx = (vl_nr_leaves(ext) + VL_PER_PAGE - 1) / VL_PER_PAGE;
	if (ext >= (1ull << 32) || idx > VL_HDR_INDEX_MAX) {
		char b[32];
		vl_format_size((uint64_t)VL_HDR_INDEX_MAX * VL_PER_PAGE * VL_PER_PAGE *
				       p->extent_size,
			       b, sizeof(b));
		return vl_diag_set(d, -EFBIG, "size too large: the maximum with this pool's "
					      "extent size is %s",
				   b);
	}
	return 0;
}

static void progress(const struct vl_vol_create_opts *o, uint64_t done, uint64_t total)
{
	if (o && o->progress)
		o->progress(o->progress_arg, done, total);
}

/* Allocate every extent in [from, to) (thick provisioning). Caller holds v->lock. */
static int fill(struct vl_vol *v, uint64_t from, uint64_t to, const struct vl_vol_create_opts *o)
{
	for (uint64_t x = from; x < to; x++) {
		uint32_t e;
		if (vl_map_lookup(v, x))
			continue;
		int r = vl_vol_alloc_ext(v, x, false, &e);
		if (r)
			return r;
		if ((x & 255) == 0 || x + 1 == to)
			progress(o, x + 1 - from, to - from);
	}
	return 0;
}

static void release_all(struct vl_vol *v)
{
	struct vl_pool *p = v->pool;
	struct vl_mapdir *d = atomic_load(&v->dir);
	for (uint32_t l = 0; l < d->n; l++) {
		uint32_t *leaf = atomic_load(&d->leaf[l]);
		for (uint32_t k = 0; leaf && k < VL_PER_PAGE; k++)
			if (leaf[k])
				vl_ext_free(p, leaf[k]);
		if (l < v->leaf_cap)
			vl_meta_free(p, v->leaf_blk[l]);
	}
	for (uint32_t i = 0; i < v->nr_idx; i++)
		vl_meta_free(p, v->idx_blk[i]);
	vl_meta_unreserve(p, v->meta_reserved);
	v->meta_reserved = 0;
}

static int vol_create(struct vl_pool *p, const char *name, uint64_t size,
		      const struct vl_vol_create_opts *o, struct vl_diag *d);

/* Shared pools: a volume's lease for an admin change (held already when served here). */
static int admin_lease(struct vl_vol *v, bool *took, struct vl_diag *d)
{
	*took = false;
	if (!v->pool->is_shared || v->lease_held)
		return 0;
	int r = vl_vol_lease_take(v, true, d);
	*took = !r;
	return r;
}

static void admin_unlease(struct vl_vol *v, bool took)
{
	if (took)
		vl_vol_lease_drop(v);
}

int vl_vol_create(struct vl_pool *p, const char *name, uint64_t size,
		  const struct vl_vol_create_opts *o, struct vl_diag *d)
{
	VL_LOCK_SCOPE(&p->lock);
	if (p->flags & VL_OPEN_RDONLY)
		return vl_diag_set(d, -EROFS, "pool is open read-only");
	int r = vl_admin_begin(p, d);
	if (r)
		return r;
	r = vol_create(p, name, size, o, d);
	char what[80];
	snprintf(what, sizeof(what), "create %s", name);
	vl_admin_end(p, what, r == 0);
	return r;
}

static int vol_create(struct vl_pool *p, const char *name, uint64_t size,
		      const struct vl_vol_create_opts *o, struct vl_diag *d)
{
	if (p->flags & VL_OPEN_RDONLY)
		return vl_diag_set(d, -EROFS, "pool is open read-only");
	if (atomic_load(&p->failed))
		return vl_diag_set(d, -EIO, "pool has failed after an I/O error; reopen it");
	if (!vl_name_valid(name))
		return vl_diag_set(d, -EINVAL,
				   "invalid volume name '%s': use 1-%d of A-Z a-z 0-9 _ - . "
				   "(not starting with . or -)",
				   name, VL_NAME_MAX);
	if (vl_vol_find(p, name))
		return vl_diag_set(d, -EEXIST, "volume '%s' already exists in pool %s", name,
				   p->sb.pool_name);
	int r = check_size(p, size, d);
	if (r)
		return r;
	uint32_t s = free_slot(p);
	if (s == UINT32_MAX)
		return vl_diag_set(d, -ENOSPC, "pool %s has %u volumes, its maximum", p->sb.pool_name,
				   p->is_shared ? p->sb.shared.nr_slots : p->sb.max_volumes);
	uint64_t ext = vl_vol_nr_ext(p, size);
	bool thick = o && o->thick;
	if (thick) {
		uint64_t fr = vl_pool_free_extents(p);
		if (fr < ext) {
			char need[32], have[32];
			vl_format_size(ext * p->extent_size, need, sizeof(need));
			vl_format_size(fr * p->extent_size, have, sizeof(have));
			return vl_diag_set(d, -ENOSPC,
					   "a thick volume of this size needs %s; pool %s has %s "
					   "free. Create it thin (without --thick) or add a member",
					   need, p->sb.pool_name, have);
		}
	}
	struct vl_vol *v = vol_new(p);
	if (!v)
		return -ENOMEM;
	snprintf(v->name, sizeof(v->name), "%s", name);
	if ((r = vl_random(v->uuid, 16))) {
		vl_vol_free(v);
		return r;
	}
	v->uuid[6] = (v->uuid[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	v->uuid[8] = (v->uuid[8] & 0x3f) | 0x80;
	v->slot = s;
	v->gen = p->slot_gen[s];
	v->cur_copy = p->slot_copy[s];
	v->created = (uint64_t)time(NULL);
	atomic_store(&v->size, size);
	v->layout = o ? o->layout : VL_LAYOUT_CONCAT;
	v->thick = thick;
	v->hdr_dirty = true;
	if ((r = vl_map_init(v, size))) {
		vl_vol_free(v);
		return r;
	}
	/* shared: the new volume's lease while it is written (its epoch is then the
	 * lease's version); nobody owns it afterwards */
	if (p->is_shared && (r = vl_vol_lease_take(v, false, d))) {
		vl_vol_free(v);
		return r;
	}
	if (thick) {
		pthread_mutex_lock(&v->lock);
		r = fill(v, 0, ext, o);
		pthread_mutex_unlock(&v->lock);
		if (r) {
			release_all(v);
			vl_vol_lease_drop(v);
			vl_vol_free(v);
			return vl_diag_set(d, r, "allocating the thick volume failed: %s",
					   strerror(-r));
		}
	}
	r = vl_vol_commit(v);
	vl_vol_lease_drop(v);
	if (r) {
		release_all(v);
		vl_vol_free(v);
		return vl_diag_set(d, r, "writing the volume's metadata failed: %s", strerror(-r));
	}
	p->slots[s] = v;
	p->nr_vols++;
	return 0;
}

static struct vl_vol *find_or_diag(struct vl_pool *p, const char *name, struct vl_diag *d)
{
	struct vl_vol *v = vl_vol_find(p, name);
	if (!v)
		vl_diag_set(d, -ENOENT, "no volume '%s' in pool %s (see 'vlunctl vol list %s')", name,
			    p->sb.pool_name, p->sb.pool_name);
	return v;
}

static int admin_ok(struct vl_pool *p, struct vl_diag *d)
{
	if (p->flags & VL_OPEN_RDONLY)
		return vl_diag_set(d, -EROFS, "pool is open read-only");
	if (atomic_load(&p->failed))
		return vl_diag_set(d, -EIO, "pool has failed after an I/O error; reopen it");
	return 0;
}

/* Caller holds p->lock: the volume an admin operation may change, or NULL and *r. */
static struct vl_vol *admin_vol(struct vl_pool *p, const char *name, struct vl_diag *d, int *r)
{
	struct vl_vol *v = NULL;
	*r = admin_ok(p, d);
	if (!*r && !(v = find_or_diag(p, name, d)))
		*r = -ENOENT;
	return v;
}

static int vol_delete(struct vl_pool *p, const char *name, struct vl_diag *d)
{
	int r;
	struct vl_vol *v = admin_vol(p, name, d, &r);
	if (!v)
		return r;
	if (v->open_count)
		return vl_diag_set(d, -EBUSY, "volume '%s' is open (served by a target?); stop "
					      "serving it first",
				   name);
	bool took;
	if ((r = admin_lease(v, &took, d)))
		return r; /* served by another blade */
	pthread_mutex_lock(&v->commit_lock);
	r = commit_state(v, VL_VOL_DELETED);
	pthread_mutex_unlock(&v->commit_lock);
	if (r) {
		admin_unlease(v, took);
		return vl_diag_set(d, r, "writing the volume's metadata failed: %s", strerror(-r));
	}
	release_all(v);
	vl_vol_lease_drop(v);
	p->slots[v->slot] = NULL;
	p->nr_vols--;
	vl_vol_free(v);
	return 0;
}

int vl_vol_delete(struct vl_pool *p, const char *name, struct vl_diag *d)
{
	VL_LOCK_SCOPE(&p->lock);
	int r = admin_ok(p, d);
	if (r || (r = vl_admin_begin(p, d)))
		return r;
	r = vol_delete(p, name, d);
	char what[80];
	snprintf(what, sizeof(what), "delete %s", name);
	vl_admin_end(p, what, r == 0);
	return r;
}

static int vol_resize(struct vl_pool *p, struct vl_vol *v, const char *name, uint64_t size,
		      bool allow_shrink, struct vl_diag *d);
static int vol_rename(struct vl_pool *p, struct vl_vol *v, const char *newname,
		      struct vl_diag *d);

/* A change of one volume: resize (newname NULL) or rename.  In a shared pool it runs
 * under the pool lease and the volume's lease (held already where it is served). */
struct vol_op {
	const char *verb;
	uint64_t size;
	bool allow_shrink;
	const char *newname;
};

static int vol_change(struct vl_pool *p, const char *name, const struct vol_op *op,
		      struct vl_diag *d)
{
	VL_LOCK_SCOPE(&p->lock);
	int r = admin_ok(p, d);
	if (r || (r = vl_admin_begin(p, d)))
		return r;
	struct vl_vol *v = admin_vol(p, name, d, &r);
	bool took = false;
	if (v && !(r = admin_lease(v, &took, d)))
		r = op->newname ? vol_rename(p, v, op->newname, d)
				: vol_resize(p, v, name, op->size, op->allow_shrink, d);
	if (v)
		admin_unlease(v, took);
	char what[80];
	snprintf(what, sizeof(what), "%s %s", op->verb, name);
	vl_admin_end(p, what, r == 0);
	return r;
}

int vl_vol_resize(struct vl_pool *p, const char *name, uint64_t size, bool allow_shrink,
		  struct vl_diag *d)
{
	struct vol_op op = {.verb = "resize", .size = size, .allow_shrink = allow_shrink};
	return vol_change(p, name, &op, d);
}

static int vol_resize(struct vl_pool *p, struct vl_vol *v, const char *name, uint64_t size,
		      bool allow_shrink, struct vl_diag *d)
{
	int r;
	if ((r = check_size(p, size, d)))
		return r;
	uint64_t old = atomic_load(&v->size);
	if (size == old)
		return 0;
	uint64_t oext = vl_vol_nr_ext(p, old), next = vl_vol_nr_ext(p, size);
	if (size < old) {
		if (!allow_shrink)
			return vl_diag_set(d, -EPERM,
					   "shrinking '%s' destroys the data beyond the new size; "
					   "pass --force to do it",
					   name);
		pthread_mutex_lock(&v->lock);
		atomic_store(&v->size, size);
		for (uint64_t x = next; x < oext && !r; x++)
			r = vl_vol_unmap_ext(v, x);
		/* the tail of the last extent must read zeros if the volume grows again */
		uint32_t e = next ? vl_map_lookup(v, next - 1) : 0;
		uint64_t tail = (next << p->ext_shift) - size;
		if (!r && e && tail)
			r = vl_io_zero(p, vl_entry_member(e),
				       vl_ext_off(p, vl_entry_local(e)) + p->extent_size - tail,
				       tail, true);
		v->hdr_dirty = true;
		pthread_mutex_unlock(&v->lock);
	} else {
		if (v->thick && vl_pool_free_extents(p) < next - oext)
			return vl_diag_set(d, -ENOSPC, "not enough free space to grow the thick "
						       "volume '%s'",
					   name);
		pthread_mutex_lock(&v->lock);
		r = vl_map_grow(v, size);
		if (!r && v->thick)
			r = fill(v, oext, next, NULL);
		if (!r) {
			atomic_store(&v->size, size);
			v->hdr_dirty = true;
		}
		pthread_mutex_unlock(&v->lock);
	}
	if (!r)
		r = vl_vol_commit(v);
	if (r)
		return vl_diag_set(d, r, "resizing '%s' failed: %s", name, strerror(-r));
	return 0;
}

int vl_vol_rename(struct vl_pool *p, const char *name, const char *newname, struct vl_diag *d)
{
	struct vol_op op = {.verb = "rename", .newname = newname};
	return vol_change(p, name, &op, d);
}

static int vol_rename(struct vl_pool *p, struct vl_vol *v, const char *newname,
		      struct vl_diag *d)
{
	int r;
	if (!vl_name_valid(newname))
		return vl_diag_set(d, -EINVAL, "invalid volume name '%s'", newname);
	if (vl_vol_find(p, newname))
		return vl_diag_set(d, -EEXIST, "volume '%s' already exists", newname);
	char saved[sizeof(v->name)];
	memcpy(saved, v->name, sizeof(saved));
	pthread_mutex_lock(&v->lock);
	snprintf(v->name, sizeof(v->name), "%s", newname);
	v->hdr_dirty = true;
	pthread_mutex_unlock(&v->lock);
	r = vl_vol_commit(v);
	if (r) {
		memcpy(v->name, saved, sizeof(saved));
		return vl_diag_set(d, r, "renaming failed: %s", strerror(-r));
	}
	return 0;
}

static void fill_info(struct vl_vol *v, struct vl_vol_info *in)
{
	memset(in, 0, sizeof(*in));
	memcpy(in->name, v->name, sizeof(in->name));
	memcpy(in->uuid, v->uuid, 16);
	for (int i = 0; i < 16; i++)
		snprintf(in->serial + 2 * i, 3, "%02x", v->uuid[i]);
	/* LIO: NAA 6, IEEE OUI 00-14-05, then the first 25 hex digits of the serial */
	snprintf(in->wwn, sizeof(in->wwn), "naa.6001405%.25s", in->serial);
	in->size = atomic_load(&v->size);
	in->allocated = atomic_load(&v->nr_alloc) << v->pool->ext_shift;
	in->layout = v->layout;
	in->thick = v->thick;
	in->slot = v->slot;
	in->generation = v->gen;
	in->owner_node = v->owner_node;
	in->owner_epoch = v->owner_epoch;
	in->open_count = v->open_count;
}

static int cmp_vol(const void *a, const void *b)
{
	return strcmp((*(struct vl_vol *const *)a)->name, (*(struct vl_vol *const *)b)->name);
}

uint32_t vl_pool_nr_volumes(struct vl_pool *p)
{
	VL_LOCK_SCOPE(&p->lock);
	return p->nr_vols;
}

int vl_vol_info_at(struct vl_pool *p, uint32_t i, struct vl_vol_info *info)
{
	VL_LOCK_SCOPE(&p->lock);
	if (i >= p->nr_vols)
		return -ENOENT;
	VL_AUTOFREE struct vl_vol **list = malloc(p->nr_vols * sizeof(*list));
	if (!list)
		return -ENOMEM;
	uint32_t n = 0;
	for (uint32_t s = 0; s < p->sb.max_volumes; s++)
		if (p->slots[s])
			list[n++] = p->slots[s];
	qsort(list, n, sizeof(*list), cmp_vol);
	fill_info(list[i], info);
	return 0;
}

int vl_vol_info(struct vl_pool *p, const char *name, struct vl_vol_info *info)
{
	VL_LOCK_SCOPE(&p->lock);
	struct vl_vol *v = vl_vol_find(p, name);
	if (!v)
		return -ENOENT;
	fill_info(v, info);
	return 0;
}
