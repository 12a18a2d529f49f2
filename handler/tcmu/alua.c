/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ALUA on several blades: see alua.h and docs/alua.md.
 *
 * The state every blade writes for a volume's groups follows one rule: the group of the
 * blade that holds the volume is Active/Optimized (0), every other group Standby (2).
 * Who holds it is read from the blades' status blocks (their claims, newest epoch
 * wins), so every blade reaches the same answer, a blade that restarts or joins late
 * writes the right states at once, and an implicit failover moves the states too.
 * Two overrides cover the moment of a move:
 *   - incoming: the blade taking a volume reports itself AO before it holds the lease
 *     and answers BUSY until it does (the initiator's I/O arrives here and waits);
 *   - outgoing: the blade asked to let go reports the taker AO and itself Standby
 *     before it drains and releases (LIO then refuses I/O on this port with NOT READY,
 *     the initiator's scsi_dh_alua re-reads the states and dm-multipath switches path
 *     group), and neither reads nor the runner's lock take the volume back while the
 *     taker's claim is not visible yet.
 * Within one LUN the new AO group is written before the old one is demoted, so an
 * initiator that reads the states in between sees two AO groups, never none.
 */
#define _GNU_SOURCE
#include "alua.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_MS 5000   /* default: a blade whose status block did not change for this long does not answer */
#define OUTGOING_MS 10000 /* how long a blade that let a volume go waits for the taker's claim */
#define WAIT_STEP_MS 10
#define CFS_CORE "/sys/kernel/config/target/core"
#define ST_AO 0
#define ST_ANO 1
#define ST_STANDBY 2

enum mode { M_NONE, M_INCOMING, M_OUTGOING };

struct waiter {
	uint64_t from, seq;
};

struct slot_st {
	enum mode mode;
	uint64_t target;          /* OUTGOING: the blade taking it */
	uint64_t until_ms;        /* the override ends then at the latest */
	bool taking;              /* a take runs for it */
	struct waiter w[4];       /* more requests for the same take */
	unsigned nw;
	char dir[512];            /* its backstore in configfs, "" = not exported here */
	uint16_t reported;        /* the host id this blade's configfs says is AO (0 none) */
};

struct alua_pool {
	struct vl_pool *pool;
	char name[VL_NAME_MAX + 1];
	char blade[64];
	uint64_t me;
	uint32_t nr;              /* slots described (the pool's, at most VL_STATUS_VOLS) */
	pthread_mutex_t lock;     /* everything below */
	struct slot_st *s;
	struct vl_blade_status *st; /* the status blocks last read */
	uint64_t beat[VL_STATUS_HOSTS], beat_ms[VL_STATUS_HOSTS];
	uint64_t last_look_ms, last_beat_ms; /* the poll thread's (alua_tick) */
	char core[256];           /* LIO's configfs core directory */
	unsigned answer_ms;       /* ANSWER_MS, or a test's */
	pthread_mutex_t sync_lock; /* one configfs pass at a time */
};

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}


struct alua_pool *alua_pool_new(struct vl_pool *pool, const char *pool_name, const char *blade)
{
	struct vl_shared_info si;
	vl_pool_shared_info(pool, &si);
	if (!si.shared || !si.host_id || si.host_id > VL_STATUS_HOSTS)
		return NULL;
	struct alua_pool *ap = calloc(1, sizeof(*ap));
	if (!ap)
		return NULL;
	ap->nr = si.nr_slots < VL_STATUS_VOLS ? si.nr_slots : VL_STATUS_VOLS;
	ap->s = calloc(ap->nr, sizeof(*ap->s));
	ap->st = calloc(VL_STATUS_HOSTS, sizeof(*ap->st));
	if (!ap->s || !ap->st) {
		free(ap->s);
		free(ap->st);
		free(ap);
		return NULL;
	}
	ap->pool = pool;
	ap->me = si.host_id;
	snprintf(ap->name, sizeof(ap->name), "%s", pool_name);
	snprintf(ap->blade, sizeof(ap->blade), "%s", blade ? blade : "");
	const char *e = getenv("VLUN_CONFIGFS_CORE"); /* tests: a plain tree */
	alua_pool_set_configfs(ap, e && *e ? e : CFS_CORE);
	ap->answer_ms = ANSWER_MS;
	pthread_mutex_init(&ap->lock, NULL);
	pthread_mutex_init(&ap->sync_lock, NULL);
	return ap;
}

void alua_pool_set_configfs(struct alua_pool *ap, const char *core)
{
	snprintf(ap->core, sizeof(ap->core), "%s", core);
}

void alua_pool_set_answer_ms(struct alua_pool *ap, unsigned ms) { ap->answer_ms = ms; }

