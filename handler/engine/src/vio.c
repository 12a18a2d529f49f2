/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The data path.  A mapped extent is reached with three acquire loads and
 * one preadv/pwritev; only the first write to an extent takes the volume
 * lock.  Every I/O is counted in the current grace-period epoch so freed
 * extents are not reused while an I/O that saw the old mapping is running.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "internal.h"

#define MAX_SUBIOV 64

static inline uint32_t io_enter(struct vl_vol *v)
{
	uint32_t e = atomic_load(&v->epoch) & 1u;
	atomic_fetch_add(&v->inflight[e], 1);
	return e;
}

static inline void io_exit(struct vl_vol *v, uint32_t e)
{
	atomic_fetch_sub_explicit(&v->inflight[e], 1, memory_order_release);
}

/* Shared pools: only the owner's I/O reaches the disks.  Checked after io_enter, so a
 * release (owned = false, then a grace period) waits for every I/O that passed. */
static inline int own_check(struct vl_vol *v, uint32_t ep)
{
	if (__builtin_expect(atomic_load(&v->owned), 1))
		return 0;
	io_exit(v, ep);
	return -ESTALE;
}

/* A cursor over the caller's iovec array. */
struct cursor {
	const struct iovec *iov;
	int cnt;
	int i;
	size_t off;
};

/* Slice up to n bytes at the cursor into out (at most MAX_SUBIOV entries).
 * Returns bytes sliced. */
static size_t cursor_take(struct cursor *c, size_t n, struct iovec *out, int *outcnt)
{
	size_t got = 0;
	int k = 0;
	while (got < n && c->i < c->cnt && k < MAX_SUBIOV) {
		size_t avail = c->iov[c->i].iov_len - c->off;
		size_t t = n - got < avail ? n - got : avail;
		if (t) {
			out[k].iov_base = (uint8_t *)c->iov[c->i].iov_base + c->off;
			out[k].iov_len = t;
			k++;
		}
		got += t;
		c->off += t;
		if (c->off == c->iov[c->i].iov_len) {
			c->i++;
			c->off = 0;
		}
	}
	*outcnt = k;
	return got;
}

static size_t iov_total(const struct iovec *iov, int cnt, bool *overflow)
{
	size_t n = 0;
	*overflow = false;
	for (int i = 0; i < cnt; i++)
		if (__builtin_add_overflow(n, iov[i].iov_len, &n))
			*overflow = true;
	return n;
}

/* Bytes of a `len`-byte request at `inoff` into an extent that lie in that extent. */
static inline uint64_t in_extent(const struct vl_pool *p, uint64_t inoff, uint64_t len)
{
	return p->extent_size - inoff < len ? p->extent_size - inoff : len;
}

static int range_ok(struct vl_vol *v, uint64_t off, uint64_t len)
{
	uint64_t end;
	if (__builtin_add_overflow(off, len, &end) || end > atomic_load(&v->size))
		return -ERANGE;
	return 0;
}

/* Run `n` bytes at the cursor against member `mi` at `poff`, in slices.
 * nowait: a read that must not wait for the device. */
static int member_rw(struct vl_pool *p, struct cursor *c, uint32_t mi, uint64_t poff, size_t n,
		     bool wr, bool fua, bool nowait)
{
	while (n) {
		struct iovec sub[MAX_SUBIOV];
		int k;
		size_t got = cursor_take(c, n, sub, &k);
		int r = wr       ? vl_io_writev(p, mi, sub, k, got, poff, fua)
			: nowait ? vl_io_readv_nowait(p, mi, sub, k, got, poff)
				 : vl_io_readv(p, mi, sub, k, got, poff);
		if (r)
			return r;
		n -= got;
		poff += got;
	}
	return 0;
}

static void cursor_zero(struct cursor *c, size_t n)
{
	while (n) {
		struct iovec sub[MAX_SUBIOV];
		int k;
		size_t got = cursor_take(c, n, sub, &k);
		for (int i = 0; i < k; i++)
			memset(sub[i].iov_base, 0, sub[i].iov_len);
		n -= got;
	}
}

