/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Crash injection: run a metadata-heavy workload and cut it at every single
 * metadata write (clean cut and torn final write), and at data writes; on
 * the cut, undo a random subset of the writes not yet synced (power loss).
 * Reopen every time and assert: the pool opens, `pool check` finds nothing
 * left to repair, every write flushed before the cut reads back, nothing
 * reads another volume's data, every FUA write reads back (flushed or not), and admin
 * operations are all-or-nothing.
 */
#include "tutil.h"

#define NV 3
#define BS 4096u
#define VSIZE (512u * 1024u)
#define NB_MAX (2 * VSIZE / BS)
#define MAXALLOW 24

struct bstate {
	uint32_t durable;
	uint32_t allowed[MAXALLOW];
	int n;
	bool any; /* too many versions to track: accept any of this volume's */
};

enum { OP_NONE, OP_CREATE, OP_DELETE, OP_RESIZE, OP_RENAME };

struct mvol {
	bool exists;
	int inflight; /* admin op that failed: old or new state allowed */
	char name[16], alt[16];
	uint32_t inc;
	uint64_t size, alt_size;
	struct vl_vol *h;
	struct bstate b[NB_MAX];
	int torn_from, torn_to; /* blocks of the write that was cut */
};

struct model {
	struct mvol v[NV];
	uint32_t next_inc, next_ver;
};

static void allow(struct bstate *b, uint32_t val)
{
	if (b->n == MAXALLOW)
		b->any = true;
	else
		b->allowed[b->n++] = val;
}

static void settle(struct mvol *m)
{
	for (unsigned i = 0; i < NB_MAX; i++) {
		struct bstate *b = &m->b[i];
		if (b->n)
			b->durable = b->allowed[b->n - 1];
		b->n = 0;
		b->any = false;
	}
}

static void reset_blocks(struct mvol *m)
{
	memset(m->b, 0, sizeof(m->b));
}

static const char *paths[2];

static struct vl_pool *open_pool(void)
{
	struct vl_pool *p;
	struct vl_diag d = {{0}};
	int r = vl_pool_open(paths, 2, 0, &p, &d);
	if (r) {
		fprintf(stderr, "reopen failed: %d %s\n", r, d.msg);
		abort();
	}
	return p;
}

