/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sanlock lease provider (vlun-sanlock.h).  Facts about sanlock 3.8.5 that shape
 * it (read in its sources, checked by test/lease/test-sanlock.sh):
 *   - acquire returns only a status; the lease's new version (lver) is in the daemon's
 *     token for this process, which sanlock_inquire reports as a state string;
 *   - a request names the version it wants, and the holder's daemon acts only when
 *     that is above the holder's: SANLK_REQUEST_NEXT_LVER lets the daemon read the
 *     current one and ask for the next;
 *   - removing a lockspace kills the processes holding leases in it unless
 *     SANLK_REM_UNUSED is given;
 *   - the client library answers -1 both for "short reply" (the daemon went away) and,
 *     in release, for "this process does not hold that lease".
 */
#define _GNU_SOURCE
#include "vlun-sanlock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h> /* before <sanlock.h>: it uses uint64_t without including it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_resource.h>
#include <sanlock_rv.h>

/* Files and 512-byte devices: 512-byte sectors, 1 MiB per lockspace and per lease
 * (sanlock then allows host ids up to 2000 and ignores the max_hosts argument). */
#define SL_ALIGN (UINT64_C(1) << 20)
#define SL_LS_FLAGS (SANLK_LSF_ALIGN1M | SANLK_LSF_SECTOR512)
#define SL_RES_FLAGS (SANLK_RES_ALIGN1M | SANLK_RES_SECTOR512)
#define SL_HOSTS_MAX 2000

struct vl_sanlock {
	pthread_mutex_t lock; /* one request at a time on sock: replies are not tagged */
	int sock;             /* registered connection, -1 until the first acquire */
	bool lost;            /* sock broke: the daemon dropped every lease of this process */
	vl_sanlock_log_fn log;
	void *log_arg;
};

/* One lease as sanlock wants it: the resource followed by its one disk (r.disks[0]). */
struct sl_res {
	struct sanlk_resource r;
	struct sanlk_disk disk;
};
_Static_assert(offsetof(struct sl_res, disk) == sizeof(struct sanlk_resource),
	       "the disk must sit where sanlk_resource.disks[0] is");

static void sl_unlockp(pthread_mutex_t **m)
{
	if (*m)
		pthread_mutex_unlock(*m);
}
#define SL_LOCKED(m)                                                           \
	pthread_mutex_t *sl_held_ __attribute__((cleanup(sl_unlockp))) = (m);  \
	pthread_mutex_lock(sl_held_)

/*
 * sanlock's client library writes to the daemon's socket without MSG_NOSIGNAL: a daemon
 * that went away would kill the whole process (tcmu-runner) with SIGPIPE.  Every
 * callback therefore blocks SIGPIPE in its thread and, on the way out, takes back a
 * SIGPIPE that the call raised (one already pending before is left alone).
 */
struct sl_nopipe {
	sigset_t old;
	bool was_pending;
};

/* Sets only_pipe to just SIGPIPE; whether a SIGPIPE is pending (thread or process). */
static bool sl_pipe_pending(sigset_t *only_pipe)
{
	sigset_t pending;
	sigemptyset(only_pipe);
	sigaddset(only_pipe, SIGPIPE);
	sigpending(&pending);
	return sigismember(&pending, SIGPIPE) == 1;
}

static void sl_nopipe_begin(struct sl_nopipe *p)
{
	sigset_t only_pipe;
	p->was_pending = sl_pipe_pending(&only_pipe);
	pthread_sigmask(SIG_BLOCK, &only_pipe, &p->old);
}

static void sl_nopipe_end(struct sl_nopipe *p)
{
	sigset_t only_pipe;
	if (!p->was_pending && sl_pipe_pending(&only_pipe)) {
		const struct timespec now = {0, 0};
		while (sigtimedwait(&only_pipe, NULL, &now) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &p->old, NULL);
}
#define SL_NO_SIGPIPE                                                          \
	struct sl_nopipe sl_nopipe_ __attribute__((cleanup(sl_nopipe_end)));   \
	sl_nopipe_begin(&sl_nopipe_)

static void sl_log_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "vlun-sanlock: %s\n", msg);
}

