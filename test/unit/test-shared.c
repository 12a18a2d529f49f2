/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared pools (format 2) with two engine instances in one process acting as two
 * blades, over one set of member files, with an in-process fake lease provider that
 * behaves like sanlock's lease semantics (a version that grows at every acquire, one
 * holder, -EBUSY for a live holder).  The real sanlock provider is tested against real
 * daemons in test/lease.  Checks: conversion and its refusals, a crash at every write
 * of the conversion, plain opens refused, ownership and epochs, a stale owner fenced at
 * commit, concurrent allocation by two blades never sharing an extent, and pool changes
 * seen by the other blade.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "alua.h"
#include "tutil.h"

static void free_buf(uint8_t **b) { free(*b); }
#define VL_ALIGNED_BUF(name, n)                                                              \
	uint8_t *name __attribute__((cleanup(free_buf))) = aligned_alloc(4096, n);           \
	CHECK(name)

#define MB (1ull << 20)
#define MSIZE (96 * MB)
#define EXT MB

/* ---- the fake lease provider ---- */
struct fake_lease {
	char space[VL_LEASE_NAME_MAX + 1];
	uint64_t off;
	uint64_t holder, version;
};
static struct fake_lease table[512];
static int ntable;
static int nspaces;
static pthread_mutex_t fl_lock = PTHREAD_MUTEX_INITIALIZER;

struct blade {
	uint64_t host;
	int joins, leaves;
};

static struct fake_lease *find(const char *space, uint64_t off)
{
	for (int i = 0; i < ntable; i++)
		if (!strcmp(table[i].space, space) && table[i].off == off)
			return &table[i];
	return NULL;
}

static int f_format_space(void *ctx, const struct vl_lease_space *ls)
{
	CHECK(ls->max_hosts > 0 && ls->io_timeout > 0 && ls->offset % MB == 0);
	pthread_mutex_lock(&fl_lock);
	nspaces++;
	pthread_mutex_unlock(&fl_lock);
	return 0;
}

static int f_format_lease(void *ctx, const struct vl_lease *l)
{
	CHECK(l->offset % MB == 0 && l->name[0]);
	pthread_mutex_lock(&fl_lock);
	struct fake_lease *f = find(l->space, l->offset);
	if (!f) {
		CHECK(ntable < 512);
		f = &table[ntable++];
	}
	snprintf(f->space, sizeof(f->space), "%s", l->space);
	f->off = l->offset;
	f->holder = 0;
	f->version = 0;
	pthread_mutex_unlock(&fl_lock);
	return 0;
}

static int f_join(void *ctx, const struct vl_lease_space *ls)
{
	struct blade *b = ctx;
	CHECK(ls->host_id == b->host);
	b->joins++;
	return 0;
}

static int f_leave(void *ctx, const struct vl_lease_space *ls)
{
	((struct blade *)ctx)->leaves++;
	return 0;
}

static int f_acquire(void *ctx, const struct vl_lease *l, uint64_t *version, uint64_t *holder)
{
	struct blade *b = ctx;
	pthread_mutex_lock(&fl_lock);
	struct fake_lease *f = find(l->space, l->offset);
	int r = 0;
	if (!f)
		r = -ENOENT;
	else if (f->holder && f->holder != b->host) {
		*holder = f->holder;
		r = -EBUSY;
	} else {
		if (f->holder != b->host)
			f->version++;
		f->holder = b->host;
		*version = f->version;
	}
	pthread_mutex_unlock(&fl_lock);
	return r;
}

static int f_release(void *ctx, const struct vl_lease *l)
{
	struct blade *b = ctx;
	pthread_mutex_lock(&fl_lock);
	struct fake_lease *f = find(l->space, l->offset);
	if (f && f->holder == b->host)
		f->holder = 0;
	pthread_mutex_unlock(&fl_lock);
	return 0;
}

static int forced;

/* sanlock's FORCE: the holder's daemon kills it; here its lease just goes */
static int f_force(void *ctx, const struct vl_lease *l)
{
	pthread_mutex_lock(&fl_lock);
	struct fake_lease *f = find(l->space, l->offset);
	if (f)
		f->holder = 0;
	forced++;
	pthread_mutex_unlock(&fl_lock);
	return 0;
}

static const struct vl_lease_ops fake_ops = {
	.request_force = f_force,
	.format_space = f_format_space,
	.format_lease = f_format_lease,
	.join = f_join,
	.leave = f_leave,
	.acquire = f_acquire,
	.release = f_release,
};

/* The holder's node "was killed": its lease is gone without it knowing. */
static void steal(struct vl_pool *p, uint32_t slot)
{
	struct vl_shared_info si;
	vl_pool_shared_info(p, &si);
	uint64_t off = si.lease_off + (3ull + si.nr_ags + slot) * MB;
	pthread_mutex_lock(&fl_lock);
	for (int i = 0; i < ntable; i++)
		if (table[i].off == off)
			table[i].holder = 0;
	pthread_mutex_unlock(&fl_lock);
}

static struct blade blade_a = {.host = 1}, blade_b = {.host = 2};
static const char *members[2];
static const struct vl_share_opts share_small = {.nr_ags = 4, .nr_slots = 8, .max_hosts = 8,
						 .io_timeout = 1};

static struct vl_pool *open_blade(struct blade *b)
{
	struct vl_pool *p;
	struct vl_diag d = {{0}};
	struct vl_pool_open_opts o = {.lease = &fake_ops, .lease_ctx = b, .host_id = b->host};
	int r = vl_pool_open_opts(members, 2, 0, &o, &p, &d);
	if (r)
		fprintf(stderr, "open as host %" PRIu64 ": %s\n", b->host, d.msg);
	CHECK_OK(r);
	return p;
}

