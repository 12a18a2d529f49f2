/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the target configuration.  iniparser gives the values (quotes, inline
 * comments); a line scan of our own gives what iniparser cannot: the line of every
 * section and key (for file:line errors), duplicates (which iniparser silently merges),
 * and the original case of section names (iniparser lowercases them).
 */
#define _GNU_SOURCE
#include "tconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <iniparser/iniparser.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vlun/engine.h"

#define MAX_FILE (1u << 20)

void tconf_err(struct tconf_errs *e, const char *file, int line, const char *fmt, ...)
{
	e->count++;
	if (e->len >= sizeof(e->buf) - 1)
		return;
	int n = line > 0 ? snprintf(e->buf + e->len, sizeof(e->buf) - e->len, "%s:%d: ", file, line)
			 : snprintf(e->buf + e->len, sizeof(e->buf) - e->len, "%s: ", file);
	if (n > 0)
		e->len = e->len + (size_t)n < sizeof(e->buf) ? e->len + (size_t)n : sizeof(e->buf) - 1;
	va_list ap;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->len, sizeof(e->buf) - e->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		e->len = e->len + (size_t)n < sizeof(e->buf) ? e->len + (size_t)n : sizeof(e->buf) - 1;
	if (e->len < sizeof(e->buf) - 1)
		e->buf[e->len++] = '\n';
	e->buf[e->len] = 0;
}

/* ---- the line scan ---- */

struct key {
	char name[64];
	int line;
};
struct section {
	char type[16];             /* "vlun", "pool", ... */
	char name[TCONF_NAME_MAX + 2]; /* the object name, original case ("" for vlun/target) */
	char lookup[96];           /* the name iniparser knows it by (lowercase) */
	int line;
	struct key *keys;
	size_t nr_keys;
};
struct scan {
	struct section *s;
	size_t n;
};

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->s[i].keys);
	free(sc->s);
}

static void *grow(void *arr, size_t n, size_t size)
{
	if (n & (n - 1))           /* capacity doubles at powers of two */
		return arr;
	size_t cap = n ? 2 * n : 4;
	void *p = realloc(arr, cap * size);
	if (p)
		memset((char *)p + n * size, 0, (cap - n) * size);
	return p;
}
#define PUSH(arr, n)                                                                       \
	({                                                                                 \
		void *p_ = grow((arr), (n), sizeof(*(arr)));                              \
		p_ ? ((arr) = p_, &(arr)[(n)++]) : NULL;                                   \
	})

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TCONF_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

static const char *const TYPES[] = {"vlun", "target", "blade", "pool", "volume", "host", "export"};

static int scan_file(const char *file, const char *text, struct scan *sc, struct tconf_errs *e)
{
	char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	struct section *cur = NULL;
	int line = 0;
	for (char *l = copy, *next; l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = 0;
		line++;
		char *t = trim(l);
		if (!*t || *t == ';' || *t == '#')
			continue;
		if (strlen(l) > 1000) { /* iniparser reads at most 1023 characters a line */
			tconf_err(e, file, line, "line longer than 1000 characters");
			continue;
		}
		if (*t == '[') {
			char *end = strchr(t, ']');
			const char *rest = end ? trim(end + 1) : "";
			if (!end) {
				tconf_err(e, file, line, "malformed section header '%s': write [TYPE NAME]", t);
				cur = NULL;
				continue;
			}
			if (*rest) { /* iniparser would not read such a header */
				tconf_err(e, file, line,
					  "text after ']' in a section header; put comments on a line of "
					  "their own");
				cur = NULL;
				continue;
			}
			*end = 0;
			char *inner = trim(t + 1), *sp = inner + strcspn(inner, " \t");
			char inner_copy[96];
			snprintf(inner_copy, sizeof(inner_copy), "%s", inner);
			char type[16] = "", name[TCONF_NAME_MAX + 2] = "";
			if (*sp) {
				*sp = 0;
				snprintf(name, sizeof(name), "%s", trim(sp + 1));
			}
			snprintf(type, sizeof(type), "%s", inner);
			bool known = false, named = true;
			for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++)
				if (!strcmp(type, TYPES[i])) {
					known = true;
					named = i >= 2;
				}
			cur = NULL;
			if (!known) {
				tconf_err(e, file, line,
					  "[%s]: unknown section type '%s' (one of: vlun, target, blade, pool, "
					  "volume, host, export)",
					  inner, type);
				continue;
			}
			if (named && !name_ok(name)) {
				tconf_err(e, file, line,
					  "[%s%s%s]: %s needs a name of 1-%d characters A-Z a-z 0-9 _ - . "
					  "(not starting with . or -), e.g. [%s NAME]",
					  type, *name ? " " : "", name, type, TCONF_NAME_MAX, type);
				continue;
			}
			if (!named && *name) {
				tconf_err(e, file, line, "[%s %s]: [%s] takes no name", type, name, type);
				continue;
			}
			for (size_t i = 0; i < sc->n; i++)
				if (!strcmp(sc->s[i].type, type) && !strcasecmp(sc->s[i].name, name)) {
					tconf_err(e, file, line, "[%s%s%s] is defined twice (first at line %d)",
						  type, named ? " " : "", name, sc->s[i].line);
					goto skip;
				}
			if (!(cur = PUSH(sc->s, sc->n))) {
				free(copy);
				return -ENOMEM;
			}
			snprintf(cur->type, sizeof(cur->type), "%s", type);
			snprintf(cur->name, sizeof(cur->name), "%s", name);
			/* iniparser knows the section by its whole text, lowercased */
			snprintf(cur->lookup, sizeof(cur->lookup), "%s", inner_copy);
			for (char *p = cur->lookup; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			cur->line = line;
			continue;
		skip:
			cur = NULL;
			continue;
		}
		if (t[strlen(t) - 1] == '\\') {
			tconf_err(e, file, line, "line continuation with '\\' is not supported");
			continue;
		}
		char *eq = strchr(t, '=');
		if (!eq) {
			tconf_err(e, file, line, "'%s' is not 'key = value' or a [section]", t);
			continue;
		}
		*eq = 0;
		char *k = trim(t);
		if (!cur) {
			if (sc->n == 0)
				tconf_err(e, file, line, "key '%s' before any [section]", k);
			continue; /* inside a rejected section: already reported */
		}
		if (!*k || strlen(k) >= sizeof(((struct key *)0)->name)) {
			tconf_err(e, file, line, "[%s]: empty or too long key name", cur->lookup);
			continue;
		}
		for (size_t i = 0; i < cur->nr_keys; i++)
			if (!strcasecmp(cur->keys[i].name, k)) {
				tconf_err(e, file, line, "[%s] %s: set twice (first at line %d)",
					  cur->lookup, k, cur->keys[i].line);
				goto next_line;
			}
		struct key *key = PUSH(cur->keys, cur->nr_keys);
		if (!key) {
			free(copy);
			return -ENOMEM;
		}
		snprintf(key->name, sizeof(key->name), "%s", k);
		key->line = line;
	next_line:;
	}
	free(copy);
	return 0;
}

