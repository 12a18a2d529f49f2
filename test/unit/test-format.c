/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block sealing/verification, superblock and volume header validation,
 * map entry encoding, CRC-32C. */
#include "tutil.h"

#include "format.h"

uint32_t vl_crc32c_sw(uint32_t crc, const void *buf, size_t len);

static void crc_matches_the_standard_vector_and_both_paths_agree(void)
{
	CHECK(vl_crc32c(0, "123456789", 9) == 0xe3069283u);
	CHECK(vl_crc32c_sw(0, "123456789", 9) == 0xe3069283u);
	uint8_t buf[1000];
	uint64_t s = 42;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)tu_rand(&s);
	for (size_t len = 0; len < sizeof(buf); len += 37)
		CHECK(vl_crc32c(0, buf, len) == vl_crc32c_sw(0, buf, len));
	/* incremental == one-shot */
	CHECK(vl_crc32c(vl_crc32c(0, buf, 100), buf + 100, 900) == vl_crc32c(0, buf, 1000));
}

static void make_sb(struct vl_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	strcpy(sb->pool_name, "p0");
	sb->extent_size = 1 << 20;
	sb->nr_members = 2;
	sb->max_volumes = 16;
	sb->vt_off = VL_VT_OFF;
	sb->meta_off = VL_VT_OFF + 16 * 2 * VL_BLK;
	sb->meta_blocks = 1024;
	sb->data_off = 8 << 20;
	sb->nr_mirrors = 2;
	sb->mirrors[0] = 0;
	sb->mirrors[1] = 1;
	sb->mirrors[2] = sb->mirrors[3] = VL_NO_MIRROR;
	for (int i = 0; i < 2; i++) {
		memset(sb->members[i].uuid, i + 1, 16);
		sb->members[i].size = 100 << 20;
		sb->members[i].extents = 92;
	}
	sb->h.type = VL_BT_SB;
	sb->h.index = 1;
	memset(sb->h.obj_uuid, 2, 16);
	memset(sb->h.pool_uuid, 9, 16);
}

static void every_single_bit_flip_is_detected(void)
{
	struct vl_sb sb;
	make_sb(&sb);
	vl_blk_seal(&sb);
	CHECK_OK(vl_blk_verify(&sb, VL_BT_SB, NULL, NULL, UINT64_MAX));
	CHECK_OK(vl_sb_validate(&sb, NULL));
	for (size_t byte = 0; byte < VL_BLK; byte++) {
		for (int bit = 0; bit < 8; bit += 3) {
			((uint8_t *)&sb)[byte] ^= (uint8_t)(1 << bit);
			CHECK(vl_blk_verify(&sb, VL_BT_SB, NULL, NULL, UINT64_MAX) == -EBADMSG);
			((uint8_t *)&sb)[byte] ^= (uint8_t)(1 << bit);
		}
	}
	CHECK_OK(vl_blk_verify(&sb, VL_BT_SB, NULL, NULL, UINT64_MAX));
}

static void verify_checks_type_and_identity(void)
{
	struct vl_page pg;
	memset(&pg, 0, sizeof(pg));
	pg.h.type = VL_BT_MAP;
	pg.h.index = 7;
	memset(pg.h.pool_uuid, 1, 16);
	memset(pg.h.obj_uuid, 2, 16);
	vl_blk_seal(&pg);
	uint8_t one[16], two[16], three[16];
	memset(one, 1, 16);
	memset(two, 2, 16);
	memset(three, 3, 16);
	CHECK_OK(vl_blk_verify(&pg, VL_BT_MAP, one, two, 7));
	CHECK(vl_blk_verify(&pg, VL_BT_INDEX, one, two, 7) == -EBADMSG);
	CHECK(vl_blk_verify(&pg, VL_BT_MAP, three, two, 7) == -EBADMSG);
	CHECK(vl_blk_verify(&pg, VL_BT_MAP, one, three, 7) == -EBADMSG);
	CHECK(vl_blk_verify(&pg, VL_BT_MAP, one, two, 8) == -EBADMSG);
	static const uint8_t zero[VL_BLK];
	CHECK(vl_blk_verify(zero, VL_BT_MAP, NULL, NULL, UINT64_MAX) == -EBADMSG);
}

