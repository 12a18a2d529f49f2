/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vlunctl: manage vlun pools and volumes.  See vlunctl(8). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "ctlsock.h"
#include "poolconf.h"
#include "vlun-blade.h"
#include "vlun/engine.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NOTFOUND = 3,
	EXIT_BUSY = 4,
	EXIT_NOSPACE = 5,
	EXIT_CHECK = 6,
	EXIT_CORRUPT = 7,
};

static struct {
	const char *confdir;
	bool force, thick, repair, assemble;
	const char *extent_size, *max_volumes, *meta_size, *layout;
	const char *groups, *blades, *io_timeout;
	uint64_t host_id;
} g;

enum {
	O_EXTENT = 1 << 0, O_MAXVOL = 1 << 1, O_META = 1 << 2, O_FORCE = 1 << 3,
	O_THICK = 1 << 4, O_LAYOUT = 1 << 5, O_REPAIR = 1 << 6, O_ASSEMBLE = 1 << 7,
	O_GROUPS = 1 << 8, O_BLADES = 1 << 9, O_IOTMO = 1 << 10,
};
static const char *const opt_names[] = {"--extent-size", "--max-volumes", "--meta-size", "--force",
				  "--thick",	   "--layout",	    "--repair",	   "--assemble",
				  "--groups",	   "--blades",	    "--io-timeout"};

static int exit_for(int err)
{
	switch (-err) {
	case 0: return EXIT_OK;
	case EINVAL: case EFBIG: case EPERM: case ERANGE: return EXIT_USAGE;
	case ENOENT: return EXIT_NOTFOUND;
	case EBUSY: case ENOTEMPTY: case EEXIST: return EXIT_BUSY;
	case ENOSPC: return EXIT_NOSPACE;
	case ENODEV: case ENODATA: case EXDEV: case EUCLEAN: case EBADMSG: return EXIT_CORRUPT;
	default: return EXIT_FAILED;
	}
}

static int fail_errno(int err, const struct vl_diag *d, const char *what)
{
	if (d && d->msg[0])
		return cli_fail(exit_for(err), "%s", d->msg);
	return cli_fail(exit_for(err), "%s: %s", what, strerror(-err));
}

/* ---- help ---- */

static const char usage_text[] =
	"Usage: vlunctl [OPTIONS] pool|vol COMMAND [ARGS]\n"
	"\n"
	"Pools:\n"
	"  pool create NAME MEMBER... [--extent-size SIZE] [--max-volumes N]\n"
	"  pool add-member NAME MEMBER      add a disk or file to a pool\n"
	"  pool list                        defined pools with capacity and health\n"
	"  pool status NAME                 members, capacity, allocation, health\n"
	"  pool destroy NAME [--force]      wipe a pool (--force: even with volumes)\n"
	"  pool assemble DEVICE...          define a pool from its member devices\n"
	"  pool scan [DIR|DEVICE...] [--assemble]  find pool members (default /dev)\n"
	"  pool check NAME [--repair]       verify (and repair) all metadata\n"
	"  pool share NAME [--max-volumes N] [--groups N] [--blades N] [--io-timeout S]\n"
	"                                   make a pool servable by several blades (sanlock)\n"
	"Volumes:\n"
	"  vol create POOL/NAME SIZE [--thick] [--layout striped|concat]\n"
	"  vol delete POOL/NAME\n"
	"  vol resize POOL/NAME SIZE [--force]   grow; shrinking needs --force\n"
	"  vol rename POOL/NAME NEWNAME\n"
	"  vol list [POOL]\n"
	"  vol show POOL/NAME\n"
	"\n"
	"Options:\n"
	"  --config-dir DIR  pool definitions (default $VLUN_CONFIG_DIR or /etc/vlun)\n"
	"  --host-id N       this blade's sanlock host id for shared pools (default:\n"
	"                    $VLUN_HOST_ID, else host_id in DIR/blade.conf)\n"
	"  --json            machine-readable output\n"
	"  -q, --quiet       print nothing on success\n"
	"  -h, --help        this help;  --version  print the version\n"
	"SIZE takes units: 512M, 10G, 1.5T (binary).\n"
	"Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 in use/exists, 5 no space,\n"
	"            6 check found problems, 7 pool incomplete or metadata corrupt.\n";

/* ---- helpers ---- */

static int nargs(const char *cmd, int argc, char **argv, int min, int max)
{
	if (argc < min)
		return cli_usage("'%s' needs more arguments", cmd);
	if (max >= 0 && argc > max)
		return cli_usage("'%s' takes at most %d argument(s); unexpected '%s'", cmd, max,
				   argv[max]);
	return 0;
}

static int size_arg(const char *s, uint64_t *out, const char *what)
{
	int r = vl_parse_size(s, out);
	if (r)
		return cli_usage("invalid %s '%s': use a number with an optional unit, e.g. "
				   "10G, 512M, 1.5T",
				   what, s);
	return 0;
}

static int open_pool(const char *name, unsigned flags, struct vl_pool **p)
{
	struct poolconf pc;
	struct vl_diag d = {{0}};
	uint64_t host_id = 0;
	int r = (flags & VL_OPEN_RDONLY) ? 0 : blade_host_id(g.confdir, g.host_id, &host_id, &d);
	if (r || (r = poolconf_load(g.confdir, name, &pc, &d)))
		return fail_errno(r, &d, name);
	r = blade_pool_open(&pc, flags, host_id, p, &d);
	poolconf_free(&pc);
	if (r) {
		if (r == -ENOENT || r == -ENODATA || r == -ENODEV)
			return cli_fail(exit_for(r) == EXIT_NOTFOUND ? EXIT_CORRUPT : exit_for(r),
				    "pool %s: %s. If its devices moved, run 'vlunctl pool scan' and "
				    "'vlunctl pool assemble DEVICE...'",
				    name, d.msg);
		return fail_errno(r, &d, name);
	}
	return 0;
}

