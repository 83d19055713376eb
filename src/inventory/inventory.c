/* inventory.c - the hosts and host_packages tables. Every change is also
 * an entry of the audit log, in the same transaction. */
#include "inventory-private.h"

#include "audit/audit.h"

static const char HOST_COLS[] =
    "h.id, h.name, h.ip, h.os, h.os_version, h.location, h.owner,"
    " h.role, h.environment, h.tags, h.controls, h.libvirt_uri,"
    " h.libvirt_domain, h.image, h.created_at, h.updated_at,"
    " (SELECT count(*) FROM host_packages p WHERE p.host_id = h.id),"
    " h.hostname, h.arch, h.product, h.discovered_at, h.discovered_from";

void inv_bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Binds the 14 host values (name ... image, now) from parameter 1. */
static void bind_host(sqlite3_stmt *s, const struct inv_host *h, const char *now)
{
	char *tags = json_dumps(h->tags, JSON_COMPACT);
	char *controls = json_dumps(h->controls, JSON_COMPACT | JSON_SORT_KEYS);

	inv_bind_opt(s, 1, h->name);
	inv_bind_opt(s, 2, h->ip);
	inv_bind_opt(s, 3, h->os);
	inv_bind_opt(s, 4, h->os_version);
	inv_bind_opt(s, 5, h->location);
	inv_bind_opt(s, 6, h->owner);
	inv_bind_opt(s, 7, h->role);
	inv_bind_opt(s, 8, h->environment);
	inv_bind_opt(s, 9, tags ? tags : "[]");
	inv_bind_opt(s, 10, controls ? controls : "{}");
	inv_bind_opt(s, 11, h->libvirt_uri);
	inv_bind_opt(s, 12, h->libvirt_domain);
	inv_bind_opt(s, 13, h->image);
	inv_bind_opt(s, 14, now);
	free(tags);
	free(controls);
}

int inv_host_id(struct store *st, const char *name, long *id, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, "SELECT id FROM hosts WHERE name = ?", &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = (long)sqlite3_column_int64(s, 0);
		return 1;
	}
	if (rc != SQLITE_DONE)
		return store_error(st, err, "looking up a host");
	return 0;
}

static const char INSERT_SQL[] =
    "INSERT INTO hosts(name, ip, os, os_version, location, owner, role, environment, tags,"
    " controls, libvirt_uri, libvirt_domain, image, created_at, updated_at)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?14)";
static const char UPDATE_SQL[] =
    "UPDATE hosts SET ip = ?2, os = ?3, os_version = ?4, location = ?5, owner = ?6,"
    " role = ?7, environment = ?8, tags = ?9, controls = ?10, libvirt_uri = ?11,"
    " libvirt_domain = ?12, image = ?13, updated_at = ?14 WHERE name = ?1";

static int import_rows(struct store *st, const struct inv_hostlist *l, size_t *added,
                       size_t *updated, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *ins = NULL, *upd = NULL;
	char now[21];

	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(st, INSERT_SQL, &ins, err) < 0 ||
	    store_prepare(st, UPDATE_SQL, &upd, err) < 0)
		return PL_EDB;
	for (size_t i = 0; i < l->n; i++) {
		long id;
		int rc = inv_host_id(st, l->hosts[i].name, &id, err);
		sqlite3_stmt *s = rc == 1 ? upd : ins;

		if (rc < 0)
			return rc;
		sqlite3_reset(s);
		bind_host(s, &l->hosts[i], now);
		if (store_step_done(st, s, err) < 0)
			return pl_error_prefix(err, "host '%s'", l->hosts[i].name);
		if (inv_audit(st, rc == 1 ? "host-update" : "host-add", l->hosts[i].name,
		              json_pack("{s:s}", "via", "import"), err) < 0)
			return err->code;
		(*(rc == 1 ? updated : added))++;
	}
	return 0;
}

