/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vlun-hostd: the hypervisor agent (docs/hypervisor.md, vlun-hostd(8)).
 *
 * When a vlun target moves a volume's Active/Optimized group, the first command on a path
 * of the LUN meets UA 2A/06, the kernel emits a "change" uevent on the scsi_device
 * (SDEV_UA=ASYMMETRIC_ACCESS_STATE_CHANGED) and scsi_dh_alua re-reads the states of every
 * path.  multipathd never sees that event and notices only at its next path check.  This
 * agent listens to the kernel's uevents (libnl3, NETLINK_KOBJECT_UEVENT, kernel senders
 * only), finds the multipath map of the LUN, waits for the paths' access_state to show the
 * new Active/Optimized path, and has multipathd switch the map to that path's group at
 * once (libmpathcmd: "switchgroup map M group N").
 *
 * The GLib main loop only reads sysfs names and sockets; everything that can wait (the
 * states' refresh, multipathd) runs in a worker thread, one job per map at a time, and a
 * burst of events for one map while a job is queued or running makes one more job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib-unix.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <linux/netlink.h>
#include <mpath_cmd.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jget.h"
#include "json.h"
#include "mpmap.h"
#include "sysattr.h"
#include "uevent.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_DOWN = 3 };

#define SOCKET_DEFAULT "/run/vlun-hostd.sock"
#define COALESCE_MS 10	   /* events for one map within this time make one job */
#define STATE_WAIT_MS 2000 /* how long a job waits for the kernel to show the new AO path */
#define STATE_STEP_MS 5
#define RESCAN_AFTER_MS 200 /* no AO path by then: prompt an RTPG (device/rescan) */
#define MPATH_TIMEOUT_MS 3000
#define RCVBUF (4 << 20)
#define STATUS_MAX (256 << 10)

static struct {
	const char *socket;
	const char *vendor;
	const char *sysfs; /* "/sys": tests may point it elsewhere */
	bool verbose;
} opt = {SOCKET_DEFAULT, "LIO-ORG", "/sys", false};

static void logmsg(bool debug, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(bool debug, const char *fmt, ...)
{
	if (debug && !opt.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static gint64 now_us(void) { return g_get_monotonic_time(); }

/* ---- the maps watched (main thread only) ---- */

struct map_st {
	char name[MPMAP_NAME_MAX + 1];
	bool queued;	     /* a job is queued or running */
	bool again;	     /* events came while it was: one more job after it */
	guint timer;	     /* the coalescing timeout, 0 none */
	gint64 first_us;     /* the first event of the pending job */
	unsigned events, jobs, switches, failures;
	/* the last finished job */
	gint64 last_unix_ms;
	unsigned last_from, last_to, last_took_ms, last_wait_ms;
	char last_result[200];
};

static struct {
	GHashTable *maps; /* name -> struct map_st */
	GThreadPool *pool;
	GMainLoop *loop;
	struct nl_sock *nl;
	unsigned long events, alua_events, ignored, untrusted, garbled, overflows;
	gint64 started_us;
} S;

struct job {
	char name[MPMAP_NAME_MAX + 1];
	gint64 first_us;
	/* results */
	int err;
	unsigned from, to, wait_ms;
	bool switched;
	char result[200];
};

/* ---- sysfs (names only: no device I/O on the main loop) ---- */

/* the only entry of a directory whose name starts with prefix */
static int only_entry(const char *dir, const char *prefix, char *out, size_t n)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return -ENOENT;
	int found = 0;
	const char *e;
	while ((e = g_dir_read_name(d)))
		if (g_str_has_prefix(e, prefix) && found++ == 0)
			snprintf(out, n, "%s", e);
	g_dir_close(d);
	return found == 1 ? 0 : found ? -EMLINK : -ENOENT;
}

/* The multipath map of SCSI device hctl, if it is a LUN of opt.vendor in a map. */
static int map_of(const char *hctl, char *map, size_t n)
{
	char p[512], v[64], blk[64], dm[64], uuid[160];
	snprintf(p, sizeof(p), "%s/class/scsi_device/%s/device/vendor", opt.sysfs, hctl);
	if (sysattr_read(p, v, sizeof(v)))
		return -ENOENT;
	if (strcmp(v, opt.vendor))
		return -ENOTSUP;
	snprintf(p, sizeof(p), "%s/class/scsi_device/%s/device/block", opt.sysfs, hctl);
	if (only_entry(p, "sd", blk, sizeof(blk)))
		return -ENOENT;
	snprintf(p, sizeof(p), "%s/block/%s/holders", opt.sysfs, blk);
	if (only_entry(p, "dm-", dm, sizeof(dm)))
		return -ENODEV; /* not (yet) in a map */
	snprintf(p, sizeof(p), "%s/block/%s/dm/uuid", opt.sysfs, dm);
	if (sysattr_read(p, uuid, sizeof(uuid)) || !g_str_has_prefix(uuid, "mpath-"))
		return -ENODEV;
	snprintf(p, sizeof(p), "%s/block/%s/dm/name", opt.sysfs, dm);
	char name[MPMAP_NAME_MAX + 2];
	if (sysattr_read(p, name, sizeof(name)) || !name[0] || strlen(name) > MPMAP_NAME_MAX)
		return -ENODEV;
	/* it goes into multipathd's command line: one word of plain characters */
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-+") !=
	    strlen(name))
		return -ENODEV;
	snprintf(map, n, "%s", name);
	return 0;
}

/* ---- multipathd (worker thread) ---- */

static int mpath_cmd(const char *cmd, char **reply)
{
	*reply = NULL;
	int fd = mpath_connect();
	if (fd < 0)
		return -errno ? -errno : -ECONNREFUSED;
	int r = mpath_process_cmd(fd, cmd, reply, MPATH_TIMEOUT_MS) ? -(errno ? errno : EIO) : 0;
	mpath_disconnect(fd);
	if (!r && !*reply)
		r = -ENODATA;
	return r;
}

static int get_map(const char *name, struct mpmap *m, char *err, size_t n)
{
	char cmd[MPMAP_NAME_MAX + 32], *reply;
	snprintf(cmd, sizeof(cmd), "show map %s json", name);
	int r = mpath_cmd(cmd, &reply);
	if (r) {
		snprintf(err, n, "multipathd: %s", strerror(-r));
		return r;
	}
	r = mpmap_parse(reply, strlen(reply), m, err, n);
	if (r && strncmp(reply, "{", 1)) /* "fail", "timeout": the map is gone or multipathd busy */
		snprintf(err, n, "multipathd: show map %s: %.80s", name, reply);
	free(reply);
	return r;
}

static bool path_ao(const char *dev)
{
	char p[256], st[64];
	snprintf(p, sizeof(p), "%s/block/%s/device/access_state", opt.sysfs, dev);
	return !sysattr_read(p, st, sizeof(st)) && !strcmp(st, "active/optimized");
}

/* the groups with an Active/Optimized path, as a bit mask (bit n-1: group n) */
static unsigned ao_groups(const struct mpmap *m)
{
	unsigned mask = 0;
	for (unsigned i = 0; i < m->nr_groups; i++)
		for (unsigned k = 0; k < m->g[i].nr_paths; k++)
			if (path_ao(m->g[i].dev[k]))
				mask |= 1u << i;
	return mask;
}

static void rescan(const struct mpmap *m)
{
	for (unsigned i = 0; i < m->nr_groups; i++)
		for (unsigned k = 0; k < m->g[i].nr_paths; k++) {
			char p[256];
			snprintf(p, sizeof(p), "%s/block/%s/device/rescan", opt.sysfs, m->g[i].dev[k]);
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, "1", 1) != 1)
					logmsg(true, "rescan of %s: %s", m->g[i].dev[k], strerror(errno));
				close(fd);
				return; /* one RTPG refreshes every path of the LU */
			}
		}
}

