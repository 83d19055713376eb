/*
 * version: package version ordering and validation for patchlab.
 *
 * Owns: the exact Debian version order of dpkg 1.21 (parseversion,
 * dpkg_version_compare, verrevcmp) and the exact RPM order of rpm >= 4.15
 * (rpmvercmp with '~' and '^', rpmverCmp for [EPOCH:]VERSION[-RELEASE]),
 * plus parsing/validation of both formats with dpkg's own diagnostics.
 * Does not own: any I/O, allocation, locale, CLI handling or error
 * formatting; callers wrap the static message strings in their own types.
 *
 * Every function takes explicit lengths and never reads past them, so
 * callers can parse slices of a larger buffer without copying. Parsed
 * structures point into the caller's string and live as long as it does.
 * Depends on libc only.
 */
#ifndef PATCHLAB_VERSION_H
#define PATCHLAB_VERSION_H

#include <stddef.h>

/* A parsed Debian version [epoch:]upstream[-revision]; pointers into the input. */
struct version_deb {
	unsigned long epoch;
	const char *upstream;
	size_t upstream_len;
	const char *revision; /* revision_len == 0: no revision */
	size_t revision_len;
};

/* A parsed RPM [EPOCH:]VERSION[-RELEASE]; pointers into the input. */
struct version_rpm {
	unsigned long epoch; /* 0 when !has_epoch */
	int has_epoch;
	const char *version;
	size_t version_len;
	const char *release; /* NULL when there is no release */
	size_t release_len;
};

/* Parse s[0..len) without copying or allocating (pointers point into s).
 * Returns 0 when valid, 1 when dpkg accepts it only leniently with a warning (*msg = dpkg's warning
 * text, e.g. "version number does not start with digit", "invalid character in version number",
 * "invalid character in revision number"), -1 when dpkg rejects it (*msg = dpkg's error text:
 * "version string is empty", "version string has embedded spaces", "epoch in version is empty",
 * "epoch in version is not number", "epoch in version is negative", "epoch in version is too big",
 * "nothing after colon in version number", "revision number is empty", "version number is empty").
 * On 0 *msg is NULL; on -1 *out is zeroed; msg may be NULL. Blanks (space, tab) are trimmed as dpkg
 * does. */
int version_deb_parse(const char *s, size_t len, struct version_deb *out, const char **msg);

/* Order two parsed Debian versions exactly as dpkg_version_compare does
 * (epoch, then verrevcmp of upstream, then of revision). Returns -1, 0 or 1. */
int version_deb_cmp(const struct version_deb *a, const struct version_deb *b);

/* dpkg's verrevcmp on one upstream or revision part: '~' before everything,
 * letters before other characters, digit runs numerically. Returns -1, 0 or 1. */
int version_deb_verrevcmp(const char *a, size_t alen, const char *b, size_t blen);

/* [EPOCH:]VERSION[-RELEASE]; release after the last '-'. 0 valid, -1 invalid with *msg.
 * Valid chars in version/release: alnum . _ + ~ ^ ; empty version or release invalid;
 * epoch: 1+ digits up to 4294967295 (rpm stores it as uint32). No trimming. msg may be NULL. */
int version_rpm_parse(const char *s, size_t len, struct version_rpm *out, const char **msg);

/* rpmverCmp order: epoch (missing = 0), rpmvercmp(version), then rpmvercmp(release);
 * a missing release sorts before any release, two missing are equal (rpm 4.18). -1 0 1. */
int version_rpm_cmp(const struct version_rpm *a, const struct version_rpm *b);

/* rpm's rpmvercmp on one version or release segment, incl. ~ and ^ (rpm >= 4.15).
 * Returns -1, 0 or 1. */
int version_rpmvercmp(const char *a, size_t alen, const char *b, size_t blen);

#endif /* PATCHLAB_VERSION_H */
