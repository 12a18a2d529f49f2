/* Typed members of json-glib values, for bytes from elsewhere: NULL (or the default) when
 * the object is NULL, the member is absent or of another type — never an assertion. */
#ifndef VLUN_JGET_H
#define VLUN_JGET_H

#include <json-glib/json-glib.h>
#include <stddef.h>

const char *jget_str(JsonObject *o, const char *name, size_t max); /* NULL if longer than max */
gint64 jget_int(JsonObject *o, const char *name, gint64 dflt);
JsonObject *jget_obj(JsonObject *o, const char *name);
JsonArray *jget_arr(JsonObject *o, const char *name);
JsonObject *jget_elem_obj(JsonArray *a, guint i); /* element i if it is an object */

#endif
