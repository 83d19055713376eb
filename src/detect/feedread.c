/*
 * feedread.c - a feed of any kind from a local path into a sink: one file
 * (plain, gzip or xz), or for OSV also a directory tree of .json files or
 * a zip archive of them. Messages name the file, and inside an archive the
 * entry ("all.zip: DSA-1-1.json:3:7: ...").
 */
#include "detect/detect-private.h"

#include <dirent.h>
#include <sys/stat.h>

#define DIR_MAX_DEPTH 16

static const char *const kind_names[DETECT_FEED_NKINDS] = {"debian-tracker", "osv", "epss", "kev"};

const char *detect_feed_kind_name(int kind)
{
	return kind >= 0 && kind < DETECT_FEED_NKINDS ? kind_names[kind] : "?";
}

int detect_feed_kind_parse(const char *s)
{
	for (int k = 0; k < DETECT_FEED_NKINDS; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return k;
	return -1;
}

/* Parses one JSON text of kind (tracker, osv or kev). */
static int read_json(int kind, const char *buf, size_t len, const char *name, const char *release,
                     const struct detect_sink *sink, struct pl_err *err)
{
	PL_AUTOJSON json_t *doc = NULL;

	if (detect_json_parse(buf, len, name, &doc, err) < 0)
		return PL_EINVAL;
	if (kind == DETECT_FEED_TRACKER)
		return detect_tracker_parse(doc, name, release, sink, err);
	if (kind == DETECT_FEED_OSV)
		return detect_osv_parse(doc, name, sink, err);
	return detect_kev_parse(doc, name, sink, err);
}

static int has_json_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

struct osv_walk {
	const char *file;
	const struct detect_sink *sink;
	size_t files, skipped;
};

/* 1 when a component of name starts with '.' or is __MACOSX (resource
 * forks): skipped like the hidden entries of a directory. */
static int hidden_entry(const char *name)
{
	for (const char *p = name; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (*p == '.' || strncmp(p, "__MACOSX/", 9) == 0)
			return 1;
	return 0;
}

/* One zip entry: .json entries are advisories, anything else is counted. */
static int zip_entry(void *ctx, const char *name, const char *data, size_t len, struct pl_err *err)
{
	struct osv_walk *w = ctx;
	PL_AUTOFREE char *where = NULL;

	if (!has_json_suffix(name) || hidden_entry(name)) {
		w->skipped++;
		return 0;
	}
	where = pl_strdupf("%s: %s", w->file, name);
	w->files++;
	return read_json(DETECT_FEED_OSV, data, len, where, NULL, w->sink, err);
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the .json files under dir (not following directory links). */
static int dir_collect(const char *dir, int depth, char ***v, size_t *n, size_t *cap,
                       struct pl_err *err)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (depth > DIR_MAX_DEPTH)
		return pl_error(err, PL_EINVAL, "%s: directories nested deeper than %d", dir,
		                DIR_MAX_DEPTH);
	if (!(d = opendir(dir)))
		return pl_error(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "%s: %s", dir,
		                strerror(errno));
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		PL_AUTOFREE char *p = NULL;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		p = pl_path_join(dir, de->d_name);
		if (lstat(p, &st) < 0)
			rc = pl_error(err, PL_EIO, "%s: %s", p, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = dir_collect(p, depth + 1, v, n, cap, err);
		else if (has_json_suffix(de->d_name) &&
		         (S_ISREG(st.st_mode) || (stat(p, &st) == 0 && S_ISREG(st.st_mode)))) {
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 64;
				*v = pl_realloc(*v, *cap * sizeof(char *));
			}
			(*v)[(*n)++] = PL_STEAL(p);
		}
	}
	if (rc == 0 && errno != 0)
		rc = pl_error(err, PL_EIO, "%s: %s", dir, strerror(errno));
	closedir(d);
	return rc;
}

static int read_osv_dir(const char *dir, const struct detect_sink *sink,
                        const struct pl_progress *progress, struct pl_err *err)
{
	char **v = NULL;
	size_t n = 0, cap = 0, i;
	int rc = dir_collect(dir, 0, &v, &n, &cap, err);
	double t0 = pl_progress_begin(progress, "read", "%s", dir);

	if (rc == 0)
		qsort(v, n, sizeof(char *), path_cmp);
	for (i = 0; rc == 0 && i < n; i++) {
		PL_AUTOFREE char *buf = NULL;
		size_t len;

		rc = detect_file_load(v[i], &buf, &len, NULL, err);
		if (rc == 0)
			rc = read_json(DETECT_FEED_OSV, buf, len, v[i], NULL, sink, err);
	}
	if (rc == 0 && n == 0)
		rc = pl_error(err, PL_EINVAL, "%s: no .json files", dir);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	if (rc == 0 && sink->info)
		json_object_set_new(sink->info, "files", json_integer((json_int_t)n));
	pl_progress_end(progress, "read", rc, t0);
	return rc;
}

/* A zip of OSV files: read raw (no gzip/xz around a zip). */
static int read_osv_zip(const char *path, const char *raw, size_t len,
                        const struct detect_sink *sink, struct pl_err *err)
{
	struct osv_walk w = {path, sink, 0, 0};
	int rc = detect_zip_each(raw, len, path, DETECT_FEED_MAX_BYTES, zip_entry, &w, err);

	if (rc == 0 && w.files == 0)
		rc = pl_error(err, PL_EINVAL, "%s: no .json entries in the archive", path);
	if (rc == 0 && sink->info) {
		json_object_set_new(sink->info, "files", json_integer((json_int_t)w.files));
		json_object_set_new(sink->info, "skipped", json_integer((json_int_t)w.skipped));
	}
	return rc;
}

static int is_zip(const char *p, size_t len)
{
	return len >= 4 && p[0] == 'P' && p[1] == 'K' &&
	       ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6));
}