__attribute__((format(printf, 2, 3)))
static void sl_log(const struct vl_sanlock *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(s->log_arg, msg);
}

/* sanlock's code as text: its own codes (-201 and below) by sanlock_strerror */
static const char *sl_str(int rv)
{
	return rv <= SANLK_ERROR ? sanlock_strerror(rv) : strerror(-rv);
}

/* No daemon socket where the library looks (it reads SANLOCK_RUN_DIR the same way). */
static bool sl_daemon_missing(void)
{
	const char *dir = getenv("SANLOCK_RUN_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/sanlock.sock", dir ? dir : "/run/sanlock");
	return access(path, F_OK) != 0;
}

/*
 * sanlock's results are -errno or its own codes (sanlock_rv.h); the engine sees only
 * -errno.  Call-specific meanings (-ENOSPC, -EEXIST, -1 ...) are handled by the callers
 * before this.
 */
static int sl_errno(int rv)
{
	switch (rv) {
	case SANLK_ACQUIRE_IDLIVE:      /* the holder's host renews its lease: alive */
	case SANLK_ACQUIRE_OWNED:       /* another host committed itself meanwhile */
	case SANLK_ACQUIRE_OTHER:       /* our ballot committed another host */
		return -EBUSY;
	case SANLK_ACQUIRE_OWNED_RETRY: /* the holder's host stopped renewing, not dead yet */
	case SANLK_DBLOCK_LVER:         /* lost a ballot to a concurrent acquirer */
	case SANLK_DBLOCK_MBAL:
		return -EAGAIN;
	case SANLK_AIO_TIMEOUT:         /* an I/O took longer than io_timeout */
		return -ETIMEDOUT;
	case SANLK_DBLOCK_READ:
	case SANLK_DBLOCK_WRITE:
	case SANLK_LEADER_READ:
	case SANLK_LEADER_WRITE:
	case SANLK_ACQUIRE_IDDISK:      /* the lockspace's disk cannot be opened */
		return -EIO;
	case SANLK_LEADER_MAGIC:        /* nothing (valid) formatted at that offset */
	case SANLK_LEADER_VERSION:
	case SANLK_LEADER_CHECKSUM:
	case SANLK_LEADER_DIFF:
	case SANLK_DBLOCK_CHECKSUM:
	case SANLK_LEADER_SECTORSIZE:
	case SANLK_ADDLS_SIZES:
	case SANLK_REQUEST_MAGIC:
	case SANLK_REQUEST_VERSION:
		return -EUCLEAN;
	case SANLK_LEADER_LOCKSPACE:    /* a lease of another lockspace or name is there */
	case SANLK_LEADER_RESOURCE:
		return -ENOENT;
	case SANLK_LEADER_NUMHOSTS:     /* our host id is above what the lease was made for */
	case SANLK_ADDLS_INVALID_HOSTID:
		return -EINVAL;
	case SANLK_HOSTID_BUSY:         /* another live host uses our host id */
	case SANLK_RENEW_OWNER:
		return -EADDRINUSE;
	case SANLK_ACQUIRE_LOCKSPACE:   /* the holder's lockspace is not joined here */
		return -ENOTCONN;
	case SANLK_REQUEST_OLD:         /* the lease already moved past what we asked */
	case SANLK_ACQUIRE_LVER:
	case SANLK_RELEASE_LVER:
		return -ESTALE;
	case SANLK_REQUEST_LVER:        /* a request for a newer version is pending */
		return -EALREADY;
	case -1:                        /* the daemon's reply was cut short: it went away */
	case -ECONNREFUSED:             /* connect(): no daemon behind the socket */
		return -ENOTCONN;
	case -ENOENT:                   /* connect() without a socket, or the daemon's */
		return sl_daemon_missing() ? -ENOTCONN : -ENOENT;
	}
	return rv <= SANLK_ERROR ? -EIO : rv; /* any other sanlock code; errnos as they are */
}

