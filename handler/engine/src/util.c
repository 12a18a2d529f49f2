/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vlun/engine.h"

int vl_parse_size(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -EINVAL;
	const char *p = s;
	uint64_t ip = 0, frac_num = 0, frac_den = 1;
	bool digits = false;
	while (isdigit((unsigned char)*p)) {
		if (__builtin_mul_overflow(ip, 10, &ip) ||
		    __builtin_add_overflow(ip, (uint64_t)(*p - '0'), &ip))
			return -ERANGE;
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (frac_den < 1000000000ull) {
				frac_num = frac_num * 10 + (uint64_t)(*p - '0');
				frac_den *= 10;
			}
			p++;
			digits = true;
		}
	}
	if (!digits)
		return -EINVAL;
	unsigned shift = 0;
	switch (toupper((unsigned char)*p)) {
	case '\0': break;
	case 'B': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case 'P': shift = 50; break;
	case 'E': shift = 60; break;
	default: return -EINVAL;
	}
	if (*p) {
		p++;
		if (shift && (strcasecmp(p, "iB") == 0 || strcasecmp(p, "B") == 0))
			p += strlen(p);
		if (*p)
			return -EINVAL;
	}
	uint64_t v;
	if (shift && ip > (UINT64_MAX >> shift))
		return -ERANGE;
	v = ip << shift;
	if (frac_num) {
		if (!shift)
			return -EINVAL; /* fractional bytes */
		uint64_t f = (uint64_t)(((unsigned __int128)frac_num << shift) / frac_den);
		if (__builtin_add_overflow(v, f, &v))
			return -ERANGE;
	}
	*out = v;
	return 0;
}

void vl_format_size(uint64_t b, char *buf, size_t len)
{
	static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	int i = 0;
	double v = (double)b;
	while (v >= 1024.0 && i < 6) {
		v /= 1024.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else if (v == floor(v))
		snprintf(buf, len, "%.0f %s", v, u[i]);
	else
		snprintf(buf, len, "%.1f %s", v, u[i]);
}

bool vl_name_valid(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > VL_NAME_MAX || n[0] == '.' || n[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)n[i];
		if (!(isalnum(c) || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

void vl_uuid_unparse(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
		 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

const char *vl_layout_name(enum vl_layout l)
{
	return l == VL_LAYOUT_STRIPED ? "striped" : "concat";
}

int vl_parse_layout(const char *s, enum vl_layout *out)
{
	if (strcmp(s, "striped") == 0)
		*out = VL_LAYOUT_STRIPED;
	else if (strcmp(s, "concat") == 0)
		*out = VL_LAYOUT_CONCAT;
	else
		return -EINVAL;
	return 0;
}