/* Is the pool held by a running target (tcmu-runner)?  Then changes go through the
 * handler's control socket.  A single-blade pool is locked by it; a shared pool is
 * not (its lockspace is shared), so the handler is asked. */
static bool served(const char *name)
{
	struct poolconf pc;
	struct vl_diag d = {{0}};
	if (poolconf_load(g.confdir, name, &pc, &d))
		return false;
	struct vl_pool *p;
	int r = vl_pool_open((const char *const *)pc.members, pc.nr_members, 0, &p, &d);
	poolconf_free(&pc);
	if (!r)
		vl_pool_close(p);
	if (r == -ENOLCK) {
		char req[VL_NAME_MAX + 16], msg[256];
		snprintf(req, sizeof(req), "serves %s", name);
		return ctl_request(req, msg, sizeof(msg)) == 0;
	}
	return r == -EBUSY;
}

/* Run a volume change in the handler that serves the pool. */
static int via_handler(const char *cmd, const char *req)
{
	char msg[1024];
	int r = ctl_request(req, msg, sizeof(msg));
	if (r) {
		struct vl_diag d;
		snprintf(d.msg, sizeof(d.msg), "%s (the pool is served by tcmu-runner)", msg);
		return fail_errno(r, &d, cmd);
	}
	return 0;
}