static gboolean job_done(gpointer data);

/* Wait (up to STATE_WAIT_MS) until a path of map m reads Active/Optimized; the groups
 * with such a path as a bit mask (bit n-1: group n), 0 if none did. */
static unsigned wait_ao(const struct mpmap *m, unsigned from, unsigned *waited)
{
	bool rescanned = false;
	for (*waited = 0;; *waited += STATE_STEP_MS) {
		unsigned mask = ao_groups(m);
		/* the old group still AO: give the kernel's refresh 50 ms to show the new one */
		if (mask && !(from && mask == 1u << (from - 1) && *waited < 50))
			return mask;
		if (*waited >= STATE_WAIT_MS)
			return mask;
		if (!rescanned && *waited >= RESCAN_AFTER_MS) {
			rescan(m);
			rescanned = true;
		}
		g_usleep(STATE_STEP_MS * 1000);
	}
}

#define SWITCH_TRIES 3
#define RETRY_MS 50

static void run_job(gpointer data, gpointer user)
{
	struct job *j = data;
	struct mpmap m;
	char err[200] = "", cmd[MPMAP_NAME_MAX + 48], *reply = NULL;
	unsigned want = 0, switches = 0; /* the group we switched to, how often */
	bool looked = false;		  /* waited for the states once */
	/* multipathd renumbers the groups when it reloads the map (group_by_prio sorts them
	 * by priority), which it may do between our look and our switchgroup: so look again
	 * after switching, and switch again if the AO path is no longer in the group we
	 * chose.  (Its idea of the active group lags the switch: it is not what is checked.) */
	for (unsigned tries = 0;; tries++) {
		j->err = get_map(j->name, &m, err, sizeof(err));
		if (j->err) { /* "fail" while it reloads the map, say: look again */
			if (tries < 2 * SWITCH_TRIES) {
				g_usleep(RETRY_MS * 1000);
				continue;
			}
			snprintf(j->result, sizeof(j->result), "failed: %s", err);
			break;
		}
		unsigned active = mpmap_active_group(&m), mask;
		if (!looked) {
			looked = true;
			j->from = active;
			mask = wait_ao(&m, active, &j->wait_ms);
		} else {
			mask = ao_groups(&m);
		}
		if (!mask && want) { /* the states change again (another move): ours was right */
			snprintf(j->result, sizeof(j->result), "switched from group %u to %u", j->from,
				 want);
			break;
		}
		if (!mask) {
			snprintf(j->result, sizeof(j->result),
				 "no Active/Optimized path after %u ms: left to multipathd", j->wait_ms);
			break;
		}
		if (mask & (mask - 1)) {
			/* AO paths in several groups (three or more blades mid-move, or groups
			 * that no longer match the states): only a re-read of every priority
			 * regroups them */
			j->err = mpath_cmd("reconfigure", &reply);
			snprintf(j->result, sizeof(j->result), "%s",
				 j->err ? "failed: reconfigure" : "reconfigured");
			break;
		}
		j->to = (unsigned)__builtin_ctz(mask) + 1;
		if (want && j->to == want) {
			snprintf(j->result, sizeof(j->result), "switched from group %u to %u%s", j->from,
				 j->to, switches > 1 ? " (again: the map was reloaded)" : "");
			break;
		}
		if (!want && j->to == active) {
			snprintf(j->result, sizeof(j->result), "already on group %u", j->to);
			break;
		}
		if (switches == SWITCH_TRIES) {
			j->err = -EAGAIN;
			snprintf(j->result, sizeof(j->result),
				 "failed: the map's groups changed under %u switches", SWITCH_TRIES);
			break;
		}
		snprintf(cmd, sizeof(cmd), "switchgroup map %s group %u", j->name, j->to);
		j->err = mpath_cmd(cmd, &reply);
		if (!j->err && strncmp(reply, "ok", 2))
			j->err = -EIO;
		if (j->err) {
			snprintf(j->result, sizeof(j->result), "failed: %s: %.80s", cmd,
				 reply ? reply : strerror(-j->err));
			break;
		}
		j->switched = true;
		want = j->to;
		switches++;
		free(reply);
		reply = NULL;
	}
	free(reply);
	g_main_context_invoke(NULL, job_done, j); /* the result to the main loop */
}

