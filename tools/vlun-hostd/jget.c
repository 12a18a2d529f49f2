#include "jget.h"

#include <string.h>

static JsonNode *member(JsonObject *o, const char *name)
{
	return o ? json_object_get_member(o, name) : NULL;
}

const char *jget_str(JsonObject *o, const char *name, size_t max)
{
	JsonNode *v = member(o, name);
	if (!v || !JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING)
		return NULL;
	const char *s = json_node_get_string(v);
	return s && strlen(s) <= max ? s : NULL;
}

gint64 jget_int(JsonObject *o, const char *name, gint64 dflt)
{
	JsonNode *v = member(o, name);
	return v && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_INT64
		       ? json_node_get_int(v)
		       : dflt;
}

JsonObject *jget_obj(JsonObject *o, const char *name)
{
	JsonNode *v = member(o, name);
	return v && JSON_NODE_HOLDS_OBJECT(v) ? json_node_get_object(v) : NULL;
}

JsonArray *jget_arr(JsonObject *o, const char *name)
{
	JsonNode *v = member(o, name);
	return v && JSON_NODE_HOLDS_ARRAY(v) ? json_node_get_array(v) : NULL;
}

JsonObject *jget_elem_obj(JsonArray *a, guint i)
{
	JsonNode *v = a && i < json_array_get_length(a) ? json_array_get_element(a, i) : NULL;
	return v && JSON_NODE_HOLDS_OBJECT(v) ? json_node_get_object(v) : NULL;
}
