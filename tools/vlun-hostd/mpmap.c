#include "mpmap.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static int why(char *err, size_t n, int r, const char *msg)
{
	snprintf(err, n, "%s", msg);
	return r;
}

/* a string member of at most max bytes, else NULL */
static const char *str_member(JsonObject *o, const char *name, size_t max)
{
	JsonNode *v = json_object_get_member(o, name);
	if (!v || !JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING)
		return NULL;
	const char *s = json_node_get_string(v);
	return s && strlen(s) <= max ? s : NULL;
}

static JsonArray *arr_member(JsonObject *o, const char *name)
{
	JsonNode *v = json_object_get_member(o, name);
	return v && JSON_NODE_HOLDS_ARRAY(v) ? json_node_get_array(v) : NULL;
}

static JsonObject *obj_element(JsonArray *a, guint i)
{
	JsonNode *v = json_array_get_element(a, i);
	return v && JSON_NODE_HOLDS_OBJECT(v) ? json_node_get_object(v) : NULL;
}

static int parse_map(JsonObject *map, struct mpmap *m, char *err, size_t n)
{
	const char *name = str_member(map, "name", MPMAP_NAME_MAX);
	if (!name || !name[0] || strcspn(name, " \t\n\r\"'\\") != strlen(name))
		return why(err, n, -EINVAL, "the map has no valid name");
	snprintf(m->name, sizeof(m->name), "%s", name);
	const char *vend = str_member(map, "vend", sizeof(m->vendor) - 1);
	snprintf(m->vendor, sizeof(m->vendor), "%s", vend ? vend : "");
	JsonArray *pgs = arr_member(map, "path_groups");
	if (!pgs)
		return why(err, n, -EINVAL, "the map has no path_groups array");
	guint npg = json_array_get_length(pgs);
	if (npg > MPMAP_GROUPS)
		return why(err, n, -E2BIG, "more path groups than vlun-hostd handles (16)");
	for (guint i = 0; i < npg; i++) {
		JsonObject *pg = obj_element(pgs, i);
		if (!pg)
			return why(err, n, -EINVAL, "a path group is not an object");
		struct mpmap_group *g = &m->g[i];
		JsonNode *num = json_object_get_member(pg, "group");
		if (!num || !JSON_NODE_HOLDS_VALUE(num) || json_node_get_value_type(num) != G_TYPE_INT64)
			return why(err, n, -EINVAL, "a path group has no number");
		gint64 v = json_node_get_int(num);
		if (v != (gint64)i + 1) /* switchgroup counts the table's groups from 1 */
			return why(err, n, -EINVAL, "the path groups are not numbered 1, 2, ...");
		g->number = (unsigned)v;
		const char *st = str_member(pg, "dm_st", 32);
		g->active = st && !strcmp(st, "active");
		JsonArray *paths = arr_member(pg, "paths");
		if (!paths)
			return why(err, n, -EINVAL, "a path group has no paths array");
		guint np = json_array_get_length(paths);
		if (np > MPMAP_PATHS)
			return why(err, n, -E2BIG, "more paths in a group than vlun-hostd handles (16)");
		for (guint k = 0; k < np; k++) {
			JsonObject *p = obj_element(paths, k);
			const char *dev = p ? str_member(p, "dev", MPMAP_DEV_MAX) : NULL;
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
		JsonNode *map = top ? json_object_get_member(top, "map") : NULL;
		if (!map || !JSON_NODE_HOLDS_OBJECT(map))
			r = why(err, n, -EINVAL, "no \"map\" object");
		else
			r = parse_map(json_node_get_object(map), m, err, n);
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
