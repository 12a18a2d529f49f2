/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "ctlsock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

const char *ctl_socket_path(void)
{
	const char *e = getenv("VLUN_CTL_SOCKET");
	return e && *e ? e : CTL_SOCKET_DEFAULT;
}

static int addr_of(struct sockaddr_un *a)
{
	const char *p = ctl_socket_path();
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(p) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	memcpy(a->sun_path, p, strlen(p));
	return 0;
}

static void timeouts(int fd, int secs)
{
	struct timeval tv = {secs, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* read one line (without the newline) */
static ssize_t read_line(int fd, char *buf, size_t n)
{
	size_t len = 0;
	while (len < n - 1) {
		ssize_t k = read(fd, buf + len, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = 0;
	return (ssize_t)len;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EIO;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int ctl_request(const char *req, char *msg, size_t n)
{
	struct sockaddr_un a;
	int r = addr_of(&a);
	if (r)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a thick volume's allocation may take a while */
	timeouts(fd, 600);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		r = -errno;
		snprintf(msg, n,
			 "the pool is in use by another process, and no vlun handler answers on %s (%s)",
			 a.sun_path, strerror(errno));
		close(fd);
		return r == -ENOENT || r == -ECONNREFUSED ? -EBUSY : r;
	}
	size_t cap = n + 32 > 1200 ? n + 32 : 1200;
	char *line = malloc(cap);
	if (!line) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(line, cap, "%s\n", req);
	if ((r = write_all(fd, line, strlen(line)))) {
		snprintf(msg, n, "writing to %s failed", a.sun_path);
		free(line);
		close(fd);
		return r;
	}
	if (read_line(fd, line, cap) <= 0) {
		snprintf(msg, n, "no answer from the vlun handler on %s", a.sun_path);
		free(line);
		close(fd);
		return -EIO;
	}
	close(fd);
	char *end;
	long code = strtol(line, &end, 10);
	if (end == line || code > 0 || code < -4095) {
		snprintf(msg, n, "garbled answer from the vlun handler: %.200s", line);
		free(line);
		return -EPROTO;
	}
	snprintf(msg, n, "%s", *end == ' ' ? end + 1 : end);
	free(line);
	return (int)code;
}

struct server {
	int fd;
	ctl_fn fn;
};

/* Requests carry up to CTL_WORDS_MAX words in CTL_LINE_MAX bytes; answers up to
 * CTL_MSG_MAX bytes (a pool's ALUA status names every volume and blade). */
#define CTL_LINE_MAX 4096
#define CTL_WORDS_MAX 64
#define CTL_CONNS_MAX 16

static void serve_one(struct server *s, int c)
{
	char line[CTL_LINE_MAX];
	char *msg = calloc(1, CTL_MSG_MAX), *out = malloc(CTL_MSG_MAX + 32);
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int r;
	if (!msg || !out) {
		free(msg);
		free(out);
		return;
	}
	timeouts(c, 5);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) || (cr.uid != 0 && cr.uid != geteuid())) {
		r = -EPERM;
		snprintf(msg, CTL_MSG_MAX, "only root may change pools");
	} else if (read_line(c, line, sizeof(line)) <= 0) {
		free(msg);
		free(out);
		return;
	} else {
		char *argv[CTL_WORDS_MAX], *save = NULL;
		int argc = 0;
		char *t = strtok_r(line, " \t", &save);
		for (; t && argc < CTL_WORDS_MAX; t = strtok_r(NULL, " \t", &save))
			argv[argc++] = t;
		if (t) {
			r = -E2BIG;
			snprintf(msg, CTL_MSG_MAX, "more than %d words in one request", CTL_WORDS_MAX);
		} else {
			r = argc ? s->fn(argc, argv, msg, CTL_MSG_MAX) : -EINVAL;
		}
	}
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	snprintf(out, CTL_MSG_MAX + 32, "%d %s\n", r, msg);
	(void)write_all(c, out, strlen(out));
	free(msg);
	free(out);
}

struct conn {
	struct server *s;
	int c;
};

static atomic_int nr_conns;

/* one thread per request: a move that waits seconds for another blade must not hold
 * up a status query or a volume change */
static void *serve_conn(void *arg)
{
	struct conn *k = arg;
	serve_one(k->s, k->c);
	close(k->c);
	free(k);
	atomic_fetch_sub(&nr_conns, 1);
	return NULL;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				sleep(1); /* out of descriptors: wait rather than spin */
				continue;
			}
			break;
		}
		struct conn *k = malloc(sizeof(*k));
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (k && atomic_fetch_add(&nr_conns, 1) < CTL_CONNS_MAX) {
			k->s = s;
			k->c = c;
			if (pthread_create(&t, &at, serve_conn, k) == 0)
				k = NULL, c = -1;
			else
				atomic_fetch_sub(&nr_conns, 1);
		} else if (k) {
			atomic_fetch_sub(&nr_conns, 1);
		}
		pthread_attr_destroy(&at);
		free(k);
		if (c >= 0) { /* no thread for it: answered here, one at a time */
			serve_one(s, c);
			close(c);
		}
	}
	return NULL;
}

int ctl_serve_start(ctl_fn fn)
{
	struct sockaddr_un a;
	int r = addr_of(&a);
	if (r)
		return r;
	char dir[sizeof(a.sun_path)];
	snprintf(dir, sizeof(dir), "%s", a.sun_path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	/* a socket left by a runner that died is replaced; a live one is not stolen */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	bool live = connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(probe);
	if (live)
		return -EADDRINUSE;
	unlink(a.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* no umask() here: it is process-wide and the runner has threads; the peer check in
	 * serve_one() holds even in the moment before the chmod */
	r = bind(fd, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
	if (!r && chmod(a.sun_path, 0600))
		r = -errno;
	if (r || listen(fd, 8)) {
		r = r ? r : -errno;
		close(fd);
		return r;
	}
	struct server *s = malloc(sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	s->fn = fn;
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	r = -pthread_create(&t, &at, serve, s);
	pthread_attr_destroy(&at);
	if (r) {
		close(fd);
		free(s);
	}
	return r;
}
