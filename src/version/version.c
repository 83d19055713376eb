/*
 * version: exact dpkg and rpm version ordering, parsing and validation.
 * See version.h for what this module owns. Written from the documented
 * behaviour of dpkg 1.21 and rpm 4.18 and checked against both binaries.
 */
#include "version/version.h"

#include <limits.h>
#include <string.h>

/* Character classes, as bits in one table so validation is a single load. */
enum {
	CLS_DIGIT = 1,
	CLS_ALPHA = 2,
	CLS_DEB_UPSTREAM = 4, /* alnum and . - + ~ : */
	CLS_DEB_REVISION = 8, /* alnum and . + ~ */
	CLS_RPM = 16,         /* alnum and . _ + ~ ^ */
	CLS_SPACE = 32        /* C-locale isspace: what strtol skips */
};

#define IS_DIGIT_C(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA_C(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define ALL_FORMATS   (CLS_DEB_UPSTREAM | CLS_DEB_REVISION | CLS_RPM)

/* ASCII only, like dpkg's c_isalpha and rpm's risalpha: no locale. */
#define CLS(c)                                                                                     \
	((IS_DIGIT_C(c) ? (CLS_DIGIT | ALL_FORMATS) : 0) |                                         \
	 (IS_ALPHA_C(c) ? (CLS_ALPHA | ALL_FORMATS) : 0) |                                         \
	 (((c) == '.' || (c) == '+' || (c) == '~') ? ALL_FORMATS : 0) |                            \
	 (((c) == '-' || (c) == ':') ? CLS_DEB_UPSTREAM : 0) |                                     \
	 (((c) == '_' || (c) == '^') ? CLS_RPM : 0) |                                              \
	 (((c) == ' ' || ((c) >= '\t' && (c) <= '\r')) ? CLS_SPACE : 0))

/*
 * dpkg's order(): digits and the end weigh 0, letters their code, '~' -1,
 * anything else code + 256. dpkg computes it on a plain char, which is
 * signed on amd64, so bytes >= 0x80 weigh code - 256 + 256 = their code:
 * between letters and punctuation (checked against dpkg on amd64). A NUL
 * byte inside the length is an ordinary character here (dpkg never sees
 * one: its strings end there).
 */
#define DEB_ORD(c)                                                                                 \
	(IS_DIGIT_C(c) ? 0 : IS_ALPHA_C(c) ? (c) : (c) == '~' ? -1 : (c) >= 0x80 ? (c) : (c) + 256)

#define T4(M, c)  M(c), M((c) + 1), M((c) + 2), M((c) + 3)
#define T16(M, c) T4(M, c), T4(M, (c) + 4), T4(M, (c) + 8), T4(M, (c) + 12)
#define T64(M, c) T16(M, c), T16(M, (c) + 16), T16(M, (c) + 32), T16(M, (c) + 48)
#define T256(M)   T64(M, 0), T64(M, 64), T64(M, 128), T64(M, 192)

static const unsigned char cls_tab[256] = {T256(CLS)};
static const short deb_order_tab[256] = {T256(DEB_ORD)};

static const char MSG_DEB_EMPTY[] = "version string is empty";
static const char MSG_DEB_SPACES[] = "version string has embedded spaces";
static const char MSG_DEB_EPOCH_EMPTY[] = "epoch in version is empty";
static const char MSG_DEB_EPOCH_NAN[] = "epoch in version is not number";
static const char MSG_DEB_EPOCH_NEG[] = "epoch in version is negative";
static const char MSG_DEB_EPOCH_BIG[] = "epoch in version is too big";
static const char MSG_DEB_COLON[] = "nothing after colon in version number";
static const char MSG_DEB_REV_EMPTY[] = "revision number is empty";
static const char MSG_DEB_VER_EMPTY[] = "version number is empty";
static const char MSG_DEB_NO_DIGIT[] = "version number does not start with digit";
static const char MSG_DEB_VER_CHAR[] = "invalid character in version number";
static const char MSG_DEB_REV_CHAR[] = "invalid character in revision number";

