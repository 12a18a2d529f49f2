/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ALUA on several blades (docs/alua.md): every blade reports, for each volume of a
 * shared pool, its owner's port group Active/Optimized and every other group Standby,
 * written into LIO's configfs (the ALUA groups vlun-config creates, one per blade,
 * named after the blade).  Who owns a volume comes from the blades' status blocks on
 * the pool's disks (their claims); a move changes it through the message slots.  Nothing
 * here knows tcmu: the handler calls it from its poll thread, its control socket and
 * its I/O and lock paths.
 */
#ifndef VLUN_ALUA_H
#define VLUN_ALUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vlun/engine.h"

struct alua_pool;

/* For a shared pool opened with its leases; blade = this blade's name (its ALUA group).
 * NULL on failure (no memory). */
struct alua_pool *alua_pool_new(struct vl_pool *pool, const char *pool_name, const char *blade);
void alua_pool_free(struct alua_pool *ap);
/* Where LIO's configfs core directory is (default /sys/kernel/config/target/core, or
 * $VLUN_CONFIGFS_CORE): tests use a plain directory tree. */
void alua_pool_set_configfs(struct alua_pool *ap, const char *core);
/* How long a blade's status block may stay unchanged before it counts as not answering
 * (default 5000 ms; its heartbeat is every second). */
void alua_pool_set_answer_ms(struct alua_pool *ap, unsigned ms);

/* The poll thread's work, every 20 ms: requests from other blades;
 * every 100 ms the status blocks and this blade's ALUA states; every second a heartbeat
 * and a fresh look for the pool's LUNs in configfs. */
void alua_tick(struct alua_pool *ap);

/* Control requests alua-status, alua-move, alua-claim, alua-sync (argv[1] = POOL). */
int alua_ctl(struct alua_pool *ap, int argc, char **argv, char *msg, size_t n);

/* The I/O path, for a command refused because this blade does not own the volume:
 * true while the volume is moving here (answer BUSY: it is ours in a moment, and the
 * runner must not start its own lock work). */
bool alua_incoming(struct alua_pool *ap, uint32_t slot);
/* May this blade take the volume on its own (a read of an unowned volume, the runner's
 * implicit-failover lock)?  Not while it is handing the volume to another blade. */
bool alua_may_take(struct alua_pool *ap, uint32_t slot);
/* The runner's lock(): wait (at most ms) for a move here to finish. */
void alua_wait_incoming(struct alua_pool *ap, uint32_t slot, unsigned ms);

#endif
