/* registry.c - the images and image_packages tables. */
#include "image-private.h"

void image_clear(struct image *im)
{
	char **strs[] = {&im->name, &im->origin, &im->path, &im->format, &im->sha256,
			 &im->manifest_path, &im->manifest_sha256, &im->distro, &im->version,
			 &im->arch, &im->hostname, &im->root_uuid, &im->kernel_version,
			 &im->kernel_path, &im->initrd_path, &im->created_at};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	memset(im, 0, sizeof(*im));
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static int register_row(struct store *st, const char *name, const char *origin, const char *path,
			const char *dir, const char *manifest_path, json_t *facts, long *id,
			struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *insp = json_object_get(facts, "inspection");
	PL_AUTOFREE char *insp_text = json_dumps(insp, JSON_COMPACT | JSON_SORT_KEYS);
	PL_AUTOFREE char *kpath = NULL, *ipath = NULL;
	char now[21];

	if (jstr(facts, "kernel_file"))
		kpath = pl_path_join(dir, jstr(facts, "kernel_file"));
	if (jstr(facts, "initrd_file"))
		ipath = pl_path_join(dir, jstr(facts, "initrd_file"));
	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(st,
			  "INSERT INTO images(name, origin, path, format, sha256, size_bytes,"
			  " manifest_path, manifest_sha256, distro, version, arch, hostname,"
			  " root_uuid, kernel_version, kernel_path, initrd_path, boot_marker,"
			  " inspection, created_at)"
			  " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"
			  " ON CONFLICT(name) DO UPDATE SET origin=?2, path=?3, format=?4,"
			  " sha256=?5, size_bytes=?6, manifest_path=?7, manifest_sha256=?8,"
			  " distro=?9, version=?10, arch=?11, hostname=?12, root_uuid=?13,"
			  " kernel_version=?14, kernel_path=?15, initrd_path=?16, boot_marker=?17,"
			  " inspection=?18, created_at=?19"
			  " RETURNING id",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, path, -1, SQLITE_STATIC);
	bind_opt(s, 4, jstr(facts, "format"));
	bind_opt(s, 5, jstr(facts, "sha256"));
	sqlite3_bind_int64(s, 6, json_integer_value(json_object_get(facts, "size_bytes")));
	bind_opt(s, 7, manifest_path);
	bind_opt(s, 8, jstr(facts, "manifest_sha256"));
	bind_opt(s, 9, jstr(insp, "distro"));
	bind_opt(s, 10, jstr(insp, "version"));
	bind_opt(s, 11, jstr(insp, "arch"));
	bind_opt(s, 12, jstr(insp, "hostname"));
	bind_opt(s, 13, jstr(facts, "root_uuid"));
	bind_opt(s, 14, jstr(facts, "kernel_version"));
	bind_opt(s, 15, kpath);
	bind_opt(s, 16, ipath);
	sqlite3_bind_int(s, 17, json_is_true(json_object_get(facts, "boot_marker")));
	bind_opt(s, 18, insp_text);
	sqlite3_bind_text(s, 19, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_error(st, err, "registering the image");
	*id = (long)sqlite3_column_int64(s, 0);
	return 0;
}

static int register_packages(struct store *st, long id, json_t *pkgs, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *del = NULL, *ins = NULL;
	size_t i;
	json_t *p;

	if (store_prepare(st, "DELETE FROM image_packages WHERE image_id = ?", &del, err) < 0 ||
	    store_prepare(st,
			  "INSERT INTO image_packages(image_id, name, arch, version, source,"
			  " source_version, status) VALUES (?,?,?,?,?,?,?)",
			  &ins, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(del, 1, id);
	if (store_step_done(st, del, err) < 0)
		return PL_EDB;
	json_array_foreach(pkgs, i, p) {
		static const char *const keys[] = {"name", "arch", "version", "source",
						   "source_version", "status"};

		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, id);
		for (int k = 0; k < 6; k++)
			sqlite3_bind_text(ins, k + 2, jstr(p, keys[k]) ? jstr(p, keys[k]) : "", -1,
					  SQLITE_STATIC);
		if (store_step_done(st, ins, err) < 0)
			return pl_error_prefix(err, "package %s", jstr(p, "name"));
	}
	return 0;
}

int image_register(struct store *st, const char *name, const char *origin, const char *path,
		   const char *dir, const char *manifest_path, json_t *facts, struct pl_err *err)
{
	long id = 0;

	if (store_begin(st, err) < 0)
		return PL_EDB;
	if (register_row(st, name, origin, path, dir, manifest_path, facts, &id, err) < 0 ||
	    register_packages(st, id, json_object_get(facts, "packages"), err) < 0 ||
	    store_commit(st, err) < 0) {
		store_rollback(st);
		return pl_error_prefix(err, "image '%s'", name);
	}
	return 0;
}

#define IMAGE_COLUMNS                                                                         \
	"i.id, i.name, i.origin, i.path, i.format, i.sha256, i.size_bytes, i.manifest_path,"  \
	" i.manifest_sha256, i.distro, i.version, i.arch, i.hostname, i.root_uuid,"          \
	" i.kernel_version, i.kernel_path, i.initrd_path, i.boot_marker, i.created_at,"      \
	" (SELECT count(*) FROM image_packages p WHERE p.image_id = i.id AND"                \
	"  p.status = 'installed')"

static void image_from_row(sqlite3_stmt *s, struct image *im)
{
	memset(im, 0, sizeof(*im));
	im->id = (long)sqlite3_column_int64(s, 0);
	im->name = store_col_dup(s, 1);
	im->origin = store_col_dup(s, 2);
	im->path = store_col_dup(s, 3);
	im->format = store_col_dup(s, 4);
	im->sha256 = store_col_dup(s, 5);
	im->size_bytes = sqlite3_column_int64(s, 6);
	im->manifest_path = store_col_dup(s, 7);
	im->manifest_sha256 = store_col_dup(s, 8);
	im->distro = store_col_dup(s, 9);
	im->version = store_col_dup(s, 10);
	im->arch = store_col_dup(s, 11);
	im->hostname = store_col_dup(s, 12);
	im->root_uuid = store_col_dup(s, 13);
	im->kernel_version = store_col_dup(s, 14);
	im->kernel_path = store_col_dup(s, 15);
	im->initrd_path = store_col_dup(s, 16);
	im->boot_marker = sqlite3_column_int(s, 17);
	im->created_at = store_col_dup(s, 18);
	im->packages = (long)sqlite3_column_int64(s, 19);
}

int image_get(struct store *st, const char *name, struct image *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, "SELECT " IMAGE_COLUMNS " FROM images i WHERE i.name = ?", &s,
			  err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND,
				"no image '%s' (see 'patchlab image list', or build one with "
				"'patchlab image build images/NAME.json')",
				name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading images");
	image_from_row(s, out);
	return 0;
}

static void json_opt(json_t *j, const char *key, const char *v)
{
	json_object_set_new(j, key, v ? json_string(v) : json_null());
}

json_t *image_to_json(const struct image *im)
{
	json_t *j = json_object();

	json_object_set_new(j, "name", json_string(im->name));
	json_object_set_new(j, "origin", json_string(im->origin));
	json_object_set_new(j, "path", json_string(im->path));
	json_object_set_new(j, "format", json_string(im->format));
	json_object_set_new(j, "sha256", json_string(im->sha256));
	json_object_set_new(j, "size_bytes", json_integer(im->size_bytes));
	json_opt(j, "manifest", im->manifest_path);
	json_opt(j, "manifest_sha256", im->manifest_sha256);
	json_opt(j, "distro", im->distro);
	json_opt(j, "version", im->version);
	json_opt(j, "arch", im->arch);
	json_opt(j, "hostname", im->hostname);
	json_opt(j, "root_uuid", im->root_uuid);
	json_opt(j, "kernel_version", im->kernel_version);
	json_opt(j, "kernel", im->kernel_path);
	json_opt(j, "initrd", im->initrd_path);
	json_object_set_new(j, "boot_marker", json_boolean(im->boot_marker));
	json_object_set_new(j, "packages_installed", json_integer(im->packages));
	json_object_set_new(j, "registered_at", json_string(im->created_at));
	return j;
}

int image_list(struct store *st, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (store_prepare(st, "SELECT " IMAGE_COLUMNS " FROM images i ORDER BY i.name", &s,
			  err) < 0)
		return PL_EDB;
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct image im;

		image_from_row(s, &im);
		json_array_append_new(arr, image_to_json(&im));
		image_clear(&im);
	}
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "listing images");
	}
	*out = arr;
	return 0;
}

int image_packages_json(struct store *st, long image_id, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (store_prepare(st,
			  "SELECT name, arch, version, source, source_version, status"
			  " FROM image_packages WHERE image_id = ? ORDER BY name, arch",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, image_id);
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", store_col_text(s, 0),
				       "arch", store_col_text(s, 1), "version", store_col_text(s, 2),
				       "source", store_col_text(s, 3), "source_version",
				       store_col_text(s, 4), "status", store_col_text(s, 5)));
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "reading image packages");
	}
	*out = arr;
	return 0;
}
