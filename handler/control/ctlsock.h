/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The handler's control socket.  While tcmu-runner serves a pool it holds the pool's lock,
 * so tools cannot change that pool themselves; they send the change to the handler, which
 * runs it on the pool it has open.  One request per connection, one line each way:
 *   request: "vol-create POOL VOLUME BYTES thin|thick" | "vol-grow POOL VOLUME BYTES"
 *            | "vol-delete POOL VOLUME" | "serves POOL" (0 when this runner has it open)
 *            | "fast-path on|off"
 *            | "alua-status POOL" | "alua-move POOL TO-HOST TIMEOUT-MS force|safe VOLUME..."
 *            | "alua-claim POOL VOLUME" | "alua-sync POOL" (docs/alua.md, "Control requests")
 *            | "show" | "show-text" (answered by the appliance's bridge: vlun-config
 *              show from inside the VM, newlines sent as 0x1f)
 *   reply:   "0 message" on success, "-ERRNO message" on failure.
 * Only root (or the runner's own user) may connect; the socket is mode 0600.
 */
#ifndef VLUN_CTLSOCK_H
#define VLUN_CTLSOCK_H

#include <stddef.h>

#define CTL_SOCKET_DEFAULT "/run/vlun/handler.sock"
/* the longest answer (bytes, with the NUL): size msg buffers for ALUA requests so */
#define CTL_MSG_MAX 16384

/* $VLUN_CTL_SOCKET, else CTL_SOCKET_DEFAULT */
const char *ctl_socket_path(void);
/* 0 or -errno; msg gets the handler's message (or why it could not be reached). */
int ctl_request(const char *req, char *msg, size_t n);

/* Serve requests on a thread of its own: fn gets the words of a request and returns
 * 0 / -errno with a message.  Returns -errno if the socket cannot be set up. */
typedef int (*ctl_fn)(int argc, char **argv, char *msg, size_t n);
int ctl_serve_start(ctl_fn fn);

#endif
