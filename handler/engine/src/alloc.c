/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocators.  Nothing here is persisted: which extents and metadata blocks
 * are in use follows from the volume maps, rebuilt at open.  So a crash can
 * never leak space, and allocation writes no pool-wide structure.
 *
 * In a shared pool (format 2) the extents of every member and the metadata blocks are
 * split into allocation groups: group g is the g-th of nr_ags equal slices of each.  A
 * blade allocates only inside the groups whose lease it holds, so two blades never
 * pick the same free extent or block, and no lease is taken per allocation.  The free
 * counters (nr_free, meta_free) then count only the held groups.
 */
#include <errno.h>

#include "internal.h"

static inline bool bit_test(const uint64_t *bm, uint64_t i) { return bm[i >> 6] >> (i & 63) & 1; }
static inline void bit_set(uint64_t *bm, uint64_t i) { bm[i >> 6] |= 1ull << (i & 63); }
static inline void bit_clear(uint64_t *bm, uint64_t i) { bm[i >> 6] &= ~(1ull << (i & 63)); }

/* Find a clear bit at or after `from`, wrapping; n bits in total. */
static int64_t find_clear(const uint64_t *bm, uint64_t n, uint64_t from)
{
	uint64_t words = (n + 63) / 64;
	if (from >= n)
		from = 0;
	for (uint64_t k = 0; k <= words; k++) {
		uint64_t w = ((from >> 6) + k) % words;
		uint64_t inv = ~bm[w];
		if (k == 0)
			inv &= ~0ull << (from & 63);
		while (inv) {
			uint64_t b = (uint64_t)__builtin_ctzll(inv);
			uint64_t i = w * 64 + b;
			if (i < n)
				return (int64_t)i;
			inv &= inv - 1;
		}
	}
	return -1;
}

/* The first clear bit in [a, b), or -1. */
static int64_t scan_clear(const uint64_t *bm, uint64_t a, uint64_t b)
{
	for (uint64_t i = a; i < b;) {
		uint64_t w = ~bm[i >> 6] & (~0ull << (i & 63));
		if (w) {
			uint64_t hit = (i & ~63ull) + (uint64_t)__builtin_ctzll(w);
			return hit < b ? (int64_t)hit : -1;
		}
		i = (i & ~63ull) + 64;
	}
	return -1;
}

/* A clear bit in [lo, hi), searching from `from` and wrapping. */
static int64_t find_clear_in(const uint64_t *bm, uint64_t lo, uint64_t hi, uint64_t from)
{
	if (from < lo || from >= hi)
		from = lo;
	int64_t i = scan_clear(bm, from, hi);
	return i >= 0 ? i : scan_clear(bm, lo, from);
}

uint64_t vl_ag_lo(uint64_t n, uint32_t nr_ags, uint32_t g)
{
	return (uint64_t)((unsigned __int128)n * g / nr_ags);
}

static bool ag_held(const struct vl_pool *p, uint32_t g)
{
	return p->sh.ag_held[g / 64] >> (g % 64) & 1;
}

/* the group of local extent x of member mi / of metadata block b */
static uint32_t ag_of(uint64_t n, uint32_t nr_ags, uint64_t x)
{
	uint32_t g = (uint32_t)((unsigned __int128)x * nr_ags / n);
	while (g + 1 < nr_ags && vl_ag_lo(n, nr_ags, g + 1) <= x)
		g++;
	while (g > 0 && vl_ag_lo(n, nr_ags, g) > x)
		g--;
	return g;
}

static bool ext_counted(const struct vl_pool *p, uint32_t mi, uint32_t x)
{
	return !p->sh.on || ag_held(p, ag_of(p->m[mi].nr_ext, p->sb.shared.nr_ags, x));
}

static bool meta_counted(const struct vl_pool *p, uint64_t b)
{
	return !p->sh.on || ag_held(p, ag_of(p->sb.meta_blocks - 1, p->sb.shared.nr_ags, b - 1));
}

static uint64_t count_clear(const uint64_t *bm, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;
	for (uint64_t i = lo; i < hi; i++)
		n += !bit_test(bm, i);
	return n;
}

void vl_ag_recount(struct vl_pool *p)
{
	uint32_t G = p->sb.shared.nr_ags;
	for (uint32_t mi = 0; mi < p->nr_members; mi++) {
		struct vl_member *m = &p->m[mi];
		m->nr_free = 0;
		for (uint32_t g = 0; g < G; g++)
			if (ag_held(p, g))
				m->nr_free += (uint32_t)count_clear(m->bm, vl_ag_lo(m->nr_ext, G, g),
								    vl_ag_lo(m->nr_ext, G, g + 1));
	}
	uint64_t mb = p->sb.meta_blocks - 1;
	p->meta_free = 0;
	for (uint32_t g = 0; g < G; g++)
		if (ag_held(p, g))
			p->meta_free += count_clear(p->meta_bm, 1 + vl_ag_lo(mb, G, g),
						    1 + vl_ag_lo(mb, G, g + 1));
}

/* Shared pools: a clear bit inside the held groups of a map of n items at `base`. */
static int64_t find_clear_held(const struct vl_pool *p, const uint64_t *bm, uint64_t base,
			       uint64_t n, uint64_t from)
{
	uint32_t G = p->sb.shared.nr_ags;
	for (uint32_t g = 0; g < G; g++) {
		if (!ag_held(p, g))
			continue;
		int64_t i = find_clear_in(bm, base + vl_ag_lo(n, G, g), base + vl_ag_lo(n, G, g + 1),
					  from);
		if (i >= 0)
			return i;
	}
	return -1;
}

