/*
 * aptrepo.c - a signed apt repository per wave: the pull targets.
 *
 * The layout, the generation switch and rollback are described in
 * rollout.h ("pull targets and exports"). Here, why things are done so:
 *
 * - Control fields come from `dpkg-deb --field FILE`, run from an argv
 *   array, as the patch store reads them (src/candidate/): dpkg-deb is on
 *   every Debian system, reads every member compression dpkg accepts (xz,
 *   gzip, zstd, none) and refuses what dpkg would refuse. A second reader
 *   of ar + tar + three decompressors here would be a weaker parser of an
 *   untrusted format for no gain. The text it prints is checked with the
 *   deb822 parser and copied field by field (byte for byte), so nothing is
 *   re-wrapped; Filename, Size and the hashes are always ours.
 * - Packages.gz (zlib, no time stamp) and Packages.xz (liblzma) are made
 *   in memory and are reproducible: a rollback's indexes are byte-equal to
 *   those of the state it restores.
 * - Signing runs gpg; the result is verified with gpgv (src/repo, the same
 *   verdict apt applies) against the keyring the hosts get, and the Release
 *   is read back with repo_release_parse: what is published is proven to
 *   be accepted before any client can see it.
 */
#include "rollout-private.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <lzma.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "audit/audit.h"
#include "candidate/candidate.h"
#include "pkgdb/pkgdb.h"
#include "repo/repo.h"
#include "version/version.h"

#define APT_KEEP_DEFAULT 5
#define APT_KEEP_MAX     100
#define GPG_TIMEOUT      120.0
#define GEN_FMT          "%06d"

/* ---- configuration ------------------------------------------------------------- */

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static int strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static char **strv_add(char **v, const char *s)
{
	size_t n = strv_len(v);

	v = pl_realloc(v, (n + 2) * sizeof(*v));
	v[n] = pl_strdup(s);
	v[n + 1] = NULL;
	return v;
}

static int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void rollout_aptrepo_clear(struct rollout_aptrepo *r)
{
	free(r->dir);
	free(r->suite);
	free(r->component);
	strv_free(r->arches);
	free(r->origin);
	free(r->label);
	free(r->key);
	free(r->gnupghome);
	memset(r, 0, sizeof(*r));
}

void rollout_publish_result_clear(struct rollout_publish_result *r)
{
	json_decref(r->detail);
	memset(r, 0, sizeof(*r));
}

static const char *cfg_component(const struct rollout_aptrepo *r)
{
	return r->component ? r->component : "main";
}

/* A single line of printable text (it goes into Release's fields). */
static int text_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return n > 0 && n <= max;
}

/* Checks r's fields; PL_EUSAGE naming the option. */
static int cfg_check(const struct rollout_aptrepo *r, int need_key, struct pl_err *err)
{
	if (!r->dir || !*r->dir)
		return pl_error(err, PL_EUSAGE, "--dir: the repository directory is needed");
	if (!r->suite)
		return pl_error(err, PL_EUSAGE, "--suite: the suite is needed");
	if (repo_field_check("suite", r->suite, err) < 0)
		return err->code;
	if (strchr(r->suite, '/'))
		return pl_error(err, PL_EUSAGE, "--suite '%s': one word, without '/'", r->suite);
	if (r->component && repo_field_check("component", r->component, err) < 0)
		return err->code;
	if (r->component && strchr(r->component, '/'))
		return pl_error(err, PL_EUSAGE, "--component '%s': one word, without '/'",
		                r->component);
	for (size_t i = 0; r->arches && r->arches[i]; i++) {
		if (repo_field_check("arch", r->arches[i], err) < 0)
			return err->code;
		if (strcmp(r->arches[i], "all") == 0)
			return pl_error(err, PL_EUSAGE,
			                "--arch all: 'all' packages go into every architecture's "
			                "index; name the hosts' architectures");
		for (size_t k = 0; k < i; k++)
			if (strcmp(r->arches[k], r->arches[i]) == 0)
				return pl_error(err, PL_EUSAGE, "--arch '%s' is given twice",
				                r->arches[i]);
	}
	if (r->origin && !text_ok(r->origin, 100))
		return pl_error(err, PL_EUSAGE,
		                "--origin: one line of printable text, at most 100");
	if (r->label && !text_ok(r->label, 100))
		return pl_error(err, PL_EUSAGE, "--label: one line of printable text, at most 100");
	if (need_key && (!r->key || !text_ok(r->key, 200) || r->key[0] == '-'))
		return pl_error(
		    err, PL_EUSAGE,
		    "--key: the signing key (fingerprint, key id or user id) is needed");
	if (r->keep != 0 && (r->keep < 2 || r->keep > APT_KEEP_MAX))
		return pl_error(err, PL_EUSAGE, "--keep %d: between 2 and %d generations", r->keep,
		                APT_KEEP_MAX);
	if (r->valid_for < 0 || r->valid_for > 366 * 86400)
		return pl_error(err, PL_EUSAGE, "--valid-days: between 0 and 366 days");
	return 0;
}

static int cfg_keep(const struct rollout_aptrepo *r)
{
	return r->keep ? r->keep : APT_KEEP_DEFAULT;
}

int rollout_aptrepo_parse(const struct pl_jdoc *d, json_t *obj, const char *path,
                          struct rollout_aptrepo *out)
{
	static const char *const keys[] = {"dir",        "suite", "component", "arches",
	                                   "origin",     "label", "key",       "gnupghome",
	                                   "valid_days", "keep",  NULL};
	const char *dir = NULL, *suite = NULL, *comp = NULL, *origin = NULL, *label = NULL;
	const char *key = NULL, *home = NULL;
	json_t *arches = NULL, *v;
	long days = 0, keep = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return pl_json_error(d, path, NULL, "must be an object");
	if (pl_json_check_keys(d, obj, path, keys) < 0 ||
	    pl_json_get_str(d, obj, path, "dir", PL_J_REQUIRED, &dir) < 0 ||
	    pl_json_get_str(d, obj, path, "suite", PL_J_REQUIRED, &suite) < 0 ||
	    pl_json_get_str(d, obj, path, "component", PL_J_OPTIONAL, &comp) < 0 ||
	    pl_json_get_array(d, obj, path, "arches", PL_J_OPTIONAL, &arches) < 0 ||
	    pl_json_get_str(d, obj, path, "origin", PL_J_OPTIONAL, &origin) < 0 ||
	    pl_json_get_str(d, obj, path, "label", PL_J_OPTIONAL, &label) < 0 ||
	    pl_json_get_str(d, obj, path, "key", PL_J_REQUIRED, &key) < 0 ||
	    pl_json_get_str(d, obj, path, "gnupghome", PL_J_OPTIONAL, &home) < 0 ||
	    pl_json_get_int(d, obj, path, "valid_days", PL_J_OPTIONAL, 0, 366, &days) < 0 ||
	    pl_json_get_int(d, obj, path, "keep", PL_J_OPTIONAL, 2, APT_KEEP_MAX, &keep) < 0)
		return d->err->code;
	out->dir = pl_strdup(dir);
	out->suite = pl_strdup(suite);
	out->component = comp ? pl_strdup(comp) : NULL;
	out->origin = origin ? pl_strdup(origin) : NULL;
	out->label = label ? pl_strdup(label) : NULL;
	out->key = pl_strdup(key);
	out->gnupghome = home ? pl_strdup(home) : NULL;
	out->valid_for = days * 86400;
	out->keep = (int)keep;
	json_array_foreach (arches, i, v) {
		if (!json_is_string(v)) {
			rollout_aptrepo_clear(out);
			return pl_json_error(d, path, "arches", "must be an array of strings");
		}
		out->arches = strv_add(out->arches, json_string_value(v));
	}
	if (cfg_check(out, 1, d->err) < 0) {
		int rc = pl_json_error(d, path, NULL, "%s", d->err->msg);

		rollout_aptrepo_clear(out);
		return rc;
	}
	return 0;
}

/* ---- small file helpers ---------------------------------------------------------------- */

static int rmtree_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

