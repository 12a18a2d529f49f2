/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "ctlsock.h"

#include <errno.h>
#include <pthread.h>
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

static void serve_one(struct server *s, int c)
{
	char line[1024], msg[1024] = "";
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int r;
	timeouts(c, 5);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) || (cr.uid != 0 && cr.uid != geteuid())) {
		r = -EPERM;
		snprintf(msg, sizeof(msg), "only root may change pools");
	} else if (read_line(c, line, sizeof(line)) <= 0) {
		return;
	} else {
		char *argv[8], *save = NULL;
		int argc = 0;
		for (char *t = strtok_r(line, " \t", &save); t && argc < 8; t = strtok_r(NULL, " \t", &save))
			argv[argc++] = t;
		r = argc ? s->fn(argc, argv, msg, sizeof(msg)) : -EINVAL;
	}
	char out[1100];
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	snprintf(out, sizeof(out), "%d %s\n", r, msg);
	(void)write_all(c, out, strlen(out));
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
		serve_one(s, c);
		close(c);
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