static inline __attribute__((always_inline)) int
vol_readv(struct vl_vol *v, const struct iovec *iov, int iovcnt, uint64_t off, bool nowait)
{
	struct vl_pool *p = v->pool;
	bool ovf;
	size_t len = iov_total(iov, iovcnt, &ovf);
	if (ovf || range_ok(v, off, len))
		return -ERANGE;
	if (nowait && p->is_shared) /* O_DIRECT: every read waits for the device */
		return -EAGAIN;
	uint64_t mask = p->extent_size - 1;
	uint32_t ep = io_enter(v);
	int r = own_check(v, ep);
	if (r)
		return r;
	/* fast path: one mapped extent */
	if ((off & mask) + len <= p->extent_size) {
		uint32_t e = vl_map_lookup(v, off >> p->ext_shift);
		if (e) {
			uint64_t poff = vl_ext_off(p, vl_entry_local(e)) + (off & mask);
			uint32_t mi = vl_entry_member(e);
			if (iovcnt > 1024)
				r = member_rw(p, &(struct cursor){iov, iovcnt, 0, 0}, mi, poff, len,
					      false, false, nowait);
			else if (nowait)
				r = vl_io_readv_nowait(p, mi, iov, iovcnt, len, poff);
			else
				r = vl_io_readv(p, mi, iov, iovcnt, len, poff);
			io_exit(v, ep);
			return r;
		}
	}
	struct cursor c = {iov, iovcnt, 0, 0};
	while (len && !r) {
		uint64_t inoff = off & mask;
		size_t n = (size_t)in_extent(p, inoff, len);
		uint32_t e = vl_map_lookup(v, off >> p->ext_shift);
		if (e)
			r = member_rw(p, &c, vl_entry_member(e),
				      vl_ext_off(p, vl_entry_local(e)) + inoff, n, false, false, nowait);
		else
			cursor_zero(&c, n);
		off += n;
		len -= n;
	}
	io_exit(v, ep);
	return r;
}

int vl_vol_readv(struct vl_vol *v, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return vol_readv(v, iov, iovcnt, off, false);
}

int vl_vol_try_readv(struct vl_vol *v, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return vol_readv(v, iov, iovcnt, off, true);
}

/* Slow path of a write: map the extent.  Returns the entry or -errno. */
static int64_t map_for_write(struct vl_vol *v, uint64_t vext, bool *allocated)
{
	VL_LOCK_SCOPE(&v->lock);
	uint32_t e = vl_map_lookup(v, vext);
	if (e)
		return e;
	int r = vl_vol_alloc_ext(v, vext, false, &e);
	if (r)
		return r;
	*allocated = true;
	return e;
}

static int write_guard(struct vl_vol *v)
{
	if (v->pool->flags & VL_OPEN_RDONLY)
		return -EROFS;
	if (atomic_load_explicit(&v->pool->failed, memory_order_relaxed))
		return -EIO;
	return 0;
}

/* The fast path's allocation: only when the volume lock is free and the new extent
 * needs no zeroing (a hole of a member file).  The entry, or -EAGAIN. */
static int64_t map_nowait(struct vl_vol *v, uint64_t vext)
{
	if (pthread_mutex_trylock(&v->lock))
		return -EAGAIN;
	uint32_t e = vl_map_lookup(v, vext);
	int r = e ? 0 : vl_vol_alloc_ext(v, vext, true, &e);
	pthread_mutex_unlock(&v->lock);
	return r ? -EAGAIN : (int64_t)e; /* a full pool: the blocking call reports it */
}

/* True when a map leaf covering [off, off+len) holds a change not yet committed: a
 * FUA write through it is durable only once that change is. */
static bool map_uncommitted(struct vl_vol *v, uint64_t off, uint64_t len)
{
	struct vl_pool *p = v->pool;
	uint64_t first = (off >> p->ext_shift) / VL_PER_PAGE;
	uint64_t last = ((off + len - 1) >> p->ext_shift) / VL_PER_PAGE;
	VL_LOCK_SCOPE(&v->lock);
	for (uint64_t l = first; l <= last && l < v->leaf_cap; l++)
		if (v->leaf_dirty[l])
			return true;
	return false;
}