int inv_import(struct store *st, const struct inv_hostlist *l, size_t *added, size_t *updated,
               struct pl_err *err)
{
	*added = *updated = 0;
	if (store_begin(st, err) < 0)
		return err->code;
	if (import_rows(st, l, added, updated, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		*added = *updated = 0;
		return err->code;
	}
	return 0;
}

int inv_import_file(struct store *st, const char *path, size_t *added, size_t *updated,
                    struct pl_err *err)
{
	PL_AUTOFREE char *buf = NULL;
	struct inv_hostlist l = INV_HOSTLIST_INIT;
	size_t len;
	int rc;

	if (pl_file_read(path, &buf, &len, err) < 0)
		return err->code;
	if (inv_parse(buf, len, path, &l, err) < 0)
		return err->code;
	rc = inv_import(st, &l, added, updated, err);
	inv_hostlist_free(&l);
	return rc;
}

int inv_audit(struct store *st, const char *action, const char *host, json_t *detail,
              struct pl_err *err)
{
	int rc = audit_append(st, NULL, action, "host", host, detail, err);

	json_decref(detail);
	return rc;
}

int inv_host_add(struct store *st, const struct inv_host *h, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	char now[21];
	int rc;

	if (inv_host_check(h, "host", err) < 0)
		return err->code;
	pl_time_iso(pl_clock_now(NULL), now);
	if (store_begin(st, err) < 0)
		return err->code;
	rc = store_prepare(st, INSERT_SQL, &s, err);
	if (rc == 0) {
		bind_host(s, h, now);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sqlite3_errcode(st->db) == SQLITE_CONSTRAINT
			         ? pl_error(err, PL_EEXIST, "a host named '%s' exists already", h->name)
			         : store_error(st, err, "adding the host");
	}
	if (rc == 0)
		rc = inv_audit(st, "host-add", h->name, NULL, err);
	return store_end(st, rc, err);
}

int inv_host_remove(struct store *st, const char *name, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_begin(st, err) < 0)
		return err->code;
	rc = store_prepare(st, "DELETE FROM hosts WHERE name = ?", &s, err);
	if (rc == 0) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, err);
	}
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = pl_error(err, PL_ENOTFOUND, "no host named '%s'", name);
	if (rc == 0)
		rc = inv_audit(st, "host-remove", name, NULL, err);
	return store_end(st, rc, err);
}

static json_t *col_json(sqlite3_stmt *s, int i, json_t *dflt)
{
	json_t *j = json_loads(store_col_text(s, i), 0, NULL);

	if (!j)
		return dflt;
	json_decref(dflt);
	return j;
}

static json_t *host_row_json(sqlite3_stmt *s)
{
	static const char *const keys[] = {"name",     "ip",    "os",   "os_version",
	                                   "location", "owner", "role", "environment"};
	static const char *const found[] = {"hostname", "arch", "product", "discovered_at",
	                                    "discovered_from"};
	json_t *j = json_object();

	for (int i = 0; i < 8; i++)
		json_object_set_new(j, keys[i],
		                    sqlite3_column_type(s, i + 1) == SQLITE_NULL
		                        ? json_null()
		                        : json_string(store_col_text(s, i + 1)));
	json_object_set_new(j, "tags", col_json(s, 9, json_array()));
	json_object_set_new(j, "controls", col_json(s, 10, json_object()));
	json_object_set_new(j, "libvirt_uri",
	                    sqlite3_column_type(s, 11) == SQLITE_NULL
	                        ? json_null()
	                        : json_string(store_col_text(s, 11)));
	json_object_set_new(j, "libvirt_domain",
	                    sqlite3_column_type(s, 12) == SQLITE_NULL
	                        ? json_null()
	                        : json_string(store_col_text(s, 12)));
	json_object_set_new(j, "image",
	                    sqlite3_column_type(s, 13) == SQLITE_NULL
	                        ? json_null()
	                        : json_string(store_col_text(s, 13)));
	json_object_set_new(j, "created_at", json_string(store_col_text(s, 14)));
	json_object_set_new(j, "updated_at", json_string(store_col_text(s, 15)));
	json_object_set_new(j, "packages", json_integer(sqlite3_column_int64(s, 16)));
	for (int i = 0; i < 5; i++)
		json_object_set_new(j, found[i],
		                    sqlite3_column_type(s, 17 + i) == SQLITE_NULL
		                        ? json_null()
		                        : json_string(store_col_text(s, 17 + i)));
	return j;
}

