/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the target configuration parser (files an admin writes, but also what a
 * config-management system generates).  A file that parses must be self-consistent. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tconf.h"
#include "vlun/engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0 && (fd = memfd_create("tconf", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct tconf c;
	struct tconf_errs e = {0};
	int r = tconf_parse(path, &c, &e);
	if (r) {
		if (e.count == 0 && r == -EINVAL)
			abort(); /* rejected without saying why */
		return 0;
	}
	if (!c.iqn[0] || !tconf_iqn_valid(c.iqn) || c.nr_blades == 0)
		abort();
	for (size_t i = 0; i < c.nr_volumes; i++)
		if (!tconf_pool(&c, c.volumes[i].pool) || !vl_name_valid(c.volumes[i].name))
			abort();
	/* shared pools: every blade has its own host id, and the pool fits them */
	for (size_t i = 0; i < c.nr_blades; i++)
		for (size_t j = 0; j < i; j++)
			if (c.blades[i].host_id && c.blades[i].host_id == c.blades[j].host_id)
				abort();
	for (size_t i = 0; i < c.nr_pools; i++) {
		const struct tconf_pool *p = &c.pools[i];
		if (!p->shared) {
			if (p->max_blades_line || p->max_volumes_line)
				abort();
			continue;
		}
		if (!p->max_blades || !p->max_volumes || !p->lease_io_timeout ||
		    p->lease_io_timeout > 300)
			abort();
		size_t nv = 0;
		for (size_t v = 0; v < c.nr_volumes; v++)
			nv += !strcmp(c.volumes[v].pool, p->name);
		if (nv > p->max_volumes)
			abort();
		for (size_t b = 0; b < c.nr_blades; b++)
			if (!c.blades[b].host_id || c.blades[b].host_id > p->max_blades)
				abort();
	}
	for (size_t i = 0; i < c.nr_exports; i++) {
		if (!tconf_volume(&c, c.exports[i].volume) || !tconf_blade(&c, c.exports[i].owner))
			abort();
		/* every export belongs to a VM (its own name by default), found by that name */
		const struct tconf_export *vm[1] = {NULL};
		if (!c.exports[i].vm[0] || strlen(c.exports[i].vm) > TCONF_NAME_MAX ||
		    tconf_vm_exports(&c, c.exports[i].vm, vm, 1) == 0 || !vm[0] ||
		    strcmp(vm[0]->vm, c.exports[i].vm))
			abort();
		for (size_t h = 0; h < c.exports[i].nr_hosts; h++)
			if (!tconf_host(&c, c.exports[i].hosts[h]))
				abort();
	}
	tconf_free(&c);
	return 0;
}
