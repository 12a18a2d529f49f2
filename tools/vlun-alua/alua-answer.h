/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The handler's answers to alua-status and alua-move (docs/alua.md, "Control requests"):
 * records separated by ';', each a kind ("blade", "vol") followed by key=value fields
 * separated by spaces; a why= field runs to the end of its record.
 *
 * The answers come over a root-only socket but are parsed as untrusted input: every
 * length is bounded, every number range-checked, names must be valid names, unknown
 * keys and unknown record kinds are ignored, and anything else that does not fit is
 * "garbled" (alua_parse returns -EPROTO with the reason).  Fuzzed by test/fuzz/fuzz-alua.c.
 */
#ifndef VLUN_ALUA_ANSWER_H
#define VLUN_ALUA_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALUA_NAME_MAX 63      /* pool, volume and blade names */
#define ALUA_HOST_MAX 2000    /* sanlock host ids are 1..2000 */
#define ALUA_LIST_MAX 64      /* entries of states=, moving=, lagging= */
#define ALUA_WHY_MAX 511      /* why= text kept (longer text is cut, ending in "...") */
#define ALUA_RECORDS_MAX 2048 /* blade + vol records in one answer */
#define ALUA_AO_NOT_EXPORTED (-1) /* states= HOST:- : the blade does not export the volume */

enum alua_kind { ALUA_STATUS, ALUA_MOVE }; /* which request the answer is to */
enum alua_result { ALUA_RES_NONE, ALUA_RES_MOVED, ALUA_RES_ALREADY, ALUA_RES_FAILED };
enum alua_phase { ALUA_PH_ASK, ALUA_PH_RELEASE, ALUA_PH_ACQUIRE, ALUA_PH_STATES, ALUA_PH_TOTAL,
		  ALUA_PHASES };
extern const char *const alua_phase_names[ALUA_PHASES]; /* "ask", ... "total" */

struct alua_blade {
	char name[ALUA_NAME_MAX + 1]; /* "" when unknown (the handler sends "-") */
	uint32_t host;
	bool answering, local;
	bool has_alive, alive; /* alive= is optional: in the pool's lockspace */
	bool has_age;
	uint64_t age_ms;
};

struct alua_state {
	uint32_t host;
	int32_t ao; /* host id reported Active/Optimized, 0 none, ALUA_AO_NOT_EXPORTED */
};

struct alua_vol {
	char name[ALUA_NAME_MAX + 1];
	/* alua-status */
	uint32_t owner; /* 0: nobody holds the volume */
	uint64_t epoch;
	bool has_epoch;
	struct alua_state states[ALUA_LIST_MAX];
	size_t nr_states;
	uint32_t moving[ALUA_LIST_MAX];
	size_t nr_moving;
	/* alua-move */
	uint32_t from, to;
	enum alua_result result;
	int err; /* 0 or -errno */
	bool has_phase[ALUA_PHASES];
	uint64_t phase_ms[ALUA_PHASES];
	uint32_t lagging[ALUA_LIST_MAX];
	size_t nr_lagging;
	char why[ALUA_WHY_MAX + 1]; /* printable ASCII only (others become '?') */
};

struct alua_answer {
	struct alua_blade *blades;
	size_t nr_blades;
	struct alua_vol *vols;
	size_t nr_vols;
	size_t cap_blades, cap_vols;
};

/* Does TEXT look like records (its first word is "blade" or "vol")?  A failed request
 * may answer with a plain message instead. */
bool alua_is_records(const char *text);

/* Parse TEXT (NUL-terminated, at most len bytes are looked at) into *a.  0, -EPROTO with
 * why in err (garbled), -ENOMEM.  On error *a is empty (nothing to free). */
int alua_parse(const char *text, size_t len, enum alua_kind kind, struct alua_answer *a,
	       char *err, size_t errlen);
void alua_answer_free(struct alua_answer *a);

const struct alua_blade *alua_find_blade(const struct alua_answer *a, uint32_t host);
const struct alua_vol *alua_find_vol(const struct alua_answer *a, const char *name);
/* 1-63 of A-Z a-z 0-9 _ - ., not starting with . or - */
bool alua_name_ok(const char *s, size_t len);

#endif