/* The result of a sanlock call: 0 if it succeeded, else log "WHAT: RV TEXT" (WHAT made
 * from fmt) and return rv as -errno. */
__attribute__((format(printf, 3, 4)))
static int sl_check(const struct vl_sanlock *s, int rv, const char *fmt, ...)
{
	if (rv >= 0)
		return 0;
	char what[512]; /* as long as sl_log's message: that cuts the same text short */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sl_log(s, "%s: %d %s", what, rv, sl_str(rv));
	return sl_errno(rv);
}

/* ---- building the requests ---- */

static int sl_copy_name(char dst[SANLK_NAME_LEN], const char *src)
{
	size_t n = strnlen(src, SANLK_NAME_LEN);
	if (n == 0)
		return -EINVAL;
	if (n > VL_LEASE_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

static int sl_copy_disk(struct sanlk_disk *d, const char *path, uint64_t offset)
{
	if (!path || !*path || offset % SL_ALIGN)
		return -EINVAL;
	size_t n = strnlen(path, SANLK_PATH_LEN);
	if (n >= SANLK_PATH_LEN)
		return -ENAMETOOLONG;
	memcpy(d->path, path, n + 1);
	d->offset = offset;
	return 0;
}

static int sl_res_fill(struct sl_res *res, const struct vl_lease *l)
{
	memset(res, 0, sizeof(*res));
	int rv = sl_copy_name(res->r.lockspace_name, l->space);
	if (!rv)
		rv = sl_copy_name(res->r.name, l->name);
	if (!rv)
		rv = sl_copy_disk(&res->disk, l->path, l->offset);
	res->r.num_disks = 1;
	return rv;
}

static int sl_ls_fill(struct sanlk_lockspace *sl, const struct vl_lease_space *ls)
{
	memset(sl, 0, sizeof(*sl));
	int rv = sl_copy_name(sl->name, ls->name);
	if (!rv)
		rv = sl_copy_disk(&sl->host_id_disk, ls->path, ls->offset);
	sl->host_id = ls->host_id;
	return rv;
}

/* join and leave: this blade's host id must fit the lockspace */
static int sl_ls_fill_host(struct sanlk_lockspace *sl, const struct vl_lease_space *ls)
{
	if (ls->host_id < 1 || ls->host_id > ls->max_hosts || ls->host_id > SL_HOSTS_MAX)
		return -EINVAL;
	return sl_ls_fill(sl, ls);
}

/* ---- the registered connection (callers hold s->lock) ---- */

static bool sl_conn_broken(int rv)
{
	return rv == -1 || rv == -EPIPE || rv == -ECONNRESET || rv == -ENOTCONN ||
	       rv == -ESTALE; /* -ESTALE: the daemon already counts this process as dead */
}

/* A failure on sock: if the connection broke, the daemon has dropped this process's
 * leases, so say so once and refuse leases from now on (only a new process can hold
 * them again: the engine must not believe it still holds what it held). */
static int sl_sock_error(struct vl_sanlock *s, int rv, const char *what)
{
	if (!sl_conn_broken(rv))
		return sl_errno(rv);
	if (!s->lost)
		sl_log(s, "%s: the connection to the sanlock daemon broke (%d %s): this "
		       "process holds no leases any more; restart it to take leases again",
		       what, rv, sl_str(rv));
	s->lost = true;
	close(s->sock);
	s->sock = -1;
	return -ENOTCONN;
}

static int sl_register(struct vl_sanlock *s)
{
	if (s->lost)
		return -ENOTCONN;
	if (s->sock >= 0)
		return 0;
	int fd = sanlock_register();
	if (fd < 0) {
		sl_log(s, "cannot register with the sanlock daemon: %d %s "
		       "(is it running? SANLOCK_RUN_DIR?)", fd, sl_str(fd));
		return fd == -ENOMEM ? fd : -ENOTCONN;
	}
	/* a child that inherited the socket would keep our leases alive after we exit */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	s->sock = fd;
	return 0;
}

/* The version this process holds want at: 0, -ENOENT (not held by this process). */
static int sl_inquire_lver(struct vl_sanlock *s, const struct sanlk_resource *want,
			   uint64_t *lver)
{
	char *state = NULL;
	int count = 0;
	int rv = sanlock_inquire(s->sock, -1, 0, &count, &state);
	if (rv < 0)
		return sl_sock_error(s, rv, "inquire");
	if (!state)
		return -ENOENT; /* holds nothing */
	struct sanlk_resource **args = NULL;
	int n = 0;
	rv = sanlock_state_to_args(state, &n, &args);
	free(state);
	if (rv < 0) {
		sl_log(s, "inquire: cannot parse the daemon's state (%d)", rv);
		return -EPROTO;
	}
	rv = -ENOENT;
	for (int i = 0; i < n; i++) {
		const struct sanlk_resource *r = args[i];
		if (rv && !strncmp(r->lockspace_name, want->lockspace_name, SANLK_NAME_LEN) &&
		    !strncmp(r->name, want->name, SANLK_NAME_LEN) && (r->flags & SANLK_RES_LVER)) {
			*lver = r->lver;
			rv = 0;
		}
		free(args[i]);
	}
	free(args);
	return rv;
}

/* ---- the callbacks ---- */

static int sl_format_space(void *ctx, const struct vl_lease_space *ls)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sanlk_lockspace sl;
	if (ls->max_hosts < 1 || ls->max_hosts > SL_HOSTS_MAX)
		return -EINVAL;
	int rv = sl_ls_fill(&sl, ls);
	if (rv)
		return rv;
	sl.host_id = 0;
	sl.flags = SL_LS_FLAGS;
	/* io_timeout goes on disk too: joining waits according to the on-disk value */
	rv = sanlock_write_lockspace(&sl, (int)ls->max_hosts, 0, ls->io_timeout);
	return sl_check(s, rv, "write lockspace %s at %s:%llu", ls->name, ls->path,
			(unsigned long long)ls->offset);
}

static int sl_format_lease(void *ctx, const struct vl_lease *l)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sl_res res;
	int rv = sl_res_fill(&res, l);
	if (rv)
		return rv;
	res.r.flags = SL_RES_FLAGS;
	/* num_hosts 0: every host id the 1 MiB area allows (2000) may take it */
	rv = sanlock_write_resource(&res.r, 0, 0, 0);
	return sl_check(s, rv, "write lease %s/%s at %s:%llu", l->space, l->name, l->path,
			(unsigned long long)l->offset);
}

