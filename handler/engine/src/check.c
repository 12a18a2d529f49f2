/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pool check: verify every copy of every metadata block, the extent
 * ownership, and the allocators against the maps; repair what is
 * unambiguous (a bad copy from a good one, stale superblocks, map entries
 * that point nowhere, header counters).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct ck {
	struct vl_pool *p;
	bool repair;
	void (*out)(void *, const char *);
	void *arg;
	struct vl_check_result *res;
	uint8_t *good;  /* VL_BLK */
	uint8_t *tmp;   /* VL_BLK */
};

static void say(struct ck *c, const char *fmt, ...) VL_PRINTF(2, 3);
static void say(struct ck *c, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->out)
		c->out(c->arg, line);
}

/* Verify one metadata block on every mirror; rewrite bad copies if asked. */
static int check_blk(struct ck *c, uint64_t off, uint16_t type, const uint8_t *obj,
		     uint64_t index, uint64_t want_gen, const char *what)
{
	struct vl_pool *p = c->p;
	bool bad[4] = {false};
	int good = -1;
	for (uint32_t k = 0; k < p->sb.nr_mirrors; k++) {
		uint32_t mi = p->sb.mirrors[k];
		void *b = good < 0 ? c->good : c->tmp;
		if (vl_io_read(p, mi, b, VL_BLK, off) == 0 &&
		    vl_blk_verify(b, type, p->uuid, obj, index) == 0 &&
		    (want_gen == UINT64_MAX || ((struct vl_blkhdr *)b)->gen == want_gen)) {
			if (good < 0)
				good = (int)k;
			else if (memcmp(c->good, c->tmp, VL_BLK) != 0)
				bad[k] = true;
		} else {
			bad[k] = true;
		}
	}
	c->res->blocks_checked++;
	if (good < 0) {
		c->res->errors++;
		say(c, "error: %s: no valid copy on any mirror (not repairable)", what);
		return -EBADMSG;
	}
	for (uint32_t k = 0; k < p->sb.nr_mirrors; k++) {
		if (!bad[k])
			continue;
		uint32_t mi = p->sb.mirrors[k];
		c->res->errors++;
		if (c->repair && vl_io_write(p, mi, c->good, VL_BLK, off, true) == 0) {
			c->res->repaired++;
			say(c, "repaired: %s: bad copy on %s rewritten from %s", what, p->m[mi].path,
			    p->m[p->sb.mirrors[good]].path);
		} else {
			say(c, "error: %s: bad copy on %s%s", what, p->m[mi].path,
			    c->repair ? " (rewrite failed)" : " (--repair rewrites it)");
		}
	}
	return 0;
}

static void check_sbs(struct ck *c)
{
	struct vl_pool *p = c->p;
	for (uint32_t i = 0; i < p->nr_members; i++) {
		for (uint64_t g = p->sb.h.gen + 1; g-- > 0 && g + 2 > p->sb.h.gen;) {
			uint64_t off = (g % 2) * VL_BLK;
			int ok = vl_io_read(p, i, c->tmp, VL_BLK, off) == 0 &&
				 vl_blk_verify(c->tmp, VL_BT_SB, p->uuid, p->sb.members[i].uuid, i) ==
					 0 &&
				 ((struct vl_sb *)c->tmp)->h.gen == g;
			c->res->blocks_checked++;
			if (ok)
				continue;
			c->res->errors++;
			if (c->repair) {
				struct vl_sb *b = (struct vl_sb *)c->tmp;
				*b = p->sb;
				b->h.gen = g;
				b->h.index = i;
				memcpy(b->h.obj_uuid, p->sb.members[i].uuid, 16);
				vl_blk_seal(b);
				if (vl_io_write(p, i, b, VL_BLK, off, true) == 0) {
					c->res->repaired++;
					say(c, "repaired: superblock slot %" PRIu64 " of %s", g % 2,
					    p->m[i].path);
					continue;
				}
			}
			say(c, "error: superblock slot %" PRIu64 " of %s is bad or stale", g % 2,
			    p->m[i].path);
		}
	}
}

static void check_volume(struct ck *c, struct vl_vol *v, uint32_t *owner_base, uint32_t *owner)
{
	struct vl_pool *p = c->p;
	char what[160];
	snprintf(what, sizeof(what), "volume %s header (slot %u)", v->name, v->slot);
	check_blk(c, vl_vt_off(p, v->slot, v->cur_copy), VL_BT_VOL, v->uuid, v->slot, v->gen, what);
	for (uint32_t i = 0; i < v->nr_idx; i++) {
		if (!v->idx_blk[i])
			continue;
		snprintf(what, sizeof(what), "volume %s index page %u", v->name, i);
		check_blk(c, vl_meta_blk_off(p, v->idx_blk[i]), VL_BT_INDEX, v->uuid, i, UINT64_MAX,
			  what);
	}
	struct vl_mapdir *d = atomic_load(&v->dir);
	for (uint32_t l = 0; l < d->n && l < v->leaf_cap; l++) {
		if (v->leaf_blk[l] && !v->leaf_dirty[l]) {
			snprintf(what, sizeof(what), "volume %s map page %u", v->name, l);
			check_blk(c, vl_meta_blk_off(p, v->leaf_blk[l]), VL_BT_MAP, v->uuid, l,
				  UINT64_MAX, what);
		}
		uint32_t *leaf = atomic_load(&d->leaf[l]);
		for (uint32_t k = 0; leaf && k < VL_PER_PAGE; k++) {
			uint32_t e = leaf[k];
			if (!e)
				continue;
			c->res->extents_checked++;
			uint32_t *o = &owner[owner_base[vl_entry_member(e)] + vl_entry_local(e)];
			if (*o) {
				struct vl_vol *w = p->slots[*o - 1];
				c->res->errors++;
				say(c, "error: member %u extent %u is mapped by volume %s and by %s "
				       "(ambiguous: not repaired; copy the data out of one and delete it)",
				    vl_entry_member(e), vl_entry_local(e), w ? w->name : "?", v->name);
			} else {
				*o = v->slot + 1;
			}
		}
	}
}

