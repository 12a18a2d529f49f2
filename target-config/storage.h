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

enum st_act { ST_MEMBER_FILE, ST_POOL, ST_VOLUME, ST_GROW };

struct st_action {
	enum st_act act;
	size_t idx;                /* pool (MEMBER_FILE, POOL) or volume (VOLUME, GROW) index */
	char path[4096];           /* MEMBER_FILE */
	uint64_t size;
	bool done;
};

struct st_plan {
	struct st_action *a;
	size_t n;
	struct lio_volstate *vs;   /* per c->volumes[i] */
};

/* Compare the file's pools and volumes with the pools defined in confdir.  Errors that
 * make the file inapplicable (a member of another pool, a volume bigger than the file
 * says) go to errs. */
int st_plan(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e);
/* Run it; on failure undo this run's creations and say so in errs. */
int st_apply(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e);
/* Take back what st_apply did (when the configfs half fails). */
void st_undo(const struct tconf *c, const char *confdir, struct st_plan *p, struct tconf_errs *e);
/* Fill p->vs with the serials and sizes of the volumes as they are now. */
int st_refresh(const struct tconf *c, const char *confdir, struct st_plan *p);
void st_plan_print(const struct tconf *c, const struct st_plan *p, FILE *f);
void st_plan_free(struct st_plan *p);

#endif