int rollout_rmtree(const char *path, struct pl_err *err)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return 0;
	if (nftw(path, rmtree_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return pl_error(err, PL_EIO, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

static int fsync_dir(const char *dir)
{
	PL_AUTOFD int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -1 : fsync(fd);
}

static int write_file(const char *path, const void *data, size_t len, struct pl_err *err)
{
	return pl_file_write_atomic(path, data, len, 0644, err);
}

static int write_json(const char *path, json_t *j, struct pl_err *err)
{
	PL_AUTOFREE char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;

	pl_buf_adds(&b, s);
	pl_buf_addc(&b, '\n');
	return write_file(path, b.s, b.len, err);
}

/* Copies src to dst (created 0444, must not exist): a reflink where the
 * file system has them, else the bytes. */
static int copy_file(const char *src, const char *dst, struct pl_err *err)
{
	PL_AUTOFD int in = open(src, O_RDONLY | O_CLOEXEC);
	PL_AUTOFD int out = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return pl_error(err, PL_EIO, "%s: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (out < 0)
		return pl_error(err, PL_EIO, "%s: %s", dst, strerror(errno));
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			int e = errno;

			unlink(dst);
			return pl_error(err, PL_EIO, "copying %s: %s", src, strerror(e));
		}
	}
	if (fsync(out) < 0) {
		unlink(dst);
		return pl_error(err, PL_EIO, "%s: %s", dst, strerror(errno));
	}
	return 0;
}

/* Hard link when it works (same file system), else a copy. */
static int link_or_copy(const char *src, const char *dst, struct pl_err *err)
{
	if (link(src, dst) == 0)
		return 0;
	return copy_file(src, dst, err);
}

/* "Sat, 28 Nov 2026 09:08:20 UTC": C-locale names whatever the locale. */
static void rfc2822(int64_t t, char out[static 40])
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d UTC", wd[tm.tm_wday], tm.tm_mday,
	         mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Sets path's mtime to t: a generation's files carry its Release Date as
 * their Last-Modified, which thus grows with every generation even when two
 * are written within one second (If-Modified-Since compares seconds). */
static void set_mtime(const char *path, int64_t t)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)t}};

	utimensat(AT_FDCWD, path, ts, 0);
}

/* ---- compression ------------------------------------------------------------------------ */

/* gzip with no name and no time stamp: the same bytes for the same input. */
static int gzip_buf(const char *in, size_t n, struct pl_buf *out, struct pl_err *err)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return pl_error(err, PL_EINTERNAL, "zlib: deflateInit2 failed");
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		pl_buf_grow(out, 65536);
		z.next_out = (Bytef *)out->s + out->len;
		z.avail_out = (uInt)(out->cap - out->len - 1);
		rc = deflate(&z, Z_FINISH);
		out->len = (size_t)((char *)z.next_out - out->s);
	} while (rc == Z_OK || rc == Z_BUF_ERROR);
	deflateEnd(&z);
	if (rc != Z_STREAM_END)
		return pl_error(err, PL_EINTERNAL, "zlib: deflate failed (%d)", rc);
	out->s[out->len] = '\0';
	return 0;
}

static int xz_buf(const char *in, size_t n, struct pl_buf *out, struct pl_err *err)
{
	size_t cap = lzma_stream_buffer_bound(n), pos = 0;
	lzma_ret rc;

	pl_buf_grow(out, cap + 1);
	rc = lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)in, n,
	                             (uint8_t *)out->s, &pos, cap);
	if (rc != LZMA_OK)
		return pl_error(err, PL_EINTERNAL, "liblzma: encoding failed (%d)", (int)rc);
	out->len = pos;
	out->s[pos] = '\0';
	return 0;
}

/* ---- reading .debs ----------------------------------------------------------------------- */

/* One package of a generation; strings owned. */
struct apt_pkg {
	char *package, *version, *arch, *source, *filename;
	char sha256[65];
	uint64_t size;
	char *fields;      /* the control fields but Description, each ending in '\n' */
	char *description; /* "Description: ...\n" with its continuation lines, or NULL */
};

static void apt_pkg_clear(struct apt_pkg *p)
{
	free(p->package);
	free(p->version);
	free(p->arch);
	free(p->source);
	free(p->filename);
	free(p->fields);
	free(p->description);
	memset(p, 0, sizeof(*p));
}

/* Debian Policy 5.6.1: at least two of [a-z0-9+.-], starting alphanumeric. */
int rollout_pkg_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 100 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    !strchr("+.-", *s))
			return 0;
	return 1;
}

/* Fields that Packages gets from us, never from the .deb. */
static int field_ours(const char *name, size_t n)
{
	static const char *const ours[] = {"Filename", "Size",   "MD5sum", "SHA1",
	                                   "SHA256",   "SHA512", NULL};

	for (size_t i = 0; ours[i]; i++)
		if (strlen(ours[i]) == n && strncasecmp(name, ours[i], n) == 0)
			return 1;
	return 0;
}

/* Splits the control text (checked by the deb822 parser before) into the
 * fields kept as they are and Description, which Packages puts last. */
static void deb_split_fields(const char *text, struct apt_pkg *p)
{
	struct pl_buf keep = PL_BUF_INIT, desc = PL_BUF_INIT;
	struct pl_buf *cur = NULL;
	const char *s = text;

	while (*s) {
		size_t n = strcspn(s, "\n");

		if (n == 0 || strspn(s, " \t") == n) /* end of the stanza */
			break;
		if (*s != ' ' && *s != '\t') {
			size_t k = strcspn(s, ":");

			cur = field_ours(s, k)                                      ? NULL
			      : (k == 11 && strncasecmp(s, "Description", 11) == 0) ? &desc
			                                                            : &keep;
		}
		if (cur) {
			pl_buf_add(cur, s, n);
			pl_buf_addc(cur, '\n');
		}
		s += n + (s[n] == '\n');
	}
	p->fields = pl_buf_detach(&keep);
	p->description = desc.len ? pl_buf_detach(&desc) : NULL;
	pl_buf_release(&desc);
}

/* Reads a .deb's control fields with dpkg-deb and checks the ones that name
 * it; the pool name is pool/COMPONENT/P/SOURCE/PACKAGE_VERSION_ARCH.deb
 * (P: the source's first letter, "libX" for lib*; no epoch). */
