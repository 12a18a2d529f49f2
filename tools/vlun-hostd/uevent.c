#include "uevent.h"

#include <errno.h>
#include <string.h>

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

int uevent_parse(char *buf, size_t len, struct uevent *ev)
{
	*ev = (struct uevent){0};
	if (!len || len > UEVENT_MAX)
		return -EINVAL;
	buf[len] = 0;
	/* the header: ACTION@DEVPATH (libudev's own messages start "libudev": not ours) */
	char *at = strchr(buf, '@');
	if (!at || at == buf || at[1] != '/' || !printable(buf))
		return -EINVAL;
	*at = 0;
	ev->action = buf;
	ev->devpath = at + 1;
	const char *action = NULL, *devpath = NULL;
	for (char *p = at + 1 + strlen(at + 1) + 1; p < buf + len; p += strlen(p) + 1) {
		if (!*p)
			continue;
		char *eq = strchr(p, '=');
		if (!eq || eq == p || !printable(p))
			return -EINVAL;
		*eq = 0; /* p is the key while the value is looked at */
		const char *k = p, *v = eq + 1;
		if (!strcmp(k, "ACTION"))
			action = v;
		else if (!strcmp(k, "DEVPATH"))
			devpath = v;
		else if (!strcmp(k, "SUBSYSTEM"))
			ev->subsystem = v;
		else if (!strcmp(k, "DEVTYPE"))
			ev->devtype = v;
		else if (!strcmp(k, "SDEV_UA"))
			ev->sdev_ua = v;
		*eq = '=';
		p = eq; /* the loop's step then skips the value */
	}
	/* the pairs must agree with the header */
	if (!action || !devpath || strcmp(action, ev->action) || strcmp(devpath, ev->devpath))
		return -EINVAL;
	return 0;
}

bool uevent_alua_change(const struct uevent *ev, char hctl[UEVENT_HCTL_MAX])
{
	if (!ev->action || strcmp(ev->action, "change") || !ev->subsystem ||
	    strcmp(ev->subsystem, "scsi") || !ev->devtype || strcmp(ev->devtype, "scsi_device") ||
	    !ev->sdev_ua || strcmp(ev->sdev_ua, "ASYMMETRIC_ACCESS_STATE_CHANGED"))
		return false;
	const char *last = strrchr(ev->devpath, '/');
	last = last ? last + 1 : ev->devpath;
	size_t n = strlen(last);
	if (n == 0 || n >= UEVENT_HCTL_MAX)
		return false;
	unsigned colons = 0;
	bool digit = false;
	for (const char *c = last; *c; c++) {
		if (*c == ':') {
			if (!digit)
				return false;
			colons++;
			digit = false;
		} else if (*c >= '0' && *c <= '9') {
			digit = true;
		} else {
			return false;
		}
	}
	if (colons != 3 || !digit)
		return false;
	memcpy(hctl, last, n + 1);
	return true;
}