/* nowait: see vl_vol_try_writev; mapped: see vl_vol_writev_mapped */
static inline __attribute__((always_inline)) int
vol_writev(struct vl_vol *v, const struct iovec *iov, int iovcnt, uint64_t off, bool fua,
	   bool nowait, bool mapped)
{
	struct vl_pool *p = v->pool;
	bool ovf;
	size_t len = iov_total(iov, iovcnt, &ovf);
	if (ovf || range_ok(v, off, len))
		return -ERANGE;
	int r = write_guard(v);
	if (r)
		return r;
	if (nowait && (p->fault || p->is_shared || ((off | len) & p->page_mask)))
		return -EAGAIN; /* (a shared pool's O_DIRECT writes wait for the device) */
	bool allocated = false;
	uint64_t mask = p->extent_size - 1, off0 = off, len0 = len;
	uint32_t ep = io_enter(v);
	if ((r = own_check(v, ep)))
		return r;
	if ((off & mask) + len <= p->extent_size && iovcnt <= 1024) {
		uint32_t e = vl_map_lookup(v, off >> p->ext_shift);
		if (e) {
			r = vl_io_writev(p, vl_entry_member(e), iov, iovcnt, len,
					 vl_ext_off(p, vl_entry_local(e)) + (off & mask), fua);
			io_exit(v, ep);
			if (!r && fua && len && map_uncommitted(v, off, len))
				r = vl_vol_commit(v);
			return r;
		}
	}
	struct cursor c = {iov, iovcnt, 0, 0};
	while (len && !r) {
		uint64_t inoff = off & mask;
		size_t n = (size_t)in_extent(p, inoff, len);
		int64_t e = vl_map_lookup(v, off >> p->ext_shift);
		if (!e)
			e = mapped   ? -EAGAIN
			    : nowait ? map_nowait(v, off >> p->ext_shift)
				     : map_for_write(v, off >> p->ext_shift, &allocated);
		if (e < 0) {
			r = (int)e;
			break;
		}
		r = member_rw(p, &c, vl_entry_member((uint32_t)e),
			      vl_ext_off(p, vl_entry_local((uint32_t)e)) + inoff, n, true,
			      fua && !allocated, false);
		off += n;
		len -= n;
	}
	io_exit(v, ep);
	/* a FUA write that allocated, or went through a mapping made by an earlier write
	 * and not committed yet, is durable only once that mapping is */
	if (!r && fua && len0 && (allocated || map_uncommitted(v, off0, len0)))
		r = vl_vol_commit(v);
	return r;
}

int vl_vol_writev(struct vl_vol *v, const struct iovec *iov, int iovcnt, uint64_t off,
		  unsigned flags)
{
	return vol_writev(v, iov, iovcnt, off, flags & VL_IO_FUA, false, false);
}

/*
 * A write that cannot wait: whole pages (a partial page may first be read from
 * the device), not FUA, not under fault injection, into extents mapped or
 * mappable without zeroing.  Anything else is -EAGAIN, possibly after part of
 * the data was written; the caller repeats the whole write with vl_vol_writev.
 */
int vl_vol_try_writev(struct vl_vol *v, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return vol_writev(v, iov, iovcnt, off, false, true, false);
}

/*
 * A write that may wait for the device but never for the volume's lock or its
 * metadata: into mapped extents only (a shared pool's O_DIRECT write, served on the
 * LUN's command thread), not FUA.  -EAGAIN when an extent is not mapped, possibly
 * after part of the data was written; the caller repeats the whole write with
 * vl_vol_writev.
 */
int vl_vol_writev_mapped(struct vl_vol *v, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return vol_writev(v, iov, iovcnt, off, false, false, true);
}

int vl_vol_read(struct vl_vol *v, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = {buf, len};
	return vl_vol_readv(v, &iov, 1, off);
}

int vl_vol_write(struct vl_vol *v, const void *buf, size_t len, uint64_t off, unsigned flags)
{
	struct iovec iov = {(void *)buf, len};
	return vl_vol_writev(v, &iov, 1, off, flags);
}

/* Zero [off, off+len) that lies inside one extent, if it is mapped. */
static int zero_partial(struct vl_vol *v, uint64_t off, uint64_t n)
{
	struct vl_pool *p = v->pool;
	uint32_t e = vl_map_lookup(v, off >> p->ext_shift);
	if (!e)
		return 0;
	return vl_io_zero(p, vl_entry_member(e),
			  vl_ext_off(p, vl_entry_local(e)) + (off & (p->extent_size - 1)), n, true);
}