static void new_pool(void)
{
	members[0] = tu_file(0, MSIZE);
	members[1] = tu_file(1, MSIZE);
	struct vl_pool_create_opts co = {.extent_size = EXT, .max_volumes = 64};
	struct vl_pool *p;
	struct vl_diag d;
	CHECK_OK(vl_pool_create("shp", members, 2, &co, &p, &d));
	vl_pool_close(p);
}

static struct vl_pool *open_plain(void)
{
	struct vl_pool *p;
	struct vl_diag d;
	CHECK_OK(vl_pool_open(members, 2, 0, &p, &d));
	return p;
}

static void share(void)
{
	struct vl_pool *p = open_plain();
	struct vl_diag d;
	CHECK_OK(vl_pool_share(p, &share_small, &fake_ops, NULL, &d));
	vl_pool_close(p);
}

static void fill_tag(uint8_t *buf, size_t len, uint32_t a, uint32_t b)
{
	for (size_t k = 0; k < len / 4096; k++)
		tu_tag(buf + k * 4096, a, b, (uint32_t)k);
}

static bool tag_is(const uint8_t *buf, size_t len, uint32_t a, uint32_t b)
{
	for (size_t k = 0; k < len / 4096; k++) {
		uint32_t x, y, z;
		if (tu_untag(buf + k * 4096, &x, &y, &z) != 1 || x != a || y != b || z != k)
			return false;
	}
	return true;
}

static void say_line(void *arg, const char *line) { fprintf(stderr, "  check: %s\n", line); }

/* problems pool check finds that were not repaired (at open or by it) */
static uint32_t check_errors(struct vl_pool *p)
{
	struct vl_check_result res;
	CHECK_OK(vl_pool_check(p, false, say_line, NULL, &res));
	return res.errors - res.repaired;
}

/* A fresh shared pool open on both blades, vm1 created on a, seen and opened on both. */
static void two_blades_one_volume(struct vl_pool **a, struct vl_pool **b, struct vl_vol **va,
				  struct vl_vol **vb)
{
	new_pool();
	share();
	*a = open_blade(&blade_a);
	*b = open_blade(&blade_b);
	struct vl_diag d;
	bool changed;
	CHECK_OK(vl_vol_create(*a, "vm1", 16 * MB, NULL, &d));
	CHECK_OK(vl_pool_poll(*b, &changed));
	CHECK(changed);
	CHECK_OK(vl_vol_open(*a, "vm1", va, &d));
	CHECK_OK(vl_vol_open(*b, "vm1", vb, &d));
}

/* A fresh single-blade pool with vm1 (8 MiB) holding 1 MiB of tag (t, t) at off. */
static struct vl_pool *plain_pool_with_vm1(uint32_t t, uint64_t off)
{
	new_pool();
	struct vl_pool *p = open_plain();
	struct vl_diag d;
	struct vl_vol *v;
	CHECK_OK(vl_vol_create(p, "vm1", 8 * MB, NULL, &d));
	CHECK_OK(vl_vol_open(p, "vm1", &v, &d));
	VL_ALIGNED_BUF(buf, MB);
	fill_tag(buf, MB, t, t);
	CHECK_OK(vl_vol_write(v, buf, MB, off, 0));
	vl_vol_close(v);
	return p;
}

/* ---- tests ---- */

static void share_converts_a_pool_and_plain_opens_are_refused(void)
{
	struct vl_pool *p = plain_pool_with_vm1(7, 0);
	struct vl_diag d;
	struct vl_vol *v;
	VL_ALIGNED_BUF(buf, MB);
	CHECK_OK(vl_pool_share(p, &share_small, &fake_ops, NULL, &d));
	CHECK_RC(vl_pool_share(p, &share_small, &fake_ops, NULL, &d), -EEXIST);
	vl_pool_close(p);
	CHECK(nspaces == 1 && ntable == 1 + 4 + 8);

	CHECK_RC(vl_pool_open(members, 2, 0, &p, &d), -ENOLCK);
	CHECK_MSG(d, "shared between blades");
	CHECK_MSG(d, "sanlock");
	/* read-only inspection needs no lease, and is clean */
	CHECK_OK(vl_pool_open(members, 2, VL_OPEN_RDONLY | VL_OPEN_NOLOCK, &p, &d));
	struct vl_shared_info si;
	vl_pool_shared_info(p, &si);
	CHECK(si.shared && si.nr_ags == 4 && si.nr_slots == 8 && si.host_id == 0);
	CHECK(si.lease_off % MB == 0 && si.lease_len == (3 + 4 + 8) * MB);
	CHECK(si.lease_off + si.lease_len <= MSIZE);
	CHECK_RC(vl_vol_open(p, "vm1", &v, &d), 0);
	CHECK_RC(vl_vol_read(v, buf, 4096, 0), -ESTALE); /* not the owner */
	vl_vol_close(v);
	CHECK(check_errors(p) == 0);
	vl_pool_close(p);

	/* a blade: its host id must fit, the data written before is there */
	struct vl_pool_open_opts bad = {.lease = &fake_ops, .lease_ctx = &blade_a, .host_id = 9};
	CHECK_RC(vl_pool_open_opts(members, 2, 0, &bad, &p, &d), -EINVAL);
	CHECK_MSG(d, "host id 9");
	p = open_blade(&blade_a);
	CHECK(blade_a.joins == 1);
	vl_pool_shared_info(p, &si);
	CHECK(si.host_id == 1 && si.ags_held == 1);
	CHECK_OK(vl_vol_open(p, "vm1", &v, &d));
	CHECK_RC(vl_vol_write(v, buf, 4096, 0, 0), -ESTALE);
	struct iovec pg = {buf, 4096};
	CHECK_RC(vl_vol_writev_mapped(v, &pg, 1, 0), -ESTALE); /* (the command thread's) */
	CHECK_OK(vl_vol_acquire(v, &d));
	memset(buf, 0, MB);
	CHECK_OK(vl_vol_read(v, buf, MB, 0));
	CHECK(tag_is(buf, MB, 7, 7));
	/* the command thread's write: into mapped extents, never allocating */
	VL_ALIGNED_BUF(orig, MB);
	memcpy(orig, buf, MB);
	VL_ALIGNED_BUF(pgbuf, 4096);
	fill_tag(pgbuf, 4096, 8, 8);
	pg.iov_base = pgbuf;
	CHECK_OK(vl_vol_writev_mapped(v, &pg, 1, 4096));
	CHECK_RC(vl_vol_writev_mapped(v, &pg, 1, 3 * MB), -EAGAIN);
	bool mapped;
	uint64_t run;
	CHECK_OK(vl_vol_block_status(v, 3 * MB, 4096, &mapped, &run));
	CHECK(!mapped);
	CHECK_OK(vl_vol_read(v, buf, MB, 0));
	CHECK(!memcmp(buf + 4096, pgbuf, 4096) && !memcmp(buf, orig, 4096) &&
	      !memcmp(buf + 8192, orig + 8192, MB - 8192));
	vl_vol_close(v);
	CHECK_RC(vl_pool_add_member(p, tu_file(5, MSIZE), &d), -EOPNOTSUPP);
	vl_pool_close(p);
	CHECK(blade_a.leaves == 0); /* the lockspace is the blade's: other processes use it */
	printf("ok - share converts a pool and plain opens are refused\n");
}