static const char MSG_RPM_EMPTY[] = "version string is empty";
static const char MSG_RPM_EPOCH_EMPTY[] = "epoch is empty";
static const char MSG_RPM_EPOCH_NAN[] = "epoch is not a number";
static const char MSG_RPM_EPOCH_BIG[] = "epoch is too big";
static const char MSG_RPM_VER_EMPTY[] = "version is empty";
static const char MSG_RPM_REL_EMPTY[] = "release is empty";
static const char MSG_RPM_VER_CHAR[] = "invalid character in version";
static const char MSG_RPM_REL_CHAR[] = "invalid character in release";

/* rpm keeps the epoch in a uint32 header tag. */
#define RPM_EPOCH_MAX 4294967295ULL

typedef const unsigned char *bytes;

static inline int is_digit(unsigned char c)
{
	return (unsigned)(c - '0') < 10u;
}

static inline int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static inline int sign_of(int v)
{
	return (v > 0) - (v < 0);
}

static inline void set_msg(const char **msg, const char *text)
{
	if (msg)
		*msg = text;
}

/* Last occurrence of c in [p, end), or NULL; memrchr is not C11. */
static bytes find_last(bytes p, bytes end, unsigned char c)
{
	while (end > p) {
		if (*--end == c)
			return end;
	}
	return NULL;
}

/* 1 when every byte of [p, end) has one of the class bits. */
static int all_in_class(bytes p, bytes end, unsigned char bits)
{
	for (; p < end; p++) {
		if (!(cls_tab[*p] & bits))
			return 0;
	}
	return 1;
}

/* ---- Debian ------------------------------------------------------------ */

static int deb_fail(struct version_deb *out, const char **msg, const char *text)
{
	memset(out, 0, sizeof(*out));
	set_msg(msg, text);
	return -1;
}

/* Strip blanks at both ends; 0 when nothing is left. */
static int deb_trim(bytes *p, bytes *end)
{
	while (*p < *end && is_blank(**p))
		(*p)++;
	while (*end > *p && is_blank((*end)[-1]))
		(*end)--;
	return *p < *end;
}

static int has_blank(bytes p, bytes end)
{
	for (; p < end; p++) {
		if (is_blank(*p))
			return 1;
	}
	return 0;
}

/*
 * dpkg reads the epoch with strtol and then checks where it stopped, so
 * we mirror strtol: leading isspace (only \n \v \f \r can survive the
 * blank checks), an optional sign, digits. Returns NULL or the error.
 */
