/* image.c - building with a cache, importing, inspecting. */
#include "image-private.h"

#include <limits.h>
#include <sys/stat.h>

#include "guest/guest.h"

char *image_cache_dir(struct store *st, const struct image_opts *o)
{
	const char *env = getenv("PATCHLAB_IMAGE_CACHE");

	if (o && o->cache_dir)
		return pl_strdup(o->cache_dir);
	if (env && *env)
		return pl_strdup(env);
	return pl_path_join(st->dir, "images");
}

void build_log_append(struct image_build *b, const char *cmd, const char *out)
{
	FILE *f = fopen(b->log, "a");

	if (!f)
		return;
	fprintf(f, "+ %s\n%s%s", cmd, out ? out : "", out && *out && out[strlen(out) - 1] != '\n'
							       ? "\n"
							       : "");
	fclose(f);
}

/* The cache key: the manifest's bytes and the recipe that turns them into
 * a disk. Either changing means a new image. */
static void image_cache_key(const struct image_manifest *m, char key[17])
{
	struct pl_sha256 h;
	char hex[65];

	pl_sha256_init(&h);
	pl_sha256_update(&h, m->sha256, 64);
	pl_sha256_update(&h, IMAGE_RECIPE_VERSION, strlen(IMAGE_RECIPE_VERSION));
	pl_sha256_hex(&h, hex);
	memcpy(key, hex, 16);
	key[16] = '\0';
}

/* Reuses a finished build: its image.json and a disk whose hash matches. */
static int image_cached(const char *dir, json_t **facts)
{
	PL_AUTOFREE char *meta = pl_path_join(dir, "image.json");
	PL_AUTOFREE char *disk = pl_path_join(dir, "disk.qcow2");
	PL_AUTOJSON json_t *j = NULL;
	struct pl_err ignore = PL_ERR_INIT;
	char sha[65];

	if (!pl_path_exists(meta) || pl_json_load_file(meta, &j, &ignore) < 0)
		return 0;
	if (pl_sha256_file(disk, sha, &ignore) < 0 ||
	    strcmp(sha, json_string_value(json_object_get(j, "sha256")) ?: "") != 0)
		return 0; /* damaged cache entry: build again */
	*facts = PL_STEAL(j);
	return 1;
}

static int image_seal(struct image_build *b, const char *manifest_sha, struct pl_err *err)
{
	PL_AUTOFREE char *meta = pl_path_join(b->dir_tmp, "image.json");
	PL_AUTOFREE char *text = NULL;
	struct stat sb;
	char sha[65], now[21];

	/* Never written again: read-only on disk as well as by policy. */
	if (chmod(b->disk_tmp, 0444) < 0 || stat(b->disk_tmp, &sb) < 0)
		return pl_error(err, PL_EIO, "%s: %s", b->disk_tmp, strerror(errno));
	if (pl_sha256_file(b->disk_tmp, sha, err) < 0)
		return err->code;
	pl_time_iso(pl_clock_now(NULL), now);
	json_object_set_new(b->facts, "name", json_string(b->m->name));
	json_object_set_new(b->facts, "format", json_string("qcow2"));
	json_object_set_new(b->facts, "sha256", json_string(sha));
	json_object_set_new(b->facts, "size_bytes", json_integer((json_int_t)sb.st_size));
	json_object_set_new(b->facts, "manifest_sha256", json_string(manifest_sha));
	json_object_set_new(b->facts, "recipe", json_string(IMAGE_RECIPE_VERSION));
	json_object_set_new(b->facts, "built_at", json_string(now));
	text = json_dumps(b->facts, JSON_INDENT(1) | JSON_SORT_KEYS);
	return pl_file_write_atomic(meta, text, strlen(text), 0444, err);
}

static void image_build_free(struct image_build *b)
{
	free(b->dir_tmp);
	free(b->rootdir);
	free(b->tarball);
	free(b->disk_tmp);
	free(b->log);
	free(b->root_uuid);
	json_decref(b->facts);
}

/* Moves the finished build into place; an older build of the same key
 * (a --rebuild) is set aside first, then removed. */
static int image_install(const char *tmp, const char *final, struct pl_err *err)
{
	PL_AUTOFREE char *old = pl_strdupf("%s.old-%ld", final, (long)getpid());

	if (pl_path_exists(final) && rename(final, old) < 0)
		return pl_error(err, PL_EIO, "%s: %s", final, strerror(errno));
	if (rename(tmp, final) < 0)
		return pl_error(err, PL_EIO, "%s: %s", final, strerror(errno));
	if (pl_path_exists(old)) {
		const char *argv[] = {"rm", "-rf", "--one-file-system", old, NULL};

		pl_run_ok(argv, NULL, NULL);
	}
	return 0;
}

static int image_build_new(struct image_manifest *m, const struct image_opts *o,
			   const char *final, json_t **facts, struct pl_err *err)
{
	struct image_build b = {.m = m, .o = o};
	int rc;

	b.dir_tmp = pl_strdupf("%s.build-%ld", final, (long)getpid());
	b.rootdir = pl_path_join(b.dir_tmp, "root");
	b.tarball = pl_path_join(b.dir_tmp, "rootfs.tar");
	b.disk_tmp = pl_path_join(b.dir_tmp, "disk.qcow2");
	b.log = pl_strdupf("%s.build.log", final);
	unlink(b.log);
	rc = pl_mkdir_p(b.dir_tmp, 0755, err);
	if (rc == 0)
		rc = image_build_into(&b, err);
	if (rc == 0)
		rc = image_seal(&b, m->sha256, err);
	if (rc == 0)
		rc = image_install(b.dir_tmp, final, err);
	if (rc < 0 && pl_path_exists(b.dir_tmp)) {
		const char *argv[] = {"rm", "-rf", "--one-file-system", b.dir_tmp, NULL};

		pl_run_ok(argv, NULL, NULL);
	}
	if (rc == 0)
		*facts = PL_STEAL(b.facts);
	image_build_free(&b);
	return rc;
}