static int zero_range(struct vl_vol *v, uint64_t off, uint64_t len, bool unmap)
{
	struct vl_pool *p = v->pool;
	int r = range_ok(v, off, len);
	if (r)
		return r;
	if ((r = write_guard(v)))
		return r;
	unmap = unmap && !v->thick;
	uint64_t mask = p->extent_size - 1;
	uint32_t ep = io_enter(v);
	if ((r = own_check(v, ep)))
		return r;
	while (len && !r) {
		uint64_t inoff = off & mask;
		uint64_t n = in_extent(p, inoff, len);
		if (unmap && n == p->extent_size) {
			pthread_mutex_lock(&v->lock);
			r = vl_vol_unmap_ext(v, off >> p->ext_shift);
			pthread_mutex_unlock(&v->lock);
		} else {
			r = zero_partial(v, off, n);
		}
		off += n;
		len -= n;
	}
	io_exit(v, ep);
	return r;
}

int vl_vol_discard(struct vl_vol *v, uint64_t off, uint64_t len)
{
	return zero_range(v, off, len, true);
}

int vl_vol_write_zeroes(struct vl_vol *v, uint64_t off, uint64_t len, unsigned flags)
{
	return zero_range(v, off, len, flags & VL_ZERO_MAY_UNMAP);
}

int vl_vol_preallocate(struct vl_vol *v, uint64_t off, uint64_t len)
{
	struct vl_pool *p = v->pool;
	int r = range_ok(v, off, len);
	if (r || (r = write_guard(v)) || !len)
		return r;
	uint64_t first = off >> p->ext_shift, last = (off + len - 1) >> p->ext_shift;
	if (!atomic_load(&v->owned))
		return -ESTALE;
	VL_LOCK_SCOPE(&v->lock);
	for (uint64_t x = first; x <= last && !r; x++) {
		uint32_t e;
		if (!vl_map_lookup(v, x))
			r = vl_vol_alloc_ext(v, x, false, &e);
	}
	return r;
}

int vl_vol_flush(struct vl_vol *v)
{
	if (v->pool->flags & VL_OPEN_RDONLY)
		return 0;
	if (!atomic_load(&v->owned))
		return -ESTALE;
	return vl_vol_commit(v);
}

int vl_vol_block_status(struct vl_vol *v, uint64_t off, uint64_t len, bool *mapped,
			uint64_t *run)
{
	struct vl_pool *p = v->pool;
	int r = range_ok(v, off, len);
	if (r || !len)
		return r ? r : -EINVAL;
	if (!atomic_load(&v->owned))
		return -ESTALE;
	uint64_t x = off >> p->ext_shift;
	bool m = vl_map_lookup(v, x) != 0;
	uint64_t n = in_extent(p, off & (p->extent_size - 1), len);
	while (n < len && (vl_map_lookup(v, ++x) != 0) == m)
		n += in_extent(p, 0, len - n);
	*mapped = m;
	*run = n;
	return 0;
}

uint64_t vl_vol_size(const struct vl_vol *v) { return atomic_load(&v->size); }
const char *vl_vol_name(const struct vl_vol *v) { return v->name; }
uint32_t vl_vol_slot(const struct vl_vol *v) { return v->slot; }

uint64_t vl_vol_allocated_bytes(struct vl_vol *v)
{
	return atomic_load(&v->nr_alloc) << v->pool->ext_shift;
}

int vl_vol_open(struct vl_pool *p, const char *name, struct vl_vol **out, struct vl_diag *d)
{
	VL_LOCK_SCOPE(&p->lock);
	struct vl_vol *v = vl_vol_find(p, name);
	if (!v)
		return vl_diag_set(d, -ENOENT, "no volume '%s' in pool %s", name, p->sb.pool_name);
	if (v->damaged)
		return vl_diag_set(d, -EUCLEAN,
				   "volume '%s' has damaged metadata (%s); run 'vlunctl pool check "
				   "%s'",
				   name, v->damage, p->sb.pool_name);
	v->open_count++;
	*out = v;
	return 0;
}

void vl_vol_unref(struct vl_vol *v)
{
	if (!v)
		return;
	VL_LOCK_SCOPE(&v->pool->lock);
	v->open_count--;
}

void vl_vol_close(struct vl_vol *v)
{
	if (!v)
		return;
	struct vl_pool *p = v->pool;
	if (!(p->flags & VL_OPEN_RDONLY) && !atomic_load(&p->failed))
		(void)vl_vol_commit(v);
	VL_LOCK_SCOPE(&p->lock);
	v->open_count--;
}