/* Table-driven: each corruption of a valid superblock must be rejected with a reason. */
static void superblock_validation_rejects_each_inconsistency(void)
{
	struct vl_sb sb;
#define MUT(stmt)                                                    \
	do {                                                         \
		make_sb(&sb);                                        \
		const char *why = NULL;                              \
		CHECK_OK(vl_sb_validate(&sb, &why));                 \
		stmt;                                                \
		CHECK(vl_sb_validate(&sb, &why) == -EBADMSG && why); \
	} while (0)
	MUT(sb.pool_name[0] = 0);
	MUT(memset(sb.pool_name, 'a', sizeof(sb.pool_name)));
	MUT(strcpy(sb.pool_name, "a/b"));
	MUT(sb.extent_size = 3 << 20);
	MUT(sb.extent_size = 4096);
	MUT(sb.extent_size = 1ull << 40);
	MUT(sb.nr_members = 0);
	MUT(sb.nr_members = 65);
	MUT(sb.h.index = 2);
	MUT(sb.max_volumes = 0);
	MUT(sb.max_volumes = 1u << 30);
	MUT(sb.vt_off = 0);
	MUT(sb.meta_off += 4096);
	MUT(sb.meta_blocks = 1);
	MUT(sb.meta_blocks = 1ull << 40);
	MUT(sb.data_off = 4096);
	MUT(sb.data_off += 4096);
	MUT(sb.nr_mirrors = 0);
	MUT(sb.nr_mirrors = 5);
	MUT(sb.mirrors[1] = 5);
	MUT(sb.mirrors[1] = 0);
	MUT(sb.members[1].extents = VL_MEMBER_EXT_MAX);
	MUT(sb.members[1].extents = 93);
	MUT(sb.members[1].size = 1 << 20);
	MUT(memset(sb.members[1].uuid, 1, 16));
	MUT(memset(sb.h.obj_uuid, 7, 16));
#undef MUT
}

static void volume_header_validation_rejects_each_inconsistency(void)
{
	struct vl_sb sb;
	make_sb(&sb);
	struct vl_volhdr vh;
#define MUT(stmt)                                                         \
	do {                                                              \
		memset(&vh, 0, sizeof(vh));                               \
		strcpy(vh.name, "vol");                                   \
		vh.state = VL_VOL_LIVE;                                   \
		vh.size = 1ull << 30;                                     \
		vh.nr_index = 1;                                          \
		vh.index_blk[0] = 5;                                      \
		const char *why = NULL;                                   \
		CHECK_OK(vl_volhdr_validate(&vh, &sb, &why));             \
		stmt;                                                     \
		CHECK(vl_volhdr_validate(&vh, &sb, &why) == -EBADMSG && why); \
	} while (0)
	MUT(vh.state = 3);
	MUT(vh.name[0] = 0);
	MUT(strcpy(vh.name, "-x"));
	MUT(vh.layout = 2);
	MUT(vh.h.index = 16);
	MUT(vh.nr_index = VL_HDR_INDEX_MAX + 1);
	MUT(vh.nr_index = 2);
	MUT(vh.size = 1000);
	MUT(vh.size = UINT64_MAX - 511);
	MUT(vh.index_blk[0] = 1024);
#undef MUT
}

static void map_entries_round_trip_and_zero_means_unmapped(void)
{
	uint32_t cases[][2] = {{0, 0}, {0, 1}, {1, 0}, {63, VL_MEMBER_EXT_MAX - 1}, {5, 12345}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t e = vl_entry_make(cases[i][0], cases[i][1]);
		CHECK(e != 0);
		CHECK(vl_entry_member(e) == cases[i][0]);
		CHECK(vl_entry_local(e) == cases[i][1]);
	}
}

int main(void)
{
	crc_matches_the_standard_vector_and_both_paths_agree();
	every_single_bit_flip_is_detected();
	verify_checks_type_and_identity();
	superblock_validation_rejects_each_inconsistency();
	volume_header_validation_rejects_each_inconsistency();
	map_entries_round_trip_and_zero_means_unmapped();
	printf("format: all checks passed\n");
	return 0;
}