/* ---- values ---- */

struct ctx {
	const char *file;
	dictionary *ini;
	struct tconf_errs *e;
	const struct section *s;
	struct tconf *c;
};

static int key_line(const struct section *s, const char *key)
{
	for (size_t i = 0; i < s->nr_keys; i++)
		if (!strcasecmp(s->keys[i].name, key))
			return s->keys[i].line;
	return 0;
}

static const char *get(struct ctx *x, const char *key)
{
	if (!key_line(x->s, key))
		return NULL;
	char k[256];
	snprintf(k, sizeof(k), "%s:%s", x->s->lookup, key);
	for (char *p = k; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return iniparser_getstring(x->ini, k, "");
}

#define ERR(x, key, ...)                                                                   \
	tconf_err((x)->e, (x)->file, (key) ? key_line((x)->s, (key)) : (x)->s->line, __VA_ARGS__)

static void section_label(const struct section *s, char *buf, size_t n)
{
	snprintf(buf, n, "[%s%s%s]", s->type, *s->name ? " " : "", s->name);
}

/* every key must be one the section knows */
static void check_keys(struct ctx *x, const char *const *allowed, const char *required)
{
	char lab[96];
	section_label(x->s, lab, sizeof(lab));
	for (size_t i = 0; i < x->s->nr_keys; i++) {
		bool ok = false;
		char list[256] = "";
		for (const char *const *a = allowed; *a; a++) {
			ok |= !strcasecmp(*a, x->s->keys[i].name);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 a == allowed ? "" : ", ", *a);
		}
		if (!ok)
			tconf_err(x->e, x->file, x->s->keys[i].line, "%s %s: unknown key (known: %s)", lab,
				  x->s->keys[i].name, list);
	}
	for (const char *r = required; r && *r; r += strlen(r) + 1)
		if (!key_line(x->s, r))
			tconf_err(x->e, x->file, x->s->line, "%s: missing required key '%s'", lab, r);
}

static void get_name(struct ctx *x, const char *key, char *out, bool volume_name)
{
	const char *v = get(x, key);
	if (!v)
		return;
	if (!(volume_name ? vl_name_valid(v) : name_ok(v))) {
		char lab[96];
		section_label(x->s, lab, sizeof(lab));
		ERR(x, key, "%s %s: '%s' is not a valid name (1-%d of A-Z a-z 0-9 _ - ., not starting with . or -)",
		    lab, key, v, TCONF_NAME_MAX);
		return;
	}
	snprintf(out, TCONF_NAME_MAX + 1, "%s", v);
}

static bool get_size(struct ctx *x, const char *key, uint64_t *out)
{
	const char *v = get(x, key);
	if (!v)
		return false;
	if (vl_parse_size(v, out) || *out == 0) {
		char lab[96];
		section_label(x->s, lab, sizeof(lab));
		ERR(x, key, "%s %s: '%s' is not a size; write a number with an optional unit, e.g. 20G, 512M",
		    lab, key, v);
		return false;
	}
	return true;
}

static bool get_uint(struct ctx *x, const char *key, unsigned long min, unsigned long max,
		     unsigned long *out)
{
	const char *v = get(x, key);
	if (!v)
		return false;
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < min || n > max) {
		char lab[96];
		section_label(x->s, lab, sizeof(lab));
		ERR(x, key, "%s %s: '%s' is not a whole number from %lu to %lu", lab, key, v, min, max);
		return false;
	}
	*out = n;
	return true;
}

