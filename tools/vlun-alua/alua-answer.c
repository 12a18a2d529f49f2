/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The records of the handler's ALUA answers (alua-answer.h). */
#define _GNU_SOURCE
#include "alua-answer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const alua_phase_names[ALUA_PHASES] = {"ask", "release", "acquire", "states", "total"};

#define KEY_MAX 32

bool alua_name_ok(const char *s, size_t len)
{
	if (len < 1 || len > ALUA_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool alua_is_records(const char *text)
{
	while (is_space(*text))
		text++;
	size_t n = strcspn(text, " ;");
	return (n == 5 && !strncmp(text, "blade", 5)) || (n == 3 && !strncmp(text, "vol", 3));
}

/* a value: [s, e) */
struct span {
	const char *s, *e;
};

static size_t slen(struct span v) { return (size_t)(v.e - v.s); }
static bool is(struct span v, const char *lit)
{
	return slen(v) == strlen(lit) && !memcmp(v.s, lit, slen(v));
}

struct pctx {
	char *err;
	size_t errlen;
	size_t rec; /* record number, from 1 */
};

static int garbled(struct pctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int garbled(struct pctx *x, const char *fmt, ...)
{
	char m[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "record %zu: %s", x->rec, m);
	return -EPROTO;
}

/* decimal 0..max, no sign, no leading '+', at most 20 digits */
static bool num(struct span v, uint64_t max, uint64_t *out)
{
	size_t n = slen(v);
	if (n < 1 || n > 20)
		return false;
	uint64_t r = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)v.s[i] - '0';
		if (d > 9 || r > (UINT64_MAX - d) / 10)
			return false;
		r = r * 10 + d;
	}
	if (r > max)
		return false;
	*out = r;
	return true;
}

static bool flag(struct span v, bool *out)
{
	if (is(v, "0") || is(v, "1")) {
		*out = v.s[0] == '1';
		return true;
	}
	return false;
}

/* "" or "H,H,..." of host ids 1..ALUA_HOST_MAX, no duplicates */
static bool host_list(struct span v, uint32_t *out, size_t *nr)
{
	*nr = 0;
	const char *p = v.s;
	while (p < v.e) {
		const char *c = memchr(p, ',', (size_t)(v.e - p));
		struct span w = {p, c ? c : v.e};
		uint64_t h;
		if (*nr == ALUA_LIST_MAX || !num(w, ALUA_HOST_MAX, &h) || h == 0)
			return false;
		for (size_t i = 0; i < *nr; i++)
			if (out[i] == h)
				return false;
		out[(*nr)++] = (uint32_t)h;
		if (!c)
			break;
		p = c + 1;
		if (p == v.e) /* a trailing comma */
			return false;
	}
	return true;
}

/* "" or "HOST:AO,..." with AO a host id, 0 or '-' */
static bool state_list(struct span v, struct alua_state *out, size_t *nr)
{
	*nr = 0;
	const char *p = v.s;
	while (p < v.e) {
		const char *c = memchr(p, ',', (size_t)(v.e - p));
		const char *we = c ? c : v.e;
		const char *colon = memchr(p, ':', (size_t)(we - p));
		if (!colon || *nr == ALUA_LIST_MAX)
			return false;
		uint64_t h, ao;
		struct span hs = {p, colon}, as = {colon + 1, we};
		if (!num(hs, ALUA_HOST_MAX, &h) || h == 0)
			return false;
		if (is(as, "-"))
			out[*nr].ao = ALUA_AO_NOT_EXPORTED;
		else if (num(as, ALUA_HOST_MAX, &ao))
			out[*nr].ao = (int32_t)ao;
		else
			return false;
		for (size_t i = 0; i < *nr; i++)
			if (out[i].host == h)
				return false;
		out[(*nr)++].host = (uint32_t)h;
		if (!c)
			break;
		p = c + 1;
		if (p == v.e)
			return false;
	}
	return true;
}

static void copy_why(struct span v, char *out)
{
	size_t n = slen(v), k = n > ALUA_WHY_MAX ? ALUA_WHY_MAX - 3 : n;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)v.s[i];
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (k < n)
		memcpy(out + k, "...", 3), k += 3;
	out[k] = 0;
}

