/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "format.h"

#include <errno.h>
#include <string.h>

#include "vlun/engine.h"

void vl_blk_seal(void *blk)
{
	struct vl_blkhdr *h = blk;
	h->magic = VL_MAGIC;
	if (!h->version) /* a format 2 superblock / change record says so itself */
		h->version = 1;
	h->crc = 0;
	h->crc = vl_crc32c(0, blk, VL_BLK);
}

int vl_blk_verify(const void *blk, uint16_t type, const uint8_t *pool_uuid,
		  const uint8_t *obj_uuid, uint64_t index)
{
	struct vl_blkhdr h;
	memcpy(&h, blk, sizeof(h));
	bool v_ok = h.type == VL_BT_SB ? h.version == 1 || h.version == VL_FORMAT_SHARED
		  : h.type == VL_BT_CHANGE || h.type == VL_BT_MSG || h.type == VL_BT_STATUS
					   ? h.version == VL_FORMAT_SHARED
					   : h.version == 1;
	if (h.magic != VL_MAGIC || h.type != type || !v_ok)
		return -EBADMSG;
	uint32_t want = h.crc;
	/* crc over the block with the crc field zeroed, without copying 4 KiB */
	static const uint8_t zero4[4];
	uint32_t c = vl_crc32c(0, blk, offsetof(struct vl_blkhdr, crc));
	c = vl_crc32c(c, zero4, 4);
	size_t rest = offsetof(struct vl_blkhdr, crc) + 4;
	c = vl_crc32c(c, (const uint8_t *)blk + rest, VL_BLK - rest);
	if (c != want)
		return -EBADMSG;
	if (pool_uuid && memcmp(h.pool_uuid, pool_uuid, 16) != 0)
		return -EBADMSG;
	if (obj_uuid && memcmp(h.obj_uuid, obj_uuid, 16) != 0)
		return -EBADMSG;
	if (index != UINT64_MAX && h.index != index)
		return -EBADMSG;
	return 0;
}

static bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

static bool name_field_ok(const char *f, size_t cap)
{
	size_t n = strnlen(f, cap);
	if (n == cap)
		return false;
	return vl_name_valid(f);
}

/* Format 2's lease area: on one member, after its last data extent, inside the device. */
static const char *shared_validate(const struct vl_sb *sb)
{
	const struct vl_sb_shared *x = &sb->shared;
	static const uint8_t zero[sizeof(*x)];
	if (sb->h.version != VL_FORMAT_SHARED)
		return memcmp(x, zero, sizeof(*x)) ? "shared-pool fields set in a format 1 pool"
						   : NULL;
	uint64_t units = (uint64_t)VL_LA_AG0 + x->nr_ags + x->nr_slots, len, end, data_end;
	if (x->flags != VL_SHF_SHARED)
		return "shared-pool flags unknown";
	if (x->lease_member >= sb->nr_members)
		return "lease area member out of range";
	if (x->nr_ags == 0 || x->nr_ags > VL_AG_MAX)
		return "allocation group count out of range";
	if (x->nr_slots == 0 || x->nr_slots > sb->max_volumes)
		return "shared volume slot count out of range";
	if (x->max_hosts == 0 || x->max_hosts > VL_LS_MAX_HOSTS)
		return "lockspace host count out of range";
	if (x->io_timeout == 0 || x->io_timeout > 300)
		return "lease io timeout out of range";
	if (__builtin_mul_overflow(units, (uint64_t)VL_LEASE_ALIGN, &len) || x->lease_len != len)
		return "lease area size is wrong";
	const struct vl_sb_member *m = &sb->members[x->lease_member];
	data_end = sb->data_off + (uint64_t)m->extents * sb->extent_size;
	if (x->lease_off % VL_LEASE_ALIGN || x->lease_off < data_end ||
	    __builtin_add_overflow(x->lease_off, len, &end) || end > m->size)
		return "lease area offset is wrong";
	return NULL;
}

