/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* On-disk format, version 1.  See docs/on-disk-format.md. */
#ifndef VLUN_FORMAT_H
#define VLUN_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vlun format v1 is implemented for little-endian hosts only"
#endif

#define VL_BLK 4096u
#define VL_MAGIC 0x424d4c56u /* "VLMB" in little-endian bytes */
#define VL_VT_OFF (64u * 1024u)         /* volume table starts here */
#define VL_PER_PAGE 1008u               /* entries per map / index page */
#define VL_HDR_INDEX_MAX 960u           /* index pointers in a volume header */
#define VL_MEMBER_SHIFT 24u             /* map entry: member << 24 | local extent */
#define VL_MEMBER_EXT_MAX (1u << VL_MEMBER_SHIFT)
#define VL_NO_MIRROR 0xffffffffu
#define VL_MIN_EXTENT (64u * 1024u)
#define VL_MAX_EXTENT (1024u * 1024u * 1024u)
#define VL_DEFAULT_EXTENT (4u * 1024u * 1024u)
#define VL_DEFAULT_MAX_VOLUMES 4096u
#define VL_MAX_VOLUMES_LIMIT 65536u

enum vl_blk_type {
	VL_BT_SB = 1, VL_BT_VOL = 2, VL_BT_INDEX = 3, VL_BT_MAP = 4, VL_BT_CHANGE = 5, VL_BT_MSG = 6,
	VL_BT_STATUS = 7
};

/* Format 2 = a shared pool: only the superblock (version 2, with `shared` filled in) and
 * the change record (type 5) are new; every other block keeps version 1's layout and
 * version number. */
#define VL_FORMAT_SHARED 2u
#define VL_LEASE_ALIGN (1024u * 1024u)  /* sanlock: 512-byte sectors, 1 MiB per lease */
#define VL_LS_MAX_HOSTS 2000u           /* sanlock's host id limit at 512 B / 1 MiB */
#define VL_AG_MAX 256u
#define VL_SHARED_SLOTS_DEFAULT 64u
#define VL_AGS_DEFAULT 16u
#define VL_IO_TIMEOUT_DEFAULT 10u
/* lease area, in VL_LEASE_ALIGN units from lease_off */
enum { VL_LA_SPACE = 0, VL_LA_MSG = 1, VL_LA_POOL = 2, VL_LA_AG0 = 3 };

/* Common header of every metadata block (64 bytes). */
struct vl_blkhdr {
	uint32_t magic;
	uint32_t crc;           /* crc32c of the whole block with this field zero */
	uint16_t type;
	uint16_t version;
	uint32_t flags;
	uint64_t gen;           /* transaction generation */
	uint8_t pool_uuid[16];
	uint8_t obj_uuid[16];   /* SB: member uuid; VOL/INDEX/MAP: volume uuid */
	uint64_t index;         /* SB: member index; VOL: slot; INDEX/MAP: page number */
};
_Static_assert(sizeof(struct vl_blkhdr) == 64, "blkhdr size");

struct vl_sb_member {
	uint8_t uuid[16];
	uint64_t size;          /* bytes of the device when it joined */
	uint32_t extents;       /* data extents on it */
	uint32_t flags;
};
_Static_assert(sizeof(struct vl_sb_member) == 32, "sb member size");

