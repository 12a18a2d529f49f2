/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sanlock lease provider: struct vl_lease_ops (vlun/engine.h, "shared pools
 * (format 2): leases") on the sanlock daemon of this blade (docs/lease-sanlock.md).
 *
 * Leases belong to the calling process: the provider registers it with the daemon at
 * the first acquire and keeps that connection open, so every lease it holds ends when
 * the process exits (or when vl_sanlock_destroy closes the connection), and a
 * request_force from another blade kills the whole process with SIGKILL.
 *
 * If the daemon goes away, the process keeps running (the callbacks hold off the SIGPIPE
 * that sanlock's client library would raise) but holds no lease any more: acquire and
 * release answer -ENOTCONN from then on; only a new process can take leases again.
 * SANLOCK_RUN_DIR, if set, must stay the same for the whole process (the library reads
 * it once).  All callbacks may be called from any thread.
 */
#ifndef VLUN_SANLOCK_H
#define VLUN_SANLOCK_H

#include "vlun/engine.h"

/* Fill *ops with the sanlock callbacks and *ctx with their context: 0 or -ENOMEM.
 * Nothing talks to the daemon yet. */
int vl_sanlock_provider(struct vl_lease_ops *ops, void **ctx);

/* Where the provider's messages go (one line each, no newline); default stderr.
 * Call before the callbacks are used. */
typedef void (*vl_sanlock_log_fn)(void *arg, const char *msg);
void vl_sanlock_set_log(void *ctx, vl_sanlock_log_fn fn, void *arg);

/* Close the daemon connection (releasing every lease this process holds) and free ctx. */
void vl_sanlock_destroy(void *ctx);

#endif
