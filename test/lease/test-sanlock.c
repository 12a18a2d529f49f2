/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One simulated blade for test-sanlock.sh: the sanlock provider (vlun-sanlock.h) driven
 * by commands on stdin, one reply line each on stdout.  The leases live as long as
 * this process, so the script keeps one running per blade (or per holder) and kills,
 * stops or restarts it to play the failures.
 *
 *   test-sanlock SPACE DISK HOST_ID [IO_TIMEOUT]
 *
 * The lockspace is at offset 0 of DISK; a lease "NAME MB" is lease NAME at MB MiB.
 *   format-space | join | leave                         -> rc= ms=
 *   format-lease NAME MB | release NAME MB | force NAME MB  -> rc= ms=
 *   acquire NAME MB                                     -> rc= version= holder= ms=
 *   acquire-retry NAME MB SECONDS [RC]  acquire every 100 ms until it answers RC
 *                                       (default 0), another error, or SECONDS pass
 *                                                       -> rc= version= holder= ms= tries=
 *   holder NAME MB                                      -> rc= holder= version=
 *   hosts | hosts-wait MASK SECONDS                     -> rc= alive=0x.. ms=
 *   bench NAME MB N   N acquire+release of a free lease -> rc= median= min= max= (acquire ms)
 *   threads MB N      N threads at once acquire lease t-0 at MB (all must get it, at one
 *                     version), then each its own t-I at MB+I, then release them all
 *                                                       -> rc= version= (rc -EPROTO: which)
 *   pid | quit
 * rc is 0 or -errno (err= names it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vlun-sanlock.h"

#define MIB (UINT64_C(1) << 20)

struct blade {
	struct vl_lease_ops ops;
	void *ctx;
	struct vl_lease_space ls;
};

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static const char *errname(int rv)
{
	const char *n = rv ? strerrorname_np(-rv) : "none";
	return n ? n : "?";
}

static void reply_rc(int rv, double ms)
{
	printf("rc=%d err=%s ms=%.1f\n", rv, errname(rv), ms);
}

/* "NAME MB" into a lease of the blade's lockspace: 0 or -EINVAL */
static int parse_lease(const struct blade *b, const char *name, const char *mb, struct vl_lease *l)
{
	char *end;
	unsigned long long m = name && mb ? strtoull(mb, &end, 10) : 0;
	if (!name || !mb || *end || strlen(name) > VL_LEASE_NAME_MAX)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	memcpy(l->space, b->ls.name, sizeof(l->space));
	memcpy(l->name, name, strlen(name) + 1);
	l->path = b->ls.path;
	l->offset = m * MIB;
	return 0;
}

static int acquire_once(struct blade *b, const struct vl_lease *l, uint64_t *v, uint64_t *h,
			double *ms)
{
	double t = now_ms();
	int rv = b->ops.acquire(b->ctx, l, v, h);
	*ms = now_ms() - t;
	return rv;
}

static void cmd_acquire(struct blade *b, const struct vl_lease *l)
{
	uint64_t v, h;
	double ms;
	int rv = acquire_once(b, l, &v, &h, &ms);
	printf("rc=%d err=%s version=%llu holder=%llu ms=%.1f\n", rv, errname(rv),
	       (unsigned long long)v, (unsigned long long)h, ms);
}

static void cmd_acquire_retry(struct blade *b, const struct vl_lease *l, double secs, int want)
{
	uint64_t v = 0, h = 0;
	double t0 = now_ms(), ms;
	int rv, tries = 0;
	for (;;) {
		rv = acquire_once(b, l, &v, &h, &ms);
		tries++;
		bool again = rv == -EBUSY || rv == -EAGAIN;
		if (rv == want || !(again || rv == 0) || (rv == 0 && want != 0) ||
		    now_ms() - t0 > secs * 1e3)
			break;
		usleep(100 * 1000);
	}
	printf("rc=%d err=%s version=%llu holder=%llu ms=%.1f tries=%d\n", rv, errname(rv),
	       (unsigned long long)v, (unsigned long long)h, now_ms() - t0, tries);
}

static void cmd_holder(struct blade *b, const struct vl_lease *l)
{
	uint64_t h, v;
	int rv = b->ops.holder(b->ctx, l, &h, &v);
	printf("rc=%d err=%s holder=%llu version=%llu\n", rv, errname(rv),
	       (unsigned long long)h, (unsigned long long)v);
}

static void cmd_hosts_wait(struct blade *b, uint64_t mask, double secs)
{
	uint64_t alive[2] = {0};
	double t0 = now_ms();
	int rv;
	for (;;) {
		rv = b->ops.hosts(b->ctx, &b->ls, alive, 2);
		bool have = !rv && (alive[0] & mask) == mask;
		if (have || (rv && rv != -EAGAIN) || now_ms() - t0 > secs * 1e3)
			break;
		usleep(100 * 1000);
	}
	printf("rc=%d err=%s alive=0x%llx ms=%.1f\n", rv, errname(rv),
	       (unsigned long long)alive[0], now_ms() - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void cmd_bench(struct blade *b, const struct vl_lease *l, int n)
{
	double ms[64];
	int rv = n < 1 || n > 64 ? -EINVAL : 0;
	for (int i = 0; !rv && i < n; i++) {
		uint64_t v, h;
		rv = acquire_once(b, l, &v, &h, &ms[i]);
		if (!rv)
			rv = b->ops.release(b->ctx, l);
	}
	if (rv) {
		printf("rc=%d err=%s\n", rv, errname(rv));
		return;
	}
	qsort(ms, (size_t)n, sizeof(ms[0]), cmp_double);
	printf("rc=0 err=none median=%.1f min=%.1f max=%.1f\n", ms[n / 2], ms[0], ms[n - 1]);
}

/* ---- threads: the provider is called from many threads at once (tcmu-runner) ---- */
#define MAX_THREADS 16

struct job {
	struct blade *b;
	struct vl_lease l;
	bool release;
	int rv;
	uint64_t version;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	uint64_t h;
	j->rv = j->release ? j->b->ops.release(j->b->ctx, &j->l)
			   : j->b->ops.acquire(j->b->ctx, &j->l, &j->version, &h);
	return NULL;
}

/* run every job on a thread of its own, all at once: the first failure, or 0 */
static int run_jobs(struct job *jobs, int n)
{
	pthread_t t[MAX_THREADS];
	bool started[MAX_THREADS];
	int rv = 0;
	for (int i = 0; i < n; i++) {
		started[i] = !pthread_create(&t[i], NULL, job_run, &jobs[i]);
		if (!started[i])
			job_run(&jobs[i]); /* no thread to spare: run it here */
	}
	for (int i = 0; i < n; i++) {
		if (started[i])
			pthread_join(t[i], NULL);
		if (!rv && jobs[i].rv)
			rv = jobs[i].rv;
	}
	return rv;
}

static void fill_jobs(struct job *jobs, int n, struct blade *b, uint64_t mb0, bool distinct,
		      bool release)
{
	for (int i = 0; i < n; i++) {
		char name[16], mb[24];
		snprintf(name, sizeof(name), "t-%d", distinct ? i + 1 : 0);
		snprintf(mb, sizeof(mb), "%llu", (unsigned long long)(mb0 + (distinct ? i + 1 : 0)));
		jobs[i] = (struct job){.b = b, .release = release};
		parse_lease(b, name, mb, &jobs[i].l);
	}
}

/* phase 1: all take t-0 (one version for all); 2: each its own; 3: release those;
 * 4: t-0 released once, then not held */
static int threads_phases(struct blade *b, uint64_t mb0, int n, uint64_t *v, const char **what)
{
	struct job jobs[MAX_THREADS];
	*what = "same lease";
	fill_jobs(jobs, n, b, mb0, false, false);
	int rv = run_jobs(jobs, n);
	*v = jobs[0].version;
	for (int i = 0; !rv && i < n; i++)
		if (!*v || jobs[i].version != *v)
			rv = -EPROTO;
	if (rv)
		return rv;
	*what = "own leases";
	fill_jobs(jobs, n, b, mb0, true, false);
	if ((rv = run_jobs(jobs, n)))
		return rv;
	*what = "releases";
	fill_jobs(jobs, n, b, mb0, true, true);
	if ((rv = run_jobs(jobs, n)))
		return rv;
	*what = "the shared lease";
	fill_jobs(jobs, 1, b, mb0, false, true);
	if ((rv = b->ops.release(b->ctx, &jobs[0].l)))
		return rv;
	return b->ops.release(b->ctx, &jobs[0].l) == -ENOENT ? 0 : -EPROTO;
}

static void cmd_threads(struct blade *b, const char *mb0s, int n)
{
	uint64_t v = 0;
	const char *what = "arguments";
	int rv = n < 1 || n > MAX_THREADS ? -EINVAL
					   : threads_phases(b, strtoull(mb0s, NULL, 10), n, &v, &what);
	printf("rc=%d err=%s version=%llu phase=%s\n", rv, errname(rv), (unsigned long long)v,
	       rv ? what : "done");
}

/* the commands that take the lockspace (l NULL) or a lease (l) and nothing else */
static bool simple_cmd(struct blade *b, const char *cmd, const struct vl_lease *l)
{
	int (*space_fn)(void *, const struct vl_lease_space *) = l ? NULL :
		!strcmp(cmd, "format-space") ? b->ops.format_space :
		!strcmp(cmd, "join")         ? b->ops.join :
		!strcmp(cmd, "leave")        ? b->ops.leave : NULL;
	int (*lease_fn)(void *, const struct vl_lease *) = !l ? NULL :
		!strcmp(cmd, "format-lease") ? b->ops.format_lease :
		!strcmp(cmd, "release")      ? b->ops.release :
		!strcmp(cmd, "force")        ? b->ops.request_force : NULL;
	if (!space_fn && !lease_fn)
		return false;
	double t = now_ms();
	int rv = l ? lease_fn(b->ctx, l) : space_fn(b->ctx, &b->ls);
	reply_rc(rv, now_ms() - t);
	return true;
}

/* one command line; false on quit */
static bool run(struct blade *b, char *line)
{
	char *save = NULL;
	char *cmd = strtok_r(line, " \n", &save);
	char *a1 = strtok_r(NULL, " \n", &save), *a2 = strtok_r(NULL, " \n", &save);
	char *a3 = strtok_r(NULL, " \n", &save), *a4 = strtok_r(NULL, " \n", &save);
	struct vl_lease l;
	if (!cmd)
		printf("rc=%d err=EINVAL (empty line)\n", -EINVAL);
	else if (!strcmp(cmd, "quit"))
		return false;
	else if (!strcmp(cmd, "pid"))
		printf("rc=0 pid=%d\n", (int)getpid());
	else if (simple_cmd(b, cmd, NULL))
		;
	else if (!strcmp(cmd, "hosts"))
		cmd_hosts_wait(b, 0, 0);
	else if (!strcmp(cmd, "hosts-wait") && a1 && a2)
		cmd_hosts_wait(b, strtoull(a1, NULL, 0), strtod(a2, NULL));
	else if (!strcmp(cmd, "threads") && a1 && a2)
		cmd_threads(b, a1, (int)strtol(a2, NULL, 10));
	else if (parse_lease(b, a1, a2, &l))
		printf("rc=%d err=EINVAL (unknown command or bad lease: %s)\n", -EINVAL, cmd);
	else if (simple_cmd(b, cmd, &l))
		;
	else if (!strcmp(cmd, "acquire"))
		cmd_acquire(b, &l);
	else if (!strcmp(cmd, "acquire-retry") && a3)
		cmd_acquire_retry(b, &l, strtod(a3, NULL), a4 ? (int)strtol(a4, NULL, 10) : 0);
	else if (!strcmp(cmd, "holder"))
		cmd_holder(b, &l);
	else if (!strcmp(cmd, "bench") && a3)
		cmd_bench(b, &l, (int)strtol(a3, NULL, 10));
	else
		printf("rc=%d err=EINVAL (unknown command %s)\n", -EINVAL, cmd);
	fflush(stdout);
	return true;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5 || strlen(argv[1]) > VL_LEASE_NAME_MAX) {
		fprintf(stderr, "usage: test-sanlock SPACE DISK HOST_ID [IO_TIMEOUT]\n");
		return 2;
	}
	/* SIGPIPE stays fatal here, as in a caller that never heard of it: the provider must
	 * hold it off when the daemon dies (the crash check of test-sanlock.sh) */
	struct blade b = {0};
	memcpy(b.ls.name, argv[1], strlen(argv[1]) + 1);
	b.ls.path = argv[2];
	b.ls.offset = 0;
	b.ls.host_id = strtoull(argv[3], NULL, 10);
	b.ls.max_hosts = 16;
	b.ls.io_timeout = argc == 5 ? (uint32_t)strtoul(argv[4], NULL, 10) : 1;
	if (vl_sanlock_provider(&b.ops, &b.ctx)) {
		fprintf(stderr, "test-sanlock: out of memory\n");
		return 1;
	}
	char line[512];
	while (fgets(line, sizeof(line), stdin) && run(&b, line))
		;
	vl_sanlock_destroy(b.ctx);
	return 0;
}
