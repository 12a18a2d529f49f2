/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VLUN_INTERNAL_H
#define VLUN_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "format.h"
#include "vlun/engine.h"

#define VL_HIDDEN __attribute__((visibility("hidden")))
#define VL_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- scope cleanup ---- */
static inline void vl_freep(void *p) { free(*(void **)p); }
#define VL_AUTOFREE __attribute__((cleanup(vl_freep)))
static inline void vl_unlockp(pthread_mutex_t **m)
{
	if (*m)
		pthread_mutex_unlock(*m);
}
#define VL_CAT2(a, b) a##b
#define VL_CAT(a, b) VL_CAT2(a, b)
#define VL_LOCK_SCOPE(m) VL_LOCK_SCOPE_(VL_CAT(vl_scope_lock_, __LINE__), m)
#define VL_LOCK_SCOPE_(var, m)                                                 \
	pthread_mutex_t *var __attribute__((cleanup(vl_unlockp))) = (m);       \
	pthread_mutex_lock(var)

VL_HIDDEN int vl_diag_set(struct vl_diag *d, int err, const char *fmt, ...) VL_PRINTF(3, 4);

/* Append to a growable uint32_t array: 0 or -ENOMEM. */
static inline int vl_u32_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		uint32_t *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* ---- members ---- */
struct vl_member {
	int fd;
	char *path;
	uint8_t uuid[16];
	uint64_t size;         /* device size now */
	uint32_t nr_ext;       /* data extents */
	bool is_bdev;
	bool punch_ok;         /* fallocate(PUNCH_HOLE) works */
	bool in_memory;        /* tmpfs/ramfs: a read never waits for a device */
	atomic_bool no_nowait; /* RWF_NOWAIT refused (EOPNOTSUPP): such reads go to a waiter */
	atomic_bool data_dirty;
	bool direct;           /* opened O_DIRECT (shared pools): buffers must be aligned */
	uint32_t dio_align;    /* what O_DIRECT needs of offsets, lengths and buffers */
	/* allocator: bit set = extent in use */
	uint64_t *bm;
	uint32_t nr_free;
	uint32_t hint;
	char health[64];
};

/* An undo record for crash simulation. */
struct vl_undo {
	uint32_t member;
	uint64_t off;
	size_t len;
	uint8_t *old;
};

/* ---- in-memory map of one volume ---- */
struct vl_mapdir {
	uint32_t n;                       /* leaves (map pages) covered */
	struct vl_mapdir *older;          /* superseded dirs, freed at close */
	_Atomic(uint32_t *) leaf[];
};

struct vl_pefree {
	uint32_t *v;
	size_t n, cap;
};

struct vl_vol {
	struct vl_pool *pool;
	char name[VL_NAME_MAX + 1];
	uint8_t uuid[16];
	uint32_t slot;
	uint32_t cur_copy;                /* 0/1: volume-table copy holding `gen` */
	uint64_t gen;
	uint64_t created;
	_Atomic uint64_t size;
	enum vl_layout layout;
	bool thick;
	uint64_t owner_node, owner_epoch;
	bool damaged;                     /* metadata problem: refuse I/O */
	bool unfixable;                   /* ... that check --repair cannot fix */
	char damage[256];

	_Atomic(struct vl_mapdir *) dir;
	uint32_t *leaf_blk;               /* per leaf: committed meta block, 0 = none */
	uint8_t *leaf_dirty;
	uint32_t leaf_cap;                /* capacity of leaf_blk / leaf_dirty */
	uint32_t nr_idx;
	uint32_t idx_blk[VL_HDR_INDEX_MAX];
	uint32_t nr_dirty;
	bool hdr_dirty;
	uint64_t meta_reserved;
	struct vl_pefree pending;         /* extents freed, not yet committed */
	_Atomic uint64_t nr_alloc;

	/* shared pools: only the owner does I/O (single-blade pools: always true) */
	atomic_bool owned;
	bool lease_held;                  /* this blade holds the volume's lease */
	bool fenced;                      /* a newer owner was seen on disk */
	bool gone;                        /* deleted by another blade while open here */
	unsigned last_acquire_ms;         /* the last successful acquire took this long */
	struct vl_vol *gone_next;         /* list of those, freed at pool close */

