/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vlun map engine: pools of member disks carved into thin-provisioned,
 * extent-mapped virtual volumes.
 *
 * Conventions: every function returning int returns 0 on success or a
 * negative errno.  Functions that take a `struct vl_diag *` also write a
 * human-readable explanation there on failure (it may be NULL).
 *
 * Distinct errors callers rely on:
 *   -ENOSPC   the pool (data extents or metadata space) is full
 *   -EIO      a member I/O error (the pool then refuses further writes)
 *   -ERANGE   an offset/length outside the volume
 *   -ENOENT   no such pool member / volume
 *   -EEXIST   name already in use
 *   -EBUSY    object is in use (open volume, locked pool)
 *   -EUCLEAN  metadata is corrupt beyond what the redundant copy repairs
 */
#ifndef VLUN_ENGINE_H
#define VLUN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VL_NAME_MAX 63          /* pool and volume names, bytes (without NUL) */
#define VL_MAX_MEMBERS 64
#define VL_FORMAT_VERSION 2     /* newest on-disk format: 1 single-blade, 2 shared pool */

struct vl_pool;
struct vl_vol;

struct vl_diag {
	char msg[1024];
};

enum vl_layout { VL_LAYOUT_CONCAT = 0, VL_LAYOUT_STRIPED = 1 };

struct vl_pool_create_opts {
	uint64_t extent_size;   /* bytes, power of two; 0 = default (4 MiB) */
	uint32_t max_volumes;   /* 0 = default (4096) */
	uint64_t meta_bytes;    /* per-member metadata area; 0 = automatic */
};

enum {
	VL_OPEN_RDONLY = 1u << 0,   /* never write (no repairs, no I/O writes) */
	VL_OPEN_NOLOCK = 1u << 1,   /* do not take the pool lock (read-only only) */
};

struct vl_member_info {
	char path[4096];
	uint8_t uuid[16];
	uint32_t index;
	uint64_t size;           /* usable bytes of the member device */
	uint64_t extents;        /* data extents on it */
	uint64_t free_extents;
	bool present;
	bool meta_mirror;        /* holds a metadata copy */
	char health[64];         /* "ok", "missing", "repaired ..." */
};

struct vl_pool_info {
	char name[VL_NAME_MAX + 1];
	uint8_t uuid[16];
	uint64_t extent_size;
	uint32_t nr_members;
	uint32_t nr_volumes;
	uint32_t max_volumes;
	uint64_t total_extents;
	uint64_t free_extents;
	uint64_t meta_blocks;      /* metadata blocks per mirror */
	uint64_t meta_free_blocks;
	uint64_t generation;
	uint32_t repairs;          /* metadata copies repaired at open */
	char health[64];           /* "ok", "degraded", "failed" */
};

struct vl_vol_info {
	char name[VL_NAME_MAX + 1];
	uint8_t uuid[16];
	char serial[33];           /* 32 hex digits: the LIO vpd_unit_serial */
	char wwn[40];              /* naa.6001405... that LIO derives from serial */
	uint64_t size;
	uint64_t allocated;        /* bytes of allocated extents */
	enum vl_layout layout;
	bool thick;
	uint32_t slot;
	uint64_t generation;
	uint64_t owner_node;
	uint64_t owner_epoch;
	uint32_t open_count;
};

