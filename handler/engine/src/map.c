/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * In-memory extent map of a volume: a directory of leaves, one leaf per
 * on-disk map page (VL_PER_PAGE 32-bit entries).  Leaves exist only where
 * something is allocated, so the cost is ~4 bytes per allocated extent.
 * Readers are lock-free: the directory pointer, leaf pointers and entries
 * are read with acquire loads; writers hold v->lock.  A grown directory
 * replaces the old one, which stays valid (and is freed at close).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static struct vl_mapdir *dir_new(uint32_t n)
{
	struct vl_mapdir *d = calloc(1, sizeof(*d) + (size_t)n * sizeof(d->leaf[0]));
	if (d)
		d->n = n;
	return d;
}

static int side_arrays(struct vl_vol *v, uint32_t n)
{
	if (n <= v->leaf_cap)
		return 0;
	uint32_t *lb = realloc(v->leaf_blk, (size_t)n * sizeof(*lb));
	if (!lb)
		return -ENOMEM;
	v->leaf_blk = lb;
	uint8_t *ld = realloc(v->leaf_dirty, n);
	if (!ld)
		return -ENOMEM;
	v->leaf_dirty = ld;
	memset(lb + v->leaf_cap, 0, (size_t)(n - v->leaf_cap) * sizeof(*lb));
	memset(ld + v->leaf_cap, 0, n - v->leaf_cap);
	v->leaf_cap = n;
	return 0;
}

int vl_map_init(struct vl_vol *v, uint64_t size)
{
	uint32_t n = vl_nr_leaves(vl_vol_nr_ext(v->pool, size));
	struct vl_mapdir *d = dir_new(n);
	if (!d)
		return -ENOMEM;
	atomic_store(&v->dir, d);
	return side_arrays(v, n);
}

/* Caller holds v->lock. */
int vl_map_grow(struct vl_vol *v, uint64_t size)
{
	struct vl_mapdir *old = atomic_load(&v->dir);
	uint32_t n = vl_nr_leaves(vl_vol_nr_ext(v->pool, size));
	if (n <= old->n)
		return 0;
	int r = side_arrays(v, n);
	if (r)
		return r;
	struct vl_mapdir *d = dir_new(n);
	if (!d)
		return -ENOMEM;
	for (uint32_t i = 0; i < old->n; i++)
		atomic_store_explicit(&d->leaf[i], atomic_load(&old->leaf[i]), memory_order_relaxed);
	d->older = old;
	atomic_store_explicit(&v->dir, d, memory_order_release);
	return 0;
}

void vl_map_destroy(struct vl_vol *v)
{
	struct vl_mapdir *d = atomic_load(&v->dir);
	if (d) {
		for (uint32_t i = 0; i < d->n; i++)
			free(atomic_load(&d->leaf[i]));
	}
	while (d) {
		struct vl_mapdir *o = d->older;
		free(d);
		d = o;
	}
	atomic_store(&v->dir, NULL);
	free(v->leaf_blk);
	free(v->leaf_dirty);
	v->leaf_blk = NULL;
	v->leaf_dirty = NULL;
	v->leaf_cap = 0;
}

/* Caller holds v->lock (when create is true). */
uint32_t *vl_map_leaf_get(struct vl_vol *v, uint32_t l, bool create)
{
	struct vl_mapdir *d = atomic_load_explicit(&v->dir, memory_order_acquire);
	if (l >= d->n)
		return NULL;
	uint32_t *leaf = atomic_load_explicit(&d->leaf[l], memory_order_acquire);
	if (leaf || !create)
		return leaf;
	leaf = calloc(VL_PER_PAGE, sizeof(uint32_t));
	if (!leaf)
		return NULL;
	atomic_store_explicit(&d->leaf[l], leaf, memory_order_release);
	return leaf;
}
