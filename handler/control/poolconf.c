/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "poolconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <iniparser/iniparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *poolconf_dir(const char *opt)
{
	if (opt && *opt)
		return opt;
	const char *e = getenv("VLUN_CONFIG_DIR");
	return e && *e ? e : POOLCONF_DEFAULT_DIR;
}

static int quiet_errors(const char *fmt, ...) { return 0; }

void poolconf_free(struct poolconf *pc)
{
	for (size_t i = 0; i < pc->nr_members; i++)
		free(pc->members[i]);
	free(pc->members);
	pc->members = NULL;
	pc->nr_members = 0;
}

int poolconf_load(const char *dir, const char *name, struct poolconf *pc, struct vl_diag *d)
{
	memset(pc, 0, sizeof(*pc));
	if (!vl_name_valid(name)) {
		snprintf(d->msg, sizeof(d->msg), "invalid pool name '%s'", name);
		return -EINVAL;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/pools/%s.conf", dir, name);
	if (access(path, R_OK) != 0) {
		int e = errno;
		snprintf(d->msg, sizeof(d->msg),
			 "no pool '%s' defined (%s: %s); see 'vlunctl pool list', or 'vlunctl pool "
			 "assemble DEVICE...' for a pool whose definition is missing",
			 name, path, strerror(e));
		return e == ENOENT ? -ENOENT : -e;
	}
	iniparser_set_error_callback(quiet_errors);
	dictionary *ini = iniparser_load(path);
	if (!ini) {
		snprintf(d->msg, sizeof(d->msg), "%s: cannot parse", path);
		return -EINVAL;
	}
	int r = 0;
	const char *n = iniparser_getstring(ini, "pool:name", "");
	const char *u = iniparser_getstring(ini, "pool:uuid", "");
	snprintf(pc->name, sizeof(pc->name), "%s", n);
	snprintf(pc->uuid, sizeof(pc->uuid), "%s", u);
	int nk = iniparser_getsecnkeys(ini, "members");
	if (strcmp(n, name) != 0 || nk <= 0 || nk > VL_MAX_MEMBERS) {
		snprintf(d->msg, sizeof(d->msg),
			 "%s: needs [pool] name = %s and a [members] section with 1-%d entries",
			 path, name, VL_MAX_MEMBERS);
		r = -EINVAL;
		goto out;
	}
	const char **keys = calloc((size_t)nk, sizeof(*keys));
	pc->members = calloc((size_t)nk, sizeof(char *));
	if (!keys || !pc->members) {
		free(keys);
		r = -ENOMEM;
		goto out;
	}
	iniparser_getseckeys(ini, "members", keys);
	for (int i = 0; i < nk; i++) {
		const char *v = iniparser_getstring(ini, keys[i], "");
		if (!*v)
			continue;
		pc->members[pc->nr_members] = strdup(v);
		if (!pc->members[pc->nr_members]) {
			r = -ENOMEM;
			break;
		}
		pc->nr_members++;
	}
	free(keys);
out:
	iniparser_freedict(ini);
	if (r)
		poolconf_free(pc);
	return r;
}

static int mkdir_p(const char *dir)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Write <subdir>/<file> of dir atomically (temp file, fsync, rename) with fill(). */
static int save_file(const char *dir, const char *subdir, const char *file,
		     void (*fill)(FILE *f, const void *arg), const void *arg, struct vl_diag *d)
{
	char pdir[4096], path[4400], tmp[4500];
	snprintf(pdir, sizeof(pdir), "%s%s%s", dir, subdir ? "/" : "", subdir ? subdir : "");
	int r = mkdir_p(pdir);
	if (r) {
		snprintf(d->msg, sizeof(d->msg), "cannot create %s: %s", pdir, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/%s", pdir, file);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		snprintf(d->msg, sizeof(d->msg), "cannot write %s: %s", tmp, strerror(errno));
		return r;
	}
	FILE *f = fdopen(fd, "w");
	fill(f, arg);
	fflush(f);
	r = fsync(fd) < 0 ? -errno : 0;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		snprintf(d->msg, sizeof(d->msg), "cannot write %s: %s", path, strerror(-r));
	}
	return r;
}

static void pool_fill(FILE *f, const void *arg)
{
	const struct poolconf *pc = arg;
	fprintf(f, "# vlun pool definition, written by vlunctl.\n"
		   "# Members may be listed in any order and under any path: the pool is\n"
		   "# assembled from the superblocks on them.\n"
		   "[pool]\nname = %s\nuuid = %s\n\n[members]\n",
		pc->name, pc->uuid);
	for (size_t i = 0; i < pc->nr_members; i++)
		fprintf(f, "m%zu = %s\n", i, pc->members[i]);
}

int poolconf_save(const char *dir, const struct poolconf *pc, struct vl_diag *d)
{
	char file[VL_NAME_MAX + 8];
	snprintf(file, sizeof(file), "%s.conf", pc->name);
	return save_file(dir, "pools", file, pool_fill, pc, d);
}

static void blade_fill(FILE *f, const void *arg)
{
	const struct bladeconf *bc = arg;
	fprintf(f, "# Which blade this node is (written by vlun-config apply --blade).\n"
		   "# host_id is this node's sanlock host id in every shared pool.\n"
		   "[blade]\nname = %s\nhost_id = %llu\n",
		bc->name, (unsigned long long)bc->host_id);
}

int bladeconf_save(const char *dir, const struct bladeconf *bc, struct vl_diag *d)
{
	return save_file(dir, NULL, "blade.conf", blade_fill, bc, d);
}

int bladeconf_load(const char *dir, struct bladeconf *bc, struct vl_diag *d)
{
	memset(bc, 0, sizeof(*bc));
	char path[4200];
	snprintf(path, sizeof(path), "%s/blade.conf", dir);
	if (access(path, R_OK) != 0) {
		int e = errno;
		snprintf(d->msg, sizeof(d->msg), "%s: %s", path, strerror(e));
		return -e;
	}
	iniparser_set_error_callback(quiet_errors);
	dictionary *ini = iniparser_load(path);
	if (!ini) {
		snprintf(d->msg, sizeof(d->msg), "%s: cannot parse", path);
		return -EINVAL;
	}
	const char *n = iniparser_getstring(ini, "blade:name", "");
	const char *h = iniparser_getstring(ini, "blade:host_id", "");
	char *end;
	errno = 0;
	unsigned long long id = strtoull(h, &end, 10);
	int r = 0;
	if (!vl_name_valid(n) || !*h || *end || errno || id < 1 || id > 2000) {
		snprintf(d->msg, sizeof(d->msg),
			 "%s: needs [blade] name = NAME and host_id = 1-2000 (got '%s', '%s')", path,
			 n, h);
		r = -EINVAL;
	} else {
		snprintf(bc->name, sizeof(bc->name), "%s", n);
		bc->host_id = id;
	}
	iniparser_freedict(ini);
	return r;
}

int poolconf_remove(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/pools/%s.conf", dir, name);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int poolconf_list(const char *dir, char ***names, size_t *n)
{
	char pdir[4096];
	snprintf(pdir, sizeof(pdir), "%s/pools", dir);
	*names = NULL;
	*n = 0;
	DIR *dd = opendir(pdir);
	if (!dd)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	size_t cap = 0;
	while ((de = readdir(dd))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0)
			continue;
		char nm[VL_NAME_MAX + 1];
		if (l - 5 > VL_NAME_MAX)
			continue;
		memcpy(nm, de->d_name, l - 5);
		nm[l - 5] = 0;
		if (!vl_name_valid(nm))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			char **nn = realloc(*names, cap * sizeof(char *));
			if (!nn)
				break;
			*names = nn;
		}
		(*names)[(*n)++] = strdup(nm);
	}
	closedir(dd);
	if (*n)
		qsort(*names, *n, sizeof(char *), cmpstr);
	return 0;
}

void poolconf_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int poolconf_from_pool(struct vl_pool *p, struct poolconf *pc)
{
	struct vl_pool_info pi;
	vl_pool_get_info(p, &pi);
	memset(pc, 0, sizeof(*pc));
	snprintf(pc->name, sizeof(pc->name), "%s", pi.name);
	vl_uuid_unparse(pi.uuid, pc->uuid);
	pc->members = calloc(pi.nr_members, sizeof(char *));
	if (!pc->members)
		return -ENOMEM;
	for (uint32_t i = 0; i < pi.nr_members; i++) {
		struct vl_member_info mi;
		vl_pool_member_info(p, i, &mi);
		char *abs = realpath(mi.path, NULL);
		pc->members[i] = abs ? abs : strdup(mi.path);
		if (!pc->members[i])
			return -ENOMEM;
		pc->nr_members++;
	}
	return 0;
}