void alua_pool_free(struct alua_pool *ap)
{
	if (!ap)
		return;
	pthread_mutex_destroy(&ap->lock);
	pthread_mutex_destroy(&ap->sync_lock);
	free(ap->s);
	free(ap->st);
	free(ap);
}

/* ---- what the other blades say ---- */

/* Read every status block; note whose heartbeat moved. */
static int refresh_status(struct alua_pool *ap)
{
	struct vl_blade_status *st = malloc(VL_STATUS_HOSTS * sizeof(*st));
	if (!st)
		return -ENOMEM;
	int r = vl_pool_read_status(ap->pool, st);
	if (r) {
		free(st);
		return r;
	}
	uint64_t t = now_ms();
	pthread_mutex_lock(&ap->lock);
	for (uint32_t h = 0; h < VL_STATUS_HOSTS; h++)
		if (st[h].present && (st[h].beat != ap->beat[h] || !ap->beat_ms[h])) {
			ap->beat[h] = st[h].beat;
			ap->beat_ms[h] = t;
		}
	memcpy(ap->st, st, VL_STATUS_HOSTS * sizeof(*st));
	/* overrides end when the claim they wait for shows, or at their deadline */
	for (uint32_t i = 0; i < ap->nr; i++) {
		struct slot_st *s = &ap->s[i];
		uint64_t owner = vl_status_owner(ap->st, i, NULL);
		if (s->mode == M_OUTGOING && ((owner && owner != ap->me) || t >= s->until_ms))
			s->mode = M_NONE;
		if (s->mode == M_INCOMING && !s->taking && t >= s->until_ms)
			s->mode = M_NONE;
	}
	pthread_mutex_unlock(&ap->lock);
	free(st);
	return 0;
}

/* Caller holds ap->lock. */
static bool answering(const struct alua_pool *ap, uint64_t h, uint64_t t)
{
	if (h == ap->me)
		return true;
	return h >= 1 && h <= VL_STATUS_HOSTS && ap->st[h - 1].present && ap->beat_ms[h - 1] &&
	       t - ap->beat_ms[h - 1] < ap->answer_ms;
}

/* A blade that wrote status blocks, whose heartbeat stopped (not one never seen).
 * Caller holds ap->lock. */
static bool silent(const struct alua_pool *ap, uint64_t h, uint64_t t)
{
	return h >= 1 && h <= VL_STATUS_HOSTS && h != ap->me && ap->st[h - 1].present &&
	       ap->beat_ms[h - 1] && t - ap->beat_ms[h - 1] >= ap->answer_ms;
}

/* The host id a group (named after its blade) stands for; 0 unknown.  Caller holds
 * ap->lock. */
static uint64_t group_host(const struct alua_pool *ap, const char *group)
{
	if (ap->blade[0] && !strcmp(group, ap->blade))
		return ap->me;
	for (uint32_t h = 0; h < VL_STATUS_HOSTS; h++)
		if (ap->st[h].present && ap->st[h].name[0] && !strcmp(ap->st[h].name, group))
			return h + 1;
	return 0;
}

/* Who should be AO for the volume in slot i now (0: nobody known: leave it). */
static uint64_t wanted_ao(struct alua_pool *ap, uint32_t i, uint64_t last_owner)
{
	const struct slot_st *s = &ap->s[i];
	if (s->mode == M_INCOMING)
		return ap->me;
	if (s->mode == M_OUTGOING)
		return s->target;
	uint64_t owner = vl_status_owner(ap->st, i, NULL);
	return owner ? owner : last_owner;
}

/* ---- configfs ---- */

static int read_int(const char *path, int *v)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t k = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (k <= 0)
		return k < 0 ? -e : -EIO;
	buf[k] = 0;
	char *end;
	long x = strtol(buf, &end, 0);
	if (end == buf)
		return -EINVAL;
	*v = (int)x;
	return 0;
}

static int write_int(const char *path, int v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return -errno;
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d\n", v);
	ssize_t k = write(fd, buf, (size_t)len);
	int e = errno;
	close(fd);
	return k == len ? 0 : k < 0 ? -e : -EIO;
}

/* "vlun/POOL/VOLUME" (dev_config) of one of this pool's volumes: its slot, else -1. */
static int dev_config_slot(struct alua_pool *ap, const char *cfg)
{
	size_t pl = strlen(ap->name);
	if (strncmp(cfg, "vlun/", 5) || strncmp(cfg + 5, ap->name, pl) || cfg[5 + pl] != '/')
		return -1;
	const char *vol = cfg + 6 + pl;
	char name[VL_NAME_MAX + 1];
	size_t n = strcspn(vol, "/;\n");
	if (n == 0 || n > VL_NAME_MAX)
		return -1;
	memcpy(name, vol, n);
	name[n] = 0;
	struct vl_vol_info vi;
	if (vl_vol_info(ap->pool, name, &vi) || vi.slot >= ap->nr)
		return -1;
	return (int)vi.slot;
}