static int split_volpath(const char *arg, char *pool, char *vol)
{
	const char *slash = strchr(arg, '/');
	if (!slash || slash == arg || !slash[1] || strchr(slash + 1, '/'))
		return cli_usage("'%s' is not POOL/VOLUME", arg);
	size_t pl = (size_t)(slash - arg);
	if (pl > VL_NAME_MAX || strlen(slash + 1) > VL_NAME_MAX)
		return cli_usage("'%s': names are at most %d characters", arg, VL_NAME_MAX);
	memcpy(pool, arg, pl);
	pool[pl] = 0;
	memcpy(vol, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

static void progress_cb(void *arg, uint64_t done, uint64_t total)
{
	if (cli.quiet || cli.json || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r%s: %3u%% (%" PRIu64 "/%" PRIu64 " extents)", (const char *)arg,
		(unsigned)(total ? done * 100 / total : 100), done, total);
	if (done == total)
		fputc('\n', stderr);
}

static const char *sz(uint64_t b, char *buf) /* buf: 32 bytes */
{
	vl_format_size(b, buf, 32);
	return buf;
}

/* ---- output of objects ---- */

/* Host ids alive in a shared pool's lockspace, as this node's sanlock sees them (it
 * must have joined: a blade serving the pool).  -errno when it cannot tell. */
#define VL_ALIVE_WORDS 32 /* 2048 host ids */
static int blades_alive(struct vl_pool *p, uint64_t *alive)
{
	struct vl_lease_space ls;
	const struct vl_lease_ops *ops;
	void *ctx;
	memset(alive, 0, VL_ALIVE_WORDS * 8);
	int r = vl_pool_lease_space(p, &ls);
	if (r || (r = blade_provider(&ops, &ctx)))
		return r;
	return ops->hosts ? ops->hosts(ctx, &ls, alive, VL_ALIVE_WORDS) : -EOPNOTSUPP;
}

static void json_pool(struct json *j, struct vl_pool *p, bool members)
{
	struct vl_pool_info pi;
	char u[37];
	vl_pool_get_info(p, &pi);
	vl_uuid_unparse(pi.uuid, u);
	json_str(j, "name", pi.name);
	json_str(j, "uuid", u);
	json_u64(j, "extent_size", pi.extent_size);
	json_u64(j, "capacity", pi.total_extents * pi.extent_size);
	json_u64(j, "allocated", (pi.total_extents - pi.free_extents) * pi.extent_size);
	json_u64(j, "free", pi.free_extents * pi.extent_size);
	json_u64(j, "volumes", pi.nr_volumes);
	json_u64(j, "max_volumes", pi.max_volumes);
	json_u64(j, "metadata_blocks", pi.meta_blocks);
	json_u64(j, "metadata_free_blocks", pi.meta_free_blocks);
	json_u64(j, "generation", pi.generation);
	json_str(j, "health", pi.health);
	struct vl_shared_info si;
	vl_pool_shared_info(p, &si);
	json_bool(j, "shared", si.shared);
	if (si.shared) {
		json_obj_open(j, "sharing");
		json_u64(j, "format", 2);
		json_u64(j, "allocation_groups", si.nr_ags);
		json_u64(j, "max_volumes", si.nr_slots);
		json_u64(j, "max_blades", si.max_hosts);
		json_u64(j, "io_timeout", si.io_timeout);
		json_u64(j, "lease_member", si.lease_member);
		json_u64(j, "lease_offset", si.lease_off);
		json_u64(j, "lease_bytes", si.lease_len);
		uint64_t alive[VL_ALIVE_WORDS];
		if (blades_alive(p, alive) == 0) {
			json_arr_open(j, "blades_alive");
			for (uint32_t h = 0; h < VL_ALIVE_WORDS * 64; h++)
				if (alive[h / 64] >> (h % 64) & 1)
					json_u64(j, NULL, h + 1);
			json_arr_close(j);
		}
		json_obj_close(j);
	}
	if (!members)
		return;
	json_arr_open(j, "members");
	for (uint32_t i = 0; i < pi.nr_members; i++) {
		struct vl_member_info mi;
		vl_pool_member_info(p, i, &mi);
		vl_uuid_unparse(mi.uuid, u);
		json_obj_open(j, NULL);
		json_u64(j, "index", i);
		json_str(j, "path", mi.path);
		json_str(j, "uuid", u);
		json_u64(j, "size", mi.size);
		json_u64(j, "capacity", mi.extents * pi.extent_size);
		json_u64(j, "free", mi.free_extents * pi.extent_size);
		json_bool(j, "metadata_mirror", mi.meta_mirror);
		json_str(j, "health", mi.health);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void json_vol(struct json *j, const char *pool, const struct vl_vol_info *vi)
{
	char u[37];
	vl_uuid_unparse(vi->uuid, u);
	json_str(j, "pool", pool);
	json_str(j, "name", vi->name);
	json_str(j, "uuid", u);
	json_str(j, "serial", vi->serial);
	json_str(j, "wwn", vi->wwn);
	json_u64(j, "size", vi->size);
	json_u64(j, "allocated", vi->allocated);
	json_str(j, "layout", vl_layout_name(vi->layout));
	json_str(j, "provisioning", vi->thick ? "thick" : "thin");
	json_u64(j, "generation", vi->generation);
	json_u64(j, "owner_blade", vi->owner_node);
	json_u64(j, "owner_epoch", vi->owner_epoch);
}

/* One object as the whole JSON document on stdout. */
static void print_pool_json(struct vl_pool *p)
{
	struct json j;
	json_begin(&j, stdout);
	json_obj_open(&j, NULL);
	json_pool(&j, p, true);
	json_obj_close(&j);
	json_end(&j);
}

static void print_vol_json(const char *pool, const struct vl_vol_info *vi)
{
	struct json j;
	json_begin(&j, stdout);
	json_obj_open(&j, NULL);
	json_vol(&j, pool, vi);
	json_obj_close(&j);
	json_end(&j);
}

static void print_vol(const char *pool, const struct vl_vol_info *vi)
{
	char u[37], a[32], b[32];
	vl_uuid_unparse(vi->uuid, u);
	printf("Volume:       %s/%s\n", pool, vi->name);
	printf("Size:         %s (%" PRIu64 " bytes)\n", sz(vi->size, a), vi->size);
	printf("Allocated:    %s (%.1f%%)\n", sz(vi->allocated, b),
	       vi->size ? 100.0 * (double)vi->allocated / (double)vi->size : 0.0);
	printf("Provisioning: %s\n", vi->thick ? "thick" : "thin");
	printf("Layout:       %s\n", vl_layout_name(vi->layout));
	printf("UUID:         %s\n", u);
	printf("Serial:       %s\n", vi->serial);
	printf("WWN:          %s\n", vi->wwn);
	if (vi->owner_epoch)
		printf("Owner:        blade with host id %" PRIu64 " (epoch %" PRIu64 ")%s\n",
		       vi->owner_node, vi->owner_epoch,
		       " - the last to take it; it serves it while it holds the lease");
}

/* ---- pool commands ---- */

static int pool_create(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool create", O_EXTENT | O_MAXVOL | O_META)) ||
	    (r = nargs("pool create", argc, argv, 2, -1)))
		return r;
	struct vl_pool_create_opts o = {0};
	if (g.extent_size && (r = size_arg(g.extent_size, &o.extent_size, "extent size")))
		return r;
	if (g.meta_size && (r = size_arg(g.meta_size, &o.meta_bytes, "metadata size")))
		return r;
	if (g.max_volumes) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(g.max_volumes, &end, 10);
		if (errno || *end || v == 0 || v > 65536)
			return cli_usage("invalid --max-volumes '%s': use 1 to 65536",
					   g.max_volumes);
		o.max_volumes = (uint32_t)v;
	}
	const char *name = argv[0];
	struct vl_diag d = {{0}};
	struct poolconf pc;
	if (!vl_name_valid(name))
		return cli_usage("invalid pool name '%s': use 1-%d of A-Z a-z 0-9 _ - . (not "
				   "starting with . or -)",
				   name, VL_NAME_MAX);
	if (poolconf_load(g.confdir, name, &pc, &d) == 0) {
		poolconf_free(&pc);
		return cli_fail(EXIT_BUSY, "pool '%s' is already defined in %s/pools; pick another name",
			    name, g.confdir);
	}
	memset(&d, 0, sizeof(d));
	struct vl_pool *p;
	r = vl_pool_create(name, (const char *const *)argv + 1, (size_t)argc - 1, &o, &p, &d);
	if (r)
		return fail_errno(r, &d, "pool create");
	if ((r = poolconf_from_pool(p, &pc)) || (r = poolconf_save(g.confdir, &pc, &d))) {
		/* leave nothing half-done: the pool without its definition is undone */
		struct vl_diag d2;
		vl_pool_destroy(p, true, &d2);
		vl_pool_close(p);
		poolconf_free(&pc);
		return fail_errno(r, &d, "saving the pool definition");
	}
	poolconf_free(&pc);
	struct vl_pool_info pi;
	vl_pool_get_info(p, &pi);
	if (cli.json) {
		print_pool_json(p);
	} else {
		char a[32], b[32];
		cli_out("Created pool %s: %u member(s), %s in %s extents\n", pi.name, pi.nr_members,
		     sz(pi.total_extents * pi.extent_size, a), sz(pi.extent_size, b));
	}
	vl_pool_close(p);
	return 0;
}

static int pool_add_member(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool add-member", 0)) || (r = nargs("pool add-member", argc, argv, 2, 2)))
		return r;
	struct vl_pool *p;
	if ((r = open_pool(argv[0], 0, &p)))
		return r;
	struct vl_diag d = {{0}};
	r = vl_pool_add_member(p, argv[1], &d);
	if (r) {
		vl_pool_close(p);
		return fail_errno(r, &d, "add-member");
	}
	struct poolconf pc;
	if ((r = poolconf_from_pool(p, &pc)) || (r = poolconf_save(g.confdir, &pc, &d))) {
		vl_pool_close(p);
		poolconf_free(&pc);
		return cli_fail(EXIT_FAILED,
			    "%s joined pool %s, but its definition could not be saved (%s); run "
			    "'vlunctl pool assemble' with all member devices",
			    argv[1], argv[0], d.msg);
	}
	poolconf_free(&pc);
	struct vl_pool_info pi;
	vl_pool_get_info(p, &pi);
	char a[32];
	cli_out("Added %s to pool %s: now %u members, %s\n", argv[1], pi.name, pi.nr_members,
	     sz(pi.total_extents * pi.extent_size, a));
	vl_pool_close(p);
	return 0;
}

static int pool_list(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool list", 0)) || (r = nargs("pool list", argc, argv, 0, 0)))
		return r;
	char **names;
	size_t n;
	if ((r = poolconf_list(g.confdir, &names, &n)))
		return cli_fail(EXIT_FAILED, "cannot read %s/pools: %s", g.confdir, strerror(-r));
	struct json j;
	if (cli.json) {
		json_begin(&j, stdout);
		json_arr_open(&j, NULL);
	} else if (n) {
		printf("%-20s %7s %7s %10s %10s %10s  %s\n", "POOL", "MEMBERS", "VOLUMES",
		       "CAPACITY", "ALLOCATED", "FREE", "HEALTH");
	} else {
		printf("No pools defined in %s/pools. Create one with 'vlunctl pool create'.\n",
		       g.confdir);
	}
	for (size_t i = 0; i < n; i++) {
		struct poolconf pc;
		struct vl_diag d = {{0}};
		struct vl_pool *p = NULL;
		int e = poolconf_load(g.confdir, names[i], &pc, &d);
		if (!e) {
			e = vl_pool_open((const char *const *)pc.members, pc.nr_members,
					 VL_OPEN_RDONLY, &p, &d);
			poolconf_free(&pc);
		}
		if (cli.json) {
			json_obj_open(&j, NULL);
			if (e) {
				json_str(&j, "name", names[i]);
				json_str(&j, "health", "unavailable");
				json_str(&j, "error", d.msg);
			} else {
				json_pool(&j, p, false);
			}
			json_obj_close(&j);
		} else if (e) {
			printf("%-20s %7s %7s %10s %10s %10s  unavailable: %s\n", names[i], "-", "-",
			       "-", "-", "-", d.msg);
		} else {
			struct vl_pool_info pi;
			char a[32], b[32], c[32];
			vl_pool_get_info(p, &pi);
			printf("%-20s %7u %7u %10s %10s %10s  %s\n", pi.name, pi.nr_members,
			       pi.nr_volumes, sz(pi.total_extents * pi.extent_size, a),
			       sz((pi.total_extents - pi.free_extents) * pi.extent_size, b),
			       sz(pi.free_extents * pi.extent_size, c), pi.health);
		}
		vl_pool_close(p);
	}
	if (cli.json) {
		json_arr_close(&j);
		json_end(&j);
	}
	poolconf_free_names(names, n);
	return 0;
}

static int pool_status(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool status", 0)) || (r = nargs("pool status", argc, argv, 1, 1)))
		return r;
	struct vl_pool *p;
	if ((r = open_pool(argv[0], VL_OPEN_RDONLY, &p)))
		return r;
	struct vl_pool_info pi;
	vl_pool_get_info(p, &pi);
	if (cli.json) {
		print_pool_json(p);
	} else {
		char u[37], a[32], b[32], c[32];
		vl_uuid_unparse(pi.uuid, u);
		uint64_t cap = pi.total_extents * pi.extent_size;
		uint64_t used = (pi.total_extents - pi.free_extents) * pi.extent_size;
		printf("Pool:        %s\nUUID:        %s\nHealth:      %s\n", pi.name, u, pi.health);
		printf("Capacity:    %s\nAllocated:   %s (%.1f%%)\nFree:        %s\n", sz(cap, a),
		       sz(used, b), cap ? 100.0 * (double)used / (double)cap : 0.0,
		       sz(cap - used, c));
		printf("Extent size: %s\nVolumes:     %u of at most %u\n", sz(pi.extent_size, a),
		       pi.nr_volumes, pi.max_volumes);
		printf("Metadata:    %" PRIu64 " of %" PRIu64 " blocks free per mirror\n",
		       pi.meta_free_blocks, pi.meta_blocks);
		struct vl_shared_info si;
		vl_pool_shared_info(p, &si);
		if (si.shared) {
			uint64_t alive[VL_ALIVE_WORDS];
			char list[256] = "";
			if (blades_alive(p, alive) == 0) {
				for (uint32_t h = 0; h < VL_ALIVE_WORDS * 64; h++)
					if (alive[h / 64] >> (h % 64) & 1) {
						size_t l = strlen(list);
						snprintf(list + l, sizeof(list) - l, "%s%u", l ? ", " : "",
							 h + 1);
					}
			} else {
				snprintf(list, sizeof(list), "unknown (this node's sanlock has not "
							     "joined the pool's lockspace)");
			}
			printf("Sharing:     shared (format 2): up to %u volumes and %u blades, %u "
			       "allocation groups, lease io timeout %u s\n",
			       si.nr_slots, si.max_hosts, si.nr_ags, si.io_timeout);
			printf("Leases:      member %u, %" PRIu64 " MiB at offset %" PRIu64 "\n",
			       si.lease_member, si.lease_len >> 20, si.lease_off);
			printf("Blades alive: %s\n", list[0] ? list : "none");
		}
		printf("\n%-3s %-40s %10s %10s %-6s %s\n", "#", "MEMBER", "CAPACITY", "FREE", "META",
		       "HEALTH");
		for (uint32_t i = 0; i < pi.nr_members; i++) {
			struct vl_member_info mi;
			vl_pool_member_info(p, i, &mi);
			printf("%-3u %-40s %10s %10s %-6s %s\n", i, mi.path,
			       sz(mi.extents * pi.extent_size, a),
			       sz(mi.free_extents * pi.extent_size, b), mi.meta_mirror ? "mirror" : "-",
			       mi.health);
		}
	}
	vl_pool_close(p);
	return 0;
}

static int pool_destroy(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool destroy", O_FORCE)) || (r = nargs("pool destroy", argc, argv, 1, 1)))
		return r;
	struct vl_pool *p;
	if ((r = open_pool(argv[0], 0, &p)))
		return r;
	struct vl_diag d = {{0}};
	r = vl_pool_destroy(p, g.force, &d);
	vl_pool_close(p);
	if (r)
		return fail_errno(r, &d, "pool destroy");
	poolconf_remove(g.confdir, argv[0]);
	cli_out("Destroyed pool %s\n", argv[0]);
	return 0;
}

static int save_assembled(struct vl_pool *p, const char **name_out)
{
	struct poolconf pc, old;
	struct vl_diag d = {{0}};
	int r = poolconf_from_pool(p, &pc);
	if (r)
		return cli_fail(EXIT_FAILED, "out of memory");
	static char name[VL_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", pc.name);
	*name_out = name;
	if (poolconf_load(g.confdir, pc.name, &old, &d) == 0) {
		bool same = strcmp(old.uuid, pc.uuid) == 0;
		poolconf_free(&old);
		if (!same) {
			poolconf_free(&pc);
			return cli_fail(EXIT_BUSY,
				    "a different pool named '%s' is already defined in %s/pools; "
				    "destroy or rename that definition first",
				    name, g.confdir);
		}
	}
	r = poolconf_save(g.confdir, &pc, &d);
	poolconf_free(&pc);
	if (r)
		return fail_errno(r, &d, "saving the pool definition");
	return 0;
}

static int pool_assemble(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool assemble", 0)) || (r = nargs("pool assemble", argc, argv, 1, -1)))
		return r;
	struct vl_pool *p;
	struct vl_diag d = {{0}};
	r = vl_pool_open((const char *const *)argv, (size_t)argc, VL_OPEN_RDONLY, &p, &d);
	if (r)
		return fail_errno(r, &d, "assemble");
	const char *name;
	r = save_assembled(p, &name);
	if (!r)
		cli_out("Assembled pool %s from %d member(s); definition written to %s/pools/%s.conf\n",
		     name, argc, g.confdir, name);
	if (!r && cli.json) {
		print_pool_json(p);
	}
	vl_pool_close(p);
	return r;
}

struct found {
	char *path;
	struct vl_member_ident id;
};

static void scan_path(const char *path, struct found **f, size_t *n, size_t *cap, int depth)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		if (depth > 1)
			return;
		DIR *dd = opendir(path);
		if (!dd)
			return;
		struct dirent *de;
		while ((de = readdir(dd))) {
			if (de->d_name[0] == '.')
				continue;
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			scan_path(sub, f, n, cap, depth + 1);
		}
		closedir(dd);
		return;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return;
	struct vl_member_ident id;
	if (vl_member_identify(path, &id) != 0)
		return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		struct found *nf = realloc(*f, *cap * sizeof(**f));
		if (!nf)
			return;
		*f = nf;
	}
	(*f)[*n].path = strdup(path);
	(*f)[*n].id = id;
	(*n)++;
}

static int pool_scan(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool scan", O_ASSEMBLE)))
		return r;
	static char *def[] = {"/dev"};
	if (argc == 0) {
		argc = 1;
		argv = def;
	}
	struct found *f = NULL;
	size_t n = 0, cap = 0;
	for (int i = 0; i < argc; i++)
		scan_path(argv[i], &f, &n, &cap, 0);
	struct json j;
	if (cli.json) {
		json_begin(&j, stdout);
		json_arr_open(&j, NULL);
	} else if (!n) {
		printf("No vlun pool members found.\n");
	}
	bool *done = calloc(n + 1, 1);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		const char *list[VL_MAX_MEMBERS];
		size_t ln = 0;
		for (size_t k = i; k < n; k++)
			if (!done[k] && memcmp(f[k].id.pool_uuid, f[i].id.pool_uuid, 16) == 0) {
				done[k] = true;
				if (ln < VL_MAX_MEMBERS)
					list[ln++] = f[k].path;
			}
		struct vl_pool *p = NULL;
		struct vl_diag d = {{0}};
		int e = vl_pool_open(list, ln, VL_OPEN_RDONLY, &p, &d);
		char u[37];
		vl_uuid_unparse(f[i].id.pool_uuid, u);
		const char *saved = NULL;
		if (!e && g.assemble && save_assembled(p, &saved) != 0)
			rc = EXIT_FAILED;
		if (cli.json) {
			json_obj_open(&j, NULL);
			json_str(&j, "name", f[i].id.pool_name);
			json_str(&j, "uuid", u);
			json_bool(&j, "complete", e == 0);
			if (e)
				json_str(&j, "error", d.msg);
			json_bool(&j, "assembled", saved != NULL);
			json_arr_open(&j, "devices");
			for (size_t k = 0; k < ln; k++)
				json_str(&j, NULL, list[k]);
			json_arr_close(&j);
			json_obj_close(&j);
		} else {
			printf("pool %s (uuid %s): %zu device(s), %s%s\n", f[i].id.pool_name, u, ln,
			       e ? "incomplete: " : "complete", e ? d.msg : "");
			for (size_t k = 0; k < ln; k++)
				printf("  %s\n", list[k]);
			if (saved)
				printf("  definition written to %s/pools/%s.conf\n", g.confdir, saved);
		}
		vl_pool_close(p);
	}
	if (cli.json) {
		json_arr_close(&j);
		json_end(&j);
	}
	for (size_t i = 0; i < n; i++)
		free(f[i].path);
	free(f);
	free(done);
	return rc;
}