static void share_refuses_what_does_not_fit(void)
{
	new_pool();
	struct vl_pool *p = open_plain();
	struct vl_diag d;
	/* a volume whose slot is beyond the shared slots */
	for (int i = 0; i < 3; i++) {
		char n[16];
		snprintf(n, sizeof(n), "v%d", i);
		CHECK_OK(vl_vol_create(p, n, 4 * MB, NULL, &d));
	}
	struct vl_share_opts two = share_small;
	two.nr_slots = 2;
	CHECK_RC(vl_pool_share(p, &two, &fake_ops, NULL, &d), -ENOSPC);
	CHECK_MSG(d, "at least 3 volumes");
	/* the lease area's extents hold data */
	struct vl_vol_create_opts thick = {.thick = true};
	struct vl_pool_info pi;
	vl_pool_get_info(p, &pi);
	CHECK_OK(vl_vol_create(p, "big", (pi.free_extents - 1) * EXT, &thick, &d));
	CHECK_RC(vl_pool_share(p, &share_small, &fake_ops, NULL, &d), -ENOSPC);
	CHECK_MSG(d, "holds data");
	vl_pool_close(p);
	/* nothing changed: still a format 1 pool */
	p = open_plain();
	CHECK(check_errors(p) == 0);
	vl_pool_close(p);
	printf("ok - share refuses slots and extents it cannot have\n");
}

static void copy_file(const char *from, const char *to)
{
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s'", from, to);
	CHECK(system(cmd) == 0);
}

static void a_crash_during_share_leaves_a_whole_pool(void)
{
	struct vl_pool *p = plain_pool_with_vm1(3, 2 * MB);
	struct vl_diag d;
	struct vl_vol *v;
	VL_ALIGNED_BUF(buf, MB);
	vl_pool_close(p);
	char saved[2][300];
	for (int i = 0; i < 2; i++) {
		snprintf(saved[i], sizeof(saved[i]), "%s.orig", members[i]);
		copy_file(members[i], saved[i]);
	}
	int shared_seen = 0, plain_seen = 0;
	for (int cut = 0;; cut++) {
		for (int i = 0; i < 2; i++)
			copy_file(saved[i], members[i]);
		p = open_plain();
		struct vl_fault f = {.writes_left = cut, .torn = cut % 2, .drop_unsynced = true,
				     .seed = (uint32_t)cut};
		vl_pool_set_fault(p, &f);
		int r = vl_pool_share(p, &share_small, &fake_ops, NULL, &d);
		if (r == 0 && !f.crashed) {
			vl_pool_set_fault(p, NULL);
			vl_pool_close(p);
			break;
		}
		vl_pool_crash(p);
		/* either as it was, or shared: never anything else */
		int rp = vl_pool_open(members, 2, 0, &p, &d);
		if (rp == 0) {
			plain_seen++;
		} else {
			CHECK_RC(rp, -ENOLCK);
			p = open_blade(&blade_a);
			shared_seen++;
		}
		CHECK(check_errors(p) == 0);
		CHECK_OK(vl_vol_open(p, "vm1", &v, &d));
		CHECK_OK(vl_vol_acquire(v, &d));
		memset(buf, 0, MB);
		CHECK_OK(vl_vol_read(v, buf, MB, 2 * MB));
		CHECK(tag_is(buf, MB, 3, 3));
		vl_vol_close(v);
		vl_pool_close(p);
		CHECK(cut < 200);
	}
	CHECK(plain_seen > 0);
	printf("ok - a crash at every write of share leaves a whole pool (%d plain, %d "
	       "shared)\n",
	       plain_seen, shared_seen);
}