/* Where each of the pool's LUNs is in configfs (core/user_N/NAME with dev_config
 * vlun/POOL/VOLUME): looked for afresh every second, as vlun-config creates them. */
static void find_luns(struct alua_pool *ap)
{
	char (*dirs)[512] = calloc(ap->nr, sizeof(*dirs));
	if (!dirs)
		return;
	const char *core = ap->core;
	DIR *c = opendir(core);
	struct dirent *h;
	while (c && (h = readdir(c))) {
		if (strncmp(h->d_name, "user_", 5))
			continue;
		char hba[768];
		snprintf(hba, sizeof(hba), "%s/%s", core, h->d_name);
		DIR *b = opendir(hba);
		struct dirent *e;
		while (b && (e = readdir(b))) {
			if (e->d_name[0] == '.')
				continue;
			char path[1100], cfg[300] = "";
			snprintf(path, sizeof(path), "%s/%s/attrib/dev_config", hba, e->d_name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			ssize_t k = read(fd, cfg, sizeof(cfg) - 1);
			close(fd);
			cfg[k > 0 ? k : 0] = 0;
			int slot = dev_config_slot(ap, cfg);
			if (slot >= 0)
				snprintf(dirs[slot], sizeof(dirs[slot]), "%.255s/%.200s", hba, e->d_name);
		}
		if (b)
			closedir(b);
	}
	if (c)
		closedir(c);
	pthread_mutex_lock(&ap->lock);
	for (uint32_t i = 0; i < ap->nr; i++)
		memcpy(ap->s[i].dir, dirs[i], sizeof(dirs[i]));
	pthread_mutex_unlock(&ap->lock);
	free(dirs);
}

struct group {
	char name[256];
	uint64_t host;
	int state;
	int other;                /* its non-owner state: Standby, or ANO where vlun-config
				   * turned Standby support off (nonowner_state = nonoptimized) */
};

/* The LUN's ALUA groups (default_tg_pt_gp is not one of vlun's); at most max. */
static size_t read_groups(struct alua_pool *ap, const char *dir, struct group *g, size_t max)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/alua", dir);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while (n < max && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "default_tg_pt_gp"))
			continue;
		char sp[1100];
		snprintf(sp, sizeof(sp), "%s/%s/alua_access_state", path, e->d_name);
		if (read_int(sp, &g[n].state))
			continue;
		snprintf(g[n].name, sizeof(g[n].name), "%s", e->d_name);
		int sup = 1;
		snprintf(sp, sizeof(sp), "%s/%s/alua_support_standby", path, e->d_name);
		(void)read_int(sp, &sup);
		g[n].other = sup ? ST_STANDBY : ST_ANO;
		pthread_mutex_lock(&ap->lock);
		g[n].host = group_host(ap, e->d_name);
		pthread_mutex_unlock(&ap->lock);
		n++;
	}
	closedir(d);
	return n;
}

static int set_state(const char *dir, const struct group *g, int state)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/alua/%s/alua_access_state", dir, g->name);
	return write_int(path, state);
}

/* Bring one LUN's groups to the rule (see the top).  Caller holds sync_lock. */
static void sync_slot(struct alua_pool *ap, uint32_t i, uint64_t last_owner)
{
	char dir[512];
	pthread_mutex_lock(&ap->lock);
	memcpy(dir, ap->s[i].dir, sizeof(dir));
	uint64_t ao = wanted_ao(ap, i, last_owner);
	pthread_mutex_unlock(&ap->lock);
	uint16_t reported = 0;
	if (dir[0]) {
		struct group g[VL_STATUS_HOSTS + 1];
		size_t n = read_groups(ap, dir, g, VL_STATUS_HOSTS + 1);
		size_t target = n;
		for (size_t k = 0; k < n; k++)
			if (ao && g[k].host == ao)
				target = k;
		if (target < n) {
			int e = g[target].state == ST_AO ? 0 : set_state(dir, &g[target], ST_AO);
			for (size_t k = 0; !e && k < n; k++)
				if (k != target && g[k].state != g[k].other)
					e = set_state(dir, &g[k], g[k].other);
			if (e)
				fprintf(stderr, "vlun: ALUA states of %s: %s\n", dir, strerror(-e));
			else
				reported = (uint16_t)ao;
		} else { /* nobody known, or no group for them: as configfs says */
			size_t k1 = n, nao = 0;
			for (size_t k = 0; k < n; k++)
				if (g[k].state == ST_AO)
					k1 = k, nao++;
			reported = nao == 1 ? (uint16_t)g[k1].host : 0;
		}
	}
	pthread_mutex_lock(&ap->lock);
	ap->s[i].reported = reported;
	pthread_mutex_unlock(&ap->lock);
}

