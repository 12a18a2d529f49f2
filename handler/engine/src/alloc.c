/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocators.  Nothing here is persisted: which extents and metadata blocks
 * are in use follows from the volume maps, rebuilt at open.  So a crash can
 * never leak space, and allocation writes no pool-wide structure.
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

static int member_take(struct vl_pool *p, uint32_t mi, uint32_t *entry)
{
	struct vl_member *m = &p->m[mi];
	if (!m->nr_free)
		return -ENOSPC;
	int64_t i = find_clear(m->bm, m->nr_ext, m->hint);
	if (i < 0)
		return -ENOSPC;
	bit_set(m->bm, (uint64_t)i);
	m->nr_free--;
	m->hint = (uint32_t)i + 1;
	*entry = vl_entry_make(mi, (uint32_t)i);
	return 0;
}

int vl_ext_alloc(struct vl_pool *p, uint32_t prefer, bool striped, uint32_t *entry)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	uint32_t n = p->nr_members;
	uint32_t start = striped ? prefer % n : 0;
	for (uint32_t k = 0; k < n; k++)
		if (member_take(p, (start + k) % n, entry) == 0)
			return 0;
	return -ENOSPC;
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
		m->nr_free++;
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
	m->nr_free--;
	return true;
}

uint64_t vl_pool_free_extents(struct vl_pool *p)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	uint64_t f = 0;
	for (uint32_t i = 0; i < p->nr_members; i++)
		f += p->m[i].nr_free;
	return f;
}

int vl_meta_reserve(struct vl_pool *p, uint64_t n)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (p->meta_free < p->meta_reserved + n)
		return -ENOSPC;
	p->meta_reserved += n;
	return 0;
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
	int64_t i = find_clear(p->meta_bm, p->sb.meta_blocks, p->meta_hint);
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
		p->meta_free++;
	}
}

bool vl_meta_mark(struct vl_pool *p, uint32_t blk)
{
	VL_LOCK_SCOPE(&p->alloc_lock);
	if (!blk || blk >= p->sb.meta_blocks || bit_test(p->meta_bm, blk))
		return false;
	bit_set(p->meta_bm, blk);
	p->meta_free--;
	return true;
}