static void only_the_owner_does_io_and_epochs_grow(void)
{
	struct vl_pool *a, *b;
	struct vl_vol *va, *vb;
	struct vl_diag d;
	two_blades_one_volume(&a, &b, &va, &vb);
	VL_ALIGNED_BUF(buf, MB);
	fill_tag(buf, MB, 1, 1);
	CHECK_RC(vl_vol_write(va, buf, MB, 0, 0), -ESTALE);
	CHECK_RC(vl_vol_read(vb, buf, 4096, 0), -ESTALE);
	CHECK_RC(vl_vol_flush(vb), -ESTALE);
	CHECK_OK(vl_vol_acquire(va, &d));
	CHECK(vl_vol_owned(va) && !vl_vol_owned(vb));
	CHECK_RC(vl_vol_acquire(vb, &d), -EBUSY);
	CHECK_MSG(d, "host id 1");
	struct vl_vol_info ia, ib;
	CHECK_OK(vl_vol_info(a, "vm1", &ia));
	CHECK(ia.owner_node == 1 && ia.owner_epoch >= 1);
	uint64_t epoch = ia.owner_epoch;
	double max_ms = 0;
	for (uint32_t round = 0; round < 10; round++) {
		struct vl_vol *from = round % 2 ? vb : va, *to = round % 2 ? va : vb;
		fill_tag(buf, MB, 1, round + 10);
		CHECK_OK(vl_vol_write(from, buf, MB, (round % 4) * MB, 0));
		/* the new owner also has the old data cached from an earlier round */
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK_OK(vl_vol_release(from));
		CHECK_OK(vl_vol_acquire(to, &d));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		max_ms = ms > max_ms ? ms : max_ms;
		CHECK_RC(vl_vol_write(from, buf, 4096, 0, 0), -ESTALE);
		memset(buf, 0, MB);
		CHECK_OK(vl_vol_read(to, buf, MB, (round % 4) * MB));
		CHECK(tag_is(buf, MB, 1, round + 10));
		CHECK_OK(vl_vol_info(round % 2 ? a : b, "vm1", &ib));
		CHECK(ib.owner_node == (round % 2 ? 1u : 2u) && ib.owner_epoch > epoch);
		epoch = ib.owner_epoch;
	}
	vl_vol_close(va);
	vl_vol_close(vb);
	vl_pool_close(a);
	vl_pool_close(b);
	printf("ok - only the owner does I/O; 10 hand-overs, epochs grow (max %.1f ms, engine "
	       "and fake leases only)\n",
	       max_ms);
}

static void a_stale_owner_is_fenced_at_commit(void)
{
	struct vl_pool *a, *b;
	struct vl_vol *va, *vb;
	struct vl_diag d;
	two_blades_one_volume(&a, &b, &va, &vb);
	CHECK_OK(vl_vol_acquire(va, &d));
	VL_ALIGNED_BUF(buf, MB);
	fill_tag(buf, MB, 5, 1);
	CHECK_OK(vl_vol_write(va, buf, MB, 0, 0));
	CHECK_OK(vl_vol_flush(va));
	/* A's node is cut off: its lease is taken over without A noticing */
	struct vl_vol_info info;
	CHECK_OK(vl_vol_info(a, "vm1", &info));
	steal(a, info.slot);
	CHECK_OK(vl_vol_acquire(vb, &d));
	fill_tag(buf, MB, 6, 2);
	CHECK_OK(vl_vol_write(vb, buf, MB, MB, 0));
	CHECK_OK(vl_vol_flush(vb));
	/* A still believes it owns vm1: a write that allocates, then the commit: fenced */
	fill_tag(buf, MB, 5, 9);
	CHECK_OK(vl_vol_write(va, buf, MB, 4 * MB, 0));
	CHECK_RC(vl_vol_flush(va), -ESTALE);
	CHECK(!vl_vol_owned(va));
	CHECK_RC(vl_vol_write(va, buf, MB, 0, 0), -ESTALE);
	/* B's view: its own data, A's fenced allocation never mapped */
	memset(buf, 0xff, MB);
	CHECK_OK(vl_vol_read(vb, buf, MB, 4 * MB));
	for (size_t i = 0; i < MB; i++)
		CHECK(buf[i] == 0);
	CHECK_OK(vl_vol_read(vb, buf, MB, MB));
	CHECK(tag_is(buf, MB, 6, 2));
	CHECK_OK(vl_vol_read(vb, buf, MB, 0));
	CHECK(tag_is(buf, MB, 5, 1));
	CHECK_OK(vl_vol_info(b, "vm1", &info));
	CHECK(info.owner_node == 2);
	vl_vol_close(va);
	vl_vol_close(vb);
	vl_pool_close(a);
	vl_pool_close(b);
	struct vl_pool *r;
	CHECK_OK(vl_pool_open(members, 2, VL_OPEN_RDONLY | VL_OPEN_NOLOCK, &r, &d));
	CHECK_OK(vl_vol_info(r, "vm1", &info));
	CHECK(info.owner_node == 2); /* the fenced blade wrote no header after B's */
	CHECK(check_errors(r) == 0);
	vl_pool_close(r);
	printf("ok - a stale owner is fenced at commit and its allocation never lands\n");
}

struct server {
	struct vl_pool *p;
	atomic_bool stop;
	unsigned released;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	while (!atomic_load(&s->stop)) {
		unsigned n;
		CHECK_OK(vl_pool_serve_requests(s->p, NULL, NULL, &n));
		s->released += n;
		usleep(2000);
	}
	return NULL;
}