static int deb_read(const char *path, const char *component, struct apt_pkg *p, struct pl_err *err)
{
	const char *argv[] = {"dpkg-deb", "--field", path, NULL};
	PL_AUTOBUF struct pl_buf out = PL_BUF_INIT;
	struct pl_run_opts o = {.out = &out, .timeout = 60};
	struct pkgdb_deb822 parser;
	struct pkgdb_stanza s;
	struct version_deb v;
	const char *msg, *ver, *colon;
	PL_AUTOFREE char *src = NULL;
	struct stat sb;
	int status = 0, rc;

	memset(p, 0, sizeof(*p));
	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return pl_error(err, PL_ENOTFOUND, "%s: %s", path,
		                errno ? strerror(errno) : "not a regular file");
	if (!pl_have_program("dpkg-deb"))
		return pl_error(err, PL_EENV, "dpkg-deb is not installed (Debian package dpkg)");
	if (pl_run(argv, &o, &status, err) < 0)
		return err->code;
	if (status != 0)
		return pl_error(err, PL_EINVAL, "%s: not a valid .deb (dpkg-deb exit %d)", path,
		                status);
	pkgdb_deb822_init(&parser, pl_buf_str(&out), out.len, path);
	rc = pkgdb_deb822_next(&parser, &s, err);
	if (rc == 1) {
		p->package = pkgdb_field_dup(pkgdb_stanza_get(&s, "Package"));
		p->version = pkgdb_field_dup(pkgdb_stanza_get(&s, "Version"));
		p->arch = pkgdb_field_dup(pkgdb_stanza_get(&s, "Architecture"));
		src = pkgdb_field_dup(pkgdb_stanza_get(&s, "Source"));
		rc = 0;
	} else if (rc == 0) {
		rc = pl_error(err, PL_EINVAL, "%s: empty control file", path);
	}
	pkgdb_deb822_release(&parser);
	if (rc < 0)
		goto fail;
	if (!p->package || !p->version || !p->arch) {
		rc = pl_error(err, PL_EINVAL, "%s: control lacks Package, Version or Architecture",
		              path);
		goto fail;
	}
	if (!rollout_pkg_name_ok(p->package)) {
		rc = pl_error(err, PL_EINVAL, "%s: Package '%.80s' is not a Debian package name",
		              path, p->package);
		goto fail;
	}
	if (version_deb_parse(p->version, strlen(p->version), &v, &msg) != 0 ||
	    strpbrk(p->version, "/ \t")) {
		rc = pl_error(err, PL_EINVAL, "%s: Version '%.80s': %s", path, p->version,
		              msg ? msg : "invalid");
		goto fail;
	}
	if (repo_field_check("arch", p->arch, err) < 0) {
		rc = pl_error(err, PL_EINVAL, "%s: Architecture: %s", path, err->msg);
		goto fail;
	}
	p->source = src && *src ? pl_strndup(src, strcspn(src, " (")) : pl_strdup(p->package);
	if (!rollout_pkg_name_ok(p->source)) {
		rc = pl_error(err, PL_EINVAL, "%s: Source '%.80s' is not a Debian package name",
		              path, p->source);
		goto fail;
	}
	colon = strchr(p->version, ':');
	ver = colon ? colon + 1 : p->version;
	p->filename = pl_strdupf("pool/%s/%.*s/%s/%s_%s_%s.deb", component,
	                         strncmp(p->source, "lib", 3) == 0 && p->source[3] ? 4 : 1,
	                         p->source, p->source, p->package, ver, p->arch);
	deb_split_fields(pl_buf_str(&out), p);
	return 0;
fail:
	apt_pkg_clear(p);
	return rc;
}

/* ---- a publish in progress ----------------------------------------------------------------- */

struct apt_ctx {
	const struct rollout_aptrepo *r;
	char *dir;   /* absolute */
	int lock_fd; /* holds DIR/.lock */
	int cur;     /* the current generation; 0: none */
	json_t *cur_json;
	char **added; /* pool files this publish created (removed on failure) */
	char *tmp;    /* the generation being built */
	char *gen_dir;
};

static void ctx_close(struct apt_ctx *c)
{
	for (size_t i = 0; c->added && c->added[i]; i++)
		free(c->added[i]);
	free(c->added);
	json_decref(c->cur_json);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->dir);
	free(c->tmp);
	free(c->gen_dir);
	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
}

/* Undoes what a failed publish left: the generation being built and the
 * pool files no kept generation names. */
static void ctx_abort(struct apt_ctx *c)
{
	struct pl_err ignored = PL_ERR_INIT;

	if (c->tmp)
		rollout_rmtree(c->tmp, &ignored);
	if (c->gen_dir)
		rollout_rmtree(c->gen_dir, &ignored);
	for (size_t i = 0; c->added && c->added[i]; i++) {
		PL_AUTOFREE char *p = pl_path_join(c->dir, c->added[i]);
		char *slash;

		unlink(p);
		/* and the directories it made, while empty, up to DIR */
		while ((slash = strrchr(p, '/')) && (size_t)(slash - p) > strlen(c->dir)) {
			*slash = '\0';
			if (rmdir(p) < 0)
				break;
		}
	}
}

/* The generation DIR/dists points at: 0 when there is no dists yet. */
static int current_generation(const char *dir, int *out, struct pl_err *err)
{
	PL_AUTOFREE char *link = pl_path_join(dir, "dists");
	char target[256];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	int gen = 0, used = 0;

	*out = 0;
	if (n < 0 && errno == ENOENT)
		return 0;
	if (n < 0)
		return pl_error(err, PL_ESTATE,
		                "%s: not a symlink that patchlab made (%s): is DIR another "
		                "repository?",
		                link, strerror(errno));
	target[n] = '\0';
	if (sscanf(target, "generations/%6d/dists%n", &gen, &used) != 1 || used != n || gen <= 0)
		return pl_error(err, PL_ESTATE, "%s -> %s: not a link that patchlab made", link,
		                target);
	*out = gen;
	return 0;
}

static char *gen_path(const char *dir, int gen, const char *rest)
{
	return pl_strdupf("%s/generations/" GEN_FMT "%s%s", dir, gen, rest ? "/" : "",
	                  rest ? rest : "");
}

static int gen_json_load(const char *dir, int gen, json_t **out, struct pl_err *err)
{
	PL_AUTOFREE char *p = gen_path(dir, gen, "generation.json");

	return pl_json_load_file(p, out, err);
}

/* The generation numbers under DIR/generations, ascending. */
static int generations_list(const char *dir, int **out, size_t *n, struct pl_err *err)
{
	PL_AUTOFREE char *gdir = pl_path_join(dir, "generations");
	DIR *d = opendir(gdir);
	struct dirent *e;

	*out = NULL;
	*n = 0;
	if (!d && errno == ENOENT)
		return 0;
	if (!d)
		return pl_error(err, PL_EIO, "%s: %s", gdir, strerror(errno));
	while ((e = readdir(d))) {
		int g = 0, used = 0;

		if (sscanf(e->d_name, "%6d%n", &g, &used) == 1 && used == 6 && !e->d_name[6] &&
		    g > 0) {
			*out = pl_realloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = g;
		}
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++)
		for (size_t k = i; k > 0 && (*out)[k - 1] > (*out)[k]; k--) {
			int t = (*out)[k];

			(*out)[k] = (*out)[k - 1];
			(*out)[k - 1] = t;
		}
	return 0;
}

/* Removes generations/.tmp-* that a killed publish left (we hold the lock). */
static void clean_stale(const char *dir)
{
	PL_AUTOFREE char *gdir = pl_path_join(dir, "generations");
	struct pl_err ignored = PL_ERR_INIT;
	DIR *d = opendir(gdir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, ".tmp-", 5) == 0) {
			PL_AUTOFREE char *p = pl_path_join(gdir, e->d_name);

			rollout_rmtree(p, &ignored);
		}
	}
	closedir(d);
}

/* Opens DIR for a change: creates it, takes its lock, reads the current
 * generation and checks that r matches what DIR was published as. */
static int ctx_open(struct apt_ctx *c, const struct rollout_aptrepo *r, struct pl_err *err)
{
	PL_AUTOFREE char *lock = NULL, *gdir = NULL, *cfgp = NULL;
	json_t *cfg = NULL;

	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
	c->r = r;
	if (pl_mkdir_p(r->dir, 0755, err) < 0)
		return err->code;
	c->dir = realpath(r->dir, NULL);
	if (!c->dir)
		return pl_error(err, PL_EIO, "%s: %s", r->dir, strerror(errno));
	lock = pl_path_join(c->dir, ".lock");
	gdir = pl_path_join(c->dir, "generations");
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (c->lock_fd < 0)
		return pl_error(err, PL_EIO, "%s: %s", lock, strerror(errno));
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return pl_error(err, PL_ESTATE, "%s: another publish holds the lock", c->dir);
	if (pl_mkdir_p(gdir, 0755, err) < 0)
		return err->code;
	clean_stale(c->dir);
	if (current_generation(c->dir, &c->cur, err) < 0)
		return err->code;
	if (c->cur && gen_json_load(c->dir, c->cur, &c->cur_json, err) < 0)
		return pl_error_prefix(err, "current generation %d", c->cur);
	cfgp = pl_path_join(c->dir, "repo.json");
	if (pl_path_exists(cfgp)) {
		const char *suite, *comp;
		int bad = 0;

		if (pl_json_load_file(cfgp, &cfg, err) < 0)
			return err->code;
		suite = json_string_value(json_object_get(cfg, "suite"));
		comp = json_string_value(json_object_get(cfg, "component"));

		if (suite && strcmp(suite, r->suite) != 0)
			bad = pl_error(
			    err, PL_EUSAGE,
			    "--suite '%s': %s is published as suite '%s' (hosts point at it; use "
			    "another --dir for another suite)",
			    r->suite, c->dir, suite);
		else if (comp && strcmp(comp, cfg_component(r)) != 0)
			bad = pl_error(err, PL_EUSAGE, "--component '%s': %s is published as '%s'",
			               cfg_component(r), c->dir, comp);
		json_decref(cfg);
		if (bad)
			return bad;
	}
	return 0;
}

