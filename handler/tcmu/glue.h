/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pure pieces of the handler, testable without tcmu-runner. */
#ifndef VLUN_GLUE_H
#define VLUN_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vlun/engine.h"

#define VLUN_SUBTYPE "vlun"
#define VLUN_CFG_MAX 255 /* the kernel's dev_config limit, without the NUL */

struct vlun_cfg {
	char pool[VL_NAME_MAX + 1];
	char volume[VL_NAME_MAX + 1];
};

/* Parse "vlun/POOL/VOLUME" (the "vlun/" prefix optional; tcmu-runner's own
 * ";tcmur_..." options ignored).  0, or -EINVAL with `why` set. */
int vlun_cfg_parse(const char *s, struct vlun_cfg *cfg, const char **why);

/* The single translation of an engine error to a SCSI status: fills `sense`
 * (96 bytes) where no canned status exists and returns a TCMU_STS_* value. */
int vlun_status(int err, bool write, uint8_t *sense);

/* Sense for a COMPARE AND WRITE whose data differs at byte `offset`. */
int vlun_miscompare(uint8_t *sense, uint32_t offset);

/* Copy the first n bytes held by an iovec array; returns the bytes copied. */
size_t vlun_iov_copy_out(void *dst, const struct iovec *iov, size_t cnt, size_t n);

/* FUA bit of a WRITE(10/12/16) CDB (false for other opcodes). */
bool vlun_cdb_fua(const uint8_t *cdb);

/* READ/WRITE(10/12/16): the fields the fast path needs (false for other opcodes,
 * and for READ/WRITE(6), which the runner's emulation serves). */
struct vlun_rw {
	uint64_t lba;
	uint32_t blocks;
	bool write, fua;
};
bool vlun_cdb_rw(const uint8_t *cdb, struct vlun_rw *rw);

/* Commands the handler answers itself, before tcmu-runner's emulation:
 * MODE SENSE (to advertise DPO/FUA support, which the runner's emulation
 * leaves out) and any READ/WRITE/VERIFY-type CDB with protection
 * information requested (the LUN has none).  Returns a TCMU_STS_* value, or
 * TCMU_STS_NOT_HANDLED to let the runner emulate.  `wce`: write cache on. */
/* GET LBA STATUS (SERVICE ACTION IN(16) / 0x12): descriptors of mapped / deallocated runs
 * from the starting LBA, filled through status(ctx, off, len, &mapped, &run) (0/-errno). */
typedef int (*vlun_status_fn)(void *ctx, uint64_t off, uint64_t len, bool *mapped, uint64_t *run);
int vlun_get_lba_status(const uint8_t *cdb, const struct iovec *iov, size_t iov_cnt,
			uint32_t block_size, uint64_t nr_blocks, vlun_status_fn status, void *ctx,
			uint8_t *sense);
/* VERIFY 10/12/16 (SBC-4 5.33-5.35): BYTCHK 00b checks the range; 01b compares the
 * data-out blocks with the medium and 11b every block of the range with the one block
 * sent, MISCOMPARE (0e/1d/00, INFORMATION = the offset of the first byte that differs)
 * when they differ; 10b and VRPROTECT are refused (INVALID FIELD IN CDB), as is a
 * BYTCHK 11b range longer than max_blocks (the LUN's maximum transfer; 0 no limit).
 * read(ctx, buf, len, byte offset) reads the volume; a read's error is returned in
 * *read_err (0 if none) besides its status.  Not a VERIFY: NOT_HANDLED. */
typedef int (*vlun_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);
bool vlun_is_verify(const uint8_t *cdb);
int vlun_verify(const uint8_t *cdb, const struct iovec *iov, size_t iov_cnt, uint32_t block_size,
		uint64_t nr_blocks, uint32_t max_blocks, vlun_read_fn read, void *ctx,
		uint8_t *sense, int *read_err);
/* The 16 bytes of a "naa." + 32 hex digits WWN (the engine's vl_vol_info.wwn: what LIO
 * reports in VPD page 0x83 for the volume's serial); -EINVAL (and zeros) otherwise. */
int vlun_naa_parse(const char *wwn, uint8_t naa[16]);
/* EXTENDED COPY (LID1), checked before tcmu-runner's emulation (SPC-4 6.4), which takes
 * only LIST ID USAGE 11b with LIST IDENTIFIER 0, one block -> block segment and two
 * target descriptors, and answers some errors with the wrong code: LIST ID USAGE 01b
 * (reserved) or 11b with another identifier, LU ID TYPE other than 00b: INVALID FIELD IN
 * PARAMETER LIST; a target descriptor other than identification (E4h): UNSUPPORTED
 * TARGET DESCRIPTOR TYPE CODE; a segment other than block -> block (02h): UNSUPPORTED
 * SEGMENT DESCRIPTOR TYPE CODE; a segment naming no target descriptor, a NUL one, or a
 * range beyond the end of this LUN (naa, nr_blocks): COPY ABORTED, COPY TARGET DEVICE
 * NOT REACHABLE.  Anything else goes to the runner (NOT_HANDLED), LIST ID USAGE 00b and
 * 10b rewritten in the data-out to 11b with identifier 0 (the copy ends with the
 * command: there is no status to hold). */
int vlun_xcopy_check(const uint8_t *cdb, const struct iovec *iov, size_t iov_cnt,
		     const uint8_t naa[16], uint64_t nr_blocks, uint8_t *sense);
int vlun_handle_cdb(const uint8_t *cdb, const struct iovec *iov, size_t iov_cnt, bool wce,
		    uint8_t *sense);

#endif
