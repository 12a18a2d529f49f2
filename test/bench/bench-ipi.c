/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Instructions per I/O: N 4 KiB random reads, then writes, on allocated
 * extents of a vlun volume (the blocking calls, or the never-waiting ones the
 * handler's fast path uses) and with pread/pwrite on a plain file.  Run it
 * under callgrind (test/bench/ipi.sh does): only run_engine()/run_raw() are
 * instrumented, so the figure is the user-space instructions of the I/O path
 * (the system call itself is the kernel's and not counted).
 *   bench-ipi engine|try|raw read|write N [DIR]
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
		fprintf(stderr, "usage: bench-ipi engine|try|raw read|write N [DIR]\n");
		return 2;
	}
	bool try = strcmp(argv[1], "try") == 0;
	bool engine = try || strcmp(argv[1], "engine") == 0, wr = strcmp(argv[2], "write") == 0;
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
		const char *mm[1] = {m0};
		struct vl_pool *p;
		struct vl_vol *v;
		struct vl_diag d;
		struct vl_pool_create_opts o = {.extent_size = 1u << 20};
		if (vl_pool_create("ipi", mm, 1, &o, &p, &d) || vl_vol_create(p, "v", SPAN, NULL, &d) ||
		    vl_vol_open(p, "v", &v, &d)) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
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