static int sl_join(void *ctx, const struct vl_lease_space *ls)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sanlk_lockspace sl;
	int rv = sl_ls_fill_host(&sl, ls);
	if (rv)
		return rv;
	rv = sanlock_add_lockspace_timeout(&sl, 0, ls->io_timeout);
	if (rv == -EEXIST) /* joined already, as this host id on this disk */
		return 0;
	if (rv == -EINPROGRESS) /* someone else is joining it: wait for the outcome */
		rv = sanlock_inq_lockspace(&sl, SANLK_INQ_WAIT);
	if (rv < 0) {
		sl_log(s, "join lockspace %s as host %llu: %d %s%s", ls->name,
		       (unsigned long long)ls->host_id, rv, sl_str(rv),
		       rv == -EINVAL ? " (joined already with another host id or disk?)" : "");
		return sl_errno(rv);
	}
	return 0;
}

static int sl_leave(void *ctx, const struct vl_lease_space *ls)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sanlk_lockspace sl;
	int rv = sl_ls_fill_host(&sl, ls);
	if (rv)
		return rv;
	/* UNUSED: without it the daemon would kill every process holding a lease in it,
	 * this one included; with it, -EBUSY while any lease is held */
	rv = sanlock_rem_lockspace(&sl, SANLK_REM_UNUSED);
	if (rv == -ENOENT || rv == -EINPROGRESS) /* not joined / being left already */
		return 0;
	if (rv == -EBUSY) /* a lease is held (see above): an answer, not a failure to log */
		return rv;
	return sl_check(s, rv, "leave lockspace %s", ls->name);
}

