/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scale: a pool of 16 members and 1,000 volumes, one of them a 16 TiB thin
 * volume with 1 M allocated extents.  Prints creation and allocation rates,
 * the time to open the pool (which loads every map), and the memory per
 * allocated extent.  Member files are sparse: little real disk is used.
 *
 *   bench-scale [--dir DIR] [--extents N] [--volumes N] [--members N] [--stride N]
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
#define GB ((uint64_t)1 << 30)
#define TB ((uint64_t)1 << 40)

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}


/* Child: open the pool cold and report time and memory. */
static int open_only(int n, char **members)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	bool dropped = fd >= 0 && write(fd, "3\n", 2) == 2;
	if (fd >= 0)
		close(fd);
	long r0 = rss_kib();
	double t0 = bench_now();
	struct vl_pool *p;
	struct vl_diag d;
	if (vl_pool_open((const char *const *)members, (size_t)n, 0, &p, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	double to = bench_now() - t0;
	long r1 = rss_kib();
	struct vl_pool_info pi;
	vl_pool_get_info(p, &pi);
	uint64_t alloc = pi.total_extents - pi.free_extents;
	printf("open: pool with %u volumes and %" PRIu64 " allocated extents opened in %.3f s (%s "
	       "page cache)\n",
	       pi.nr_volumes, alloc, to, dropped ? "cold" : "warm");
	printf("memory: %.1f MiB resident after open (whole engine state) = %.2f bytes per "
	       "allocated extent\n",
	       (double)(r1 - r0) / 1024, (double)(r1 - r0) * 1024 / (double)alloc);
	vl_pool_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--open-only") == 0)
		return open_only(argc - 2, argv + 2);
	char self[4096] = "";
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return 1;
	char dir[512] = "/var/tmp";
	uint64_t next = 1u << 20;
	int nvol = 1000, nmem = 16;
	uint64_t stride = 1;
	static const struct option lo[] = {{"dir", 1, 0, 'd'},	   {"extents", 1, 0, 'e'},
					   {"volumes", 1, 0, 'v'}, {"members", 1, 0, 'm'},
					   {"stride", 1, 0, 's'},  {"help", 0, 0, 'h'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'd')
			snprintf(dir, sizeof(dir), "%s", optarg);
		else if (c == 'e')
			next = strtoull(optarg, NULL, 10);
		else if (c == 'v')
			nvol = atoi(optarg);
		else if (c == 'm')
			nmem = atoi(optarg);
		else if (c == 's')
			stride = strtoull(optarg, NULL, 10);
		else {
			printf("usage: bench-scale [--dir DIR] [--extents N] [--volumes N] [--members N] [--stride N]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	uint64_t es = 4 * MB;
	uint64_t need = next * es + (uint64_t)nvol * es;
	uint64_t msize = need / (uint64_t)nmem + 8 * GB;
	char paths[64][600];
	const char *pp[64];
	for (int i = 0; i < nmem; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/scale-m%02d", dir, i);
		pp[i] = paths[i];
		if (bench_sparse_file(paths[i], msize))
			return 1;
	}
	struct vl_pool *p;
	struct vl_diag d;
	double t0 = bench_now();
	if (vl_pool_create("scale", pp, (size_t)nmem, NULL, &p, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	printf("pool: %d members of %" PRIu64 " GiB (sparse), created in %.3f s\n", nmem,
	       msize / GB, bench_now() - t0);
	t0 = bench_now();
	char name[32];
	for (int i = 1; i < nvol; i++) {
		snprintf(name, sizeof(name), "vm%04d", i);
		if (vl_vol_create(p, name, 16 * GB, NULL, &d)) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
	}
	double tv = bench_now() - t0;
	printf("volumes: %d thin volumes created in %.3f s (%.0f/s)\n", nvol - 1, tv,
	       (nvol - 1) / tv);
	if (vl_vol_create(p, "big", 16 * TB, NULL, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	struct vl_vol *v;
	vl_vol_open(p, "big", &v, &d);
	/* one 4 KiB write into each small volume so every volume has a map */
	uint8_t blk[4096] = {7};
	for (int i = 1; i < nvol; i++) {
		struct vl_vol *s;
		snprintf(name, sizeof(name), "vm%04d", i);
		vl_vol_open(p, name, &s, &d);
		vl_vol_write(s, blk, sizeof(blk), 0, 0);
		vl_vol_close(s);
	}
	/* dense from the start of the volume (--stride N: every Nth extent) */
	t0 = bench_now();
	if (stride * next > 16 * TB / es)
		stride = (16 * TB / es) / next;
	if (stride == 0)
		stride = 1;
	for (uint64_t x = 0; x < next; x++) {
		int r = vl_vol_preallocate(v, x * stride * es, es);
		if (r) {
			fprintf(stderr, "preallocate: %s\n", strerror(-r));
			return 1;
		}
	}
	double ta = bench_now() - t0;
	t0 = bench_now();
	vl_vol_flush(v);
	double tc = bench_now() - t0;
	printf("allocation: %" PRIu64 " extents of 4 MiB (every %" PRIu64
	       "th) in %.1f s = %.0f/s; commit of their map %.3f s\n",
	       next, stride, ta, (double)next / ta, tc);
	vl_vol_close(v);
	vl_pool_close(p);
	/* open in a fresh process, so its resident size is the maps' alone */
	char cmd[8192];
	int n = snprintf(cmd, sizeof(cmd), "'%s' --open-only", self);
	for (int i = 0; i < nmem; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " '%s'", paths[i]);
	fflush(stdout);
	if (system(cmd) != 0)
		return 1;
	if (vl_pool_open(pp, (size_t)nmem, 0, &p, &d))
		return 1;
	struct vl_check_result res;
	t0 = bench_now();
	vl_pool_check(p, false, NULL, NULL, &res);
	printf("check: %" PRIu64 " metadata blocks, %" PRIu64 " extents in %.3f s, %u problems\n",
	       res.blocks_checked, res.extents_checked, bench_now() - t0, res.errors);
	vl_pool_close(p);
	for (int i = 0; i < nmem; i++)
		unlink(paths[i]);
	return 0;
}
