/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Member device I/O, with the fault-injection hooks the crash tests use. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

int vl_diag_set(struct vl_diag *d, int err, const char *fmt, ...)
{
	if (d) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

int vl_member_open(struct vl_member *m, const char *path, bool rdonly, struct vl_diag *d)
{
	int fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return vl_diag_set(d, -errno, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return vl_diag_set(d, e, "%s: cannot stat: %s", path, strerror(-e));
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz;
		if (ioctl(fd, BLKGETSIZE64, &sz) < 0) {
			int e = -errno;
			close(fd);
			return vl_diag_set(d, e, "%s: cannot read device size: %s", path,
					   strerror(-e));
		}
		m->size = sz;
		m->is_bdev = true;
	} else if (S_ISREG(st.st_mode)) {
		m->size = (uint64_t)st.st_size;
		m->is_bdev = false;
	} else {
		close(fd);
		return vl_diag_set(d, -EINVAL,
				   "%s: not a regular file or block device; members must be one "
				   "of those",
				   path);
	}
	m->fd = fd;
	m->punch_ok = !m->is_bdev;
	struct statfs sf;
	m->in_memory = !m->is_bdev && fstatfs(fd, &sf) == 0 &&
		       (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
	atomic_store(&m->no_nowait, false);
	free(m->path);
	m->path = strdup(path);
	if (!m->path) {
		close(fd);
		m->fd = -1;
		return -ENOMEM;
	}
	return 0;
}

static int rw_full(int fd, void *buf, size_t len, uint64_t off, bool wr)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = wr ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (wr)
				return -EIO;
			memset(p, 0, len); /* beyond EOF of a file reads as zeros */
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int m_rw(struct vl_member *m, void *buf, size_t len, uint64_t off, bool wr);
static inline int m_rwv(struct vl_member *m, const struct iovec *iov, int cnt, size_t len,
			uint64_t off, bool wr, int flags);

int vl_io_read(struct vl_pool *p, uint32_t mi, void *buf, size_t len, uint64_t off)
{
	return m_rw(&p->m[mi], buf, len, off, false);
}

/* ---- fault injection ---- */
static int fault_before_write(struct vl_pool *p, uint32_t mi, size_t len, uint64_t off, bool meta,
			      bool *cut)
{
	struct vl_fault *f = p->fault;
	*cut = false;
	pthread_mutex_lock(&p->fault_lock);
	if (f->crashed) {
		pthread_mutex_unlock(&p->fault_lock);
		return -EIO;
	}
	if (meta)
		f->meta_writes++;
	if (f->writes_left >= 0 && (meta || !f->meta_only)) {
		if (f->writes_left == 0) {
			f->crashed = true;
			*cut = true;
		} else {
			f->writes_left--;
		}
	}
	if (f->drop_unsynced) {
		if (p->nr_undo == p->cap_undo) {
			size_t nc = p->cap_undo ? p->cap_undo * 2 : 64;
			struct vl_undo *nu = realloc(p->undo, nc * sizeof(*nu));
			if (!nu) {
				pthread_mutex_unlock(&p->fault_lock);
				return -ENOMEM;
			}
			p->undo = nu;
			p->cap_undo = nc;
		}
		struct vl_undo *u = &p->undo[p->nr_undo];
		u->old = malloc(len ? len : 1);
		if (!u->old) {
			pthread_mutex_unlock(&p->fault_lock);
			return -ENOMEM;
		}
		m_rw(&p->m[mi], u->old, len, off, false);
		u->member = mi;
		u->off = off;
		u->len = len;
		p->nr_undo++;
	}
	pthread_mutex_unlock(&p->fault_lock);
	return 0;
}

void vl_undo_clear(struct vl_pool *p, uint32_t mi)
{
	if (!p->fault)
		return;
	pthread_mutex_lock(&p->fault_lock);
	size_t k = 0;
	for (size_t i = 0; i < p->nr_undo; i++) {
		if (p->undo[i].member == mi)
			free(p->undo[i].old);
		else
			p->undo[k++] = p->undo[i];
	}
	p->nr_undo = k;
	pthread_mutex_unlock(&p->fault_lock);
}

void vl_pool_set_fault(struct vl_pool *p, struct vl_fault *f) { p->fault = f; }

void vl_pool_crash(struct vl_pool *p)
{
	struct vl_fault *f = p->fault;
	if (f) {
		f->crashed = true;
		uint32_t s = f->seed ? f->seed : 1;
		for (size_t i = p->nr_undo; i-- > 0;) {
			struct vl_undo *u = &p->undo[i];
			s = s * 1103515245u + 12345u;
			if ((s >> 16) & 1)
				(void)m_rw(&p->m[u->member], u->old, u->len, u->off, true);
			free(u->old);
		}
		p->nr_undo = 0;
	}
	atomic_store(&p->failed, true);
	vl_pool_close(p);
}

int vl_io_write(struct vl_pool *p, uint32_t mi, const void *buf, size_t len, uint64_t off,
		bool meta)
{
	if (p->fault) {
		bool cut;
		int r = fault_before_write(p, mi, len, off, meta, &cut);
		if (r)
			return r;
		if (cut) {
			if (p->fault->torn)
				m_rw(&p->m[mi], (void *)buf, len / 2 ? len / 2 : 1, off, true);
			return -EIO;
		}
	}
	int r = m_rw(&p->m[mi], (void *)buf, len, off, true);
	if (!r && !meta)
		atomic_store_explicit(&p->m[mi].data_dirty, true, memory_order_relaxed);
	return r;
}

/* Advance an iovec array by n bytes (in place on a private copy). */
static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (n && *cnt) {
		if (n >= (*iov)->iov_len) {
			n -= (*iov)->iov_len;
			(*iov)++;
			(*cnt)--;
		} else {
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			n = 0;
		}
	}
}

/* `len`: the iovecs' total, which every caller already knows. */
static int rwv_full(int fd, const struct iovec *iov0, int cnt, size_t len, uint64_t off, bool wr,
		    int flags)
{
	ssize_t n;
	if (cnt == 1 && !flags) /* the plain calls are a little cheaper in the kernel */
		n = wr ? pwrite(fd, iov0->iov_base, len, (off_t)off)
		       : pread(fd, iov0->iov_base, len, (off_t)off);
	else
		n = wr ? pwritev2(fd, iov0, cnt, (off_t)off, flags)
		       : preadv2(fd, iov0, cnt, (off_t)off, flags);
	if (n == (ssize_t)len)
		return 0;
	/* slow path: short transfer or error */
	struct iovec stackv[64];
	struct iovec *copy = cnt <= 64 ? stackv : malloc(sizeof(*copy) * (size_t)cnt);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, iov0, sizeof(*copy) * (size_t)cnt);
	struct iovec *v = copy;
	int r = 0;
	size_t done = 0;
	for (;;) {
		if (n < 0) {
			if (errno != EINTR) {
				r = -errno;
				break;
			}
			n = 0;
		} else if (n == 0 && done < len) {
			if (wr) {
				r = -EIO;
				break;
			}
			/* beyond EOF: zero-fill */
			for (int i = 0; i < cnt; i++)
				memset(v[i].iov_base, 0, v[i].iov_len);
			break;
		}
		done += (size_t)n;
		iov_advance(&v, &cnt, (size_t)n);
		if (done >= len)
			break;
		n = wr ? pwritev2(fd, v, cnt, (off_t)(off + done), flags)
		       : preadv2(fd, v, cnt, (off_t)(off + done), flags);
	}
	if (copy != stackv)
		free(copy);
	return r;
}

