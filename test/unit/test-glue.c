/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's pure parts: cfgstring parsing (an error exactly when the
 * string is invalid), the one errno -> SCSI status translation, CDB checks,
 * MODE SENSE. */
#include "tutil.h"

#include "glue.h"
#include "tcmu-abi.h"

static void cfgstrings_parse_exactly_when_valid(void)
{
	struct {
		const char *in;
		const char *pool, *vol; /* NULL = must fail */
	} t[] = {
		{"vlun/pool0/vm1", "pool0", "vm1"},
		{"pool0/vm1", "pool0", "vm1"},
		{"vlun/p/v;tcmur_cmd_time_out=30", "p", "v"},
		{"vlun/a.b-c_d/E.9", "a.b-c_d", "E.9"},
		{"", NULL, NULL},
		{"vlun/", NULL, NULL},
		{"vlun/pool0", NULL, NULL},
		{"vlun/pool0/", NULL, NULL},
		{"vlun//vm1", NULL, NULL},
		{"vlun/pool0/vm1/extra", NULL, NULL},
		{"vlun/../etc", NULL, NULL},
		{"vlun/pool 0/vm1", NULL, NULL},
		{"vlun/pool0/-vm", NULL, NULL},
		{"vlun/.pool/vm", NULL, NULL},
		{"vlun/pool0/vm\\n", NULL, NULL},
		{"qcow/pool0/vm1", NULL, NULL}, /* "qcow" is taken as the pool: then 2 slashes */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vlun_cfg c;
		const char *why = NULL;
		int r = vlun_cfg_parse(t[i].in, &c, &why);
		if (t[i].pool) {
			if (r || strcmp(c.pool, t[i].pool) || strcmp(c.volume, t[i].vol)) {
				fprintf(stderr, "'%s' should parse (%s)\n", t[i].in, why ? why : "");
				abort();
			}
		} else if (r != -EINVAL || !why || !*why) {
			fprintf(stderr, "'%s' should be rejected with a reason\n", t[i].in);
			abort();
		}
	}
	CHECK(vlun_cfg_parse(NULL, &(struct vlun_cfg){0}, NULL) == -EINVAL);
	char longs[400];
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = 0;
	const char *why;
	CHECK(vlun_cfg_parse(longs, &(struct vlun_cfg){0}, &why) == -EINVAL && strstr(why, "long"));
	char name64[100];
	snprintf(name64, sizeof(name64), "p/%064d", 0);
	CHECK(vlun_cfg_parse(name64, &(struct vlun_cfg){0}, &why) == -EINVAL && strstr(why, "1-63"));
}

static void errors_map_to_the_right_sense(void)
{
	uint8_t s[96];
	CHECK(vlun_status(0, true, s) == TCMU_STS_OK);
	memset(s, 0, sizeof(s));
	CHECK(vlun_status(-ENOSPC, true, s) == TCMU_STS_PASSTHROUGH_ERR);
	CHECK(s[0] == 0x70 && s[2] == 0x07 && s[12] == 0x27 && s[13] == 0x07); /* 27/07 */
	CHECK(vlun_status(-EIO, true, s) == TCMU_STS_WR_ERR);
	CHECK(vlun_status(-EIO, false, s) == TCMU_STS_RD_ERR);
	CHECK(vlun_status(-ERANGE, false, s) == TCMU_STS_RANGE);
	CHECK(vlun_status(-EUCLEAN, false, s) == TCMU_STS_HW_ERR);
	CHECK(vlun_status(-ENOMEM, true, s) == TCMU_STS_BUSY);
	/* another blade owns the volume: writes retried, reads refused like a Standby port */
	CHECK(vlun_status(-ESTALE, true, s) == TCMU_STS_BUSY);
	CHECK(vlun_status(-ESTALE, false, s) == TCMU_STS_FENCED);
	CHECK(vlun_status(-EROFS, true, s) == TCMU_STS_PASSTHROUGH_ERR && s[2] == 0x07 && s[12] == 0x27);
	CHECK(vlun_miscompare(s, 0x01020304) == TCMU_STS_PASSTHROUGH_ERR);
	CHECK(s[0] == 0xf0 && s[2] == 0x0e && s[12] == 0x1d && s[13] == 0);
	CHECK(s[3] == 1 && s[4] == 2 && s[5] == 3 && s[6] == 4);
}