/* ---- the pool ------------------------------------------------------------------------------ */

/* Puts the .deb at src into the pool as p->filename, hashing the pool's
 * copy (what clients download) and checking it against want. A file of
 * that name already there must have the same content. */
static int pool_put(struct apt_ctx *c, struct apt_pkg *p, const char *src, const char *want,
                    struct pl_err *err)
{
	PL_AUTOFREE char *dst = pl_path_join(c->dir, p->filename);
	PL_AUTOFREE char *tmp = pl_strdupf("%s.tmp-%ld", dst, (long)getpid());
	PL_AUTOFREE char *dirn = pl_strndup(dst, (size_t)(strrchr(dst, '/') - dst));
	struct stat sb;
	int rc;

	if (pl_mkdir_p(dirn, 0755, err) < 0)
		return err->code;
	unlink(tmp);
	/* a copy, never a hard link: what the hosts download must not change
	 * when the patch store's file does */
	if (copy_file(src, tmp, err) < 0)
		return err->code;
	if (pl_sha256_file(tmp, p->sha256, err) < 0 || stat(tmp, &sb) < 0) {
		unlink(tmp);
		return err->code ? err->code
		                 : pl_error(err, PL_EIO, "%s: %s", tmp, strerror(errno));
	}
	p->size = (uint64_t)sb.st_size;
	if (want && strcmp(want, p->sha256) != 0) {
		unlink(tmp);
		return pl_error(err, PL_EINVAL, "%s: SHA-256 %s, but %s was expected", src,
		                p->sha256, want);
	}
	if (pl_path_exists(dst)) {
		char have[65];

		rc = pl_sha256_file(dst, have, err);
		unlink(tmp);
		if (rc < 0)
			return rc;
		if (strcmp(have, p->sha256) != 0)
			return pl_error(
			    err, PL_EINVAL,
			    "%s: %s is published already with other content (SHA-256 "
			    "%s, this one %s): a published version's file never changes",
			    src, p->filename, have, p->sha256);
		return 0;
	}
	if (rename(tmp, dst) < 0) {
		unlink(tmp);
		return pl_error(err, PL_EIO, "%s: %s", dst, strerror(errno));
	}
	c->added = strv_add(c->added, p->filename);
	return 0;
}

/* ---- a generation -------------------------------------------------------------------------- */

/* What a new generation holds, however it was made. */
struct gen_input {
	char **arches;        /* sorted */
	struct pl_buf *texts; /* Packages per arch, in arches' order */
	json_t *packages;     /* [{package, version, arch, source, filename, size, sha256}] */
	const char *kind;     /* "publish" or "rollback" */
	const char *label;    /* NULL: none */
	json_t *stack;        /* the publish generations behind this state; the
	                         new one's number is appended for a publish */
	int restores;         /* rollback: the generation whose state returns (0: empty) */
};

static void gen_input_clear(struct gen_input *in)
{
	for (size_t i = 0; in->arches && in->arches[i]; i++)
		pl_buf_release(&in->texts[i]);
	free(in->texts);
	strv_free(in->arches);
	json_decref(in->packages);
	json_decref(in->stack);
	memset(in, 0, sizeof(*in));
}

static int pkg_cmp(const void *a, const void *b)
{
	const struct apt_pkg *x = a, *y = b;
	int c = strcmp(x->package, y->package);

	return c ? c : strcmp(x->arch, y->arch);
}

/* The Packages text of arch from pkgs (sorted): arch's packages and "all". */
static void packages_text(const struct apt_pkg *pkgs, size_t n, const char *arch, struct pl_buf *b)
{
	for (size_t i = 0; i < n; i++) {
		const struct apt_pkg *p = &pkgs[i];

		if (strcmp(p->arch, arch) != 0 && strcmp(p->arch, "all") != 0)
			continue;
		if (b->len)
			pl_buf_addc(b, '\n');
		pl_buf_adds(b, p->fields);
		pl_buf_addf(b, "Filename: %s\nSize: %llu\nSHA256: %s\n", p->filename,
		            (unsigned long long)p->size, p->sha256);
		if (p->description)
			pl_buf_adds(b, p->description);
	}
}

/* One index file: written, listed for Release, linked by hash. */
static int index_write(const char *base, const char *rel, const char *data, size_t len,
                       int64_t date, json_t *indexes, struct pl_err *err)
{
	PL_AUTOFREE char *path = pl_path_join(base, rel);
	PL_AUTOFREE char *dirn = pl_strndup(path, (size_t)(strrchr(path, '/') - path));
	PL_AUTOFREE char *hdir = pl_path_join(dirn, "by-hash/SHA256");
	PL_AUTOFREE char *hpath = NULL;
	struct pl_sha256 h;
	char hex[65];

	pl_sha256_init(&h);
	pl_sha256_update(&h, data, len);
	pl_sha256_hex(&h, hex);
	hpath = pl_path_join(hdir, hex);
	if (pl_mkdir_p(hdir, 0755, err) < 0 || write_file(path, data, len, err) < 0)
		return err->code;
	set_mtime(path, date);
	if (!pl_path_exists(hpath) && link_or_copy(path, hpath, err) < 0)
		return err->code;
	json_array_append_new(indexes, json_pack("{s:s, s:I, s:s}", "name", rel, "size",
	                                         (json_int_t)len, "sha256", hex));
	return 0;
}

/* Links the previous generation's index files into the new one's by-hash
 * directories: a client that read the previous InRelease just before the
 * switch still finds the indexes it names. Best effort: a missing one only
 * costs such a client a retry. */
static void byhash_carry(const struct apt_ctx *c, const char *base)
{
	json_t *ix = json_object_get(c->cur_json, "indexes"), *v;
	PL_AUTOFREE char *prev = gen_path(c->dir, c->cur, NULL);
	struct pl_err ignored = PL_ERR_INIT;
	size_t i;

	json_array_foreach (ix, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *sha = json_string_value(json_object_get(v, "sha256"));
		PL_AUTOFREE char *dirn = NULL, *src = NULL, *ddir = NULL, *dst = NULL;

		if (!name || !sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64 ||
		    strstr(name, "..") || !strrchr(name, '/'))
			continue;
		dirn = pl_strndup(name, (size_t)(strrchr(name, '/') - name));
		src = pl_strdupf("%s/dists/%s/%s/by-hash/SHA256/%s", prev, c->r->suite, dirn, sha);
		ddir = pl_strdupf("%s/dists/%s/%s/by-hash/SHA256", base, c->r->suite, dirn);
		dst = pl_path_join(ddir, sha);
		if (pl_path_exists(dst) || !pl_path_exists(src) ||
		    pl_mkdir_p(ddir, 0755, &ignored) < 0)
			continue;
		link_or_copy(src, dst, &ignored);
	}
}

/* The Release text of the new generation. */
static void release_text(const struct apt_ctx *c, const struct gen_input *in, int64_t date,
                         json_t *indexes, int gen, struct pl_buf *b)
{
	const struct rollout_aptrepo *r = c->r;
	char d[40], u[40];
	json_t *v;
	size_t i;

	rfc2822(date, d);
	pl_buf_addf(b, "Origin: %s\nLabel: %s\nSuite: %s\nCodename: %s\nDate: %s\n",
	            r->origin ? r->origin : "patchlab", r->label ? r->label : "patchlab", r->suite,
	            r->suite, d);
	if (r->valid_for > 0) {
		rfc2822(date + r->valid_for, u);
		pl_buf_addf(b, "Valid-Until: %s\n", u);
	}
	pl_buf_adds(b, "Architectures:");
	for (i = 0; in->arches[i]; i++)
		pl_buf_addf(b, " %s", in->arches[i]);
	pl_buf_addf(b, "\nComponents: %s\nAcquire-By-Hash: yes\n", cfg_component(r));
	pl_buf_addf(b, "Description: patchlab wave repository, generation %d (%s)\n", gen,
	            in->kind);
	pl_buf_adds(b, "SHA256:\n");
	json_array_foreach (indexes, i, v)
		pl_buf_addf(b, " %s %16lld %s\n", json_string_value(json_object_get(v, "sha256")),
		            (long long)json_integer_value(json_object_get(v, "size")),
		            json_string_value(json_object_get(v, "name")));
}