int image_build(struct store *st, const char *manifest_path, const struct image_opts *o,
		struct image *out, int *reused, struct pl_err *err)
{
	struct image_manifest m;
	PL_AUTOFREE char *cache = image_cache_dir(st, o);
	PL_AUTOFREE char *final = NULL, *disk = NULL, *mpath = NULL;
	PL_AUTOJSON json_t *facts = NULL;
	char key[17];
	int rc = 0;

	if (image_manifest_load(manifest_path, &m, err) < 0)
		return err->code;
	image_cache_key(&m, key);
	final = pl_strdupf("%s/%s-%s", cache, m.name, key);
	disk = pl_path_join(final, "disk.qcow2");
	mpath = realpath(manifest_path, NULL);
	*reused = !o->rebuild && image_cached(final, &facts);
	if (!*reused) {
		if (pl_mkdir_p(cache, 0755, err) < 0)
			rc = err->code;
		else
			rc = image_build_new(&m, o, final, &facts, err);
	}
	if (rc == 0)
		rc = image_register(st, m.name, "built", disk, final, mpath ? mpath : manifest_path,
				    facts, err);
	if (rc == 0)
		rc = image_get(st, m.name, out, err);
	image_manifest_free(&m);
	return rc;
}

static int image_import_facts(const char *file, const char *format, const char *dir,
			      const struct image_opts *o, json_t **facts, struct pl_err *err)
{
	struct guest_opts go = {.force_tcg = o->force_tcg, .readonly = 1, .format = format};
	PL_AUTOGUESTFS guestfs_h *g = NULL;
	double t0 = pl_progress_begin(o->progress, "inspect", "%s read-only with libguestfs", file);
	int rc = guest_open(file, &go, &g, err);

	if (rc == 0)
		rc = image_read_facts(g, dir, facts, err);
	pl_progress_end(o->progress, "inspect", rc, t0);
	return rc;
}

/* Probes the format with qemu-img's view through libguestfs: only qcow2
 * and raw images are accepted, and the result is passed on explicitly. */
static int image_probe_format(const char *file, char **format, struct pl_err *err)
{
	PL_AUTOGUESTFS guestfs_h *g = guestfs_create();
	char *f;

	if (!g)
		return pl_error(err, PL_EENV, "cannot create a libguestfs handle");
	guestfs_set_error_handler(g, NULL, NULL);
	f = guestfs_disk_format(g, file);
	if (!f)
		return guest_error(g, err, file);
	if (strcmp(f, "qcow2") != 0 && strcmp(f, "raw") != 0) {
		int rc = pl_error(err, PL_EINVAL, "%s: disk format '%s' is not supported (qcow2, raw)",
				  file, f);

		free(f);
		return rc;
	}
	*format = f;
	return 0;
}

int image_import(struct store *st, const char *file, const char *name, const struct image_opts *o,
		 struct image *out, struct pl_err *err)
{
	PL_AUTOFREE char *path = realpath(file, NULL);
	PL_AUTOFREE char *cache = image_cache_dir(st, o);
	PL_AUTOFREE char *format = NULL, *dir = NULL;
	PL_AUTOJSON json_t *facts = NULL;
	struct image existing;
	struct stat sb;
	char sha[65];
	int rc;

	if (!path || stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return pl_error(err, PL_ENOTFOUND, "%s: %s", file,
				path ? "not a regular file" : strerror(errno));
	if (image_get(st, name, &existing, err) == 0) {
		image_clear(&existing);
		return pl_error(err, PL_EEXIST, "an image named '%s' exists already", name);
	}
	if (image_probe_format(path, &format, err) < 0 || pl_sha256_file(path, sha, err) < 0)
		return err->code;
	dir = pl_strdupf("%s/import-%s-%.16s", cache, name, sha);
	if (pl_mkdir_p(dir, 0755, err) < 0 ||
	    image_import_facts(path, format, dir, o, &facts, err) < 0)
		return err->code;
	json_object_set_new(facts, "format", json_string(format));
	json_object_set_new(facts, "sha256", json_string(sha));
	json_object_set_new(facts, "size_bytes", json_integer((json_int_t)sb.st_size));
	rc = image_register(st, name, "imported", path, dir, NULL, facts, err);
	return rc < 0 ? rc : image_get(st, name, out, err);
}

int image_inspect(const struct image *im, const struct image_opts *o, json_t **out,
		  struct pl_err *err)
{
	struct guest_opts go = {.force_tcg = o->force_tcg, .readonly = 1, .format = im->format};
	PL_AUTOGUESTFS guestfs_h *g = NULL;
	PL_AUTOFREE char *root = NULL;
	double t0 = pl_progress_begin(o->progress, "inspect", "%s", im->path);
	int rc = guest_open(im->path, &go, &g, err);

	if (rc == 0)
		rc = guest_mount_os(g, 1, &root, err);
	if (rc == 0)
		rc = guest_inspect(g, root, out, err);
	pl_progress_end(o->progress, "inspect", rc, t0);
	return rc;
}