static void publish(struct alua_pool *ap)
{
	struct vl_slot_report rep[VL_STATUS_VOLS];
	memset(rep, 0, sizeof(rep));
	pthread_mutex_lock(&ap->lock);
	for (uint32_t i = 0; i < ap->nr; i++) {
		rep[i].ao_host = ap->s[i].reported;
		rep[i].flags = (uint8_t)((ap->s[i].dir[0] ? VL_REP_EXPORTED : 0) |
					 (ap->s[i].mode != M_NONE ? VL_REP_MOVING : 0));
	}
	pthread_mutex_unlock(&ap->lock);
	int r = vl_pool_publish(ap->pool, ap->blade, rep, ap->nr);
	if (r)
		fprintf(stderr, "vlun: pool %s: cannot write this blade's status block: %s\n",
			ap->name, strerror(-r));
}

/* The last owner each volume's header names (for volumes nobody claims now). */
static void last_owners(struct alua_pool *ap, uint64_t *owner)
{
	memset(owner, 0, ap->nr * sizeof(*owner));
	struct vl_vol_info vi;
	for (uint32_t k = 0; vl_vol_info_at(ap->pool, k, &vi) == 0; k++)
		if (vi.slot < ap->nr)
			owner[vi.slot] = vi.owner_node ? vi.owner_node : UINT64_MAX;
}

/* Every LUN of the pool (slot = UINT32_MAX), or one. */
static void sync_states(struct alua_pool *ap, uint32_t only)
{
	uint64_t owner[VL_STATUS_VOLS];
	pthread_mutex_lock(&ap->sync_lock);
	last_owners(ap, owner);
	for (uint32_t i = 0; i < ap->nr; i++)
		if (owner[i] && (only == UINT32_MAX || i == only))
			sync_slot(ap, i, owner[i] == UINT64_MAX ? 0 : owner[i]);
	publish(ap);
	pthread_mutex_unlock(&ap->sync_lock);
}

/* ---- requests from other blades ---- */

struct take {
	struct alua_pool *ap;
	struct vl_vol *vol;
	uint32_t slot;
	uint64_t from, seq;
	unsigned flags, timeout_ms;
	/* out */
	int err;
	unsigned wait_ms, acquire_ms;
	char why[256];
};

/* Take the volume here: report AO at once, answer BUSY until it is ours. */
static void take_run(struct take *t)
{
	struct alua_pool *ap = t->ap;
	pthread_mutex_lock(&ap->lock);
	struct slot_st *s = &ap->s[t->slot];
	s->mode = M_INCOMING;
	s->taking = true;
	s->until_ms = now_ms() + 5000 + (uint64_t)t->timeout_ms * ((t->flags & VL_TAKEOVER_FORCE) ? 2 : 1);
	pthread_mutex_unlock(&ap->lock);
	sync_states(ap, t->slot);
	/* an owner whose status block stopped changing is not asked (it would not answer):
	 * with force it is fenced at once, without the move fails at once */
	uint64_t holder = vl_vol_holder(t->vol);
	unsigned flags = t->flags;
	pthread_mutex_lock(&ap->lock);
	if (silent(ap, holder, now_ms()))
		flags |= VL_TAKEOVER_SILENT;
	pthread_mutex_unlock(&ap->lock);
	struct vl_diag d = {{0}};
	t->err = vl_vol_takeover_timed(t->vol, t->timeout_ms, flags, &t->wait_ms, &t->acquire_ms,
				       &d);
	snprintf(t->why, sizeof(t->why), "%s", t->err ? d.msg : "");
	(void)refresh_status(ap); /* this blade's new claim, or the owner's */
	struct waiter w[4];
	pthread_mutex_lock(&ap->lock);
	s->mode = M_NONE;
	s->taking = false;
	unsigned nw = s->nw;
	memcpy(w, s->w, sizeof(w));
	s->nw = 0;
	pthread_mutex_unlock(&ap->lock);
	sync_states(ap, t->slot);
	fprintf(stderr, "vlun: pool %s: volume %s %s (waited %u ms, acquire %u ms)%s%s\n", ap->name,
		vl_vol_name(t->vol), t->err ? "not taken" : "taken", t->wait_ms, t->acquire_ms,
		t->err ? ": " : "", t->why);
	if (t->from && t->from != ap->me)
		vl_pool_note_result(ap->pool, t->from, t->seq, t->slot, t->err, t->wait_ms, t->acquire_ms);
	for (unsigned k = 0; k < nw; k++)
		vl_pool_note_result(ap->pool, w[k].from, w[k].seq, t->slot, t->err, t->wait_ms,
				    t->acquire_ms);
}

static void *take_main(void *arg)
{
	struct take *t = arg;
	take_run(t);
	vl_vol_unref(t->vol);
	free(t);
	return NULL;
}

