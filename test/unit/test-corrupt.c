/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Corruption: flip bytes in every metadata structure (superblock slots,
 * volume headers, index pages, map pages) on each member.  Open must detect
 * it, use the good copy, repair the bad one, and never return garbage; with
 * every copy of a block gone, the volume is refused with a clear reason and
 * nothing crashes.
 */
#include "tutil.h"

#include "internal.h"

#define MB (1ull << 20)
#define EXT (64 * 1024ull)
static struct vl_diag d;
static const char *m[2];
static const uint64_t FAR = 70 * MB; /* second map page (1008 extents of 64K = 63 MiB) */

struct loc {
	const char *what;
	uint64_t off;
	int member; /* -1 = every mirror */
};

static void flip(int member, uint64_t off, uint64_t seed)
{
	int fd = open(m[member], O_RDWR);
	CHECK(fd >= 0);
	uint8_t b;
	uint64_t at = off + tu_rand(&seed) % VL_BLK;
	CHECK(pread(fd, &b, 1, (off_t)at) == 1);
	b ^= (uint8_t)(1u << (seed % 8));
	CHECK(pwrite(fd, &b, 1, (off_t)at) == 1);
	close(fd);
}

static void setup(void)
{
	m[0] = tu_file(0, 96 * MB);
	m[1] = tu_file(1, 96 * MB);
	struct vl_pool *p;
	struct vl_pool_create_opts o = {.extent_size = EXT, .max_volumes = 8};
	CHECK_OK(vl_pool_create("c", m, 2, &o, &p, &d));
	CHECK_OK(vl_vol_create(p, "v", 128 * MB, NULL, &d));
	CHECK_OK(vl_vol_create(p, "w", MB, NULL, &d));
	struct vl_vol *v;
	uint8_t blk[4096];
	CHECK_OK(vl_vol_open(p, "v", &v, &d));
	tu_tag(blk, 1, 0, 1);
	CHECK_OK(vl_vol_write(v, blk, 4096, 0, 0));
	tu_tag(blk, 1, 1, 1);
	CHECK_OK(vl_vol_write(v, blk, 4096, FAR, 0));
	vl_vol_close(v);
	CHECK_OK(vl_vol_open(p, "w", &v, &d));
	tu_tag(blk, 2, 0, 1);
	CHECK_OK(vl_vol_write(v, blk, 4096, 0, 0));
	vl_vol_close(v);
	vl_pool_close(p);
}

/* Offsets of every metadata block, from the engine's own view. */
static size_t locate(struct loc *l)
{
	struct vl_pool *p;
	CHECK_OK(vl_pool_open(m, 2, VL_OPEN_RDONLY, &p, &d));
	struct vl_vol *v = vl_vol_find(p, "v");
	CHECK(v && v->nr_idx == 1 && v->leaf_blk[0] && v->leaf_blk[1]);
	size_t n = 0;
	uint64_t g = p->sb.h.gen;
	l[n++] = (struct loc){"superblock (current)", (g % 2) * VL_BLK, 0};
	l[n++] = (struct loc){"superblock (previous)", ((g + 1) % 2) * VL_BLK, 1};
	l[n++] = (struct loc){"volume header", vl_vt_off(p, v->slot, v->cur_copy), 0};
	l[n++] = (struct loc){"volume header", vl_vt_off(p, v->slot, v->cur_copy), 1};
	l[n++] = (struct loc){"index page", vl_meta_blk_off(p, v->idx_blk[0]), 0};
	l[n++] = (struct loc){"index page", vl_meta_blk_off(p, v->idx_blk[0]), 1};
	l[n++] = (struct loc){"map page 0", vl_meta_blk_off(p, v->leaf_blk[0]), 0};
	l[n++] = (struct loc){"map page 1", vl_meta_blk_off(p, v->leaf_blk[1]), 1};
	l[n++] = (struct loc){"map page 0 (every copy)", vl_meta_blk_off(p, v->leaf_blk[0]), -1};
	l[n++] = (struct loc){"index page (every copy)", vl_meta_blk_off(p, v->idx_blk[0]), -1};
	vl_pool_close(p);
	return n;
}

static bool block_is(struct vl_vol *v, uint64_t off, uint32_t a, uint32_t b)
{
	uint8_t blk[4096];
	uint32_t x, y, z;
	CHECK_OK(vl_vol_read(v, blk, 4096, off));
	return tu_untag(blk, &x, &y, &z) == 1 && x == a && y == b;
}

