/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The target configuration parser, table-driven: every error class gives its message at
 * the right line, and a file is rejected exactly when it is invalid. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tconf.h"

static int failures;
static char dir[] = "/tmp/tconf-test.XXXXXX";

#define HEAD "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\n" \
	     "[blade a]\ntpg = 1\nportals = 127.0.0.1\n"
/* line numbers: HEAD is 7 lines */
#define POOL "[pool p]\nmembers = /dev/null\n[volume v]\npool = p\nsize = 1G\n"
#define HOST "[host h]\niqn = iqn.1993-08.org.debian:01:h\n"
#define EXPORT "[export e]\nvolume = v\nlun = 0\nhosts = h\n"
/* shared pools: HEAD with a host id (8 lines); a second blade (lines 9-12) */
#define SHEAD HEAD "host_id = 1\n"
#define BLADE_B "[blade b]\ntpg = 2\nportals = 127.0.0.2\nhost_id = 2\n"
#define SPOOL "[pool p]\nmembers = /dev/null\nshared = yes\n[volume v]\npool = p\nsize = 1G\n"

struct tcase {
	const char *name;
	const char *text;
	const char *want;   /* NULL: valid; else a substring of the error */
	int line;           /* expected line (0: no line, -1: don't care) */
};

static const struct tcase cases[] = {
	{"minimal valid", HEAD POOL HOST EXPORT, NULL, 0},
	{"valid, demo mode", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\ndemo_mode = yes\n"
	 "[blade a]\ntpg = 1\nportals = 127.0.0.1:3260\n" POOL "[export e]\nvolume = v\nlun = 0\n", NULL, 0},
	{"comments and blank lines", "; c\n# c\n\n" HEAD POOL HOST EXPORT, NULL, 0},
	{"inline comment", HEAD POOL HOST "[export e]\nvolume = v ; the disk\nlun = 0\nhosts = h\n", NULL, 0},
	{"missing [vlun]", "[target]\niqn = iqn.2026-11.org.example:t\n[blade a]\ntpg = 1\nportals = 127.0.0.1\n",
	 "no [vlun] section", 0},
	{"wrong version", "[vlun]\nversion = 2\n[target]\niqn = iqn.2026-11.org.example:t\n[blade a]\ntpg=1\nportals=127.0.0.1\n",
	 "version: 2 is not supported", 2},
	{"unknown section type", HEAD "[frobnicator x]\n", "unknown section type 'frobnicator'", 8},
	{"unnamed pool", HEAD "[pool]\nmembers = /dev/null\n", "pool needs a name", 8},
	{"named target", "[vlun]\nversion = 1\n[target t]\n", "takes no name", 3},
	{"bad section header", HEAD "[pool p\n", "malformed section header", 8},
	{"duplicate section", HEAD POOL "[pool p]\nmembers = /dev/zero\n", "defined twice (first at line 8)", 13},
	{"duplicate section, other case", HEAD POOL "[pool P]\nmembers = /dev/zero\n", "defined twice", 13},
	{"duplicate key", HEAD "[pool p]\nmembers = /dev/null\nmembers = /dev/zero\n", "set twice (first at line 9)", 10},
	{"key outside section", "version = 1\n", "before any [section]", 1},
	{"not key=value", HEAD "just words\n", "is not 'key = value'", 8},
	{"continuation", HEAD "[pool p]\nmembers = /dev/null \\\n", "continuation", 9},
	{"unknown key", HEAD POOL "colour = blue\n", "colour: unknown key", 13},
	{"missing required key", HEAD "[pool p]\n", "missing required key 'members'", 8},
	{"bad iqn", "[vlun]\nversion = 1\n[target]\niqn = IQN.bad\n[blade a]\ntpg = 1\nportals = 127.0.0.1\n",
	 "is not an iSCSI name", 4},
	{"tpg out of range", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\n[blade a]\ntpg = 0\nportals = 127.0.0.1\n",
	 "tpg: '0' is not a whole number from 1 to 65535", 6},
	{"bad portal", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\n[blade a]\ntpg = 1\nportals = 300.1.1.1\n",
	 "is not ADDRESS[:PORT]", 7},
	{"bad port", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\n[blade a]\ntpg = 1\nportals = 127.0.0.1:70000\n",
	 "is not ADDRESS[:PORT]", 7},
	{"ipv6 portal", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\n[blade a]\ntpg = 1\nportals = [::1]:3260\n"
	 POOL "[target]\n", "defined twice", -1},
	{"duplicate tpg", HEAD "[blade b]\ntpg = 1\nportals = 127.0.0.2\n", "tpg: 1 is already blade a's", 8},
	{"relative member", HEAD "[pool p]\nmembers = disk.img\n", "is not an absolute path", 9},
	{"bad size", HEAD "[pool p]\nmembers = /dev/null\n[volume v]\npool = p\nsize = lots\n", "is not a size", 12},
	{"bad extent size", HEAD "[pool p]\nmembers = /dev/null\nextent_size = 3M\n", "power of two", 10},
	{"bad provisioning", HEAD POOL "provisioning = fat\n", "not thin or thick", 13},
	{"volume of unknown pool", HEAD "[volume v]\npool = q\nsize = 1G\n", "no [pool q]", 8},
	{"export of unknown volume", HEAD POOL HOST "[export e]\nvolume = w\nlun = 0\nhosts = h\n", "no [volume w]", 15},
	{"export to unknown host", HEAD POOL HOST "[export e]\nvolume = v\nlun = 0\nhosts = x\n", "no [host x]", 15},
	{"export without hosts", HEAD POOL HOST "[export e]\nvolume = v\nlun = 0\n", "missing required key 'hosts'", 15},
	{"duplicate LUN", HEAD POOL HOST EXPORT "[volume w]\npool = p\nsize = 1G\n[export f]\nvolume = w\nlun = 0\nhosts = h\n",
	 "LUN 0 is already export e's", 22},
	{"volume exported twice", HEAD POOL HOST EXPORT "[export f]\nvolume = v\nlun = 1\nhosts = h\n", "already exported by e", 19},
	{"unknown owner", HEAD POOL HOST EXPORT "owner = z\n", "owner: no [blade z]", 15},
	{"export with a vm", HEAD POOL HOST EXPORT "vm = guest-1.example\n", NULL, 0},
	{"bad vm name", HEAD POOL HOST EXPORT "vm = my vm\n",
	 "[export e] vm: 'my vm' is not a valid name (1-63 of A-Z a-z 0-9 _ - ., not starting with . or -)", 19},
	{"vm name starting with -", HEAD POOL HOST EXPORT "vm = -x\n", "[export e] vm: '-x' is not a valid name", 19},
	{"empty vm", HEAD POOL HOST EXPORT "vm =\n", "[export e] vm: '' is not a valid name", 19},
	{"lun out of range", HEAD POOL HOST "[export e]\nvolume = v\nlun = 99999\nhosts = h\n", "not a whole number from 0 to 16383", 17},
	{"bad chap", HEAD POOL "[host h]\niqn = iqn.1993-08.org.debian:01:h\nchap = yes\n", "not none, one-way or mutual", 15},
	{"chap without secrets", HEAD POOL "[host h]\niqn = iqn.1993-08.org.debian:01:h\nchap = one-way\n" EXPORT,
	 "names no secrets file", 0},
	{"mixed chap", "[vlun]\nversion = 1\nsecrets = s.conf\n[target]\niqn = iqn.2026-11.org.example:t\n[blade a]\ntpg = 1\nportals = 127.0.0.1\n"
	 POOL "[host h]\niqn = iqn.1993-08.org.debian:01:h\nchap = one-way\n[host g]\niqn = iqn.1993-08.org.debian:01:g\n",
	 "some hosts use CHAP and others do not", 0},
	{"duplicate initiator", HEAD POOL HOST "[host g]\niqn = iqn.1993-08.org.debian:01:h\n", "is already host h's", 15},
	{"demo mode with hosts", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\ndemo_mode = yes\n"
	 "[blade a]\ntpg = 1\nportals = 127.0.0.1:3260\n" POOL HOST EXPORT, "demo_mode = yes gives every initiator", 16},
	{"bad boolean", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\ndemo_mode = maybe\n", "not yes or no", 5},
	{"nopin out of range", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\nnopin_timeout = 1\n", "from 3 to 60", 5},
	{"max_transfer_kb not a power of two", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\nmax_transfer_kb = 1000\n", "not a power of two", 5},
	{"max_transfer_kb out of range", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\nmax_transfer_kb = 32\n", "from 64 to 8192", 5},
	{"nonowner_state unknown", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\nnonowner_state = optimized\n", "is not standby or nonoptimized", 5},
	{"no blade", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\n", "no [blade NAME] section", 0},
	{"empty list", HEAD "[pool p]\nmembers = ,\n", "empty list", 9},
	{"comment after a section header", HEAD "[pool p] ; disks\nmembers = /dev/null\n", "text after ']'", 8},
	{"spaces inside a section header", "[vlun]\nversion = 1\n[target]\niqn = iqn.2026-11.org.example:t\n"
	 "[blade    a]\ntpg = 1\nportals = 127.0.0.1\n" POOL, NULL, 0},
	{"member in two pools", HEAD POOL "[pool q]\nmembers = /dev/null\n", "also a member of pool p", 13},
	/* shared pools (format 1 additions) */
	{"shared pool", SHEAD BLADE_B SPOOL HOST EXPORT, NULL, 0},
	{"shared pool with its geometry", SHEAD BLADE_B "[pool p]\nmembers = /dev/null\nshared = yes\n"
	 "lease_io_timeout = 20\nmax_blades = 2\nmax_volumes = 1\n[volume v]\npool = p\nsize = 1G\n", NULL, 0},
	{"host_id without a shared pool", SHEAD POOL, NULL, 0},
	{"shared = no", HEAD "[pool p]\nmembers = /dev/null\nshared = no\n", NULL, 0},
	{"host_id out of range", HEAD "host_id = 2001\n", "host_id: '2001' is not a whole number from 1 to 2000", 8},
	{"host_id zero", HEAD "host_id = 0\n", "from 1 to 2000", 8},
	{"duplicate host_id", SHEAD "[blade b]\ntpg = 2\nportals = 127.0.0.2\nhost_id = 1\n",
	 "[blade b] host_id: 1 is already blade a's (line 8); give every blade a host id of its own", 12},
	{"shared pool, blade without host_id", HEAD SPOOL,
	 "[blade a]: missing host_id: pool p is shared (line 10), so every blade needs its sanlock "
	 "host id; add host_id = N", 5},
	{"shared pool, second blade without host_id", SHEAD "[blade b]\ntpg = 2\nportals = 127.0.0.2\n" SPOOL,
	 "[blade b]: missing host_id", 9},
	{"bad shared", HEAD "[pool p]\nmembers = /dev/null\nshared = perhaps\n", "shared: 'perhaps' is not yes or no", 10},
	{"lease_io_timeout without shared", HEAD "[pool p]\nmembers = /dev/null\nlease_io_timeout = 10\n",
	 "[pool p] lease_io_timeout: only a shared pool has it; set shared = yes", 10},
	{"max_blades with shared = no", HEAD "[pool p]\nmembers = /dev/null\nshared = no\nmax_blades = 8\n",
	 "[pool p] max_blades: only a shared pool has it", 11},
	{"max_volumes without shared", HEAD "[pool p]\nmembers = /dev/null\nmax_volumes = 8\n",
	 "[pool p] max_volumes: only a shared pool has it; set shared = yes (a pool served by several "
	 "blades) or remove max_volumes", 10},
	{"lease_io_timeout out of range", SHEAD "[pool p]\nmembers = /dev/null\nshared = yes\nlease_io_timeout = 301\n",
	 "lease_io_timeout: '301' is not a whole number from 1 to 300", 12},
	{"lease_io_timeout zero", SHEAD "[pool p]\nmembers = /dev/null\nshared = yes\nlease_io_timeout = 0\n",
	 "from 1 to 300", 12},
	{"max_blades out of range", SHEAD "[pool p]\nmembers = /dev/null\nshared = yes\nmax_blades = 2001\n",
	 "max_blades: '2001' is not a whole number from 1 to 2000", 12},
	{"max_volumes out of range", SHEAD "[pool p]\nmembers = /dev/null\nshared = yes\nmax_volumes = 0\n",
	 "max_volumes: '0' is not a whole number from 1 to 65536", 12},
	{"max_blades below a host_id", SHEAD BLADE_B "[pool p]\nmembers = /dev/null\nshared = yes\nmax_blades = 1\n",
	 "[pool p] max_blades: 1 is less than blade b's host_id 2 (line 12); set max_blades = 2 or more", 16},
	{"default max_blades below a host_id", HEAD "host_id = 100\n" SPOOL,
	 "[pool p]: blade a's host_id 100 (line 8) is more than the default max_blades (64); add "
	 "max_blades = 100 or more", 9},
	{"max_volumes below the volumes", SHEAD "[pool p]\nmembers = /dev/null\nshared = yes\nmax_volumes = 1\n"
	 "[volume v]\npool = p\nsize = 1G\n[volume w]\npool = p\nsize = 1G\n",
	 "[pool p] max_volumes: 1 volume slot(s), but the file puts 2 volumes in pool p; set max_volumes = 2 or more", 12},
};

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
	chmod(path, mode);
}

static void run(const struct tcase *t)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/vlun.conf", dir);
	write_file(path, t->text, 0644);
	struct tconf c;
	struct tconf_errs e = {0};
	int r = tconf_parse(path, &c, &e);
	bool ok = true;
	if (!t->want) {
		ok = r == 0 && e.count == 0;
	} else {
		char loc[300];
		if (t->line > 0)
			snprintf(loc, sizeof(loc), "%s:%d: ", path, t->line);
		else
			snprintf(loc, sizeof(loc), "%s: ", path);
		ok = r != 0 && e.count > 0 && strstr(e.buf, t->want) &&
		     (t->line < 0 || strstr(e.buf, loc));
	}
	if (!ok) {
		printf("FAIL %s: r=%d, errors (%u):\n%s", t->name, r, e.count, e.buf);
		failures++;
	} else {
		printf("ok   %s%s%s", t->name, t->want ? ": " : "\n", t->want ? e.buf : "");
	}
	if (r == 0)
		tconf_free(&c);
}

static void long_line(void)
{
	char path[256], *text = malloc(4096);
	snprintf(path, sizeof(path), "%s/vlun.conf", dir);
	int n = snprintf(text, 4096, HEAD "[pool p]\nmembers =");
	while (n < 3000)
		n += snprintf(text + n, (size_t)(4096 - n), " /dev/disk/by-id/a-rather-long-device-name");
	snprintf(text + n, (size_t)(4096 - n), "\n");
	write_file(path, text, 0644);
	free(text);
	struct tconf c;
	struct tconf_errs e = {0};
	int r = tconf_parse(path, &c, &e);
	bool ok = r && strstr(e.buf, ":9: line longer than 1000 characters");
	printf("%s long line\n", ok ? "ok  " : "FAIL");
	if (!ok) {
		printf("%s", e.buf);
		failures++;
	}
}

/* more volumes than a shared pool's default 64 slots */
static void many_volumes(void)
{
	char path[256], *text = malloc(1 << 16);
	snprintf(path, sizeof(path), "%s/vlun.conf", dir);
	int n = snprintf(text, 1 << 16, SHEAD "[pool p]\nmembers = /dev/null\nshared = yes\n");
	for (int i = 0; i < 65; i++)
		n += snprintf(text + n, (size_t)((1 << 16) - n), "[volume v%d]\npool = p\nsize = 1G\n", i);
	write_file(path, text, 0644);
	free(text);
	struct tconf c;
	struct tconf_errs e = {0};
	int r = tconf_parse(path, &c, &e);
	bool ok = r && e.count == 1 &&
		  strstr(e.buf, ":9: [pool p]: the file puts 65 volumes in it, more than the default "
				"max_volumes (64 slots); add max_volumes = 65 or more");
	printf("%s more volumes than the default slots of a shared pool\n", ok ? "ok  " : "FAIL");
	if (!ok) {
		printf("%s", e.buf);
		failures++;
	}
	if (!r)
		tconf_free(&c);
}

/* vm: the export's own name by default; exports naming one VM are found together */
static void vm_cases(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/vlun.conf", dir);
	write_file(path, HEAD POOL HOST EXPORT "[volume w]\npool = p\nsize = 1G\n[volume x]\npool = p\n"
		   "size = 1G\n[export f]\nvolume = w\nlun = 1\nhosts = h\nvm = guest\n"
		   "[export g]\nvolume = x\nlun = 2\nhosts = h\nvm = guest\n", 0644);
	struct tconf c;
	struct tconf_errs e = {0};
	int r = tconf_parse(path, &c, &e);
	const struct tconf_export *out[4] = {0};
	bool ok = r == 0 && c.nr_exports == 3 && !strcmp(c.exports[0].vm, "e") &&
		  !strcmp(c.exports[1].vm, "guest") && !strcmp(c.exports[2].vm, "guest");
	ok = ok && tconf_vm_exports(&c, "guest", out, 4) == 2 && out[0] == &c.exports[1] &&
	     out[1] == &c.exports[2] && !out[2];
	ok = ok && tconf_vm_exports(&c, "guest", out, 1) == 2 && tconf_vm_exports(&c, "e", NULL, 0) == 1 &&
	     tconf_vm_exports(&c, "E", out, 4) == 0 && tconf_vm_exports(&c, "f", out, 4) == 0;
	printf("%s vm: default the export's name, two exports of one VM found together\n",
	       ok ? "ok  " : "FAIL");
	if (!ok) {
		printf("r=%d %s", r, e.buf);
		failures++;
	}
	if (!r)
		tconf_free(&c);
}

static void secrets_cases(void)
{
	char conf[256], sec[256];
	snprintf(conf, sizeof(conf), "%s/vlun.conf", dir);
	snprintf(sec, sizeof(sec), "%s/s.conf", dir);
	write_file(conf, "[vlun]\nversion = 1\nsecrets = s.conf\n" "[target]\niqn = iqn.2026-11.org.example:t\n"
		   "[blade a]\ntpg = 1\nportals = 127.0.0.1\n" POOL
		   "[host h]\niqn = iqn.1993-08.org.debian:01:h\nchap = mutual\n" EXPORT, 0644);
	struct {
		const char *name, *text;
		mode_t mode;
		const char *want;
	} s[] = {
		{"secrets valid", "[host h]\nuserid = u\npassword = 0123456789ab\nmutual_userid = t\n"
		 "mutual_password = ba9876543210\n", 0600, NULL},
		{"secrets world-readable", "[host h]\nuserid = u\npassword = 0123456789ab\n", 0644, "chmod 600"},
		{"secrets missing password", "[host h]\nuserid = u\n", 0600, "missing password"},
		{"secrets short password", "[host h]\nuserid = u\npassword = short\nmutual_userid = t\n"
		 "mutual_password = ba9876543210\n", 0600, "12-255 characters"},
		{"secrets mutual missing", "[host h]\nuserid = u\npassword = 0123456789ab\n", 0600, "missing mutual_userid"},
		{"secrets same mutual", "[host h]\nuserid = u\npassword = 0123456789ab\nmutual_userid = t\n"
		 "mutual_password = 0123456789ab\n", 0600, "must differ"},
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		write_file(sec, s[i].text, s[i].mode);
		struct tconf c;
		struct tconf_errs e = {0};
		int r = tconf_parse(conf, &c, &e);
		bool ok = s[i].want ? r && strstr(e.buf, s[i].want) : r == 0;
		if (!s[i].want && ok)
			ok = !strcmp(c.hosts[0].password, "0123456789ab") && !strcmp(c.hosts[0].mutual_userid, "t");
		printf("%s %s\n", ok ? "ok  " : "FAIL", s[i].name);
		if (!ok) {
			printf("%s", e.buf);
			failures++;
		}
		if (r == 0)
			tconf_free(&c);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run(&cases[i]);
	secrets_cases();
	vm_cases();
	long_line();
	many_volumes();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) {
	}
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
