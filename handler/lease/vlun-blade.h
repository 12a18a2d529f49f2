/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening pools the way this blade does: a shared pool (format 2) with this blade's
 * host id and the sanlock provider, a single-blade pool as before.  Used by the
 * handler and by vlunctl.
 */
#ifndef VLUN_BLADE_H
#define VLUN_BLADE_H

#include <stdint.h>

#include "poolconf.h"
#include "vlun/engine.h"

/* This blade's host id: override if non-zero, else $VLUN_HOST_ID, else blade.conf in
 * dir, else 0 (a single-blade node).  -EINVAL (with d) when one of them is malformed. */
int blade_host_id(const char *dir, uint64_t override, uint64_t *host_id, struct vl_diag *d);

/* Open a pool from its definition; with host_id != 0 a shared pool joins its lockspace
 * through this process's sanlock connection. */
int blade_pool_open(const struct poolconf *pc, unsigned flags, uint64_t host_id,
		    struct vl_pool **out, struct vl_diag *d);

/* The process's lease provider (sanlock), for converting a pool: 0 or -ENOMEM. */
int blade_provider(const struct vl_lease_ops **ops, void **ctx);

#endif
