/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests between blades and what each blade publishes, on the pool's own disks
 * (docs/on-disk-format.md, "Message slots" and "Status blocks").
 *
 * A message slot (to, from) is written only by `from` and read only by `to`; it holds
 * the last VL_MSG_ENTRIES requests `from` sent `to`, numbered 1, 2, ...  The recipient
 * acts on each number once, in order, so rewriting the slot for a new request never
 * loses one that was not read yet.  A status block is written only by its blade: the
 * volumes it holds (claims with their lease versions), what it reports to initiators
 * for each volume (kept for the caller, the handler), and the outcome of the requests
 * it was sent.  Every write is O_DIRECT without a sync: nothing depends on these
 * surviving a power loss (the leases and the volume headers are the truth).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

_Static_assert(VL_STATUS_HOSTS == VL_MSG_HOSTS, "status hosts");
_Static_assert(VL_STATUS_VOLS == VL_STATUS_SLOTS, "status slots");
_Static_assert(VL_TAKE_MAX == VL_MSG_ENTRIES, "take entries");
_Static_assert(VL_STATUS_BLK0 + VL_MSG_HOSTS <= VL_LEASE_ALIGN / VL_BLK, "message unit");
_Static_assert((int)VL_ST_OWNED == VL_STF_OWNED && (int)VL_ST_EXPORTED == VL_STF_EXPORTED &&
		       (int)VL_ST_MOVING == VL_STF_MOVING && (int)VL_REP_EXPORTED == VL_STF_EXPORTED &&
		       (int)VL_REP_MOVING == VL_STF_MOVING,
	       "status flags");

static bool host_ok(uint64_t h) { return h >= 1 && h <= VL_MSG_HOSTS; }

static uint64_t msg_off(const struct vl_pool *p, uint64_t to, uint64_t from)
{
	return vl_msg_unit_off(p) + (1 + (to - 1) * VL_MSG_HOSTS + (from - 1)) * VL_BLK;
}

static uint64_t status_off(const struct vl_pool *p, uint64_t host)
{
	return vl_msg_unit_off(p) + (VL_STATUS_BLK0 + host - 1) * VL_BLK;
}

static uint32_t lease_member(const struct vl_pool *p) { return p->sb.shared.lease_member; }

uint64_t vl_pool_host_id(struct vl_pool *p) { return p->is_shared && p->sh.on ? p->sh.ls.host_id : 0; }

/* The numbers in the slots now: nothing older is acted on, nothing is numbered twice. */
int vl_msg_init(struct vl_pool *p)
{
	uint64_t me = p->sh.ls.host_id;
	if (!host_ok(me))
		return 0;
	if (!p->sh.msg_out && !(p->sh.msg_out = calloc(VL_MSG_HOSTS + 1, sizeof(*p->sh.msg_out))))
		return -ENOMEM;
	if (!p->sh.st_rep && !(p->sh.st_rep = calloc(VL_STATUS_SLOTS, sizeof(*p->sh.st_rep))))
		return -ENOMEM;
	VL_AUTOFREE struct vl_msg *m = aligned_alloc(VL_BLK, VL_BLK);
	if (!m)
		return -ENOMEM;
	uint32_t lm = lease_member(p);
	for (uint64_t o = 1; o <= VL_MSG_HOSTS; o++) {
		int r = vl_io_read(p, lm, m, VL_BLK, msg_off(p, me, o));
		if (r)
			return r;
		if (!vl_blk_verify(m, VL_BT_MSG, p->uuid, p->uuid, me << 16 | o))
			p->sh.msg_seen[o] = m->h.gen;
		if ((r = vl_io_read(p, lm, m, VL_BLK, msg_off(p, o, me))))
			return r;
		if (!vl_blk_verify(m, VL_BT_MSG, p->uuid, p->uuid, o << 16 | me))
			p->sh.msg_sent[o] = m->h.gen;
		p->sh.msg_out_nr[o] = 0;
	}
	/* a blade that restarted holds nothing: say so before anyone reads old claims */
	VL_LOCK_SCOPE(&p->lock);
	return vl_status_write_locked(p);
}

void vl_msg_free(struct vl_pool *p)
{
	free(p->sh.msg_out);
	free(p->sh.st_rep);
	p->sh.msg_out = NULL;
	p->sh.st_rep = NULL;
}

