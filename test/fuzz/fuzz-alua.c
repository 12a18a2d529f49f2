/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the records of the handler's ALUA answers as vlun-alua parses them
 * (tools/vlun-alua/alua-answer.c; the answers come over a root-only socket, but are
 * parsed as untrusted).  An answer that parses must be within every bound the header
 * promises; one that does not must say why and leave nothing allocated.
 * The first byte picks the mode: odd = the rest is the answer's text; even = every
 * further byte picks a token of the grammar (so random inputs, as the replay driver
 * makes them, are mostly well-formed and reach the field checks). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alua-answer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

static const char *const tokens[] = {
	"blade ", "vol ", "name=", "host=", "alive=", "answering=", "age_ms=", "local=",
	"owner=", "epoch=", "states=", "moving=", "from=", "to=", "result=", "err=",
	"ask_ms=", "release_ms=", "acquire_ms=", "states_ms=", "total_ms=", "lagging=",
	"why=", "slot=", "moved", "already", "failed", "vm1", "blade-a", "0", "1", "2", "15",
	"2000", "2001", "-16", "-110", "18446744073709551615", "18446744073709551616", ";",
	" ", ",", ":", "-", "=", "x", "\t", "\n", ". ", "1:1,2:2", "1:-", "3,4", "future=yes ",
};

static void check(const struct alua_answer *a)
{
	for (size_t i = 0; i < a->nr_blades; i++) {
		const struct alua_blade *b = &a->blades[i];
		size_t n = strnlen(b->name, sizeof(b->name));
		if (n == sizeof(b->name) || (n && !alua_name_ok(b->name, n)))
			abort();
		if (b->host < 1 || b->host > ALUA_HOST_MAX || alua_find_blade(a, b->host) != b)
			abort();
	}
	for (size_t i = 0; i < a->nr_vols; i++) {
		const struct alua_vol *v = &a->vols[i];
		size_t n = strnlen(v->name, sizeof(v->name));
		if (n == sizeof(v->name) || !alua_name_ok(v->name, n) || alua_find_vol(a, v->name) != v)
			abort();
		if (v->owner > ALUA_HOST_MAX || v->from > ALUA_HOST_MAX || v->to > ALUA_HOST_MAX)
			abort();
		if (v->nr_states > ALUA_LIST_MAX || v->nr_moving > ALUA_LIST_MAX ||
		    v->nr_lagging > ALUA_LIST_MAX)
			abort();
		for (size_t k = 0; k < v->nr_states; k++)
			if (v->states[k].host < 1 || v->states[k].host > ALUA_HOST_MAX ||
			    v->states[k].ao < ALUA_AO_NOT_EXPORTED || v->states[k].ao > ALUA_HOST_MAX)
				abort();
		for (size_t k = 0; k < v->nr_moving; k++)
			if (v->moving[k] < 1 || v->moving[k] > ALUA_HOST_MAX)
				abort();
		for (size_t k = 0; k < v->nr_lagging; k++)
			if (v->lagging[k] < 1 || v->lagging[k] > ALUA_HOST_MAX)
				abort();
		if (v->err > 0 || v->err < -4095)
			abort();
		size_t w = strnlen(v->why, sizeof(v->why));
		if (w == sizeof(v->why))
			abort();
		for (size_t k = 0; k < w; k++)
			if (v->why[k] < 0x20 || v->why[k] > 0x7e)
				abort();
	}
	if (a->nr_blades + a->nr_vols > ALUA_RECORDS_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > (1 << 16))
		return 0;
	char *text;
	size_t len = 0;
	if (data[0] & 1) {
		len = size - 1;
		text = malloc(len ? len : 1); /* not NUL-terminated: the parser must stop at len */
		if (!text)
			abort();
		memcpy(text, data + 1, len);
	} else {
		size_t nt = sizeof(tokens) / sizeof(tokens[0]), cap = 1;
		for (size_t i = 1; i < size; i++)
			cap += strlen(tokens[data[i] % nt]);
		if (!(text = malloc(cap)))
			abort();
		for (size_t i = 1; i < size; i++) {
			const char *t = tokens[data[i] % nt];
			memcpy(text + len, t, strlen(t));
			len += strlen(t);
		}
	}
	char *z = malloc(len + 1); /* the NUL-terminated copy, as the tool holds answers */
	if (!z)
		abort();
	memcpy(z, text, len);
	z[len] = 0;
	(void)alua_is_records(z);
	for (int kind = ALUA_STATUS; kind <= ALUA_MOVE; kind++) {
		struct alua_answer a;
		char err[320];
		int r = alua_parse(text, len, (enum alua_kind)kind, &a, err, sizeof(err));
		if (r) {
			if ((r != -EPROTO && r != -ENOMEM) || !err[0] || a.nr_blades || a.nr_vols ||
			    a.blades || a.vols)
				abort();
			continue;
		}
		check(&a);
		/* the same text with its NUL parses the same */
		struct alua_answer b;
		if (alua_parse(z, len + 1, (enum alua_kind)kind, &b, err, sizeof(err)) ||
		    b.nr_blades != a.nr_blades || b.nr_vols != a.nr_vols)
			abort();
		alua_answer_free(&b);
		alua_answer_free(&a);
	}
	free(z);
	free(text);
	return 0;
}
