/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Engine vs raw I/O on the same filesystem in the same run: 4 KiB random and
 * 1 MiB sequential, on a fresh thin volume (allocating) and on allocated
 * extents, against pread/pwrite on a plain file.  Also the allocation rate
 * and the flush (commit) rate.  Prints figures and ratios; asserts nothing.
 *
 *   bench-engine [--dir DIR] [--size GiB] [--ops N]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "vlun/engine.h"

#define MB ((uint64_t)1 << 20)
static char dir[512] = "/var/tmp";
static uint64_t span = 1024 * MB;
static long ops4k = 100000;

struct target {
	int fd;               /* raw */
	struct vl_vol *v;     /* engine */
};

static int do_io(struct target *t, void *buf, size_t len, uint64_t off, bool wr)
{
	if (t->v)
		return wr ? vl_vol_write(t->v, buf, len, off, 0) : vl_vol_read(t->v, buf, len, off);
	ssize_t n = wr ? pwrite(t->fd, buf, len, (off_t)off) : pread(t->fd, buf, len, (off_t)off);
	return n == (ssize_t)len ? 0 : -1;
}

/* returns ops/s; starts from a quiet page cache (no writeback in progress) */
static double run(struct target *t, bool wr, bool seq, size_t bs, long n)
{
	sync();
	uint8_t *buf = aligned_alloc(4096, bs);
	memset(buf, 0x3c, bs);
	uint64_t s = 12345, blocks = span / bs;
	double t0 = bench_now();
	for (long i = 0; i < n; i++) {
		uint64_t off = (seq ? (uint64_t)i % blocks : bench_rand(&s) % blocks) * bs;
		if (do_io(t, buf, bs, off, wr)) {
			fprintf(stderr, "I/O error\n");
			exit(1);
		}
	}
	double dt = bench_now() - t0;
	free(buf);
	return (double)n / dt;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Steady-state rows: engine and raw alternate for 5 rounds; medians reported. */
static void pair(struct target *e, struct target *r, bool wr, bool seq, size_t bs, long n,
		 double *em, double *rm)
{
	double ev[5], rv[5];
	for (int i = 0; i < 5; i++) {
		ev[i] = run(e, wr, seq, bs, n / 5);
		rv[i] = run(r, wr, seq, bs, n / 5);
	}
	qsort(ev, 5, sizeof(double), cmpd);
	qsort(rv, 5, sizeof(double), cmpd);
	*em = ev[2];
	*rm = rv[2];
}

static void row(const char *name, double eng, double raw, size_t bs)
{
	printf("%-42s %12.0f %10.1f %12.0f %10.1f %7.2fx\n", name, eng,
	       eng * (double)bs / 1e6, raw, raw * (double)bs / 1e6, eng / raw);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"dir", 1, 0, 'd'}, {"size", 1, 0, 's'},
					   {"ops", 1, 0, 'n'}, {"help", 0, 0, 'h'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'd')
			snprintf(dir, sizeof(dir), "%s", optarg);
		else if (c == 's')
			span = strtoull(optarg, NULL, 10) * 1024 * MB;
		else if (c == 'n')
			ops4k = atol(optarg);
		else {
			printf("usage: bench-engine [--dir DIR] [--size GiB] [--ops N]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	char m0[600], m1[600], rawp[600];
	snprintf(m0, sizeof(m0), "%s/bench-m0", dir);
	snprintf(m1, sizeof(m1), "%s/bench-m1", dir);
	snprintf(rawp, sizeof(rawp), "%s/bench-raw", dir);
	const char *mem[2] = {m0, m1};
	for (int i = 0; i < 2; i++)
		if (bench_sparse_file(mem[i], span / 2 + 256 * MB))
			return 1;
	struct vl_pool *p;
	struct vl_diag d;
	if (vl_pool_create("bench", mem, 2, NULL, &p, &d) ||
	    vl_vol_create(p, "v", span, &(struct vl_vol_create_opts){.layout = VL_LAYOUT_STRIPED},
			  &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	struct target eng = {-1, NULL}, raw = {-1, NULL};
	if (vl_vol_open(p, "v", &eng.v, &d))
		return 1;
	raw.fd = open(rawp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (raw.fd < 0 || ftruncate(raw.fd, (off_t)span) < 0)
		return 1;
	long seqn = (long)(span / MB);
	printf("vlun engine vs raw pread/pwrite, same filesystem (%s), %" PRIu64
	       " MiB span, buffered, 1 thread\n",
	       dir, span / MB);
	printf("%-42s %12s %10s %12s %10s %8s\n", "workload", "vlun op/s", "vlun MB/s", "raw op/s",
	       "raw MB/s", "ratio");
	double e, r;
	/* allocation rate on never-used extents, before anything else touches the pool */
	struct vl_pool_info pi;
	vl_pool_get_info(p, &pi);
	struct vl_vol *fv;
	uint64_t fspan = 256 * MB;
	if (vl_vol_create(p, "fresh", fspan, NULL, &d) || vl_vol_open(p, "fresh", &fv, &d))
		return 1;
	sync();
	double t0 = bench_now();
	vl_vol_preallocate(fv, 0, fspan);
	double ta = bench_now() - t0;
	vl_vol_flush(fv);
	vl_vol_close(fv);
	vl_vol_delete(p, "fresh", &d);
	double fresh_rate = (double)(fspan / pi.extent_size) / ta;
	/* fresh: the volume allocates as it goes; raw writes into a sparse file */
	e = run(&eng, true, true, MB, seqn);
	r = run(&raw, true, true, MB, seqn);
	row("1 MiB seq write, fresh (alloc)", e, r, MB);
	vl_vol_flush(eng.v);
	fsync(raw.fd);
	pair(&eng, &raw, true, true, MB, seqn * 2, &e, &r);
	row("1 MiB seq write, allocated", e, r, MB);
	pair(&eng, &raw, false, true, MB, seqn * 2, &e, &r);
	row("1 MiB seq read, allocated", e, r, MB);
	pair(&eng, &raw, true, false, 4096, ops4k, &e, &r);
	row("4 KiB random write, allocated", e, r, 4096);
	pair(&eng, &raw, false, false, 4096, ops4k, &e, &r);
	row("4 KiB random read, allocated", e, r, 4096);
	/* fresh random writes: discard everything, then write */
	vl_vol_discard(eng.v, 0, span);
	vl_vol_flush(eng.v);
	ftruncate(raw.fd, 0);
	ftruncate(raw.fd, (off_t)span);
	e = run(&eng, true, false, 4096, ops4k);
	r = run(&raw, true, false, 4096, ops4k);
	row("4 KiB random write, reused extents (alloc)", e, r, 4096);
	printf("\nfresh-extent allocation (never used): %.0f extents/s\n", fresh_rate);
	/* allocation rate on reused extents (they hold old data to be zeroed) */
	vl_vol_discard(eng.v, 0, span);
	vl_vol_flush(eng.v);
	sync();
	t0 = bench_now();
	vl_vol_preallocate(eng.v, 0, span);
	ta = bench_now() - t0;
	t0 = bench_now();
	vl_vol_flush(eng.v);
	double tc = bench_now() - t0;
	printf("reused-extent allocation: %.0f extents/s (+ %.3f s to commit %" PRIu64 " extents' map)\n",
	       (double)(span / pi.extent_size) / ta, tc, span / pi.extent_size);
	/* flush rate: each flush commits one changed map page */
	uint8_t blk[4096] = {1};
	int nf = 200;
	vl_vol_discard(eng.v, 0, span);
	vl_vol_flush(eng.v);
	t0 = bench_now();
	for (int i = 0; i < nf; i++) {
		vl_vol_write(eng.v, blk, 4096, (uint64_t)i * pi.extent_size, 0);
		vl_vol_flush(eng.v);
	}
	double tf = bench_now() - t0;
	t0 = bench_now();
	for (int i = 0; i < nf; i++) {
		pwrite(raw.fd, blk, 4096, (off_t)((uint64_t)i * pi.extent_size));
		fdatasync(raw.fd);
	}
	double trf = bench_now() - t0;
	printf("flush after an allocating write: %.0f commits/s (raw pwrite+fdatasync: %.0f/s, "
	       "ratio %.2fx)\n",
	       nf / tf, nf / trf, trf / tf);
	t0 = bench_now();
	for (int i = 0; i < nf; i++) {
		vl_vol_write(eng.v, blk, 4096, 0, 0);
		vl_vol_flush(eng.v);
	}
	tf = bench_now() - t0;
	printf("flush after an overwrite (no map change): %.0f/s\n", nf / tf);
	vl_vol_close(eng.v);
	vl_pool_close(p);
	close(raw.fd);
	unlink(m0);
	unlink(m1);
	unlink(rawp);
	return 0;
}