static int get_bool(struct ctx *x, const char *key, bool def)
{
	const char *v = get(x, key);
	if (!v)
		return def;
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		return true;
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
		return false;
	char lab[96];
	section_label(x->s, lab, sizeof(lab));
	ERR(x, key, "%s %s: '%s' is not yes or no", lab, key, v);
	return def;
}

/* whitespace- or comma-separated list */
static int get_list(struct ctx *x, const char *key, char ***out, size_t *n)
{
	const char *v = get(x, key);
	if (!v)
		return 0;
	char *copy = strdup(v), *save = NULL;
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		char **slot = PUSH(*out, *n);
		if (!slot || !(*slot = strdup(t))) {
			free(copy);
			return -ENOMEM;
		}
	}
	free(copy);
	if (*n == 0) {
		char lab[96];
		section_label(x->s, lab, sizeof(lab));
		ERR(x, key, "%s %s: empty list", lab, key);
	}
	return 0;
}

bool tconf_iqn_valid(const char *s)
{
	size_t n = strlen(s);
	if (n > TCONF_IQN_MAX)
		return false;
	if (!strncmp(s, "eui.", 4) || !strncmp(s, "naa.", 4)) {
		for (const char *p = s + 4; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return false;
		return n > 4 + 8;
	}
	/* iqn.YYYY-MM.reversed.domain[:unique] */
	if (strncmp(s, "iqn.", 4) || n < 12 || !isdigit((unsigned char)s[4]) ||
	    !isdigit((unsigned char)s[5]) || !isdigit((unsigned char)s[6]) ||
	    !isdigit((unsigned char)s[7]) || s[8] != '-' || !isdigit((unsigned char)s[9]) ||
	    !isdigit((unsigned char)s[10]) || s[11] != '.' || !s[12])
		return false;
	for (const char *p = s + 12; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr(".-:", *p)))
			return false;
	return true;
}

static bool portal_valid(const char *p, char *norm, size_t len)
{
	char addr[64];
	unsigned long port = 3260;
	const char *colon;
	unsigned char buf[16];
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (!end || (size_t)(end - p - 1) >= sizeof(addr))
			return false;
		memcpy(addr, p + 1, (size_t)(end - p - 1));
		addr[end - p - 1] = 0;
		if (inet_pton(AF_INET6, addr, buf) != 1)
			return false;
		colon = end[1] == ':' ? end + 1 : (end[1] ? (const char *)"" : NULL);
	} else {
		colon = strchr(p, ':');
		size_t al = colon ? (size_t)(colon - p) : strlen(p);
		if (al >= sizeof(addr))
			return false;
		memcpy(addr, p, al);
		addr[al] = 0;
		if (inet_pton(AF_INET, addr, buf) != 1)
			return false;
	}
	if (colon) {
		char *end;
		if (!*colon || !isdigit((unsigned char)colon[1]))
			return false;
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (*end || errno || port == 0 || port > 65535)
			return false;
	}
	snprintf(norm, len, *p == '[' ? "[%s]:%lu" : "%s:%lu", addr, port);
	return true;
}

/* ---- sections ---- */

static void parse_vlun(struct ctx *x)
{
	static const char *const keys[] = {"version", "secrets", NULL};
	check_keys(x, keys, "version\0");
	unsigned long v;
	if (get_uint(x, "version", 0, UINT_MAX, &v)) {
		if (v != TCONF_VERSION)
			ERR(x, "version", "[vlun] version: %lu is not supported; this vlun-config reads version %d",
			    v, TCONF_VERSION);
		x->c->version = (unsigned)v;
	}
	const char *s = get(x, "secrets");
	if (s) {
		if (!*s) {
			ERR(x, "secrets", "[vlun] secrets: empty path");
		} else if (*s == '/') {
			snprintf(x->c->secrets, sizeof(x->c->secrets), "%s", s);
		} else { /* relative to the configuration file */
			const char *slash = strrchr(x->file, '/');
			int dl = slash ? (int)(slash - x->file) : 1;
			snprintf(x->c->secrets, sizeof(x->c->secrets), "%.*s/%s", dl, slash ? x->file : ".", s);
		}
	}
}

static void parse_target(struct ctx *x)
{
	static const char *const keys[] = {"iqn", "demo_mode", "nopin_timeout", "nopin_response_timeout",
					   "nonowner_state", "max_transfer_kb", NULL};
	check_keys(x, keys, "iqn\0");
	const char *iqn = get(x, "iqn");
	if (iqn && !tconf_iqn_valid(iqn))
		ERR(x, "iqn", "[target] iqn: '%s' is not an iSCSI name (iqn.YYYY-MM.reversed.domain:name, lower case, at most %d characters)",
		    iqn, TCONF_IQN_MAX);
	else if (iqn)
		snprintf(x->c->iqn, sizeof(x->c->iqn), "%s", iqn);
	x->c->demo_mode = get_bool(x, "demo_mode", false);
	unsigned long n;
	if (get_uint(x, "nopin_timeout", 3, 60, &n))
		x->c->nopin_timeout = (unsigned)n;
	if (get_uint(x, "nopin_response_timeout", 3, 60, &n))
		x->c->nopin_response_timeout = (unsigned)n;
	if (get_uint(x, "max_transfer_kb", 64, 8192, &n)) {
		if (n & (n - 1))
			ERR(x, "max_transfer_kb",
			    "[target] max_transfer_kb: %lu is not a power of two (64, 128, ... 8192)", n);
		else
			x->c->max_transfer_kb = (unsigned)n;
	}
	const char *ns = get(x, "nonowner_state");
	if (ns && !strcmp(ns, "nonoptimized"))
		x->c->nonowner_ano = true;
	else if (ns && strcmp(ns, "standby"))
		ERR(x, "nonowner_state", "[target] nonowner_state: '%s' is not standby or nonoptimized", ns);
}

