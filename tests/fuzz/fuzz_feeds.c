/*
 * libFuzzer target for the feed parsers of src/detect: the first byte of
 * the input picks one (0 zip archive, 1 EPSS CSV, 2 tracker JSON, 3 OSV
 * JSON, 4 KEV JSON, the byte modulo 5), the rest is its input.
 *
 * Checked properties: a parser answers 0 or PL_EINVAL (a zip bounded to 1
 * MiB uncompressed), an error message starts with the file's name, every
 * zip entry handed out is NUL-terminated and its name non-empty. ASan and
 * UBSan do the rest: every offset of a zip is attacker-chosen.
 *
 * Build:  cmake -DCMAKE_C_COMPILER=clang (target fuzz_feeds).
 * Replay: the fuzz_feeds_replay target (ctest runs tests/fuzz/corpus/feeds).
 */
#include <stdint.h>

#include "detect/detect.h"

#define FUZZ_NAME "fuzz_feeds"
#include "fuzz.h"

static int entry(void *ctx, const char *name, const char *data, size_t len, struct pl_err *err)
{
	(void)ctx;
	(void)err;
	FUZZ_CHECK(name[0] != '\0');
	FUZZ_CHECK(data[len] == '\0');
	return 0;
}

static int json_kind(int which, const char *text, size_t len, struct pl_err *err)
{
	struct detect_sink sink = {0};
	json_t *doc = NULL;
	int rc = detect_json_parse(text, len, "f", &doc, err);

	if (rc < 0)
		return rc;
	sink.info = json_object();
	if (which == 2)
		rc = detect_tracker_parse(doc, "f", NULL, &sink, err);
	else if (which == 3)
		rc = detect_osv_parse(doc, "f", &sink, err);
	else
		rc = detect_kev_parse(doc, "f", &sink, err);
	json_decref(sink.info);
	json_decref(doc);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_err err = PL_ERR_INIT;
	struct detect_sink sink = {0};
	const char *text = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	int which, rc;

	if (size == 0 || size > (1 << 20))
		return 0;
	which = data[0] % 5;
	if (which == 0)
		rc = detect_zip_each(text, len, "f", (uint64_t)1 << 20, entry, NULL, &err);
	else if (which == 1)
		rc = detect_epss_parse(text, len, "f", &sink, &err);
	else
		rc = json_kind(which, text, len, &err);
	FUZZ_CHECK(rc == 0 || rc == PL_EINVAL);
	if (rc < 0)
		FUZZ_CHECK(err.msg[0] == 'f' && (err.msg[1] == ':' || err.msg[1] == '\0'));
	return 0;
}
