/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A minimal streaming JSON writer for the tools' --json output. */
#ifndef VLUN_JSON_H
#define VLUN_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	int depth;
	bool need_comma[32];
};

void json_begin(struct json *j, FILE *f);
void json_obj_open(struct json *j, const char *key);   /* key NULL inside arrays / at top */
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_bool(struct json *j, const char *key, bool val);
void json_end(struct json *j);
/* {"error": MSG, "exit_code": CODE}: how every tool reports a failure under --json */
void json_error(FILE *f, const char *msg, int exit_code);

#endif