static int parse_blade(struct ctx *x)
{
	static const char *const keys[] = {"tpg", "portals", "host", "host_id", NULL};
	check_keys(x, keys, "tpg\0portals\0");
	struct tconf_blade *b = PUSH(x->c->blades, x->c->nr_blades);
	if (!b)
		return -ENOMEM;
	snprintf(b->name, sizeof(b->name), "%s", x->s->name);
	b->line = x->s->line;
	unsigned long t;
	if (get_uint(x, "tpg", 1, 65535, &t))
		b->tpg = (uint16_t)t;
	if (get_uint(x, "host_id", 1, TCONF_HOST_ID_MAX, &t))
		b->host_id = (uint16_t)t;
	b->host_id_line = key_line(x->s, "host_id");
	const char *h = get(x, "host");
	snprintf(b->host, sizeof(b->host), "%s", h && *h ? h : b->name);
	int r = get_list(x, "portals", &b->portals, &b->nr_portals);
	for (size_t i = 0; !r && i < b->nr_portals; i++) {
		char norm[80];
		if (!portal_valid(b->portals[i], norm, sizeof(norm))) {
			ERR(x, "portals", "[blade %s] portals: '%s' is not ADDRESS[:PORT] (IPv4, or [IPv6])",
			    b->name, b->portals[i]);
			continue;
		}
		free(b->portals[i]);
		if (!(b->portals[i] = strdup(norm)))
			return -ENOMEM;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(b->portals[j], norm))
				ERR(x, "portals", "[blade %s] portals: %s is listed twice", b->name, norm);
	}
	return r;
}

static int parse_pool(struct ctx *x)
{
	static const char *const keys[] = {"members", "member_size", "extent_size", "shared",
					   "lease_io_timeout", "max_blades", "max_volumes", NULL};
	check_keys(x, keys, "members\0");
	struct tconf_pool *p = PUSH(x->c->pools, x->c->nr_pools);
	if (!p)
		return -ENOMEM;
	p->line = x->s->line;
	if (!vl_name_valid(x->s->name))
		ERR(x, NULL, "[pool %s]: not a valid pool name", x->s->name);
	snprintf(p->name, sizeof(p->name), "%s", x->s->name);
	p->shared = get_bool(x, "shared", false);
	p->shared_line = key_line(x->s, "shared");
	p->lease_io_timeout = TCONF_LEASE_IO_TIMEOUT_DEFAULT;
	p->max_blades = TCONF_MAX_BLADES_DEFAULT;
	p->max_volumes = TCONF_MAX_VOLUMES_DEFAULT;
	p->max_blades_line = key_line(x->s, "max_blades");
	p->max_volumes_line = key_line(x->s, "max_volumes");
	/* the lease geometry means something only for a shared pool */
	const struct {
		const char *key;
		unsigned long min, max;
		uint32_t *out;
	} lk[] = {
		{"lease_io_timeout", 1, 300, &p->lease_io_timeout},
		{"max_blades", 1, TCONF_HOST_ID_MAX, &p->max_blades},
		{"max_volumes", 1, 65536, &p->max_volumes},
	};
	for (size_t i = 0; i < sizeof(lk) / sizeof(lk[0]); i++) {
		if (!key_line(x->s, lk[i].key))
			continue;
		if (!p->shared) {
			ERR(x, lk[i].key,
			    "[pool %s] %s: only a shared pool has it; set shared = yes (a pool served "
			    "by several blades) or remove %s",
			    p->name, lk[i].key, lk[i].key);
			continue;
		}
		unsigned long n = 0; /* 0 when malformed (reported): no cross-check on it */
		get_uint(x, lk[i].key, lk[i].min, lk[i].max, &n);
		*lk[i].out = (uint32_t)n;
	}
	get_size(x, "member_size", &p->member_size);
	if (get_size(x, "extent_size", &p->extent_size) &&
	    (p->extent_size & (p->extent_size - 1) || p->extent_size < (64u << 10) ||
	     p->extent_size > (1ull << 30)))
		ERR(x, "extent_size", "[pool %s] extent_size: use a power of two from 64K to 1G", p->name);
	int r = get_list(x, "members", &p->members, &p->nr_members);
	for (size_t i = 0; !r && i < p->nr_members; i++) {
		if (p->members[i][0] != '/')
			ERR(x, "members", "[pool %s] members: '%s' is not an absolute path", p->name,
			    p->members[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->members[i], p->members[j]))
				ERR(x, "members", "[pool %s] members: %s is listed twice", p->name,
				    p->members[i]);
	}
	if (!r && p->nr_members > 64)
		ERR(x, "members", "[pool %s] members: at most 64 members", p->name);
	return r;
}