static void a_live_owner_lets_go_when_asked(void)
{
	struct vl_pool *a, *b;
	struct vl_vol *va, *vb;
	struct vl_diag d;
	two_blades_one_volume(&a, &b, &va, &vb);
	CHECK_OK(vl_vol_acquire(va, &d));
	VL_ALIGNED_BUF(buf, MB);
	/* nobody serves A's requests: B's takeover times out, A keeps the volume */
	CHECK_RC(vl_vol_takeover(vb, 50, 0, &d), -EBUSY);
	CHECK_MSG(d, "did not let go");
	CHECK(vl_vol_owned(va));
	/* that stale request is not acted on later */
	struct server sa = {.p = a}, sb = {.p = b};
	unsigned n;
	CHECK_OK(vl_pool_serve_requests(a, NULL, NULL, &n));
	CHECK(n == 1); /* (it was still pending: A had not looked yet) */
	CHECK(!vl_vol_owned(va));
	CHECK_OK(vl_vol_acquire(va, &d));
	CHECK_OK(vl_pool_serve_requests(a, NULL, NULL, &n));
	CHECK(n == 0 && vl_vol_owned(va));
	pthread_t ta, tb;
	CHECK(pthread_create(&ta, NULL, serve, &sa) == 0);
	CHECK(pthread_create(&tb, NULL, serve, &sb) == 0);
	double max_ms = 0;
	for (uint32_t round = 0; round < 10; round++) {
		struct vl_vol *from = round % 2 ? vb : va, *to = round % 2 ? va : vb;
		fill_tag(buf, MB, 2, round);
		CHECK_OK(vl_vol_write(from, buf, MB, (round % 3) * MB, 0));
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK_OK(vl_vol_takeover(to, 5000, 0, &d));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		max_ms = ms > max_ms ? ms : max_ms;
		CHECK(vl_vol_owned(to) && !vl_vol_owned(from));
		memset(buf, 0, MB);
		CHECK_OK(vl_vol_read(to, buf, MB, (round % 3) * MB));
		CHECK(tag_is(buf, MB, 2, round));
	}
	atomic_store(&sa.stop, true);
	atomic_store(&sb.stop, true);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK(sa.released + sb.released == 10);
	/* an owner that does not answer is fenced: B forces, A's next commit is refused */
	CHECK(vl_vol_owned(va) || vl_vol_owned(vb));
	struct vl_vol *owner = vl_vol_owned(va) ? va : vb, *taker = owner == va ? vb : va;
	fill_tag(buf, MB, 9, 9);
	CHECK_OK(vl_vol_write(owner, buf, MB, 8 * MB, 0)); /* allocates: metadata to commit */
	CHECK_OK(vl_vol_takeover(taker, 50, VL_TAKEOVER_FORCE, &d));
	CHECK(forced == 1 && vl_vol_owned(taker));
	CHECK_RC(vl_vol_flush(owner), -ESTALE);
	CHECK(!vl_vol_owned(owner));
	vl_vol_close(va);
	vl_vol_close(vb);
	vl_pool_close(a);
	vl_pool_close(b);
	printf("ok - a live owner lets go when asked: 10 take-overs (max %.1f ms, serving "
	       "every 2 ms); one that does not answer is fenced\n",
	       max_ms);
}

/* An owner the caller knows does not answer (VL_TAKEOVER_SILENT: its status block
 * stopped) is not asked and not waited for: without force the takeover is refused at
 * once, with force it is fenced at once. */
static void a_silent_owner_is_not_waited_for(void)
{
	struct vl_pool *a, *b;
	struct vl_vol *va, *vb;
	struct vl_diag d;
	two_blades_one_volume(&a, &b, &va, &vb);
	CHECK_OK(vl_vol_acquire(va, &d));
	VL_ALIGNED_BUF(buf, MB);
	fill_tag(buf, MB, 7, 7);
	CHECK_OK(vl_vol_write(va, buf, MB, 0, 0)); /* allocates: metadata to commit */
	CHECK(vl_vol_holder(vb) == vl_pool_host_id(a) && vl_pool_host_id(a) != 0);
	int forced0 = forced;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_RC(vl_vol_takeover(vb, 5000, VL_TAKEOVER_SILENT, &d), -EBUSY);
	CHECK_MSG(d, "does not answer");
	CHECK(forced == forced0 && vl_vol_owned(va));
	CHECK_OK(vl_vol_takeover(vb, 5000, VL_TAKEOVER_SILENT | VL_TAKEOVER_FORCE, &d));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECK(forced == forced0 + 1 && vl_vol_owned(vb));
	CHECK(ms < 2500); /* neither call waited its 5000 ms for a release */
	CHECK_RC(vl_vol_flush(va), -ESTALE);
	CHECK(vl_vol_holder(va) == vl_pool_host_id(b));
	vl_vol_close(va);
	vl_vol_close(vb);
	vl_pool_close(a);
	vl_pool_close(b);
	printf("ok - a silent owner is not waited for: refused, or fenced, at once (%.1f ms)\n", ms);
}

struct writer {
	struct vl_vol *v;
	uint32_t tag;
	uint64_t size;
	int err;
};

