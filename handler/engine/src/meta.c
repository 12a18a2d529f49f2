/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metadata blocks: every block is written to each metadata mirror and read
 * from the first mirror whose copy verifies; bad copies are rewritten. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void vl_pool_finding(struct vl_pool *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char **nf = realloc(p->findings, (p->nr_findings + 1) * sizeof(*nf));
	if (!nf)
		return;
	p->findings = nf;
	nf[p->nr_findings] = strdup(buf);
	if (nf[p->nr_findings])
		p->nr_findings++;
}

int vl_meta_write_blk(struct vl_pool *p, uint64_t off, const void *blk)
{
	for (uint32_t i = 0; i < p->sb.nr_mirrors; i++) {
		int r = vl_io_write(p, p->sb.mirrors[i], blk, VL_BLK, off, true);
		if (r)
			return r;
	}
	return 0;
}

int vl_meta_sync(struct vl_pool *p)
{
	for (uint32_t i = 0; i < p->sb.nr_mirrors; i++) {
		int r = vl_io_sync(p, p->sb.mirrors[i]);
		if (r)
			return r;
	}
	return 0;
}

int vl_meta_read_blk(struct vl_pool *p, uint64_t off, void *blk, uint16_t type,
		     const uint8_t *obj_uuid, uint64_t index, bool repair)
{
	/* Every copy is read and verified, so a bad copy is found (and rewritten)
	 * at open, not only when the good one fails later. */
	int good = -1;
	bool bad[4] = {false};
	uint8_t *other = aligned_alloc(VL_BLK, VL_BLK);
	if (!other)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->sb.nr_mirrors; i++) {
		uint32_t mi = p->sb.mirrors[i];
		void *b = good < 0 ? blk : other;
		if (vl_io_read(p, mi, b, VL_BLK, off) == 0 &&
		    vl_blk_verify(b, type, p->uuid, obj_uuid, index) == 0) {
			if (good < 0)
				good = (int)i;
			else if (memcmp(blk, other, VL_BLK) != 0)
				bad[i] = true; /* valid but different: the first one wins */
		} else {
			bad[i] = true;
		}
	}
	free(other);
	if (good < 0)
		return -EBADMSG;
	for (uint32_t i = 0; i < p->sb.nr_mirrors; i++) {
		uint32_t mi = p->sb.mirrors[i];
		if (!bad[i])
			continue;
		/* in a shared pool only the owner may write: another blade reading in the
		 * middle of the owner's commit sees copies that differ for a moment */
		if (repair && !(p->flags & VL_OPEN_RDONLY) && !p->is_shared &&
		    vl_io_write(p, mi, blk, VL_BLK, off, true) == 0) {
			p->repairs++;
			vl_pool_finding(p, "repaired: metadata block at offset %llu on %s (bad copy, "
					   "rewritten from the mirror on %s)",
					(unsigned long long)off, p->m[mi].path,
					p->m[p->sb.mirrors[good]].path);
		} else {
			vl_pool_finding(p, "bad copy: metadata block at offset %llu on %s",
					(unsigned long long)off, p->m[mi].path);
		}
	}
	return 0;
}