/* gpg with r's home, in batch mode, never asking. */
static int gpg_run(const struct rollout_aptrepo *r, const char *const *args, struct pl_buf *out,
                   struct pl_err *err)
{
	const char *argv[24];
	struct pl_run_opts o = {.out = out, .timeout = GPG_TIMEOUT};
	size_t n = 0;

	argv[n++] = "gpg";
	if (r->gnupghome) {
		argv[n++] = "--homedir";
		argv[n++] = r->gnupghome;
	}
	argv[n++] = "--batch";
	argv[n++] = "--no-tty";
	argv[n++] = "--yes";
	while (*args && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	return pl_run_ok(argv, &o, err);
}

/* Signs Release both ways and exports the key's public part to keyring. */
static int sign_release(const struct apt_ctx *c, const char *sdir, const char *keyring,
                        struct pl_err *err)
{
	const struct rollout_aptrepo *r = c->r;
	PL_AUTOFREE char *rel = pl_path_join(sdir, "Release");
	PL_AUTOFREE char *inrel = pl_path_join(sdir, "InRelease");
	PL_AUTOFREE char *sig = pl_path_join(sdir, "Release.gpg");
	PL_AUTOBUF struct pl_buf pub = PL_BUF_INIT;
	const char *list[] = {"--list-secret-keys", "--with-colons", "--", r->key, NULL};
	const char *clear[] = {"--local-user", r->key,        "--digest-algo",
	                       "SHA512",       "--clearsign", "--output",
	                       inrel,          rel,           NULL};
	const char *detach[] = {"--local-user",
	                        r->key,
	                        "--digest-algo",
	                        "SHA512",
	                        "--armor",
	                        "--detach-sign",
	                        "--output",
	                        sig,
	                        rel,
	                        NULL};
	const char *export[] = {"--export", "--", r->key, NULL};
	PL_AUTOBUF struct pl_buf ignored = PL_BUF_INIT;

	if (!pl_have_program("gpg"))
		return pl_error(err, PL_EENV, "gpg is not installed (Debian package gpg)");
	if (gpg_run(r, list, &ignored, err) < 0)
		return pl_error(err, PL_EUSAGE, "--key '%s': no secret key for it in %s", r->key,
		                r->gnupghome ? r->gnupghome : "gpg's home ($GNUPGHOME)");
	if (gpg_run(r, clear, NULL, err) < 0 || gpg_run(r, detach, NULL, err) < 0)
		return pl_error_prefix(err, "signing %s with key '%s'", rel, r->key);
	if (gpg_run(r, export, &pub, err) < 0)
		return pl_error_prefix(err, "exporting key '%s'", r->key);
	if (pub.len == 0)
		return pl_error(err, PL_EUSAGE, "--key '%s': gpg exports no public key for it",
		                r->key);
	return write_file(keyring, pub.s, pub.len, err);
}

/* Proves the signatures good with gpgv against keyring (apt's verdict) and
 * the signed Release readable by patchlab's own sync. */
static int verify_release(const struct apt_ctx *c, const char *sdir, const char *keyring,
                          const char *work, char **signers, struct pl_err *err)
{
	PL_AUTOFREE char *rel = pl_path_join(sdir, "Release");
	PL_AUTOFREE char *inrel = pl_path_join(sdir, "InRelease");
	PL_AUTOFREE char *sig = pl_path_join(sdir, "Release.gpg");
	PL_AUTOFREE char *s2 = NULL, *data = NULL, *body = NULL;
	struct repo_release parsed;
	size_t len, blen;
	int rc;

	if (mkdir(work, 0700) < 0 && errno != EEXIST)
		return pl_error(err, PL_EIO, "%s: %s", work, strerror(errno));
	if (repo_gpgv_verify(keyring, inrel, NULL, work, signers, err) < 0 ||
	    repo_gpgv_verify(keyring, rel, sig, work, &s2, err) < 0)
		return pl_error_prefix(err, "the signature just made does not verify");
	if (pl_file_read(inrel, &data, &len, err) < 0 ||
	    pkgdb_clearsign_body(data, len, inrel, &body, &blen, err) < 0 ||
	    repo_release_parse(body, blen, inrel, &parsed, err) < 0)
		return pl_error_prefix(err, "the Release just made does not read back");
	rc = repo_release_check(&parsed, c->r->suite, parsed.date, 0, inrel, err);
	repo_release_free(&parsed);
	return rc;
}

/* Switches DIR/dists to generation gen: one rename(2) of a symlink. */
static int switch_dists(const char *dir, int gen, struct pl_err *err)
{
	PL_AUTOFREE char *target = pl_strdupf("generations/" GEN_FMT "/dists", gen);
	PL_AUTOFREE char *tmp = pl_strdupf("%s/.dists.%ld", dir, (long)getpid());
	PL_AUTOFREE char *link = pl_path_join(dir, "dists");

	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return pl_error(err, PL_EIO, "%s: %s", tmp, strerror(errno));
	if (rename(tmp, link) < 0) {
		int e = errno;

		unlink(tmp);
		return pl_error(err, PL_EIO, "%s: %s", link, strerror(e));
	}
	fsync_dir(dir);
	return 0;
}

static int int_in(json_t *arr, int v)
{
	json_t *x;
	size_t i;

	json_array_foreach (arr, i, x)
		if (json_integer_value(x) == v)
			return 1;
	return 0;
}

/* Removes the files under DIR/rel (a pool directory) that keep does not
 * name, and the directories left empty. */
static void pool_gc(const char *dir, const char *rel, json_t *keep)
{
	PL_AUTOFREE char *path = pl_path_join(dir, rel);
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		PL_AUTOFREE char *r2 = NULL, *p2 = NULL;
		struct stat sb;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		r2 = pl_strdupf("%s/%s", rel, e->d_name);
		p2 = pl_path_join(dir, r2);
		if (lstat(p2, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			pool_gc(dir, r2, keep);
		else if (!json_object_get(keep, r2))
			unlink(p2);
	}
	closedir(d);
	rmdir(path); /* fails while not empty: fine */
}

/* Drops generations that are neither among the last keep nor in the
 * current state's stack, then the pool files none of the kept ones names.
 * Best effort after the switch: what fails is retried at the next publish. */
static void prune(struct apt_ctx *c, int gen, json_t *stack, int keep)
{
	struct pl_err ignored = PL_ERR_INIT;
	PL_AUTOFREE int *gens = NULL;
	PL_AUTOJSON json_t *names = json_object();
	size_t n;

	if (generations_list(c->dir, &gens, &n, &ignored) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		json_t *gj = NULL, *v;
		size_t k;

		if (gens[i] <= gen - keep && !int_in(stack, gens[i])) {
			PL_AUTOFREE char *p = gen_path(c->dir, gens[i], NULL);

			rollout_rmtree(p, &ignored);
			continue;
		}
		if (gen_json_load(c->dir, gens[i], &gj, &ignored) < 0)
			return; /* unreadable: keep every pool file */
		json_array_foreach (json_object_get(gj, "packages"), k, v) {
			const char *f = json_string_value(json_object_get(v, "filename"));

			if (f)
				json_object_set_new(names, f, json_true());
		}
		json_decref(gj);
	}
	pool_gc(c->dir, "pool", names);
}

static json_t *arches_json(char *const *arches)
{
	json_t *a = json_array();

	for (size_t i = 0; arches && arches[i]; i++)
		json_array_append_new(a, json_string(arches[i]));
	return a;
}

static json_t *cfg_json(const struct rollout_aptrepo *r, char **arches)
{
	json_t *a = arches_json(arches);

	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:i}", "suite", r->suite, "component",
	                 cfg_component(r), "arches", a, "origin",
	                 r->origin ? r->origin : "patchlab", "label",
	                 r->label ? r->label : "patchlab", "key", r->key, "valid_days",
	                 (json_int_t)(r->valid_for / 86400), "keep", cfg_keep(r));
}

