/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The declarative target configuration (docs/target-config.md): one INI file describes a
 * node's pools, volumes, iSCSI target, blades, hosts and exports.  tconf_parse() reads and
 * validates it; tconf-lio.c turns it into configfs objects and applies the difference.
 */
#ifndef VLUN_TCONF_H
#define VLUN_TCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCONF_VERSION 1
#define TCONF_NAME_MAX 63
#define TCONF_IQN_MAX 223
#define TCONF_SECRET_MAX 255
/* shared pools (format 1 additions): sanlock host ids and the lease geometry */
#define TCONF_HOST_ID_MAX 2000
#define TCONF_LEASE_IO_TIMEOUT_DEFAULT 10
#define TCONF_MAX_BLADES_DEFAULT 64
#define TCONF_MAX_VOLUMES_DEFAULT 64

/* Errors, each "FILE:LINE: [section] key: what is wrong", one per line. */
struct tconf_errs {
	char buf[8192];
	size_t len;
	unsigned count;
};
void tconf_err(struct tconf_errs *e, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct tconf_blade {
	char name[TCONF_NAME_MAX + 1];
	char host[256];            /* host name that selects this blade (default: the name) */
	uint16_t tpg;
	char **portals;            /* "192.0.2.1:3260", "[2001:db8::1]:3260" */
	size_t nr_portals;
	uint16_t host_id;          /* sanlock host id in shared pools, 1..2000; 0 = none */
	int host_id_line;
	int line;
};

struct tconf_pool {
	char name[TCONF_NAME_MAX + 1];
	char **members;
	size_t nr_members;
	uint64_t member_size;      /* create missing member files of this size; 0 = must exist */
	uint64_t extent_size;      /* 0 = the engine's default */
	/* shared = yes: served by several blades (on-disk format 2, leases through sanlock);
	 * the rest is the geometry it is created with (vl_share_opts) */
	bool shared;
	uint32_t lease_io_timeout; /* seconds, 1..300 (TCONF_LEASE_IO_TIMEOUT_DEFAULT) */
	uint32_t max_blades;       /* host ids 1..max_blades (TCONF_MAX_BLADES_DEFAULT) */
	uint32_t max_volumes;      /* volume slots (TCONF_MAX_VOLUMES_DEFAULT) */
	int shared_line, max_blades_line, max_volumes_line; /* 0: key not in the file */
	int line;
};

struct tconf_volume {
	char name[TCONF_NAME_MAX + 1];
	char pool[TCONF_NAME_MAX + 1];
	uint64_t size;
	bool thick;
	int line;
};

enum tconf_chap { TCONF_CHAP_NONE, TCONF_CHAP_ONEWAY, TCONF_CHAP_MUTUAL };

struct tconf_host {
	char name[TCONF_NAME_MAX + 1];
	char iqn[TCONF_IQN_MAX + 1];
	enum tconf_chap chap;
	char userid[TCONF_SECRET_MAX + 1], password[TCONF_SECRET_MAX + 1];
	char mutual_userid[TCONF_SECRET_MAX + 1], mutual_password[TCONF_SECRET_MAX + 1];
	int line;
};

struct tconf_export {
	char name[TCONF_NAME_MAX + 1];
	char volume[TCONF_NAME_MAX + 1];
	uint32_t lun;
	char **hosts;              /* host names */
	size_t nr_hosts;
	char owner[TCONF_NAME_MAX + 1]; /* blade whose path is Active/Optimized */
	char vm[TCONF_NAME_MAX + 1]; /* the VM it belongs to (default: the export's name) */
	int line;
};

/* 1 MiB commands: sequential writes measured +36% against tcmu's default of 64 KiB */
#define TCONF_MAX_TRANSFER_KB_DEFAULT 1024u

struct tconf {
	char file[4096];
	char secrets[4096];
	unsigned version;
	char iqn[TCONF_IQN_MAX + 1];
	bool demo_mode;
	bool nonowner_ano;         /* [target] nonowner_state = nonoptimized (default standby) */
	unsigned nopin_timeout, nopin_response_timeout;
	unsigned max_transfer_kb;  /* [target] max_transfer_kb: the LUNs' largest command (1024) */
	struct tconf_blade *blades;
	size_t nr_blades;
	struct tconf_pool *pools;
	size_t nr_pools;
	struct tconf_volume *volumes;
	size_t nr_volumes;
	struct tconf_host *hosts;
	size_t nr_hosts;
	struct tconf_export *exports;
	size_t nr_exports;
};

/* Parse and validate FILE (and the secrets file it names).  0, or -EINVAL with every
 * problem in errs; -errno if a file cannot be read. */
int tconf_parse(const char *file, struct tconf *c, struct tconf_errs *errs);
void tconf_free(struct tconf *c);

const struct tconf_blade *tconf_blade(const struct tconf *c, const char *name);
const struct tconf_volume *tconf_volume(const struct tconf *c, const char *name);
const struct tconf_host *tconf_host(const struct tconf *c, const char *name);
const struct tconf_pool *tconf_pool(const struct tconf *c, const char *name);
/* How many exports belong to VM `vm`; the first `max` of them go to out[] (in file
 * order).  A VM's exports are the disks whose active path follows it between blades. */
size_t tconf_vm_exports(const struct tconf *c, const char *vm, const struct tconf_export **out,
			size_t max);
/* The blade this node is: NAME if given, else the one whose host (or name) is this
 * machine's host name.  NULL with a message in errs if none. */
const struct tconf_blade *tconf_local_blade(const struct tconf *c, const char *name,
					    struct tconf_errs *errs);

bool tconf_iqn_valid(const char *s);

#endif
