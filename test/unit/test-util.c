/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Size parsing, names, formatting: an error exactly when the input is invalid. */
#include "tutil.h"

static void sizes_parse_exactly_when_valid(void)
{
	struct {
		const char *in;
		int rc;
		uint64_t val;
	} t[] = {
		{"0", 0, 0},
		{"4096", 0, 4096},
		{"10G", 0, 10ull << 30},
		{"10g", 0, 10ull << 30},
		{"512M", 0, 512ull << 20},
		{"512MiB", 0, 512ull << 20},
		{"512MB", 0, 512ull << 20},
		{"1T", 0, 1ull << 40},
		{"1.5G", 0, 3ull << 29},
		{"64K", 0, 65536},
		{"2P", 0, 2ull << 50},
		{"7B", 0, 7},
		{"", -EINVAL, 0},
		{"G", -EINVAL, 0},
		{"-1", -EINVAL, 0},
		{"10X", -EINVAL, 0},
		{"10GG", -EINVAL, 0},
		{"10 G", -EINVAL, 0},
		{"1.5", -EINVAL, 0},
		{"0x10", -EINVAL, 0},
		{"16E", -ERANGE, 0},
		{"99999999999999999999", -ERANGE, 0},
		{"18446744073709551615", 0, UINT64_MAX},
		{"18446744073709551616", -ERANGE, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 12345;
		int r = vl_parse_size(t[i].in, &v);
		if (r != t[i].rc || (r == 0 && v != t[i].val)) {
			fprintf(stderr, "parse_size('%s') = %d/%" PRIu64 ", want %d/%" PRIu64 "\n",
				t[i].in, r, v, t[i].rc, t[i].val);
			abort();
		}
		if (r)
			CHECK(v == 12345); /* untouched on error */
	}
}

static void names_are_valid_exactly_when_safe(void)
{
	const char *good[] = {"a", "pool0", "vm-1", "vm_2", "a.b", "A9"};
	const char *bad[] = {"", ".hidden", "-opt", "a/b", "a b", "a:b", "a\n", "ä",
			     "0123456789012345678901234567890123456789012345678901234567890123"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(vl_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!vl_name_valid(bad[i]));
	char max[64];
	memset(max, 'x', 63);
	max[63] = 0;
	CHECK(vl_name_valid(max));
}

static void sizes_format_for_humans(void)
{
	char b[32];
	vl_format_size(0, b, sizeof(b));
	CHECK(strcmp(b, "0 B") == 0);
	vl_format_size(10ull << 30, b, sizeof(b));
	CHECK(strcmp(b, "10 GiB") == 0);
	vl_format_size(3ull << 29, b, sizeof(b));
	CHECK(strcmp(b, "1.5 GiB") == 0);
	enum vl_layout l;
	CHECK_OK(vl_parse_layout("striped", &l));
	CHECK(l == VL_LAYOUT_STRIPED);
	CHECK(vl_parse_layout("raid5", &l) == -EINVAL);
}

int main(void)
{
	sizes_parse_exactly_when_valid();
	names_are_valid_exactly_when_safe();
	sizes_format_for_humans();
	printf("util: all checks passed\n");
	return 0;
}