struct vl_vol_create_opts {
	enum vl_layout layout;
	bool thick;
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

/* ---- pools ---- */
int vl_pool_create(const char *name, const char *const *members, size_t n,
		   const struct vl_pool_create_opts *opts, struct vl_pool **out,
		   struct vl_diag *diag);
/* Assemble a pool from its member devices (any order, any paths). */
int vl_pool_open(const char *const *members, size_t n, unsigned flags,
		 struct vl_pool **out, struct vl_diag *diag);
void vl_pool_close(struct vl_pool *pool);
int vl_pool_add_member(struct vl_pool *pool, const char *path, struct vl_diag *diag);
/* Wipe every member's superblocks.  Fails with -EBUSY if volumes exist and !force. */
int vl_pool_destroy(struct vl_pool *pool, bool force, struct vl_diag *diag);
void vl_pool_get_info(struct vl_pool *pool, struct vl_pool_info *info);
int vl_pool_member_info(struct vl_pool *pool, uint32_t idx, struct vl_member_info *mi);

/* Read just the identity of a device (for scans): 0, -ENODATA if not a member. */
struct vl_member_ident {
	uint8_t pool_uuid[16];
	uint8_t member_uuid[16];
	char pool_name[VL_NAME_MAX + 1];
	uint32_t index;
	uint32_t nr_members;
	uint64_t generation;
};
int vl_member_identify(const char *path, struct vl_member_ident *id);

/* Consistency check.  Writes a line per finding through `out`. */
struct vl_check_result {
	uint32_t errors;          /* problems found */
	uint32_t repaired;        /* of which repaired */
	uint64_t blocks_checked;
	uint64_t extents_checked;
};
int vl_pool_check(struct vl_pool *pool, bool repair,
		  void (*out)(void *arg, const char *line), void *arg,
		  struct vl_check_result *res);

/* ---- volumes ---- */
int vl_vol_create(struct vl_pool *pool, const char *name, uint64_t size,
		  const struct vl_vol_create_opts *opts, struct vl_diag *diag);
int vl_vol_delete(struct vl_pool *pool, const char *name, struct vl_diag *diag);
int vl_vol_resize(struct vl_pool *pool, const char *name, uint64_t size, bool allow_shrink,
		  struct vl_diag *diag);
int vl_vol_rename(struct vl_pool *pool, const char *name, const char *newname,
		  struct vl_diag *diag);
uint32_t vl_pool_nr_volumes(struct vl_pool *pool);
/* i-th volume in name order */
int vl_vol_info_at(struct vl_pool *pool, uint32_t i, struct vl_vol_info *info);
int vl_vol_info(struct vl_pool *pool, const char *name, struct vl_vol_info *info);

/* ---- the I/O API ---- */
enum { VL_IO_FUA = 1u << 0 };
enum { VL_ZERO_MAY_UNMAP = 1u << 0 };

int vl_vol_open(struct vl_pool *pool, const char *name, struct vl_vol **out,
		struct vl_diag *diag);
void vl_vol_close(struct vl_vol *vol);
/* Drop a handle that did no I/O (vl_vol_close also commits what it wrote). */
void vl_vol_unref(struct vl_vol *vol);
uint64_t vl_vol_size(const struct vl_vol *vol);
const char *vl_vol_name(const struct vl_vol *vol);
uint32_t vl_vol_slot(const struct vl_vol *vol);
int vl_vol_readv(struct vl_vol *vol, const struct iovec *iov, int iovcnt, uint64_t off);
int vl_vol_writev(struct vl_vol *vol, const struct iovec *iov, int iovcnt, uint64_t off,
		  unsigned flags);
/*
 * Attempts that never wait for a device, for a caller that must not block
 * (tcmu-runner's command thread): -EAGAIN when the read's data is not in the
 * page cache, or when the write needs more than copying into it (an extent to
 * allocate, a partial page, FUA).  After -EAGAIN part of the I/O may have been
 * done; repeat it whole with vl_vol_readv / vl_vol_writev.
 */
int vl_vol_try_readv(struct vl_vol *vol, const struct iovec *iov, int iovcnt, uint64_t off);
int vl_vol_try_writev(struct vl_vol *vol, const struct iovec *iov, int iovcnt, uint64_t off);
/* A non-FUA write that may wait for the device but never for a lock or metadata: into
 * mapped extents only, else -EAGAIN (after which part may be written: repeat it whole
 * with vl_vol_writev).  For a shared pool's writes on the LUN's command thread. */
int vl_vol_writev_mapped(struct vl_vol *vol, const struct iovec *iov, int iovcnt, uint64_t off);
int vl_vol_read(struct vl_vol *vol, void *buf, size_t len, uint64_t off);
int vl_vol_write(struct vl_vol *vol, const void *buf, size_t len, uint64_t off, unsigned flags);
/* Discard: whole extents go back to the pool, partial ranges read as zeros. */
int vl_vol_discard(struct vl_vol *vol, uint64_t off, uint64_t len);
int vl_vol_write_zeroes(struct vl_vol *vol, uint64_t off, uint64_t len, unsigned flags);
/* Allocate (without writing) every extent in the range. */
int vl_vol_preallocate(struct vl_vol *vol, uint64_t off, uint64_t len);
/* Make every write acknowledged before this call durable. */
int vl_vol_flush(struct vl_vol *vol);
uint64_t vl_vol_allocated_bytes(struct vl_vol *vol);
/* Provisioning status at off: *mapped (backed by an extent) or not (reads zeros), and
 * how many bytes from off, at most len, share that status.  -ERANGE past the end. */
int vl_vol_block_status(struct vl_vol *vol, uint64_t off, uint64_t len, bool *mapped,
			uint64_t *run);

/* ---- shared pools (format 2): leases ----
 * A shared pool is served by several blades at once.  Who may do what is decided by
 * leases on the pool's own disks, held through a lease provider (sanlock in
 * production, handler/lease/; an in-process fake in the unit tests).  The engine
 * places the leases (docs/on-disk-format.md, "Lease area") and calls the provider;
 * it never talks to a lock daemon itself. */
#define VL_LEASE_NAME_MAX 47    /* sanlock's SANLK_NAME_LEN is 48 with the NUL */

struct vl_lease {
	char space[VL_LEASE_NAME_MAX + 1]; /* lockspace name: the pool's UUID, 32 hex digits */
	char name[VL_LEASE_NAME_MAX + 1];  /* "pool", "ag-N", "vol-SLOT" */
	const char *path;                  /* this blade's path of the lease member */
	uint64_t offset;                   /* bytes: where the lease is on it */
};

struct vl_lease_space {
	char name[VL_LEASE_NAME_MAX + 1];  /* = vl_lease.space */
	const char *path;
	uint64_t offset;                   /* the lockspace's delta leases */
	uint64_t host_id;                  /* 1 .. max_hosts: this blade */
	uint32_t max_hosts;
	uint32_t io_timeout;               /* seconds (sanlock's io_timeout) */
};

/* Every callback returns 0 or -errno. */
struct vl_lease_ops {
	/* Initialise a lockspace / a lease on disk (pool share, pool create --shared). */
	int (*format_space)(void *ctx, const struct vl_lease_space *ls);
	int (*format_lease)(void *ctx, const struct vl_lease *l);
	/* Join / leave the lockspace as ls->host_id.  Joining waits (seconds). */
	int (*join)(void *ctx, const struct vl_lease_space *ls);
	int (*leave)(void *ctx, const struct vl_lease_space *ls);
	/* Take a lease without waiting for its holder: 0 and *version = the lease's
	 * version after this acquire (it grows at every acquire: the ownership epoch);
	 * -EBUSY held by a live host (*holder = its host id, 0 if unknown); -EAGAIN its
	 * holder's host failed and its lease has not expired yet (retry later). */
	int (*acquire)(void *ctx, const struct vl_lease *l, uint64_t *version, uint64_t *holder);
	int (*release)(void *ctx, const struct vl_lease *l);
	/* Have the holder's node kill the holder (fencing; sanlock REQ_FORCE). */
	int (*request_force)(void *ctx, const struct vl_lease *l);
	/* Who holds a lease now: *holder = host id (0 = nobody), *version its version. */
	int (*holder)(void *ctx, const struct vl_lease *l, uint64_t *holder, uint64_t *version);
	/* Hosts alive in the lockspace: bit h-1 of alive[] set for host id h. */
	int (*hosts)(void *ctx, const struct vl_lease_space *ls, uint64_t *alive, uint32_t words);
};

/* Opening a shared pool: this blade's host id and its lease provider. */
struct vl_pool_open_opts {
	const struct vl_lease_ops *lease;
	void *lease_ctx;
	uint64_t host_id;            /* 1 .. the pool's max_hosts */
};
/* vl_pool_open with options; opts NULL = vl_pool_open.  A shared pool opened for
 * writing needs opts (else -ENOLCK, saying what to start); it joins the pool's
 * lockspace (seconds), takes an allocation group and loads every volume unowned. */
int vl_pool_open_opts(const char *const *members, size_t n, unsigned flags,
		      const struct vl_pool_open_opts *opts, struct vl_pool **out,
		      struct vl_diag *diag);

struct vl_share_opts {
	uint32_t nr_ags;             /* allocation groups; 0 = 16 */
	uint32_t nr_slots;           /* volumes the shared pool can hold; 0 = 64 */
	uint32_t max_hosts;          /* blades (host ids 1..N); 0 = 64 */
	uint32_t io_timeout;         /* seconds; 0 = 10 (sanlock's default) */
};
/* Convert a single-blade pool (format 1), opened exclusively, to a shared pool
 * (format 2): the lease area goes at the end of the first metadata mirror, whose last
 * extents must be free.  Crash-safe: the leases are written first, then the
 * superblocks; until the last superblock is written the pool opens as before.  The
 * pool handle is closed by the caller afterwards and reopened with vl_pool_open_opts. */
int vl_pool_share(struct vl_pool *pool, const struct vl_share_opts *opts,
		  const struct vl_lease_ops *lease, void *lease_ctx, struct vl_diag *diag);

struct vl_shared_info {
	bool shared;
	uint64_t host_id;            /* this blade (0 when opened without leases) */
	uint32_t nr_ags, ags_held;
	uint32_t nr_slots, max_hosts, io_timeout;
	uint32_t lease_member;
	uint64_t lease_off, lease_len;
	uint64_t change_seq;         /* last pool-wide change seen */
};
void vl_pool_shared_info(struct vl_pool *pool, struct vl_shared_info *info);
/* The shared pool's lockspace (for a provider's hosts(): who is alive); host_id is
 * this blade's or 0.  -EINVAL for a single-blade pool.  The strings live in the pool. */
int vl_pool_lease_space(struct vl_pool *pool, struct vl_lease_space *ls);

/* Volume ownership in a shared pool (in a single-blade pool these succeed and a
 * volume is always owned).  Only the owner reads or writes: anyone else's I/O gets
 * -ESTALE and never touches the disks.  Acquire takes the volume's lease (the lease's
 * new version becomes the volume's owner_epoch), re-reads the volume's metadata from
 * disk and commits it with owner_node = this blade: -EBUSY when another blade holds
 * it (diag names it).  Release stops new I/O, waits for I/O in flight, commits,
 * flushes the members and releases the lease.  A commit that finds a newer owner or
 * generation on disk fences the volume (-ESTALE; it stays unowned). */
int vl_vol_acquire(struct vl_vol *vol, struct vl_diag *diag);
/* Acquire only a volume nobody has taken since it was created, or whose last owner on
 * disk is this blade (also after a reset, when every blade still reports it AO): the
 * configured owner's first claim never moves a volume back from where it went (-EBUSY
 * naming the last owner). */
int vl_vol_claim(struct vl_vol *vol, struct vl_diag *diag);
int vl_vol_release(struct vl_vol *vol);
bool vl_vol_owned(const struct vl_vol *vol);
/* Take the volume from a live owner: acquire, and if another blade holds it, ask that
 * blade to let go through the pool's message slots (host ids 1-15; others must be
 * released by their own blade) and acquire as soon as it has, within timeout_ms.
 * -EBUSY (diag names the holder) when it did not let go in time.  With
 * VL_TAKEOVER_FORCE an owner that did not let go is then fenced through the provider
 * (sanlock: its process is killed; a dead or hung node's lease frees after the host-dead
 * time) and the lease taken once free, within another timeout_ms.  VL_TAKEOVER_SILENT:
 * the caller knows the holder (vl_vol_holder) does not answer: it is not asked, so with
 * FORCE it is fenced at once, and without, -EBUSY at once. */
enum { VL_TAKEOVER_FORCE = 1u << 0, VL_TAKEOVER_SILENT = 1u << 1 };
/* The host id holding the volume's lease (the provider's answer, else the last owner on
 * disk); 0 for a pool that is not shared or nobody. */
uint64_t vl_vol_holder(struct vl_vol *vol);
int vl_vol_takeover(struct vl_vol *vol, unsigned timeout_ms, unsigned flags,
		    struct vl_diag *diag);
/* Takeover with figures: *wait_ms waiting for the owner to let go, *acquire_ms the last
 * acquire (lease, metadata re-read, epoch commit).  Either pointer may be NULL. */
int vl_vol_takeover_timed(struct vl_vol *vol, unsigned timeout_ms, unsigned flags,
			  unsigned *wait_ms, unsigned *acquire_ms, struct vl_diag *diag);

/* ---- requests between blades, and what each blade publishes (docs/alua.md) ----
 * Requests travel in the pool's message slots (host ids 1-15); each blade publishes a
 * status block: the volumes it holds (its claims), what it reports to initiators for
 * each volume, and the outcome of the requests it was sent. */
#define VL_STATUS_HOSTS 15u       /* host ids with message slots and a status block */
#define VL_STATUS_VOLS 420u       /* volume slots a status block describes */
enum vl_req_kind { VL_REQ_RELEASE = 1, VL_REQ_TAKE = 2 };
struct vl_request {
	enum vl_req_kind kind;
	uint64_t from;               /* the asking blade */
	uint64_t seq;                /* its request number (report the outcome with it) */
	uint32_t slot;
	unsigned flags;              /* TAKE: VL_TAKEOVER_FORCE */
	unsigned timeout_ms;         /* TAKE */
	struct vl_vol *vol;          /* the volume as loaded here */
};
/* RELEASE: called before the volume is let go; return 0 to let it go now, -errno to
 * refuse (the asker keeps waiting, then fences).  TAKE: the engine does nothing itself;
 * the callback takes the volume (not on this thread: it must not block) and reports
 * with vl_pool_note_result. */
typedef int (*vl_request_fn)(void *arg, const struct vl_request *rq);
/* Serve the requests other blades left in this blade's message slots.  Call it often
 * (every ~20 ms) on a serving blade: it is one read of this blade's slots.  fn NULL:
 * release what is asked for, ignore the rest.  *released counts the volumes let go. */
int vl_pool_serve_requests(struct vl_pool *pool, vl_request_fn fn, void *arg,
			   unsigned *released);
#define VL_TAKE_MAX 64u            /* volumes in one request */
/* Ask blade `to` to take the volumes (one message): *seq = the first request's number,
 * the others follow in order. */
int vl_pool_send_take(struct vl_pool *pool, uint64_t to, struct vl_vol *const *vols, size_t n,
		      unsigned flags, unsigned timeout_ms, uint64_t *seq);

enum { VL_REP_EXPORTED = 2, VL_REP_MOVING = 4 };
struct vl_slot_report {
	uint16_t ao_host;            /* host id this blade reports Active/Optimized, 0 none */
	uint8_t flags;               /* VL_REP_* */
};
/* What this blade reports for the first n volume slots (kept; published with this
 * blade's claims now, at every acquire and release, and by vl_pool_beat). */
int vl_pool_publish(struct vl_pool *pool, const char *blade_name,
		    const struct vl_slot_report *rep, uint32_t n);
/* Rewrite this blade's status block (a heartbeat: call about every second).  -EAGAIN
 * when the pool is busy with a change (try at the next beat). */
int vl_pool_beat(struct vl_pool *pool);
/* The outcome of another blade's request, published with the next status block. */
void vl_pool_note_result(struct vl_pool *pool, uint64_t from, uint64_t seq, uint32_t slot,
			 int err, unsigned wait_ms, unsigned acquire_ms);

enum { VL_ST_OWNED = 1, VL_ST_EXPORTED = 2, VL_ST_MOVING = 4 };
struct vl_blade_status {
	bool present;                /* a valid block (the blade served the pool once) */
	uint64_t host_id, beat, time;
	char name[65];
	uint32_t nr_vols, nr_results;
	struct {
		uint64_t seq, from;
		int err;
		uint32_t slot, wait_ms, acquire_ms;
	} res[16];
	struct {
		uint16_t ao_host;
		uint8_t flags;       /* VL_ST_* */
		uint32_t epoch;
	} vol[VL_STATUS_VOLS];
};
/* Every blade's status block: st[h - 1] for host id h (VL_STATUS_HOSTS entries), one read. */
int vl_pool_read_status(struct vl_pool *pool, struct vl_blade_status *st);
/* Who holds the volume in `slot` by the blades' claims: the claimer with the newest epoch
 * (0 = nobody claims it). */
uint64_t vl_status_owner(const struct vl_blade_status *st, uint32_t slot, uint32_t *epoch);
/* This blade's host id in a shared pool opened with leases (0 otherwise). */
uint64_t vl_pool_host_id(struct vl_pool *pool);

/* Re-read the pool-wide change record; when another blade changed the pool, re-read
 * the volume table (volumes created, grown, deleted elsewhere).  *changed says so. */
int vl_pool_poll(struct vl_pool *pool, bool *changed);

/* ---- helpers shared by tools ---- */
/* "10G", "512M", "1T", "4096", "1.5G" (binary units, K/M/G/T/P, optional iB/B) */
int vl_parse_size(const char *s, uint64_t *out);
void vl_format_size(uint64_t bytes, char *buf, size_t len);
bool vl_name_valid(const char *name);
void vl_uuid_unparse(const uint8_t uuid[16], char out[37]);
const char *vl_layout_name(enum vl_layout l);
int vl_parse_layout(const char *s, enum vl_layout *out);

/* ---- test hooks (fault injection); not for production use ---- */
struct vl_fault {
	/* Number of writes (metadata or data) allowed before the simulated crash;
	 * <0 = no limit. */
	int64_t writes_left;
	bool meta_only;        /* count only metadata writes */
	bool torn;             /* the cut write lands half-written */
	bool drop_unsynced;    /* at the cut, undo a random subset of unsynced writes */
	uint32_t seed;
	bool crashed;          /* set by the engine when the cut happened */
	uint64_t meta_writes;  /* metadata writes issued (counting) */
};
void vl_pool_set_fault(struct vl_pool *pool, struct vl_fault *fault);
/* Simulate power loss: undo unsynced writes as the fault asks, then close
 * without flushing anything. */
void vl_pool_crash(struct vl_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
