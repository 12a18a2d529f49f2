/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json.h"

#include <inttypes.h>

void json_begin(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma[0] = false;
}

static void escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void key(struct json *j, const char *k)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	if (k) {
		escaped(j->f, k);
		fputc(':', j->f);
	}
}

static void open_(struct json *j, const char *k, char c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth < 31)
		j->depth++;
	j->need_comma[j->depth] = false;
}

void json_obj_open(struct json *j, const char *k) { open_(j, k, '{'); }
void json_arr_open(struct json *j, const char *k) { open_(j, k, '['); }

void json_obj_close(struct json *j)
{
	j->depth--;
	fputc('}', j->f);
}

void json_arr_close(struct json *j)
{
	j->depth--;
	fputc(']', j->f);
}

void json_str(struct json *j, const char *k, const char *v)
{
	key(j, k);
	escaped(j->f, v ? v : "");
}

void json_u64(struct json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

void json_bool(struct json *j, const char *k, bool v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void json_end(struct json *j) { fputc('\n', j->f); }

void json_error(FILE *f, const char *msg, int exit_code)
{
	struct json j;
	json_begin(&j, f);
	json_obj_open(&j, NULL);
	json_str(&j, "error", msg);
	json_u64(&j, "exit_code", (uint64_t)exit_code);
	json_obj_close(&j);
	json_end(&j);
}