static void iovecs_copy_out_up_to_what_they_hold(void)
{
	uint8_t a[3] = {1, 2, 3}, b[2] = {4, 5}, out[8] = {0};
	struct iovec iov[2] = {{a, 3}, {b, 2}};
	CHECK(vlun_iov_copy_out(out, iov, 2, 4) == 4 && out[3] == 4 && out[4] == 0);
	CHECK(vlun_iov_copy_out(out, iov, 2, 8) == 5 && out[4] == 5);
}

static void fua_and_protection_bits_are_read_from_the_cdb(void)
{
	uint8_t w10[10] = {0x2a, 0x08}, w16[16] = {0x8a, 0x08}, ws[10] = {0x41, 0x08};
	CHECK(vlun_cdb_fua(w10) && vlun_cdb_fua(w16) && !vlun_cdb_fua(ws));
	w10[1] = 0;
	CHECK(!vlun_cdb_fua(w10));
	uint8_t s[96];
	uint8_t r10[10] = {0x28, 0x20};
	CHECK(vlun_handle_cdb(r10, NULL, 0, true, s) == TCMU_STS_PASSTHROUGH_ERR && s[12] == 0x24);
	r10[1] = 0x18; /* DPO|FUA: allowed */
	CHECK(vlun_handle_cdb(r10, NULL, 0, true, s) == TCMU_STS_NOT_HANDLED);
	uint8_t ws_anchor[10] = {0x41, 0x18};
	CHECK(vlun_handle_cdb(ws_anchor, NULL, 0, true, s) == TCMU_STS_PASSTHROUGH_ERR && s[12] == 0x24);
	uint8_t ws_unmap[10] = {0x41, 0x08};
	CHECK(vlun_handle_cdb(ws_unmap, NULL, 0, true, s) == TCMU_STS_NOT_HANDLED);
	uint8_t tur[6] = {0};
	CHECK(vlun_handle_cdb(tur, NULL, 0, true, s) == TCMU_STS_NOT_HANDLED);
	/* INQUIRY is the runner's, but its data-in buffer is zeroed first */
	uint8_t data[255], inq[6] = {0x12, 0, 0, 0, 255, 0};
	memset(data, 0xab, sizeof(data));
	struct iovec iov[2] = {{data, 100}, {data + 100, 155}};
	CHECK(vlun_handle_cdb(inq, iov, 2, true, s) == TCMU_STS_NOT_HANDLED);
	for (size_t i = 0; i < sizeof(data); i++)
		CHECK(data[i] == 0);
}

static void mode_sense_advertises_dpofua_and_wce(void)
{
	uint8_t out[256], s[96];
	struct iovec iov = {out, sizeof(out)};
	uint8_t ms6[6] = {0x1a, 0, 0x3f, 0, 255, 0};
	memset(out, 0xee, sizeof(out));
	CHECK(vlun_handle_cdb(ms6, &iov, 1, true, s) == TCMU_STS_OK);
	CHECK(out[0] == 4 + 12 + 20 + 12 - 1 && out[2] == 0x10 && out[3] == 0);
	CHECK(out[4] == 0x01 && out[16] == 0x08 && out[18] == 0x04 && out[36] == 0x0a);
	uint8_t ms10[10] = {0x5a, 0, 0x08, 0, 0, 0, 0, 0, 255, 0};
	CHECK(vlun_handle_cdb(ms10, &iov, 1, false, s) == TCMU_STS_OK);
	CHECK(out[1] == 8 + 20 - 2 && out[3] == 0x10 && out[8] == 0x08 && out[10] == 0);
	/* truncated to the allocation length */
	memset(out, 0xee, sizeof(out));
	ms6[4] = 6;
	CHECK(vlun_handle_cdb(ms6, &iov, 1, true, s) == TCMU_STS_OK);
	CHECK(out[0] == 47 && out[6] == 0xee);
	uint8_t bad[6] = {0x1a, 0, 0x19, 0, 255, 0};
	CHECK(vlun_handle_cdb(bad, &iov, 1, true, s) == TCMU_STS_PASSTHROUGH_ERR && s[12] == 0x24);
}

