/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "glue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcmu-abi.h"

int vlun_cfg_parse(const char *s, struct vlun_cfg *cfg, const char **why)
{
	const char *w = NULL;
	memset(cfg, 0, sizeof(*cfg));
	size_t n = s ? strnlen(s, VLUN_CFG_MAX + 1) : 0;
	if (!s || n == 0)
		w = "empty; expected POOL/VOLUME";
	else if (n > VLUN_CFG_MAX)
		w = "too long (at most 255 characters)";
	else {
		if (strncmp(s, VLUN_SUBTYPE "/", sizeof(VLUN_SUBTYPE)) == 0)
			s += sizeof(VLUN_SUBTYPE);
		size_t end = strcspn(s, ";"); /* runner options follow a ';' */
		const char *slash = memchr(s, '/', end);
		if (!slash)
			w = "expected POOL/VOLUME, e.g. pool0/vm1";
		else {
			size_t pl = (size_t)(slash - s), vl = end - pl - 1;
			if (pl == 0 || pl > VL_NAME_MAX || vl == 0 || vl > VL_NAME_MAX)
				w = "pool and volume names must be 1-63 characters";
			else {
				memcpy(cfg->pool, s, pl);
				memcpy(cfg->volume, slash + 1, vl);
				if (!vl_name_valid(cfg->pool))
					w = "invalid pool name (use A-Z a-z 0-9 _ - .)";
				else if (!vl_name_valid(cfg->volume))
					w = "invalid volume name (use A-Z a-z 0-9 _ - .)";
			}
		}
	}
	if (why)
		*why = w;
	if (w)
		memset(cfg, 0, sizeof(*cfg));
	return w ? -EINVAL : 0;
}

/* fixed-format sense data */
static int sense(uint8_t *buf, uint8_t key, uint8_t asc, uint8_t ascq)
{
	memset(buf, 0, 96);
	buf[0] = 0x70;
	buf[2] = key;
	buf[7] = 0x0a;
	buf[12] = asc;
	buf[13] = ascq;
	return TCMU_STS_PASSTHROUGH_ERR;
}

/* The buffer bytes [at, at + n) into dst; how many there were. */
static size_t iov_range(uint8_t *dst, const struct iovec *iov, size_t cnt, size_t at, size_t n)
{
	size_t done = 0;
	for (size_t i = 0; i < cnt && done < n; i++) {
		size_t l = iov[i].iov_len;
		if (at >= l) {
			at -= l;
			continue;
		}
		size_t t = l - at < n - done ? l - at : n - done;
		memcpy(dst + done, (const uint8_t *)iov[i].iov_base + at, t);
		done += t;
		at = 0;
	}
	return done;
}

/* The buffer bytes [at, at + n) from src. */
static void iov_put(const struct iovec *iov, size_t cnt, size_t at, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < cnt && n; i++) {
		size_t l = iov[i].iov_len;
		if (at >= l) {
			at -= l;
			continue;
		}
		size_t t = l - at < n ? l - at : n;
		memcpy((uint8_t *)iov[i].iov_base + at, src, t);
		src += t;
		n -= t;
		at = 0;
	}
}

int vlun_miscompare(uint8_t *buf, uint32_t offset)
{
	/* MISCOMPARE, MISCOMPARE DURING VERIFY OPERATION; INFORMATION = offset */
	int sts = sense(buf, 0x0e, 0x1d, 0x00);
	buf[0] |= 0x80; /* VALID */
	buf[3] = (uint8_t)(offset >> 24);
	buf[4] = (uint8_t)(offset >> 16);
	buf[5] = (uint8_t)(offset >> 8);
	buf[6] = (uint8_t)offset;
	return sts;
}