static void check_line(void *arg, const char *line)
{
	struct json *j = arg;
	if (cli.json)
		json_str(j, NULL, line);
	else
		printf("%s\n", line);
}

static int pool_check(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool check", O_REPAIR)) || (r = nargs("pool check", argc, argv, 1, 1)))
		return r;
	struct vl_pool *p;
	if ((r = open_pool(argv[0], g.repair ? 0 : VL_OPEN_RDONLY, &p)))
		return r;
	struct json j;
	if (cli.json) {
		json_begin(&j, stdout);
		json_obj_open(&j, NULL);
		json_str(&j, "pool", argv[0]);
		json_arr_open(&j, "findings");
	}
	struct vl_check_result res;
	r = vl_pool_check(p, g.repair, check_line, &j, &res);
	vl_pool_close(p);
	if (r) {
		if (cli.json) {
			json_arr_close(&j);
			json_obj_close(&j);
			json_end(&j);
		}
		return cli_fail(exit_for(r), "check failed: %s", strerror(-r));
	}
	uint32_t left = res.errors - res.repaired;
	if (cli.json) {
		json_arr_close(&j);
		json_u64(&j, "blocks_checked", res.blocks_checked);
		json_u64(&j, "extents_checked", res.extents_checked);
		json_u64(&j, "problems", res.errors);
		json_u64(&j, "repaired", res.repaired);
		json_bool(&j, "clean", left == 0);
		json_obj_close(&j);
		json_end(&j);
	} else {
		printf("pool %s: %" PRIu64 " metadata blocks and %" PRIu64
		       " extents checked; %u problem(s), %u repaired%s\n",
		       argv[0], res.blocks_checked, res.extents_checked, res.errors, res.repaired,
		       left && !g.repair ? " (run with --repair to fix what can be fixed)" : "");
	}
	return left ? EXIT_CHECK : 0;
}