static int on_request(void *arg, const struct vl_request *rq)
{
	struct alua_pool *ap = arg;
	if (rq->slot >= ap->nr)
		return rq->kind == VL_REQ_RELEASE ? 0 : -EINVAL;
	if (rq->kind == VL_REQ_RELEASE) {
		/* the taker's port first: the initiator moves while this blade drains */
		pthread_mutex_lock(&ap->lock);
		ap->s[rq->slot].mode = M_OUTGOING;
		ap->s[rq->slot].target = rq->from;
		ap->s[rq->slot].until_ms = now_ms() + OUTGOING_MS;
		pthread_mutex_unlock(&ap->lock);
		sync_states(ap, rq->slot);
		return 0;
	}
	pthread_mutex_lock(&ap->lock);
	struct slot_st *s = &ap->s[rq->slot];
	bool exported = s->dir[0], joined = false;
	if (s->taking && s->nw < 4) {
		s->w[s->nw++] = (struct waiter){rq->from, rq->seq};
		joined = true;
	}
	pthread_mutex_unlock(&ap->lock);
	if (joined)
		return 0;
	struct take *t = calloc(1, sizeof(*t));
	struct vl_diag d;
	int r = !exported ? -ENOENT : !t ? -ENOMEM : vl_vol_open(ap->pool, vl_vol_name(rq->vol), &t->vol, &d);
	pthread_t th;
	pthread_attr_t at;
	if (!r) {
		*t = (struct take){.ap = ap, .vol = t->vol, .slot = rq->slot, .from = rq->from,
				   .seq = rq->seq, .flags = rq->flags, .timeout_ms = rq->timeout_ms};
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		r = -pthread_create(&th, &at, take_main, t);
		pthread_attr_destroy(&at);
		if (r)
			vl_vol_unref(t->vol);
	}
	if (r) {
		free(t);
		vl_pool_note_result(ap->pool, rq->from, rq->seq, rq->slot, r, 0, 0);
	}
	return 0;
}

void alua_tick(struct alua_pool *ap)
{
	unsigned released;
	int e = vl_pool_serve_requests(ap->pool, on_request, ap, &released);
	if (e)
		fprintf(stderr, "vlun: pool %s: cannot read the message slots: %s\n", ap->name,
			strerror(-e));
	uint64_t t = now_ms();
	if (t - ap->last_look_ms < 100)
		return;
	ap->last_look_ms = t;
	bool second = t - ap->last_beat_ms >= 1000;
	if (second)
		find_luns(ap);
	if ((e = refresh_status(ap)))
		fprintf(stderr, "vlun: pool %s: cannot read the status blocks: %s\n", ap->name,
			strerror(-e));
	sync_states(ap, UINT32_MAX);
	if (second && vl_pool_beat(ap->pool) != -EAGAIN)
		ap->last_beat_ms = t;
}

/* ---- the I/O and lock paths ---- */

bool alua_incoming(struct alua_pool *ap, uint32_t slot)
{
	if (!ap || slot >= ap->nr)
		return false;
	pthread_mutex_lock(&ap->lock);
	bool in = ap->s[slot].mode == M_INCOMING;
	pthread_mutex_unlock(&ap->lock);
	return in;
}

bool alua_may_take(struct alua_pool *ap, uint32_t slot)
{
	if (!ap || slot >= ap->nr)
		return true;
	pthread_mutex_lock(&ap->lock);
	bool out = ap->s[slot].mode == M_OUTGOING;
	pthread_mutex_unlock(&ap->lock);
	return !out;
}

void alua_wait_incoming(struct alua_pool *ap, uint32_t slot, unsigned ms)
{
	for (unsigned w = 0; w < ms && alua_incoming(ap, slot); w += WAIT_STEP_MS)
		sleep_ms(WAIT_STEP_MS);
}

/* ---- control requests ---- */

struct out {
	char *p;
	size_t n, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->len + 1 >= o->n)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(o->p + o->len, o->n - o->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->len = o->len + (size_t)k < o->n ? o->len + (size_t)k : o->n - 1;
}

static void sep(struct out *o)
{
	if (o->len)
		put(o, ";");
}

/* "HOST:AO,..." for slot i; caller holds ap->lock. */
static void put_states(struct alua_pool *ap, struct out *o, uint32_t i)
{
	bool first = true;
	for (uint32_t h = 0; h < VL_STATUS_HOSTS; h++) {
		const struct vl_blade_status *b = &ap->st[h];
		if (!b->present)
			continue;
		if (i < b->nr_vols && (b->vol[i].flags & VL_ST_EXPORTED))
			put(o, "%s%u:%u", first ? "" : ",", h + 1, b->vol[i].ao_host);
		else
			put(o, "%s%u:-", first ? "" : ",", h + 1);
		first = false;
	}
}