/* Superblock: one per member, two slots (blocks 0 and 1), the newer valid wins. */
struct vl_sb {
	struct vl_blkhdr h;
	char pool_name[64];
	uint64_t extent_size;
	uint64_t created;
	uint32_t nr_members;
	uint32_t max_volumes;
	uint64_t vt_off;        /* byte offset of the volume table */
	uint64_t meta_off;      /* byte offset of the metadata block area */
	uint64_t meta_blocks;   /* blocks in it (block 0 is never used) */
	uint64_t data_off;      /* byte offset of extent 0 */
	uint32_t mirrors[4];    /* members holding metadata, VL_NO_MIRROR = unused */
	uint32_t nr_mirrors;
	uint32_t ag_extents;    /* allocation-group size for multi-node leases */
	uint64_t node_id;       /* node that last wrote pool metadata */
	uint8_t reserved0[256 - 64 - 64 - 8 * 7 - 4 * 4 - 4 * 4];
	struct vl_sb_member members[64];
	/* format 2 (shared pools); all zero in format 1 */
	struct vl_sb_shared {
		uint32_t flags;         /* VL_SHF_SHARED */
		uint32_t lease_member;  /* member holding the lease area */
		uint64_t lease_off;     /* byte offset of the lease area (VL_LEASE_ALIGN) */
		uint64_t lease_len;     /* bytes */
		uint32_t nr_ags;        /* allocation groups, each with a lease */
		uint32_t nr_slots;      /* volume slots 0..nr_slots-1 have a lease */
		uint32_t max_hosts;     /* blades: host ids 1..max_hosts */
		uint32_t io_timeout;    /* seconds, the lockspace's sanlock io_timeout */
		uint8_t reserved[64 - 40];
	} shared;
	uint8_t reserved1[VL_BLK - 256 - 64 * 32 - 64];
};
_Static_assert(sizeof(struct vl_sb) == VL_BLK, "sb size");
_Static_assert(offsetof(struct vl_sb, shared) == 2304, "sb shared offset");
enum { VL_SHF_SHARED = 1 };

/* The change record: block 0 of the lease area's message unit.  Written under the pool
 * lease after every pool-wide change, so the other blades know to re-read the table. */
struct vl_change {
	struct vl_blkhdr h;     /* index 0, obj_uuid = pool uuid, gen = seq */
	uint64_t host_id;       /* blade that made the last change */
	uint64_t time;
	char what[64];          /* "create vm3", ... (for people) */
	uint8_t reserved[VL_BLK - 64 - 16 - 64];
};
_Static_assert(sizeof(struct vl_change) == VL_BLK, "change size");

/* Message slots: blocks 1.. of the message unit, one per (recipient, sender) pair of host
 * ids 1..VL_MSG_HOSTS, written only by the sender and polled by the recipient.  A slot
 * holds the sender's last VL_MSG_ENTRIES requests to that recipient (gen = the newest
 * request's number): rewriting it never loses a request the recipient has not read. */
#define VL_MSG_HOSTS 15u
#define VL_MSG_ENTRIES 64u
#define VL_MSG_LAYOUT 2u         /* layout 1 (one request per block) is ignored */
enum { VL_MSG_RELEASE = 1,       /* "let go of the volume in `slot`: I take it" */
       VL_MSG_TAKE = 2 };        /* "take the volume in `slot` from its owner" */
struct vl_msg_entry {
	uint64_t seq;           /* the sender's request number (1, 2, ...) */
	uint32_t kind;
	uint32_t slot;
	uint8_t vol_uuid[16];
	uint32_t flags;         /* TAKE: VL_TAKEOVER_FORCE */
	uint32_t timeout_ms;    /* TAKE: how long the owner may take to let go */
	uint64_t time;
};
_Static_assert(sizeof(struct vl_msg_entry) == 48, "msg entry size");
struct vl_msg {
	struct vl_blkhdr h;     /* obj_uuid = pool uuid, index = to << 16 | from, gen = newest seq */
	uint32_t layout;        /* VL_MSG_LAYOUT */
	uint32_t nr;            /* entries used, oldest first */
	struct vl_msg_entry e[VL_MSG_ENTRIES];
	uint8_t reserved[VL_BLK - 64 - 8 - VL_MSG_ENTRIES * 48];
};
_Static_assert(sizeof(struct vl_msg) == VL_BLK, "msg size");

/* Blade status blocks: blocks VL_STATUS_BLK0 + (host-1) of the message unit, host ids
 * 1..VL_MSG_HOSTS, each written only by its blade (every second and at every change):
 * which volumes it holds (the claims), what it reports to initiators for each volume
 * (the handler's ALUA view), and the outcome of the requests other blades sent it. */