/* ---- volume commands ---- */

static int vol_create(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("vol create", O_THICK | O_LAYOUT)) ||
	    (r = nargs("vol create", argc, argv, 2, 2)))
		return r;
	char pool[VL_NAME_MAX + 1], vol[VL_NAME_MAX + 1];
	uint64_t size;
	if ((r = split_volpath(argv[0], pool, vol)) || (r = size_arg(argv[1], &size, "size")))
		return r;
	struct vl_vol_create_opts o = {.thick = g.thick, .progress = progress_cb,
				       .progress_arg = "allocating"};
	if (g.layout && vl_parse_layout(g.layout, &o.layout))
		return cli_usage("invalid --layout '%s': use striped or concat", g.layout);
	struct vl_pool *p;
	struct vl_diag d = {{0}};
	if (served(pool)) {
		if (g.layout)
			return cli_fail(EXIT_BUSY, "pool %s is served by tcmu-runner: --layout cannot be "
					       "chosen meanwhile; leave it out for the pool's default", pool);
		char req[256];
		snprintf(req, sizeof(req), "vol-create %s %s %" PRIu64 " %s", pool, vol, size,
			 g.thick ? "thick" : "thin");
		if ((r = via_handler("vol create", req)) || (r = open_pool(pool, VL_OPEN_RDONLY | VL_OPEN_NOLOCK, &p)))
			return r;
	} else {
		if ((r = open_pool(pool, 0, &p)))
			return r;
		r = vl_vol_create(p, vol, size, &o, &d);
	}
	if (r) {
		vl_pool_close(p);
		return fail_errno(r, &d, "vol create");
	}
	struct vl_vol_info vi;
	vl_vol_info(p, vol, &vi);
	if (cli.json) {
		print_vol_json(pool, &vi);
	} else if (!cli.quiet) {
		print_vol(pool, &vi);
	}
	vl_pool_close(p);
	return 0;
}