int vl_msg_send(struct vl_pool *p, uint64_t to, struct vl_msg_entry *e, size_t n)
{
	uint64_t me = p->sh.ls.host_id;
	if (!host_ok(me) || !host_ok(to) || to == me || !p->sh.msg_out)
		return -EOPNOTSUPP;
	if (n == 0 || n > VL_MSG_ENTRIES)
		return -EINVAL;
	VL_AUTOFREE struct vl_msg *m = aligned_alloc(VL_BLK, VL_BLK);
	if (!m)
		return -ENOMEM;
	VL_LOCK_SCOPE(&p->sh.msg_lock);
	struct vl_msg_entry *ring = p->sh.msg_out[to];
	uint32_t *nr = &p->sh.msg_out_nr[to];
	uint64_t seq = p->sh.msg_sent[to];
	for (size_t i = 0; i < n; i++) {
		e[i].seq = seq + 1 + i;
		e[i].time = (uint64_t)time(NULL);
		if (*nr == VL_MSG_ENTRIES) { /* the oldest goes */
			memmove(ring, ring + 1, (VL_MSG_ENTRIES - 1) * sizeof(*ring));
			(*nr)--;
		}
		ring[(*nr)++] = e[i];
	}
	memset(m, 0, sizeof(*m));
	m->h.type = VL_BT_MSG;
	m->h.version = VL_FORMAT_SHARED;
	m->h.gen = seq + n;
	memcpy(m->h.pool_uuid, p->uuid, 16);
	memcpy(m->h.obj_uuid, p->uuid, 16);
	m->h.index = to << 16 | me;
	m->layout = VL_MSG_LAYOUT;
	m->nr = *nr;
	memcpy(m->e, ring, *nr * sizeof(*ring));
	vl_blk_seal(m);
	int r = vl_io_write(p, lease_member(p), m, VL_BLK, msg_off(p, to, me), true);
	if (r) { /* not sent: forget them, the numbers are reused */
		*nr -= (uint32_t)(n < *nr ? n : *nr);
		return r;
	}
	p->sh.msg_sent[to] = seq + n;
	return 0;
}

int vl_pool_send_take(struct vl_pool *p, uint64_t to, struct vl_vol *const *vols, size_t n,
		      unsigned flags, unsigned timeout_ms, uint64_t *seq)
{
	if (!p->is_shared || !p->sh.on)
		return -EINVAL;
	if (n == 0 || n > VL_MSG_ENTRIES)
		return -EINVAL;
	struct vl_msg_entry e[VL_MSG_ENTRIES];
	memset(e, 0, n * sizeof(e[0]));
	for (size_t i = 0; i < n; i++) {
		if (vols[i]->pool != p)
			return -EINVAL;
		e[i].kind = VL_MSG_TAKE;
		e[i].slot = vols[i]->slot;
		memcpy(e[i].vol_uuid, vols[i]->uuid, 16);
		e[i].flags = flags & VL_TAKEOVER_FORCE;
		e[i].timeout_ms = timeout_ms;
	}
	int r = vl_msg_send(p, to, e, n);
	if (!r)
		*seq = e[0].seq;
	return r;
}

/* Act on one request; returns 1 when a volume was released. */
static int serve_one(struct vl_pool *p, uint64_t from, const struct vl_msg_entry *e,
		     vl_request_fn fn, void *arg)
{
	if ((e->kind != VL_MSG_RELEASE && e->kind != VL_MSG_TAKE) || e->slot >= p->sb.shared.nr_slots)
		return 0;
	pthread_mutex_lock(&p->lock);
	struct vl_vol *v = p->slots[e->slot];
	bool same = v && !memcmp(v->uuid, e->vol_uuid, 16);
	bool mine = same && v->lease_held;
	pthread_mutex_unlock(&p->lock);
	struct vl_request rq = {.from = from, .seq = e->seq, .slot = e->slot, .vol = v,
				.flags = e->flags, .timeout_ms = e->timeout_ms};
	if (e->kind == VL_MSG_TAKE) {
		rq.kind = VL_REQ_TAKE;
		if (!same)
			vl_pool_note_result(p, from, e->seq, e->slot, -ENOENT, 0, 0);
		else if (!fn)
			vl_pool_note_result(p, from, e->seq, e->slot, -EOPNOTSUPP, 0, 0);
		else
			(void)fn(arg, &rq);
		return 0;
	}
	rq.kind = VL_REQ_RELEASE;
	if (!mine || (fn && fn(arg, &rq)))
		return 0;
	vl_pool_finding(p, "volume %s: released at the request of the blade with host id %llu",
			v->name, (unsigned long long)from);
	return vl_vol_release(v) == 0;
}

