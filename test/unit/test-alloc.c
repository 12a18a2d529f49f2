/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The allocators (alloc.c) and the in-memory map (map.c), on a real pool. */
#include "tutil.h"

#include "internal.h"

#define MB (1ull << 20)

static struct vl_pool *pool(int members, uint64_t size)
{
	const char *m[4];
	for (int i = 0; i < members; i++)
		m[i] = tu_file(i, size);
	struct vl_pool *p;
	struct vl_diag d;
	struct vl_pool_create_opts o = {.extent_size = 64 * 1024, .max_volumes = 4};
	CHECK_OK(vl_pool_create("a", m, (size_t)members, &o, &p, &d));
	return p;
}

static void extents_are_handed_out_once_until_the_pool_is_full(void)
{
	struct vl_pool *p = pool(2, 8 * MB);
	uint64_t total = vl_pool_free_extents(p);
	CHECK(total == (uint64_t)p->m[0].nr_ext + p->m[1].nr_ext && total > 10);
	uint32_t *got = calloc(total, sizeof(uint32_t));
	for (uint64_t i = 0; i < total; i++) {
		CHECK_OK(vl_ext_alloc(p, 0, false, &got[i]));
		for (uint64_t k = 0; k < i; k++)
			CHECK(got[k] != got[i]);
	}
	uint32_t e;
	CHECK_RC(vl_ext_alloc(p, 0, false, &e), -ENOSPC);
	CHECK(vl_pool_free_extents(p) == 0);
	vl_ext_free(p, got[3]);
	CHECK_OK(vl_ext_alloc(p, 0, false, &e));
	CHECK(e == got[3]);
	/* freeing twice or freeing garbage changes nothing */
	vl_ext_free(p, got[5]);
	vl_ext_free(p, got[5]);
	vl_ext_free(p, vl_entry_make(9, 1));
	CHECK(vl_pool_free_extents(p) == 1);
	CHECK(!vl_ext_mark(p, got[6]));          /* in use */
	CHECK(vl_ext_mark(p, got[5]));           /* free -> used */
	CHECK(!vl_ext_mark(p, vl_entry_make(0, p->m[0].nr_ext))); /* out of range */
	free(got);
	vl_pool_close(p);
}

static void concat_fills_members_in_order_and_striped_alternates(void)
{
	struct vl_pool *p = pool(2, 8 * MB);
	uint32_t e;
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_OK(vl_ext_alloc(p, i, false, &e));
		CHECK(vl_entry_member(e) == 0);
	}
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_OK(vl_ext_alloc(p, i, true, &e));
		CHECK(vl_entry_member(e) == i % 2);
	}
	/* a full preferred member falls back to the other */
	while (p->m[1].nr_free) {
		CHECK_OK(vl_ext_alloc(p, 1, true, &e));
		CHECK(vl_entry_member(e) == 1);
	}
	CHECK_OK(vl_ext_alloc(p, 1, true, &e));
	CHECK(vl_entry_member(e) == 0);
	vl_pool_close(p);
}

static void metadata_reservations_account_exactly(void)
{
	struct vl_pool *p = pool(1, 8 * MB);
	uint64_t free0 = p->meta_free;
	CHECK_OK(vl_meta_reserve(p, 3));
	CHECK_RC(vl_meta_reserve(p, free0), -ENOSPC);
	uint32_t a = vl_meta_alloc_reserved(p), b = vl_meta_alloc_reserved(p);
	CHECK(a && b && a != b && p->meta_free == free0 - 2 && p->meta_reserved == 1);
	vl_meta_unreserve(p, 1);
	vl_meta_free(p, a);
	vl_meta_free(p, a);
	CHECK(p->meta_free == free0 - 1 && p->meta_reserved == 0);
	CHECK(!vl_meta_mark(p, 0)); /* block 0 means "none" */
	CHECK(!vl_meta_mark(p, b));
	CHECK(vl_meta_mark(p, a));
	vl_pool_close(p);
}

static void the_map_finds_entries_across_leaves_and_after_growth(void)
{
	struct vl_pool *p = pool(1, 8 * MB);
	struct vl_diag d;
	CHECK_OK(vl_vol_create(p, "v", 64ull << 30, NULL, &d)); /* 1 M extents: 1041 leaves */
	struct vl_vol *v = vl_vol_find(p, "v");
	uint64_t probes[] = {0, 1, VL_PER_PAGE - 1, VL_PER_PAGE, 777777, (1u << 20) - 1};
	pthread_mutex_lock(&v->lock);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		CHECK_OK(vl_vol_set_entry(v, probes[i], vl_entry_make(0, (uint32_t)i + 1)));
	CHECK(vl_map_lookup(v, 2) == 0 && vl_map_lookup(v, 1u << 20) == 0);
	CHECK_OK(vl_map_grow(v, 128ull << 30));
	CHECK_OK(vl_vol_set_entry(v, (2u << 20) - 1, vl_entry_make(0, 99)));
	pthread_mutex_unlock(&v->lock);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		CHECK(vl_map_lookup(v, probes[i]) == vl_entry_make(0, (uint32_t)i + 1));
	CHECK(vl_map_lookup(v, (2u << 20) - 1) == vl_entry_make(0, 99));
	CHECK(atomic_load(&v->nr_alloc) == 7);
	/* only touched leaves exist: leaves 0, 1, 771, 1040 and 2080 */
	struct vl_mapdir *dir = atomic_load(&v->dir);
	uint32_t leaves = 0;
	for (uint32_t l = 0; l < dir->n; l++)
		leaves += atomic_load(&dir->leaf[l]) != NULL;
	CHECK(leaves == 5);
	pthread_mutex_lock(&v->lock);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		CHECK_OK(vl_vol_set_entry(v, probes[i], 0));
	CHECK_OK(vl_vol_set_entry(v, (2u << 20) - 1, 0));
	pthread_mutex_unlock(&v->lock);
	CHECK(atomic_load(&v->nr_alloc) == 0);
	CHECK_OK(vl_vol_delete(p, "v", &d));
	vl_pool_close(p);
}

int main(void)
{
	extents_are_handed_out_once_until_the_pool_is_full();
	concat_fills_members_in_order_and_striped_alternates();
	metadata_reservations_account_exactly();
	the_map_finds_entries_across_leaves_and_after_growth();
	printf("alloc/map: all checks passed\n");
	return 0;
}