/* ---- jobs (main thread) ---- */

static void start_job(struct map_st *ms)
{
	struct job *j = g_new0(struct job, 1);
	snprintf(j->name, sizeof(j->name), "%s", ms->name);
	j->first_us = ms->first_us;
	ms->queued = true;
	ms->again = false;
	ms->jobs++;
	GError *ge = NULL;
	if (!g_thread_pool_push(S.pool, j, &ge)) {
		logmsg(false, "vlun-hostd: map %s: cannot queue a job: %s", ms->name,
		       ge ? ge->message : "?");
		g_clear_error(&ge);
		g_free(j);
		ms->queued = false;
	}
}

static gboolean job_done(gpointer data)
{
	struct job *j = data;
	struct map_st *ms = g_hash_table_lookup(S.maps, j->name);
	if (ms) {
		gint64 took = (now_us() - j->first_us) / 1000;
		ms->queued = false;
		ms->last_unix_ms = g_get_real_time() / 1000;
		ms->last_from = j->from;
		ms->last_to = j->to;
		ms->last_took_ms = took > 0 ? (unsigned)took : 0;
		ms->last_wait_ms = j->wait_ms;
		snprintf(ms->last_result, sizeof(ms->last_result), "%s", j->result);
		ms->switches += j->switched;
		ms->failures += j->err != 0;
		logmsg(!j->err && !j->switched, "vlun-hostd: map %s: %s (%u ms after the event)",
		       ms->name, j->result, ms->last_took_ms);
		if (ms->again) {
			ms->first_us = now_us();
			start_job(ms);
		}
	}
	g_free(j);
	return G_SOURCE_REMOVE;
}

