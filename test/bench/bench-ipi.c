/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Instructions per I/O: N 4 KiB random reads, then writes, on allocated
 * extents of a vlun volume (the blocking calls, or the never-waiting ones the
 * handler's fast path uses), on a shared pool's volume owned by this process
 * (O_DIRECT, the ownership check; a stand-in lease provider that always grants),
 * and with pread/pwrite on a plain file.  Run it under callgrind
 * (test/bench/ipi.sh does): only run_engine()/run_raw() are instrumented, so the
 * figure is the user-space instructions of the I/O path (the system call itself
 * is the kernel's and not counted).
 *   bench-ipi engine|try|shared|raw read|write N [DIR]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "bench.h"
#include "vlun/engine.h"

#define SPAN (64u << 20)

/* A lease provider for one process alone: every lease is granted, at a new version. */
static uint64_t grants;
static int one_space(void *ctx, const struct vl_lease_space *ls) { (void)ctx, (void)ls; return 0; }
static int one_lease(void *ctx, const struct vl_lease *l) { (void)ctx, (void)l; return 0; }
static int one_acquire(void *ctx, const struct vl_lease *l, uint64_t *version, uint64_t *holder)
{
	(void)ctx, (void)l, (void)holder;
	*version = ++grants;
	return 0;
}
static int one_holder(void *ctx, const struct vl_lease *l, uint64_t *holder, uint64_t *version)
{
	(void)ctx, (void)l;
	*holder = 1;
	*version = grants;
	return 0;
}
static const struct vl_lease_ops one_ops = {
	.format_space = one_space,
	.format_lease = one_lease,
	.join = one_space,
	.leave = one_space,
	.acquire = one_acquire,
	.release = one_lease,
	.holder = one_holder,
};

/* pool "ipi" on m0 with volume "v" open (shared: converted, reopened, v acquired) */
static int open_volume(const char *m0, bool shared, struct vl_pool **p, struct vl_vol **v)
{
	const char *mm[1] = {m0};
	struct vl_diag d = {{0}};
	struct vl_pool_create_opts o = {.extent_size = 1u << 20};
	int r = vl_pool_create("ipi", mm, 1, &o, p, &d);
	if (!r && shared) {
		struct vl_share_opts so = {.nr_ags = 4, .nr_slots = 4, .max_hosts = 2, .io_timeout = 1};
		r = vl_pool_share(*p, &so, &one_ops, NULL, &d);
		vl_pool_close(*p);
		struct vl_pool_open_opts oo = {.lease = &one_ops, .host_id = 1};
		r = r ? r : vl_pool_open_opts(mm, 1, 0, &oo, p, &d);
	}
	r = r ? r : vl_vol_create(*p, "v", SPAN, NULL, &d);
	r = r ? r : vl_vol_open(*p, "v", v, &d);
	if (!r && shared)
		r = vl_vol_acquire(*v, &d);
	if (r)
		fprintf(stderr, "bench-ipi: %s\n", d.msg[0] ? d.msg : strerror(-r));
	return r;
}

__attribute__((noinline)) static int run_engine(struct vl_vol *v, bool wr, bool try, long n,
						    void *buf)
{
	uint64_t s = 42;
	int bad = 0;
	struct iovec iov = {buf, 4096};
	CALLGRIND_START_INSTRUMENTATION;
	int (*io)(struct vl_vol *, const struct iovec *, int, uint64_t) =
		try ? (wr ? vl_vol_try_writev : vl_vol_try_readv) : NULL;
	for (long i = 0; i < n; i++) {
		uint64_t off = (bench_rand(&s) % (SPAN / 4096)) * 4096;
		if (io)
			bad |= io(v, &iov, 1, off);
		else
			bad |= wr ? vl_vol_write(v, buf, 4096, off, 0) : vl_vol_read(v, buf, 4096, off);
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	return bad;
}

__attribute__((noinline)) static int run_raw(int fd, bool wr, long n, void *buf)
{
	uint64_t s = 42;
	int bad = 0;
	CALLGRIND_START_INSTRUMENTATION;
	for (long i = 0; i < n; i++) {
		off_t off = (off_t)((bench_rand(&s) % (SPAN / 4096)) * 4096);
		bad |= (wr ? pwrite(fd, buf, 4096, off) : pread(fd, buf, 4096, off)) != 4096;
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	return bad;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench-ipi engine|try|shared|raw read|write N [DIR]\n");
		return 2;
	}
	bool try = strcmp(argv[1], "try") == 0;
	bool shared = strcmp(argv[1], "shared") == 0;
	bool engine = try || shared || strcmp(argv[1], "engine") == 0;
	bool wr = strcmp(argv[2], "write") == 0;
	long n = atol(argv[3]);
	const char *dir = argc > 4 ? argv[4] : "/var/tmp";
	char path[512], m0[600];
	snprintf(path, sizeof(path), "%s/ipi-%d", dir, (int)getpid());
	static char buf[4096] __attribute__((aligned(4096)));
	memset(buf, 0x5a, sizeof(buf));
	int r;
	if (engine) {
		snprintf(m0, sizeof(m0), "%s.m0", path);
		if (bench_sparse_file(m0, SPAN + (64u << 20)))
			return 1;
		struct vl_pool *p;
		struct vl_vol *v;
		if (open_volume(m0, shared, &p, &v))
			return 1;
		for (uint64_t off = 0; off < SPAN; off += 1u << 20) /* allocate everything */
			vl_vol_write(v, buf, 4096, off, 0);
		vl_vol_flush(v);
		r = run_engine(v, wr, try, n, buf);
		vl_vol_close(v);
		vl_pool_close(p);
		unlink(m0);
	} else {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, SPAN) < 0)
			return 1;
		for (uint64_t off = 0; off < SPAN; off += 1u << 20)
			pwrite(fd, buf, 4096, (off_t)off);
		r = run_raw(fd, wr, n, buf);
		close(fd);
		unlink(path);
	}
	return r ? 1 : 0;
}