static int vol_simple(const char *cmd, int argc, char **argv, unsigned allowed, int nargs_max)
{
	int r;
	if ((r = cli_only_opts(cmd, allowed)) || (r = nargs(cmd, argc, argv, nargs_max, nargs_max)))
		return r;
	char pool[VL_NAME_MAX + 1], vol[VL_NAME_MAX + 1];
	if ((r = split_volpath(argv[0], pool, vol)))
		return r;
	uint64_t size = 0;
	if (strcmp(cmd, "vol resize") == 0 && (r = size_arg(argv[1], &size, "size")))
		return r;
	struct vl_pool *p;
	char a[32];
	if (served(pool) && (strcmp(cmd, "vol delete") == 0 ||
			     (strcmp(cmd, "vol resize") == 0 && !g.force))) {
		char req[256];
		bool del = strcmp(cmd, "vol delete") == 0;
		snprintf(req, sizeof(req), del ? "vol-delete %s %s" : "vol-grow %s %s %" PRIu64, pool,
			 vol, size);
		if ((r = via_handler(cmd, req)))
			return r;
		if (del)
			cli_out("Deleted volume %s/%s\n", pool, vol);
		else
			cli_out("Volume %s/%s is now %s\n", pool, vol, sz(size, a));
		if (cli.json)
			printf("{\"ok\":true}\n");
		return 0;
	}
	if ((r = open_pool(pool, 0, &p)))
		return r;
	struct vl_diag d = {{0}};
	if (strcmp(cmd, "vol delete") == 0) {
		r = vl_vol_delete(p, vol, &d);
		if (!r)
			cli_out("Deleted volume %s/%s\n", pool, vol);
	} else if (strcmp(cmd, "vol resize") == 0) {
		r = vl_vol_resize(p, vol, size, g.force, &d);
		if (!r)
			cli_out("Volume %s/%s is now %s\n", pool, vol, sz(size, a));
	} else {
		r = vl_vol_rename(p, vol, argv[1], &d);
		if (!r)
			cli_out("Renamed volume %s/%s to %s/%s\n", pool, vol, pool, argv[1]);
	}
	vl_pool_close(p);
	if (r)
		return fail_errno(r, &d, cmd);
	if (cli.json)
		printf("{\"ok\":true}\n");
	return 0;
}

