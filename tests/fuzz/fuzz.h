/*
 * fuzz.h - what every fuzz target shares: the property check and the
 * replay program.
 *
 * A target defines FUZZ_NAME ("fuzz_version") before including this file
 * and implements LLVMFuzzerTestOneInput. Built with -DPL_FUZZ_REPLAY it gets
 * a main() that feeds each file named on the command line to the target
 * once, so ctest replays the corpus with any compiler; built with clang and
 * -fsanitize=fuzzer, libFuzzer provides main(). Plain C and stdio only: the
 * version target builds without the patchlab library.
 */
#ifndef PL_FUZZ_H
#define PL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (not assert) so the checks survive -DNDEBUG builds and the fuzzer
 * records the input. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, FUZZ_NAME ": property failed: %s (line %d)\n", #cond,      \
			        __LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#ifdef PL_FUZZ_REPLAY
/* A whole file in a malloc'd buffer (one byte more, so never malloc(0));
 * NULL on any error. */
static uint8_t *fuzz_read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(fp);
	return buf;
}

/* Feeds each file named on the command line to the target once. */
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t size = 0;
		uint8_t *buf = fuzz_read_file(argv[i], &size);

		if (!buf) {
			fprintf(stderr, FUZZ_NAME ": cannot read %s\n", argv[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput(buf, size);
		free(buf);
	}
	printf(FUZZ_NAME ": replayed %d input(s)\n", argc - 1);
	return 0;
}
#endif

#endif