/* a fake volume of 100 blocks of 512 bytes: blocks 0-15 mapped, 16-47 not, 48-99 mapped */
static int fake_status(void *ctx, uint64_t off, uint64_t len, bool *mapped, uint64_t *run)
{
	(void)ctx;
	uint64_t b = off / 512, end;
	if (b >= 100)
		return -ERANGE;
	*mapped = b < 16 || b >= 48;
	end = b < 16 ? 16 : b < 48 ? 48 : 100;
	*run = (end - b) * 512 < len ? (end - b) * 512 : len;
	return 0;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void get_lba_status_reports_runs(void)
{
	uint8_t cdb[16] = {0x9e, 0x12}, out[200], s[96];
	struct iovec iov = {out, sizeof(out)};
	cdb[13] = sizeof(out); /* allocation length */
	memset(out, 0xff, sizeof(out));
	CHECK(vlun_get_lba_status(cdb, &iov, 1, 512, 100, fake_status, NULL, s) == TCMU_STS_OK);
	CHECK(get_be(out, 4) == 4 + 3 * 16);                          /* three descriptors */
	CHECK(get_be(out + 8, 8) == 0 && get_be(out + 16, 4) == 16 && out[20] == 0);
	CHECK(get_be(out + 24, 8) == 16 && get_be(out + 32, 4) == 32 && out[36] == 1);
	CHECK(get_be(out + 40, 8) == 48 && get_be(out + 48, 4) == 52 && out[52] == 0);
	/* from the middle of a run */
	cdb[9] = 20;
	CHECK(vlun_get_lba_status(cdb, &iov, 1, 512, 100, fake_status, NULL, s) == TCMU_STS_OK);
	CHECK(get_be(out + 8, 8) == 20 && get_be(out + 16, 4) == 28 && out[20] == 1);
	/* an allocation length for one descriptor gets one */
	cdb[13] = 24;
	memset(out, 0xee, sizeof(out));
	CHECK(vlun_get_lba_status(cdb, &iov, 1, 512, 100, fake_status, NULL, s) == TCMU_STS_OK);
	CHECK(get_be(out, 4) == 20 && out[24] == 0xee);
	/* past the end: LBA OUT OF RANGE */
	cdb[9] = 100;
	CHECK(vlun_get_lba_status(cdb, &iov, 1, 512, 100, fake_status, NULL, s) ==
	      TCMU_STS_PASSTHROUGH_ERR && s[2] == 0x05 && s[12] == 0x21);
}

static void read_write_cdbs_give_lba_length_and_fua(void)
{
	struct vlun_rw rw;
	uint8_t r10[10] = {0x28, 0, 0x12, 0x34, 0x56, 0x78, 0, 0x01, 0x00, 0};
	CHECK(vlun_cdb_rw(r10, &rw) && rw.lba == 0x12345678 && rw.blocks == 256 && !rw.write &&
	      !rw.fua);
	uint8_t w10[10] = {0x2a, 0x08, 0, 0, 0, 9, 0, 0, 8, 0};
	CHECK(vlun_cdb_rw(w10, &rw) && rw.lba == 9 && rw.blocks == 8 && rw.write && rw.fua);
	uint8_t w12[12] = {0xaa, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0};
	CHECK(vlun_cdb_rw(w12, &rw) && rw.lba == 256 && rw.blocks == 65536 && rw.write && !rw.fua);
	uint8_t r12[12] = {0xa8, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0};
	CHECK(vlun_cdb_rw(r12, &rw) && rw.lba == 0xffffffffu && rw.blocks == 0xffffffffu &&
	      !rw.write && rw.fua);
	uint8_t r16[16] = {0x88, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
			   0, 0, 0x10, 0x00, 0, 0};
	CHECK(vlun_cdb_rw(r16, &rw) && rw.lba == 0x0102030405060708ull && rw.blocks == 4096 &&
	      !rw.write);
	uint8_t w16[16] = {0x8a, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			   0xff, 0xff, 0xff, 0xff, 0, 0};
	CHECK(vlun_cdb_rw(w16, &rw) && rw.lba == UINT64_MAX && rw.blocks == UINT32_MAX &&
	      rw.write && rw.fua);
	/* READ/WRITE(6), VERIFY, WRITE AND VERIFY, COMPARE AND WRITE: not the fast path's */
	const uint8_t others[] = {0x08, 0x0a, 0x2f, 0x2e, 0x8e, 0x89, 0x35, 0x00};
	for (size_t i = 0; i < sizeof(others); i++) {
		uint8_t c[16] = {others[i]};
		CHECK(!vlun_cdb_rw(c, &rw));
	}
}

/* a volume of 1024 blocks of 512 bytes: block b holds the byte b & 0xff everywhere */
#define VBS 512u
#define VNB 1024u
static int reads, read_fail;
static int fake_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	(void)ctx;
	reads++;
	if (read_fail)
		return read_fail;
	CHECK(off % VBS == 0 && len % VBS == 0 && off + len <= (uint64_t)VBS * VNB);
	for (size_t k = 0; k < len; k += VBS)
		memset((uint8_t *)buf + k, (int)(((off + k) / VBS) & 0xff), VBS);
	return 0;
}
static uint32_t info(const uint8_t *s) { return (uint32_t)s[3] << 24 | s[4] << 16 | s[5] << 8 | s[6]; }

