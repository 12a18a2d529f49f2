/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pools: creation, assembly from members, growth, destruction, checking. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define VT_CHUNK_SLOTS 128u

static struct vl_pool *pool_new(unsigned flags)
{
	struct vl_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->alloc_lock, NULL);
	pthread_mutex_init(&p->fault_lock, NULL);
	pthread_mutex_init(&p->sh.ag_lock, NULL);
	pthread_mutex_init(&p->sh.msg_lock, NULL);
	pthread_mutex_init(&p->sh.st_lock, NULL);
	for (int i = 0; i < VL_MAX_MEMBERS; i++) {
		p->m[i].fd = -1;
		pthread_mutex_init(&p->sync_lock[i], NULL);
	}
	p->flags = flags;
	return p;
}

static void member_release(struct vl_member *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	free(m->path);
	m->path = NULL;
	free(m->bm);
	m->bm = NULL;
}

void vl_pool_close(struct vl_pool *p)
{
	if (!p)
		return;
	if (p->slots && p->sh.on) /* owned volumes: committed, flushed, released */
		for (uint32_t s = 0; s < p->sb.max_volumes; s++)
			if (p->slots[s] && !atomic_load(&p->failed))
				(void)vl_vol_release(p->slots[s]);
	if (p->slots) {
		for (uint32_t s = 0; s < p->sb.max_volumes; s++) {
			struct vl_vol *v = p->slots[s];
			if (!v)
				continue;
			if (!(p->flags & VL_OPEN_RDONLY) && !atomic_load(&p->failed))
				(void)vl_vol_commit(v);
			vl_vol_free(v);
		}
	}
	vl_shared_close(p);
	while (p->gone) {
		struct vl_vol *v = p->gone;
		p->gone = v->gone_next;
		vl_vol_free(v);
	}
	for (int i = 0; i < VL_MAX_MEMBERS; i++)
		member_release(&p->m[i]);
	for (size_t i = 0; i < p->nr_findings; i++)
		free(p->findings[i]);
	for (size_t i = 0; i < p->nr_undo; i++)
		free(p->undo[i].old);
	free(p->undo);
	free(p->findings);
	free(p->slots);
	free(p->slot_gen);
	free(p->slot_copy);
	free(p->meta_bm);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->alloc_lock);
	pthread_mutex_destroy(&p->fault_lock);
	pthread_mutex_destroy(&p->sh.ag_lock);
	pthread_mutex_destroy(&p->sh.msg_lock);
	pthread_mutex_destroy(&p->sh.st_lock);
	vl_msg_free(p);
	for (int i = 0; i < VL_MAX_MEMBERS; i++)
		pthread_mutex_destroy(&p->sync_lock[i]);
	free(p);
}

/* ---- superblocks ---- */

/* The superblock as member `mi` stores it (identity fields are per member). */
static void sb_for_member(const struct vl_sb *auth, uint32_t mi, uint64_t gen, struct vl_sb *out)
{
	*out = *auth;
	out->h.type = VL_BT_SB;
	out->h.gen = gen;
	out->h.index = mi;
	memcpy(out->h.obj_uuid, auth->members[mi].uuid, 16);
	vl_blk_seal(out);
}

static int read_sb_slots(int fd, struct vl_sb slot[2], bool ok[2])
{
	for (int s = 0; s < 2; s++) {
		ok[s] = false;
		ssize_t n = pread(fd, &slot[s], VL_BLK, (off_t)s * VL_BLK);
		if (n < 0)
			return -errno;
		if (n == VL_BLK && vl_blk_verify(&slot[s], VL_BT_SB, NULL, NULL, UINT64_MAX) == 0 &&
		    vl_sb_validate(&slot[s], NULL) == 0)
			ok[s] = true;
	}
	return 0;
}

static int best_sb(int fd, struct vl_sb *out, bool *both_ok)
{
	struct vl_sb *slot = aligned_alloc(VL_BLK, 2 * VL_BLK);
	if (!slot)
		return -ENOMEM;
	bool ok[2];
	int r = read_sb_slots(fd, slot, ok);
	if (!r) {
		if (!ok[0] && !ok[1])
			r = -ENODATA;
		else {
			int b = ok[0] && (!ok[1] || slot[0].h.gen > slot[1].h.gen) ? 0 : 1;
			*out = slot[b];
			if (both_ok)
				*both_ok = ok[0] && ok[1] && (slot[b].h.gen % 2 == (uint64_t)b);
		}
	}
	free(slot);
	return r;
}