	pthread_mutex_t lock;             /* map changes */
	pthread_mutex_t commit_lock;      /* one commit at a time */
	uint32_t open_count;

	/* grace periods: I/O in flight per epoch parity */
	_Atomic uint64_t inflight[2];
	_Atomic uint32_t epoch;
};

/* A shared pool opened with leases (format 2). */
struct vl_shared {
	bool on;
	const struct vl_lease_ops *ops;
	void *ctx;
	struct vl_lease_space ls;         /* name, path, offset, host id */
	uint64_t ag_held[VL_AG_MAX / 64]; /* allocation groups whose lease this blade holds */
	uint32_t nr_held;
	uint64_t change_seq;              /* change record generation last acted on */
	pthread_mutex_t ag_lock;          /* one allocation-group acquisition at a time */
	/* message slots (host ids 1..VL_MSG_HOSTS): last sequence sent to / seen from */
	pthread_mutex_t msg_lock;
	uint64_t msg_sent[VL_MSG_HOSTS + 1];
	uint64_t msg_seen[VL_MSG_HOSTS + 1];
	struct vl_msg_entry (*msg_out)[VL_MSG_ENTRIES]; /* per recipient: the last requests */
	uint32_t msg_out_nr[VL_MSG_HOSTS + 1];
	/* this blade's status block (msg.c) */
	pthread_mutex_t st_lock;
	char st_name[64];
	struct vl_slot_report *st_rep;    /* nr_slots entries: the caller's view */
	struct vl_status_result st_res[VL_STATUS_RESULTS];
	uint32_t st_res_next;
	uint64_t st_beat;
};

struct vl_pool {
	pthread_mutex_t lock;             /* admin operations (outermost lock) */
	pthread_mutex_t alloc_lock;       /* extent and metadata allocators (innermost) */
	struct vl_sb sb;                  /* authoritative superblock (member fields of member 0) */
	uint8_t uuid[16];
	struct vl_member m[VL_MAX_MEMBERS];
	uint32_t nr_members;
	uint64_t extent_size;
	unsigned ext_shift;
	uint64_t page_mask; /* the page cache's page size - 1 */
	unsigned flags;
	atomic_bool failed;

	uint64_t *meta_bm;                /* bit set = block in use */
	uint64_t meta_free;
	uint64_t meta_reserved;
	uint64_t meta_hint;

	struct vl_vol **slots;            /* by slot, NULL = free */
	uint64_t *slot_gen;               /* newest generation seen in each slot */
	uint8_t *slot_copy;               /* table copy (0/1) holding it */
	uint32_t nr_vols;
	uint32_t repairs;
	char **findings;                  /* problems seen at open, for check */
	size_t nr_findings;

	bool is_shared;                   /* format 2: never repaired here, O_DIRECT */
	struct vl_shared sh;
	struct vl_vol *gone;              /* volumes deleted elsewhere while open here */

	struct vl_fault *fault;
	struct vl_undo *undo;
	size_t nr_undo, cap_undo;
	pthread_mutex_t fault_lock;
	/* per member: a data sync in progress; a flush that finds the member clean waits for
	 * it, else it could report durability before that fdatasync has finished */
	pthread_mutex_t sync_lock[VL_MAX_MEMBERS];
};

/* io.c */
VL_HIDDEN int vl_io_read(struct vl_pool *p, uint32_t mi, void *buf, size_t len, uint64_t off);
VL_HIDDEN int vl_io_write(struct vl_pool *p, uint32_t mi, const void *buf, size_t len,
			  uint64_t off, bool meta);
VL_HIDDEN int vl_io_readv(struct vl_pool *p, uint32_t mi, const struct iovec *iov, int cnt,
			  size_t len, uint64_t off);
/* -EAGAIN rather than wait for the device (RWF_NOWAIT); part may have been read */
VL_HIDDEN int vl_io_readv_nowait(struct vl_pool *p, uint32_t mi, const struct iovec *iov,
				 int cnt, size_t len, uint64_t off);
VL_HIDDEN int vl_io_writev(struct vl_pool *p, uint32_t mi, const struct iovec *iov, int cnt,
			   size_t len, uint64_t off, bool fua);
