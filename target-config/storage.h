/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The storage half of a target configuration: pools and volumes are created when
 * missing and grown when the file says bigger; nothing is ever destroyed or shrunk.
 */
#ifndef VLUN_TCONF_STORAGE_H
#define VLUN_TCONF_STORAGE_H

#include <stdio.h>

#include "lio.h"
#include "tconf.h"

struct vl_pool;

/* BLADECONF: <confdir>/blade.conf names this blade and its sanlock host id (the local
 * blade of the file has a host_id that blade.conf does not say yet). */
/* ST_ADOPT: a shared pool another blade created: its definition is written here */
enum st_act { ST_BLADECONF, ST_MEMBER_FILE, ST_POOL, ST_ADOPT, ST_VOLUME, ST_GROW };

struct st_action {
	enum st_act act;
	size_t idx;                /* pool (MEMBER_FILE, POOL) or volume (VOLUME, GROW) index */
	char path[4096];           /* MEMBER_FILE; BLADECONF: what blade.conf said before */
	uint64_t size;             /* BLADECONF: the host id */
	char *saved;               /* BLADECONF: the old file's bytes (NULL: there was none) */
	size_t saved_len;
	bool done;
};

struct st_plan {
	struct st_action *a;
	size_t n;
	struct lio_volstate *vs;   /* per c->volumes[i] */
	const struct tconf_blade *local; /* the blade this node is */
	struct st_open {           /* shared pools this run has open (joined) */
		char name[TCONF_NAME_MAX + 1];
		struct vl_pool *pool;
	} *open;
	size_t nr_open;
};

/* Compare the file's pools and volumes with the pools defined in confdir, as blade
 * local.  Errors that make the file inapplicable (a member of another pool, a volume
 * bigger than the file says, an existing single-blade pool the file marks shared) go to
 * errs. */
int st_plan(const struct tconf *c, const struct tconf_blade *local, const char *confdir,
	    struct st_plan *p, struct tconf_errs *e);
/* Run it; on failure undo this run's creations and say so in errs. */
int st_apply(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e);
/* Take back what st_apply did (when the configfs half fails). */
void st_undo(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e);
/* Fill p->vs with the serials and sizes of the volumes as they are now. */
int st_refresh(const struct tconf *c, const char *confdir, struct st_plan *p);
void st_plan_print(const struct tconf *c, const struct st_plan *p, FILE *f);
void st_plan_free(struct st_plan *p);

/* After a successful apply (no step of the plan: never rolled back), the handler takes
 * up the ALUA of each shared pool with exports: "alua-claim POOL VOLUME" for every export
 * the local blade is the configured owner of (the volume is acquired only if nobody
 * holds it), then "alua-sync POOL" (this blade's ALUA states written now).  Single-blade
 * pools need none. */
struct st_request {
	char req[2 * TCONF_NAME_MAX + 16];
	bool claim;                /* alua-claim, else alua-sync */
	int code;                  /* the answer's: 0, -errno (also: the handler not reached) */
	char answer[512];          /* the answer's text, or why there was none */
};
/* The requests in the order they are sent (*out is malloc'd; *n may be 0). */
int st_alua_requests(const struct tconf *c, const struct tconf_blade *local,
		     struct st_request **out, size_t *n);
/* Send them, each answer into its request; returns how many did not answer 0. */
size_t st_alua_send(struct st_request *rq, size_t n);

#endif