static int parse_volume(struct ctx *x)
{
	static const char *const keys[] = {"pool", "size", "provisioning", NULL};
	check_keys(x, keys, "pool\0size\0");
	struct tconf_volume *v = PUSH(x->c->volumes, x->c->nr_volumes);
	if (!v)
		return -ENOMEM;
	v->line = x->s->line;
	if (!vl_name_valid(x->s->name))
		ERR(x, NULL, "[volume %s]: not a valid volume name", x->s->name);
	snprintf(v->name, sizeof(v->name), "%s", x->s->name);
	get_name(x, "pool", v->pool, true);
	get_size(x, "size", &v->size);
	const char *pr = get(x, "provisioning");
	if (pr && !strcmp(pr, "thick"))
		v->thick = true;
	else if (pr && strcmp(pr, "thin"))
		ERR(x, "provisioning", "[volume %s] provisioning: '%s' is not thin or thick", v->name, pr);
	return 0;
}

static int parse_host(struct ctx *x)
{
	static const char *const keys[] = {"iqn", "chap", NULL};
	check_keys(x, keys, "iqn\0");
	struct tconf_host *h = PUSH(x->c->hosts, x->c->nr_hosts);
	if (!h)
		return -ENOMEM;
	h->line = x->s->line;
	snprintf(h->name, sizeof(h->name), "%s", x->s->name);
	const char *iqn = get(x, "iqn");
	if (iqn && !tconf_iqn_valid(iqn))
		ERR(x, "iqn", "[host %s] iqn: '%s' is not an iSCSI initiator name (iqn.YYYY-MM.reversed.domain:name, lower case)",
		    h->name, iqn);
	else if (iqn)
		snprintf(h->iqn, sizeof(h->iqn), "%s", iqn);
	const char *chap = get(x, "chap");
	if (!chap || !strcmp(chap, "none"))
		h->chap = TCONF_CHAP_NONE;
	else if (!strcmp(chap, "one-way"))
		h->chap = TCONF_CHAP_ONEWAY;
	else if (!strcmp(chap, "mutual"))
		h->chap = TCONF_CHAP_MUTUAL;
	else
		ERR(x, "chap", "[host %s] chap: '%s' is not none, one-way or mutual", h->name, chap);
	return 0;
}

static int parse_export(struct ctx *x)
{
	static const char *const keys[] = {"volume", "lun", "hosts", "owner", "vm", NULL};
	check_keys(x, keys, "volume\0lun\0");
	struct tconf_export *ex = PUSH(x->c->exports, x->c->nr_exports);
	if (!ex)
		return -ENOMEM;
	ex->line = x->s->line;
	snprintf(ex->name, sizeof(ex->name), "%s", x->s->name);
	get_name(x, "volume", ex->volume, true);
	get_name(x, "owner", ex->owner, false);
	get_name(x, "vm", ex->vm, false);
	unsigned long l;
	if (get_uint(x, "lun", 0, 16383, &l))
		ex->lun = (uint32_t)l;
	return get_list(x, "hosts", &ex->hosts, &ex->nr_hosts);
}

/* ---- secrets ---- */

static int quiet(const char *fmt, ...) { (void)fmt; return 0; }