static void *write_all(void *arg)
{
	struct writer *w = arg;
	uint8_t *buf = aligned_alloc(4096, 256 * 1024);
	for (uint64_t off = 0; off < w->size && !w->err; off += 256 * 1024) {
		fill_tag(buf, 256 * 1024, w->tag, (uint32_t)(off / (256 * 1024)));
		w->err = vl_vol_write(w->v, buf, 256 * 1024, off, 0);
		if (!w->err && off % (8 * MB) == 0)
			w->err = vl_vol_flush(w->v);
	}
	if (!w->err)
		w->err = vl_vol_flush(w->v);
	free(buf);
	return NULL;
}

static void two_blades_allocating_at_once_never_share_an_extent(void)
{
	new_pool();
	share();
	struct vl_pool *a = open_blade(&blade_a), *b = open_blade(&blade_b);
	struct vl_diag d;
	struct vl_pool_info pi;
	vl_pool_get_info(a, &pi);
	/* together they need more than one allocation group each */
	uint64_t each = 60 * MB;
	CHECK_OK(vl_vol_create(a, "vm1", each, NULL, &d));
	CHECK_OK(vl_vol_create(b, "vm2", each, NULL, &d));
	bool changed;
	CHECK_OK(vl_pool_poll(a, &changed));
	CHECK(changed);
	struct writer w[2] = {{.tag = 100, .size = each}, {.tag = 200, .size = each}};
	CHECK_OK(vl_vol_open(a, "vm1", &w[0].v, &d));
	CHECK_OK(vl_vol_open(b, "vm2", &w[1].v, &d));
	CHECK_OK(vl_vol_acquire(w[0].v, &d));
	CHECK_OK(vl_vol_acquire(w[1].v, &d));
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, write_all, &w[i]) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	CHECK_OK(w[0].err);
	CHECK_OK(w[1].err);
	struct vl_shared_info sa, sb;
	vl_pool_shared_info(a, &sa);
	vl_pool_shared_info(b, &sb);
	CHECK(sa.ags_held >= 2 && sb.ags_held >= 2 && sa.ags_held + sb.ags_held <= 4);
	vl_vol_close(w[0].v);
	vl_vol_close(w[1].v);
	vl_pool_close(a);
	vl_pool_close(b);
	/* read back by a fresh blade, and checked from the disks */
	struct vl_pool *r;
	CHECK_OK(vl_pool_open(members, 2, VL_OPEN_RDONLY | VL_OPEN_NOLOCK, &r, &d));
	CHECK(check_errors(r) == 0);
	struct vl_vol_info i1, i2;
	CHECK_OK(vl_vol_info(r, "vm1", &i1));
	CHECK_OK(vl_vol_info(r, "vm2", &i2));
	CHECK(i1.allocated == each && i2.allocated == each);
	vl_pool_close(r);
	r = open_blade(&blade_b);
	uint8_t *buf = aligned_alloc(4096, 256 * 1024);
	for (int k = 0; k < 2; k++) {
		struct vl_vol *v;
		CHECK_OK(vl_vol_open(r, k ? "vm2" : "vm1", &v, &d));
		CHECK_OK(vl_vol_acquire(v, &d));
		for (uint64_t off = 0; off < each; off += 256 * 1024) {
			CHECK_OK(vl_vol_read(v, buf, 256 * 1024, off));
			CHECK(tag_is(buf, 256 * 1024, k ? 200 : 100, (uint32_t)(off / (256 * 1024))));
		}
		vl_vol_close(v);
	}
	free(buf);
	vl_pool_close(r);
	printf("ok - two blades allocating at once never share an extent (groups held: %u "
	       "and %u of 4)\n",
	       sa.ags_held, sb.ags_held);
}

static void pool_changes_are_seen_by_the_other_blade(void)
{
	new_pool();
	share();
	struct vl_pool *a = open_blade(&blade_a), *b = open_blade(&blade_b);
	struct vl_diag d;
	struct vl_vol_info info;
	bool changed;
	CHECK_OK(vl_pool_poll(a, &changed));
	CHECK(!changed);
	CHECK_OK(vl_vol_create(b, "vm3", 4 * MB, NULL, &d));
	CHECK_RC(vl_vol_info(a, "vm3", &info), -ENOENT);
	CHECK_OK(vl_pool_poll(a, &changed));
	CHECK(changed);
	CHECK_OK(vl_vol_info(a, "vm3", &info));
	CHECK(info.size == 4 * MB);
	/* a name taken on another blade is refused here even before a poll */
	CHECK_OK(vl_vol_create(b, "vm4", 4 * MB, NULL, &d));
	CHECK_RC(vl_vol_create(a, "vm4", 4 * MB, NULL, &d), -EEXIST);
	CHECK_OK(vl_vol_resize(b, "vm3", 8 * MB, false, &d));
	CHECK_OK(vl_pool_poll(a, &changed));
	CHECK(changed);
	CHECK_OK(vl_vol_info(a, "vm3", &info));
	CHECK(info.size == 8 * MB);
	/* a volume served on A is neither deleted nor resized from B */
	struct vl_vol *v;
	CHECK_OK(vl_vol_open(a, "vm3", &v, &d));
	CHECK_OK(vl_vol_acquire(v, &d));
	CHECK_RC(vl_vol_delete(b, "vm3", &d), -EBUSY);
	CHECK_MSG(d, "host id 1");
	CHECK_RC(vl_vol_resize(b, "vm3", 12 * MB, false, &d), -EBUSY);
	CHECK_RC(vl_vol_rename(b, "vm3", "x", &d), -EBUSY);
	/* ... but A may grow its own volume, and B sees it */
	CHECK_OK(vl_vol_resize(a, "vm3", 12 * MB, false, &d));
	CHECK(vl_vol_size(v) == 12 * MB);
	CHECK_OK(vl_pool_poll(b, &changed));
	CHECK_OK(vl_vol_info(b, "vm3", &info));
	CHECK(info.size == 12 * MB);
	CHECK_OK(vl_vol_release(v));
	vl_vol_close(v);
	CHECK_OK(vl_vol_delete(b, "vm3", &d));
	CHECK_OK(vl_pool_poll(a, &changed));
	CHECK(changed);
	CHECK_RC(vl_vol_info(a, "vm3", &info), -ENOENT);
	CHECK(vl_pool_nr_volumes(a) == 1 && vl_pool_nr_volumes(b) == 1);
	vl_pool_close(a);
	vl_pool_close(b);
	printf("ok - pool changes are seen by the other blade\n");
}