static gboolean coalesced(gpointer data)
{
	struct map_st *ms = data;
	ms->timer = 0;
	if (ms->queued)
		ms->again = true;
	else
		start_job(ms);
	return G_SOURCE_REMOVE;
}

static void map_event(const char *name)
{
	struct map_st *ms = g_hash_table_lookup(S.maps, name);
	if (!ms) {
		if (g_hash_table_size(S.maps) >= 4096)
			return;
		ms = g_new0(struct map_st, 1);
		snprintf(ms->name, sizeof(ms->name), "%s", name);
		g_hash_table_insert(S.maps, ms->name, ms);
	}
	ms->events++;
	if (ms->queued) {
		ms->again = true;
	} else if (!ms->timer) {
		ms->first_us = now_us();
		ms->timer = g_timeout_add(COALESCE_MS, coalesced, ms);
	}
}

/* ---- uevents ---- */

static void handle_uevent(char *buf, size_t len)
{
	struct uevent ev;
	char hctl[UEVENT_HCTL_MAX], map[MPMAP_NAME_MAX + 1];
	S.events++;
	if (uevent_parse(buf, len, &ev)) {
		S.garbled++;
		return;
	}
	if (!uevent_alua_change(&ev, hctl))
		return;
	S.alua_events++;
	int r = map_of(hctl, map, sizeof(map));
	if (r) {
		S.ignored++;
		logmsg(true, "vlun-hostd: ALUA change on %s ignored (%s)", hctl,
		       r == -ENOTSUP ? "another vendor's LUN" : "not a path of a multipath map");
		return;
	}
	logmsg(true, "vlun-hostd: ALUA change on %s (map %s)", hctl, map);
	map_event(map);
}

static void all_maps_event(void)
{
	GList *names = g_hash_table_get_keys(S.maps);
	for (GList *l = names; l; l = l->next)
		map_event(l->data);
	g_list_free(names);
}

static gboolean on_uevent(gint fd, GIOCondition cond, gpointer user)
{
	for (int n = 0; n < 256; n++) { /* then let the loop run the rest */
		struct sockaddr_nl addr;
		unsigned char *buf = NULL;
		struct ucred *creds = NULL;
		int k = nl_recv(S.nl, &addr, &buf, &creds);
		if (k > 0 && (addr.nl_pid != 0 || !creds || creds->uid != 0)) {
			/* only the kernel's own messages: sender port 0, credentials of uid 0 */
			S.untrusted++;
			logmsg(true, "vlun-hostd: a uevent from port %u uid %d ignored", addr.nl_pid,
			       creds ? (int)creds->uid : -1);
		} else if (k > 0 && (size_t)k <= UEVENT_MAX) {
			char copy[UEVENT_MAX + 1];
			memcpy(copy, buf, (size_t)k);
			handle_uevent(copy, (size_t)k);
		} else if (k > 0) {
			S.events++;
			S.garbled++;
		}
		free(buf);
		free(creds);
		if (k == 0 || k == -NLE_AGAIN)
			break;
		if (k == -NLE_NOMEM) { /* ENOBUFS: the kernel dropped events: look at every map */
			S.overflows++;
			all_maps_event();
		} else if (k < 0) {
			logmsg(false, "vlun-hostd: reading uevents: %s", nl_geterror(k));
			break;
		}
	}
	return G_SOURCE_CONTINUE;
}