static void verify_checks_compares_and_refuses(void)
{
	uint8_t s[96], *data = malloc(VBS * 600);
	int rerr;
	CHECK(data);
	/* VERIFY(10) LBA lba, n blocks, BYTCHK b */
#define V10(b, lba, n) ((uint8_t[10]){0x2f, (uint8_t)((b) << 1), 0, 0, (uint8_t)((lba) >> 8), (uint8_t)(lba), 0, (uint8_t)((n) >> 8), (uint8_t)(n), 0})
#define RUN(cdb, iov, cnt, max) vlun_verify(cdb, iov, cnt, VBS, VNB, max, fake_read, NULL, s, &rerr)
	uint8_t tur[6] = {0};
	CHECK(!vlun_is_verify(tur) && RUN(tur, NULL, 0, 0) == TCMU_STS_NOT_HANDLED);
	CHECK(vlun_is_verify(V10(0, 0, 1)));
	/* BYTCHK 00b: the range only, nothing read */
	reads = 0;
	CHECK(RUN(V10(0, 10, 20), NULL, 0, 0) == TCMU_STS_OK && reads == 0 && rerr == 0);
	CHECK(RUN(V10(0, 0, 0), NULL, 0, 0) == TCMU_STS_OK);
	CHECK(RUN(V10(0, VNB, 0), NULL, 0, 0) == TCMU_STS_OK);
	CHECK(RUN(V10(0, VNB + 1, 0), NULL, 0, 0) == TCMU_STS_PASSTHROUGH_ERR && s[2] == 5 && s[12] == 0x21);
	CHECK(RUN(V10(0, VNB - 1, 2), NULL, 0, 0) == TCMU_STS_PASSTHROUGH_ERR && s[12] == 0x21);
	uint8_t v16[16] = {0x8f, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 0};
	CHECK(RUN(v16, NULL, 0, 0) == TCMU_STS_PASSTHROUGH_ERR && s[12] == 0x21); /* wraps */
	/* VRPROTECT (no protection information) and BYTCHK 10b: INVALID FIELD IN CDB */
	uint8_t vp[10] = {0x2f, 0x20, 0, 0, 0, 0, 0, 0, 1, 0};
	CHECK(RUN(vp, NULL, 0, 0) == TCMU_STS_PASSTHROUGH_ERR && s[2] == 5 && s[12] == 0x24);
	CHECK(RUN(V10(2, 0, 1), NULL, 0, 0) == TCMU_STS_PASSTHROUGH_ERR && s[12] == 0x24);
	/* BYTCHK 01b: what was sent against the medium, over two iovecs */
	for (uint32_t b = 0; b < 600; b++)
		memset(data + b * VBS, (int)((100 + b) & 0xff), VBS);
	struct iovec iov[2] = {{data, 1000}, {data + 1000, VBS * 600 - 1000}};
	CHECK(RUN(V10(1, 100, 600), iov, 2, 0) == TCMU_STS_OK && rerr == 0);
	data[VBS * 555 + 7] ^= 1; /* past the first 256 KiB chunk */
	CHECK(RUN(V10(1, 100, 600), iov, 2, 0) == TCMU_STS_PASSTHROUGH_ERR);
	CHECK(s[0] == 0xf0 && s[2] == 0x0e && s[12] == 0x1d && info(s) == VBS * 555 + 7);
	data[VBS * 555 + 7] ^= 1;
	struct iovec shorter = {data, VBS * 599};
	CHECK(RUN(V10(1, 100, 600), &shorter, 1, 0) == TCMU_STS_PASSTHROUGH_ERR && s[12] == 0x1a);
	/* BYTCHK 11b: every block of the range against the one sent */
	memset(data, 7, VBS);
	struct iovec one = {data, VBS};
	CHECK(RUN(V10(3, 7, 1), &one, 1, 0) == TCMU_STS_OK);
	CHECK(RUN(V10(3, 7, 2), &one, 1, 0) == TCMU_STS_PASSTHROUGH_ERR && s[2] == 0x0e && info(s) == VBS);
	CHECK(RUN(V10(3, 7, 2), &one, 1, 1) == TCMU_STS_PASSTHROUGH_ERR && s[2] == 5 && s[12] == 0x24);
	/* a read that fails: its error for the caller's translation */
	read_fail = -ESTALE;
	CHECK(RUN(V10(3, 7, 1), &one, 1, 0) == TCMU_STS_FENCED && rerr == -ESTALE);
	read_fail = -EIO;
	CHECK(RUN(V10(1, 100, 600), iov, 2, 0) == TCMU_STS_RD_ERR && rerr == -EIO);
	read_fail = 0;
	free(data);
#undef V10
#undef RUN
}