/* ---- ALUA states and moves (handler/tcmu/alua.c) on two blades in one process ---- */

/* A plain tree standing in for one blade's configfs: vm1's backstore with a group per
 * blade, states as given. */
static const char *fake_cfs(const char *blade, int state_a, int state_b)
{
	static char roots[2][512];
	char *root = roots[blade[0] == 'b'];
	snprintf(root, 512, "%s/cfs-%s/core", tu_tmpdir(), blade);
	char p[700];
	const char *dirs[] = {"", "/user_1", "/user_1/vm1", "/user_1/vm1/attrib", "/user_1/vm1/alua",
			      "/user_1/vm1/alua/a", "/user_1/vm1/alua/b",
			      "/user_1/vm1/alua/default_tg_pt_gp"};
	snprintf(p, sizeof(p), "%s/cfs-%s", tu_tmpdir(), blade);
	mkdir(p, 0755);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		mkdir(p, 0755);
	}
	struct { const char *f, *v; } files[3] = {{"attrib/dev_config", "vlun/shp/vm1\n"},
						  {"alua/a/alua_access_state", state_a ? "2\n" : "0\n"},
						  {"alua/b/alua_access_state", state_b ? "2\n" : "0\n"}};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/user_1/vm1/%s", root, files[i].f);
		FILE *f = fopen(p, "w");
		CHECK(f && fputs(files[i].v, f) >= 0 && fclose(f) == 0);
	}
	return root;
}