static int vol_list(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("vol list", 0)) || (r = nargs("vol list", argc, argv, 0, 1)))
		return r;
	char **names = NULL;
	size_t n = 0;
	if (argc == 1) {
		names = malloc(sizeof(char *));
		names[0] = strdup(argv[0]);
		n = 1;
	} else if ((r = poolconf_list(g.confdir, &names, &n))) {
		return cli_fail(EXIT_FAILED, "cannot read %s/pools: %s", g.confdir, strerror(-r));
	}
	struct json j;
	if (cli.json) {
		json_begin(&j, stdout);
		json_arr_open(&j, NULL);
	} else {
		printf("%-30s %10s %10s %-6s %-8s %s\n", "VOLUME", "SIZE", "ALLOCATED", "TYPE",
		       "LAYOUT", "SERIAL");
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct vl_pool *p;
		if (argc == 1) {
			if ((r = open_pool(names[i], VL_OPEN_RDONLY, &p))) {
				rc = r;
				break;
			}
		} else {
			struct poolconf pc;
			struct vl_diag d = {{0}};
			if (poolconf_load(g.confdir, names[i], &pc, &d))
				continue;
			int e = vl_pool_open((const char *const *)pc.members, pc.nr_members,
					     VL_OPEN_RDONLY, &p, &d);
			poolconf_free(&pc);
			if (e) {
				fprintf(stderr, "vlunctl: warning: pool %s unavailable: %s\n",
					names[i], d.msg);
				continue;
			}
		}
		uint32_t nv = vl_pool_nr_volumes(p);
		for (uint32_t k = 0; k < nv; k++) {
			struct vl_vol_info vi;
			if (vl_vol_info_at(p, k, &vi))
				continue;
			if (cli.json) {
				json_obj_open(&j, NULL);
				json_vol(&j, names[i], &vi);
				json_obj_close(&j);
			} else {
				char full[2 * VL_NAME_MAX + 2], a[32], b[32];
				snprintf(full, sizeof(full), "%s/%s", names[i], vi.name);
				printf("%-30s %10s %10s %-6s %-8s %s\n", full, sz(vi.size, a),
				       sz(vi.allocated, b), vi.thick ? "thick" : "thin",
				       vl_layout_name(vi.layout), vi.serial);
			}
		}
		vl_pool_close(p);
	}
	if (cli.json && !rc) {
		json_arr_close(&j);
		json_end(&j);
	}
	poolconf_free_names(names, n);
	return rc;
}

static int vol_show(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("vol show", 0)) || (r = nargs("vol show", argc, argv, 1, 1)))
		return r;
	char pool[VL_NAME_MAX + 1], vol[VL_NAME_MAX + 1];
	if ((r = split_volpath(argv[0], pool, vol)))
		return r;
	struct vl_pool *p;
	if ((r = open_pool(pool, VL_OPEN_RDONLY, &p)))
		return r;
	struct vl_vol_info vi;
	r = vl_vol_info(p, vol, &vi);
	vl_pool_close(p);
	if (r)
		return cli_fail(EXIT_NOTFOUND, "no volume '%s' in pool %s (see 'vlunctl vol list %s')", vol,
			    pool, pool);
	if (cli.json) {
		print_vol_json(pool, &vi);
	} else {
		print_vol(pool, &vi);
	}
	return 0;
}

static int count_arg(const char *s, const char *what, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = s ? strtoul(s, &end, 10) : 0;
	if (!s)
		return 0;
	if (!*s || *end || errno || v < lo || v > hi)
		return cli_usage("invalid %s '%s': use %u to %u", what, s, lo, hi);
	*out = (uint32_t)v;
	return 0;
}

