/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "vlun-blade.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlun-sanlock.h"

/* one sanlock connection per process: leases live as long as the process */
static pthread_mutex_t prov_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vl_lease_ops prov_ops;
static void *prov_ctx;

/* Is wdmd running on this node?  Without it (and sanlock -w 1) nothing resets a hung
 * blade before its leases expire: after resuming it could write to volumes another
 * blade has taken over (seen, ../shared/docs/sanlock.md). */
static bool wdmd_runs(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return true; /* cannot tell: do not cry wolf */
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		FILE *f = fopen(path, "re");
		if (f) {
			found = fgets(comm, sizeof(comm), f) && !strcmp(comm, "wdmd\n");
			fclose(f);
		}
	}
	closedir(d);
	return found;
}

int blade_provider(const struct vl_lease_ops **ops, void **ctx)
{
	pthread_mutex_lock(&prov_lock);
	bool first = !prov_ctx;
	int r = prov_ctx ? 0 : vl_sanlock_provider(&prov_ops, &prov_ctx);
	pthread_mutex_unlock(&prov_lock);
	if (!r && first && !wdmd_runs() && !getenv("VLUN_NO_WATCHDOG_OK"))
		fprintf(stderr,
			"vlun: WARNING: no wdmd runs on this node. A shared pool needs wdmd and "
			"sanlock with its watchdog (sanlock daemon -w 1): without them a hung blade "
			"is not reset before its leases expire and, when it resumes, can write to "
			"volumes another blade has taken over. Start them (systemctl start wdmd "
			"sanlock; vlun installs a drop-in that runs sanlock with -w 1). See "
			"docs/multi-blade.md.\n");
	if (!r) {
		*ops = &prov_ops;
		*ctx = prov_ctx;
	}
	return r;
}

int blade_host_id(const char *dir, uint64_t override, uint64_t *host_id, struct vl_diag *d)
{
	*host_id = override;
	if (override)
		return 0;
	const char *e = getenv("VLUN_HOST_ID");
	if (e && *e) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(e, &end, 10);
		if (*end || errno || v < 1 || v > 2000) {
			snprintf(d->msg, sizeof(d->msg), "VLUN_HOST_ID='%s': not a host id (1-2000)", e);
			return -EINVAL;
		}
		*host_id = v;
		return 0;
	}
	struct bladeconf bc;
	int r = bladeconf_load(dir, &bc, d);
	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	*host_id = bc.host_id;
	return 0;
}

int blade_pool_open(const struct poolconf *pc, unsigned flags, uint64_t host_id,
		    struct vl_pool **out, struct vl_diag *d)
{
	struct vl_pool_open_opts o = {.host_id = host_id};
	if (host_id) {
		int r = blade_provider(&o.lease, &o.lease_ctx);
		if (r)
			return r;
	}
	return vl_pool_open_opts((const char *const *)pc->members, pc->nr_members, flags,
				 host_id ? &o : NULL, out, d);
}