/*
 * The new Release's Date: now, and always after prev. A publish in the same
 * second as the previous one waits for the next second (when the clock
 * moves) rather than writing a Date ahead of the clock: files written in
 * one second share their Last-Modified, and a client's If-Modified-Since
 * would get "304 Not Modified" for the new InRelease.
 */
static int64_t release_date(const struct pl_clock *clock, int64_t prev)
{
	int64_t now = pl_clock_now(clock);

	if (now == prev) { /* the same second: wait for the next one, once */
		struct timespec ts, rem;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec = 0;
		ts.tv_nsec = 1000000000L - ts.tv_nsec + 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec = 1;
			ts.tv_nsec -= 1000000000L;
		}
		while (nanosleep(&ts, &rem) < 0 && errno == EINTR)
			ts = rem;
		now = pl_clock_now(clock);
	}
	/* a pinned clock, or one behind the previous Date: a second past it */
	return now > prev ? now : prev + 1;
}

/* Writes Packages, .gz and .xz per architecture into sdir (by hash too)
 * and links the previous generation's indexes in; lists them in indexes. */
static int gen_indexes(struct apt_ctx *c, const struct gen_input *in, const char *sdir,
                       int64_t date, json_t *indexes, struct pl_err *err)
{
	const char *comp = cfg_component(c->r);
	int rc = 0;

	for (size_t i = 0; in->arches[i] && rc == 0; i++) {
		PL_AUTOBUF struct pl_buf gz = PL_BUF_INIT, xz = PL_BUF_INIT;
		PL_AUTOFREE char *base = pl_strdupf("%s/binary-%s/Packages", comp, in->arches[i]);
		PL_AUTOFREE char *bgz = pl_strdupf("%s.gz", base), *bxz = pl_strdupf("%s.xz", base);
		const struct pl_buf *t = &in->texts[i];

		rc = gzip_buf(pl_buf_str(t), t->len, &gz, err);
		if (rc == 0)
			rc = xz_buf(pl_buf_str(t), t->len, &xz, err);
		if (rc == 0)
			rc = index_write(sdir, base, pl_buf_str(t), t->len, date, indexes, err);
		if (rc == 0)
			rc = index_write(sdir, bgz, gz.s, gz.len, date, indexes, err);
		if (rc == 0)
			rc = index_write(sdir, bxz, xz.s, xz.len, date, indexes, err);
	}
	if (rc == 0 && c->cur)
		byhash_carry(c, c->tmp);
	return rc;
}

/* Writes Release, signs it, verifies the signatures; *keydata gets the
 * exported public key (the file is not left in the generation). */
static int gen_sign(struct apt_ctx *c, const struct gen_input *in, const char *sdir, int gen,
                    int64_t date, json_t *indexes, char **signers, char **keydata, size_t *keylen,
                    struct pl_err *err)
{
	PL_AUTOBUF struct pl_buf release = PL_BUF_INIT;
	PL_AUTOFREE char *rel = pl_path_join(sdir, "Release");
	PL_AUTOFREE char *keyring = pl_path_join(c->tmp, "keyring.gpg");
	PL_AUTOFREE char *work = pl_path_join(c->tmp, ".gpgv");

	release_text(c, in, date, indexes, gen, &release);
	if (write_file(rel, release.s, release.len, err) < 0 ||
	    sign_release(c, sdir, keyring, err) < 0 ||
	    verify_release(c, sdir, keyring, work, signers, err) < 0 ||
	    rollout_rmtree(work, err) < 0 || pl_file_read(keyring, keydata, keylen, err) < 0)
		return err->code;
	unlink(keyring);
	for (size_t i = 0; i < 3; i++) {
		static const char *const names[] = {"Release", "InRelease", "Release.gpg"};
		PL_AUTOFREE char *f = pl_path_join(sdir, names[i]);

		set_mtime(f, date);
	}
	return 0;
}

/* generation.json: what the generation holds and the state stack. */
static json_t *gen_record(const struct apt_ctx *c, struct gen_input *in, int gen, int64_t date,
                          json_t *indexes, const char *signers)
{
	const struct rollout_aptrepo *r = c->r;
	char iso[21];
	json_t *gj;

	pl_time_iso(date, iso);
	if (!strcmp(in->kind, "publish"))
		json_array_append_new(in->stack, json_integer(gen));
	while (json_array_size(in->stack) > (size_t)cfg_keep(r))
		json_array_remove(in->stack, 0);
	gj = json_pack("{s:i, s:s, s:s?, s:s, s:I, s:O, s:s, s:s, s:o, s:O, s:O, s:s, s:s}",
	               "generation", gen, "kind", in->kind, "label", in->label, "date", iso,
	               "date_unix", (json_int_t)date, "stack", in->stack, "suite", r->suite,
	               "component", cfg_component(r), "arches", arches_json(in->arches), "packages",
	               in->packages, "indexes", indexes, "key", r->key, "signers",
	               signers ? signers : "");
	json_object_set_new(gj, "previous", c->cur ? json_integer(c->cur) : json_null());
	if (!strcmp(in->kind, "rollback"))
		json_object_set_new(gj, "restores", json_integer(in->restores));
	return gj;
}

/* Makes the built generation current: renamed into generations/, then the
 * keyring and repo.json, then the one rename of the dists link. */
static int gen_switch(struct apt_ctx *c, const struct gen_input *in, int gen, const char *keydata,
                      size_t keylen, struct pl_err *err)
{
	PL_AUTOFREE char *final_key = pl_path_join(c->dir, "keyring.gpg");
	PL_AUTOFREE char *cfgp = pl_path_join(c->dir, "repo.json");
	json_t *cj;
	int rc;

	c->gen_dir = gen_path(c->dir, gen, NULL);
	if (rename(c->tmp, c->gen_dir) < 0) {
		rc = pl_error(err, PL_EIO, "%s: %s", c->gen_dir, strerror(errno));
		free(c->gen_dir);
		c->gen_dir = NULL;
		return rc;
	}
	free(c->tmp);
	c->tmp = NULL;
	fsync_dir(c->dir);
	if (write_file(final_key, keydata, keylen, err) < 0)
		return err->code;
	cj = cfg_json(c->r, in->arches);
	rc = write_json(cfgp, cj, err);
	json_decref(cj);
	if (rc == 0)
		rc = switch_dists(c->dir, gen, err);
	if (rc < 0)
		return rc;
	free(c->gen_dir);
	c->gen_dir = NULL; /* current now: never removed on the way out */
	for (size_t i = 0; c->added && c->added[i]; i++)
		free(c->added[i]);
	free(c->added);
	c->added = NULL; /* named by a kept generation now */
	return 0;
}

/* Builds generation cur+1 from in beside the current one, signs and
 * verifies it, then makes it current and prunes. */
static int gen_build(struct apt_ctx *c, struct gen_input *in, struct rollout_publish_result *out,
                     struct pl_err *err)
{
	const struct rollout_aptrepo *r = c->r;
	PL_AUTOFREE int *gens = NULL;
	PL_AUTOFREE char *sdir = NULL, *signers = NULL, *keydata = NULL;
	PL_AUTOJSON json_t *indexes = json_array();
	PL_AUTOJSON json_t *gj = NULL;
	json_t *prev_date = json_object_get(c->cur_json, "date_unix");
	int64_t date = pl_clock_now(r->clock);
	size_t ngens, keylen = 0;
	double t0;
	int gen, rc;