static void each_single_bad_copy_is_detected_used_around_and_repaired(void)
{
	struct loc l[16];
	for (uint64_t seed = 1; seed <= 6; seed++) {
		setup();
		size_t n = locate(l);
		for (size_t i = 0; i < n; i++) {
			if (l[i].member < 0)
				continue;
			setup();
			flip(l[i].member, l[i].off, seed * 131 + i);
			struct vl_pool *p;
			int r = vl_pool_open(m, 2, 0, &p, &d);
			if (r) {
				fprintf(stderr, "%s on member %d: open failed: %s\n", l[i].what,
					l[i].member, d.msg);
				abort();
			}
			struct vl_pool_info pi;
			vl_pool_get_info(p, &pi);
			if (pi.repairs < 1)
				fprintf(stderr, "case %zu %s member %d seed %" PRIu64 "\n", i, l[i].what, l[i].member, seed);
			CHECK(pi.repairs >= 1);
			struct vl_vol *v;
			CHECK_OK(vl_vol_open(p, "v", &v, &d));
			CHECK(block_is(v, 0, 1, 0) && block_is(v, FAR, 1, 1));
			vl_vol_close(v);
			vl_pool_close(p);
			/* the repair was written: a second open repairs nothing and check is clean */
			CHECK_OK(vl_pool_open(m, 2, 0, &p, &d));
			vl_pool_get_info(p, &pi);
			CHECK(pi.repairs == 0);
			struct vl_check_result res;
			CHECK_OK(vl_pool_check(p, false, NULL, NULL, &res));
			CHECK(res.errors == 0 && res.blocks_checked >= 8);
			vl_pool_close(p);
		}
	}
}

static void read_only_check_reports_a_bad_copy_and_repair_fixes_it(void)
{
	struct loc l[16];
	setup();
	locate(l);
	/* mirror 1's copy of map page 1 */
	flip(1, l[7].off, 99);
	struct vl_pool *p;
	CHECK_OK(vl_pool_open(m, 2, VL_OPEN_RDONLY, &p, &d));
	struct vl_check_result res;
	CHECK_OK(vl_pool_check(p, false, NULL, NULL, &res));
	CHECK(res.errors >= 1 && res.repaired == 0); /* read-only: reported, not repaired */
	vl_pool_close(p);
	CHECK_OK(vl_pool_open(m, 2, 0, &p, &d));
	CHECK_OK(vl_pool_check(p, true, NULL, NULL, &res));
	CHECK(res.errors == 1 && res.repaired == 1);
	CHECK_OK(vl_pool_check(p, false, NULL, NULL, &res));
	CHECK(res.errors == 0);
	vl_pool_close(p);
}

static void losing_every_copy_refuses_that_volume_only(void)
{
	struct loc l[16];
	for (int k = 8; k <= 9; k++) {
		setup();
		locate(l);
		flip(0, l[k].off, 5);
		flip(1, l[k].off, 6);
		struct vl_pool *p;
		CHECK_OK(vl_pool_open(m, 2, 0, &p, &d));
		struct vl_vol *v;
		CHECK_RC(vl_vol_open(p, "v", &v, &d), -EUCLEAN);
		CHECK_MSG(d, "unreadable");
		CHECK_MSG(d, "pool check");
		CHECK_OK(vl_vol_open(p, "w", &v, &d));
		CHECK(block_is(v, 0, 2, 0));
		vl_vol_close(v);
		struct vl_pool_info pi;
		vl_pool_get_info(p, &pi);
		CHECK(strstr(pi.health, "damaged"));
		struct vl_check_result res;
		CHECK_OK(vl_pool_check(p, true, NULL, NULL, &res));
		CHECK(res.errors > res.repaired);
		vl_pool_close(p);
	}
}

static void garbage_over_a_whole_mirror_is_survived(void)
{
	setup();
	struct vl_pool *p;
	CHECK_OK(vl_pool_open(m, 2, VL_OPEN_RDONLY, &p, &d));
	uint64_t end = p->sb.data_off;
	vl_pool_close(p);
	int fd = open(m[1], O_RDWR);
	/* everything after the superblocks: volume table and metadata area */
	uint8_t *junk = malloc(end);
	uint64_t s = 77;
	for (uint64_t i = 0; i < end; i++)
		junk[i] = (uint8_t)tu_rand(&s);
	CHECK(pwrite(fd, junk, end - VL_VT_OFF, VL_VT_OFF) == (ssize_t)(end - VL_VT_OFF));
	close(fd);
	free(junk);
	CHECK_OK(vl_pool_open(m, 2, 0, &p, &d));
	struct vl_vol *v;
	CHECK_OK(vl_vol_open(p, "v", &v, &d));
	CHECK(block_is(v, FAR, 1, 1));
	vl_vol_close(v);
	struct vl_check_result res;
	CHECK_OK(vl_pool_check(p, true, NULL, NULL, &res));
	CHECK_OK(vl_pool_check(p, false, NULL, NULL, &res));
	CHECK(res.errors == 0);
	vl_pool_close(p);
	/* with both superblock slots gone, the member cannot be identified: named */
	fd = open(m[1], O_RDWR);
	static uint8_t z[2 * VL_BLK];
	CHECK(pwrite(fd, z, sizeof(z), 0) == (ssize_t)sizeof(z));
	close(fd);
	CHECK_RC(vl_pool_open(m, 2, 0, &p, &d), -ENODATA);
	CHECK_MSG(d, m[1]);
	CHECK_RC(vl_pool_open(m, 1, 0, &p, &d), -ENODEV);
	CHECK_MSG(d, "missing member #1");
}

int main(void)
{
	each_single_bad_copy_is_detected_used_around_and_repaired();
	read_only_check_reports_a_bad_copy_and_repair_fixes_it();
	losing_every_copy_refuses_that_volume_only();
	garbage_over_a_whole_mirror_is_survived();
	printf("corrupt: all checks passed\n");
	return 0;
}