#define VL_STATUS_BLK0 (1u + VL_MSG_HOSTS * VL_MSG_HOSTS)
#define VL_STATUS_RESULTS 16u
#define VL_STATUS_SLOTS 420u
enum { VL_STF_OWNED = 1, VL_STF_EXPORTED = 2, VL_STF_MOVING = 4 };
struct vl_status_result {
	uint64_t seq;           /* the request (sender's number) */
	uint32_t from, slot;
	int32_t err;            /* 0 done, -errno */
	uint32_t wait_ms;       /* TAKE: waiting for the owner to let go */
	uint32_t acquire_ms;    /* TAKE: lease, metadata re-read, epoch commit */
	uint32_t pad;
};
_Static_assert(sizeof(struct vl_status_result) == 32, "status result size");
struct vl_status_vol {
	uint16_t ao_host;       /* host id reported Active/Optimized (0 = none) */
	uint8_t flags;          /* VL_STF_* */
	uint8_t pad;
	uint32_t epoch;         /* OWNED: the lease version (low 32 bits) */
};
struct vl_status {
	struct vl_blkhdr h;     /* obj_uuid = pool uuid, index = host id, gen = beat */
	uint64_t host_id;
	uint64_t time;
	char name[64];          /* the blade's name */
	uint32_t nr_slots;      /* entries in vol[] */
	uint32_t nr_results;
	struct vl_status_result res[VL_STATUS_RESULTS];
	struct vl_status_vol vol[VL_STATUS_SLOTS];
	uint8_t reserved[VL_BLK - 64 - 88 - VL_STATUS_RESULTS * 32 - VL_STATUS_SLOTS * 8];
};
_Static_assert(sizeof(struct vl_status) == VL_BLK, "status size");
_Static_assert(offsetof(struct vl_sb, members) == 256, "sb members offset");

enum { VL_VOL_LIVE = 1, VL_VOL_DELETED = 2 };
enum { VL_VOLF_THICK = 1 };

/* Volume header: two copies per slot in the volume table. */
struct vl_volhdr {
	struct vl_blkhdr h;
	char name[64];
	uint64_t size;          /* virtual size in bytes */
	uint64_t created;
	uint32_t state;
	uint32_t layout;
	uint32_t vflags;
	uint32_t nr_index;      /* index pointers in use */
	uint64_t owner_node;    /* node that owns (may write) this volume */
	uint64_t owner_epoch;   /* bumped on every ownership hand-over */
	uint64_t nr_alloc;      /* allocated extents, cross-checked at open */
	uint8_t reserved[256 - 64 - 64 - 8 * 5 - 4 * 4];
	uint32_t index_blk[VL_HDR_INDEX_MAX];
};
_Static_assert(sizeof(struct vl_volhdr) == VL_BLK, "volhdr size");

/* Index page: pointers to map pages.  Map page: extent entries. */
struct vl_page {
	struct vl_blkhdr h;
	uint32_t e[VL_PER_PAGE];
};
_Static_assert(sizeof(struct vl_page) == VL_BLK, "page size");

uint32_t vl_crc32c(uint32_t crc, const void *buf, size_t len);

/* Fill magic/version/crc.  The caller set type, gen, uuids and index. */
void vl_blk_seal(void *blk);
/* 0 if the block is a sealed block of `type` with matching identity
 * (pool_uuid/obj_uuid may be NULL to skip), -EBADMSG otherwise. */
int vl_blk_verify(const void *blk, uint16_t type, const uint8_t *pool_uuid,
		  const uint8_t *obj_uuid, uint64_t index);
/* Structural checks beyond the checksum (for untrusted content). */
int vl_sb_validate(const struct vl_sb *sb, const char **why);
int vl_volhdr_validate(const struct vl_volhdr *vh, const struct vl_sb *sb, const char **why);

static inline uint32_t vl_entry_make(uint32_t member, uint32_t local)
{
	return ((member << VL_MEMBER_SHIFT) | local) + 1u;
}
static inline uint32_t vl_entry_member(uint32_t e) { return (e - 1u) >> VL_MEMBER_SHIFT; }
static inline uint32_t vl_entry_local(uint32_t e) { return (e - 1u) & (VL_MEMBER_EXT_MAX - 1u); }

#endif