static int pool_share(int argc, char **argv)
{
	int r;
	if ((r = cli_only_opts("pool share", O_MAXVOL | O_GROUPS | O_BLADES | O_IOTMO)) ||
	    (r = nargs("pool share", argc, argv, 1, 1)))
		return r;
	struct vl_share_opts o = {0};
	if ((r = count_arg(g.max_volumes, "--max-volumes", 1, 65536, &o.nr_slots)) ||
	    (r = count_arg(g.groups, "--groups", 1, 256, &o.nr_ags)) ||
	    (r = count_arg(g.blades, "--blades", 1, 2000, &o.max_hosts)) ||
	    (r = count_arg(g.io_timeout, "--io-timeout", 1, 300, &o.io_timeout)))
		return r;
	const struct vl_lease_ops *ops;
	void *ctx;
	if (blade_provider(&ops, &ctx))
		return cli_fail(EXIT_FAILED, "out of memory");
	struct vl_pool *p;
	/* exclusive: a pool served by tcmu-runner is refused here (it holds the pool) */
	if ((r = open_pool(argv[0], 0, &p)))
		return r;
	struct vl_diag d = {{0}};
	cli_out("Writing the lockspace and leases of pool %s (through sanlock)...\n", argv[0]);
	r = vl_pool_share(p, &o, ops, ctx, &d);
	if (r) {
		vl_pool_close(p);
		return fail_errno(r, &d, "pool share");
	}
	struct vl_shared_info si;
	vl_pool_shared_info(p, &si);
	if (cli.json)
		print_pool_json(p);
	vl_pool_close(p);
	cli_out("Pool %s is shared: up to %u volumes and %u blades, %u allocation groups; each "
	     "blade opens it with its host id (vlun.conf [blade] host_id)\n",
	     argv[0], si.nr_slots, si.max_hosts, si.nr_ags);
	return 0;
}

/* ---- dispatch ---- */

struct cmd {
	const char *obj, *name;
	int (*fn)(int, char **);
};

static int vol_delete(int c, char **v) { return vol_simple("vol delete", c, v, 0, 1); }
static int vol_resize(int c, char **v) { return vol_simple("vol resize", c, v, O_FORCE, 2); }
static int vol_rename(int c, char **v) { return vol_simple("vol rename", c, v, 0, 2); }

static const struct cmd cmds[] = {
	{"pool", "create", pool_create},     {"pool", "add-member", pool_add_member},
	{"pool", "list", pool_list},	     {"pool", "status", pool_status},
	{"pool", "destroy", pool_destroy},   {"pool", "assemble", pool_assemble},
	{"pool", "scan", pool_scan},	     {"pool", "check", pool_check},
	{"pool", "share", pool_share},
	{"vol", "create", vol_create},	     {"vol", "delete", vol_delete},
	{"vol", "resize", vol_resize},	     {"vol", "rename", vol_rename},
	{"vol", "list", vol_list},	     {"vol", "show", vol_show},
};

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"config-dir", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"extent-size", required_argument, NULL, 'e'},
		{"max-volumes", required_argument, NULL, 'm'},
		{"meta-size", required_argument, NULL, 'M'},
		{"force", no_argument, NULL, 'f'},
		{"thick", no_argument, NULL, 't'},
		{"layout", required_argument, NULL, 'l'},
		{"repair", no_argument, NULL, 'r'},
		{"assemble", no_argument, NULL, 'a'},
		{"host-id", required_argument, NULL, 'H'},
		{"groups", required_argument, NULL, 'G'},
		{"blades", required_argument, NULL, 'B'},
		{"io-timeout", required_argument, NULL, 'T'},
		{0},
	};
	bool help = false;
	int c;
	cli.prog = "vlunctl";
	cli.opt_names = opt_names;
	cli.nr_opts = sizeof(opt_names) / sizeof(opt_names[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qhf", lo, NULL)) != -1) {
		switch (c) {
		case 'C': g.confdir = optarg; break;
		case 'j': cli.json = true; break;
		case 'q': cli.quiet = true; break;
		case 'h': help = true; break;
		case 'V': printf("vlunctl %s (on-disk formats 1-%d: 2 = shared pool)\n", VLUN_VERSION, VL_FORMAT_VERSION);
			return 0;
		case 'e': g.extent_size = optarg; cli.given |= O_EXTENT; break;
		case 'm': g.max_volumes = optarg; cli.given |= O_MAXVOL; break;
		case 'M': g.meta_size = optarg; cli.given |= O_META; break;
		case 'f': g.force = true; cli.given |= O_FORCE; break;
		case 't': g.thick = true; cli.given |= O_THICK; break;
		case 'l': g.layout = optarg; cli.given |= O_LAYOUT; break;
		case 'r': g.repair = true; cli.given |= O_REPAIR; break;
		case 'a': g.assemble = true; cli.given |= O_ASSEMBLE; break;
		case 'G': g.groups = optarg; cli.given |= O_GROUPS; break;
		case 'B': g.blades = optarg; cli.given |= O_BLADES; break;
		case 'T': g.io_timeout = optarg; cli.given |= O_IOTMO; break;
		case 'H': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || v < 1 || v > 2000)
				return cli_usage("invalid --host-id '%s': use 1 to 2000", optarg);
			g.host_id = v;
			break;
		}
		case ':':
			return cli_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	g.confdir = poolconf_dir(g.confdir);
	int ac = argc - optind;
	char **av = argv + optind;
	if (help || ac == 0 || strcmp(av[0], "help") == 0) {
		fputs(usage_text, help || ac ? stdout : stderr);
		return help || ac ? 0 : EXIT_USAGE;
	}
	if (ac < 2) {
		if (strcmp(av[0], "pool") == 0 || strcmp(av[0], "vol") == 0)
			return cli_usage("'%s' needs a command", av[0]);
		return cli_usage("unknown command '%s'", av[0]);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].obj, av[0]) == 0 && strcmp(cmds[i].name, av[1]) == 0)
			return cmds[i].fn(ac - 2, av + 2);
	return cli_usage("unknown command '%s %s'", av[0], av[1]);
}
