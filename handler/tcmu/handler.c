/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * handler_vlun.so: tcmu-runner's "user:vlun" backstore.  A thin layer: it
 * maps tcmu-runner callbacks onto the map engine's I/O API and translates
 * engine errors to SCSI status in one place (vlun_status).
 *
 * cfgstring: vlun/POOL/VOLUME.  Pools are found through their definition
 * files in $VLUN_CONFIG_DIR (default /etc/vlun) and shared by every LUN of
 * the runner process.  See docs/handler.md and vlun-handler(8).
 *
 * Shared pools (several blades): a LUN's volume is written only by its owner.  The
 * runner's implicit-ALUA machinery calls lock() when a write reaches a LUN it does not
 * hold (the volume's lease is taken, fencing the previous owner), unlock() when the
 * device goes, get_lock_state() on INQUIRY/RTPG; I/O to a volume this blade does not
 * own is refused with BUSY after tcmu_notify_lock_lost, never served.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alua.h"
#include "glue.h"
#include "ctlsock.h"
#include "poolconf.h"
#include "tcmu-abi.h"
#include "vlun-blade.h"
#include "vlun/engine.h"

#define EXPORT __attribute__((visibility("default")))

struct vdev {
	struct tcmu_device *dev;
	struct pool_ref *pref;
	struct vl_vol *vol;
	uint32_t slot;             /* the volume's slot (ALUA state) */
	struct vlun_cfg cfg;
	uint32_t block_size;
	bool wce;                  /* write cache enabled: else every write is FUA */
	bool shared;               /* a shared pool's volume (O_DIRECT) */
	uint8_t naa[16];           /* the LUN's NAA designator (the volume's WWN) */
	pthread_rwlock_t caw_lock; /* COMPARE AND WRITE excludes writes */
	atomic_uint busy;          /* READs/WRITEs running in the runner's workers */
	_Atomic uint64_t deep_ns;  /* when the workers last ran two of them at once */
	uint64_t last_cmd_ns;      /* when the command thread last left handle_cmd */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A READ/WRITE in a worker (shared pools: noting when the LUN runs at depth, see fast_rw) */
static void worker_enter(struct vdev *v)
{
	if (atomic_fetch_add_explicit(&v->busy, 1, memory_order_relaxed) && v->shared)
		atomic_store_explicit(&v->deep_ns, now_ns(), memory_order_relaxed);
}

static void worker_exit(struct vdev *v)
{
	atomic_fetch_sub_explicit(&v->busy, 1, memory_order_relaxed);
}

/* ---- pools shared by the LUNs of this process ---- */

struct pool_ref {
	char name[VL_NAME_MAX + 1];
	struct vl_pool *pool;
	int refs;
	bool shared;  /* kept open until the runner exits: leaving and rejoining the
		       * lockspace costs seconds, and a LUN's reopen must not */
	struct alua_pool *alua; /* shared pools: the ALUA states of its LUNs (alua.h) */
	struct pool_ref *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pool_ref *pools;

static struct pool_ref *pool_find(const char *name)
{
	for (struct pool_ref *r = pools; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static void poll_start(void);

static int pool_open_conf(const char *name, unsigned flags, struct vl_pool **out,
			  struct vl_diag *d)
{
	struct poolconf pc;
	const char *dir = poolconf_dir(NULL);
	uint64_t host_id = 0;
	int r = blade_host_id(dir, 0, &host_id, d);
	if (r)
		return r;
	if ((r = poolconf_load(dir, name, &pc, d)))
		return r;
	r = blade_pool_open(&pc, flags, (flags & VL_OPEN_RDONLY) ? 0 : host_id, out, d);
	poolconf_free(&pc);
	return r;
}

/* The ALUA view of a shared pool: this blade's name is its ALUA group's. */
static struct alua_pool *alua_new_for(struct vl_pool *p, const char *name)
{
	struct bladeconf bc;
	struct vl_diag d = {{0}};
	const char *blade = bladeconf_load(poolconf_dir(NULL), &bc, &d) == 0 ? bc.name : "";
	struct alua_pool *ap = alua_pool_new(p, name, blade);
	if (!ap)
		vl_dev_warn(NULL, "pool %s: no ALUA state management (host ids 1-%u have it)\n",
			    name, VL_STATUS_HOSTS);
	else if (!blade[0])
		vl_dev_warn(NULL, "pool %s: this blade has no name in %s/blade.conf: its own ALUA "
				  "group cannot be told from the others (vlun-config apply --blade NAME "
				  "writes it)\n",
			    name, poolconf_dir(NULL));
	return ap;
}

static struct pool_ref *pool_get(const char *name, struct vl_diag *d)
{
	pthread_mutex_lock(&reg_lock);
	struct pool_ref *r = pool_find(name);
	if (!r) {
		struct vl_pool *p;
		if (pool_open_conf(name, 0, &p, d) == 0) {
			r = calloc(1, sizeof(*r));
			if (r) {
				struct vl_shared_info si;
				vl_pool_shared_info(p, &si);
				snprintf(r->name, sizeof(r->name), "%s", name);
				r->pool = p;
				r->shared = si.shared;
				r->refs = si.shared; /* the pin */
				if (si.shared && si.host_id)
					r->alua = alua_new_for(p, name);
				r->next = pools;
				pools = r;
				if (si.shared)
					poll_start();
			} else {
				vl_pool_close(p);
			}
		}
	}
	if (r)
		r->refs++;
	pthread_mutex_unlock(&reg_lock);
	return r;
}

static void pool_put(struct pool_ref *r)
{
	pthread_mutex_lock(&reg_lock);
	if (--r->refs == 0) {
		for (struct pool_ref **pp = &pools; *pp; pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		vl_pool_close(r->pool); /* the pool is unlocked for vlunctl again */
		free(r);
	}
	pthread_mutex_unlock(&reg_lock);
}

/* ---- shared pools: seeing the other blades' pool changes ---- */

/* every SERVE_MS this blade's message slots (a hand-over asked for costs at most that
 * much waiting), every POLL_MS the pool's change record */
#define SERVE_MS 20
#define POLL_MS 200

static void *poll_main(void *arg)
{
	for (unsigned tick = 0;; tick++) {
		struct timespec ts = {0, SERVE_MS * 1000000L};
		nanosleep(&ts, NULL);
		/* shared pools are never freed (pinned): the list can be walked unlocked
		 * once read, as nodes are only ever added at the head */
		pthread_mutex_lock(&reg_lock);
		struct pool_ref *head = pools;
		pthread_mutex_unlock(&reg_lock);
		for (struct pool_ref *r = head; r; r = r->next) {
			bool changed;
			unsigned released;
			if (!r->shared)
				continue;
			int e = 0;
			if (r->alua)
				alua_tick(r->alua);
			else
				e = vl_pool_serve_requests(r->pool, NULL, NULL, &released);
			if (e)
				vl_dev_warn(NULL, "pool %s: cannot read the message slots: %s\n",
					    r->name, strerror(-e));
			if (tick % (POLL_MS / SERVE_MS))
				continue;
			e = vl_pool_poll(r->pool, &changed);
			if (e)
				vl_dev_warn(NULL, "pool %s: cannot read the change record: %s\n",
					    r->name, strerror(-e));
			else if (changed)
				vl_dev_info(NULL, "pool %s: changed by another blade; volume table "
						  "re-read\n",
					    r->name);
		}
	}
	return NULL;
}

static void poll_start(void)
{
	static bool started; /* under reg_lock */
	pthread_t t;
	if (!started && pthread_create(&t, NULL, poll_main, NULL) == 0) {
		pthread_detach(t);
		started = true;
	}
}

/* the READ/WRITE fast path (see fast_rw); VLUN_FAST_PATH=0 or "fast-path off" on the
 * control socket turns it off, e.g. to compare both paths in one run */
static atomic_bool fast_path = true;

/* ---- the control socket: pool changes while this process holds the pool ---- */

static int ctl_handle(int argc, char **argv, char *msg, size_t n)
{
	if (!strcmp(argv[0], "fast-path") && argc == 2 &&
	    (!strcmp(argv[1], "on") || !strcmp(argv[1], "off"))) {
		atomic_store(&fast_path, !strcmp(argv[1], "on"));
		snprintf(msg, n, "fast path %s", argv[1]);
		vl_dev_info(NULL, "control socket: fast path %s\n", argv[1]);
		return 0;
	}
	if (!strncmp(argv[0], "alua-", 5) && argc >= 2) {
		pthread_mutex_lock(&reg_lock);
		struct pool_ref *ar = pool_find(argv[1]);
		struct alua_pool *ap = ar ? ar->alua : NULL; /* shared pools are never freed */
		bool found = ar != NULL;
		pthread_mutex_unlock(&reg_lock);
		if (!ap) {
			snprintf(msg, n, found ? "pool %s has no ALUA state management here (a shared "
						 "pool served with host id 1-15 has)"
					       : "pool %s is not served by this tcmu-runner",
				 argv[1]);
			return found ? -EOPNOTSUPP : -ENOENT;
		}
		return alua_ctl(ap, argc, argv, msg, n);
	}
	if (!strcmp(argv[0], "serves") && argc == 2) {
		pthread_mutex_lock(&reg_lock);
		bool yes = pool_find(argv[1]) != NULL;
		pthread_mutex_unlock(&reg_lock);
		snprintf(msg, n, "pool %s is %sserved here", argv[1], yes ? "" : "not ");
		return yes ? 0 : -ENOENT;
	}
	bool create = !strcmp(argv[0], "vol-create"), grow = !strcmp(argv[0], "vol-grow");
	bool del = !strcmp(argv[0], "vol-delete");
	if (!(create && argc == 5) && !(grow && argc == 4) && !(del && argc == 3)) {
		snprintf(msg, n, "unknown request '%s'", argv[0]);
		return -EINVAL;
	}
	uint64_t size = 0;
	if ((create || grow) && vl_parse_size(argv[3], &size)) {
		snprintf(msg, n, "bad size '%s'", argv[3]);
		return -EINVAL;
	}
	pthread_mutex_lock(&reg_lock);
	struct pool_ref *ref = pool_find(argv[1]);
	if (ref)
		ref->refs++;
	pthread_mutex_unlock(&reg_lock);
	if (!ref) {
		snprintf(msg, n, "pool %s is not served by this tcmu-runner", argv[1]);
		return -ENOENT;
	}
	struct vl_diag d = {{0}};
	int r;
	if (create) {
		struct vl_vol_create_opts o = {.thick = !strcmp(argv[4], "thick")};
		r = vl_vol_create(ref->pool, argv[2], size, &o, &d);
	} else if (grow) {
		r = vl_vol_resize(ref->pool, argv[2], size, false, &d);
	} else {
		r = vl_vol_delete(ref->pool, argv[2], &d);
	}
	snprintf(msg, n, "%s", r ? d.msg : "done");
	vl_dev_info(NULL, "control socket: %s %s/%s: %s\n", argv[0], argv[1], argv[2],
			  r ? d.msg : "done");
	pool_put(ref);
	return r;
}

/* ---- configuration ---- */

static bool vlun_check_config(const char *cfgstring, char **reason)
{
	struct vlun_cfg cfg;
	const char *why;
	char msg[600];
	msg[0] = 0;
	if (vlun_cfg_parse(cfgstring, &cfg, &why)) {
		snprintf(msg, sizeof(msg), "%s", why);
	} else {
		struct vl_diag d = {{0}};
		pthread_mutex_lock(&reg_lock);
		struct pool_ref *r = pool_find(cfg.pool);
		struct vl_vol_info vi;
		if (r) {
			if (vl_vol_info(r->pool, cfg.volume, &vi))
				snprintf(msg, sizeof(msg),
					 "pool %s has no volume '%s' (create it: vlunctl vol create %s/%s SIZE)",
					 cfg.pool, cfg.volume, cfg.pool, cfg.volume);
		} else {
			struct vl_pool *p;
			int e = pool_open_conf(cfg.pool, VL_OPEN_RDONLY, &p, &d);
			if (e == -ENOENT)
				snprintf(msg, sizeof(msg),
					 "no pool '%s' is defined in %s/pools (create it: vlunctl pool "
					 "create %s DEVICE...)",
					 cfg.pool, poolconf_dir(NULL), cfg.pool);
			else if (e)
				snprintf(msg, sizeof(msg), "pool %s cannot be opened: %s", cfg.pool,
					 d.msg);
			else {
				if (vl_vol_info(p, cfg.volume, &vi))
					snprintf(msg, sizeof(msg),
						 "pool %s has no volume '%s' (create it: vlunctl vol "
						 "create %s/%s SIZE)",
						 cfg.pool, cfg.volume, cfg.pool, cfg.volume);
				vl_pool_close(p);
			}
		}
		pthread_mutex_unlock(&reg_lock);
	}
	if (!msg[0])
		return true;
	if (reason)
		*reason = strdup(msg);
	return false;
}

static struct vdev *vd(struct tcmu_device *dev) { return tcmur_dev_get_private(dev); }

static void vdev_free(struct vdev *v)
{
	if (v->vol)
		vl_vol_close(v->vol);
	if (v->pref)
		pool_put(v->pref);
	pthread_rwlock_destroy(&v->caw_lock);
	free(v);
}

static int vlun_open(struct tcmu_device *dev, bool reopen)
{
	struct vdev *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->dev = dev;
	pthread_rwlock_init(&v->caw_lock, NULL);
	const char *why;
	const char *cfgstr = tcmu_dev_get_cfgstring(dev);
	struct vl_diag d = {{0}};
	int r;
	if (vlun_cfg_parse(cfgstr, &v->cfg, &why)) {
		vl_dev_err(dev, "cfgstring '%s': %s\n", cfgstr ? cfgstr : "", why);
		r = -EINVAL;
		goto fail;
	}
	v->pref = pool_get(v->cfg.pool, &d);
	if (!v->pref) {
		vl_dev_err(dev, "pool %s: %s\n", v->cfg.pool, d.msg);
		r = -ENODEV;
		goto fail;
	}
	v->shared = v->pref->shared;
	if ((r = vl_vol_open(v->pref->pool, v->cfg.volume, &v->vol, &d))) {
		vl_dev_err(dev, "%s\n", d.msg);
		goto fail;
	}
	v->slot = vl_vol_slot(v->vol);
	struct vl_vol_info vi;
	if (vl_vol_info(v->pref->pool, v->cfg.volume, &vi) || vlun_naa_parse(vi.wwn, v->naa))
		memset(v->naa, 0, sizeof(v->naa)); /* names no LUN */
	v->block_size = tcmu_dev_get_block_size(dev);
	uint64_t lun = tcmu_dev_get_num_lbas(dev) * v->block_size;
	uint64_t vsize = vl_vol_size(v->vol);
	if (v->block_size == 0 || vsize % v->block_size) {
		vl_dev_err(dev, "volume size %llu is not a multiple of the block size %u\n",
			   (unsigned long long)vsize, v->block_size);
		r = -EINVAL;
		goto fail;
	}
	if (lun > vsize) {
		/* the LUN was configured bigger: the volume grows to match (thin: free) */
		r = vl_vol_resize(v->pref->pool, v->cfg.volume, lun, false, &d);
		if (r) {
			vl_dev_err(dev, "LUN size %llu exceeds volume %s/%s (%llu) and growing it "
					"failed: %s\n",
				   (unsigned long long)lun, v->cfg.pool, v->cfg.volume,
				   (unsigned long long)vsize, d.msg);
			goto fail;
		}
		vl_dev_info(dev, "volume %s/%s grown from %llu to the LUN size %llu bytes\n",
			    v->cfg.pool, v->cfg.volume, (unsigned long long)vsize,
			    (unsigned long long)lun);
	} else if (lun < vsize) {
		vl_dev_warn(dev, "LUN size %llu is smaller than volume %s/%s (%llu): serving "
				 "only its first %llu bytes\n",
			    (unsigned long long)lun, v->cfg.pool, v->cfg.volume,
			    (unsigned long long)vsize, (unsigned long long)lun);
	}
	struct vl_pool_info pi;
	vl_pool_get_info(v->pref->pool, &pi);
	uint32_t gran = (uint32_t)(pi.extent_size / v->block_size);
	tcmu_dev_set_write_cache_enabled(dev, true);
	v->wce = true;
	tcmu_dev_set_max_unmap_len(dev, 1u << 20); /* LBAs per UNMAP descriptor */
	tcmu_dev_set_opt_unmap_gran(dev, gran, false);
	tcmu_dev_set_unmap_gran_align(dev, gran);
	tcmur_dev_set_private(dev, v);
	vl_dev_info(dev, "serving %s/%s%s\n", v->cfg.pool, v->cfg.volume, reopen ? " (reopen)" : "");
	return 0;
fail:
	vdev_free(v);
	return r;
}

/*
 * handle_cmd runs on the LUN's command thread and, during a runner recovery (reopen),
 * can be called after the runner waited for its commands and before it calls close:
 * it looks the LUN up under this lock, and close unhooks the LUN under it first.
 * Writer-preferring, so a close is not starved by the command threads of other LUNs.
 */
static pthread_rwlock_t life_lock;

static void vlun_close(struct tcmu_device *dev)
{
	pthread_rwlock_wrlock(&life_lock);
	struct vdev *v = vd(dev);
	tcmur_dev_set_private(dev, NULL);
	pthread_rwlock_unlock(&life_lock);
	if (!v)
		return;
	int r = vl_vol_flush(v->vol);
	if (r && r != -ESTALE) /* -ESTALE: another blade owns it, nothing here to flush */
		vl_dev_err(dev, "final flush failed: %s\n", strerror(-r));
	vdev_free(v);
}

static int vlun_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct vdev *v = vd(dev);
	struct vl_diag d = {{0}};
	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE: {
		uint64_t cur = vl_vol_size(v->vol);
		if (cfg->data.dev_size % v->block_size) {
			vl_dev_err(dev, "new size is not a multiple of the block size\n");
			return -EINVAL;
		}
		if (cfg->data.dev_size < cur) {
			vl_dev_err(dev, "refusing to shrink %s/%s below its volume size; shrink "
					"it with 'vlunctl vol resize --force' while not served\n",
				   v->cfg.pool, v->cfg.volume);
			return -EINVAL;
		}
		int r = vl_vol_resize(v->pref->pool, v->cfg.volume, cfg->data.dev_size, false, &d);
		if (r)
			vl_dev_err(dev, "resize failed: %s\n", d.msg);
		return r;
	}
	case TCMULIB_CFG_WRITE_CACHE:
		v->wce = cfg->data.write_cache;
		return 0;
	case TCMULIB_CFG_DEV_CFGSTR: {
		struct vlun_cfg nc;
		const char *why;
		if (vlun_cfg_parse(cfg->data.dev_cfgstring, &nc, &why) ||
		    strcmp(nc.pool, v->cfg.pool) || strcmp(nc.volume, v->cfg.volume))
			return -EOPNOTSUPP;
		return 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

/* ---- data path ---- */

static struct tcmur_handler vlun_handler;

/* The one place engine errors become SCSI status for this handler's commands.  A volume
 * owned by another blade: the runner learns it lost the lock, the initiator gets BUSY. */
static int status_dev(struct tcmu_device *dev, uint8_t *sense, int err, bool write)
{
	if (err == -ESTALE) { /* off the common path: every command completes through here */
		struct vdev *v = vd(dev);
		/* moving here: ours in a moment; the runner's own lock work would only slow it */
		if (v && alua_incoming(v->pref->alua, v->slot))
			return TCMU_STS_BUSY;
		if (write)
			tcmu_notify_lock_lost(dev); /* the next write runs the runner's lock() */
	}
	return vlun_status(err, write, sense);
}

#define status(cmd, err, write) status_dev(dev, (cmd)->lib_cmd->sense_buf, err, write)

/*
 * With nr_threads = 0 the runner calls the data-path callbacks on the LUN's command
 * thread and expects "queued" back; the command is then completed right here, inline.
 * With worker threads the callback's return value is the command's status.
 */
static int finish(struct tcmu_device *dev, struct tcmur_cmd *cmd, int sts)
{
	if (vlun_handler.nr_threads)
		return sts;
	tcmur_cmd_complete(dev, cmd, sts);
	return TCMU_STS_OK;
}

/* Durable on completion: a FUA CDB, or any write while the write cache is off. */
static bool durable(const struct vdev *v, bool fua)
{
	return fua || !v->wce;
}

static unsigned write_flags(const struct vdev *v, const struct tcmur_cmd *cmd)
{
	return durable(v, vlun_cdb_fua(cmd->lib_cmd->cdb)) ? VL_IO_FUA : 0;
}

/* Logs a failed write; a full pool and a range error are the initiator's to see. */
static void write_failed(struct tcmu_device *dev, int r, uint64_t len, uint64_t off)
{
	if (r != -ENOSPC && r != -ERANGE)
		vl_dev_err(dev, "write of %llu at %llu failed: %s\n", (unsigned long long)len,
			   (unsigned long long)off, strerror(-r));
}

static int vlun_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t cnt, size_t len, off_t off)
{
	struct vdev *v = vd(dev);
	worker_enter(v);
	int r = vl_vol_readv(v->vol, iov, (int)cnt, (uint64_t)off);
	/* a read takes a volume nobody owns (no lease held anywhere: nothing to fight
	 * over), never one a live blade owns: that only a write does (vlun_lock) */
	struct vl_diag d;
	if (r == -ESTALE && alua_may_take(v->pref->alua, v->slot) && vl_vol_acquire(v->vol, &d) == 0)
		r = vl_vol_readv(v->vol, iov, (int)cnt, (uint64_t)off);
	worker_exit(v);
	return finish(dev, cmd, status(cmd, r, false));
}

static int vlun_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		      size_t cnt, size_t len, off_t off)
{
	struct vdev *v = vd(dev);
	unsigned flags = write_flags(v, cmd);
	worker_enter(v);
	pthread_rwlock_rdlock(&v->caw_lock);
	int r = vl_vol_writev(v->vol, iov, (int)cnt, (uint64_t)off, flags);
	pthread_rwlock_unlock(&v->caw_lock);
	worker_exit(v);
	if (r)
		write_failed(dev, r, len, (uint64_t)off);
	return finish(dev, cmd, status(cmd, r, true));
}

static int vlun_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	int r = vl_vol_flush(vd(dev)->vol);
	if (r)
		vl_dev_err(dev, "flush failed: %s\n", strerror(-r));
	return finish(dev, cmd, status(cmd, r, true));
}

static int vlun_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len)
{
	struct vdev *v = vd(dev);
	pthread_rwlock_rdlock(&v->caw_lock);
	int r = vl_vol_discard(v->vol, off, len);
	pthread_rwlock_unlock(&v->caw_lock);
	return finish(dev, cmd, status(cmd, r, true));
}

static int vlun_writesame(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off,
			  uint64_t len, struct iovec *iov, size_t cnt)
{
	struct vdev *v = vd(dev);
	uint32_t bs = v->block_size;
	uint8_t *pat = malloc(bs);
	if (!pat)
		return finish(dev, cmd, TCMU_STS_NO_RESOURCE);
	if (vlun_iov_copy_out(pat, iov, cnt, bs) != bs) {
		free(pat);
		return finish(dev, cmd, TCMU_STS_INVALID_PARAM_LIST_LEN);
	}
	bool zero = true;
	for (uint32_t i = 0; i < bs && zero; i++)
		zero = pat[i] == 0;
	int r;
	pthread_rwlock_rdlock(&v->caw_lock);
	if (zero) {
		/* zeroing gives whole extents back to the pool */
		r = vl_vol_write_zeroes(v->vol, off, len, VL_ZERO_MAY_UNMAP);
	} else {
		size_t chunk = 1u << 20;
		chunk -= chunk % bs;
		uint8_t *buf = malloc(chunk);
		r = buf ? 0 : -ENOMEM;
		for (size_t i = 0; buf && i < chunk; i += bs)
			memcpy(buf + i, pat, bs);
		while (!r && len) {
			size_t n = len < chunk ? (size_t)len : chunk;
			r = vl_vol_write(v->vol, buf, n, off, 0);
			off += n;
			len -= n;
		}
		free(buf);
	}
	pthread_rwlock_unlock(&v->caw_lock);
	free(pat);
	return finish(dev, cmd, status(cmd, r, true));
}

static int vlun_caw(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
		    struct iovec *iov, size_t cnt)
{
	struct vdev *v = vd(dev);
	if (len > (1u << 24))
		return finish(dev, cmd, TCMU_STS_INVALID_CDB);
	uint8_t *buf = malloc(3 * len);
	if (!buf)
		return finish(dev, cmd, TCMU_STS_NO_RESOURCE);
	uint8_t *cur = buf, *cmp = buf + len, *wr = buf + 2 * len;
	if (vlun_iov_copy_out(cmp, iov, cnt, 2 * len) != 2 * len) {
		free(buf);
		return finish(dev, cmd, TCMU_STS_INVALID_PARAM_LIST_LEN);
	}
	pthread_rwlock_wrlock(&v->caw_lock);
	int r = vl_vol_read(v->vol, cur, len, off);
	int sts;
	if (r) {
		sts = status(cmd, r, false);
	} else {
		size_t i = 0;
		while (i < len && cur[i] == cmp[i])
			i++;
		if (i < len) {
			sts = vlun_miscompare(cmd->lib_cmd->sense_buf, (uint32_t)i);
		} else {
			sts = status(cmd, vl_vol_write(v->vol, wr, len, off, write_flags(v, cmd)), true);
		}
	}
	pthread_rwlock_unlock(&v->caw_lock);
	free(buf);
	return finish(dev, cmd, sts);
}

static int block_status(void *ctx, uint64_t off, uint64_t len, bool *mapped, uint64_t *run)
{
	return vl_vol_block_status(ctx, off, len, mapped, run);
}

/*
 * The fast path: a READ or WRITE that needs nothing but the page cache is served
 * right here on the LUN's command thread: no hand-off to a worker thread, and the
 * completions of a batch reach the kernel in one notification.  Anything that could
 * wait (a read miss, an extent to zero, FUA or write cache off, a partial page,
 * a COMPARE AND WRITE in progress), is big, or is not plainly valid goes back to the runner
 * (NOT_HANDLED), which checks it and queues it to the worker threads as before.
 * The runner's ALUA check is skipped here: a single-blade pool's volume is always
 * owned, and a shared pool's volume that this blade does not own makes the engine
 * answer -ESTALE before any I/O, which goes back to the runner and its lock state
 * machine (implicit failover, NOT READY for reads).
 *
 * A shared pool has no page cache to serve from (O_DIRECT: every I/O waits for the
 * device), so its READs and WRITEs into mapped extents are served here only when that
 * wait holds nothing up: no READ/WRITE of the LUN is in the workers, none ran two at
 * once there for DEEP_HOLD_NS (the initiator is not keeping a queue), and the command
 * is the first of its batch (the command thread came back to the ring more than
 * INLINE_GAP_NS after it last left handle_cmd; commands of one batch follow each other
 * within microseconds).  That saves the worker hand-off at low queue depth; at high
 * depth they all go to the workers, which overlap their device waits.
 */
#define INLINE_GAP_NS 50000u
#define DEEP_HOLD_NS 20000000u
/* Bigger commands (only with hw_max_sectors raised above its default of 64 KiB) go to
 * the workers, so one long copy does not hold up the LUN's other commands; measured with
 * 1 MiB commands at QD8, inline or not made no difference. */
#define FAST_PATH_MAX_BYTES (64u << 10)

static int fast_rw(struct tcmu_device *dev, struct vdev *v, struct tcmulib_cmd *lc,
		   const struct vlun_rw *rw)
{
	uint64_t end, off, len = 0;
	if (!rw->blocks || rw->blocks > FAST_PATH_MAX_BYTES / v->block_size ||
	    __builtin_add_overflow(rw->lba, rw->blocks, &end) ||
	    end > tcmu_dev_get_num_lbas(dev) ||
	    __builtin_mul_overflow(rw->lba, (uint64_t)v->block_size, &off) ||
	    lc->iov_cnt > INT32_MAX)
		return TCMU_STS_NOT_HANDLED;
	for (size_t i = 0; i < lc->iov_cnt; i++)
		len += lc->iovec[i].iov_len;
	if (len != (uint64_t)rw->blocks * v->block_size)
		return TCMU_STS_NOT_HANDLED; /* the runner reports the mismatch */
	int r;
	if (v->shared) {
		uint64_t now = now_ns();
		if (atomic_load_explicit(&v->busy, memory_order_relaxed) ||
		    now - v->last_cmd_ns < INLINE_GAP_NS ||
		    (int64_t)(now - atomic_load_explicit(&v->deep_ns, memory_order_relaxed)) <
			    (int64_t)DEEP_HOLD_NS) /* (a store just after `now`: negative, deep) */
			return TCMU_STS_NOT_HANDLED;
	}
	if (!rw->write) {
		r = v->shared ? vl_vol_readv(v->vol, lc->iovec, (int)lc->iov_cnt, off)
			      : vl_vol_try_readv(v->vol, lc->iovec, (int)lc->iov_cnt, off);
	} else {
		if (durable(v, rw->fua) || pthread_rwlock_tryrdlock(&v->caw_lock))
			return TCMU_STS_NOT_HANDLED;
		r = v->shared ? vl_vol_writev_mapped(v->vol, lc->iovec, (int)lc->iov_cnt, off)
			      : vl_vol_try_writev(v->vol, lc->iovec, (int)lc->iov_cnt, off);
		pthread_rwlock_unlock(&v->caw_lock);
		if (r && r != -EAGAIN && r != -ESTALE)
			write_failed(dev, r, len, off);
	}
	/* a worker thread repeats it whole; a volume not owned here: the runner's ALUA path */
	if (r == -EAGAIN || r == -ESTALE)
		return TCMU_STS_NOT_HANDLED;
	return status_dev(dev, lc->sense_buf, r, rw->write);
}

static int verify_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return vl_vol_read(ctx, buf, len, off);
}

static int handle_cmd(struct tcmu_device *dev, struct vdev *v, struct tcmulib_cmd *lc)
{
	if (lc->cdb[0] == 0x9e && (lc->cdb[1] & 0x1f) == 0x12) /* GET LBA STATUS */
		return vlun_get_lba_status(lc->cdb, lc->iovec, lc->iov_cnt, v->block_size,
					   tcmu_dev_get_num_lbas(dev), block_status,
					   v->vol, lc->sense_buf);
	if (lc->cdb[0] == 0x83) /* EXTENDED COPY: checked here, copied by the runner */
		return vlun_xcopy_check(lc->cdb, lc->iovec, lc->iov_cnt, v->naa,
					tcmu_dev_get_num_lbas(dev), lc->sense_buf);
	if (vlun_is_verify(lc->cdb)) { /* nobody else answers VERIFY */
		int rerr;
		int sts = vlun_verify(lc->cdb, lc->iovec, lc->iov_cnt, v->block_size,
				      tcmu_dev_get_num_lbas(dev), tcmu_dev_get_max_xfer_len(dev),
				      verify_read, v->vol, lc->sense_buf, &rerr);
		return rerr ? status_dev(dev, lc->sense_buf, rerr, false) : sts;
	}
	int sts = vlun_handle_cdb(lc->cdb, lc->iovec, lc->iov_cnt, v->wce, lc->sense_buf);
	struct vlun_rw rw;
	if (sts == TCMU_STS_NOT_HANDLED && atomic_load_explicit(&fast_path, memory_order_relaxed) &&
	    vlun_cdb_rw(lc->cdb, &rw))
		sts = fast_rw(dev, v, lc, &rw);
	if (v->shared)
		v->last_cmd_ns = now_ns(); /* (only the command thread reads or writes it) */
	return sts;
}

static int vlun_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	/* the runner cancels this thread when the device goes away: never inside the
	 * engine (its grace-period count and the COMPARE AND WRITE lock would leak) */
	int cs;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	pthread_rwlock_rdlock(&life_lock);
	struct vdev *v = vd(dev);
	/* no LUN between close and open: NOT_HANDLED, and the runner answers BUSY */
	int sts = v ? handle_cmd(dev, v, cmd->lib_cmd) : TCMU_STS_NOT_HANDLED;
	pthread_rwlock_unlock(&life_lock);
	pthread_setcancelstate(cs, NULL);
	return sts;
}

/* ---- ownership (shared pools): tcmu-runner's implicit ALUA ---- */

#define TAKEOVER_MS 5000

/* lock and unlock run on the runner's lock work (or its close path), which the runner
 * serialises with close and reopen (it flushes that work before closing): the LUN
 * cannot go away meanwhile, and life_lock is not held across a wait of seconds. */
static int vlun_lock(struct tcmu_device *dev, uint16_t tag)
{
	struct vdev *v = vd(dev);
	struct vl_diag d = {{0}};
	if (v && !alua_may_take(v->pref->alua, v->slot))
		return TCMU_STS_BUSY; /* handing it to another blade: never take it back */
	if (v)
		alua_wait_incoming(v->pref->alua, v->slot, TAKEOVER_MS);
	if (v && vl_vol_owned(v->vol))
		return TCMU_STS_OK;
	/* a live owner elsewhere is asked to let go; one that does not answer within
	 * TAKEOVER_MS is fenced (the runner answers BUSY meanwhile) */
	int r = v ? vl_vol_takeover(v->vol, TAKEOVER_MS, VL_TAKEOVER_FORCE, &d) : -ENODEV;
	if (r == 0)
		return TCMU_STS_OK;
	vl_dev_info(dev, "cannot take the volume: %s\n", d.msg[0] ? d.msg : strerror(-r));
	/* BUSY: the initiator retries; the runner tries again at the next write */
	return r == -EBUSY || r == -ENODEV ? TCMU_STS_BUSY : TCMU_STS_HW_ERR;
}

static int vlun_unlock(struct tcmu_device *dev)
{
	struct vdev *v = vd(dev);
	int r = v ? vl_vol_release(v->vol) : 0;
	if (r)
		vl_dev_warn(dev, "releasing the volume: %s\n", strerror(-r));
	return r ? TCMU_STS_HW_ERR : TCMU_STS_OK;
}

enum { LOCK_UNLOCKED = 1, LOCK_WRITE_LOCKED = 5 };

static int vlun_get_lock_state(struct tcmu_device *dev)
{
	pthread_rwlock_rdlock(&life_lock);
	struct vdev *v = vd(dev);
	bool owned = v && vl_vol_owned(v->vol);
	pthread_rwlock_unlock(&life_lock);
	return owned ? LOCK_WRITE_LOCKED : LOCK_UNLOCKED;
}

static const char cfg_desc[] =
	"POOL/VOLUME: a volume of a vlun pool, e.g. pool0/vm1. Create pools and volumes with "
	"vlunctl; the LUN's size should equal the volume's (a bigger LUN grows the volume, a "
	"smaller one serves its first bytes). Set wwn= to the volume's serial (vlunctl vol "
	"show) for the same WWN on every node.";

static struct tcmur_handler vlun_handler = {
	.name = "vlun: thin-provisioned virtual volumes on a pool of disks",
	.subtype = VLUN_SUBTYPE,
	.cfg_desc = cfg_desc,
	.check_config = vlun_check_config,
	.reconfig = vlun_reconfig,
	.open = vlun_open,
	.close = vlun_close,
	.nr_threads = 4,
	.handle_cmd = vlun_handle_cmd,
	.read = vlun_read,
	.write = vlun_write,
	.flush = vlun_flush,
	.unmap = vlun_unmap,
	.writesame = vlun_writesame,
	.caw = vlun_caw,
	.lock = vlun_lock,
	.unlock = vlun_unlock,
	.get_lock_state = vlun_get_lock_state,
};

EXPORT int handler_init(void);
EXPORT int handler_init(void)
{
	pthread_rwlockattr_t la;
	pthread_rwlockattr_init(&la);
	pthread_rwlockattr_setkind_np(&la, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&life_lock, &la);
	pthread_rwlockattr_destroy(&la);
	/* worker threads per LUN; VLUN_NR_THREADS overrides (0-64; 0 = inline on the LUN thread) */
	const char *e = getenv("VLUN_NR_THREADS");
	if (e) {
		char *end;
		long n = strtol(e, &end, 10);
		if (*end == 0 && n >= 0 && n <= 64)
			vlun_handler.nr_threads = (int)n;
	}
	/* the sanlock client library writes to the daemon without MSG_NOSIGNAL */
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	e = getenv("VLUN_FAST_PATH"); /* 0: every READ/WRITE through the runner's queue */
	if (e && !strcmp(e, "0"))
		atomic_store(&fast_path, false);
	int r = ctl_serve_start(ctl_handle);
	if (r)
		vl_dev_warn(NULL, "vlun: no control socket at %s (%s): pools this runner serves "
				  "cannot be changed by vlunctl/vlun-config meanwhile\n",
				  ctl_socket_path(), strerror(-r));
	return tcmur_register_handler(&vlun_handler);
}