/* Write generation `gen` of the pool superblock to member mi's slot gen%2. */
static int write_sb(struct vl_pool *p, uint32_t mi, const struct vl_sb *auth, uint64_t gen)
{
	struct vl_sb *b = aligned_alloc(VL_BLK, VL_BLK);
	if (!b)
		return -ENOMEM;
	sb_for_member(auth, mi, gen, b);
	int r = vl_io_write(p, mi, b, VL_BLK, (gen % 2) * VL_BLK, true);
	free(b);
	return r;
}

int vl_sb_commit(struct vl_pool *p, const struct vl_sb *nsb)
{
	uint64_t gen = p->sb.h.gen + 1;
	for (uint32_t k = 0; k < p->nr_members; k++) {
		int r = write_sb(p, k, nsb, gen);
		if (!r)
			r = vl_io_sync(p, k);
		if (r) {
			atomic_store(&p->failed, true);
			return r;
		}
	}
	p->sb = *nsb;
	p->sb.h.gen = gen;
	p->is_shared = nsb->h.version == VL_FORMAT_SHARED;
	return 0;
}

int vl_member_identify(const char *path, struct vl_member_ident *id)
{
	struct vl_member m = {.fd = -1};
	int r = vl_member_open(&m, path, true, NULL);
	if (r)
		return r;
	struct vl_sb sb;
	r = best_sb(m.fd, &sb, NULL);
	member_release(&m);
	if (r)
		return r;
	memcpy(id->pool_uuid, sb.h.pool_uuid, 16);
	memcpy(id->member_uuid, sb.h.obj_uuid, 16);
	memcpy(id->pool_name, sb.pool_name, sizeof(id->pool_name));
	id->pool_name[VL_NAME_MAX] = 0;
	id->index = (uint32_t)sb.h.index;
	id->nr_members = sb.nr_members;
	id->generation = sb.h.gen;
	return 0;
}

/* ---- opening ---- */

struct cand {
	struct vl_member m;
	struct vl_sb sb;
	bool both_ok;
	dev_t dev;
	ino_t ino;
};

static int setup_allocators(struct vl_pool *p)
{
	for (uint32_t i = 0; i < p->nr_members; i++) {
		struct vl_member *m = &p->m[i];
		m->nr_ext = p->sb.members[i].extents;
		m->nr_free = m->nr_ext;
		m->bm = calloc((m->nr_ext + 63) / 64 + 1, 8);
		if (!m->bm)
			return -ENOMEM;
		snprintf(m->health, sizeof(m->health), "ok");
	}
	p->meta_bm = calloc((p->sb.meta_blocks + 63) / 64, 8);
	p->slots = calloc(p->sb.max_volumes, sizeof(*p->slots));
	p->slot_gen = calloc(p->sb.max_volumes, sizeof(*p->slot_gen));
	p->slot_copy = calloc(p->sb.max_volumes, 1);
	if (!p->meta_bm || !p->slots || !p->slot_gen || !p->slot_copy)
		return -ENOMEM;
	p->meta_bm[0] = 1; /* block 0 means "none" */
	p->meta_free = p->sb.meta_blocks - 1;
	return 0;
}

static bool is_mirror(const struct vl_pool *p, uint32_t mi)
{
	for (uint32_t k = 0; k < p->sb.nr_mirrors; k++)
		if (p->sb.mirrors[k] == mi)
			return true;
	return false;
}