static int state_of(const char *root, const char *group)
{
	char p[700], buf[16] = "";
	snprintf(p, sizeof(p), "%s/user_1/vm1/alua/%s/alua_access_state", root, group);
	FILE *f = fopen(p, "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	fclose(f);
	return atoi(buf);
}

struct ticker {
	struct alua_pool *ap[2];
	atomic_bool stop;
	atomic_bool frozen[2]; /* a blade whose handler does not answer */
};

static void *tick_main(void *arg)
{
	struct ticker *t = arg;
	while (!atomic_load(&t->stop)) {
		for (int i = 0; i < 2; i++)
			if (!atomic_load(&t->frozen[i]))
				alua_tick(t->ap[i]);
		usleep(5000);
	}
	return NULL;
}

static int ctl(struct alua_pool *ap, char *line, char *msg)
{
	char *argv[16], *save = NULL;
	int argc = 0;
	for (char *w = strtok_r(line, " ", &save); w && argc < 16; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	return alua_ctl(ap, argc, argv, msg, 16384);
}

static void alua_states_follow_the_owner_on_every_blade(void)
{
	struct vl_pool *a, *b;
	struct vl_vol *va, *vb;
	two_blades_one_volume(&a, &b, &va, &vb);
	/* as vlun-config creates them: the configured owner (a) AO, the other Standby */
	const char *ra = fake_cfs("a", 0, 2), *rb = fake_cfs("b", 0, 2);
	struct ticker t;
	memset(&t, 0, sizeof(t));
	t.ap[0] = alua_pool_new(a, "shp", "a");
	t.ap[1] = alua_pool_new(b, "shp", "b");
	CHECK(t.ap[0] && t.ap[1]);
	alua_pool_set_configfs(t.ap[0], ra);
	alua_pool_set_configfs(t.ap[1], rb);
	alua_pool_set_answer_ms(t.ap[0], 1500);
	alua_pool_set_answer_ms(t.ap[1], 1500);
	static char msg[16384];
	char line[200];
	/* nobody owns vm1 yet: nothing is rewritten; the configured owner claims it */
	snprintf(line, sizeof(line), "alua-sync shp");
	CHECK_OK(ctl(t.ap[1], line, msg));
	CHECK(strstr(msg, "1 LUNs"));
	snprintf(line, sizeof(line), "alua-claim shp vm1");
	CHECK_OK(ctl(t.ap[0], line, msg));
	CHECK(strstr(msg, "owned here") && vl_vol_owned(va));
	pthread_t th;
	CHECK(pthread_create(&th, NULL, tick_main, &t) == 0);
	usleep(300000);
	CHECK(state_of(ra, "a") == 0 && state_of(ra, "b") == 2);
	CHECK(state_of(rb, "a") == 0 && state_of(rb, "b") == 2);
	/* b's claim cannot take it from a */
	snprintf(line, sizeof(line), "alua-claim shp vm1");
	CHECK_OK(ctl(t.ap[1], line, msg));
	CHECK(!vl_vol_owned(vb) && strstr(msg, "last owned by the blade with host id 1"));
	VL_ALIGNED_BUF(buf, MB);
	unsigned max_ms = 0;
	for (uint32_t round = 0; round < 6; round++) {
		/* to b, to a, ... asked on a, on b, on the target, on the source */
		bool to_b = round % 2 == 0;
		struct alua_pool *asker = t.ap[(round / 2) % 2];
		struct vl_vol *from = to_b ? va : vb, *to = to_b ? vb : va;
		fill_tag(buf, MB, 3, round);
		CHECK_OK(vl_vol_write(from, buf, MB, (round % 3) * MB, 0));
		snprintf(line, sizeof(line), "alua-move shp %d 5000 safe vm1", to_b ? 2 : 1);
		int r = ctl(asker, line, msg);
		if (r) {
			fprintf(stderr, "move: %d %s\n", r, msg);
			snprintf(line, sizeof(line), "alua-status shp");
			ctl(asker, line, msg);
			fprintf(stderr, "status: %s\n", msg);
		}
		CHECK_OK(r);
		CHECK(strstr(msg, "result=moved") && strstr(msg, to_b ? "from=1 to=2" : "from=2 to=1"));
		unsigned ms = (unsigned)atoi(strstr(msg, "total_ms=") + 9);
		max_ms = ms > max_ms ? ms : max_ms;
		CHECK(vl_vol_owned(to) && !vl_vol_owned(from));
		const char *ao = to_b ? "b" : "a", *sb = to_b ? "a" : "b";
		CHECK(state_of(ra, ao) == 0 && state_of(ra, sb) == 2);
		CHECK(state_of(rb, ao) == 0 && state_of(rb, sb) == 2);
		memset(buf, 0, MB);
		CHECK_OK(vl_vol_read(to, buf, MB, (round % 3) * MB));
		CHECK(tag_is(buf, MB, 3, round));
		/* again: nothing to do */
		snprintf(line, sizeof(line), "alua-move shp %d 5000 safe vm1", to_b ? 2 : 1);
		CHECK_OK(ctl(t.ap[round % 2], line, msg));
		CHECK(strstr(msg, "result=already"));
	}
	/* status: the owner and both blades' states */
	snprintf(line, sizeof(line), "alua-status shp");
	CHECK_OK(ctl(t.ap[1], line, msg));
	CHECK(strstr(msg, "blade name=a host=1 answering=1") && strstr(msg, "blade name=b host=2"));
	CHECK(strstr(msg, "vol name=vm1 slot=0 owner=1") && strstr(msg, "states=1:1,2:1 moving="));
	/* a target that does not answer: refused, nothing changes */
	atomic_store(&t.frozen[1], true);
	usleep(1700000);
	snprintf(line, sizeof(line), "alua-move shp 2 1000 safe vm1");
	CHECK_RC(ctl(t.ap[0], line, msg), -EHOSTDOWN);
	CHECK(vl_vol_owned(va) && state_of(ra, "a") == 0);
	/* an owner that does not answer: safe fails (-EBUSY), force fences it */
	atomic_store(&t.frozen[1], false);
	usleep(300000);
	atomic_store(&t.frozen[0], true);
	snprintf(line, sizeof(line), "alua-move shp 2 300 safe vm1");
	CHECK_RC(ctl(t.ap[1], line, msg), -EBUSY);
	CHECK(strstr(msg, "result=failed") && strstr(msg, "did not let go") && vl_vol_owned(va));
	/* once its status block is stale it is not waited for: safe fails at once, force
	 * fences at once (not after the 5000 ms a release may take) */
	usleep(1700000);
	struct timespec s0, s1;
	clock_gettime(CLOCK_MONOTONIC, &s0);
	snprintf(line, sizeof(line), "alua-move shp 2 5000 safe vm1");
	CHECK_RC(ctl(t.ap[1], line, msg), -EBUSY);
	CHECK(strstr(msg, "result=failed") && strstr(msg, "does not answer") && vl_vol_owned(va));
	int f0 = forced;
	snprintf(line, sizeof(line), "alua-move shp 2 5000 force vm1");
	int r = ctl(t.ap[1], line, msg);
	clock_gettime(CLOCK_MONOTONIC, &s1);
	CHECK((s1.tv_sec - s0.tv_sec) * 1000 + (s1.tv_nsec - s0.tv_nsec) / 1000000 < 4000);
	/* the frozen blade cannot report: b took it, a's states are a's to fix when it wakes */
	CHECK(r == 0 || r == -ETIMEDOUT);
	CHECK(forced == f0 + 1 && vl_vol_owned(vb));
	CHECK(state_of(rb, "b") == 0 && state_of(rb, "a") == 2);
	atomic_store(&t.frozen[0], false);
	usleep(400000);
	CHECK(state_of(ra, "b") == 0 && state_of(ra, "a") == 2);
	atomic_store(&t.stop, true);
	pthread_join(th, NULL);
	alua_pool_free(t.ap[0]);
	alua_pool_free(t.ap[1]);
	vl_vol_close(va);
	vl_vol_close(vb);
	vl_pool_close(a);
	vl_pool_close(b);
	printf("ok - ALUA states follow the owner on both blades: 6 moves asked on either blade "
	       "(max %u ms), repeats do nothing, a silent target is refused, a silent owner is "
	       "fenced with force\n",
	       max_ms);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	share_converts_a_pool_and_plain_opens_are_refused();
	share_refuses_what_does_not_fit();
	a_crash_during_share_leaves_a_whole_pool();
	only_the_owner_does_io_and_epochs_grow();
	a_stale_owner_is_fenced_at_commit();
	a_live_owner_lets_go_when_asked();
	a_silent_owner_is_not_waited_for();
	two_blades_allocating_at_once_never_share_an_extent();
	pool_changes_are_seen_by_the_other_blade();
	alua_states_follow_the_owner_on_every_blade();
	return 0;
}