static void put_moving(struct alua_pool *ap, struct out *o, uint32_t i)
{
	bool first = true;
	for (uint32_t h = 0; h < VL_STATUS_HOSTS; h++) {
		const struct vl_blade_status *b = &ap->st[h];
		if (b->present && i < b->nr_vols && (b->vol[i].flags & VL_ST_MOVING)) {
			put(o, "%s%u", first ? "" : ",", h + 1);
			first = false;
		}
	}
}

static int ctl_status(struct alua_pool *ap, char *msg, size_t n)
{
	int r = refresh_status(ap);
	if (r) {
		snprintf(msg, n, "cannot read the status blocks: %s", strerror(-r));
		return r;
	}
	struct out o = {msg, n, 0};
	msg[0] = 0;
	uint64_t t = now_ms();
	pthread_mutex_lock(&ap->lock);
	for (uint32_t h = 0; h < VL_STATUS_HOSTS; h++) {
		const struct vl_blade_status *b = &ap->st[h];
		if (!b->present)
			continue;
		sep(&o);
		put(&o, "blade name=%s host=%u answering=%d age_ms=%" PRIu64 " local=%d",
		    b->name[0] ? b->name : "-", h + 1, answering(ap, h + 1, t),
		    ap->beat_ms[h] ? t - ap->beat_ms[h] : 0, h + 1 == ap->me);
	}
	pthread_mutex_unlock(&ap->lock);
	struct vl_vol_info vi;
	for (uint32_t k = 0; vl_vol_info_at(ap->pool, k, &vi) == 0; k++) {
		if (vi.slot >= ap->nr)
			continue;
		pthread_mutex_lock(&ap->lock);
		uint32_t ep;
		uint64_t owner = vl_status_owner(ap->st, vi.slot, &ep);
		sep(&o);
		put(&o, "vol name=%s slot=%u owner=%" PRIu64 " epoch=%u last_owner=%" PRIu64 " states=",
		    vi.name, vi.slot, owner, ep, vi.owner_node);
		put_states(ap, &o, vi.slot);
		put(&o, " moving=");
		put_moving(ap, &o, vi.slot);
		pthread_mutex_unlock(&ap->lock);
	}
	return 0;
}

struct mv {
	char name[VL_NAME_MAX + 1];
	struct vl_vol *vol;
	uint32_t slot;
	uint64_t from;
	uint32_t epoch;
	const char *result;
	int err;
	unsigned ask, release, acquire, states, total;
	bool answered, moving_seen, agreed;
	char lagging[64];
	char why[256];
};

/* Does every answering blade report `to` AO (and nobody moving) for slot i?  Caller
 * holds ap->lock; lagging lists those that do not. */
static bool all_agree(struct alua_pool *ap, uint32_t i, uint64_t to, uint64_t t, char *lag,
		      size_t n)
{
	bool ok = true;
	struct out o = {lag, n, 0};
	lag[0] = 0;
	for (uint32_t h = 0; h < VL_STATUS_HOSTS; h++) {
		const struct vl_blade_status *b = &ap->st[h];
		if (!b->present || !answering(ap, h + 1, t) || i >= b->nr_vols ||
		    !(b->vol[i].flags & VL_ST_EXPORTED))
			continue;
		if (b->vol[i].ao_host != to || (b->vol[i].flags & VL_ST_MOVING)) {
			put(&o, "%s%u", ok ? "" : ",", h + 1);
			ok = false;
		}
	}
	return ok;
}

static void put_move(struct out *o, const struct mv *m, uint64_t to)
{
	sep(o);
	put(o, "vol name=%s from=%" PRIu64 " to=%" PRIu64 " epoch=%u result=%s err=%d ask_ms=%u "
	       "release_ms=%u acquire_ms=%u states_ms=%u total_ms=%u lagging=%s",
	    m->name, m->from, to, m->epoch, m->result, m->err, m->ask, m->release, m->acquire,
	    m->states, m->total, m->lagging);
	if (m->why[0])
		put(o, " why=%s", m->why);
}

static unsigned since(uint64_t t0) { return (unsigned)(now_ms() - t0); }

/* The move, run on any blade: the new owner takes the volumes (asking their owners to
 * let go), then every answering blade must report it AO. */