/* Load the volume table: newest valid header of every slot, repairing copies. */
static int load_volumes(struct vl_pool *p)
{
	uint32_t nm = p->sb.nr_mirrors;
	size_t chunk = (size_t)VT_CHUNK_SLOTS * 2 * VL_BLK;
	uint8_t *buf = aligned_alloc(VL_BLK, chunk * nm);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	for (uint32_t s0 = 0; s0 < p->sb.max_volumes && !r; s0 += VT_CHUNK_SLOTS) {
		uint32_t ns = p->sb.max_volumes - s0 < VT_CHUNK_SLOTS ? p->sb.max_volumes - s0
								     : VT_CHUNK_SLOTS;
		for (uint32_t k = 0; k < nm && !r; k++)
			r = vl_io_read(p, p->sb.mirrors[k], buf + k * chunk, (size_t)ns * 2 * VL_BLK,
				       vl_vt_off(p, s0, 0));
		for (uint32_t s = 0; s < ns && !r; s++) {
			const struct vl_volhdr *best = NULL;
			uint32_t best_copy = 0;
			for (uint32_t k = 0; k < nm; k++)
				for (uint32_t c = 0; c < 2; c++) {
					const struct vl_volhdr *vh =
						(const void *)(buf + k * chunk +
							       ((size_t)s * 2 + c) * VL_BLK);
					if (vl_blk_verify(vh, VL_BT_VOL, p->uuid, NULL, s0 + s) ||
					    vl_volhdr_validate(vh, &p->sb, NULL))
						continue;
					if (!best || vh->h.gen > best->h.gen) {
						best = vh;
						best_copy = c;
					}
				}
			if (!best)
				continue;
			p->slot_gen[s0 + s] = best->h.gen;
			p->slot_copy[s0 + s] = (uint8_t)best_copy;
			/* every mirror must hold the newest header in the same copy */
			for (uint32_t k = 0; k < nm; k++) {
				const void *mine = buf + k * chunk + ((size_t)s * 2 + best_copy) * VL_BLK;
				if (memcmp(mine, best, VL_BLK) == 0)
					continue;
				uint32_t mi = p->sb.mirrors[k];
				if (!(p->flags & VL_OPEN_RDONLY) && !p->is_shared &&
				    vl_io_write(p, mi, best, VL_BLK, vl_vt_off(p, s0 + s, best_copy),
						true) == 0) {
					p->repairs++;
					vl_pool_finding(p, "repaired: volume table slot %u on %s "
							   "(stale or bad copy rewritten)",
							s0 + s, p->m[mi].path);
				} else {
					vl_pool_finding(p, "stale copy: volume table slot %u on %s",
							s0 + s, p->m[mi].path);
				}
			}
			if (best->state != VL_VOL_LIVE)
				continue;
			struct vl_vol *v;
			r = vl_vol_load(p, best, best_copy, false, &v);
			if (r)
				break;
			if (vl_vol_find(p, v->name)) {
				vl_pool_finding(p, "volume name %s used by two slots; slot %u is "
						   "marked damaged",
						v->name, v->slot);
				v->damaged = v->unfixable = true;
				snprintf(v->damage, sizeof(v->damage), "duplicate name");
			}
			p->slots[s0 + s] = v;
			p->nr_vols++;
		}
	}
	free(buf);
	if (!r && p->repairs && !(p->flags & VL_OPEN_RDONLY))
		r = vl_meta_sync(p);
	return r;
}

static void fmt_uuid(const uint8_t *u, char out[37]) { vl_uuid_unparse(u, out); }

int vl_pool_open(const char *const *paths, size_t n, unsigned flags, struct vl_pool **out,
		 struct vl_diag *d)
{
	return vl_pool_open_opts(paths, n, flags, NULL, out, d);
}

