/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Concurrency: many threads writing, reading, discarding and flushing on
 * two volumes at once, over private ranges (verified continuously) and a
 * shared range (verified at the end), while extents are allocated, freed and
 * reused.  Then close, reopen, and verify everything again.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tutil.h"

#define MB (1ull << 20)
#define EXT (64 * 1024ull)
#define BS 4096u
#define NT 8
#define PRIV (2 * MB)            /* private range per thread */
#define SHARED_OFF (NT * PRIV)
#define SHARED (2 * MB)
#define VSIZE (SHARED_OFF + SHARED)
#define ITER 1500

static struct vl_vol *vols[2];
static uint32_t last[2][NT][PRIV / BS]; /* last version per private block, 0 = zero */
static atomic_int errors;

struct targ {
	int t;
	uint64_t seed;
};

static void *worker(void *arg)
{
	struct targ *a = arg;
	int t = a->t;
	uint64_t s = a->seed;
	uint8_t *buf = aligned_alloc(4096, 4 * BS);
	uint32_t ver = 0;
	for (int i = 0; i < ITER; i++) {
		int vi = (int)(tu_rand(&s) % 2);
		struct vl_vol *v = vols[vi];
		uint64_t base = (uint64_t)t * PRIV;
		int op = (int)(tu_rand(&s) % 10);
		if (op < 4) { /* private write + immediate read-back */
			uint32_t b = (uint32_t)(tu_rand(&s) % (PRIV / BS - 4));
			uint32_t n = 1 + (uint32_t)(tu_rand(&s) % 4);
			for (uint32_t k = 0; k < n; k++)
				tu_tag(buf + k * BS, (uint32_t)(vi * 100 + t), b + k, ++ver);
			if (vl_vol_write(v, buf, n * BS, base + (uint64_t)b * BS, 0)) {
				errors++;
				continue;
			}
			for (uint32_t k = 0; k < n; k++)
				last[vi][t][b + k] = ver - n + 1 + k;
			uint8_t *rb = buf + 0; /* reuse: read into the same buffer */
			if (vl_vol_read(v, rb, n * BS, base + (uint64_t)b * BS))
				errors++;
			for (uint32_t k = 0; k < n; k++) {
				uint32_t x, y, z;
				if (tu_untag(rb + k * BS, &x, &y, &z) != 1 ||
				    x != (uint32_t)(vi * 100 + t) || y != b + k || z != last[vi][t][b + k]) {
					fprintf(stderr, "thread %d: private block %u wrong\n", t, b + k);
					errors++;
				}
			}
		} else if (op == 4) { /* private discard of whole extents */
			uint32_t e = (uint32_t)(tu_rand(&s) % (PRIV / EXT - 2));
			if (vl_vol_discard(v, base + e * EXT, 2 * EXT))
				errors++;
			for (uint32_t k = 0; k < 2 * EXT / BS; k++)
				last[vi][t][e * (EXT / BS) + k] = 0;
		} else if (op < 8) { /* shared write or discard */
			uint32_t b = (uint32_t)(tu_rand(&s) % (SHARED / BS));
			if (op == 7 && b % 16 == 0) {
				if (vl_vol_discard(v, SHARED_OFF + (uint64_t)b * BS, EXT))
					errors++;
			} else {
				tu_tag(buf, (uint32_t)(vi * 100 + 50), b, ++ver);
				if (vl_vol_write(v, buf, BS, SHARED_OFF + (uint64_t)b * BS, 0))
					errors++;
			}
		} else if (op == 8) { /* shared read: zero or this volume's shared tag */
			uint32_t b = (uint32_t)(tu_rand(&s) % (SHARED / BS));
			if (vl_vol_read(v, buf, BS, SHARED_OFF + (uint64_t)b * BS))
				errors++;
			/* a racing write may be half-copied; only a foreign volume id is wrong */
			uint32_t *w = (uint32_t *)buf;
			if (w[0] == 0x564c554e && w[1] != (uint32_t)(vi * 100 + 50)) {
				fprintf(stderr, "thread %d: foreign data in shared block %u\n", t, b);
				errors++;
			}
		} else {
			if (vl_vol_flush(v))
				errors++;
		}
	}
	free(buf);
	return NULL;
}

static void verify_private(void)
{
	uint8_t buf[BS];
	for (int vi = 0; vi < 2; vi++)
		for (int t = 0; t < NT; t++)
			for (uint32_t b = 0; b < PRIV / BS; b++) {
				CHECK_OK(vl_vol_read(vols[vi], buf, BS, (uint64_t)t * PRIV + b * BS));
				uint32_t x, y, z;
				int r = tu_untag(buf, &x, &y, &z);
				if (last[vi][t][b] == 0)
					CHECK(r == 0);
				else
					CHECK(r == 1 && x == (uint32_t)(vi * 100 + t) && y == b &&
					      z == last[vi][t][b]);
			}
	for (int vi = 0; vi < 2; vi++)
		for (uint32_t b = 0; b < SHARED / BS; b++) {
			CHECK_OK(vl_vol_read(vols[vi], buf, BS, SHARED_OFF + b * BS));
			uint32_t x, y, z;
			int r = tu_untag(buf, &x, &y, &z);
			CHECK(r == 0 || (r == 1 && x == (uint32_t)(vi * 100 + 50) && y == b));
		}
}

int main(void)
{
	const char *m[2] = {tu_file(0, 40 * MB), tu_file(1, 40 * MB)};
	struct vl_pool *p;
	struct vl_diag d;
	struct vl_pool_create_opts o = {.extent_size = EXT, .max_volumes = 8};
	CHECK_OK(vl_pool_create("conc", m, 2, &o, &p, &d));
	CHECK_OK(vl_vol_create(p, "a", VSIZE, NULL, &d));
	CHECK_OK(vl_vol_create(p, "b", VSIZE, &(struct vl_vol_create_opts){.layout = VL_LAYOUT_STRIPED},
			       &d));
	CHECK_OK(vl_vol_open(p, "a", &vols[0], &d));
	CHECK_OK(vl_vol_open(p, "b", &vols[1], &d));
	pthread_t th[NT];
	struct targ ta[NT];
	for (int t = 0; t < NT; t++) {
		ta[t] = (struct targ){t, 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1)};
		CHECK(pthread_create(&th[t], NULL, worker, &ta[t]) == 0);
	}
	for (int t = 0; t < NT; t++)
		pthread_join(th[t], NULL);
	CHECK(errors == 0);
	verify_private();
	CHECK_OK(vl_vol_flush(vols[0]));
	CHECK_OK(vl_vol_flush(vols[1]));
	vl_vol_close(vols[0]);
	vl_vol_close(vols[1]);
	vl_pool_close(p);
	CHECK_OK(vl_pool_open(m, 2, 0, &p, &d));
	CHECK_OK(vl_vol_open(p, "a", &vols[0], &d));
	CHECK_OK(vl_vol_open(p, "b", &vols[1], &d));
	verify_private();
	struct vl_check_result res;
	CHECK_OK(vl_pool_check(p, false, NULL, NULL, &res));
	CHECK(res.errors == 0);
	vl_vol_close(vols[0]);
	vl_vol_close(vols[1]);
	vl_pool_close(p);
	printf("concurrency: %d threads x %d operations on 2 volumes, all verified\n", NT, ITER);
	return 0;
}