	if (generations_list(c->dir, &gens, &ngens, err) < 0)
		goto fail;
	gen = (ngens ? gens[ngens - 1] : 0) + 1;
	if (gen <= c->cur)
		gen = c->cur + 1;
	if (json_is_integer(prev_date))
		date = release_date(r->clock, json_integer_value(prev_date));
	c->tmp = pl_strdupf("%s/generations/.tmp-" GEN_FMT "-%ld", c->dir, gen, (long)getpid());
	sdir = pl_strdupf("%s/dists/%s", c->tmp, r->suite);
	if (pl_mkdir_p(sdir, 0755, err) < 0)
		goto fail;

	t0 = pl_progress_begin(r->progress, "index", "%s: generation %d", r->suite, gen);
	rc = gen_indexes(c, in, sdir, date, indexes, err);
	pl_progress_end(r->progress, "index", rc, t0);
	if (rc < 0)
		goto fail;
	t0 = pl_progress_begin(r->progress, "sign", "%s: key %s", r->suite, r->key);
	rc = gen_sign(c, in, sdir, gen, date, indexes, &signers, &keydata, &keylen, err);
	pl_progress_end(r->progress, "sign", rc, t0);
	if (rc < 0)
		goto fail;
	gj = gen_record(c, in, gen, date, indexes, signers);
	{
		PL_AUTOFREE char *gjp = pl_path_join(c->tmp, "generation.json");

		if (write_json(gjp, gj, err) < 0)
			goto fail;
	}
	t0 = pl_progress_begin(r->progress, "switch", "%s: generation %d", r->suite, gen);
	rc = gen_switch(c, in, gen, keydata, keylen, err);
	pl_progress_end(r->progress, "switch", rc, t0);
	if (rc < 0)
		goto fail;
	prune(c, gen, in->stack, cfg_keep(r));
	if (out) {
		memset(out, 0, sizeof(*out));
		out->generation = gen;
		out->previous = c->cur;
		out->date = date;
		out->npackages = json_array_size(in->packages);
		out->detail = json_incref(gj);
	}
	return 0;
fail:
	ctx_abort(c);
	return err->code ? err->code : PL_EINTERNAL;
}

/* ---- publish ------------------------------------------------------------------------------- */

static json_t *pkg_json(const struct apt_pkg *p)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "package", p->package, "version",
	                 p->version, "arch", p->arch, "source", p->source, "filename", p->filename,
	                 "size", (json_int_t)p->size, "sha256", p->sha256);
}

/* The architectures of the indexes: r's, else those of the packages, else
 * dpkg's. Every package's must be among them (or be "all"). */
static int publish_arches(const struct rollout_aptrepo *r, const struct apt_pkg *pkgs, size_t n,
                          const struct rollout_deb *debs, char ***out, struct pl_err *err)
{
	char **a = NULL;

	for (size_t i = 0; r->arches && r->arches[i]; i++)
		a = strv_add(a, r->arches[i]);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pkgs[i].arch, "all") == 0 || strv_has(a, pkgs[i].arch))
			continue;
		if (r->arches) {
			strv_free(a);
			return pl_error(err, PL_EINVAL,
			                "%s: Architecture '%s' is not one of the repository's "
			                "(--arch)",
			                debs[i].path, pkgs[i].arch);
		}
		a = strv_add(a, pkgs[i].arch);
	}
	if (!a) {
		PL_AUTOFREE char *d = repo_default_arch();

		a = strv_add(a, d);
	}
	qsort(a, strv_len(a), sizeof(*a), strv_cmp);
	*out = a;
	return 0;
}

int rollout_aptrepo_publish(const struct rollout_aptrepo *r, const struct rollout_deb *debs,
                            size_t ndebs, const char *label, struct rollout_publish_result *out,
                            struct pl_err *err)
{
	struct apt_ctx c = {.lock_fd = -1};
	struct gen_input in = {0};
	struct apt_pkg *pkgs;
	int rc = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (cfg_check(r, 1, err) < 0)
		return err->code;
	if (label && !text_ok(label, 200))
		return pl_error(err, PL_EUSAGE, "label: one line of printable text, at most 200");
	if (ctx_open(&c, r, err) < 0) {
		ctx_close(&c);
		return err->code;
	}
	pkgs = pl_calloc(ndebs ? ndebs : 1, sizeof(*pkgs));
	for (size_t i = 0; i < ndebs && rc == 0; i++) {
		double t0 = pl_progress_begin(r->progress, "read", "%s", debs[i].path);

		rc = deb_read(debs[i].path, cfg_component(r), &pkgs[i], err);
		if (rc == 0)
			rc = pool_put(&c, &pkgs[i], debs[i].path, debs[i].sha256, err);
		pl_progress_end(r->progress, "read", rc, t0);
		for (size_t k = 0; rc == 0 && k < i; k++)
			if (!strcmp(pkgs[k].package, pkgs[i].package) &&
			    !strcmp(pkgs[k].arch, pkgs[i].arch))
				rc = pl_error(
				    err, PL_EINVAL,
				    "%s: %s (%s) is given twice (%s and %s): one version per "
				    "package and architecture",
				    debs[i].path, pkgs[i].package, pkgs[i].arch, pkgs[k].version,
				    pkgs[i].version);
	}
	if (rc == 0)
		rc = publish_arches(r, pkgs, ndebs, debs, &in.arches, err);
	if (rc == 0) {
		size_t na = strv_len(in.arches);

		qsort(pkgs, ndebs, sizeof(*pkgs), pkg_cmp);
		in.texts = pl_calloc(na, sizeof(*in.texts));
		for (size_t i = 0; i < na; i++)
			packages_text(pkgs, ndebs, in.arches[i], &in.texts[i]);
		in.packages = json_array();
		for (size_t i = 0; i < ndebs; i++)
			json_array_append_new(in.packages, pkg_json(&pkgs[i]));
		in.kind = "publish";
		in.label = label;
		in.stack = json_deep_copy(json_object_get(c.cur_json, "stack"));
		if (!json_is_array(in.stack)) {
			json_decref(in.stack);
			in.stack = json_array();
		}
		rc = gen_build(&c, &in, out, err);
	} else {
		ctx_abort(&c);
	}
	for (size_t i = 0; i < ndebs; i++)
		apt_pkg_clear(&pkgs[i]);
	free(pkgs);
	gen_input_clear(&in);
	ctx_close(&c);
	if (rc < 0)
		pl_error_prefix(err, "publishing %s", r->dir);
	return rc;
}

/* ---- rollback ---------------------------------------------------------------------------------
 */

/* The state of generation target (its arches, Packages texts, packages),
 * or the empty state over the current arches when target is 0. */
static int rollback_input(struct apt_ctx *c, int target, struct gen_input *in, struct pl_err *err)
{
	PL_AUTOJSON json_t *tj = NULL;
	json_t *arches, *v;
	size_t i, na;

	if (target && gen_json_load(c->dir, target, &tj, err) < 0)
		return pl_error(err, PL_ESTATE,
		                "generation %d, the state to roll back to, is gone: %s", target,
		                err->msg);
	arches = json_object_get(target ? tj : c->cur_json, "arches");
	na = json_array_size(arches);
	if (!na)
		return pl_error(err, PL_ESTATE, "generation %d lists no architectures",
		                target ? target : c->cur);
	json_array_foreach (arches, i, v)
		in->arches = strv_add(in->arches, json_string_value(v));
	in->texts = pl_calloc(na, sizeof(*in->texts));
	for (i = 0; i < na && target; i++) {
		PL_AUTOFREE char *rel = pl_strdupf("dists/%s/%s/binary-%s/Packages", c->r->suite,
		                                   cfg_component(c->r), in->arches[i]);
		PL_AUTOFREE char *p = gen_path(c->dir, target, rel);
		PL_AUTOFREE char *data = NULL;
		size_t len;

		if (pl_file_read(p, &data, &len, err) < 0)
			return pl_error_prefix(err, "generation %d", target);
		pl_buf_add(&in->texts[i], data, len);
	}
	in->packages = target ? json_deep_copy(json_object_get(tj, "packages")) : json_array();
	if (!json_is_array(in->packages))
		return pl_error(err, PL_ESTATE, "generation %d: no package list", target);
	return 0;
}