enum { K_BLADE, K_VOL, K_OTHER };

/* the known keys: index = bit in the record's "seen" mask */
static const char *const blade_keys[] = {"name", "host", "alive", "answering", "age_ms", "local", NULL};
static const char *const vol_keys[] = {"name",	 "owner",      "epoch",	     "states",	  "moving",
				       "from",	 "to",	       "result",     "err",	  "ask_ms",
				       "release_ms", "acquire_ms", "states_ms", "total_ms", "lagging",
				       "why",	 NULL};
enum { BK_NAME, BK_HOST, BK_ALIVE, BK_ANSWERING, BK_AGE, BK_LOCAL };
enum {
	VK_NAME, VK_OWNER, VK_EPOCH, VK_STATES, VK_MOVING, VK_FROM, VK_TO, VK_RESULT, VK_ERR,
	VK_ASK, VK_RELEASE, VK_ACQUIRE, VK_STATES_MS, VK_TOTAL, VK_LAGGING, VK_WHY,
};

static int key_index(const char *const *keys, struct span k)
{
	for (int i = 0; keys[i]; i++)
		if (is(k, keys[i]))
			return i;
	return -1;
}

static int blade_field(struct pctx *x, struct alua_blade *b, int ki, struct span v)
{
	uint64_t u;
	switch (ki) {
	case BK_NAME:
		if (is(v, "-")) /* a blade without a name */
			v.e = v.s;
		if (slen(v) && !alua_name_ok(v.s, slen(v)))
			return garbled(x, "blade name '%.*s' is not a valid name", (int)(slen(v) > 80 ? 80 : slen(v)), v.s);
		memcpy(b->name, v.s, slen(v));
		b->name[slen(v)] = 0;
		return 0;
	case BK_HOST:
		if (!num(v, ALUA_HOST_MAX, &u) || u == 0)
			return garbled(x, "blade host is not a host id 1-%d", ALUA_HOST_MAX);
		b->host = (uint32_t)u;
		return 0;
	case BK_ALIVE:
		b->has_alive = true;
		return flag(v, &b->alive) ? 0 : garbled(x, "blade alive is not 0 or 1");
	case BK_ANSWERING: return flag(v, &b->answering) ? 0 : garbled(x, "blade answering is not 0 or 1");
	case BK_LOCAL: return flag(v, &b->local) ? 0 : garbled(x, "blade local is not 0 or 1");
	case BK_AGE:
		if (!num(v, UINT64_MAX, &b->age_ms))
			return garbled(x, "blade age_ms is not a number");
		b->has_age = true;
		return 0;
	}
	return 0;
}