static int ctl_move(struct alua_pool *ap, uint64_t to, unsigned timeout, bool force,
		    char **names, int nn, char *msg, size_t n)
{
	uint64_t t0 = now_ms();
	uint64_t deadline = t0 + (uint64_t)timeout * (force ? 2 : 1) + 3000;
	struct mv *m = calloc((size_t)nn, sizeof(*m));
	if (!m) {
		snprintf(msg, n, "out of memory");
		return -ENOMEM;
	}
	struct out o = {msg, n, 0};
	msg[0] = 0;
	int r = refresh_status(ap);
	for (int k = 0; !r && k < nn; k++) {
		struct vl_diag d = {{0}};
		snprintf(m[k].name, sizeof(m[k].name), "%s", names[k]);
		if ((r = vl_vol_open(ap->pool, names[k], &m[k].vol, &d))) {
			snprintf(msg, n, "%s", d.msg);
			break;
		}
		m[k].slot = vl_vol_slot(m[k].vol);
		if (m[k].slot >= ap->nr) {
			snprintf(msg, n, "volume %s is in slot %u: ALUA moves serve slots 0-%u", names[k],
				 m[k].slot, ap->nr - 1);
			r = -EOPNOTSUPP;
		}
	}
	if (r) {
		if (r == -EIO || !msg[0])
			snprintf(msg, n, "cannot read the pool: %s", strerror(-r));
		goto out;
	}
	/* where they are now, and whether there is anything to do */
	struct vl_vol *todo[VL_TAKE_MAX];
	size_t nt = 0;
	uint64_t t = now_ms();
	pthread_mutex_lock(&ap->lock);
	bool target_ok = answering(ap, to, t);
	for (int k = 0; k < nn; k++) {
		m[k].from = vl_status_owner(ap->st, m[k].slot, &m[k].epoch);
		if (m[k].from == to && all_agree(ap, m[k].slot, to, t, m[k].lagging, sizeof(m[k].lagging))) {
			m[k].result = "already";
			m[k].agreed = true;
		} else if (nt < VL_TAKE_MAX) {
			todo[nt++] = m[k].vol;
		}
	}
	pthread_mutex_unlock(&ap->lock);
	if (nt && !target_ok) {
		r = -EHOSTDOWN;
		snprintf(msg, n, "the blade with host id %" PRIu64 " does not answer (its status block "
				 "has not changed for %u s): is its tcmu-runner serving pool %s?",
			 to, ap->answer_ms / 1000, ap->name);
		goto out;
	}
	if (nt && to == ap->me) {
		/* this blade takes them itself */
		for (int k = 0; k < nn; k++) {
			if (m[k].result)
				continue;
			struct take tk = {.ap = ap, .vol = m[k].vol, .slot = m[k].slot, .from = ap->me,
					  .flags = force ? VL_TAKEOVER_FORCE : 0, .timeout_ms = timeout};
			take_run(&tk);
			m[k].ask = 0;
			m[k].err = tk.err;
			m[k].release = tk.wait_ms;
			m[k].acquire = tk.acquire_ms;
			m[k].answered = true;
			snprintf(m[k].why, sizeof(m[k].why), "%s", tk.why);
		}
	} else if (nt) {
		uint64_t seq;
		r = vl_pool_send_take(ap->pool, to, todo, nt, force ? VL_TAKEOVER_FORCE : 0, timeout, &seq);
		if (r) {
			snprintf(msg, n, "cannot write the request to host id %" PRIu64 ": %s", to,
				 strerror(-r));
			goto out;
		}
		/* the k-th volume to do got number seq + its index in todo */
		size_t left = nt;
		while (left && now_ms() < deadline) {
			sleep_ms(WAIT_STEP_MS);
			if (refresh_status(ap))
				continue;
			pthread_mutex_lock(&ap->lock);
			const struct vl_blade_status *b = &ap->st[to - 1];
			for (size_t j = 0, k = 0; j < nt; j++, k++) {
				while (m[k].result)
					k++;
				struct mv *x = &m[k];
				if (x->answered)
					continue;
				if (!x->moving_seen && x->slot < b->nr_vols &&
				    (b->vol[x->slot].flags & VL_ST_MOVING)) {
					x->moving_seen = true;
					x->ask = since(t0);
				}
				for (uint32_t q = 0; q < b->nr_results; q++)
					if (b->res[q].seq == seq + j && b->res[q].from == ap->me) {
						x->answered = true;
						x->err = b->res[q].err;
						x->release = b->res[q].wait_ms;
						x->acquire = b->res[q].acquire_ms;
						if (!x->moving_seen)
							x->ask = since(t0) - x->release - x->acquire;
						left--;
					}
			}
			pthread_mutex_unlock(&ap->lock);
		}
	}
	/* the states: every answering blade reports the new owner */
	for (int k = 0; k < nn; k++) {
		if (m[k].result)
			continue;
		if (!m[k].answered) {
			m[k].err = -ETIMEDOUT;
			snprintf(m[k].why, sizeof(m[k].why),
				 "the blade with host id %" PRIu64 " did not report the outcome in time", to);
		} else if (m[k].err) {
			char w[sizeof(m[k].why)];
			snprintf(w, sizeof(w), "%s", m[k].why[0] ? m[k].why : strerror(-m[k].err));
			snprintf(m[k].why, sizeof(m[k].why), "%s", w);
		}
	}
	uint64_t ts = now_ms();
	for (bool done = false; !done;) {
		(void)refresh_status(ap);
		uint64_t tn = now_ms();
		done = true;
		pthread_mutex_lock(&ap->lock);
		for (int k = 0; k < nn; k++) {
			if (m[k].result || m[k].err || m[k].agreed)
				continue;
			if (all_agree(ap, m[k].slot, to, tn, m[k].lagging, sizeof(m[k].lagging))) {
				m[k].agreed = true;
				m[k].states = (unsigned)(tn - ts);
				vl_status_owner(ap->st, m[k].slot, &m[k].epoch);
			} else {
				done = false;
			}
		}
		pthread_mutex_unlock(&ap->lock);
		if (!done && tn >= deadline)
			break;
		if (!done)
			sleep_ms(WAIT_STEP_MS);
	}
	r = 0;
	for (int k = 0; k < nn; k++) {
		struct mv *x = &m[k];
		if (!x->result) {
			pthread_mutex_lock(&ap->lock);
			uint32_t ep;
			if (vl_status_owner(ap->st, x->slot, &ep) == to)
				x->epoch = ep; /* the new owner's, also when some blade lags */
			pthread_mutex_unlock(&ap->lock);
			x->total = since(t0);
			x->result = x->err ? "failed" : "moved";
			if (!x->err && !x->agreed) {
				x->err = -ETIMEDOUT;
				snprintf(x->why, sizeof(x->why),
					 "moved, but blade(s) %s did not report the new state in time",
					 x->lagging);
			}
		}
		if (x->err && (!r || r == -ETIMEDOUT))
			r = x->err;
		put_move(&o, x, to);
	}
out:
	for (int k = 0; k < nn; k++)
		vl_vol_unref(m[k].vol);
	free(m);
	return r;
}