/* The workload; returns the number of steps completed before an error. */
static int workload(struct vl_pool *p, struct model *md, uint64_t seed, int steps)
{
	uint8_t *buf = aligned_alloc(4096, 8 * BS);
	struct vl_diag d;
	int i;
	for (i = 0; i < steps; i++) {
		int op = (int)(tu_rand(&seed) % 16);
		struct mvol *m = &md->v[tu_rand(&seed) % NV];
		int r = 0;
		if (!m->exists) {
			/* create */
			m->inc = ++md->next_inc;
			m->size = VSIZE;
			m->inflight = OP_CREATE;
			reset_blocks(m);
			r = vl_vol_create(p, m->name, VSIZE, &(struct vl_vol_create_opts){0}, &d);
			if (!r)
				r = vl_vol_open(p, m->name, &m->h, &d);
			if (r)
				break;
			m->exists = true;
			m->inflight = OP_NONE;
			continue;
		}
		if (op <= 7) { /* write 1..8 blocks */
			uint32_t nbk = (uint32_t)(m->size / BS);
			uint32_t n = 1 + (uint32_t)(tu_rand(&seed) % 8);
			uint32_t b0 = (uint32_t)(tu_rand(&seed) % nbk);
			if (b0 + n > nbk)
				n = nbk - b0;
			uint32_t vers[8];
			for (uint32_t k = 0; k < n; k++) {
				uint32_t ver = vers[k] = ++md->next_ver;
				tu_tag(buf + k * BS, m->inc, b0 + k, ver);
				allow(&m->b[b0 + k], ver);
			}
			m->torn_from = (int)b0;
			m->torn_to = (int)(b0 + n);
			bool fua = op == 7; /* durable on completion, flush or not */
			r = vl_vol_write(m->h, buf, n * BS, (uint64_t)b0 * BS, fua ? VL_IO_FUA : 0);
			if (r)
				break;
			m->torn_from = m->torn_to = 0;
			for (uint32_t k = 0; fua && k < n; k++) {
				struct bstate *b = &m->b[b0 + k];
				b->durable = vers[k];
				b->n = 0;
				b->any = false;
			}
		} else if (op <= 9) { /* flush */
			r = vl_vol_flush(m->h);
			if (r)
				break;
			settle(m);
		} else if (op == 10) { /* discard: whole extents and partial ranges */
			uint32_t nbk = (uint32_t)(m->size / BS);
			uint32_t n = 1 + (uint32_t)(tu_rand(&seed) % 40);
			uint32_t b0 = (uint32_t)(tu_rand(&seed) % nbk);
			if (b0 + n > nbk)
				n = nbk - b0;
			for (uint32_t k = 0; k < n; k++)
				allow(&m->b[b0 + k], 0);
			r = vl_vol_discard(m->h, (uint64_t)b0 * BS, (uint64_t)n * BS);
			if (r)
				break;
		} else if (op == 11 && m->size == VSIZE && m == &md->v[0]) { /* grow */
			r = vl_vol_flush(m->h);
			if (r)
				break;
			settle(m);
			m->alt_size = m->size;
			m->size = 2 * VSIZE;
			m->inflight = OP_RESIZE;
			r = vl_vol_resize(p, m->name, m->size, false, &d);
			if (r)
				break;
			m->inflight = OP_NONE;
		} else if (op == 12) { /* rename */
			char old[16];
			strcpy(old, m->name);
			strcpy(m->name, m->alt);
			strcpy(m->alt, old);
			m->inflight = OP_RENAME;
			r = vl_vol_rename(p, m->alt, m->name, &d);
			if (r)
				break;
			m->inflight = OP_NONE;
		} else if (op == 13) { /* delete */
			r = vl_vol_flush(m->h);
			if (r)
				break;
			settle(m);
			vl_vol_close(m->h);
			m->h = NULL;
			m->inflight = OP_DELETE;
			r = vl_vol_delete(p, m->name, &d);
			if (r)
				break;
			m->exists = false;
			m->inflight = OP_NONE;
		} else { /* write zeroes without unmap */
			uint32_t nbk = (uint32_t)(m->size / BS);
			uint32_t b0 = (uint32_t)(tu_rand(&seed) % nbk);
			allow(&m->b[b0], 0);
			r = vl_vol_write_zeroes(m->h, (uint64_t)b0 * BS, BS, 0);
			if (r)
				break;
		}
	}
	free(buf);
	return i;
}

static bool allowed(const struct bstate *b, uint32_t val)
{
	if (b->any || b->durable == val)
		return true;
	for (int i = 0; i < b->n; i++)
		if (b->allowed[i] == val)
			return true;
	return false;
}

static int failures;
static void verify(struct vl_pool *p, struct model *md, const char *label)
{
	uint8_t *blk = aligned_alloc(4096, BS);
	uint32_t seen = 0;
	for (int i = 0; i < NV; i++) {
		struct mvol *m = &md->v[i];
		struct vl_vol_info vi;
		const char *name = m->name;
		bool found = vl_vol_info(p, m->name, &vi) == 0;
		if (!found && m->inflight == OP_RENAME && vl_vol_info(p, m->alt, &vi) == 0) {
			found = true;
			name = m->alt;
		}
		bool may_exist = m->exists || m->inflight == OP_CREATE;
		bool must_exist = m->exists && m->inflight != OP_DELETE;
		if (found)
			seen++;
		if ((found && !may_exist) || (!found && must_exist)) {
			fprintf(stderr, "%s: volume %s: exists=%d, model says %d (inflight %d)\n",
				label, m->name, found, m->exists, m->inflight);
			failures++;
			continue;
		}
		if (!found)
			continue;
		if (vi.size != m->size && !(m->inflight == OP_RESIZE && vi.size == m->alt_size) &&
		    !(m->inflight == OP_CREATE)) {
			fprintf(stderr, "%s: volume %s: size %" PRIu64 ", expected %" PRIu64 "\n",
				label, name, vi.size, m->size);
			failures++;
		}
		struct vl_vol *h;
		struct vl_diag d;
		CHECK_OK(vl_vol_open(p, name, &h, &d));
		bool fresh = m->inflight == OP_CREATE;
		for (uint32_t b = 0; b < vi.size / BS; b++) {
			CHECK_OK(vl_vol_read(h, blk, BS, (uint64_t)b * BS));
			uint32_t a = 0, bb = 0, c = 0;
			int t = tu_untag(blk, &a, &bb, &c);
			bool ok;
			if (t == 0)
				ok = fresh || allowed(&m->b[b], 0);
			else if (t < 0)
				ok = (int)b >= m->torn_from && (int)b < m->torn_to;
			else
				ok = a == m->inc && bb == b && (fresh ? false : allowed(&m->b[b], c));
			if (!ok) {
				fprintf(stderr,
					"%s: volume %s block %u: tag %d (inc %u blk %u ver %u), "
					"durable %u, %d allowed%s\n",
					label, name, b, t, t > 0 ? a : 0, t > 0 ? bb : 0, t > 0 ? c : 0,
					m->b[b].durable, m->b[b].n, a != m->inc ? " FOREIGN DATA" : "");
				failures++;
				break;
			}
		}
		vl_vol_close(h);
	}
	CHECK(vl_pool_nr_volumes(p) == seen);
	struct vl_check_result res;
	CHECK_OK(vl_pool_check(p, false, NULL, NULL, &res));
	if (res.errors != res.repaired) {
		fprintf(stderr, "%s: pool check: %u problems, %u repaired\n", label, res.errors,
			res.repaired);
		failures++;
	}
	free(blk);
}

