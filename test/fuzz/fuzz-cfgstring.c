/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the handler's cfgstring parser (any local user can send one
 * over D-Bus), its CDB pre-checks and VERIFY (an initiator's CDB and data-out).
 * Parsed names must be valid names; VERIFY reads only inside the volume. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glue.h"
#include "tcmu-abi.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

/* a volume of 64 blocks of 512 bytes, all zero */
static int zero_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	(void)ctx;
	if (off % 512 || len % 512 || off + len > 64 * 512)
		abort();
	memset(buf, 0, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	struct vlun_cfg c;
	const char *why;
	if (vlun_cfg_parse(s, &c, &why) == 0) {
		if (!vl_name_valid(c.pool) || !vl_name_valid(c.volume))
			abort();
	} else if (!why) {
		abort();
	}
	free(s);
	if (size >= 16) {
		uint8_t cdb[16], out[64], sense[96];
		memcpy(cdb, data, 16);
		struct iovec iov = {out, (size_t)(data[15] % 64)};
		int r = vlun_handle_cdb(cdb, &iov, 1, data[14] & 1, sense);
		if (r != TCMU_STS_OK && r != TCMU_STS_NOT_HANDLED && r != TCMU_STS_PASSTHROUGH_ERR)
			abort();
		static const uint8_t ops[4] = {0x2f, 0xaf, 0x8f, 0x83};
		cdb[0] = ops[data[13] & 3];
		/* a writable copy: EXTENDED COPY's check may rewrite its header */
		uint8_t *rest = malloc(size - 16 + 1);
		if (!rest)
			return 0;
		memcpy(rest, data + 16, size - 16);
		rest[size - 16] = 0;
		struct iovec dout = {rest, size - 16};
		int rerr = 1;
		r = vlun_verify(cdb, &dout, 1, 512, 64, data[12] % 8, zero_read, NULL, sense, &rerr);
		if ((r != TCMU_STS_OK && r != TCMU_STS_NOT_HANDLED && r != TCMU_STS_PASSTHROUGH_ERR &&
		     r != TCMU_STS_BUSY) || rerr)
			abort();
		/* EXTENDED COPY's checks over the same bytes as its parameter list */
		uint8_t naa[16];
		char wwn[40];
		snprintf(wwn, sizeof(wwn), "naa.%s", (const char *)rest);
		(void)vlun_naa_parse(wwn, naa);
		r = vlun_xcopy_check(cdb, &dout, 1, naa, 64, sense);
		free(rest);
		if (r != TCMU_STS_NOT_HANDLED && r != TCMU_STS_PASSTHROUGH_ERR)
			abort();
	}
	return 0;
}
