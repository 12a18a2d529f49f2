/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bringing LIO's configfs to the state a target configuration describes.
 *
 * The desired state is a list of configfs objects (directories, symlinks, attribute
 * values) in creation order.  Planning compares it with the live tree and yields the
 * actions that close the gap; applying runs them in order and, on a failure, undoes
 * what this run did, in reverse.  Objects vlun-config created (or adopted because the
 * file describes them) are recorded in a state file, so --prune and clear touch nothing
 * else.
 */
#ifndef VLUN_LIO_H
#define VLUN_LIO_H

#include <stdbool.h>
#include <stdio.h>

#include "tconf.h"

#define LIO_DEFAULT_ROOT "/sys/kernel/config/target"
#define LIO_DEFAULT_STATE "/run/vlun/target-config.state"
#define LIO_HBA "user_100"     /* the HBA directory vlun-config creates backstores in */

struct lio {
	char root[4096];           /* .../target */
	char state[4096];          /* the managed-objects list */
	bool fake;                 /* root is a plain directory tree (unit tests) */
	char **managed;            /* paths relative to root */
	size_t nr_managed;
};

int lio_open(struct lio *l, const char *root, const char *state, char *err, size_t errlen);
void lio_close(struct lio *l);

enum lio_act {
	LIO_MKDIR,     /* create a directory, then write its create-time attributes */
	LIO_LINK,      /* symlink */
	LIO_SET,       /* write an attribute that differs */
	LIO_RMDIR,     /* remove (prune/clear) */
	LIO_UNLINK,
};

struct lio_action {
	enum lio_act act;
	char path[512];            /* relative to root */
	char value[512];           /* LINK: target (relative to root); SET: new value */
	char old[512];             /* SET: the value before (for undo) */
	bool secret;               /* never print the value */
	bool fresh;                /* SET on an object this plan creates */
	char what[160];            /* for people: "backstore vm1 (pool0/vm1, 20 GiB)" */
	struct lio_attr {
		char name[64];
		char value[512];
	} attrs[8];                /* MKDIR: attribute writes right after mkdir, in order */
	int nr_attrs;
	bool done;
};

struct lio_plan {
	struct lio_action *a;
	size_t n;
	char **adopt;              /* existing objects the file describes, to be recorded */
	size_t nr_adopt;
	char **keep;               /* all desired paths */
	size_t nr_keep;
};

/* Storage facts the planner needs per volume: its LIO serial and current size. */
struct lio_volstate {
	char serial[33];           /* "" while the volume does not exist yet (dry run) */
	uint64_t size;
};

/* Plan the configfs changes for `c` as blade `local`; prune removes managed objects the
 * file no longer describes.  vs[i] belongs to c->volumes[i]. */
int lio_plan(struct lio *l, const struct tconf *c, const struct tconf_blade *local,
	     const struct lio_volstate *vs, bool prune, struct lio_plan *p, char *err,
	     size_t errlen);
/* Plan the removal of everything managed. */
int lio_plan_clear(struct lio *l, struct lio_plan *p);
void lio_plan_free(struct lio_plan *p);
void lio_plan_print(const struct lio_plan *p, FILE *f, bool json_list);

/* Run a plan.  On failure, undo in reverse what ran and report in err what failed and
 * anything that could not be undone. */
int lio_apply(struct lio *l, struct lio_plan *p, char *err, size_t errlen);

/* The live state as JSON or text, secrets masked. */
/* LIO keeps persistent-reservation state under <dbroot>/pr (configfs target/dbroot:
 * /etc/target if it existed when target_core_mod loaded, else /var/target) and fails every
 * PR OUT REGISTER with NOT READY while that directory is missing: create it (dir = its
 * path, "" for a test tree without dbroot).  0 or -errno with err set. */
int lio_pr_dir(struct lio *l, char *dir, size_t n, char *err, size_t errlen);
int lio_show(struct lio *l, FILE *f, bool json);

#endif
