/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: vlun-hostd's parsers of bytes from elsewhere (tools/vlun-hostd): kernel
 * uevents (a forged one from another process is refused before parsing, but the parser
 * trusts nothing) and multipathd's "show map NAME json" answers.  The first byte picks:
 * even = a uevent, odd = a map answer.  What parses must keep every bound the structs
 * promise. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpmap.h"
#include "uevent.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

static void check_uevent(const uint8_t *data, size_t size)
{
	static char buf[UEVENT_MAX + 1];
	if (size > UEVENT_MAX)
		return;
	memcpy(buf, data, size);
	struct uevent ev;
	if (uevent_parse(buf, size, &ev))
		return;
	if (!ev.action || !ev.devpath || ev.devpath[0] != '/')
		abort();
	char hctl[UEVENT_HCTL_MAX];
	if (uevent_alua_change(&ev, hctl)) {
		size_t n = strnlen(hctl, sizeof(hctl));
		if (n == sizeof(hctl) || strspn(hctl, "0123456789:") != n)
			abort();
	}
}

static void check_map(const uint8_t *data, size_t size)
{
	struct mpmap m;
	char err[200];
	if (mpmap_parse((const char *)data, size, &m, err, sizeof(err))) {
		if (m.nr_groups || m.name[0] || !err[0])
			abort();
		return;
	}
	if (!m.name[0] || strnlen(m.name, sizeof(m.name)) == sizeof(m.name) || m.nr_groups > MPMAP_GROUPS)
		abort();
	for (unsigned i = 0; i < m.nr_groups; i++) {
		if (m.g[i].number != i + 1 || m.g[i].nr_paths > MPMAP_PATHS)
			abort();
		for (unsigned k = 0; k < m.g[i].nr_paths; k++) {
			const char *d = m.g[i].dev[k];
			if (!d[0] || strchr(d, '/') || !strcmp(d, "..") || mpmap_group_of(&m, d) == 0)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > (1 << 16))
		return 0;
	if (data[0] & 1)
		check_map(data + 1, size - 1);
	else
		check_uevent(data + 1, size - 1);
	return 0;
}