int vl_pool_open_opts(const char *const *paths, size_t n, unsigned flags,
		      const struct vl_pool_open_opts *opts, struct vl_pool **out, struct vl_diag *d)
{
	if (n == 0)
		return vl_diag_set(d, -EINVAL, "no member devices given");
	if (n > VL_MAX_MEMBERS)
		return vl_diag_set(d, -EINVAL, "too many devices (at most %d)", VL_MAX_MEMBERS);
	bool rdonly = flags & VL_OPEN_RDONLY;
	struct vl_pool *p = pool_new(flags);
	struct cand *c = calloc(n, sizeof(*c));
	int r = 0;
	char u1[37];
	if (!p || !c) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		c[i].m.fd = -1;
	for (size_t i = 0; i < n && !r; i++) {
		if ((r = vl_member_open(&c[i].m, paths[i], rdonly, d)))
			break;
		struct stat st;
		fstat(c[i].m.fd, &st);
		c[i].dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
		c[i].ino = S_ISBLK(st.st_mode) ? 0 : st.st_ino;
		for (size_t j = 0; j < i; j++)
			if (c[j].dev == c[i].dev && c[j].ino == c[i].ino) {
				r = vl_diag_set(d, -EINVAL, "%s and %s are the same device; pass it once",
						paths[j], paths[i]);
				goto out;
			}
		r = best_sb(c[i].m.fd, &c[i].sb, &c[i].both_ok);
		if (r == -ENODATA) {
			r = vl_diag_set(d, -ENODATA,
					"%s is not a vlun pool member (no valid superblock)",
					paths[i]);
			goto out;
		} else if (r) {
			vl_diag_set(d, r, "%s: cannot read superblock: %s", paths[i], strerror(-r));
			goto out;
		}
	}
	if (r)
		goto out;
	/* all from one pool? */
	for (size_t i = 1; i < n; i++)
		if (memcmp(c[i].sb.h.pool_uuid, c[0].sb.h.pool_uuid, 16) != 0) {
			fmt_uuid(c[i].sb.h.pool_uuid, u1);
			r = vl_diag_set(d, -EXDEV,
					"%s belongs to another pool (%s, uuid %s), not to pool %s; "
					"leave it out",
					paths[i], c[i].sb.pool_name, u1, c[0].sb.pool_name);
			goto out;
		}
	size_t a = 0;
	for (size_t i = 1; i < n; i++)
		if (c[i].sb.h.gen > c[a].sb.h.gen)
			a = i;
	const struct vl_sb *auth = &c[a].sb;
	/* duplicates and strangers */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (memcmp(c[i].sb.h.obj_uuid, c[j].sb.h.obj_uuid, 16) == 0) {
				fmt_uuid(c[i].sb.h.obj_uuid, u1);
				r = vl_diag_set(d, -EINVAL,
						"%s and %s are both member %" PRIu64
						" (uuid %s) of pool %s: one is a copy; pass only the "
						"real one",
						paths[j], paths[i], c[i].sb.h.index, u1, auth->pool_name);
				goto out;
			}
		bool known = false;
		for (uint32_t k = 0; k < auth->nr_members; k++)
			known |= memcmp(auth->members[k].uuid, c[i].sb.h.obj_uuid, 16) == 0;
		if (!known) {
			r = vl_diag_set(d, -EINVAL,
					"%s claims to be a member of pool %s but is not in its "
					"current member list (a stale or removed member); leave it out",
					paths[i], auth->pool_name);
			goto out;
		}
	}
	/* place members by index; report missing ones by name */
	char missing[512] = "";
	for (uint32_t k = 0; k < auth->nr_members; k++) {
		size_t found = n;
		for (size_t i = 0; i < n; i++)
			if (memcmp(auth->members[k].uuid, c[i].sb.h.obj_uuid, 16) == 0)
				found = i;
		if (found == n) {
			fmt_uuid(auth->members[k].uuid, u1);
			size_t l = strlen(missing);
			snprintf(missing + l, sizeof(missing) - l, "%s#%u (uuid %s)", l ? ", " : "", k,
				 u1);
			continue;
		}
		p->m[k] = c[found].m;
		c[found].m.fd = -1;
		c[found].m.path = NULL;
	}
	if (missing[0]) {
		r = vl_diag_set(d, -ENODEV,
				"pool %s is missing member %s; pass every member device (see "
				"'vlunctl pool assemble')",
				auth->pool_name, missing);
		goto out;
	}
	p->sb = *auth;
	memcpy(p->uuid, auth->h.pool_uuid, 16);
	p->nr_members = auth->nr_members;
	p->extent_size = auth->extent_size;
	p->ext_shift = (unsigned)__builtin_ctzll(auth->extent_size);
	long pg = sysconf(_SC_PAGESIZE);
	p->page_mask = pg > 0 ? (uint64_t)pg - 1 : 4095;
	for (uint32_t k = 0; k < p->nr_members; k++) {
		if (p->m[k].size < auth->members[k].size) {
			r = vl_diag_set(d, -EINVAL,
					"%s is smaller (%" PRIu64 " bytes) than when it joined pool "
					"%s (%" PRIu64 " bytes)",
					p->m[k].path, p->m[k].size, auth->pool_name,
					auth->members[k].size);
			goto out;
		}
	}
	p->is_shared = auth->h.version == VL_FORMAT_SHARED;
	if (p->is_shared && !rdonly && !(opts && opts->lease)) {
		r = vl_diag_set(d, -ENOLCK,
				"pool %s is shared between blades (format 2): it opens for writing "
				"only through its lockspace. Start sanlock (systemctl start wdmd "
				"sanlock) and open it with this blade's host id (vlun.conf [blade] "
				"host_id, vlunctl --host-id), or read it with a read-only command",
				auth->pool_name);
		goto out;
	}
	for (uint32_t k = 0; k < p->nr_members && p->is_shared; k++)
		if ((r = vl_io_direct(&p->m[k]))) {
			vl_diag_set(d, r, "%s: cannot open it for direct I/O (O_DIRECT), which a "
					  "shared pool needs: %s",
				    p->m[k].path, strerror(-r));
			goto out;
		}
	/* a shared pool is guarded by its lockspace, which is not node-local like flock */
	if (!(flags & (VL_OPEN_RDONLY | VL_OPEN_NOLOCK)) && !p->is_shared) {
		for (uint32_t k = 0; k < p->nr_members; k++)
			if (flock(p->m[k].fd, LOCK_EX | LOCK_NB) < 0) {
				r = vl_diag_set(d, errno == EWOULDBLOCK ? -EBUSY : -errno,
						"%s is in use by another process (a running target or "
						"vlunctl); stop it or use a read-only command",
						p->m[k].path);
				goto out;
			}
	}
	if ((r = setup_allocators(p)))
		goto out;
	/* superblocks that are stale or damaged get the authoritative one (in a shared pool
	 * any blade may: they all write the same) */
	for (uint32_t k = 0; k < p->nr_members && !rdonly; k++) {
		size_t ci = n;
		for (size_t i = 0; i < n; i++)
			if (memcmp(auth->members[k].uuid, c[i].sb.h.obj_uuid, 16) == 0)
				ci = i;
		if (c[ci].sb.h.gen == auth->h.gen && c[ci].both_ok)
			continue;
		r = write_sb(p, k, auth, auth->h.gen);
		if (!r && auth->h.gen > 0)
			r = write_sb(p, k, auth, auth->h.gen - 1);
		if (!r)
			r = vl_io_sync(p, k);
		if (r) {
			vl_diag_set(d, r, "%s: cannot repair superblock: %s", p->m[k].path,
				    strerror(-r));
			goto out;
		}
		p->repairs++;
		vl_pool_finding(p, "repaired: superblock of %s (stale or damaged copy rewritten)",
				p->m[k].path);
	}
	r = load_volumes(p);
	if (r)
		vl_diag_set(d, r, "pool %s: cannot load the volume table: %s", p->sb.pool_name,
			    strerror(-r));
	if (!r && p->is_shared && !rdonly)
		r = vl_shared_open(p, opts, d);
