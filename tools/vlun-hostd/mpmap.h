/* A multipath map as multipathd describes it ("show map NAME json"): its path groups in
 * the order of the kernel's table (switchgroup's numbering) and their paths.  The parser
 * takes bytes from another process (fuzzed: test/fuzz/fuzz-mpmap.c). */
#ifndef VLUN_MPMAP_H
#define VLUN_MPMAP_H

#include <stdbool.h>
#include <stddef.h>

#define MPMAP_GROUPS 16
#define MPMAP_PATHS 16
#define MPMAP_NAME_MAX 127
#define MPMAP_DEV_MAX 31

struct mpmap_group {
	unsigned number; /* 1-based, as switchgroup takes it */
	bool active;	 /* the group the kernel sends I/O to (dm_st "active") */
	unsigned nr_paths;
	char dev[MPMAP_PATHS][MPMAP_DEV_MAX + 1]; /* "sdb" */
};

struct mpmap {
	char name[MPMAP_NAME_MAX + 1];
	char vendor[16];
	unsigned nr_groups;
	struct mpmap_group g[MPMAP_GROUPS];
};

/* 0, or -EINVAL/-E2BIG with a reason in err. */
int mpmap_parse(const char *json, size_t len, struct mpmap *m, char *err, size_t n);

/* The number of the group that holds path dev, 0 if none. */
unsigned mpmap_group_of(const struct mpmap *m, const char *dev);

/* The number of the group the kernel uses now, 0 if none is active. */
unsigned mpmap_active_group(const struct mpmap *m);

#endif
