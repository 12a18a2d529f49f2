/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pools: creation, assembly in any order/path, and every assembly error named. */
#include <sys/stat.h>

#include "tutil.h"

#define MB (1ull << 20)
static struct vl_diag d;

static struct vl_pool *create(const char *name, const char **paths, size_t n)
{
	struct vl_pool *p;
	struct vl_pool_create_opts o = {.extent_size = MB, .max_volumes = 32};
	memset(&d, 0, sizeof(d));
	CHECK_OK(vl_pool_create(name, paths, n, &o, &p, &d));
	return p;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s'", from, to);
	CHECK(system(cmd) == 0);
}

static void pool_assembles_from_members_in_any_order_and_path(void)
{
	const char *m[3] = {tu_file(0, 64 * MB), tu_file(1, 64 * MB), tu_file(2, 64 * MB)};
	struct vl_pool *p = create("asm", m, 3);
	CHECK_OK(vl_vol_create(p, "v", 16 * MB, &(struct vl_vol_create_opts){0}, &d));
	vl_pool_close(p);
	/* reversed order, and member 1 renamed */
	char moved[300];
	snprintf(moved, sizeof(moved), "%s/renamed", tu_tmpdir());
	CHECK(rename(m[1], moved) == 0);
	const char *rev[3] = {m[2], moved, m[0]};
	CHECK_OK(vl_pool_open(rev, 3, 0, &p, &d));
	struct vl_pool_info pi;
	vl_pool_get_info(p, &pi);
	CHECK(strcmp(pi.name, "asm") == 0 && pi.nr_members == 3 && pi.nr_volumes == 1);
	struct vl_member_info mi;
	CHECK_OK(vl_pool_member_info(p, 1, &mi));
	CHECK(strcmp(mi.path, moved) == 0); /* placed by identity, not by argument order */
	vl_pool_close(p);
	CHECK(rename(moved, m[1]) == 0);
}

static void missing_foreign_and_duplicate_members_are_reported_by_name(void)
{
	const char *m[2] = {tu_file(0, 64 * MB), tu_file(1, 64 * MB)};
	vl_pool_close(create("one", m, 2));
	const char *o[1] = {tu_file(5, 64 * MB)};
	vl_pool_close(create("other", o, 1));
	struct vl_pool *p;

	/* missing */
	CHECK_RC(vl_pool_open(m, 1, 0, &p, &d), -ENODEV);
	CHECK_MSG(d, "missing member #1");
	/* foreign */
	const char *f[3] = {m[0], m[1], o[0]};
	CHECK_RC(vl_pool_open(f, 3, 0, &p, &d), -EXDEV);
	CHECK_MSG(d, o[0]);
	CHECK_MSG(d, "another pool (other");
	/* the same path twice */
	const char *twice[2] = {m[0], m[0]};
	CHECK_RC(vl_pool_open(twice, 2, 0, &p, &d), -EINVAL);
	CHECK_MSG(d, "same device");
	/* a byte copy of a member (same identity, different file) */
	char copy[300];
	snprintf(copy, sizeof(copy), "%s/copy", tu_tmpdir());
	copy_file(m[1], copy);
	const char *dup[3] = {m[0], m[1], copy};
	CHECK_RC(vl_pool_open(dup, 3, 0, &p, &d), -EINVAL);
	CHECK_MSG(d, "both member 1");
	CHECK_MSG(d, copy);
	/* not a member at all */
	const char *blank[2] = {m[0], tu_file(6, MB)};
	CHECK_RC(vl_pool_open(blank, 2, 0, &p, &d), -ENODATA);
	CHECK_MSG(d, "not a vlun pool member");
	/* and nothing was changed by all that: it still opens */
	CHECK_OK(vl_pool_open(m, 2, 0, &p, &d));
	vl_pool_close(p);
}

static void create_refuses_bad_input_and_changes_nothing(void)
{
	const char *m[2] = {tu_file(0, 64 * MB), tu_file(1, 64 * MB)};
	struct vl_pool *p;
	CHECK_RC(vl_pool_create("bad/name", m, 2, NULL, &p, &d), -EINVAL);
	CHECK_RC(vl_pool_create("x", m, 0, NULL, &p, &d), -EINVAL);
	struct vl_pool_create_opts o = {.extent_size = 3 * MB};
	CHECK_RC(vl_pool_create("x", m, 2, &o, &p, &d), -EINVAL);
	CHECK_MSG(d, "power of two");
	const char *same[2] = {m[0], m[0]};
	CHECK_RC(vl_pool_create("x", same, 2, NULL, &p, &d), -EINVAL);
	const char *small[1] = {tu_file(7, MB)};
	CHECK_RC(vl_pool_create("x", small, 1, NULL, &p, &d), -ENOSPC);
	CHECK_MSG(d, "too small");
	const char *nofile[1] = {"/nonexistent/dev"};
	CHECK_RC(vl_pool_create("x", nofile, 1, NULL, &p, &d), -ENOENT);
	CHECK_MSG(d, "/nonexistent/dev");
	/* none of the above wrote a superblock */
	struct vl_member_ident id;
	CHECK(vl_member_identify(m[0], &id) == -ENODATA);
	/* a member of an existing pool is refused */
	vl_pool_close(create("first", m, 2));
	CHECK_RC(vl_pool_create("second", m, 2, NULL, &p, &d), -EEXIST);
	CHECK_MSG(d, "already belongs to pool first");
	CHECK_OK(vl_member_identify(m[1], &id));
	CHECK(strcmp(id.pool_name, "first") == 0 && id.index == 1 && id.nr_members == 2);
}