static void read_secrets(struct tconf *c, struct tconf_errs *e)
{
	bool need = false;
	for (size_t i = 0; i < c->nr_hosts; i++)
		need |= c->hosts[i].chap != TCONF_CHAP_NONE;
	if (!need)
		return;
	if (!c->secrets[0]) {
		tconf_err(e, c->file, 0,
			  "hosts use CHAP but [vlun] names no secrets file; add 'secrets = FILE' "
			  "(an INI file readable only by root: [host NAME] userid, password, "
			  "mutual_userid, mutual_password)");
		return;
	}
	struct stat st;
	if (stat(c->secrets, &st)) {
		tconf_err(e, c->secrets, 0, "cannot read the secrets file: %s", strerror(errno));
		return;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		tconf_err(e, c->secrets, 0,
			  "the secrets file is accessible by everyone (mode %04o); run 'chmod 600 %s'",
			  (unsigned)(st.st_mode & 07777), c->secrets);
		return;
	}
	int fd = open(c->secrets, O_RDONLY);
	if (fd < 0) {
		tconf_err(e, c->secrets, 0, "cannot read the secrets file: %s", strerror(errno));
		return;
	}
	close(fd);
	iniparser_set_error_callback(quiet);
	dictionary *d = iniparser_load(c->secrets);
	if (!d) {
		tconf_err(e, c->secrets, 0, "not an INI file ([host NAME] sections with userid, password, ...)");
		return;
	}
	for (size_t i = 0; i < c->nr_hosts; i++) {
		struct tconf_host *h = &c->hosts[i];
		if (h->chap == TCONF_CHAP_NONE)
			continue;
		struct {
			const char *key;
			char *out;
			bool need;
		} f[] = {{"userid", h->userid, true},
			 {"password", h->password, true},
			 {"mutual_userid", h->mutual_userid, h->chap == TCONF_CHAP_MUTUAL},
			 {"mutual_password", h->mutual_password, h->chap == TCONF_CHAP_MUTUAL}};
		for (size_t k = 0; k < 4; k++) {
			char key[160];
			snprintf(key, sizeof(key), "host %s:%s", h->name, f[k].key);
			for (char *p = key; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			const char *v = iniparser_getstring(d, key, NULL);
			if (!v || !*v) {
				if (f[k].need)
					tconf_err(e, c->secrets, 0, "[host %s]: missing %s (host %s uses %s CHAP)",
						  h->name, f[k].key, h->name,
						  h->chap == TCONF_CHAP_MUTUAL ? "mutual" : "one-way");
				continue;
			}
			bool pw = strstr(f[k].key, "password") != NULL;
			size_t n = strlen(v);
			if (n > TCONF_SECRET_MAX || (pw && n < 12)) {
				tconf_err(e, c->secrets, 0, "[host %s] %s: must be %d-%d characters", h->name,
					  f[k].key, pw ? 12 : 1, TCONF_SECRET_MAX);
				continue;
			}
			snprintf(f[k].out, TCONF_SECRET_MAX + 1, "%s", v);
		}
		if (h->chap == TCONF_CHAP_MUTUAL && h->password[0] &&
		    !strcmp(h->password, h->mutual_password))
			tconf_err(e, c->secrets, 0,
				  "[host %s]: mutual_password must differ from password (RFC 7143)", h->name);
	}
	iniparser_freedict(d);
}

/* ---- cross references ---- */

const struct tconf_blade *tconf_blade(const struct tconf *c, const char *name)
{
	for (size_t i = 0; i < c->nr_blades; i++)
		if (!strcmp(c->blades[i].name, name))
			return &c->blades[i];
	return NULL;
}
const struct tconf_volume *tconf_volume(const struct tconf *c, const char *name)
{
	for (size_t i = 0; i < c->nr_volumes; i++)
		if (!strcmp(c->volumes[i].name, name))
			return &c->volumes[i];
	return NULL;
}
const struct tconf_host *tconf_host(const struct tconf *c, const char *name)
{
	for (size_t i = 0; i < c->nr_hosts; i++)
		if (!strcmp(c->hosts[i].name, name))
			return &c->hosts[i];
	return NULL;
}
const struct tconf_pool *tconf_pool(const struct tconf *c, const char *name)
{
	for (size_t i = 0; i < c->nr_pools; i++)
		if (!strcmp(c->pools[i].name, name))
			return &c->pools[i];
	return NULL;
}

size_t tconf_vm_exports(const struct tconf *c, const char *vm, const struct tconf_export **out,
			size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nr_exports; i++)
		if (!strcmp(c->exports[i].vm, vm)) {
			if (n < max)
				out[n] = &c->exports[i];
			n++;
		}
	return n;
}

/* Shared pools: every blade has a unique sanlock host id, the pools fit the blades and
 * their volumes. */
static void shared_check(const struct tconf *c, struct tconf_errs *e)
{
	const char *f = c->file;
	const struct tconf_pool *sp = NULL;
	const struct tconf_blade *top = NULL;
	for (size_t i = 0; i < c->nr_pools; i++)
		if (c->pools[i].shared && !sp)
			sp = &c->pools[i];
	for (size_t i = 0; i < c->nr_blades; i++) {
		const struct tconf_blade *b = &c->blades[i];
		if (!b->host_id) {
			if (sp && !b->host_id_line) /* (a malformed host_id is reported already) */
				tconf_err(e, f, b->line,
					  "[blade %s]: missing host_id: pool %s is shared (line %d), so "
					  "every blade needs its sanlock host id; add host_id = N (1-%d, a "
					  "different N on each blade)",
					  b->name, sp->name, sp->shared_line ? sp->shared_line : sp->line,
					  TCONF_HOST_ID_MAX);
			continue;
		}
		if (!top || b->host_id > top->host_id)
			top = b;
		for (size_t j = 0; j < i; j++)
			if (c->blades[j].host_id == b->host_id)
				tconf_err(e, f, b->host_id_line,
					  "[blade %s] host_id: %u is already blade %s's (line %d); give "
					  "every blade a host id of its own",
					  b->name, b->host_id, c->blades[j].name, c->blades[j].host_id_line);
	}
	for (size_t i = 0; i < c->nr_pools; i++) {
		const struct tconf_pool *p = &c->pools[i];
		if (!p->shared)
			continue;
		if (top && p->max_blades && top->host_id > p->max_blades) {
			if (p->max_blades_line)
				tconf_err(e, f, p->max_blades_line,
					  "[pool %s] max_blades: %u is less than blade %s's host_id %u "
					  "(line %d); set max_blades = %u or more, or lower that host id",
					  p->name, p->max_blades, top->name, top->host_id,
					  top->host_id_line, top->host_id);
			else
				tconf_err(e, f, p->line,
					  "[pool %s]: blade %s's host_id %u (line %d) is more than the "
					  "default max_blades (%u); add max_blades = %u or more, or lower "
					  "that host id",
					  p->name, top->name, top->host_id, top->host_id_line, p->max_blades,
					  top->host_id);
		}
		size_t nv = 0;
		for (size_t v = 0; v < c->nr_volumes; v++)
			nv += !strcmp(c->volumes[v].pool, p->name);
		if (p->max_volumes && nv > p->max_volumes) {
			if (p->max_volumes_line)
				tconf_err(e, f, p->max_volumes_line,
					  "[pool %s] max_volumes: %u volume slot(s), but the file puts %zu volumes "
					  "in pool %s; set max_volumes = %zu or more (a shared pool's slots "
					  "are fixed when it is created)",
					  p->name, p->max_volumes, nv, p->name, nv);
			else
				tconf_err(e, f, p->line,
					  "[pool %s]: the file puts %zu volumes in it, more than the default "
					  "max_volumes (%u slots); add max_volumes = %zu or more (a shared "
					  "pool's slots are fixed when it is created)",
					  p->name, nv, p->max_volumes, nv);
		}
	}
}