int detect_feed_read(int kind, const char *path, const char *label, const char *release,
                     const struct detect_sink *sink, const struct pl_progress *progress,
                     char sha256[65], struct pl_err *err)
{
	PL_AUTOFREE char *raw = NULL, *text = NULL;
	struct pl_sha256 c;
	struct stat st;
	size_t len, tlen;
	double t0;
	int rc;

	if (sha256)
		sha256[0] = '\0';
	if (kind < 0 || kind >= DETECT_FEED_NKINDS)
		return pl_error(err, PL_EINTERNAL, "unknown feed kind %d", kind);
	if (stat(path, &st) < 0)
		return pl_error(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "%s: %s", path,
		                strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (kind != DETECT_FEED_OSV)
			return pl_error(err, PL_EINVAL,
			                "%s: is a directory (only osv feeds may be)", path);
		return read_osv_dir(path, sink, progress, err);
	}
	if (!label)
		label = path;
	if ((uint64_t)st.st_size > (uint64_t)DETECT_FEED_MAX_BYTES)
		return pl_error(err, PL_EINVAL, "%s: larger than %zu bytes", label,
		                DETECT_FEED_MAX_BYTES);
	t0 = pl_progress_begin(progress, "read", "%s (%lld bytes)", label, (long long)st.st_size);
	rc = pl_file_read(path, &raw, &len, err);
	if (rc == 0 && sha256) {
		pl_sha256_init(&c);
		pl_sha256_update(&c, raw, len);
		pl_sha256_hex(&c, sha256);
	}
	if (rc == 0 && is_zip(raw, len)) {
		rc = kind == DETECT_FEED_OSV
		         ? read_osv_zip(label, raw, len, sink, err)
		         : pl_error(err, PL_EINVAL, "%s: a zip archive (only osv feeds may be)",
		                    label);
	} else if (rc == 0) {
		rc = pkgdb_decompress(raw, len, label, DETECT_FEED_MAX_BYTES, &text, &tlen, err);
		free(PL_STEAL(raw));
		if (rc == 0 && kind == DETECT_FEED_EPSS)
			rc = detect_epss_parse(text, tlen, label, sink, err);
		else if (rc == 0)
			rc = read_json(kind, text, tlen, label, release, sink, err);
	}
	pl_progress_end(progress, "read", rc, t0);
	return rc;
}
