#include "mpmap.h"

#include "jget.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int why(char *err, size_t n, int r, const char *msg)
{
	snprintf(err, n, "%s", msg);
	return r;
}

static int parse_map(JsonObject *map, struct mpmap *m, char *err, size_t n)
{
	const char *name = jget_str(map, "name", MPMAP_NAME_MAX);
	if (!name || !name[0] || strcspn(name, " \t\n\r\"'\\") != strlen(name))
		return why(err, n, -EINVAL, "the map has no valid name");
	snprintf(m->name, sizeof(m->name), "%s", name);
	const char *vend = jget_str(map, "vend", sizeof(m->vendor) - 1);
	snprintf(m->vendor, sizeof(m->vendor), "%s", vend ? vend : "");
	JsonArray *pgs = jget_arr(map, "path_groups");
	if (!pgs)
		return why(err, n, -EINVAL, "the map has no path_groups array");
	guint npg = json_array_get_length(pgs);
	if (npg > MPMAP_GROUPS)
		return why(err, n, -E2BIG, "more path groups than vlun-hostd handles (16)");
	for (guint i = 0; i < npg; i++) {
		JsonObject *pg = jget_elem_obj(pgs, i);
		if (!pg)
			return why(err, n, -EINVAL, "a path group is not an object");
		struct mpmap_group *g = &m->g[i];
		gint64 v = jget_int(pg, "group", -1);
		if (v < 0)
			return why(err, n, -EINVAL, "a path group has no number");
		if (v != (gint64)i + 1) /* switchgroup counts the table's groups from 1 */
			return why(err, n, -EINVAL, "the path groups are not numbered 1, 2, ...");
		g->number = (unsigned)v;
		const char *st = jget_str(pg, "dm_st", 32);
		g->active = st && !strcmp(st, "active");
		JsonArray *paths = jget_arr(pg, "paths");
		if (!paths)
			return why(err, n, -EINVAL, "a path group has no paths array");
		guint np = json_array_get_length(paths);
		if (np > MPMAP_PATHS)
			return why(err, n, -E2BIG, "more paths in a group than vlun-hostd handles (16)");
		for (guint k = 0; k < np; k++) {
			JsonObject *p = jget_elem_obj(paths, k);
			const char *dev = p ? jget_str(p, "dev", MPMAP_DEV_MAX) : NULL;
			if (!dev || !dev[0] || strchr(dev, '/') || !strcmp(dev, ".") || !strcmp(dev, ".."))
				return why(err, n, -EINVAL, "a path has no valid device name");
			snprintf(g->dev[k], sizeof(g->dev[k]), "%s", dev);
		}
		g->nr_paths = np;
	}
	m->nr_groups = npg;
	return 0;
}

int mpmap_parse(const char *json, size_t len, struct mpmap *m, char *err, size_t n)
{
	memset(m, 0, sizeof(*m));
	if (len > (size_t)G_MAXSSIZE)
		return why(err, n, -E2BIG, "answer too long");
	JsonParser *p = json_parser_new_immutable();
	GError *ge = NULL;
	int r;
	if (!json_parser_load_from_data(p, json, (gssize)len, &ge)) {
		snprintf(err, n, "not JSON: %s", ge ? ge->message : "?");
		g_clear_error(&ge);
		r = -EINVAL;
	} else {
		JsonNode *root = json_parser_get_root(p);
		JsonObject *top = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
		JsonObject *map = jget_obj(top, "map");
		r = map ? parse_map(map, m, err, n) : why(err, n, -EINVAL, "no \"map\" object");
	}
	g_object_unref(p);
	if (r)
		memset(m, 0, sizeof(*m));
	return r;
}

unsigned mpmap_group_of(const struct mpmap *m, const char *dev)
{
	for (unsigned i = 0; i < m->nr_groups; i++)
		for (unsigned k = 0; k < m->g[i].nr_paths; k++)
			if (!strcmp(m->g[i].dev[k], dev))
				return m->g[i].number;
	return 0;
}

unsigned mpmap_active_group(const struct mpmap *m)
{
	for (unsigned i = 0; i < m->nr_groups; i++)
		if (m->g[i].active)
			return m->g[i].number;
	return 0;
}