int vl_pool_serve_requests(struct vl_pool *p, vl_request_fn fn, void *arg, unsigned *released)
{
	*released = 0;
	uint64_t me = p->sh.ls.host_id;
	if (!p->is_shared || !p->sh.on || !host_ok(me))
		return 0;
	size_t len = (size_t)VL_MSG_HOSTS * VL_BLK;
	VL_AUTOFREE uint8_t *row = aligned_alloc(VL_BLK, len);
	if (!row)
		return -ENOMEM;
	int r = vl_io_read(p, lease_member(p), row, len, msg_off(p, me, 1));
	if (r)
		return r;
	for (uint64_t o = 1; o <= VL_MSG_HOSTS; o++) {
		const struct vl_msg *m = (const void *)(row + (o - 1) * VL_BLK);
		if (o == me || vl_blk_verify(m, VL_BT_MSG, p->uuid, p->uuid, me << 16 | o) ||
		    m->layout != VL_MSG_LAYOUT || m->nr > VL_MSG_ENTRIES)
			continue;
		pthread_mutex_lock(&p->sh.msg_lock);
		uint64_t seen = p->sh.msg_seen[o];
		if (m->h.gen > seen)
			p->sh.msg_seen[o] = m->h.gen;
		pthread_mutex_unlock(&p->sh.msg_lock);
		/* entries are oldest first; each number is acted on once */
		for (uint32_t i = 0; i < m->nr && m->h.gen > seen; i++)
			if (m->e[i].seq > seen && m->e[i].seq <= m->h.gen)
				*released += (unsigned)serve_one(p, o, &m->e[i], fn, arg);
	}
	return 0;
}

/* ---- status blocks ---- */

int vl_status_write_locked(struct vl_pool *p)
{
	uint64_t me = p->sh.ls.host_id;
	if (!p->sh.on || !host_ok(me) || !p->sh.st_rep)
		return 0;
	VL_AUTOFREE struct vl_status *s = aligned_alloc(VL_BLK, VL_BLK);
	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	uint32_t n = p->sb.shared.nr_slots < VL_STATUS_SLOTS ? p->sb.shared.nr_slots : VL_STATUS_SLOTS;
	VL_LOCK_SCOPE(&p->sh.st_lock);
	for (uint32_t i = 0; i < n; i++) {
		const struct vl_vol *v = p->slots[i];
		s->vol[i].ao_host = p->sh.st_rep[i].ao_host;
		s->vol[i].flags = p->sh.st_rep[i].flags & (VL_STF_EXPORTED | VL_STF_MOVING);
		if (v && v->lease_held) {
			s->vol[i].flags |= VL_STF_OWNED;
			s->vol[i].epoch = (uint32_t)v->owner_epoch;
		}
	}
	s->h.type = VL_BT_STATUS;
	s->h.version = VL_FORMAT_SHARED;
	s->h.gen = ++p->sh.st_beat;
	memcpy(s->h.pool_uuid, p->uuid, 16);
	memcpy(s->h.obj_uuid, p->uuid, 16);
	s->h.index = me;
	s->host_id = me;
	s->time = (uint64_t)time(NULL);
	memcpy(s->name, p->sh.st_name, sizeof(s->name));
	s->nr_slots = n;
	s->nr_results = VL_STATUS_RESULTS;
	memcpy(s->res, p->sh.st_res, sizeof(s->res));
	vl_blk_seal(s);
	return vl_io_write(p, lease_member(p), s, VL_BLK, status_off(p, me), true);
}

int vl_pool_publish(struct vl_pool *p, const char *name, const struct vl_slot_report *rep,
		    uint32_t n)
{
	if (!p->is_shared || !p->sh.on || !p->sh.st_rep)
		return 0;
	if (n > VL_STATUS_SLOTS)
		n = VL_STATUS_SLOTS;
	pthread_mutex_lock(&p->sh.st_lock);
	bool same = !strncmp(p->sh.st_name, name ? name : "", sizeof(p->sh.st_name) - 1) &&
		    !memcmp(p->sh.st_rep, rep, n * sizeof(*rep));
	snprintf(p->sh.st_name, sizeof(p->sh.st_name), "%s", name ? name : "");
	memcpy(p->sh.st_rep, rep, n * sizeof(*rep));
	pthread_mutex_unlock(&p->sh.st_lock);
	if (same)
		return 0;
	VL_LOCK_SCOPE(&p->lock);
	return vl_status_write_locked(p);
}

