/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vlun-hostd's parsers: kernel uevents (the ALUA change event and what is not one) and
 * multipathd's "show map NAME json" answer (the shape multipathd 0.9.4 prints). */
#include "mpmap.h"
#include "tutil.h"
#include "uevent.h"

#define DEVPATH "/devices/platform/host2/session1/target2:0:0/2:0:0:5"

/* a uevent as the kernel sends it: NUL-separated, into buf; returns its length */
static size_t mk(char *buf, const char *const *parts)
{
	size_t n = 0;
	for (; *parts; parts++) {
		size_t k = strlen(*parts) + 1;
		memcpy(buf + n, *parts, k);
		n += k;
	}
	return n;
}

static void test_uevent(void)
{
	char buf[UEVENT_MAX + 1], hctl[UEVENT_HCTL_MAX];
	struct uevent ev;
	const char *good[] = {"change@" DEVPATH, "ACTION=change", "DEVPATH=" DEVPATH,
			      "SUBSYSTEM=scsi", "DEVTYPE=scsi_device",
			      "SDEV_UA=ASYMMETRIC_ACCESS_STATE_CHANGED", "SEQNUM=4242", NULL};
	size_t n = mk(buf, good);
	CHECK(uevent_parse(buf, n, &ev) == 0);
	CHECK(!strcmp(ev.action, "change") && !strcmp(ev.devpath, DEVPATH));
	CHECK(!strcmp(ev.subsystem, "scsi") && !strcmp(ev.devtype, "scsi_device"));
	CHECK(uevent_alua_change(&ev, hctl) && !strcmp(hctl, "2:0:0:5"));

	/* other UAs, other devices, other actions: parsed, not an ALUA change */
	const char *cap[] = {"change@" DEVPATH, "ACTION=change", "DEVPATH=" DEVPATH,
			     "SUBSYSTEM=scsi", "DEVTYPE=scsi_device",
			     "SDEV_UA=CAPACITY_DATA_HAS_CHANGED", NULL};
	n = mk(buf, cap);
	CHECK(uevent_parse(buf, n, &ev) == 0 && !uevent_alua_change(&ev, hctl));
	const char *blk[] = {"change@/devices/virtual/block/dm-0", "ACTION=change",
			     "DEVPATH=/devices/virtual/block/dm-0", "SUBSYSTEM=block",
			     "DEVTYPE=disk", NULL};
	n = mk(buf, blk);
	CHECK(uevent_parse(buf, n, &ev) == 0 && !uevent_alua_change(&ev, hctl));
	const char *add[] = {"add@" DEVPATH, "ACTION=add", "DEVPATH=" DEVPATH, "SUBSYSTEM=scsi",
			     "DEVTYPE=scsi_device", "SDEV_UA=ASYMMETRIC_ACCESS_STATE_CHANGED", NULL};
	n = mk(buf, add);
	CHECK(uevent_parse(buf, n, &ev) == 0 && !uevent_alua_change(&ev, hctl));
	/* a device path that does not end in H:C:T:L */
	const char *bad_hctl[] = {"change@/devices/x/2:0:0", "ACTION=change", "DEVPATH=/devices/x/2:0:0",
				  "SUBSYSTEM=scsi", "DEVTYPE=scsi_device",
				  "SDEV_UA=ASYMMETRIC_ACCESS_STATE_CHANGED", NULL};
	n = mk(buf, bad_hctl);
	CHECK(uevent_parse(buf, n, &ev) == 0 && !uevent_alua_change(&ev, hctl));
	const char *bad_hctl2[] = {"change@/devices/x/2:0::5", "ACTION=change", "DEVPATH=/devices/x/2:0::5",
				   "SUBSYSTEM=scsi", "DEVTYPE=scsi_device",
				   "SDEV_UA=ASYMMETRIC_ACCESS_STATE_CHANGED", NULL};
	n = mk(buf, bad_hctl2);
	CHECK(uevent_parse(buf, n, &ev) == 0 && !uevent_alua_change(&ev, hctl));

	/* not uevents at all: refused */
	CHECK(uevent_parse(buf, 0, &ev) == -EINVAL);
	memcpy(buf, "libudev\0\xfe\xed\xca\xfe", 12); /* udev's own messages */
	CHECK(uevent_parse(buf, 12, &ev) == -EINVAL);
	const char *nokv[] = {"change@" DEVPATH, "ACTION=change", "DEVPATH=" DEVPATH, "garbage", NULL};
	n = mk(buf, nokv);
	CHECK(uevent_parse(buf, n, &ev) == -EINVAL);
	/* the pairs contradict the header (a forged header over another event's pairs) */
	const char *contra[] = {"change@" DEVPATH, "ACTION=add", "DEVPATH=" DEVPATH, NULL};
	n = mk(buf, contra);
	CHECK(uevent_parse(buf, n, &ev) == -EINVAL);
	const char *nodev[] = {"change@" DEVPATH, "ACTION=change", NULL};
	n = mk(buf, nodev);
	CHECK(uevent_parse(buf, n, &ev) == -EINVAL);
	const char *ctl[] = {"change@" DEVPATH, "ACTION=change", "DEVPATH=" DEVPATH, "X=a\tb", NULL};
	n = mk(buf, ctl);
	CHECK(uevent_parse(buf, n, &ev) == -EINVAL);
	/* without a final NUL (the parser terminates it) */
	n = mk(buf, good) - 1;
	CHECK(uevent_parse(buf, n, &ev) == 0 && uevent_alua_change(&ev, hctl));
	CHECK(uevent_parse(buf, UEVENT_MAX + 1, &ev) == -EINVAL);
}