static int vol_field(struct pctx *x, struct alua_vol *o, int ki, struct span v)
{
	uint64_t u;
	switch (ki) {
	case VK_NAME:
		if (!alua_name_ok(v.s, slen(v)))
			return garbled(x, "volume name '%.*s' is not a valid name", (int)(slen(v) > 80 ? 80 : slen(v)), v.s);
		memcpy(o->name, v.s, slen(v));
		o->name[slen(v)] = 0;
		return 0;
	case VK_OWNER:
	case VK_FROM:
	case VK_TO:
		if (!num(v, ALUA_HOST_MAX, &u))
			return garbled(x, "vol %s is not a host id 0-%d", vol_keys[ki], ALUA_HOST_MAX);
		*(ki == VK_OWNER ? &o->owner : ki == VK_FROM ? &o->from : &o->to) = (uint32_t)u;
		return 0;
	case VK_EPOCH:
		if (!num(v, UINT64_MAX, &o->epoch))
			return garbled(x, "vol epoch is not a number");
		o->has_epoch = true;
		return 0;
	case VK_STATES:
		return state_list(v, o->states, &o->nr_states)
			       ? 0
			       : garbled(x, "vol states is not HOST:AO,... (at most %d)", ALUA_LIST_MAX);
	case VK_MOVING:
		return host_list(v, o->moving, &o->nr_moving)
			       ? 0
			       : garbled(x, "vol moving is not a list of host ids (at most %d)", ALUA_LIST_MAX);
	case VK_LAGGING:
		return host_list(v, o->lagging, &o->nr_lagging)
			       ? 0
			       : garbled(x, "vol lagging is not a list of host ids (at most %d)", ALUA_LIST_MAX);
	case VK_RESULT:
		if (is(v, "moved"))
			o->result = ALUA_RES_MOVED;
		else if (is(v, "already"))
			o->result = ALUA_RES_ALREADY;
		else if (is(v, "failed"))
			o->result = ALUA_RES_FAILED;
		else
			return garbled(x, "vol result is not moved, already or failed");
		return 0;
	case VK_ERR:
		if (is(v, "0")) {
			o->err = 0;
			return 0;
		}
		if (slen(v) < 2 || v.s[0] != '-' || v.s[1] == '0' ||
		    !num((struct span){v.s + 1, v.e}, 4095, &u))
			return garbled(x, "vol err is not 0 or -errno");
		o->err = -(int)u;
		return 0;
	case VK_ASK:
	case VK_RELEASE:
	case VK_ACQUIRE:
	case VK_STATES_MS:
	case VK_TOTAL: {
		int ph = ki - VK_ASK;
		if (!num(v, UINT64_MAX, &o->phase_ms[ph]))
			return garbled(x, "vol %s is not a number", vol_keys[ki]);
		o->has_phase[ph] = true;
		return 0;
	}
	case VK_WHY:
		copy_why(v, o->why);
		return 0;
	}
	return 0;
}