static const char *deb_parse_epoch(bytes p, bytes colon, unsigned long *epoch)
{
	unsigned long long v = 0;
	int neg = 0;

	while (p < colon && (cls_tab[*p] & CLS_SPACE))
		p++;
	if (p < colon && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p == colon || !is_digit(*p))
		return MSG_DEB_EPOCH_EMPTY; /* strtol consumed nothing */
	for (; p < colon && is_digit(*p); p++) {
		if (v <= INT_MAX) /* saturate: anything past INT_MAX is too big */
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (p != colon)
		return MSG_DEB_EPOCH_NAN;
	if (neg && v != 0)
		return MSG_DEB_EPOCH_NEG; /* dpkg tests the sign before the size */
	if (v > INT_MAX)
		return MSG_DEB_EPOCH_BIG;
	*epoch = (unsigned long)v;
	return NULL;
}

/* dpkg's character checks, in its order; they only ever warn. */
static int deb_check_chars(const struct version_deb *v, const char **msg)
{
	bytes up = (bytes)v->upstream;
	bytes rev = (bytes)v->revision;

	if (!is_digit(up[0])) {
		set_msg(msg, MSG_DEB_NO_DIGIT);
		return 1;
	}
	if (!all_in_class(up + 1, up + v->upstream_len, CLS_DEB_UPSTREAM)) {
		set_msg(msg, MSG_DEB_VER_CHAR);
		return 1;
	}
	if (!all_in_class(rev, rev + v->revision_len, CLS_DEB_REVISION)) {
		set_msg(msg, MSG_DEB_REV_CHAR);
		return 1;
	}
	set_msg(msg, NULL);
	return 0;
}

/* Split [p, end) (after the epoch) at the last hyphen and validate. */
static int deb_split(bytes p, bytes end, struct version_deb *out, const char **msg)
{
	bytes hyphen = find_last(p, end, '-');
	bytes up_end = hyphen ? hyphen : end;
	bytes rev = hyphen ? hyphen + 1 : end;

	if (hyphen && rev == end)
		return deb_fail(out, msg, MSG_DEB_REV_EMPTY);
	if (up_end == p)
		return deb_fail(out, msg, MSG_DEB_VER_EMPTY);
	out->upstream = (const char *)p;
	out->upstream_len = (size_t)(up_end - p);
	out->revision = (const char *)rev;
	out->revision_len = (size_t)(end - rev);
	return deb_check_chars(out, msg);
}

int version_deb_parse(const char *s, size_t len, struct version_deb *out, const char **msg)
{
	bytes start = (bytes)(s ? s : ""); /* no arithmetic on NULL */
	bytes p = start, end = start + (s ? len : 0), colon;
	const char *err;

	if (!deb_trim(&p, &end))
		return deb_fail(out, msg, MSG_DEB_EMPTY);
	if (has_blank(p, end))
		return deb_fail(out, msg, MSG_DEB_SPACES);
	out->epoch = 0;
	colon = memchr(p, ':', (size_t)(end - p)); /* epoch ends at the FIRST colon */
	if (colon) {
		err = deb_parse_epoch(p, colon, &out->epoch);
		if (err)
			return deb_fail(out, msg, err);
		/* dpkg looks at the untrimmed byte after the colon: "1:" has
		 * nothing after it, while "1: " goes on to an empty version. */
		if (colon + 1 == start + len)
			return deb_fail(out, msg, MSG_DEB_COLON);
		p = colon + 1;
	}
	return deb_split(p, end, out, msg);
}

/* Compare the non-digit prefixes by order(); stop where both reach a digit or the end. */
static inline int deb_cmp_nondigits(bytes *pa, bytes ae, bytes *pb, bytes be)
{
	bytes a = *pa, b = *pb;

	for (;;) {
		int ac = a < ae ? deb_order_tab[*a] : 0;
		int bc = b < be ? deb_order_tab[*b] : 0;

		if (ac != bc)
			return ac < bc ? -1 : 1;
		if (ac == 0)
			break; /* weight 0 only for digit or end, so both are there */
		/* equal non-zero weights: neither side is at its end */
		a++;
		b++;
	}
	*pa = a;
	*pb = b;
	return 0;
}

/* Compare digit runs as numbers of any size: skip zeros, longer run wins, else first difference. */
static inline int deb_cmp_digits(bytes *pa, bytes ae, bytes *pb, bytes be)
{
	bytes a = *pa, b = *pb;
	int first_diff = 0;

	while (a < ae && *a == '0')
		a++;
	while (b < be && *b == '0')
		b++;
	for (; a < ae && b < be && is_digit(*a) && is_digit(*b); a++, b++) {
		if (!first_diff)
			first_diff = *a - *b;
	}
	if (a < ae && is_digit(*a))
		return 1;
	if (b < be && is_digit(*b))
		return -1;
	*pa = a;
	*pb = b;
	return sign_of(first_diff);
}

int version_deb_verrevcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	bytes pa = (bytes)(a ? a : ""), pb = (bytes)(b ? b : ""); /* zeroed structs */
	bytes ae = pa + (a ? alen : 0), be = pb + (b ? blen : 0);
	int rc;

	while (pa < ae || pb < be) {
		rc = deb_cmp_nondigits(&pa, ae, &pb, be);
		if (rc)
			return rc;
		rc = deb_cmp_digits(&pa, ae, &pb, be);
		if (rc)
			return rc;
	}
	return 0;
}

