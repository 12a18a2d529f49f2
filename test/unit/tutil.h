/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tiny helpers for the unit tests: checks that abort with a location,
 * scratch directories removed at exit. */
#ifndef VLUN_TUTIL_H
#define VLUN_TUTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vlun/engine.h"

#define CHECK(c)                                                                             \
	do {                                                                                 \
		if (!(c)) {                                                                  \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                             \
		}                                                                            \
	} while (0)
#define CHECK_RC(expr, want)                                                                 \
	do {                                                                                 \
		long _r = (long)(expr), _w = (long)(want);                                   \
		if (_r != _w) {                                                              \
			fprintf(stderr, "%s:%d: %s returned %ld (%s), expected %ld\n", __FILE__, \
				__LINE__, #expr, _r, strerror((int)-_r), _w);                \
			abort();                                                             \
		}                                                                            \
	} while (0)
#define CHECK_OK(expr) CHECK_RC(expr, 0)
#define CHECK_MSG(d, needle)                                                                 \
	do {                                                                                 \
		if (!strstr((d).msg, needle)) {                                              \
			fprintf(stderr, "%s:%d: message '%s' lacks '%s'\n", __FILE__, __LINE__,  \
				(d).msg, needle);                                            \
			abort();                                                             \
		}                                                                            \
	} while (0)

static char tu_dir[256];

static int tu_rm(const char *p, const struct stat *s, int f, struct FTW *w)
{
	return remove(p);
}

static void tu_cleanup(void)
{
	if (tu_dir[0] && !getenv("VLUN_KEEP_TEST_FILES"))
		nftw(tu_dir, tu_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh scratch directory (under $VLUN_TEST_TMPDIR, else /var/tmp). */
static inline const char *tu_tmpdir(void)
{
	if (!tu_dir[0]) {
		const char *base = getenv("VLUN_TEST_TMPDIR");
		snprintf(tu_dir, sizeof(tu_dir), "%s/vlun-test-XXXXXX", base ? base : "/var/tmp");
		CHECK(mkdtemp(tu_dir));
		atexit(tu_cleanup);
	}
	return tu_dir;
}

/* Create (or recreate) a sparse file of `size` bytes; returns its path (static storage
 * per index). */
static inline const char *tu_file(int idx, uint64_t size)
{
	static char paths[64][300];
	snprintf(paths[idx], sizeof(paths[idx]), "%s/m%d", tu_tmpdir(), idx);
	int fd = open(paths[idx], O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0);
	close(fd);
	return paths[idx];
}

static inline uint64_t tu_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Fill a 4 KiB block with a recognisable tag. */
static inline void tu_tag(void *blk, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t *w = blk;
	for (int i = 0; i < 1024; i += 4) {
		w[i] = 0x564c554e; /* VLUN */
		w[i + 1] = a;
		w[i + 2] = b;
		w[i + 3] = c ^ (uint32_t)i;
	}
}

/* Returns 1 and the tag if blk is a consistent tag block, 0 if all zero, -1 otherwise. */
static inline int tu_untag(const void *blk, uint32_t *a, uint32_t *b, uint32_t *c)
{
	const uint32_t *w = blk;
	bool zero = true;
	for (int i = 0; i < 1024 && zero; i++)
		zero = w[i] == 0;
	if (zero)
		return 0;
	for (int i = 0; i < 1024; i += 4)
		if (w[i] != 0x564c554e || w[i + 1] != w[1] || w[i + 2] != w[2] ||
		    (w[i + 3] ^ (uint32_t)i) != w[3])
			return -1;
	*a = w[1];
	*b = w[2];
	*c = w[3];
	return 1;
}

#endif