int vl_pool_check(struct vl_pool *p, bool repair, void (*out)(void *, const char *), void *arg,
		  struct vl_check_result *res)
{
	VL_LOCK_SCOPE(&p->lock);
	memset(res, 0, sizeof(*res));
	if (repair && (p->flags & VL_OPEN_RDONLY))
		return -EROFS;
	struct ck c = {p, repair, out, arg, res, NULL, NULL};
	c.good = aligned_alloc(VL_BLK, VL_BLK);
	c.tmp = aligned_alloc(VL_BLK, VL_BLK);
	uint32_t *owner_base = calloc(p->nr_members + 1, sizeof(uint32_t));
	uint64_t total = 0;
	for (uint32_t i = 0; i < p->nr_members; i++) {
		owner_base[i] = (uint32_t)total;
		total += p->m[i].nr_ext;
	}
	uint32_t *owner = calloc(total + 1, sizeof(uint32_t));
	if (!c.good || !c.tmp || !owner_base || !owner) {
		free(c.good);
		free(c.tmp);
		free(owner_base);
		free(owner);
		return -ENOMEM;
	}
	/* what open already found (and repaired) */
	for (size_t i = 0; i < p->nr_findings; i++) {
		bool fixed = strncmp(p->findings[i], "repaired:", 9) == 0;
		res->errors++;
		res->repaired += fixed;
		say(&c, "%s%s", fixed ? "" : "found at open: ", p->findings[i]);
		free(p->findings[i]);
	}
	p->nr_findings = 0; /* reported once */
	check_sbs(&c);
	for (uint32_t s = 0; s < p->sb.max_volumes; s++)
		if (p->slots[s])
			check_volume(&c, p->slots[s], owner_base, owner);
	/* allocator vs maps: an extent in use that no map references is leaked.  Not on a
	 * blade serving a shared pool: what it knows of other blades' extents may be stale
	 * (kept marked on purpose, shared.c); a read-only open checks from the disks. */
	if (p->sh.on)
		say(&c, "note: leaked extents are not counted on a serving blade of a shared pool; "
			"run pool check where the pool is opened read-only");
	pthread_mutex_lock(&p->alloc_lock);
	for (uint32_t i = 0; i < p->nr_members && !p->sh.on; i++) {
		struct vl_member *m = &p->m[i];
		for (uint32_t x = 0; x < m->nr_ext; x++) {
			bool used = m->bm[x >> 6] >> (x & 63) & 1;
			if (used && !owner[owner_base[i] + x]) {
				bool pending = false;
				for (uint32_t s = 0; s < p->sb.max_volumes && !pending; s++) {
					struct vl_vol *v = p->slots[s];
					for (size_t k = 0; v && k < v->pending.n; k++)
						pending |= v->pending.v[k] == vl_entry_make(i, x);
				}
				if (pending)
					continue;
				res->errors++;
				if (repair) {
					m->bm[x >> 6] &= ~(1ull << (x & 63));
					m->nr_free++;
					res->repaired++;
					say(&c, "repaired: member %u extent %u was leaked; returned to "
						"the pool",
					    i, x);
				} else {
					say(&c, "error: member %u extent %u is leaked", i, x);
				}
			}
		}
	}
	pthread_mutex_unlock(&p->alloc_lock);
	/* damaged volumes */
	for (uint32_t s = 0; s < p->sb.max_volumes; s++) {
		struct vl_vol *v = p->slots[s];
		if (!v || !v->damaged)
			continue;
		if (repair && !v->unfixable) {
			/* bad entries were dropped at load: rewrite every map page */
			pthread_mutex_lock(&v->lock);
			int r = 0;
			struct vl_mapdir *d = atomic_load(&v->dir);
			for (uint32_t l = 0; l < d->n && !r; l++)
				if (!v->leaf_dirty[l] && (v->leaf_blk[l] || atomic_load(&d->leaf[l]))) {
					r = vl_meta_reserve(p, 2);
					if (!r) {
						v->meta_reserved += 2;
						v->leaf_dirty[l] = 1;
						v->nr_dirty++;
					}
				}
			v->hdr_dirty = true;
			pthread_mutex_unlock(&v->lock);
			if (!r)
				r = vl_vol_commit(v);
			if (!r) {
				v->damaged = false;
				res->repaired++;
				say(&c, "repaired: volume %s: invalid map entries cleared (those "
					"ranges now read as zeros)",
				    v->name);
				continue;
			}
		}
		say(&c, "error: volume %s is damaged: %s%s", v->name, v->damage,
		    v->unfixable ? " (not repairable automatically)" : " (--repair fixes it)");
	}
	if (repair) {
		vl_meta_sync(p);
		for (uint32_t i = 0; i < p->nr_members; i++)
			vl_io_sync(p, i);
	}
	free(c.good);
	free(c.tmp);
	free(owner_base);
	free(owner);
	return 0;
}