static void cross_check(struct tconf *c, struct tconf_errs *e)
{
	const char *f = c->file;
	if (!c->iqn[0] && e->count == 0)
		tconf_err(e, f, 0, "no [target] section with iqn = ...");
	if (c->nr_blades == 0)
		tconf_err(e, f, 0, "no [blade NAME] section: name at least the node that serves the target");
	for (size_t i = 0; i < c->nr_blades; i++)
		for (size_t j = 0; j < i; j++) {
			if (c->blades[i].tpg && c->blades[i].tpg == c->blades[j].tpg)
				tconf_err(e, f, c->blades[i].line, "[blade %s] tpg: %u is already blade %s's",
					  c->blades[i].name, c->blades[i].tpg, c->blades[j].name);
			if (!strcmp(c->blades[i].host, c->blades[j].host))
				tconf_err(e, f, c->blades[i].line, "[blade %s] host: %s is already blade %s's",
					  c->blades[i].name, c->blades[i].host, c->blades[j].name);
		}
	shared_check(c, e);
	for (size_t i = 0; i < c->nr_pools; i++)
		for (size_t j = 0; j < i; j++)
			for (size_t a = 0; a < c->pools[i].nr_members; a++)
				for (size_t b = 0; b < c->pools[j].nr_members; b++)
					if (!strcmp(c->pools[i].members[a], c->pools[j].members[b]))
						tconf_err(e, f, c->pools[i].line,
							  "[pool %s] members: %s is also a member of pool %s",
							  c->pools[i].name, c->pools[i].members[a], c->pools[j].name);
	for (size_t i = 0; i < c->nr_volumes; i++) {
		struct tconf_volume *v = &c->volumes[i];
		if (v->pool[0] && !tconf_pool(c, v->pool))
			tconf_err(e, f, v->line, "[volume %s] pool: no [pool %s] in this file", v->name, v->pool);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->volumes[j].name, v->name))
				tconf_err(e, f, v->line, "[volume %s]: defined twice", v->name);
	}
	bool any_chap = false, any_plain = false;
	for (size_t i = 0; i < c->nr_hosts; i++) {
		struct tconf_host *h = &c->hosts[i];
		if (h->chap != TCONF_CHAP_NONE)
			any_chap = true;
		else
			any_plain = true;
		for (size_t j = 0; j < i; j++)
			if (h->iqn[0] && !strcmp(c->hosts[j].iqn, h->iqn))
				tconf_err(e, f, h->line, "[host %s] iqn: %s is already host %s's", h->name,
					  h->iqn, c->hosts[j].name);
	}
	if (any_chap && any_plain)
		tconf_err(e, f, 0,
			  "some hosts use CHAP and others do not; LIO requires CHAP of every initiator of a "
			  "target portal group once one needs it: set chap on every host, or on none");
	if (c->demo_mode && any_chap)
		tconf_err(e, f, 0, "[target] demo_mode = yes lets any initiator in without CHAP; hosts with chap need demo_mode = no");
	for (size_t i = 0; i < c->nr_exports; i++) {
		struct tconf_export *x = &c->exports[i];
		if (x->volume[0] && !tconf_volume(c, x->volume))
			tconf_err(e, f, x->line, "[export %s] volume: no [volume %s] in this file", x->name,
				  x->volume);
		if (x->owner[0] && !tconf_blade(c, x->owner))
			tconf_err(e, f, x->line, "[export %s] owner: no [blade %s] in this file", x->name,
				  x->owner);
		if (!x->owner[0] && c->nr_blades)
			snprintf(x->owner, sizeof(x->owner), "%s", c->blades[0].name);
		if (!x->vm[0]) /* one VM per export */
			snprintf(x->vm, sizeof(x->vm), "%s", x->name);
		if (c->demo_mode && x->nr_hosts)
			tconf_err(e, f, x->line,
				  "[export %s] hosts: demo_mode = yes gives every initiator every LUN; "
				  "remove hosts or set demo_mode = no",
				  x->name);
		if (!c->demo_mode && !x->nr_hosts)
			tconf_err(e, f, x->line,
				  "[export %s]: missing required key 'hosts' (or set demo_mode = yes in [target])",
				  x->name);
		for (size_t h = 0; h < x->nr_hosts; h++) {
			if (!tconf_host(c, x->hosts[h]))
				tconf_err(e, f, x->line, "[export %s] hosts: no [host %s] in this file", x->name,
					  x->hosts[h]);
			for (size_t k = 0; k < h; k++)
				if (!strcmp(x->hosts[k], x->hosts[h]))
					tconf_err(e, f, x->line, "[export %s] hosts: %s is listed twice", x->name,
						  x->hosts[h]);
		}
		for (size_t j = 0; j < i; j++) {
			if (c->exports[j].lun == x->lun)
				tconf_err(e, f, x->line, "[export %s] lun: LUN %u is already export %s's", x->name,
					  x->lun, c->exports[j].name);
			if (x->volume[0] && !strcmp(c->exports[j].volume, x->volume))
				tconf_err(e, f, x->line, "[export %s] volume: %s is already exported by %s", x->name,
					  x->volume, c->exports[j].name);
		}
	}
}

