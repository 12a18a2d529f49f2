/* Kernel uevents as vlun-hostd reads them (docs/hypervisor.md): "ACTION@DEVPATH" and then
 * NUL-separated KEY=VALUE pairs, in one netlink datagram without a netlink header.  The
 * parser takes untrusted bytes (fuzzed: test/fuzz/fuzz-uevent.c). */
#ifndef VLUN_UEVENT_H
#define VLUN_UEVENT_H

#include <stdbool.h>
#include <stddef.h>

#define UEVENT_MAX 8192	 /* the kernel's UEVENT_BUFFER_SIZE is 2048 */
#define UEVENT_HCTL_MAX 48

struct uevent {
	const char *action, *devpath, *subsystem, *devtype, *sdev_ua;
};

/* Parse buf[0..len) in place (the pairs point into buf; buf needs one byte more than len,
 * for a final NUL).  0, or -EINVAL for anything that is not a well-formed uevent. */
int uevent_parse(char *buf, size_t len, struct uevent *ev);

/* Is it the event scsi_evt_emit sends for UA 2A/06 on a SCSI device ("change" on a
 * scsi_device with SDEV_UA=ASYMMETRIC_ACCESS_STATE_CHANGED)?  Then its H:C:T:L (the last
 * element of the device path, checked: four decimal numbers) is copied to hctl. */
bool uevent_alua_change(const struct uevent *ev, char hctl[UEVENT_HCTL_MAX]);

#endif