static int parse_record(struct pctx *x, const char *s, const char *e, enum alua_kind kind,
			struct alua_answer *a)
{
	while (s < e && is_space(*s))
		s++;
	if (s == e)
		return 0; /* an empty record: a trailing ';' */
	const char *ke = s;
	while (ke < e && !is_space(*ke))
		ke++;
	struct span k = {s, ke};
	int kt = is(k, "blade") ? K_BLADE : is(k, "vol") ? K_VOL : K_OTHER;
	if (kt == K_OTHER) {
		for (const char *p = s; p < ke; p++)
			if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '_' && *p != '-')
				return garbled(x, "'%.*s' is not a record kind", (int)(slen(k) > 40 ? 40 : slen(k)), s);
		return 0; /* a record kind of a newer handler */
	}
	if (a->nr_blades + a->nr_vols >= ALUA_RECORDS_MAX)
		return garbled(x, "more than %d records", ALUA_RECORDS_MAX);
	struct alua_blade b;
	struct alua_vol *o = NULL;
	memset(&b, 0, sizeof(b));
	if (kt == K_VOL && !(o = calloc(1, sizeof(*o))))
		return -ENOMEM;
	const char *const *keys = kt == K_BLADE ? blade_keys : vol_keys;
	uint32_t seen = 0;
	int r = 0;
	const char *p = ke;
	for (;;) {
		while (p < e && is_space(*p))
			p++;
		if (p == e)
			break;
		const char *fe = p;
		while (fe < e && !is_space(*fe) && *fe != '=')
			fe++;
		if (fe == e || *fe != '=') {
			r = garbled(x, "'%.*s' is not key=value", (int)(fe - p > 40 ? 40 : fe - p), p);
			break;
		}
		struct span key = {p, fe};
		if (slen(key) < 1 || slen(key) > KEY_MAX) {
			r = garbled(x, "a key of %zu characters", slen(key));
			break;
		}
		const char *vs = fe + 1, *ve = vs;
		if (is(key, "why")) { /* the rest of the record */
			ve = e;
			while (ve > vs && is_space(ve[-1]))
				ve--;
			p = e;
		} else {
			while (ve < e && !is_space(*ve))
				ve++;
			p = ve;
		}
		int ki = key_index(keys, key);
		if (ki < 0)
			continue; /* a key of a newer handler */
		if (seen & (1u << ki)) {
			r = garbled(x, "%s twice", keys[ki]);
			break;
		}
		seen |= 1u << ki;
		struct span v = {vs, ve};
		if ((r = kt == K_BLADE ? blade_field(x, &b, ki, v) : vol_field(x, o, ki, v)))
			break;
	}
	if (r) {
		free(o);
		return r;
	}
	if (kt == K_BLADE) {
		uint32_t need = 1u << BK_HOST | 1u << BK_ANSWERING;
		if ((seen & need) != need)
			return garbled(x, "a blade record needs host and answering");
		if (alua_find_blade(a, b.host))
			return garbled(x, "blade host %u twice", b.host);
		if (a->nr_blades == a->cap_blades) {
			size_t cap = a->cap_blades ? 2 * a->cap_blades : 16;
			struct alua_blade *nb = realloc(a->blades, cap * sizeof(*nb));
			if (!nb)
				return -ENOMEM;
			a->blades = nb;
			a->cap_blades = cap;
		}
		a->blades[a->nr_blades++] = b;
		return 0;
	}
	uint32_t need = 1u << VK_NAME;
	if (kind == ALUA_STATUS)
		need |= 1u << VK_OWNER | 1u << VK_EPOCH | 1u << VK_STATES;
	else if (!(seen & 1u << VK_RESULT))
		need |= 1u << VK_RESULT;
	else if (o->result == ALUA_RES_MOVED)
		need |= 1u << VK_FROM | 1u << VK_TO | 1u << VK_EPOCH;
	else if (o->result == ALUA_RES_ALREADY)
		need |= 1u << VK_TO;
	if ((seen & need) != need) {
		free(o);
		return garbled(x, kind == ALUA_STATUS ? "a vol record needs name, owner, epoch and states"
						      : "a vol record needs name and result (and from, to "
							"and epoch when moved)");
	}
	if (alua_find_vol(a, o->name)) {
		r = garbled(x, "volume %s twice", o->name);
		free(o);
		return r;
	}
	if (a->nr_vols == a->cap_vols) {
		size_t cap = a->cap_vols ? 2 * a->cap_vols : 16;
		struct alua_vol *nv = realloc(a->vols, cap * sizeof(*nv));
		if (!nv) {
			free(o);
			return -ENOMEM;
		}
		a->vols = nv;
		a->cap_vols = cap;
	}
	a->vols[a->nr_vols++] = *o;
	free(o);
	return 0;
}

int alua_parse(const char *text, size_t len, enum alua_kind kind, struct alua_answer *a,
	       char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (errlen)
		err[0] = 0;
	struct pctx x = {err, errlen, 0};
	const char *p = text, *end = text + strnlen(text, len);
	while (p < end) {
		const char *re = memchr(p, ';', (size_t)(end - p));
		if (!re)
			re = end;
		x.rec++;
		int r = parse_record(&x, p, re, kind, a);
		if (r) {
			if (r == -ENOMEM)
				snprintf(err, errlen, "out of memory");
			alua_answer_free(a);
			return r;
		}
		p = re + (re < end);
	}
	return 0;
}

void alua_answer_free(struct alua_answer *a)
{
	free(a->blades);
	free(a->vols);
	memset(a, 0, sizeof(*a));
}

const struct alua_blade *alua_find_blade(const struct alua_answer *a, uint32_t host)
{
	for (size_t i = 0; i < a->nr_blades; i++)
		if (a->blades[i].host == host)
			return &a->blades[i];
	return NULL;
}

const struct alua_vol *alua_find_vol(const struct alua_answer *a, const char *name)
{
	for (size_t i = 0; i < a->nr_vols; i++)
		if (!strcmp(a->vols[i].name, name))
			return &a->vols[i];
	return NULL;
}