static int member_take(struct vl_pool *p, uint32_t mi, uint32_t *entry)
{
	struct vl_member *m = &p->m[mi];
	if (!m->nr_free)
		return -ENOSPC;
	int64_t i = p->sh.on ? find_clear_held(p, m->bm, 0, m->nr_ext, m->hint)
			     : find_clear(m->bm, m->nr_ext, m->hint);
	if (i < 0)
		return -ENOSPC;
	bit_set(m->bm, (uint64_t)i);
	m->nr_free--;
	m->hint = (uint32_t)i + 1;
	*entry = vl_entry_make(mi, (uint32_t)i);
	return 0;
}

static int ext_alloc(struct vl_pool *p, uint32_t prefer, bool striped, uint32_t *entry)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	uint32_t n = p->nr_members;
	uint32_t start = striped ? prefer % n : 0;
	for (uint32_t k = 0; k < n; k++)
		if (member_take(p, (start + k) % n, entry) == 0)
			return 0;
	return -ENOSPC;
}

/* In a shared pool a full set of groups is topped up with another group. */
int vl_ext_alloc(struct vl_pool *p, uint32_t prefer, bool striped, uint32_t *entry)
{
	int r;
	while ((r = ext_alloc(p, prefer, striped, entry)) == -ENOSPC && p->sh.on)
		if (vl_ag_grow(p))
			break;
	return r;
}

static bool entry_ok(struct vl_pool *p, uint32_t e)
{
	return e && vl_entry_member(e) < p->nr_members &&
	       vl_entry_local(e) < p->m[vl_entry_member(e)].nr_ext;
}

void vl_ext_free(struct vl_pool *p, uint32_t e)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (!entry_ok(p, e))
		return;
	struct vl_member *m = &p->m[vl_entry_member(e)];
	if (bit_test(m->bm, vl_entry_local(e))) {
		bit_clear(m->bm, vl_entry_local(e));
		m->nr_free += ext_counted(p, vl_entry_member(e), vl_entry_local(e));
	}
}

bool vl_ext_mark(struct vl_pool *p, uint32_t e)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (!entry_ok(p, e))
		return false;
	struct vl_member *m = &p->m[vl_entry_member(e)];
	if (bit_test(m->bm, vl_entry_local(e)))
		return false;
	bit_set(m->bm, vl_entry_local(e));
	m->nr_free -= ext_counted(p, vl_entry_member(e), vl_entry_local(e));
	return true;
}

/* Mark what another blade's volume uses (re-reading it): already marked is fine. */
void vl_mark_union_ext(struct vl_pool *p, uint32_t e)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (!entry_ok(p, e))
		return;
	struct vl_member *m = &p->m[vl_entry_member(e)];
	if (!bit_test(m->bm, vl_entry_local(e))) {
		bit_set(m->bm, vl_entry_local(e));
		m->nr_free -= ext_counted(p, vl_entry_member(e), vl_entry_local(e));
	}
}

void vl_mark_union_meta(struct vl_pool *p, uint32_t blk)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (blk && blk < p->sb.meta_blocks && !bit_test(p->meta_bm, blk)) {
		bit_set(p->meta_bm, blk);
		p->meta_free -= meta_counted(p, blk);
	}
}

uint64_t vl_pool_free_extents(struct vl_pool *p)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	uint64_t f = 0;
	for (uint32_t i = 0; i < p->nr_members; i++)
		f += p->m[i].nr_free;
	return f;
}

static int meta_reserve(struct vl_pool *p, uint64_t n)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (p->meta_free < p->meta_reserved + n)
		return -ENOSPC;
	p->meta_reserved += n;
	return 0;
}

int vl_meta_reserve(struct vl_pool *p, uint64_t n)
{
	int r;
	while ((r = meta_reserve(p, n)) == -ENOSPC && p->sh.on)
		if (vl_ag_grow(p))
			break;
	return r;
}

void vl_meta_unreserve(struct vl_pool *p, uint64_t n)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	p->meta_reserved -= n;
}

/* Take one block out of an existing reservation. */
uint32_t vl_meta_alloc_reserved(struct vl_pool *p)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	int64_t i = p->sh.on ? find_clear_held(p, p->meta_bm, 1, p->sb.meta_blocks - 1, p->meta_hint)
			     : find_clear(p->meta_bm, p->sb.meta_blocks, p->meta_hint);
	if (i <= 0) /* block 0 is permanently marked; -1 cannot happen under a reservation */
		return 0;
	bit_set(p->meta_bm, (uint64_t)i);
	p->meta_free--;
	p->meta_reserved--;
	p->meta_hint = (uint64_t)i + 1;
	return (uint32_t)i;
}

void vl_meta_free(struct vl_pool *p, uint32_t blk)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (blk && blk < p->sb.meta_blocks && bit_test(p->meta_bm, blk)) {
		bit_clear(p->meta_bm, blk);
		p->meta_free += meta_counted(p, blk);
	}
}

bool vl_meta_mark(struct vl_pool *p, uint32_t blk)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (!blk || blk >= p->sb.meta_blocks || bit_test(p->meta_bm, blk))
		return false;
	bit_set(p->meta_bm, blk);
	p->meta_free -= meta_counted(p, blk);
	return true;
}