static int open_uevents(void)
{
	S.nl = nl_socket_alloc();
	if (!S.nl)
		return -ENOMEM;
	nl_socket_disable_seq_check(S.nl);
	int r = nl_connect(S.nl, NETLINK_KOBJECT_UEVENT);
	if (!r)
		r = nl_socket_add_membership(S.nl, 1); /* the kernel's group (udev's is 2) */
	if (!r)
		r = nl_socket_set_passcred(S.nl, 1);
	if (!r)
		r = nl_socket_set_buffer_size(S.nl, RCVBUF, 0);
	if (!r)
		r = nl_socket_set_nonblocking(S.nl);
	if (r) {
		cli_fail(EXIT_FAILED, "cannot listen to kernel uevents: %s (run it as root)",
			 nl_geterror(r));
		return -EPERM;
	}
	g_unix_fd_add(nl_socket_get_fd(S.nl), G_IO_IN, on_uevent, NULL);
	return 0;
}

/* ---- the status socket (root only) ---- */

static void write_status(struct json *j)
{
	json_obj_open(j, NULL);
	json_u64(j, "uptime_s", (uint64_t)((now_us() - S.started_us) / 1000000));
	json_u64(j, "uevents", S.events);
	json_u64(j, "alua_events", S.alua_events);
	json_u64(j, "ignored", S.ignored);
	json_u64(j, "untrusted", S.untrusted);
	json_u64(j, "garbled", S.garbled);
	json_u64(j, "overflows", S.overflows);
	json_arr_open(j, "maps");
	GList *names = g_list_sort(g_hash_table_get_keys(S.maps), (GCompareFunc)strcmp);
	for (GList *l = names; l; l = l->next) {
		const struct map_st *ms = g_hash_table_lookup(S.maps, l->data);
		json_obj_open(j, NULL);
		json_str(j, "name", ms->name);
		json_u64(j, "events", ms->events);
		json_u64(j, "jobs", ms->jobs);
		json_u64(j, "switches", ms->switches);
		json_u64(j, "failures", ms->failures);
		json_bool(j, "busy", ms->queued);
		if (ms->last_unix_ms) {
			json_obj_open(j, "last");
			json_u64(j, "at_unix_ms", (uint64_t)ms->last_unix_ms);
			json_u64(j, "from_group", ms->last_from);
			json_u64(j, "to_group", ms->last_to);
			json_u64(j, "took_ms", ms->last_took_ms);
			json_u64(j, "state_wait_ms", ms->last_wait_ms);
			json_str(j, "result", ms->last_result);
			json_obj_close(j);
		}
		json_obj_close(j);
	}
	g_list_free(names);
	json_arr_close(j);
	json_obj_close(j);
}

static gboolean on_client(gint fd, GIOCondition cond, gpointer user)
{
	char req[64];
	ssize_t k = read(fd, req, sizeof(req) - 1);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (k > 0) {
		req[k] = 0;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			if (!strcmp(req, "status\n")) {
				struct json j;
				json_begin(&j, f);
				write_status(&j);
				json_end(&j);
			} else {
				json_error(f, "unknown request (vlun-hostd knows: status)", EXIT_USAGE);
			}
			fclose(f);
			/* one non-blocking write: an answer fits in the socket's buffer; a client
			 * that does not read loses it; the loop never waits */
			if (buf && len <= STATUS_MAX && send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
				logmsg(true, "vlun-hostd: a status answer was cut short");
			free(buf);
		}
	}
	close(fd);
	return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint lfd, GIOCondition cond, gpointer user)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return G_SOURCE_CONTINUE;
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) || uc.uid != 0) {
		close(fd); /* root only, whatever the socket file's mode says */
		return G_SOURCE_CONTINUE;
	}
	g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client, NULL);
	return G_SOURCE_CONTINUE;
}

static int sock_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	memcpy(a->sun_path, path, strlen(path));
	return 0;
}

