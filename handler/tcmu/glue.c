/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "glue.h"

#include <errno.h>
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
	switch (cdb[0]) {
	case 0x2a: /* WRITE(10) */
	case 0xaa: /* WRITE(12) */
	case 0x8a: /* WRITE(16) */
		return cdb[1] & 0x08;
	default:
		return false;
	}
}