VL_HIDDEN int vl_io_sync(struct vl_pool *p, uint32_t mi);
/* vl_io_sync if the member has data written since its last sync (or one is running) */
VL_HIDDEN int vl_io_sync_dirty(struct vl_pool *p, uint32_t mi);
/* 0 when the range of a member file is a hole (reads zeros, nothing to zero), else -EAGAIN */
VL_HIDDEN int vl_io_is_hole(struct vl_pool *p, uint32_t mi, uint64_t off, uint64_t len);
VL_HIDDEN int vl_io_zero(struct vl_pool *p, uint32_t mi, uint64_t off, uint64_t len,
			  bool dealloc);
VL_HIDDEN int vl_member_open(struct vl_member *m, const char *path, bool rdonly,
			     struct vl_diag *d);
VL_HIDDEN void vl_undo_clear(struct vl_pool *p, uint32_t mi);
/* switch a member to O_DIRECT (shared pools) */
VL_HIDDEN int vl_io_direct(struct vl_member *m);

/* alloc.c */
VL_HIDDEN int vl_ext_alloc(struct vl_pool *p, uint32_t prefer, bool striped, uint32_t *entry);
VL_HIDDEN void vl_ext_free(struct vl_pool *p, uint32_t entry);
VL_HIDDEN bool vl_ext_mark(struct vl_pool *p, uint32_t entry); /* false if already used */
VL_HIDDEN int vl_meta_reserve(struct vl_pool *p, uint64_t n);
VL_HIDDEN void vl_meta_unreserve(struct vl_pool *p, uint64_t n);
VL_HIDDEN uint32_t vl_meta_alloc_reserved(struct vl_pool *p);
VL_HIDDEN void vl_meta_free(struct vl_pool *p, uint32_t blk);
VL_HIDDEN bool vl_meta_mark(struct vl_pool *p, uint32_t blk);
VL_HIDDEN uint64_t vl_pool_free_extents(struct vl_pool *p);
/* shared pools: allocation groups */
VL_HIDDEN uint64_t vl_ag_lo(uint64_t n, uint32_t nr_ags, uint32_t g); /* first item of g */
VL_HIDDEN void vl_ag_recount(struct vl_pool *p); /* caller holds alloc_lock */
VL_HIDDEN void vl_mark_union_ext(struct vl_pool *p, uint32_t entry);
VL_HIDDEN void vl_mark_union_meta(struct vl_pool *p, uint32_t blk);

/* meta.c: redundant metadata block I/O */
VL_HIDDEN int vl_meta_write_blk(struct vl_pool *p, uint64_t off, const void *blk);
VL_HIDDEN int vl_meta_sync(struct vl_pool *p);
VL_HIDDEN int vl_meta_read_blk(struct vl_pool *p, uint64_t off, void *blk, uint16_t type,
			       const uint8_t *obj_uuid, uint64_t index, bool repair);
VL_HIDDEN void vl_pool_finding(struct vl_pool *p, const char *fmt, ...) VL_PRINTF(2, 3);
static inline uint64_t vl_meta_blk_off(const struct vl_pool *p, uint32_t blk)
{
	return p->sb.meta_off + (uint64_t)blk * VL_BLK;
}
static inline uint64_t vl_vt_off(const struct vl_pool *p, uint32_t slot, uint32_t copy)
{
	return p->sb.vt_off + ((uint64_t)slot * 2 + copy) * VL_BLK;
}
static inline uint64_t vl_ext_off(const struct vl_pool *p, uint32_t local)
{
	return p->sb.data_off + ((uint64_t)local << p->ext_shift);
}

/* pool.c: write generation gen+1 of the superblock (nsb) to every member */
VL_HIDDEN int vl_sb_commit(struct vl_pool *p, const struct vl_sb *nsb);

/* shared.c */
VL_HIDDEN int vl_shared_open(struct vl_pool *p, const struct vl_pool_open_opts *o,
			     struct vl_diag *d);
