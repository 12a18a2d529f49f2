/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: open a pool from hostile member bytes.
 *
 * A valid two-member pool (two volumes, index and map pages) is made once;
 * each input is a list of patches to its metadata (superblocks, volume
 * table, metadata blocks) - optionally re-sealed with a correct checksum so
 * the fuzzer gets past the CRC into the structural checks.  The pool is then
 * assembled, every volume opened and read, and the pool checked.  Nothing
 * may crash, hang, leak or trip a sanitizer.
 *
 * Record format: member:u8, block:u16le, offset:u16le, len:u8, reseal:u8, bytes[len]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "vlun/engine.h"

#define MB (1ull << 20)
static char paths[2][256];
static const char *pp[2] = {paths[0], paths[1]};
static uint8_t *tmpl[2];
static uint64_t meta_end; /* bytes of metadata before the data area */
static int fds[2];

static void die(const char *what)
{
	perror(what);
	abort();
}

static char tdir[200];
static void remove_template(void)
{
	unlink(paths[0]);
	unlink(paths[1]);
	rmdir(tdir);
}

static void make_template(void)
{
	const char *base = getenv("VLUN_TEST_TMPDIR");
	char *dir = tdir;
	snprintf(tdir, sizeof(tdir), "%s/vlun-fuzz-XXXXXX", base ? base : "/var/tmp");
	if (!mkdtemp(tdir))
		die("mkdtemp");
	atexit(remove_template);
	for (int i = 0; i < 2; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/m%d", dir, i);
		int fd = open(paths[i], O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, 16 * MB) < 0)
			die("member");
		close(fd);
	}
	struct vl_pool *p;
	struct vl_diag d;
	struct vl_pool_create_opts o = {.extent_size = 64 * 1024, .max_volumes = 4};
	if (vl_pool_create("fz", pp, 2, &o, &p, &d) ||
	    vl_vol_create(p, "a", 128 * MB, NULL, &d) || vl_vol_create(p, "b", 4 * MB, NULL, &d))
		die(d.msg);
	struct vl_vol *v;
	uint8_t blk[4096];
	memset(blk, 0x42, sizeof(blk));
	if (vl_vol_open(p, "a", &v, &d))
		die(d.msg);
	vl_vol_write(v, blk, 4096, 0, 0);
	vl_vol_write(v, blk, 4096, 70 * MB, 0);
	vl_vol_close(v);
	if (vl_vol_open(p, "b", &v, &d))
		die(d.msg);
	vl_vol_write(v, blk, 4096, 4096, 0);
	vl_vol_close(v);
	vl_pool_close(p);
	for (int i = 0; i < 2; i++) {
		fds[i] = open(paths[i], O_RDWR);
		struct vl_sb sb;
		if (pread(fds[i], &sb, sizeof(sb), VL_BLK) != (ssize_t)sizeof(sb))
			die("read sb");
		meta_end = sb.data_off;
		tmpl[i] = malloc(meta_end);
		if (pread(fds[i], tmpl[i], meta_end, 0) != (ssize_t)meta_end)
			die("read template");
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	make_template();
	return 0;
}

static void reseal(uint8_t *blk)
{
	struct vl_blkhdr *h = (struct vl_blkhdr *)blk;
	h->crc = 0;
	h->crc = vl_crc32c(0, blk, VL_BLK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t touched[2][64];
	int nt[2] = {0, 0};
	uint8_t blk[VL_BLK];
	size_t pos = 0;
	while (pos + 7 <= size && nt[0] + nt[1] < 100) {
		int mi = data[pos] & 1;
		uint64_t nblocks = meta_end / VL_BLK;
		uint64_t b = ((uint64_t)data[pos + 1] | (uint64_t)data[pos + 2] << 8) % nblocks;
		unsigned off = ((unsigned)data[pos + 3] | (unsigned)data[pos + 4] << 8) % VL_BLK;
		unsigned len = data[pos + 5];
		bool rs = data[pos + 6] & 1;
		pos += 7;
		if (len > size - pos)
			len = (unsigned)(size - pos);
		if (off + len > VL_BLK)
			len = VL_BLK - off;
		if (pread(fds[mi], blk, VL_BLK, (off_t)(b * VL_BLK)) != VL_BLK)
			abort();
		memcpy(blk + off, data + pos, len);
		pos += len;
		if (rs)
			reseal(blk);
		if (pwrite(fds[mi], blk, VL_BLK, (off_t)(b * VL_BLK)) != VL_BLK)
			abort();
		if (nt[mi] < 64)
			touched[mi][nt[mi]++] = b;
	}
	struct vl_pool *p;
	struct vl_diag d;
	if (vl_pool_open(pp, 2, VL_OPEN_RDONLY, &p, &d) == 0) {
		uint32_t n = vl_pool_nr_volumes(p);
		for (uint32_t i = 0; i < n; i++) {
			struct vl_vol_info vi;
			struct vl_vol *v;
			if (vl_vol_info_at(p, i, &vi) || vl_vol_open(p, vi.name, &v, &d))
				continue;
			uint8_t buf[8192];
			uint64_t sz = vl_vol_size(v);
			vl_vol_read(v, buf, sizeof(buf) < sz ? sizeof(buf) : sz, 0);
			if (sz > 70 * MB + 8192)
				vl_vol_read(v, buf, sizeof(buf), 70 * MB);
			vl_vol_close(v);
		}
		struct vl_check_result res;
		vl_pool_check(p, false, NULL, NULL, &res);
		struct vl_pool_info pi;
		vl_pool_get_info(p, &pi);
		vl_pool_close(p);
	}
	for (int mi = 0; mi < 2; mi++)
		for (int k = 0; k < nt[mi]; k++)
			if (pwrite(fds[mi], tmpl[mi] + touched[mi][k] * VL_BLK, VL_BLK,
				   (off_t)(touched[mi][k] * VL_BLK)) != VL_BLK)
				abort();
	return 0;
}