int inv_host_list(struct store *st, const char *role, const char *environment, json_t **out,
                  struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *sql = pl_strdupf("SELECT %s FROM hosts h WHERE (?1 IS NULL OR role = ?1)"
	                                   " AND (?2 IS NULL OR environment = ?2) ORDER BY name",
	                                   HOST_COLS);
	json_t *arr;
	int rc;

	if (store_prepare(st, sql, &s, err) < 0)
		return PL_EDB;
	inv_bind_opt(s, 1, role);
	inv_bind_opt(s, 2, environment);
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(arr, host_row_json(s));
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "listing hosts");
	}
	*out = arr;
	return 0;
}

static int host_packages_json(struct store *st, long id, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (store_prepare(st,
	                  "SELECT name, arch, version, source, source_version, status"
	                  " FROM host_packages WHERE host_id = ? ORDER BY name, arch",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, id);
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *p = json_object();
		static const char *const keys[] = {"name",   "arch",           "version",
		                                   "source", "source_version", "status"};

		for (int i = 0; i < 6; i++)
			json_object_set_new(p, keys[i],
			                    sqlite3_column_type(s, i) == SQLITE_NULL
			                        ? json_null()
			                        : json_string(store_col_text(s, i)));
		json_array_append_new(arr, p);
	}
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "reading a host's packages");
	}
	*out = arr;
	return 0;
}