VL_HIDDEN void vl_shared_close(struct vl_pool *p);
/* another allocation group: 0, or -ENOSPC when none can be had */
VL_HIDDEN int vl_ag_grow(struct vl_pool *p);
/* before a commit: -ESTALE when the disk holds a newer owner or generation */
VL_HIDDEN int vl_fence_check(struct vl_vol *v);
VL_HIDDEN void vl_lease_vol(struct vl_pool *p, uint32_t slot, struct vl_lease *l);
/* pool-wide changes: take the pool lease, re-read the table; end: bump the record */
VL_HIDDEN int vl_admin_begin(struct vl_pool *p, struct vl_diag *d);
VL_HIDDEN void vl_admin_end(struct vl_pool *p, const char *what, bool changed);
/* a volume's lease for an admin change of a volume nobody serves: 0, -EBUSY */
VL_HIDDEN int vl_vol_lease_take(struct vl_vol *v, bool reload, struct vl_diag *d);
VL_HIDDEN void vl_vol_lease_drop(struct vl_vol *v);
/* msg.c: message slots and status blocks */
VL_HIDDEN uint64_t vl_msg_unit_off(const struct vl_pool *p);
VL_HIDDEN int vl_msg_init(struct vl_pool *p);
VL_HIDDEN void vl_msg_free(struct vl_pool *p);
/* Append n requests for blade `to` (seq filled in) and rewrite the slot. */
VL_HIDDEN int vl_msg_send(struct vl_pool *p, uint64_t to, struct vl_msg_entry *e, size_t n);
/* Rewrite this blade's status block; caller holds p->lock (the claims are read). */
VL_HIDDEN int vl_status_write_locked(struct vl_pool *p);
VL_HIDDEN int vl_refresh_locked(struct vl_pool *p);

/* map.c */
VL_HIDDEN int vl_map_init(struct vl_vol *v, uint64_t size);
VL_HIDDEN int vl_map_grow(struct vl_vol *v, uint64_t size);
VL_HIDDEN void vl_map_destroy(struct vl_vol *v);
VL_HIDDEN uint32_t *vl_map_leaf_get(struct vl_vol *v, uint32_t leaf, bool create);
static inline uint32_t vl_map_lookup(struct vl_vol *v, uint64_t vext)
{
	struct vl_mapdir *d = atomic_load_explicit(&v->dir, memory_order_acquire);
	uint64_t l = vext / VL_PER_PAGE;
	if (l >= d->n)
		return 0;
	uint32_t *leaf = atomic_load_explicit(&d->leaf[l], memory_order_acquire);
	if (!leaf)
		return 0;
	return atomic_load_explicit((_Atomic uint32_t *)&leaf[vext % VL_PER_PAGE],
				    memory_order_acquire);
}
static inline uint64_t vl_vol_nr_ext(const struct vl_pool *p, uint64_t size)
{
	return (size + p->extent_size - 1) >> p->ext_shift;
}
static inline uint32_t vl_nr_leaves(uint64_t ext) { return (uint32_t)((ext + VL_PER_PAGE - 1) / VL_PER_PAGE); }

/* vol.c */
VL_HIDDEN int vl_vol_commit(struct vl_vol *v);
VL_HIDDEN void vl_vol_free(struct vl_vol *v);
/* reload: re-reading a volume another blade may be changing: allocator bits are
 * merged (not checked for double use) and an unreadable page is -EAGAIN, not damage */
VL_HIDDEN int vl_vol_load(struct vl_pool *p, const struct vl_volhdr *vh, uint32_t copy,
			  bool reload, struct vl_vol **out);
/* the newest valid header of a slot on the mirrors: 0, -ENOENT when none */
VL_HIDDEN int vl_slot_read(struct vl_pool *p, uint32_t slot, struct vl_volhdr *vh,
			   uint32_t *copy);
/* replace v's map with the one on disk (caller owns nothing of it yet) */
VL_HIDDEN int vl_vol_reload(struct vl_vol *v);
VL_HIDDEN void vl_vol_grace(struct vl_vol *v);
VL_HIDDEN int vl_vol_set_entry(struct vl_vol *v, uint64_t vext, uint32_t entry);
VL_HIDDEN int vl_vol_alloc_ext(struct vl_vol *v, uint64_t vext, bool nowait, uint32_t *entry);
VL_HIDDEN int vl_vol_unmap_ext(struct vl_vol *v, uint64_t vext);
VL_HIDDEN int vl_random(void *buf, size_t len);
VL_HIDDEN struct vl_vol *vl_vol_find(struct vl_pool *p, const char *name);

#endif