int vlun_status(int err, bool write, uint8_t *buf)
{
	switch (-err) {
	case 0:
		return TCMU_STS_OK;
	case ENOSPC: /* thin pool full: DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT */
		return sense(buf, 0x07, 0x27, 0x07);
	case ERANGE:
		return TCMU_STS_RANGE;
	case EROFS: /* DATA PROTECT, WRITE PROTECTED */
		return sense(buf, 0x07, 0x27, 0x00);
	case ESTALE:
		/* another blade owns the volume: a write is retried (BUSY) while the runner
		 * takes the volume over (lock); a read is refused at once like a Standby
		 * port's (NOT READY, 04/0B), so an initiator's scan of a path that is not the
		 * owner's fails fast instead of retrying for minutes */
		return write ? TCMU_STS_BUSY : TCMU_STS_FENCED;
	case ENOMEM:
	case EAGAIN:
		return TCMU_STS_BUSY;
	case EUCLEAN:
	case EBADMSG:
		return TCMU_STS_HW_ERR;
	default: /* EIO and anything unexpected from a member */
		return write ? TCMU_STS_WR_ERR : TCMU_STS_RD_ERR;
	}
}

bool vlun_cdb_fua(const uint8_t *cdb)
{
	struct vlun_rw rw;
	return vlun_cdb_rw(cdb, &rw) && rw.write && rw.fua;
}

size_t vlun_iov_copy_out(void *dst, const struct iovec *iov, size_t cnt, size_t n)
{
	return iov_range(dst, iov, cnt, 0, n);
}

static void copy_into_iov(const struct iovec *iov, size_t cnt, const uint8_t *src, size_t n)
{
	iov_put(iov, cnt, 0, src, n);
}

static int mode_sense(const uint8_t *cdb, const struct iovec *iov, size_t cnt, bool wce,
		      uint8_t *sbuf)
{
	bool ten = cdb[0] == 0x5a;
	uint8_t page = cdb[2] & 0x3f, sub = cdb[3];
	size_t alloc = ten ? ((size_t)cdb[7] << 8 | cdb[8]) : cdb[4];
	uint8_t buf[8 + 12 + 20 + 12];
	size_t hdr = ten ? 8 : 4, n = hdr;
	memset(buf, 0, sizeof(buf));
	bool all = page == 0x3f && (sub == 0 || sub == 0xff);
	if (!all && sub != 0)
		return sense(sbuf, 0x05, 0x24, 0x00);
	if (all || page == 0x01) { /* read-write error recovery */
		buf[n] = 0x01;
		buf[n + 1] = 0x0a;
		n += 12;
	}
	if (all || page == 0x08) { /* caching */
		buf[n] = 0x08;
		buf[n + 1] = 0x12;
		buf[n + 2] = wce ? 0x04 : 0;
		n += 20;
	}
	if (all || page == 0x0a) { /* control */
		buf[n] = 0x0a;
		buf[n + 1] = 0x0a;
		buf[n + 2] = 0x02;
		buf[n + 5] = 0x40;
		buf[n + 8] = 0xff;
		buf[n + 9] = 0xff;
		n += 12;
	}
	if (n == hdr)
		return sense(sbuf, 0x05, 0x24, 0x00); /* INVALID FIELD IN CDB */
	if (ten) {
		buf[0] = (uint8_t)((n - 2) >> 8);
		buf[1] = (uint8_t)(n - 2);
		buf[3] = 0x10; /* DPOFUA: DPO and FUA are supported */
	} else {
		buf[0] = (uint8_t)(n - 1);
		buf[2] = 0x10;
	}
	copy_into_iov(iov, cnt, buf, n < alloc ? n : alloc);
	return TCMU_STS_OK;
}

/* RD/WR/VRPROTECT must be zero: this LUN has no protection information */
static int protect_check(const uint8_t *cdb, uint8_t *sbuf)
{
	return cdb[1] & 0xe0 ? sense(sbuf, 0x05, 0x24, 0x00) : TCMU_STS_NOT_HANDLED;
}