static void model_init(struct model *md)
{
	memset(md, 0, sizeof(*md));
	for (int i = 0; i < NV; i++) {
		snprintf(md->v[i].name, sizeof(md->v[i].name), "v%d", i);
		snprintf(md->v[i].alt, sizeof(md->v[i].alt), "w%d", i);
	}
}

static void run(uint64_t seed, int steps, int64_t cut, bool meta_only, bool torn, bool drop,
		uint64_t *meta_writes)
{
	paths[0] = tu_file(0, 6u << 20);
	paths[1] = tu_file(1, 6u << 20);
	struct vl_pool *p;
	struct vl_diag d;
	struct vl_pool_create_opts o = {.extent_size = 64 * 1024, .max_volumes = 8};
	CHECK_OK(vl_pool_create("crashpool", paths, 2, &o, &p, &d));
	struct vl_fault f = {.writes_left = cut, .meta_only = meta_only, .torn = torn,
			     .drop_unsynced = drop, .seed = (uint32_t)(seed * 7 + (uint64_t)cut)};
	vl_pool_set_fault(p, &f);
	struct model md;
	model_init(&md);
	int done = workload(p, &md, seed, steps);
	if (meta_writes)
		*meta_writes = f.meta_writes;
	if (cut < 0)
		CHECK(done == steps);
	for (int i = 0; i < NV; i++)
		md.v[i].h = NULL; /* handles die with the crash */
	vl_pool_crash(p);
	p = open_pool();
	char label[96];
	snprintf(label, sizeof(label), "seed %" PRIu64 " cut %" PRId64 "%s%s%s", seed, cut,
		 meta_only ? " meta" : " any", torn ? " torn" : "", drop ? " drop" : "");
	verify(p, &md, label);
	vl_pool_close(p);
}

int main(int argc, char **argv)
{
	int steps = 300;
	int nseeds = argc > 1 ? atoi(argv[1]) : 2;
	uint64_t runs = 0;
	for (uint64_t seed = 1; seed <= (uint64_t)nseeds; seed++) {
		uint64_t total = 0;
		run(seed, steps, -1, true, false, true, &total);
		CHECK(total > 50);
		for (int64_t cut = 0; cut <= (int64_t)total; cut++) {
			run(seed, steps, cut, true, false, true, NULL);
			run(seed, steps, cut, true, true, true, NULL);
			runs += 2;
		}
		for (int64_t cut = 0; cut < 400; cut += 7) {
			run(seed, steps, cut, false, true, true, NULL);
			runs++;
		}
		printf("seed %" PRIu64 ": %" PRIu64 " metadata writes, each cut clean and torn\n",
		       seed, total);
	}
	printf("%" PRIu64 " crash runs, %d failures\n", runs, failures);
	return failures ? 1 : 0;
}