int version_deb_cmp(const struct version_deb *a, const struct version_deb *b)
{
	int rc;

	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	rc = version_deb_verrevcmp(a->upstream, a->upstream_len, b->upstream, b->upstream_len);
	if (rc)
		return rc;
	return version_deb_verrevcmp(a->revision, a->revision_len, b->revision, b->revision_len);
}

/* ---- RPM --------------------------------------------------------------- */

static int rpm_fail(struct version_rpm *out, const char **msg, const char *text)
{
	memset(out, 0, sizeof(*out));
	set_msg(msg, text);
	return -1;
}

/* Epoch: one or more digits, no sign or space (rpm's parseEVR only takes digits). */
static const char *rpm_parse_epoch(bytes p, bytes colon, unsigned long *epoch)
{
	unsigned long long v = 0;

	if (p == colon)
		return MSG_RPM_EPOCH_EMPTY;
	for (; p < colon; p++) {
		if (!is_digit(*p))
			return MSG_RPM_EPOCH_NAN;
		if (v <= RPM_EPOCH_MAX) /* saturate; no overflow on long runs */
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > RPM_EPOCH_MAX)
		return MSG_RPM_EPOCH_BIG;
	*epoch = (unsigned long)v;
	return NULL;
}

/* Split VERSION[-RELEASE] at the last hyphen and check both parts. */
static const char *rpm_split(bytes p, bytes end, struct version_rpm *out)
{
	bytes hyphen = find_last(p, end, '-');
	bytes ver_end = hyphen ? hyphen : end;

	if (ver_end == p)
		return MSG_RPM_VER_EMPTY;
	if (hyphen && hyphen + 1 == end)
		return MSG_RPM_REL_EMPTY;
	if (!all_in_class(p, ver_end, CLS_RPM))
		return MSG_RPM_VER_CHAR;
	if (hyphen && !all_in_class(hyphen + 1, end, CLS_RPM))
		return MSG_RPM_REL_CHAR;
	out->version = (const char *)p;
	out->version_len = (size_t)(ver_end - p);
	out->release = hyphen ? (const char *)hyphen + 1 : NULL;
	out->release_len = hyphen ? (size_t)(end - hyphen - 1) : 0;
	return NULL;
}

int version_rpm_parse(const char *s, size_t len, struct version_rpm *out, const char **msg)
{
	bytes p = (bytes)s, end, colon;
	const char *err;

	if (!s || len == 0)
		return rpm_fail(out, msg, MSG_RPM_EMPTY);
	end = p + len;
	memset(out, 0, sizeof(*out));
	colon = memchr(p, ':', len);
	if (colon) {
		err = rpm_parse_epoch(p, colon, &out->epoch);
		if (err)
			return rpm_fail(out, msg, err);
		out->has_epoch = 1;
		p = colon + 1;
	}
	err = rpm_split(p, end, out);
	if (err)
		return rpm_fail(out, msg, err);
	set_msg(msg, NULL);
	return 0;
}

/* rpmvercmp skips everything but alnum, '~' and '^' between segments. */
static inline bytes rpm_skip_separators(bytes p, bytes end)
{
	while (p < end && !(cls_tab[*p] & (CLS_DIGIT | CLS_ALPHA)) && *p != '~' && *p != '^')
		p++;
	return p;
}

static inline bytes rpm_span(bytes p, bytes end, unsigned char bits)
{
	while (p < end && (cls_tab[*p] & bits))
		p++;
	return p;
}