out:
	if (c) {
		for (size_t i = 0; i < n; i++)
			member_release(&c[i].m);
		free(c);
	}
	if (r) {
		vl_pool_close(p);
		return r;
	}
	*out = p;
	return 0;
}

/* ---- creation ---- */

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* Layout shared by all members: volume table, metadata area, data. */
static int plan_layout(struct vl_sb *sb, uint64_t total_bytes, uint64_t meta_bytes)
{
	uint64_t vt_end = VL_VT_OFF + (uint64_t)sb->max_volumes * 2 * VL_BLK;
	uint64_t blocks;
	if (meta_bytes)
		blocks = meta_bytes / VL_BLK;
	else {
		uint64_t ext = total_bytes / sb->extent_size;
		blocks = ext / 2 + 2ull * sb->max_volumes + 64;
	}
	if (blocks < 1024)
		blocks = 1024;
	if (blocks > (1ull << 30))
		blocks = 1ull << 30;
	sb->vt_off = VL_VT_OFF;
	sb->meta_off = vt_end;
	sb->meta_blocks = blocks;
	sb->data_off = align_up(vt_end + blocks * VL_BLK, sb->extent_size);
	return 0;
}

static int member_fill(struct vl_sb *sb, uint32_t i, uint64_t size, struct vl_diag *d,
		       const char *path)
{
	if (size < sb->data_off + sb->extent_size) {
		char need[32];
		vl_format_size(sb->data_off + sb->extent_size, need, sizeof(need));
		return vl_diag_set(d, -ENOSPC, "%s is too small: a member needs at least %s", path,
				   need);
	}
	uint64_t ext = (size - sb->data_off) / sb->extent_size;
	if (ext >= VL_MEMBER_EXT_MAX)
		ext = VL_MEMBER_EXT_MAX - 1;
	struct vl_sb_member *m = &sb->members[i];
	int r = vl_random(m->uuid, 16);
	if (r)
		return r;
	m->uuid[6] = (m->uuid[6] & 0x0f) | 0x40;
	m->uuid[8] = (m->uuid[8] & 0x3f) | 0x80;
	m->size = size;
	m->extents = (uint32_t)ext;
	return 0;
}