/* ---- O_DIRECT (shared pools) ----
 * A member opened O_DIRECT takes only transfers whose offset, length and buffers are
 * aligned to its dio_align.  The data path's buffers (tcmu-runner's ring) and the
 * metadata blocks are; anything else goes through an aligned bounce buffer, with the
 * edges of an unaligned write read first. */
static bool dio_aligned(const struct vl_member *m, const struct iovec *iov, int cnt, size_t len,
			uint64_t off)
{
	uint64_t a = m->dio_align - 1, acc = off | len;
	for (int i = 0; i < cnt; i++)
		acc |= (uintptr_t)iov[i].iov_base | iov[i].iov_len;
	return !(acc & a);
}

static int bounce_rwv(struct vl_member *m, const struct iovec *iov, int cnt, size_t len,
		      uint64_t off, bool wr, int flags)
{
	uint64_t a = m->dio_align, lo = off / a * a, hi;
	if (__builtin_add_overflow(off, (uint64_t)len + a - 1, &hi))
		return -EINVAL;
	hi = hi / a * a;
	size_t span = (size_t)(hi - lo);
	VL_AUTOFREE uint8_t *buf = aligned_alloc(a, span);
	if (!buf)
		return -ENOMEM;
	struct iovec b = {buf, span};
	int r = 0;
	if (!wr || lo != off || hi != off + len)
		r = rwv_full(m->fd, &b, 1, span, lo, false, wr ? 0 : flags);
	if (r)
		return r;
	uint8_t *at = buf + (off - lo);
	for (int i = 0; i < cnt; i++) {
		if (wr)
			memcpy(at, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, at, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	return wr ? rwv_full(m->fd, &b, 1, span, lo, true, flags) : 0;
}

/* inline: on every data I/O (out of line it cost 27 instructions per I/O, callgrind) */
static inline __attribute__((always_inline)) int
m_rwv(struct vl_member *m, const struct iovec *iov, int cnt, size_t len, uint64_t off, bool wr,
      int flags)
{
	if (m->direct && !dio_aligned(m, iov, cnt, len, off))
		return bounce_rwv(m, iov, cnt, len, off, wr, flags);
	return rwv_full(m->fd, iov, cnt, len, off, wr, flags);
}

static int m_rw(struct vl_member *m, void *buf, size_t len, uint64_t off, bool wr)
{
	if (m->direct) {
		struct iovec v = {buf, len};
		return m_rwv(m, &v, 1, len, off, wr, 0);
	}
	return rw_full(m->fd, buf, len, off, wr);
}

int vl_io_direct(struct vl_member *m)
{
	if (m->direct)
		return 0;
	int fl = fcntl(m->fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (fcntl(m->fd, F_SETFL, fl | O_DIRECT) < 0) {
		/* tmpfs (before Linux 6.6) has none: it is the page cache itself, one per
		 * machine, never shared between blades, and so coherent without it */
		if (errno == EINVAL && m->in_memory)
			return 0;
		return -errno;
	}
	uint32_t a = 512;
	if (m->is_bdev) {
		int ss;
		if (ioctl(m->fd, BLKSSZGET, &ss) == 0 && ss >= 512 && !(ss & (ss - 1)))
			a = (uint32_t)ss;
	} else {
		a = 4096; /* a file: what every file system's O_DIRECT takes */
	}
	m->dio_align = a;
	m->direct = true;
	return 0;
}

int vl_io_readv_nowait(struct vl_pool *p, uint32_t mi, const struct iovec *iov, int cnt,
		       size_t len, uint64_t off)
{
	struct vl_member *m = &p->m[mi];
	if (m->in_memory) /* (tmpfs has no RWF_NOWAIT before Linux 6.6) */
		return m_rwv(m, iov, cnt, len, off, false, 0);
	if (atomic_load_explicit(&m->no_nowait, memory_order_relaxed))
		return -EAGAIN;
	int r = m_rwv(m, iov, cnt, len, off, false, RWF_NOWAIT);
	if (r == -EOPNOTSUPP) {
		atomic_store_explicit(&m->no_nowait, true, memory_order_relaxed);
		r = -EAGAIN;
	}
	return r;
}

int vl_io_readv(struct vl_pool *p, uint32_t mi, const struct iovec *iov, int cnt, size_t len,
		uint64_t off)
{
	return m_rwv(&p->m[mi], iov, cnt, len, off, false, 0);
}

int vl_io_writev(struct vl_pool *p, uint32_t mi, const struct iovec *iov, int cnt, size_t len,
		 uint64_t off, bool fua)
{
	if (p->fault) {
		bool cut;
		int r = fault_before_write(p, mi, len, off, false, &cut);
		if (r)
			return r;
		if (cut) {
			if (p->fault->torn && cnt > 0)
				m_rw(&p->m[mi], iov[0].iov_base, iov[0].iov_len / 2 + 1, off,
					true);
			return -EIO;
		}
		/* writes stay undoable until a sync: a FUA write is written, then synced */
		struct vl_member *m = &p->m[mi];
		int r2 = m_rwv(m, iov, cnt, len, off, true, 0);
		atomic_store(&m->data_dirty, true);
		return r2 || !fua ? r2 : vl_io_sync(p, mi);
	}
	struct vl_member *m = &p->m[mi];
	int r = m_rwv(m, iov, cnt, len, off, true, fua ? RWF_DSYNC : 0);
	if (!r && !fua && !atomic_load_explicit(&m->data_dirty, memory_order_relaxed))
		atomic_store_explicit(&m->data_dirty, true, memory_order_relaxed);
	return r;
}

static int sync_locked(struct vl_pool *p, uint32_t mi)
{
	if (p->fault && p->fault->crashed)
		return -EIO;
	atomic_store(&p->m[mi].data_dirty, false);
	if (fdatasync(p->m[mi].fd) < 0) {
		int e = -errno;
		atomic_store(&p->m[mi].data_dirty, true);
		return e;
	}
	vl_undo_clear(p, mi);
	return 0;
}

int vl_io_sync(struct vl_pool *p, uint32_t mi)
{
	VL_LOCK_SCOPE(&p->sync_lock[mi]);
	return sync_locked(p, mi);
}

int vl_io_sync_dirty(struct vl_pool *p, uint32_t mi)
{
	VL_LOCK_SCOPE(&p->sync_lock[mi]);
	return atomic_load(&p->m[mi].data_dirty) ? sync_locked(p, mi) : 0;
}

int vl_io_is_hole(struct vl_pool *p, uint32_t mi, uint64_t off, uint64_t len)
{
	struct vl_member *m = &p->m[mi];
	if (p->fault || !m->punch_ok)
		return -EAGAIN;
	off_t data = lseek(m->fd, (off_t)off, SEEK_DATA);
	if ((data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= off + len))
		return 0;
	return -EAGAIN;
}

/* Make [off, off+len) of a member read as zeros.  `dealloc`: give the space
 * back to the file system (discard) rather than keep it allocated (a fresh
 * extent about to be written: zeroing in place is cheaper there). */
int vl_io_zero(struct vl_pool *p, uint32_t mi, uint64_t off, uint64_t len, bool dealloc)
{
	struct vl_member *m = &p->m[mi];
	if (p->fault) {
		/* record as a write so crash simulation can undo it */
		bool cut;
		VL_AUTOFREE uint8_t *zeros = calloc(1, len);
		if (!zeros)
			return -ENOMEM;
		int r = fault_before_write(p, mi, len, off, false, &cut);
		if (r)
			return r;
		if (cut)
			return -EIO;
		r = m_rw(m, zeros, len, off, true);
		atomic_store(&m->data_dirty, true);
		return r;
	}
	/* A fresh extent that is a hole already reads as zeros: leave it a hole (the host
	 * file stays sparse).  One that holds old data is zeroed in place, keeping the
	 * space the host had given it. */
	if (!dealloc && vl_io_is_hole(p, mi, off, len) == 0)
		return 0;
	if (m->punch_ok) {
		int mode = (dealloc ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE) | FALLOC_FL_KEEP_SIZE;
		if (fallocate(m->fd, mode, (off_t)off, (off_t)len) == 0 ||
		    (!dealloc && (errno == EOPNOTSUPP || errno == EINVAL) &&
		     fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			       (off_t)len) == 0)) {
			atomic_store_explicit(&m->data_dirty, true, memory_order_relaxed);
			return 0;
		}
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			return -errno;
		m->punch_ok = false;
	}
	if (m->is_bdev) {
		uint64_t range[2] = {off, len};
		if (ioctl(m->fd, BLKZEROOUT, range) == 0)
			return 0;
	}
	static const uint8_t zbuf[65536];
	while (len) {
		size_t n = len < sizeof(zbuf) ? (size_t)len : sizeof(zbuf);
		int r = m_rw(m, (void *)zbuf, n, off, true);
		if (r)
			return r;
		off += n;
		len -= n;
	}
	atomic_store_explicit(&m->data_dirty, true, memory_order_relaxed);
	return 0;
}