static int ctl_claim(struct alua_pool *ap, const char *name, char *msg, size_t n)
{
	struct vl_vol *v;
	struct vl_diag d = {{0}};
	int r = vl_vol_open(ap->pool, name, &v, &d);
	if (r) {
		snprintf(msg, n, "%s", d.msg);
		return r;
	}
	if (vl_vol_owned(v)) {
		snprintf(msg, n, "owned here");
	} else if (!alua_may_take(ap, vl_vol_slot(v))) {
		snprintf(msg, n, "being handed to another blade");
	} else if ((r = vl_vol_claim(v, &d)) == 0) {
		snprintf(msg, n, "owned here");
		sync_states(ap, vl_vol_slot(v));
	} else if (r == -EBUSY) {
		snprintf(msg, n, "%s", d.msg);
		r = 0; /* it has an owner: nothing to do */
	} else {
		snprintf(msg, n, "%s", d.msg);
	}
	vl_vol_unref(v);
	return r;
}

int alua_ctl(struct alua_pool *ap, int argc, char **argv, char *msg, size_t n)
{
	const char *cmd = argv[0];
	if (!strcmp(cmd, "alua-status") && argc == 2)
		return ctl_status(ap, msg, n);
	if (!strcmp(cmd, "alua-sync") && argc == 2) {
		find_luns(ap);
		(void)refresh_status(ap);
		sync_states(ap, UINT32_MAX);
		unsigned luns = 0;
		pthread_mutex_lock(&ap->lock);
		for (uint32_t i = 0; i < ap->nr; i++)
			luns += ap->s[i].dir[0] != 0;
		pthread_mutex_unlock(&ap->lock);
		snprintf(msg, n, "%u LUNs", luns);
		return 0;
	}
	if (!strcmp(cmd, "alua-claim") && argc == 3)
		return ctl_claim(ap, argv[2], msg, n);
	if (!strcmp(cmd, "alua-move") && argc >= 6) {
		char *end;
		unsigned long to = strtoul(argv[2], &end, 10);
		bool bad = *end || to < 1 || to > VL_STATUS_HOSTS;
		unsigned long tmo = strtoul(argv[3], &end, 10);
		bad |= *end || tmo < 100 || tmo > 600000;
		bool force = !strcmp(argv[4], "force");
		bad |= !force && strcmp(argv[4], "safe");
		bad |= argc - 5 > (int)VL_TAKE_MAX;
		if (bad) {
			snprintf(msg, n, "usage: alua-move POOL TO-HOST(1-%u) TIMEOUT-MS(100-600000) "
					 "force|safe VOLUME... (at most %u)",
				 VL_STATUS_HOSTS, VL_TAKE_MAX);
			return -EINVAL;
		}
		return ctl_move(ap, to, (unsigned)tmo, force, argv + 5, argc - 5, msg, n);
	}
	snprintf(msg, n, "unknown request '%s' (or wrong arguments)", cmd);
	return -EINVAL;
}