int rollout_aptrepo_rollback(struct store *st, const struct rollout_aptrepo *r,
                             struct rollout_publish_result *out, struct pl_err *err)
{
	struct apt_ctx c = {.lock_fd = -1};
	struct gen_input in = {0};
	struct rollout_publish_result res = {0};
	json_t *stack;
	PL_AUTOFREE char *label = NULL;
	int rc, target;

	if (out)
		memset(out, 0, sizeof(*out));
	if (cfg_check(r, 1, err) < 0)
		return err->code;
	rc = ctx_open(&c, r, err);
	if (rc == 0 && !c.cur)
		rc = pl_error(err, PL_ESTATE, "%s: nothing is published", c.dir);
	stack = json_object_get(c.cur_json, "stack");
	if (rc == 0 && json_array_size(stack) == 0)
		rc = pl_error(err, PL_ESTATE,
		              "%s: nothing to roll back to (generation %d is the empty state, or "
		              "older states were pruned)",
		              c.dir, c.cur);
	if (rc < 0) {
		ctx_close(&c);
		return err->code;
	}
	in.stack = json_deep_copy(stack);
	json_array_remove(in.stack, json_array_size(in.stack) - 1);
	target =
	    json_array_size(in.stack)
	        ? (int)json_integer_value(json_array_get(in.stack, json_array_size(in.stack) - 1))
	        : 0;
	label = target ? pl_strdupf("rollback of generation %d to generation %d", c.cur, target)
	               : pl_strdupf("rollback of generation %d to the empty state", c.cur);
	in.kind = "rollback";
	in.label = label;
	in.restores = target;
	rc = rollback_input(&c, target, &in, err);
	if (rc == 0)
		rc = gen_build(&c, &in, &res, err);
	gen_input_clear(&in);
	ctx_close(&c);
	if (rc == 0 && st) {
		PL_AUTOFREE char *abs = realpath(r->dir, NULL);
		json_t *d = json_pack("{s:s, s:i, s:i, s:i}", "suite", r->suite, "generation",
		                      res.generation, "previous", res.previous, "restores", target);

		rc = audit_append(st, NULL, "publish-rollback", "apt-repo", abs ? abs : r->dir, d,
		                  err);
		json_decref(d);
		if (rc < 0)
			pl_error_prefix(err, "rolled back to generation %d, but", res.generation);
	}
	if (rc < 0)
		pl_error_prefix(err, "rolling back %s", r->dir);
	if (out)
		*out = res;
	else
		rollout_publish_result_clear(&res);
	return rc;
}

/* ---- the candidate's publish ----------------------------------------------------------------- */

int rollout_aptrepo_publish_candidate(struct store *st, const struct rollout_aptrepo *r,
                                      const char *candidate, const char *wave,
                                      struct rollout_publish_result *out, struct pl_err *err)
{
	static const char *const ok[] = {"approved", "scheduled", "rolling-out", "deployed", NULL};
	struct candidate c;
	struct rollout_deb *debs;
	struct rollout_publish_result res = {0};
	PL_AUTOFREE char *label = NULL;
	int rc, allowed = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (wave && !text_ok(wave, 64))
		return pl_error(err, PL_EUSAGE, "--wave: one line of printable text, at most 64");
	if (candidate_get(st, candidate, &c, err) < 0)
		return err->code;
	for (size_t i = 0; ok[i]; i++)
		allowed |= strcmp(c.state, ok[i]) == 0;
	if (!allowed) {
		rc = pl_error(err, PL_ESTATE,
		              "candidate '%s' is %s, not approved: only approved versions are "
		              "published",
		              candidate, c.state);
		candidate_clear(&c);
		return rc;
	}
	debs = pl_calloc(c.npatches ? c.npatches : 1, sizeof(*debs));
	for (size_t i = 0; i < c.npatches; i++)
		debs[i] = (struct rollout_deb){c.patches[i].path, c.patches[i].sha256};
	label = wave ? pl_strdupf("candidate %s, wave %s", candidate, wave)
	             : pl_strdupf("candidate %s", candidate);
	rc = rollout_aptrepo_publish(r, debs, c.npatches, label, &res, err);
	if (rc == 0) {
		PL_AUTOFREE char *abs = realpath(r->dir, NULL);
		json_t *d = json_pack("{s:s, s:s, s:s?, s:i, s:I}", "dir", abs ? abs : r->dir,
		                      "suite", r->suite, "wave", wave, "generation", res.generation,
		                      "packages", (json_int_t)res.npackages);

		rc = audit_append(st, NULL, "publish", "candidate", candidate, d, err);
		json_decref(d);
		if (rc < 0)
			pl_error_prefix(err, "published generation %d, but", res.generation);
	}
	free(debs);
	candidate_clear(&c);
	if (out)
		*out = res;
	else
		rollout_publish_result_clear(&res);
	return rc;
}

/* ---- reading a published repository ------------------------------------------------------------
 */

int rollout_aptrepo_load(const char *dir, struct rollout_aptrepo *out, struct pl_err *err)
{
	PL_AUTOFREE char *p = pl_path_join(dir, "repo.json");
	PL_AUTOJSON json_t *j = NULL;
	struct pl_jdoc d = {p, err};

	memset(out, 0, sizeof(*out));
	if (!pl_path_exists(p))
		return pl_error(err, PL_ENOTFOUND,
		                "%s: no repository published there (no repo.json)", dir);
	if (pl_json_load_file(p, &j, err) < 0)
		return err->code;
	json_object_set_new(j, "dir", json_string(dir));
	return rollout_aptrepo_parse(&d, j, "$", out);
}

int rollout_aptrepo_show(const char *dir, json_t **out, struct pl_err *err)
{
	PL_AUTOFREE char *cfgp = pl_path_join(dir, "repo.json");
	PL_AUTOFREE int *gens = NULL;
	json_t *cfg = NULL, *list, *cur_j = NULL;
	size_t n;
	int cur;

	*out = NULL;
	if (!pl_path_exists(cfgp))
		return pl_error(err, PL_ENOTFOUND,
		                "%s: no repository published there (no repo.json)", dir);
	if (pl_json_load_file(cfgp, &cfg, err) < 0)
		return err->code;
	if (current_generation(dir, &cur, err) < 0 || generations_list(dir, &gens, &n, err) < 0) {
		json_decref(cfg);
		return err->code;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *gj = NULL;

		if (gen_json_load(dir, gens[i], &gj, err) < 0) {
			json_decref(cfg);
			json_decref(list);
			return err->code;
		}
		json_array_append_new(
		    list, json_pack("{s:i, s:O, s:O, s:O, s:I, s:b}", "generation", gens[i], "kind",
		                    json_object_get(gj, "kind"), "label",
		                    json_object_get(gj, "label") ? json_object_get(gj, "label")
		                                                 : json_null(),
		                    "date", json_object_get(gj, "date"), "packages",
		                    (json_int_t)json_array_size(json_object_get(gj, "packages")),
		                    "current", gens[i] == cur));
		if (gens[i] == cur)
			cur_j = json_incref(gj);
		json_decref(gj);
	}
	json_object_set_new(cfg, "dir", json_string(dir));
	json_object_set_new(cfg, "current", cur ? json_integer(cur) : json_null());
	json_object_set_new(cfg, "generations", list);
	json_object_set_new(cfg, "packages",
	                    cur_j ? json_deep_copy(json_object_get(cur_j, "packages"))
	                          : json_array());
	json_object_set_new(cfg, "stack",
	                    cur_j ? json_deep_copy(json_object_get(cur_j, "stack")) : json_array());
	json_object_set_new(
	    cfg, "signers",
	    json_string(cur_j && json_string_value(json_object_get(cur_j, "signers"))
	                    ? json_string_value(json_object_get(cur_j, "signers"))
	                    : ""));
	json_decref(cur_j);
	*out = cfg;
	return 0;
}

char *rollout_aptrepo_sources(const struct rollout_aptrepo *r, const char *url, const char *keyring)
{
	return pl_strdupf("Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\n", url,
	                  r->suite, cfg_component(r), keyring);
}