/* Who holds res on disk: host id (0 = nobody) and the lease's version. */
static int sl_read_holder(struct sl_res *res, uint64_t *holder, uint64_t *version)
{
	struct sanlk_host *hss = NULL;
	int n = 0;
	res->r.flags = SL_RES_FLAGS;
	int rv = sanlock_read_resource_owners(&res->r, 0, &hss, &n);
	if (rv < 0) {
		free(hss);
		return sl_errno(rv);
	}
	if (n > 0 && !hss)
		return -ENOMEM; /* the library could not store the owners it received */
	/* exclusive leases only: the first owner is the leader record's */
	*holder = n > 0 ? hss[0].host_id : 0;
	if (version)
		*version = res->r.lver;
	free(hss);
	return 0;
}

static int sl_acquire_locked(struct vl_sanlock *s, struct sl_res *res, uint64_t *version)
{
	SL_LOCKED(&s->lock);
	int rv = sl_register(s);
	if (rv)
		return rv;
	struct sanlk_resource *rp = &res->r;
	struct sanlk_options opt;
	memset(&opt, 0, sizeof(opt));
	memcpy(opt.owner_name, "vlun", sizeof("vlun")); /* shown by sanlock client status */
	/* OWNER_NOWAIT: a failed holder's host makes sanlock answer at once instead of
	 * blocking this thread until that host is dead (8 io_timeouts + 60 s) */
	rv = sanlock_acquire(s->sock, -1, SANLK_ACQUIRE_OWNER_NOWAIT, 1, &rp, &opt);
	if (rv == 0 || rv == -EEXIST) {
		/* -EEXIST: a process on this host holds it; if it is this one, that is success */
		int r = sl_inquire_lver(s, &res->r, version);
		if (rv == -EEXIST)
			return r == -ENOENT ? -EBUSY : r;
		if (r && s->sock >= 0) /* held, version unknown: give it back, do not guess */
			sanlock_release(s->sock, -1, 0, 1, &rp);
		return r == -ENOENT ? -EPROTO : r;
	}
	if (rv == -ENOSPC) /* the daemon's word for "lockspace not joined (or failing)" */
		return -ENOTCONN;
	if (rv == -EBUSY) /* another process of this host is acquiring it right now */
		return -EAGAIN;
	return sl_sock_error(s, rv, "acquire");
}

static int sl_acquire(void *ctx, const struct vl_lease *l, uint64_t *version, uint64_t *holder)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sl_res res;
	*version = 0;
	*holder = 0;
	int rv = sl_res_fill(&res, l);
	if (rv)
		return rv;
	rv = sl_acquire_locked(s, &res, version);
	if (rv == -EBUSY && sl_read_holder(&res, holder, NULL))
		*holder = 0; /* unknown: best effort only */
	if (rv && rv != -EBUSY && rv != -EAGAIN)
		sl_log(s, "acquire %s/%s at %s:%llu: %d %s", l->space, l->name, l->path,
		       (unsigned long long)l->offset, rv, strerror(-rv));
	return rv;
}

static int sl_release(void *ctx, const struct vl_lease *l)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sl_res res;
	int rv = sl_res_fill(&res, l);
	if (rv)
		return rv;
	SL_LOCKED(&s->lock);
	if (s->lost)
		return -ENOTCONN;
	if (s->sock < 0)
		return -ENOENT; /* never acquired anything */
	struct sanlk_resource *rp = &res.r;
	rv = sanlock_release(s->sock, -1, 0, 1, &rp);
	if (rv == -1) /* the daemon's answer for a lease this process does not hold */
		return -ENOENT;
	if (rv < 0) {
		int e = sl_sock_error(s, rv, "release");
		if (e != -ENOTCONN)
			sl_log(s, "release %s/%s: %d %s", l->space, l->name, rv, sl_str(rv));
		return e;
	}
	return 0;
}