static void naa_is_lios_designator(void)
{
	uint8_t naa[16];
	/* the WWN the engine gives serial 0123456789abcdef0123456789abcdef */
	CHECK(vlun_naa_parse("naa.60014050123456789abcdef012345678", naa) == 0);
	static const uint8_t want[16] = {0x60, 0x01, 0x40, 0x50, 0x12, 0x34, 0x56, 0x78,
					 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78};
	CHECK(!memcmp(naa, want, 16));
	CHECK(vlun_naa_parse("naa.6001405012345678", naa) == -EINVAL && naa[0] == 0);
	CHECK(vlun_naa_parse("iqn.60014050123456789abcdef012345678", naa) == -EINVAL);
	CHECK(vlun_naa_parse("naa.60014050123456789abcdef01234567x", naa) == -EINVAL && naa[0] == 0);
}

/* an EXTENDED COPY parameter list: header, one identification target descriptor naming
 * the LUN with designator naa, one block -> block segment copying n blocks */
static void xcopy_list(uint8_t *p, const uint8_t naa[16], unsigned usage, uint8_t id,
		       uint16_t stdi, uint16_t dtdi, uint16_t n, uint64_t src, uint64_t dst)
{
	memset(p, 0, 76);
	p[0] = id;
	p[1] = (uint8_t)(usage << 3);
	p[3] = 32;  /* TARGET DESCRIPTOR LIST LENGTH */
	p[11] = 28; /* SEGMENT DESCRIPTOR LIST LENGTH */
	uint8_t *d = p + 16;
	d[0] = 0xe4;
	d[4] = 0x01; /* binary */
	d[5] = 0x03; /* NAA */
	d[7] = 16;
	memcpy(d + 8, naa, 16);
	uint8_t *g = p + 48;
	g[0] = 0x02;
	g[3] = 0x18;
	g[4] = (uint8_t)(stdi >> 8), g[5] = (uint8_t)stdi;
	g[6] = (uint8_t)(dtdi >> 8), g[7] = (uint8_t)dtdi;
	g[10] = (uint8_t)(n >> 8), g[11] = (uint8_t)n;
	for (int k = 0; k < 8; k++) {
		g[12 + k] = (uint8_t)(src >> (56 - 8 * k));
		g[20 + k] = (uint8_t)(dst >> (56 - 8 * k));
	}
}