int vl_sb_validate(const struct vl_sb *sb, const char **why)
{
	const char *w = NULL;
	uint64_t vt_end;
	if (!name_field_ok(sb->pool_name, sizeof(sb->pool_name)))
		w = "pool name is not valid";
	else if (!is_pow2(sb->extent_size) || sb->extent_size < VL_MIN_EXTENT ||
		 sb->extent_size > VL_MAX_EXTENT)
		w = "extent size out of range";
	else if (sb->nr_members == 0 || sb->nr_members > VL_MAX_MEMBERS)
		w = "member count out of range";
	else if (sb->h.index >= sb->nr_members)
		w = "member index beyond member count";
	else if (sb->max_volumes == 0 || sb->max_volumes > VL_MAX_VOLUMES_LIMIT)
		w = "volume table size out of range";
	else if (sb->vt_off != VL_VT_OFF)
		w = "volume table offset is wrong";
	else if (__builtin_mul_overflow((uint64_t)sb->max_volumes, 2ull * VL_BLK, &vt_end) ||
		 __builtin_add_overflow(vt_end, sb->vt_off, &vt_end) || sb->meta_off != vt_end)
		w = "metadata area offset is wrong";
	else if (sb->meta_blocks < 16 || sb->meta_blocks > (1ull << 32))
		w = "metadata area size out of range";
	else if (sb->meta_off + sb->meta_blocks * VL_BLK > sb->data_off ||
		 sb->data_off % sb->extent_size != 0)
		w = "data area offset is wrong";
	else if (sb->nr_mirrors == 0 || sb->nr_mirrors > 4)
		w = "metadata mirror count out of range";
	else {
		for (uint32_t i = 0; i < sb->nr_mirrors && !w; i++) {
			if (sb->mirrors[i] >= sb->nr_members)
				w = "metadata mirror is not a member";
			for (uint32_t j = 0; j < i && !w; j++)
				if (sb->mirrors[i] == sb->mirrors[j])
					w = "metadata mirror listed twice";
		}
		for (uint32_t i = 0; i < sb->nr_members && !w; i++) {
			const struct vl_sb_member *m = &sb->members[i];
			if (m->extents >= VL_MEMBER_EXT_MAX)
				w = "member has too many extents";
			else if (m->size < sb->data_off ||
				 (m->size - sb->data_off) / sb->extent_size < m->extents)
				w = "member extents exceed its size";
			for (uint32_t j = 0; j < i && !w; j++)
				if (memcmp(sb->members[j].uuid, m->uuid, 16) == 0)
					w = "member uuid listed twice";
		}
		if (!w && memcmp(sb->members[sb->h.index].uuid, sb->h.obj_uuid, 16) != 0)
			w = "member uuid does not match the member table";
		if (!w)
			w = shared_validate(sb);
	}
	if (why)
		*why = w;
	return w ? -EBADMSG : 0;
}

int vl_volhdr_validate(const struct vl_volhdr *vh, const struct vl_sb *sb, const char **why)
{
	const char *w = NULL;
	if (vh->state != VL_VOL_LIVE && vh->state != VL_VOL_DELETED)
		w = "volume state unknown";
	else if (vh->state == VL_VOL_LIVE && !name_field_ok(vh->name, sizeof(vh->name)))
		w = "volume name is not valid";
	else if (vh->layout > VL_LAYOUT_STRIPED)
		w = "volume layout unknown";
	else if (vh->h.index >= sb->max_volumes)
		w = "volume slot out of range";
	else if (vh->nr_index > VL_HDR_INDEX_MAX)
		w = "index count out of range";
	else {
		uint64_t ext = (vh->size + sb->extent_size - 1) / sb->extent_size;
		uint64_t pages = (ext + VL_PER_PAGE - 1) / VL_PER_PAGE;
		uint64_t idx = (pages + VL_PER_PAGE - 1) / VL_PER_PAGE;
		if (vh->size % 512 || idx > VL_HDR_INDEX_MAX)
			w = "volume size out of range";
		else if (vh->nr_index > idx)
			w = "more index pages than the size needs";
		for (uint32_t i = 0; i < vh->nr_index && !w; i++)
			if (vh->index_blk[i] >= sb->meta_blocks)
				w = "index block pointer out of range";
	}
	if (why)
		*why = w;
	return w ? -EBADMSG : 0;
}