static int sl_request_force(void *ctx, const struct vl_lease *l)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sl_res res;
	int rv = sl_res_fill(&res, l);
	if (rv)
		return rv;
	/* lver 0 + NEXT_LVER: the daemon reads the holder's version v and asks for v+1, so
	 * only a holder of v or older is killed, never one that took the lease since */
	rv = sanlock_request(SANLK_REQUEST_NEXT_LVER, SANLK_REQ_FORCE, &res.r);
	if (rv == SANLK_REQUEST_LVER) /* a request for a newer version does it already */
		return 0;
	if (rv == -ENOSPC) /* the request travels in our lockspace renewals: not joined */
		return -ENOTCONN;
	return sl_check(s, rv, "request force %s/%s", l->space, l->name);
}

static int sl_holder(void *ctx, const struct vl_lease *l, uint64_t *holder, uint64_t *version)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sl_res res;
	*holder = 0;
	*version = 0;
	int rv = sl_res_fill(&res, l);
	if (rv)
		return rv;
	rv = sl_read_holder(&res, holder, version);
	if (rv)
		sl_log(s, "read lease %s/%s at %s:%llu: %s", l->space, l->name, l->path,
		       (unsigned long long)l->offset, strerror(-rv));
	return rv;
}

/* Alive = sanlock's LIVE.  UNKNOWN (this host has not yet seen the other renew, for a
 * few seconds after joining), FAIL and DEAD are not alive. */
static int sl_hosts(void *ctx, const struct vl_lease_space *ls, uint64_t *alive, uint32_t words)
{
	SL_NO_SIGPIPE;
	struct vl_sanlock *s = ctx;
	struct sanlk_host *hss = NULL;
	int n = 0;
	memset(alive, 0, (size_t)words * sizeof(*alive));
	char name[SANLK_NAME_LEN];
	int rv = sl_copy_name(name, ls->name);
	if (rv)
		return rv;
	rv = sanlock_get_hosts(name, 0, &hss, &n, 0);
	if (rv < 0) {
		free(hss);
		if (rv == -ENOENT) /* not joined */
			return -ENOTCONN;
		if (rv == -EAGAIN) /* joined, but no look at the others yet */
			return rv;
		return sl_check(s, rv, "hosts of %s", ls->name);
	}
	if (n > 0 && !hss)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		uint64_t h = hss[i].host_id;
		if ((hss[i].flags & SANLK_HOST_MASK) == SANLK_HOST_LIVE && h >= 1 &&
		    h <= (uint64_t)words * 64)
			alive[(h - 1) / 64] |= UINT64_C(1) << ((h - 1) % 64);
	}
	free(hss);
	return 0;
}

/* ---- life cycle ---- */

int vl_sanlock_provider(struct vl_lease_ops *ops, void **ctx)
{
	struct vl_sanlock *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->sock = -1;
	s->log = sl_log_stderr;
	*ops = (struct vl_lease_ops){
		.format_space = sl_format_space,
		.format_lease = sl_format_lease,
		.join = sl_join,
		.leave = sl_leave,
		.acquire = sl_acquire,
		.release = sl_release,
		.request_force = sl_request_force,
		.holder = sl_holder,
		.hosts = sl_hosts,
	};
	*ctx = s;
	return 0;
}

void vl_sanlock_set_log(void *ctx, vl_sanlock_log_fn fn, void *arg)
{
	struct vl_sanlock *s = ctx;
	s->log = fn ? fn : sl_log_stderr;
	s->log_arg = fn ? arg : NULL;
}

void vl_sanlock_destroy(void *ctx)
{
	struct vl_sanlock *s = ctx;
	if (!s)
		return;
	if (s->sock >= 0)
		close(s->sock); /* the daemon releases what this process held */
	pthread_mutex_destroy(&s->lock);
	free(s);
}