static int refuse_if_member(const char *path, struct vl_diag *d)
{
	struct vl_member_ident id;
	if (vl_member_identify(path, &id) == 0) {
		char u[37];
		vl_uuid_unparse(id.pool_uuid, u);
		return vl_diag_set(d, -EEXIST,
				   "%s already belongs to pool %s (uuid %s); destroy that pool "
				   "first (vlunctl pool destroy %s)",
				   path, id.pool_name, u, id.pool_name);
	}
	return 0;
}

int vl_pool_create(const char *name, const char *const *paths, size_t n,
		   const struct vl_pool_create_opts *o, struct vl_pool **out, struct vl_diag *d)
{
	if (!vl_name_valid(name))
		return vl_diag_set(d, -EINVAL,
				   "invalid pool name '%s': use 1-%d of A-Z a-z 0-9 _ - . (not "
				   "starting with . or -)",
				   name, VL_NAME_MAX);
	if (n == 0 || n > VL_MAX_MEMBERS)
		return vl_diag_set(d, -EINVAL, "a pool needs 1 to %d members", VL_MAX_MEMBERS);
	uint64_t es = o && o->extent_size ? o->extent_size : VL_DEFAULT_EXTENT;
	if (es < VL_MIN_EXTENT || es > VL_MAX_EXTENT || (es & (es - 1)))
		return vl_diag_set(d, -EINVAL,
				   "extent size must be a power of two from 64K to 1G");
	uint32_t maxv = o && o->max_volumes ? o->max_volumes : 1024;
	if (maxv > VL_MAX_VOLUMES_LIMIT)
		return vl_diag_set(d, -EINVAL, "at most %u volumes per pool", VL_MAX_VOLUMES_LIMIT);
	struct vl_pool *p = pool_new(0);
	if (!p)
		return -ENOMEM;
	int r = 0;
	struct vl_sb *sb = &p->sb;
	memset(sb, 0, sizeof(*sb));
	snprintf(sb->pool_name, sizeof(sb->pool_name), "%s", name);
	sb->extent_size = es;
	sb->created = (uint64_t)time(NULL);
	sb->nr_members = (uint32_t)n;
	sb->max_volumes = maxv;
	uint64_t total = 0;
	for (size_t i = 0; i < n && !r; i++) {
		if ((r = refuse_if_member(paths[i], d)))
			break;
		if ((r = vl_member_open(&p->m[i], paths[i], false, d)))
			break;
		struct stat a, b;
		fstat(p->m[i].fd, &a);
		for (size_t j = 0; j < i && !r; j++) {
			fstat(p->m[j].fd, &b);
			if ((S_ISBLK(a.st_mode) ? a.st_rdev == b.st_rdev
						: a.st_dev == b.st_dev && a.st_ino == b.st_ino))
				r = vl_diag_set(d, -EINVAL, "%s and %s are the same device", paths[j],
						paths[i]);
		}
		if (!r && flock(p->m[i].fd, LOCK_EX | LOCK_NB) < 0)
			r = vl_diag_set(d, -EBUSY, "%s is in use by another process", paths[i]);
		total += p->m[i].size;
	}
	if (r)
		goto fail;
	plan_layout(sb, total, o ? o->meta_bytes : 0);
	for (size_t i = 0; i < n && !r; i++)
		r = member_fill(sb, (uint32_t)i, p->m[i].size, d, paths[i]);
	if (r)
		goto fail;
	if ((r = vl_random(sb->h.pool_uuid, 16)))
		goto fail;
	sb->h.pool_uuid[6] = (sb->h.pool_uuid[6] & 0x0f) | 0x40;
	sb->h.pool_uuid[8] = (sb->h.pool_uuid[8] & 0x3f) | 0x80;
	memcpy(p->uuid, sb->h.pool_uuid, 16);
	sb->nr_mirrors = n >= 2 ? 2 : 1;
	for (int k = 0; k < 4; k++)
		sb->mirrors[k] = k < (int)sb->nr_mirrors ? (uint32_t)k : VL_NO_MIRROR;
	sb->ag_extents = 0;
	p->nr_members = (uint32_t)n;
	const char *why;
	struct vl_sb check;
	sb_for_member(sb, 0, 1, &check);
	if (vl_sb_validate(&check, &why)) {
		r = vl_diag_set(d, -EINVAL, "internal: superblock invalid: %s", why);
		goto fail;
	}
	/* generation 1 in slot 1, a copy as generation 0 in slot 0 */
	for (uint32_t i = 0; i < n && !r; i++) {
		r = write_sb(p, i, sb, 0);
		if (!r)
			r = write_sb(p, i, sb, 1);
		if (!r)
			r = vl_io_sync(p, i);
	}
	if (r) {
		vl_diag_set(d, r, "writing superblocks failed: %s", strerror(-r));
		goto fail;
	}
	vl_pool_close(p);
	return vl_pool_open(paths, n, 0, out, d);
fail:
	vl_pool_close(p);
	return r;
}