int vl_pool_beat(struct vl_pool *p)
{
	if (!p->is_shared || !p->sh.on)
		return 0;
	/* a release or a pool change holds the lock for a while: never wait for it here */
	if (pthread_mutex_trylock(&p->lock))
		return -EAGAIN;
	int r = vl_status_write_locked(p);
	pthread_mutex_unlock(&p->lock);
	return r;
}

void vl_pool_note_result(struct vl_pool *p, uint64_t from, uint64_t seq, uint32_t slot, int err,
			 unsigned wait_ms, unsigned acquire_ms)
{
	if (!p->is_shared)
		return;
	pthread_mutex_lock(&p->sh.st_lock);
	struct vl_status_result *x = &p->sh.st_res[p->sh.st_res_next++ % VL_STATUS_RESULTS];
	*x = (struct vl_status_result){.seq = seq, .from = (uint32_t)from, .slot = slot,
				       .err = err, .wait_ms = wait_ms, .acquire_ms = acquire_ms};
	pthread_mutex_unlock(&p->sh.st_lock);
	(void)vl_pool_beat(p);
}

int vl_pool_read_status(struct vl_pool *p, struct vl_blade_status *st)
{
	memset(st, 0, VL_STATUS_HOSTS * sizeof(*st));
	if (!p->is_shared)
		return -EINVAL;
	size_t len = (size_t)VL_MSG_HOSTS * VL_BLK;
	VL_AUTOFREE uint8_t *buf = aligned_alloc(VL_BLK, len);
	if (!buf)
		return -ENOMEM;
	int r = vl_io_read(p, lease_member(p), buf, len, status_off(p, 1));
	if (r)
		return r;
	for (uint64_t h = 1; h <= VL_MSG_HOSTS; h++) {
		const struct vl_status *s = (const void *)(buf + (h - 1) * VL_BLK);
		struct vl_blade_status *o = &st[h - 1];
		if (vl_blk_verify(s, VL_BT_STATUS, p->uuid, p->uuid, h) || s->host_id != h ||
		    s->nr_slots > VL_STATUS_SLOTS || s->nr_results > VL_STATUS_RESULTS)
			continue;
		o->present = true;
		o->host_id = h;
		o->beat = s->h.gen;
		o->time = s->time;
		memcpy(o->name, s->name, sizeof(s->name));
		o->name[sizeof(s->name)] = 0;
		for (char *c = o->name; *c; c++) /* for people and logs: printable only */
			if (*c < 0x21 || *c > 0x7e)
				*c = '?';
		o->nr_vols = s->nr_slots;
		o->nr_results = s->nr_results;
		for (uint32_t i = 0; i < s->nr_results; i++) {
			o->res[i].seq = s->res[i].seq;
			o->res[i].from = s->res[i].from;
			o->res[i].err = s->res[i].err;
			o->res[i].slot = s->res[i].slot;
			o->res[i].wait_ms = s->res[i].wait_ms;
			o->res[i].acquire_ms = s->res[i].acquire_ms;
		}
		for (uint32_t i = 0; i < s->nr_slots; i++) {
			o->vol[i].ao_host = s->vol[i].ao_host;
			o->vol[i].flags = s->vol[i].flags;
			o->vol[i].epoch = s->vol[i].epoch;
		}
	}
	return 0;
}

uint64_t vl_status_owner(const struct vl_blade_status *st, uint32_t slot, uint32_t *epoch)
{
	uint64_t owner = 0;
	uint32_t best = 0;
	for (uint32_t h = 0; h < VL_STATUS_HOSTS && slot < VL_STATUS_SLOTS; h++) {
		const struct vl_blade_status *s = &st[h];
		if (!s->present || slot >= s->nr_vols || !(s->vol[slot].flags & VL_ST_OWNED))
			continue;
		/* epochs grow at every acquire; wrap-around after 2^32 acquires is compared
		 * modulo 2^32 */
		if (!owner || (int32_t)(s->vol[slot].epoch - best) > 0) {
			owner = s->host_id;
			best = s->vol[slot].epoch;
		}
	}
	if (epoch)
		*epoch = best;
	return owner;
}