static int open_control(void)
{
	struct sockaddr_un a;
	if (sock_addr(&a, opt.socket))
		return cli_fail(EXIT_USAGE, "--socket %s: path too long", opt.socket);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cli_fail(EXIT_FAILED, "socket: %s", strerror(errno));
	/* a live daemon answers on it: do not steal its socket */
	if (!connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return cli_fail(EXIT_FAILED, "another vlun-hostd answers on %s: stop it first",
				opt.socket);
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cli_fail(EXIT_FAILED, "socket: %s", strerror(errno));
	unlink(opt.socket);
	mode_t old = umask(077);
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r || chmod(opt.socket, 0600) || listen(fd, 16)) {
		int e = errno;
		close(fd);
		return cli_fail(EXIT_FAILED, "cannot listen on %s: %s", opt.socket, strerror(e));
	}
	g_unix_fd_add(fd, G_IO_IN, on_accept, NULL);
	return 0;
}

static gboolean on_signal(gpointer user)
{
	g_main_loop_quit(S.loop);
	return G_SOURCE_CONTINUE;
}

static int run_daemon(bool foreground)
{
	S.started_us = now_us();
	S.maps = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	S.loop = g_main_loop_new(NULL, FALSE);
	int r = open_control();
	if (r)
		return r;
	if (open_uevents()) {
		unlink(opt.socket);
		return EXIT_FAILED;
	}
	GError *ge = NULL;
	S.pool = g_thread_pool_new(run_job, NULL, 4, FALSE, &ge);
	if (!S.pool) {
		unlink(opt.socket);
		return cli_fail(EXIT_FAILED, "threads: %s", ge ? ge->message : "?");
	}
	if (!foreground && daemon(0, 0)) {
		unlink(opt.socket);
		return cli_fail(EXIT_FAILED, "cannot become a daemon: %s", strerror(errno));
	}
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	g_unix_signal_add(SIGINT, on_signal, NULL);
	logmsg(false, "vlun-hostd: watching ALUA changes of %s LUNs in multipath maps; status on %s",
	       opt.vendor, opt.socket);
	g_main_loop_run(S.loop);
	logmsg(false, "vlun-hostd: stopping");
	unlink(opt.socket);
	g_thread_pool_free(S.pool, TRUE, TRUE);
	nl_socket_free(S.nl);
	g_hash_table_destroy(S.maps);
	g_main_loop_unref(S.loop);
	return EXIT_OK;
}

/* ---- the status command ---- */

static int ask_status(char **answer)
{
	*answer = NULL;
	struct sockaddr_un a;
	if (sock_addr(&a, opt.socket))
		return cli_fail(EXIT_USAGE, "--socket %s: path too long", opt.socket);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (e == EACCES || e == EPERM)
			return cli_fail(EXIT_FAILED, "cannot reach vlun-hostd on %s: %s (only root may ask)",
					opt.socket, strerror(e));
		return cli_fail(EXIT_DOWN,
				"vlun-hostd does not answer on %s (%s): start it with 'systemctl "
				"start vlun-hostd'",
				opt.socket, strerror(e));
	}
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	GString *s = g_string_new(NULL);
	int r = EXIT_OK;
	if (send(fd, "status\n", 7, MSG_NOSIGNAL) != 7) {
		r = cli_fail(EXIT_FAILED, "cannot ask vlun-hostd on %s: %s (only root may ask)", opt.socket,
			     strerror(errno));
	} else {
		char buf[4096];
		ssize_t k;
		while ((k = read(fd, buf, sizeof(buf))) > 0 && s->len <= STATUS_MAX)
			g_string_append_len(s, buf, k);
		if (k < 0 || !s->len)
			r = cli_fail(EXIT_FAILED, "no answer from vlun-hostd on %s (only root may ask)",
				     opt.socket);
	}
	close(fd);
	*answer = g_string_free(s, r != EXIT_OK);
	return r;
}

static const char *str_or_dash(JsonObject *o, const char *k)
{
	const char *v = jget_str(o, k, STATUS_MAX);
	return v ? v : "-";
}