/* ---- growth ---- */

static int copy_range(struct vl_pool *p, uint32_t from, uint32_t to, uint64_t off, uint64_t len)
{
	size_t chunk = 1 << 20;
	uint8_t *buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	while (len && !r) {
		size_t n = len < chunk ? (size_t)len : chunk;
		r = vl_io_read(p, from, buf, n, off);
		if (!r)
			r = vl_io_write(p, to, buf, n, off, true);
		off += n;
		len -= n;
	}
	free(buf);
	return r;
}

int vl_pool_add_member(struct vl_pool *p, const char *path, struct vl_diag *d)
{
	VL_LOCK_SCOPE(&p->lock);
	if (p->flags & VL_OPEN_RDONLY)
		return vl_diag_set(d, -EROFS, "pool is open read-only");
	if (atomic_load(&p->failed))
		return vl_diag_set(d, -EIO, "pool has failed after an I/O error; reopen it");
	if (p->nr_members >= VL_MAX_MEMBERS)
		return vl_diag_set(d, -ENOSPC, "pool already has %d members", VL_MAX_MEMBERS);
	if (p->is_shared)
		return vl_diag_set(d, -EOPNOTSUPP,
				   "adding a member to a shared pool is not supported yet: add it "
				   "before converting the pool");
	int r = refuse_if_member(path, d);
	if (r)
		return r;
	uint32_t k = p->nr_members;
	struct vl_member *m = &p->m[k];
	if ((r = vl_member_open(m, path, false, d)))
		return r;
	struct stat a, b;
	fstat(m->fd, &a);
	for (uint32_t j = 0; j < k && !r; j++) {
		fstat(p->m[j].fd, &b);
		if (S_ISBLK(a.st_mode) ? a.st_rdev == b.st_rdev
				       : a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			r = vl_diag_set(d, -EEXIST, "%s is already member #%u of pool %s", path, j,
					p->sb.pool_name);
	}
	if (!r && flock(m->fd, LOCK_EX | LOCK_NB) < 0)
		r = vl_diag_set(d, -EBUSY, "%s is in use by another process", path);
	struct vl_sb nsb = p->sb;
	if (!r)
		r = member_fill(&nsb, k, m->size, d, path);
	if (r)
		goto undo;
	nsb.nr_members = k + 1;
	bool new_mirror = nsb.nr_mirrors < 2;
	if (new_mirror) {
		/* the new member becomes the second metadata mirror: copy it over */
		r = copy_range(p, p->sb.mirrors[0], k, p->sb.vt_off,
			       p->sb.data_off - p->sb.vt_off);
		if (r) {
			vl_diag_set(d, r, "copying metadata to %s failed: %s", path, strerror(-r));
			goto undo;
		}
		nsb.mirrors[nsb.nr_mirrors++] = k;
	}
	uint64_t gen = p->sb.h.gen + 1;
	/* the new member first: until an old member has the new generation the
	 * pool assembles without it */
	p->nr_members = k + 1;
	r = write_sb(p, k, &nsb, gen);
	if (!r)
		r = write_sb(p, k, &nsb, gen - 1);
	if (!r)
		r = vl_io_sync(p, k);
	for (uint32_t j = 0; j < k && !r; j++) {
		r = write_sb(p, j, &nsb, gen);
		if (!r)
			r = vl_io_sync(p, j);
	}
	if (r) {
		p->nr_members = k;
		atomic_store(&p->failed, true);
		vl_diag_set(d, r, "writing superblocks failed: %s; the pool must be reassembled",
			    strerror(-r));
		goto undo;
	}
	p->sb = nsb;
	p->sb.h.gen = gen;
	m->nr_ext = nsb.members[k].extents;
	m->nr_free = m->nr_ext;
	m->bm = calloc((m->nr_ext + 63) / 64 + 1, 8);
	if (!m->bm) {
		atomic_store(&p->failed, true);
		return -ENOMEM;
	}
	snprintf(m->health, sizeof(m->health), "ok");
	return 0;
undo:
	member_release(m);
	return r;
}

/* ---- destruction ---- */

int vl_pool_destroy(struct vl_pool *p, bool force, struct vl_diag *d)
{
	VL_LOCK_SCOPE(&p->lock);
	if (p->flags & VL_OPEN_RDONLY)
		return vl_diag_set(d, -EROFS, "pool is open read-only");
	char names[512] = "";
	uint32_t open = 0;
	for (uint32_t s = 0; s < p->sb.max_volumes; s++) {
		struct vl_vol *v = p->slots[s];
		if (!v)
			continue;
		open += v->open_count;
		size_t l = strlen(names);
		if (l < sizeof(names) - 80)
			snprintf(names + l, sizeof(names) - l, "%s%s", l ? ", " : "", v->name);
	}
	if (open)
		return vl_diag_set(d, -EBUSY, "pool %s has open volumes; stop serving them first",
				   p->sb.pool_name);
	if (p->nr_vols && !force)
		return vl_diag_set(d, -ENOTEMPTY,
				   "pool %s still has %u volume(s): %s; delete them or pass --force",
				   p->sb.pool_name, p->nr_vols, names);
	uint8_t *z = aligned_alloc(VL_BLK, 2 * VL_BLK);
	if (!z)
		return -ENOMEM;
	memset(z, 0, 2 * VL_BLK);
	int r = 0;
	for (uint32_t i = 0; i < p->nr_members && !r; i++) {
		r = vl_io_write(p, i, z, 2 * VL_BLK, 0, true);
		if (!r)
			r = vl_io_sync(p, i);
	}
	free(z);
	if (r)
		return vl_diag_set(d, r, "wiping superblocks failed: %s", strerror(-r));
	/* nothing left to commit */
	for (uint32_t s = 0; s < p->sb.max_volumes; s++) {
		vl_vol_free(p->slots[s]);
		p->slots[s] = NULL;
	}
	p->nr_vols = 0;
	return 0;
}

/* ---- information ---- */

void vl_pool_get_info(struct vl_pool *p, struct vl_pool_info *in)
{
	VL_LOCK_SCOPE(&p->lock);
	memset(in, 0, sizeof(*in));
	memcpy(in->name, p->sb.pool_name, sizeof(in->name));
	in->name[VL_NAME_MAX] = 0;
	memcpy(in->uuid, p->uuid, 16);
	in->extent_size = p->extent_size;
	in->nr_members = p->nr_members;
	in->nr_volumes = p->nr_vols;
	in->max_volumes = p->sb.max_volumes;
	for (uint32_t i = 0; i < p->nr_members; i++)
		in->total_extents += p->m[i].nr_ext;
	in->free_extents = vl_pool_free_extents(p);
	in->meta_blocks = p->sb.meta_blocks - 1;
	pthread_mutex_lock(&p->alloc_lock);
	in->meta_free_blocks = p->meta_free - p->meta_reserved;
	pthread_mutex_unlock(&p->alloc_lock);
	in->generation = p->sb.h.gen;
	in->repairs = p->repairs;
	bool damaged = false;
	for (uint32_t s = 0; s < p->sb.max_volumes; s++)
		damaged |= p->slots[s] && p->slots[s]->damaged;
	snprintf(in->health, sizeof(in->health), "%s",
		 atomic_load(&p->failed) ? "failed"
		 : damaged		 ? "damaged (run pool check)"
		 : p->sb.nr_mirrors < 2	 ? "ok (single metadata copy)"
					 : "ok");
}

int vl_pool_member_info(struct vl_pool *p, uint32_t idx, struct vl_member_info *mi)
{
	VL_LOCK_SCOPE(&p->lock);
	if (idx >= p->nr_members)
		return -ENOENT;
	struct vl_member *m = &p->m[idx];
	memset(mi, 0, sizeof(*mi));
	snprintf(mi->path, sizeof(mi->path), "%s", m->path ? m->path : "");
	memcpy(mi->uuid, p->sb.members[idx].uuid, 16);
	mi->index = idx;
	mi->size = m->size;
	mi->extents = m->nr_ext;
	pthread_mutex_lock(&p->alloc_lock);
	mi->free_extents = m->nr_free;
	pthread_mutex_unlock(&p->alloc_lock);
	mi->present = m->fd >= 0;
	mi->meta_mirror = is_mirror(p, idx);
	snprintf(mi->health, sizeof(mi->health), "%s", m->health[0] ? m->health : "ok");
	return 0;
}
