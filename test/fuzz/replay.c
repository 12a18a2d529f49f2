/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Without libFuzzer: run a fuzz target over files given on the command line,
 * then over N pseudo-random inputs (argument "-random=N"), so every build
 * exercises the target under CTest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	long random = 0, files = 0;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "-random=", 8) == 0) {
			random = atol(argv[i] + 8);
			continue;
		}
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		static uint8_t buf[1 << 16];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		files++;
	}
	uint64_t s = 0x2545f4914f6cdd1dull;
	for (long i = 0; i < random; i++) {
		uint8_t buf[512];
		size_t n = 0;
		/* records aimed at the first 40 blocks (superblocks, volume table) or anywhere */
		while (n + 12 < sizeof(buf)) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			buf[n++] = (uint8_t)s;
			uint16_t b = (s >> 8) & 1 ? (uint16_t)((s >> 16) % 40) : (uint16_t)(s >> 16);
			buf[n++] = (uint8_t)b;
			buf[n++] = (uint8_t)(b >> 8);
			buf[n++] = (uint8_t)(s >> 24);
			buf[n++] = (uint8_t)((s >> 32) & 0x0f);
			uint8_t len = (uint8_t)(1 + (s >> 40) % 8);
			buf[n++] = len;
			buf[n++] = (uint8_t)(s >> 48);
			for (int k = 0; k < len && n < sizeof(buf); k++)
				buf[n++] = (uint8_t)(s >> (k * 7));
			if ((s >> 60) < 4)
				break;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("replayed %ld file(s) and %ld random input(s)\n", files, random);
	return 0;
}