/* ---- entry ---- */

static int read_text(const char *file, char **out, struct tconf_errs *e)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;
		tconf_err(e, file, 0, "cannot open: %s", strerror(errno));
		return r;
	}
	char *buf = malloc(MAX_FILE + 1);
	size_t n = 0;
	ssize_t k = 0;
	while (buf && n < MAX_FILE && (k = read(fd, buf + n, MAX_FILE - n)) > 0)
		n += (size_t)k;
	int err = k < 0 ? errno : 0;
	char extra;
	bool big = buf && n == MAX_FILE && read(fd, &extra, 1) == 1;
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (err || big) {
		tconf_err(e, file, 0, big ? "larger than 1 MiB: not a configuration file?" : "read: %s",
			  strerror(err));
		free(buf);
		return err ? -err : -EFBIG;
	}
	if (memchr(buf, 0, n)) {
		tconf_err(e, file, 0, "contains NUL bytes: not a text file");
		free(buf);
		return -EINVAL;
	}
	buf[n] = 0;
	*out = buf;
	return 0;
}

int tconf_parse(const char *file, struct tconf *c, struct tconf_errs *e)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "%s", file);
	c->nopin_timeout = 15;
	c->nopin_response_timeout = 30;
	c->max_transfer_kb = TCONF_MAX_TRANSFER_KB_DEFAULT;
	char *text = NULL;
	int r = read_text(file, &text, e);
	if (r)
		return r;
	struct scan sc = {0};
	r = scan_file(file, text, &sc, e);
	free(text);
	if (r || e->count) {
		scan_free(&sc);
		return r ? r : -EINVAL;
	}
	iniparser_set_error_callback(quiet);
	dictionary *ini = iniparser_load(file);
	if (!ini) {
		scan_free(&sc);
		tconf_err(e, file, 0, "iniparser could not read the file");
		return -EINVAL;
	}
	struct ctx x = {file, ini, e, NULL, c};
	bool have_vlun = false, have_target = false;
	for (size_t i = 0; i < sc.n && !r; i++) {
		x.s = &sc.s[i];
		const char *t = x.s->type;
		if (!strcmp(t, "vlun")) {
			have_vlun = true;
			parse_vlun(&x);
		} else if (!strcmp(t, "target")) {
			have_target = true;
			parse_target(&x);
		} else if (!strcmp(t, "blade")) {
			r = parse_blade(&x);
		} else if (!strcmp(t, "pool")) {
			r = parse_pool(&x);
		} else if (!strcmp(t, "volume")) {
			r = parse_volume(&x);
		} else if (!strcmp(t, "host")) {
			r = parse_host(&x);
		} else {
			r = parse_export(&x);
		}
	}
	iniparser_freedict(ini);
	scan_free(&sc);
	if (r) {
		tconf_free(c);
		return r;
	}
	if (!have_vlun)
		tconf_err(e, file, 0, "no [vlun] section: start the file with [vlun] and version = %d",
			  TCONF_VERSION);
	if (!have_target)
		tconf_err(e, file, 0, "no [target] section with iqn = ...");
	cross_check(c, e);
	if (!e->count)
		read_secrets(c, e);
	if (e->count) {
		tconf_free(c); /* a rejected file leaves nothing behind */
		return -EINVAL;
	}
	return 0;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void tconf_free(struct tconf *c)
{
	for (size_t i = 0; i < c->nr_blades; i++)
		free_list(c->blades[i].portals, c->blades[i].nr_portals);
	for (size_t i = 0; i < c->nr_pools; i++)
		free_list(c->pools[i].members, c->pools[i].nr_members);
	for (size_t i = 0; i < c->nr_exports; i++)
		free_list(c->exports[i].hosts, c->exports[i].nr_hosts);
	free(c->blades);
	free(c->pools);
	free(c->volumes);
	/* secrets do not outlive the configuration */
	if (c->hosts)
		explicit_bzero(c->hosts, c->nr_hosts * sizeof(*c->hosts));
	free(c->hosts);
	free(c->exports);
	memset(c, 0, sizeof(*c));
}

const struct tconf_blade *tconf_local_blade(const struct tconf *c, const char *name,
					    struct tconf_errs *e)
{
	if (name) {
		const struct tconf_blade *b = tconf_blade(c, name);
		if (!b) {
			char list[512] = "";
			for (size_t i = 0; i < c->nr_blades; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", c->blades[i].name);
			tconf_err(e, c->file, 0, "--blade %s: no such [blade] (the file has: %s)", name, list);
		}
		return b;
	}
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	char *dot = strchr(host, '.');
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->nr_blades; i++)
			if (!strcmp(c->blades[i].host, host))
				return &c->blades[i];
		if (dot)
			*dot = 0; /* then the short host name */
	}
	if (c->nr_blades == 1)
		return &c->blades[0];
	tconf_err(e, c->file, 0,
		  "this machine (host name '%s') is none of the blades; pass --blade NAME or set host = "
		  "in its [blade] section",
		  host);
	return NULL;
}