static uint64_t get_be(const uint8_t *b, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

bool vlun_cdb_rw(const uint8_t *cdb, struct vlun_rw *rw)
{
	switch (cdb[0]) {
	case 0x28: /* READ(10) */
	case 0x2a: /* WRITE(10) */
		rw->lba = get_be(cdb + 2, 4);
		rw->blocks = (uint32_t)get_be(cdb + 7, 2);
		break;
	case 0xa8: /* READ(12) */
	case 0xaa: /* WRITE(12) */
		rw->lba = get_be(cdb + 2, 4);
		rw->blocks = (uint32_t)get_be(cdb + 6, 4);
		break;
	case 0x88: /* READ(16) */
	case 0x8a: /* WRITE(16) */
		rw->lba = get_be(cdb + 2, 8);
		rw->blocks = (uint32_t)get_be(cdb + 10, 4);
		break;
	default:
		return false;
	}
	rw->write = cdb[0] & 0x02;
	rw->fua = cdb[1] & 0x08;
	return true;
}

static void put_be(uint8_t *b, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

int vlun_get_lba_status(const uint8_t *cdb, const struct iovec *iov, size_t iov_cnt,
			uint32_t bs, uint64_t nr_blocks, vlun_status_fn status, void *ctx,
			uint8_t *sbuf)
{
	uint64_t lba = get_be(cdb + 2, 8);
	uint32_t alloc = (uint32_t)cdb[10] << 24 | (uint32_t)cdb[11] << 16 | (uint32_t)cdb[12] << 8 | cdb[13];
	if (lba >= nr_blocks)
		return sense(sbuf, 0x05, 0x21, 0x00); /* LBA OUT OF RANGE */
	if (alloc == 0)
		return TCMU_STS_OK;
	/* header + up to 64 descriptors, each a run of one provisioning status */
	uint8_t buf[8 + 64 * 16];
	memset(buf, 0, sizeof(buf));
	size_t n = 0, max = alloc < 24 ? 1 : (alloc - 8) / 16;
	if (max > 64)
		max = 64;
	while (n < max && lba < nr_blocks) {
		bool mapped;
		uint64_t run, left = (nr_blocks - lba) * bs;
		int r = status(ctx, lba * bs, left, &mapped, &run);
		if (r)
			return vlun_status(r, false, sbuf);
		uint64_t blocks = run / bs ? run / bs : 1;
		if (blocks > 0xffffffffu)
			blocks = 0xffffffffu;
		uint8_t *d = buf + 8 + 16 * n++;
		put_be(d, lba, 8);
		put_be(d + 8, blocks, 4);
		d[12] = mapped ? 0 : 1; /* 0 mapped, 1 deallocated */
		lba += blocks;
	}
	put_be(buf, 4 + 16 * n, 4); /* PARAMETER DATA LENGTH: bytes after this field */
	size_t len = 8 + 16 * n, done = 0;
	if (len > alloc)
		len = alloc;
	for (size_t i = 0; i < iov_cnt && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
		memcpy(iov[i].iov_base, buf + done, k);
		done += k;
	}
	return TCMU_STS_OK;
}

bool vlun_is_verify(const uint8_t *cdb)
{
	return cdb[0] == 0x2f || cdb[0] == 0xaf || cdb[0] == 0x8f;
}

#define VERIFY_CHUNK (256u << 10)

int vlun_verify(const uint8_t *cdb, const struct iovec *iov, size_t iov_cnt, uint32_t bs,
		uint64_t nr_blocks, uint32_t max_blocks, vlun_read_fn read, void *ctx,
		uint8_t *sbuf, int *read_err)
{
	uint64_t lba, n;
	*read_err = 0;
	switch (cdb[0]) {
	case 0x2f: lba = get_be(cdb + 2, 4); n = get_be(cdb + 7, 2); break;  /* VERIFY(10) */
	case 0xaf: lba = get_be(cdb + 2, 4); n = get_be(cdb + 6, 4); break;  /* VERIFY(12) */
	case 0x8f: lba = get_be(cdb + 2, 8); n = get_be(cdb + 10, 4); break; /* VERIFY(16) */
	default: return TCMU_STS_NOT_HANDLED;
	}
	unsigned bytchk = (cdb[1] >> 1) & 3;
	if (cdb[1] & 0xe0 || bytchk == 2) /* VRPROTECT (no protection information here), 10b */
		return sense(sbuf, 0x05, 0x24, 0x00);
	uint64_t end;
	if (__builtin_add_overflow(lba, n, &end) || end > nr_blocks || lba > nr_blocks)
		return sense(sbuf, 0x05, 0x21, 0x00); /* LBA OUT OF RANGE */
	if (bytchk == 0 || n == 0)
		return TCMU_STS_OK; /* the medium: nothing here can be unreadable but an I/O error,
				     * which the reads of the LUN report as they happen */
	/* 11b reads the whole range for one block sent: as long as a transfer may be */
	if (bytchk == 3 && max_blocks && n > max_blocks)
		return sense(sbuf, 0x05, 0x24, 0x00);
	uint64_t total = n * bs, sent = 0; /* (n < 2^32, bs <= 2^16) */
	for (size_t i = 0; i < iov_cnt; i++)
		sent += iov[i].iov_len;
	if (sent < (bytchk == 1 ? total : bs))
		return sense(sbuf, 0x05, 0x1a, 0x00); /* PARAMETER LIST LENGTH ERROR */
	size_t chunk = total < VERIFY_CHUNK ? (size_t)total : VERIFY_CHUNK / bs * bs;
	/* (aligned: a shared pool reads with O_DIRECT) */
	uint8_t *disk = aligned_alloc(4096, (chunk + 4095) & ~(size_t)4095), *want = malloc(chunk);
	int sts = TCMU_STS_OK;
	if (!disk || !want) {
		sts = TCMU_STS_BUSY;
		goto out;
	}
	if (bytchk == 3) /* the one block, repeated over the chunk */
		for (size_t k = 0; k < chunk; k += bs)
			iov_range(want + k, iov, iov_cnt, 0, bs);
	for (uint64_t done = 0; done < total; done += chunk) {
		size_t len = total - done < chunk ? (size_t)(total - done) : chunk;
		int r = read(ctx, disk, len, lba * bs + done);
		if (r) {
			*read_err = r;
			sts = vlun_status(r, false, sbuf);
			goto out;
		}
		if (bytchk == 1)
			iov_range(want, iov, iov_cnt, (size_t)done, len);
		if (memcmp(disk, want, len)) {
			size_t k = 0;
			while (disk[k] == want[k])
				k++;
			/* the offset of the first byte that differs, in the range verified */
			sts = vlun_miscompare(sbuf, (uint32_t)(done + k));
			goto out;
		}
	}
out:
	free(disk);
	free(want);
	return sts;
}

int vlun_naa_parse(const char *wwn, uint8_t naa[16])
{
	memset(naa, 0, 16);
	if (strncmp(wwn, "naa.", 4) || strlen(wwn) != 4 + 32)
		return -EINVAL;
	for (int k = 0; k < 32; k++) {
		char c = wwn[4 + k];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0) {
			memset(naa, 0, 16);
			return -EINVAL;
		}
		naa[k / 2] |= (uint8_t)(k % 2 ? v : v << 4);
	}
	return 0;
}

#define XCOPY_TD_LEN 32   /* a target descriptor */
#define XCOPY_B2B_LEN 28  /* a block -> block segment descriptor */
#define XCOPY_LISTS_MAX 1024

/* COPY ABORTED, COPY TARGET DEVICE NOT REACHABLE (what LIO answers for a copy it cannot do) */
static int copy_aborted(uint8_t *sbuf) { return sense(sbuf, 0x0a, 0x0d, 0x02); }

int vlun_xcopy_check(const uint8_t *cdb, const struct iovec *iov, size_t iov_cnt,
		     const uint8_t naa[16], uint64_t nr_blocks, uint8_t *sbuf)
{
	if (cdb[0] != 0x83 || (cdb[1] & 0x1f) != 0) /* EXTENDED COPY (LID1) */
		return TCMU_STS_NOT_HANDLED;
	uint8_t p[16 + XCOPY_LISTS_MAX];
	uint64_t len = get_be(cdb + 10, 4);
	size_t got = iov_range(p, iov, iov_cnt, 0, len < sizeof(p) ? (size_t)len : sizeof(p));
	if (len < 16 || got < 16)
		return TCMU_STS_NOT_HANDLED; /* the runner's own length checks answer it */
	unsigned usage = (p[1] >> 3) & 3;
	if (usage == 1 || (usage == 3 && p[0] != 0)) /* reserved; 11b takes list identifier 0 */
		return sense(sbuf, 0x05, 0x26, 0x00);   /* INVALID FIELD IN PARAMETER LIST */
	uint32_t tdl = (uint32_t)get_be(p + 2, 2), sdl = (uint32_t)get_be(p + 8, 4);
	/* lengths the runner checks (and answers) itself: leave them to it */
	if (tdl % XCOPY_TD_LEN || sdl < 8 || tdl + (uint64_t)sdl > XCOPY_LISTS_MAX ||
	    got < 16 + tdl + (uint64_t)sdl)
		goto runner;
	uint32_t ntd = tdl / XCOPY_TD_LEN;
	for (uint32_t i = 0; i < ntd; i++) {
		const uint8_t *d = p + 16 + i * XCOPY_TD_LEN;
		if (d[0] != 0xe4) /* only identification descriptors */
			return sense(sbuf, 0x05, 0x26, 0x07); /* UNSUPPORTED TARGET DESCRIPTOR TYPE CODE */
		if (d[1] >> 6) /* LU ID TYPE: only 00b (the designator names the LU) */
			return sense(sbuf, 0x05, 0x26, 0x00);
	}
	const uint8_t *sd = p + 16 + tdl;
	if (sd[0] != 0x02) /* only block -> block */
		return sense(sbuf, 0x05, 0x26, 0x09); /* UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE */
	if (sdl < XCOPY_B2B_LEN || get_be(sd + 2, 2) != XCOPY_B2B_LEN - 4)
		goto runner;
	uint32_t idx[2] = {(uint32_t)get_be(sd + 4, 2), (uint32_t)get_be(sd + 6, 2)};
	uint64_t n = get_be(sd + 10, 2), lba[2] = {get_be(sd + 12, 8), get_be(sd + 20, 8)};
	for (int k = 0; k < 2; k++) {
		if (idx[k] >= ntd)
			return copy_aborted(sbuf); /* names no target descriptor */
		const uint8_t *d = p + 16 + idx[k] * XCOPY_TD_LEN;
		if (d[1] & 0x20)
			return copy_aborted(sbuf); /* NUL: no device to copy from or to */
		uint64_t end;
		if (d[7] == 16 && !memcmp(d + 8, naa, 16) &&
		    (__builtin_add_overflow(lba[k], n, &end) || end > nr_blocks))
			return copy_aborted(sbuf); /* this LUN, beyond its end */
	}
runner:
	if (usage == 0 || usage == 2) {
		/* 00b, 10b: the copy completes before the command does, so there is no status
		 * to hold for the list identifier; as 11b (identifier 0) the runner takes it */
		p[0] = 0;
		p[1] |= 3 << 3;
		iov_put(iov, iov_cnt, 0, p, 2);
	}
	return TCMU_STS_NOT_HANDLED;
}

int vlun_handle_cdb(const uint8_t *cdb, const struct iovec *iov, size_t iov_cnt, bool wce,
		    uint8_t *sbuf)
{
	switch (cdb[0]) {
	case 0x12: /* INQUIRY */
	case 0x9e: /* SERVICE ACTION IN(16): READ CAPACITY(16), GET LBA STATUS */
		/* tcmu-runner emulates these but writes only its own bytes: zero the
		 * whole data-in buffer first so nothing stale is sent as padding */
		for (size_t i = 0; i < iov_cnt; i++)
			memset(iov[i].iov_base, 0, iov[i].iov_len);
		return TCMU_STS_NOT_HANDLED;
	case 0x1a: /* MODE SENSE(6) */
	case 0x5a: /* MODE SENSE(10) */
		return mode_sense(cdb, iov, iov_cnt, wce, sbuf);
	case 0x41: case 0x93:            /* WRITE SAME 10/16 */
		if (cdb[1] & 0x10) /* ANCHOR: anchored LBAs are not supported (ANC_SUP=0) */
			return sense(sbuf, 0x05, 0x24, 0x00);
		return protect_check(cdb, sbuf);
	case 0x28: case 0xa8: case 0x88: /* READ 10/12/16 */
	case 0x2a: case 0xaa: case 0x8a: /* WRITE 10/12/16 */
	case 0x2e: case 0xae: case 0x8e: /* WRITE AND VERIFY 10/12/16 */
	case 0x89:                       /* COMPARE AND WRITE */
		return protect_check(cdb, sbuf);
	default:
		return TCMU_STS_NOT_HANDLED;
	}
}