static int cmd_status(void)
{
	char *answer = NULL;
	int r = ask_status(&answer);
	if (r)
		return r;
	if (cli.json) {
		fputs(answer, stdout);
		g_free(answer);
		return EXIT_OK;
	}
	JsonParser *p = json_parser_new();
	JsonNode *root = json_parser_load_from_data(p, answer, -1, NULL) ? json_parser_get_root(p)
									 : NULL;
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_object_unref(p);
		g_free(answer);
		return cli_fail(EXIT_FAILED, "garbled answer from vlun-hostd");
	}
	JsonObject *o = json_node_get_object(root);
	cli_out("vlun-hostd up %" G_GINT64_FORMAT " s: %" G_GINT64_FORMAT " uevents, %" G_GINT64_FORMAT
		" ALUA changes (%" G_GINT64_FORMAT " not of a watched map), %" G_GINT64_FORMAT
		" untrusted, %" G_GINT64_FORMAT " overflows\n",
		jget_int(o, "uptime_s", 0), jget_int(o, "uevents", 0), jget_int(o, "alua_events", 0),
		jget_int(o, "ignored", 0), jget_int(o, "untrusted", 0), jget_int(o, "overflows", 0));
	JsonArray *maps = jget_arr(o, "maps");
	guint n = maps ? json_array_get_length(maps) : 0;
	if (!n)
		cli_out("no map has had an ALUA change yet\n");
	else
		cli_out("%-20s %7s %8s %8s  %s\n", "MAP", "EVENTS", "SWITCHES", "TOOK", "LAST");
	for (guint i = 0; i < n; i++) {
		JsonObject *m = jget_elem_obj(maps, i);
		JsonObject *last = jget_obj(m, "last");
		char took[32] = "-";
		if (last)
			snprintf(took, sizeof(took), "%" G_GINT64_FORMAT " ms", jget_int(last, "took_ms", 0));
		cli_out("%-20s %7" G_GINT64_FORMAT " %8" G_GINT64_FORMAT " %8s  %s\n", str_or_dash(m, "name"),
			jget_int(m, "events", 0), jget_int(m, "switches", 0), took,
			str_or_dash(last, "result"));
	}
	g_object_unref(p);
	g_free(answer);
	return EXIT_OK;
}

/* ---- main ---- */

static const char usage_text[] =
	"Usage: vlun-hostd [--foreground] [OPTIONS]   the agent (root)\n"
	"       vlun-hostd status [--json] [OPTIONS]  what it watches, its last switch per map\n"
	"Moves a multipath map to the path group the target reports Active/Optimized as soon\n"
	"as the kernel sees an ALUA state change (UA 2A/06) on one of its paths, instead of\n"
	"at multipathd's next path check.\n"
	"Options:\n"
	"  -f, --foreground  stay in the foreground (systemd), log to stderr\n"
	"  --socket PATH     the status socket (default " SOCKET_DEFAULT ")\n"
	"  --vendor V        watch LUNs of this INQUIRY vendor (default LIO-ORG)\n"
	"  -v, --verbose     log every event looked at\n"
	"  --json            status: machine-readable output\n"
	"  -h, --help        this help;  --version  print the version\n"
	"Exit codes: 0 ok, 1 failed, 2 usage, 3 status: the agent does not answer.\n";

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"socket", required_argument, NULL, 's'},
		{"vendor", required_argument, NULL, 'V'},
		{"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'R'},
		{"sysfs", required_argument, NULL, 'S'}, /* tests */
		{0},
	};
	bool fg = false, help = false;
	int c;
	cli.prog = "vlun-hostd";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fvh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fg = true; break;
		case 's': opt.socket = optarg; break;
		case 'V': opt.vendor = optarg; break;
		case 'v': opt.verbose = true; break;
		case 'j': cli.json = true; break;
		case 'h': help = true; break;
		case 'S': opt.sysfs = optarg; break;
		case 'R': printf("vlun-hostd %s\n", VLUN_VERSION); return EXIT_OK;
		case ':': return cli_usage("%s needs a value", argv[optind - 1]);
		default: return cli_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (help) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (!opt.socket[0] || !opt.vendor[0] || strlen(opt.vendor) > 8)
		return cli_usage("--socket and --vendor need a value (a vendor has at most 8 "
				 "characters)");
	if (optind < argc) {
		if (strcmp(argv[optind], "status"))
			return cli_usage("unknown command '%s'", argv[optind]);
		if (optind + 1 < argc)
			return cli_usage("'status' takes no arguments; unexpected '%s'", argv[optind + 1]);
		if (fg)
			return cli_usage("--foreground does not apply to 'status'");
		return cmd_status();
	}
	if (cli.json)
		return cli_usage("--json applies to 'status' only");
	return run_daemon(fg);
}
