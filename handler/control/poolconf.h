/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pool definition files: <config-dir>/pools/NAME.conf (INI). */
#ifndef VLUN_POOLCONF_H
#define VLUN_POOLCONF_H

#include <stddef.h>
#include <stdint.h>

#include "vlun/engine.h"

#define POOLCONF_DEFAULT_DIR "/etc/vlun"

struct poolconf {
	char name[VL_NAME_MAX + 1];
	char uuid[37];
	char **members;
	size_t nr_members;
};

/* --config-dir, else $VLUN_CONFIG_DIR, else /etc/vlun */
const char *poolconf_dir(const char *opt);
int poolconf_load(const char *dir, const char *name, struct poolconf *pc, struct vl_diag *d);
int poolconf_save(const char *dir, const struct poolconf *pc, struct vl_diag *d);
int poolconf_remove(const char *dir, const char *name);
/* Names of all defined pools, sorted; free with poolconf_free_names. */
int poolconf_list(const char *dir, char ***names, size_t *n);
void poolconf_free_names(char **names, size_t n);
void poolconf_free(struct poolconf *pc);
/* Fill a poolconf from an open pool (names and member paths). */
int poolconf_from_pool(struct vl_pool *p, struct poolconf *pc);

/* Which blade this node is: <config-dir>/blade.conf, "[blade] name = ..., host_id = N"
 * (written by vlun-config apply --blade).  Its host id is the node's sanlock host id in
 * every shared pool.  -ENOENT when the file is absent (a single-blade node). */
struct bladeconf {
	char name[VL_NAME_MAX + 1];
	uint64_t host_id;           /* 1..2000 */
};
int bladeconf_load(const char *dir, struct bladeconf *bc, struct vl_diag *d);
int bladeconf_save(const char *dir, const struct bladeconf *bc, struct vl_diag *d);

#endif
