/*
 * hostrel.c - which Debian release and architecture a host of the
 * inventory runs: from its os and os_version fields (as an import or
 * discovery wrote them) and its arch field (libguestfs's names or dpkg's).
 */
#include "detect/detect-private.h"

#include <ctype.h>
#include <strings.h>

/* Debian's releases by major version; the codename is the tracker's name. */
static const char *const codenames[] = {
    NULL,     NULL,      NULL,     NULL,       NULL,       NULL,     "squeeze", "wheezy",
    "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky",   "duke",
};
#define NCODENAMES (sizeof(codenames) / sizeof(codenames[0]))

static int is_codename(const char *s, size_t n)
{
	if (n == 3 && memcmp(s, "sid", 3) == 0)
		return 1;
	for (size_t i = 0; i < NCODENAMES; i++)
		if (codenames[i] && strlen(codenames[i]) == n && memcmp(s, codenames[i], n) == 0)
			return 1;
	return 0;
}

/* The codename in "12 (bookworm)" or "bookworm/sid"-like text, if any. */
static const char *codename_in(const char *s, size_t *n)
{
	for (const char *p = s; *p; p++) {
		size_t k = 0;

		if (!islower((unsigned char)*p) || (p > s && islower((unsigned char)p[-1])))
			continue;
		while (islower((unsigned char)p[k]))
			k++;
		if (is_codename(p, k)) {
			*n = k;
			return p;
		}
	}
	return NULL;
}

int detect_host_release(const char *os, const char *os_version, char **codename, char **why)
{
	const char *p;
	size_t n;
	long major = 0;

	*codename = NULL;
	*why = NULL;
	if (os && *os && strncasecmp(os, "debian", 6) != 0) {
		*why = pl_strdupf("os '%s' is not Debian: only Debian hosts are scanned", os);
		return -1;
	}
	if (!os_version || !*os_version) {
		*why = pl_strdup("no os_version: the release is unknown (inventory set HOST "
		                 "--os-version 12)");
		return -1;
	}
	if ((p = codename_in(os_version, &n))) {
		*codename = pl_strndup(p, n);
		return 0;
	}
	for (p = os_version; isdigit((unsigned char)*p) && major < 1000; p++)
		major = major * 10 + (*p - '0');
	if (p > os_version && (*p == '\0' || *p == '.' || *p == ' ') && major >= 0 &&
	    (size_t)major < NCODENAMES && codenames[major]) {
		*codename = pl_strdup(codenames[major]);
		return 0;
	}
	*why = pl_strdupf("os_version '%s' is no Debian release this scan knows", os_version);
	return -1;
}

const char *detect_debian_arch(const char *arch)
{
	static const char *const map[][2] = {
	    {"x86_64", "amd64"}, {"aarch64", "arm64"},   {"i386", "i386"},
	    {"i486", "i386"},    {"i586", "i386"},       {"i686", "i386"},
	    {"armv7l", "armhf"}, {"armv6l", "armel"},    {"ppc64le", "ppc64el"},
	    {"s390x", "s390x"},  {"riscv64", "riscv64"}, {"mips64el", "mips64el"},
	};

	if (!arch || !*arch)
		return NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(arch, map[i][0]) == 0)
			return map[i][1];
	return arch; /* dpkg's own name already (amd64, arm64, ...) */
}
