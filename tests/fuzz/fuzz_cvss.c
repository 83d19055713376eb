/*
 * libFuzzer target for src/risk/cvss.c: parse any bytes as a CVSS vector.
 *
 * Checked properties: the parser answers 0 or PL_EINVAL and nothing else;
 * an error has a message that quotes the vector ("CVSS vector '"); a
 * parsed vector has scores in 0..100, a temporal score not above the base
 * score, and its canonical form parses again to the same values and scores
 * (the canonical form is a fixed point). A failure aborts, so the fuzzer
 * records the input.
 *
 * Build:  cmake -DCMAKE_C_COMPILER=clang builds the libFuzzer target fuzz_cvss.
 * Replay: the fuzz_cvss_replay target runs each file named on its command
 *         line once (ctest runs the corpus in tests/fuzz/corpus/cvss).
 */
#include <stdint.h>

#include "risk/risk.h"

#define FUZZ_NAME "fuzz_cvss"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_err err = PL_ERR_INIT;
	struct risk_cvss c, again;
	char canon[RISK_CVSS_MAX_LEN];
	size_t n;
	int rc = risk_cvss_parse((const char *)data, size, &c, &err);

	FUZZ_CHECK(rc == 0 || rc == PL_EINVAL);
	if (rc < 0) {
		FUZZ_CHECK(err.code == PL_EINVAL);
		FUZZ_CHECK(strncmp(err.msg, "CVSS vector '", 13) == 0);
		return 0;
	}
	FUZZ_CHECK(c.base >= 0 && c.base <= 100);
	FUZZ_CHECK(c.temporal >= 0 && c.temporal <= c.base);
	FUZZ_CHECK(c.environmental >= 0 && c.environmental <= 100);
	n = risk_cvss_vector(&c, canon);
	FUZZ_CHECK(n == strlen(canon) && n <= size);
	FUZZ_CHECK(risk_cvss_parse(canon, n, &again, &err) == 0);
	FUZZ_CHECK(again.base == c.base && again.temporal == c.temporal &&
	           again.environmental == c.environmental && again.minor == c.minor);
	FUZZ_CHECK(memcmp(again.value, c.value, sizeof(c.value)) == 0);
	return 0;
}