static void adding_members_grows_the_pool_and_adds_a_mirror(void)
{
	const char *m[3] = {tu_file(0, 64 * MB), tu_file(1, 64 * MB), tu_file(2, 128 * MB)};
	struct vl_pool *p = create("grow", m, 1);
	struct vl_pool_info a, b;
	vl_pool_get_info(p, &a);
	CHECK(strstr(a.health, "single metadata copy"));
	CHECK_OK(vl_vol_create(p, "v", 8 * MB, &(struct vl_vol_create_opts){.thick = true}, &d));
	CHECK_OK(vl_pool_add_member(p, m[1], &d));
	CHECK_RC(vl_pool_add_member(p, m[1], &d), -EEXIST);
	CHECK_OK(vl_pool_add_member(p, m[2], &d));
	vl_pool_get_info(p, &b);
	CHECK(b.nr_members == 3 && b.total_extents > a.total_extents * 3);
	CHECK(strcmp(b.health, "ok") == 0);
	struct vl_member_info mi;
	CHECK_OK(vl_pool_member_info(p, 1, &mi));
	CHECK(mi.meta_mirror);
	vl_pool_close(p);
	/* the new mirror alone carries the metadata: wipe member 0's metadata area */
	int fd = open(m[0], O_RDWR);
	static uint8_t z[1 << 20];
	CHECK(pwrite(fd, z, sizeof(z), 64 * 1024) == (ssize_t)sizeof(z));
	close(fd);
	CHECK_OK(vl_pool_open(m, 3, 0, &p, &d));
	struct vl_vol_info vi;
	CHECK_OK(vl_vol_info(p, "v", &vi));
	CHECK(vi.allocated == 8 * MB);
	vl_pool_get_info(p, &b);
	CHECK(b.repairs > 0);
	vl_pool_close(p);
	/* old members alone still assemble? no: the pool now needs all three */
	CHECK_RC(vl_pool_open(m, 2, 0, &p, &d), -ENODEV);
}

static void destroy_refuses_while_volumes_exist_unless_forced(void)
{
	const char *m[1] = {tu_file(0, 64 * MB)};
	struct vl_pool *p = create("gone", m, 1);
	CHECK_OK(vl_vol_create(p, "v", 8 * MB, NULL, &d));
	struct vl_vol *h;
	CHECK_OK(vl_vol_open(p, "v", &h, &d));
	CHECK_RC(vl_pool_destroy(p, true, &d), -EBUSY);
	vl_vol_close(h);
	CHECK_RC(vl_pool_destroy(p, false, &d), -ENOTEMPTY);
	CHECK_MSG(d, "v");
	CHECK_OK(vl_pool_destroy(p, true, &d));
	vl_pool_close(p);
	struct vl_member_ident id;
	CHECK(vl_member_identify(m[0], &id) == -ENODATA);
}

static void a_pool_in_use_is_locked_but_readable(void)
{
	const char *m[1] = {tu_file(0, 64 * MB)};
	struct vl_pool *p = create("busy", m, 1), *q;
	CHECK_RC(vl_pool_open(m, 1, 0, &q, &d), -EBUSY);
	CHECK_MSG(d, "in use");
	CHECK_OK(vl_pool_open(m, 1, VL_OPEN_RDONLY, &q, &d));
	CHECK_RC(vl_vol_create(q, "v", MB, NULL, &d), -EROFS);
	vl_pool_close(q);
	vl_pool_close(p);
}

int main(void)
{
	pool_assembles_from_members_in_any_order_and_path();
	missing_foreign_and_duplicate_members_are_reported_by_name();
	create_refuses_bad_input_and_changes_nothing();
	adding_members_grows_the_pool_and_adds_a_mirror();
	destroy_refuses_while_volumes_exist_unless_forced();
	a_pool_in_use_is_locked_but_readable();
	printf("pool: all checks passed\n");
	return 0;
}