/* Numeric segments: leading zeros ignored, more digits wins, then bytewise. */
static int rpm_cmp_numeric(bytes a, bytes ae, bytes b, bytes be)
{
	int rc;

	while (a < ae && *a == '0')
		a++;
	while (b < be && *b == '0')
		b++;
	if (ae - a != be - b)
		return ae - a > be - b ? 1 : -1;
	rc = memcmp(a, b, (size_t)(ae - a));
	return sign_of(rc);
}

/* Alpha segments compare like strcmp: bytewise, a proper prefix sorts first. */
static int rpm_cmp_alpha(bytes a, bytes ae, bytes b, bytes be)
{
	size_t alen = (size_t)(ae - a), blen = (size_t)(be - b);
	int rc = memcmp(a, b, alen < blen ? alen : blen);

	if (rc)
		return sign_of(rc);
	return (alen > blen) - (alen < blen);
}

/* One alnum segment each; a numeric segment beats an alpha one. */
static int rpm_cmp_segment(bytes *pa, bytes ae, bytes *pb, bytes be)
{
	bytes a = *pa, b = *pb, a_end, b_end;
	int isnum = is_digit(*a);
	unsigned char bits = isnum ? CLS_DIGIT : CLS_ALPHA;
	int rc;

	a_end = rpm_span(a, ae, bits);
	b_end = rpm_span(b, be, bits);
	if (b_end == b)
		return isnum ? 1 : -1; /* segment types differ */
	rc = isnum ? rpm_cmp_numeric(a, a_end, b, b_end) : rpm_cmp_alpha(a, a_end, b, b_end);
	*pa = a_end;
	*pb = b_end;
	return rc;
}

/*
 * '~' sorts before anything, the end included; '^' sorts after the end
 * but before any other segment. Returns 2 when neither side has one.
 */
static inline int rpm_cmp_tilde_caret(int c1, int c2)
{
	if (c1 == '~' || c2 == '~') {
		if (c1 != '~')
			return 1;
		return c2 != '~' ? -1 : 0;
	}
	if (c1 == '^' || c2 == '^') {
		if (!c1)
			return -1;
		if (!c2)
			return 1;
		if (c1 != '^')
			return 1;
		return c2 != '^' ? -1 : 0;
	}
	return 2;
}

int version_rpmvercmp(const char *a, size_t alen, const char *b, size_t blen)
{
	bytes one = (bytes)(a ? a : ""), two = (bytes)(b ? b : ""); /* zeroed structs */
	bytes oe = one + (a ? alen : 0), te = two + (b ? blen : 0);
	int rc;

	if (oe - one == te - two && memcmp(one, two, (size_t)(oe - one)) == 0)
		return 0; /* rpm's own shortcut; also the common case */
	while (one < oe || two < te) {
		one = rpm_skip_separators(one, oe);
		two = rpm_skip_separators(two, te);
		/* after skipping, a 0 here can only mean the end */
		rc = rpm_cmp_tilde_caret(one < oe ? *one : 0, two < te ? *two : 0);
		if (rc == 0) {
			one++;
			two++;
			continue;
		}
		if (rc != 2)
			return rc;
		if (one == oe || two == te)
			break;
		rc = rpm_cmp_segment(&one, oe, &two, te);
		if (rc)
			return rc;
	}
	if (one == oe && two == te)
		return 0; /* only separators differed */
	return one == oe ? -1 : 1;
}

int version_rpm_cmp(const struct version_rpm *a, const struct version_rpm *b)
{
	unsigned long ea = a->has_epoch ? a->epoch : 0;
	unsigned long eb = b->has_epoch ? b->epoch : 0;
	int rc;

	if (ea != eb)
		return ea < eb ? -1 : 1;
	rc = version_rpmvercmp(a->version, a->version_len, b->version, b->version_len);
	if (rc)
		return rc;
	if (!a->release || !b->release)
		return (a->release != NULL) - (b->release != NULL);
	return version_rpmvercmp(a->release, a->release_len, b->release, b->release_len);
}