static const char map_json[] =
	"{\n   \"major_version\": 0,\n   \"minor_version\": 1,\n   \"map\":{\n"
	"      \"name\" : \"mpatha\",\n      \"uuid\" : \"36001405abcdef\",\n"
	"      \"sysfs\" : \"dm-0\",\n      \"vend\" : \"LIO-ORG\",\n      \"prod\" : \"USER\",\n"
	"      \"path_groups\": [{\n         \"selector\" : \"service-time 0\",\n"
	"         \"pri\" : 50,\n         \"dm_st\" : \"enabled\",\n         \"group\" : 1,\n"
	"         \"paths\": [{\n            \"dev\" : \"sdb\",\n            \"dev_t\" : \"8:16\",\n"
	"            \"dm_st\" : \"active\",\n            \"chk_st\" : \"ready\"\n         }]\n"
	"      },{\n         \"selector\" : \"service-time 0\",\n         \"pri\" : 1,\n"
	"         \"dm_st\" : \"active\",\n         \"group\" : 2,\n         \"paths\": [{\n"
	"            \"dev\" : \"sdc\",\n            \"dm_st\" : \"active\"\n         },{\n"
	"            \"dev\" : \"sdd\",\n            \"dm_st\" : \"failed\"\n         }]\n"
	"      }]\n   }\n}\n";

static int parse(const char *s, struct mpmap *m)
{
	char err[200] = "";
	int r = mpmap_parse(s, strlen(s), m, err, sizeof(err));
	CHECK(r == 0 || err[0]);
	return r;
}

static void test_mpmap(void)
{
	struct mpmap m;
	CHECK(parse(map_json, &m) == 0);
	CHECK(!strcmp(m.name, "mpatha") && !strcmp(m.vendor, "LIO-ORG"));
	CHECK(m.nr_groups == 2 && m.g[0].number == 1 && m.g[1].number == 2);
	CHECK(!m.g[0].active && m.g[1].active && mpmap_active_group(&m) == 2);
	CHECK(m.g[0].nr_paths == 1 && m.g[1].nr_paths == 2);
	CHECK(mpmap_group_of(&m, "sdb") == 1 && mpmap_group_of(&m, "sdd") == 2);
	CHECK(mpmap_group_of(&m, "sde") == 0);

	/* multipathd's failures and garbage: refused, nothing left behind */
	CHECK(parse("fail\n", &m) == -EINVAL && m.nr_groups == 0 && !m.name[0]);
	CHECK(parse("timeout\n", &m) == -EINVAL);
	CHECK(parse("[]", &m) == -EINVAL);
	CHECK(parse("{\"map\": 1}", &m) == -EINVAL);
	CHECK(parse("{\"map\": {\"name\": \"m\"}}", &m) == -EINVAL);
	CHECK(parse("{\"map\": {\"name\": \"m\", \"path_groups\": []}}", &m) == 0 && m.nr_groups == 0);
	/* groups out of order: switchgroup's numbers would point elsewhere */
	CHECK(parse("{\"map\": {\"name\": \"m\", \"path_groups\": [{\"group\": 2, \"paths\": []}]}}", &m) ==
	      -EINVAL);
	CHECK(parse("{\"map\": {\"name\": \"m\", \"path_groups\": [{\"group\": \"1\", \"paths\": []}]}}",
		    &m) == -EINVAL);
	/* path names that would leave /sys/block */
	CHECK(parse("{\"map\": {\"name\": \"m\", \"path_groups\": [{\"group\": 1, \"paths\": "
		    "[{\"dev\": \"../../etc\"}]}]}}",
		    &m) == -EINVAL);
	CHECK(parse("{\"map\": {\"name\": \"m\", \"path_groups\": [{\"group\": 1, \"paths\": "
		    "[{\"dev\": \"..\"}]}]}}",
		    &m) == -EINVAL);
	CHECK(parse("{\"map\": {\"name\": \"m\", \"path_groups\": [{\"group\": 1, \"paths\": [{}]}]}}",
		    &m) == -EINVAL);
	/* more groups than the agent handles */
	char big[4096] = "{\"map\": {\"name\": \"m\", \"path_groups\": [";
	for (int i = 1; i <= MPMAP_GROUPS + 1; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s{\"group\": %d, \"paths\": []}",
			 i > 1 ? "," : "", i);
	strcat(big, "]}}");
	CHECK(parse(big, &m) == -E2BIG);
	/* a name that would be several words of a multipathd command (blanks, quotes split) */
	CHECK(parse("{\"map\": {\"name\": \"m del\", \"path_groups\": []}}", &m) == -EINVAL);
	/* a name longer than a map name can be */
	char longname[512];
	snprintf(longname, sizeof(longname), "{\"map\": {\"name\": \"%0200d\", \"path_groups\": []}}", 0);
	CHECK(parse(longname, &m) == -EINVAL);
}

int main(void)
{
	test_uevent();
	test_mpmap();
	printf("hostd parsers: ok\n");
	return 0;
}