int inv_host_show(struct store *st, const char *name, int with_packages, json_t **out,
                  struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *sql = pl_strdupf("SELECT %s FROM hosts h WHERE name = ?", HOST_COLS);
	json_t *j, *pk = NULL;
	int rc;

	if (store_prepare(st, sql, &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no host named '%s'", name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading a host");
	j = host_row_json(s);
	if (with_packages) {
		if (host_packages_json(st, (long)sqlite3_column_int64(s, 0), &pk, err) < 0) {
			json_decref(j);
			return err->code;
		}
		json_object_set_new(j, "package_list", pk);
	}
	*out = j;
	return 0;
}

int inv_packages_write(struct store *st, long id, const struct inv_pkglist *l, struct pl_err *err)
{
	struct inv_pkgset *ps = NULL;
	int rc = inv_pkgset_open(st, &ps, err);

	if (rc == 0)
		rc = inv_packages_write_set(st, ps, id, l, err);
	inv_pkgset_close(ps);
	return rc;
}

int inv_packages_write_set(struct store *st, struct inv_pkgset *ps, long id,
                           const struct inv_pkglist *l, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *del = NULL, *ins = NULL;

	if (store_prepare(st, "DELETE FROM host_packages WHERE host_id = ?", &del, err) < 0 ||
	    store_prepare(st,
	                  "INSERT INTO host_packages(host_id, name, arch, version, source,"
	                  " source_version, status) VALUES (?,?,?,?,?,?,?)",
	                  &ins, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(del, 1, id);
	if (store_step_done(st, del, err) < 0)
		return err->code;
	for (size_t i = 0; i < l->n; i++) {
		const struct inv_pkg *p = &l->pkgs[i];

		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, id);
		inv_bind_opt(ins, 2, p->name);
		inv_bind_opt(ins, 3, p->arch ? p->arch : "");
		inv_bind_opt(ins, 4, p->version);
		inv_bind_opt(ins, 5, p->source);
		inv_bind_opt(ins, 6, p->source_version);
		inv_bind_opt(ins, 7, p->status);
		if (store_step_done(st, ins, err) < 0)
			return pl_error_prefix(err, "package '%s' (%s)", p->name,
			                       p->arch ? p->arch : "");
	}
	return inv_pkgset_write(ps, id, l, err);
}

int inv_packages_set(struct store *st, const char *host, const struct inv_pkglist *l,
                     struct pl_err *err)
{
	long id = 0;
	int rc;

	if (store_begin(st, err) < 0)
		return err->code;
	rc = inv_host_id(st, host, &id, err);
	if (rc == 0)
		rc = pl_error(err, PL_ENOTFOUND, "no host named '%s'", host);
	if (rc > 0)
		rc = inv_packages_write(st, id, l, err);
	if (rc == 0)
		rc = inv_audit(st, "packages", host, json_pack("{s:I}", "packages", (json_int_t)l->n),
		               err);
	return store_end(st, rc, err);
}

static const char UPDATE_SOME_SQL[] =
    "UPDATE hosts SET ip = coalesce(?2, ip), os = coalesce(?3, os),"
    " os_version = coalesce(?4, os_version), location = coalesce(?5, location),"
    " owner = coalesce(?6, owner), role = coalesce(?7, role),"
    " environment = coalesce(?8, environment), tags = coalesce(?9, tags), controls = ?10,"
    " libvirt_uri = coalesce(?11, libvirt_uri), libvirt_domain = coalesce(?12, libvirt_domain),"
    " image = coalesce(?13, image), updated_at = ?14 WHERE name = ?1";

/* Host name's controls merged with changes (a null value removes a key). */
static int controls_merged(struct store *st, const char *name, json_t *changes, char **out,
                           struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOJSON json_t *cur = NULL;
	const char *key;
	json_t *v;
	int rc;

	if (store_prepare(st, "SELECT controls FROM hosts WHERE name = ?", &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no host named '%s'", name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading a host");
	cur = json_loads(store_col_text(s, 0), 0, NULL);
	if (!json_is_object(cur))
		return pl_error(err, PL_EDB, "host '%s': its controls are not a JSON object", name);
	json_object_foreach(changes, key, v)
	{
		if (json_is_null(v))
			json_object_del(cur, key);
		else
			json_object_set(cur, key, v);
	}
	*out = json_dumps(cur, JSON_COMPACT | JSON_SORT_KEYS);
	return 0;
}

static int update_row(struct store *st, const char *name, const struct inv_host *h, int set_tags,
                      struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *controls = NULL, *tags = NULL;
	char now[21];

	if (controls_merged(st, name, h->controls, &controls, err) < 0)
		return err->code;
	if (set_tags)
		tags = json_dumps(h->tags, JSON_COMPACT);
	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(st, UPDATE_SOME_SQL, &s, err) < 0)
		return PL_EDB;
	inv_bind_opt(s, 1, name);
	inv_bind_opt(s, 2, h->ip);
	inv_bind_opt(s, 3, h->os);
	inv_bind_opt(s, 4, h->os_version);
	inv_bind_opt(s, 5, h->location);
	inv_bind_opt(s, 6, h->owner);
	inv_bind_opt(s, 7, h->role);
	inv_bind_opt(s, 8, h->environment);
	inv_bind_opt(s, 9, tags);
	inv_bind_opt(s, 10, controls);
	inv_bind_opt(s, 11, h->libvirt_uri);
	inv_bind_opt(s, 12, h->libvirt_domain);
	inv_bind_opt(s, 13, h->image);
	inv_bind_opt(s, 14, now);
	return store_step_done(st, s, err) < 0 ? pl_error_prefix(err, "host '%s'", name) : 0;
}

int inv_host_update(struct store *st, const char *name, const struct inv_host *h, int set_tags,
                    struct pl_err *err)
{
	if (!h->libvirt_uri != !h->libvirt_domain)
		return pl_error(err, PL_EINVAL,
		                "host '%s': libvirt_uri and libvirt_domain go together", name);
	if (store_begin(st, err) < 0)
		return err->code;
	int rc = update_row(st, name, h, set_tags, err);

	if (rc == 0)
		rc = inv_audit(st, "host-update", name, json_pack("{s:s}", "via", "set"), err);
	return store_end(st, rc, err);
}
