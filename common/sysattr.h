/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading one sysfs/configfs attribute (layer 0). */
#ifndef VLUN_SYSATTR_H
#define VLUN_SYSATTR_H

#include <stddef.h>

/* The attribute at path into buf (n > 0 bytes, NUL-terminated, trailing newlines and
 * spaces removed); 0 or -errno. */
int sysattr_read(const char *path, char *buf, size_t n);

#endif
