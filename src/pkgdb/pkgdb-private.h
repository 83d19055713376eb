/* pkgdb-private.h - helpers shared by the pkgdb sources; not a public API. */
#ifndef PL_PKGDB_PRIVATE_H
#define PL_PKGDB_PRIVATE_H

#include "pkgdb/pkgdb.h"

/* Records PL_EINVAL as "SOURCE:LINE: what" (source NULL: "<input>"). */
int pkgdb_syntax_error(struct pl_err *err, const char *source, size_t line, const char *fmt, ...)
	PL_PRINTF(4, 5);

/* Returns the offset of the first NUL or non-UTF-8 byte in s[0..n), or n;
 * *what says which ("NUL byte", "invalid UTF-8 sequence"). */
size_t pkgdb_text_check(const char *s, size_t n, const char **what);

#endif