static void xcopy_is_checked_before_the_runner(void)
{
	uint8_t naa[16], other[16], p[76], s[96];
	CHECK(vlun_naa_parse("naa.600140500112233445566778899aabbc", naa) == 0);
	CHECK(vlun_naa_parse("naa.6001405ffeeddccbbaa9988776655443", other) == 0);
	uint8_t cdb[16] = {0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 76, 0, 0};
	struct iovec iov[2] = {{p, 10}, {p + 10, 66}}; /* the header split over two iovecs */
#define XC(...) (xcopy_list(p, __VA_ARGS__), vlun_xcopy_check(cdb, iov, 2, naa, 100, s))
#define SENSE(k, a, q) (s[2] == (k) && s[12] == (a) && s[13] == (q))
	/* a good copy with a held list identifier: left to the runner, as 11b with id 0 */
	CHECK(XC(naa, 0, 1, 0, 0, 10, 0, 50) == TCMU_STS_NOT_HANDLED && p[0] == 0 && (p[1] & 0x18) == 0x18);
	CHECK(XC(naa, 2, 7, 0, 0, 10, 0, 50) == TCMU_STS_NOT_HANDLED && p[0] == 0 && (p[1] & 0x18) == 0x18);
	CHECK(XC(naa, 3, 0, 0, 0, 10, 0, 50) == TCMU_STS_NOT_HANDLED);
	/* list identifiers: 01b reserved, 11b only with 0 */
	CHECK(XC(naa, 1, 0, 0, 0, 10, 0, 50) == TCMU_STS_PASSTHROUGH_ERR && SENSE(5, 0x26, 0));
	CHECK(XC(naa, 3, 5, 0, 0, 10, 0, 50) == TCMU_STS_PASSTHROUGH_ERR && SENSE(5, 0x26, 0));
	/* descriptor types, LU ID TYPE */
	xcopy_list(p, naa, 0, 1, 0, 0, 10, 0, 50);
	p[16] = 0xe0;
	CHECK(vlun_xcopy_check(cdb, iov, 2, naa, 100, s) == TCMU_STS_PASSTHROUGH_ERR && SENSE(5, 0x26, 7));
	xcopy_list(p, naa, 0, 1, 0, 0, 10, 0, 50);
	p[17] = 0x80;
	CHECK(vlun_xcopy_check(cdb, iov, 2, naa, 100, s) == TCMU_STS_PASSTHROUGH_ERR && SENSE(5, 0x26, 0));
	xcopy_list(p, naa, 0, 1, 0, 0, 10, 0, 50);
	p[48] = 0x09; /* stream -> stream */
	CHECK(vlun_xcopy_check(cdb, iov, 2, naa, 100, s) == TCMU_STS_PASSTHROUGH_ERR && SENSE(5, 0x26, 9));
	/* segments the copy manager cannot do: COPY ABORTED, nothing rewritten */
	CHECK(XC(naa, 0, 1, 0, 1, 10, 0, 50) == TCMU_STS_PASSTHROUGH_ERR && SENSE(0x0a, 0x0d, 2) && p[0] == 1);
	xcopy_list(p, naa, 0, 1, 0, 0, 10, 0, 50);
	p[17] = 0x20; /* NUL */
	CHECK(vlun_xcopy_check(cdb, iov, 2, naa, 100, s) == TCMU_STS_PASSTHROUGH_ERR && SENSE(0x0a, 0x0d, 2));
	CHECK(XC(naa, 0, 1, 0, 0, 20, 0, 90) == TCMU_STS_PASSTHROUGH_ERR && SENSE(0x0a, 0x0d, 2));
	CHECK(XC(naa, 0, 1, 0, 0, 20, 90, 0) == TCMU_STS_PASSTHROUGH_ERR && SENSE(0x0a, 0x0d, 2));
	CHECK(XC(naa, 0, 1, 0, 0, 1, UINT64_MAX, 0) == TCMU_STS_PASSTHROUGH_ERR && SENSE(0x0a, 0x0d, 2));
	CHECK(XC(naa, 0, 1, 0, 0, 10, 0, 90) == TCMU_STS_NOT_HANDLED); /* ends at the end */
	/* another LUN's range is the runner's to check */
	CHECK(XC(other, 0, 1, 0, 0, 20, 0, 90) == TCMU_STS_NOT_HANDLED);
	/* lengths the runner checks itself, and other commands: untouched */
	cdb[13] = 8;
	CHECK(XC(naa, 0, 1, 0, 0, 10, 0, 50) == TCMU_STS_NOT_HANDLED && p[0] == 1);
	cdb[13] = 76;
	cdb[0] = 0x84;
	CHECK(XC(naa, 0, 1, 0, 0, 10, 0, 50) == TCMU_STS_NOT_HANDLED && p[0] == 1);
#undef XC
#undef SENSE
}

int main(void)
{
	get_lba_status_reports_runs();
	read_write_cdbs_give_lba_length_and_fua();
	cfgstrings_parse_exactly_when_valid();
	errors_map_to_the_right_sense();
	iovecs_copy_out_up_to_what_they_hold();
	fua_and_protection_bits_are_read_from_the_cdb();
	mode_sense_advertises_dpofua_and_wce();
	verify_checks_compares_and_refuses();
	naa_is_lios_designator();
	xcopy_is_checked_before_the_runner();
	printf("glue: all checks passed\n");
	return 0;
}
