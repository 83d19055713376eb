/*
 * discover.c - hosts from the domains of a libvirt connection.
 *
 * The connection is opened read-only: discovery must not be able to change
 * the hypervisor it looks at. Each domain's disks are read through
 * libguestfs, added read-only with the format its XML names (raw when it
 * names none, as libvirt does; never probed), in an appliance of their own,
 * so that one broken disk costs only its own domain.
 *
 * Running domains are skipped unless --live: libguestfs reads a live disk
 * safely (read-only, through a throw-away overlay) but the guest writes
 * under the reader, so what it sees may be torn (a dpkg status file halfway
 * through an upgrade, a journal not yet replayed). With --live the domain
 * is inspected anyway and its result says "live".
 *
 * A disk must be reachable on this machine by the path libvirt names: a
 * remote connection (qemu+ssh://...) lists its domains, but their disks are
 * reported as not found unless the same path exists here.
 */
#include "inventory-private.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sys/stat.h>

#include "guest/guest.h"
#include "lab/lab.h"

/* What one domain yields; strings owned. */
struct disc_domain {
	char *name;
	int active;
	struct guest_disk *disks; /* path and format strings owned */
	size_t ndisks;
	char *problem; /* why it cannot be inspected, or NULL */
	json_t *facts; /* guest_inspect's object */
	struct inv_pkglist pkgs;
};

static void disc_domain_clear(struct disc_domain *d)
{
	free(d->name);
	for (size_t i = 0; i < d->ndisks; i++) {
		free((char *)d->disks[i].path);
		free((char *)d->disks[i].format);
	}
	free(d->disks);
	free(d->problem);
	json_decref(d->facts);
	inv_pkglist_free(&d->pkgs);
	memset(d, 0, sizeof(*d));
}

static void disc_virt_silent(void *opaque, virErrorPtr e)
{
	(void)opaque, (void)e; /* errors are fetched with virGetLastErrorMessage */
}

static void disc_virconn_closep(virConnectPtr *c)
{
	if (*c)
		virConnectClose(*c);
}

static void disc_problem(struct disc_domain *d, const char *fmt, ...) PL_PRINTF(2, 3);
static void disc_problem(struct disc_domain *d, const char *fmt, ...)
{
	struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	if (d->problem)
		return; /* the first problem is the one to fix first */
	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	d->problem = pl_buf_detach(&b);
}

/* ---- the domain's disks from its XML -------------------------------------- */

static xmlNode *xml_child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* An attribute as an owned string (NULL when absent). */
static char *xml_attr(xmlNode *n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
	char *s = v ? pl_strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

/* The path of a pool volume, through the same connection. */
static char *disc_volume_path(virConnectPtr conn, const char *pool, const char *vol)
{
	virStoragePoolPtr p = pool ? virStoragePoolLookupByName(conn, pool) : NULL;
	virStorageVolPtr v = p && vol ? virStorageVolLookupByName(p, vol) : NULL;
	char *path = v ? virStorageVolGetPath(v) : NULL;
	char *out = path ? pl_strdup(path) : NULL;

	free(path);
	if (v)
		virStorageVolFree(v);
	if (p)
		virStoragePoolFree(p);
	return out;
}

/* Adds one <disk> to d: file, block and volume disks; CD-ROMs, floppies
 * and empty drives are left out. */
static void disc_disk(virConnectPtr conn, struct disc_domain *d, xmlNode *disk)
{
	PL_AUTOFREE char *device = xml_attr(disk, "device"), *type = xml_attr(disk, "type");
	PL_AUTOFREE char *format = xml_attr(xml_child(disk, "driver"), "type");
	PL_AUTOFREE char *target = xml_attr(xml_child(disk, "target"), "dev");
	xmlNode *src = xml_child(disk, "source");
	const char *t = type ? type : "file";
	char *path = NULL;

	if (device && strcmp(device, "disk") != 0 && strcmp(device, "lun") != 0)
		return;
	if (!src)
		return; /* no medium */
	if (strcmp(t, "file") == 0)
		path = xml_attr(src, "file");
	else if (strcmp(t, "block") == 0)
		path = xml_attr(src, "dev");
	else if (strcmp(t, "volume") == 0) {
		PL_AUTOFREE char *pool = xml_attr(src, "pool"), *vol = xml_attr(src, "volume");

		path = disc_volume_path(conn, pool, vol);
		if (!path) {
			disc_problem(d, "disk %s: volume '%s' of pool '%s': %s",
			             target ? target : "?", vol ? vol : "?", pool ? pool : "?",
			             virGetLastErrorMessage());
			return;
		}
	} else {
		disc_problem(d,
		             "disk %s: a %s disk cannot be read from here (file, block and volume "
		             "disks can)",
		             target ? target : "?", t);
		return;
	}
	if (!path)
		return;
	d->disks = pl_realloc(d->disks, (d->ndisks + 1) * sizeof(*d->disks));
	/* libvirt reads a disk without a driver type as raw and never probes */
	d->disks[d->ndisks].path = path;
	d->disks[d->ndisks].format = pl_strdup(format ? format : "raw");
	d->ndisks++;
}

static int disc_disks(virConnectPtr conn, virDomainPtr dom, struct disc_domain *d,
                      struct pl_err *err)
{
	char *xml = virDomainGetXMLDesc(dom, 0);
	xmlDoc *doc;
	xmlNode *devices;

	if (!xml)
		return lab_virt_error(err, d->name);
	doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(xml);
	if (!doc)
		return pl_error(err, PL_EENV, "domain '%s': libvirt's XML does not parse", d->name);
	devices = xml_child(xmlDocGetRootElement(doc), "devices");
	for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "disk") == 0)
			disc_disk(conn, d, c);
	xmlFreeDoc(doc);
	if (!d->ndisks)
		disc_problem(d, "no file, block or volume disk to inspect");
	for (size_t i = 0; i < d->ndisks && !d->problem; i++) {
		struct stat sb;

		if (stat(d->disks[i].path, &sb) < 0)
			disc_problem(d,
			             "disk %s: %s (disks are read on this machine, by the path"
			             " libvirt names)",
			             d->disks[i].path, strerror(errno));
	}
	return 0;
}

/* ---- inspection ----------------------------------------------------------- */

/* "E:V-R" without a zero epoch and "-R" when there is no release. */
static char *disc_app_version(json_t *a)
{
	long long epoch = json_integer_value(json_object_get(a, "epoch"));
	const char *v = json_string_value(json_object_get(a, "version"));
	const char *r = json_string_value(json_object_get(a, "release"));
	struct pl_buf b = PL_BUF_INIT;

	if (epoch > 0)
		pl_buf_addf(&b, "%lld:", epoch);
	pl_buf_adds(&b, v ? v : "");
	if (r && *r)
		pl_buf_addf(&b, "-%s", r);
	return pl_buf_detach(&b);
}

static int disc_packages(guestfs_h *g, const char *root, struct disc_domain *d, struct pl_err *err)
{
	const char *fmt = json_string_value(json_object_get(d->facts, "package_format"));
	PL_AUTOJSON json_t *apps = NULL;
	json_t *a;
	size_t i;

	if (fmt && strcmp(fmt, "deb") == 0) {
		struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
		PL_AUTOFREE char *status = NULL;
		size_t len;

		if (guest_read(g, "/var/lib/dpkg/status", &status, &len, err) < 0 ||
		    pkgdb_dpkg_status_parse(status, len, "/var/lib/dpkg/status", &l, err) < 0)
			return err->code;
		inv_pkglist_from_pkgdb(&l, &d->pkgs);
		pkgdb_pkglist_free(&l);
		return 0;
	}
	if (guest_applications(g, root, &apps, err) < 0)
		return err->code;
	json_array_foreach(apps, i, a)
	{
		struct inv_pkg *p = inv_pkglist_push(&d->pkgs);

		p->name = pl_strdup(json_string_value(json_object_get(a, "name")));
		p->arch = pl_strdup(json_string_value(json_object_get(a, "arch")));
		p->version = disc_app_version(a);
		p->status = pl_strdup("installed");
	}
	inv_pkglist_rpm_dedup(&d->pkgs);
	return 0;
}

static int disc_inspect(struct disc_domain *d, const struct inv_discover_opts *o,
                        struct pl_err *err)
{
	struct guest_opts go = {.force_tcg = o->force_tcg, .readonly = 1};
	PL_AUTOGUESTFS guestfs_h *g = NULL;
	PL_AUTOFREE char *root = NULL;

	if (guest_open_disks(d->disks, d->ndisks, &go, &g, err) < 0 ||
	    guest_mount_os(g, 1, &root, err) < 0 || guest_inspect(g, root, &d->facts, err) < 0 ||
	    disc_packages(g, root, d, err) < 0)
		return err->code;
	return 0;
}

/* ---- writing -------------------------------------------------------------- */

/* The host linked to uri + domain: 1 with *id and *name, 0 when none. */
static int disc_linked(struct store *st, const char *uri, const char *domain, long *id, char **name,
                       struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct pl_buf names = PL_BUF_INIT;
	int rc, n = 0;

	if (store_prepare(st,
	                  "SELECT id, name FROM hosts WHERE libvirt_uri = ? AND libvirt_domain = ?"
	                  " ORDER BY name",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*id = (long)sqlite3_column_int64(s, 0);
		pl_buf_addf(&names, "%s'%s'", n++ ? ", " : "", store_col_text(s, 1));
		if (n == 1)
			*name = pl_strdup(store_col_text(s, 1));
	}
	if (rc != SQLITE_DONE) {
		pl_buf_release(&names);
		return store_error(st, err, "looking up the domain's host");
	}
	if (n > 1) {
		pl_error(err, PL_EINVAL, "hosts %s all name this domain: keep one", names.s);
		pl_buf_release(&names);
		return PL_EINVAL;
	}
	pl_buf_release(&names);
	return n;
}

/* Which host a domain becomes: the one linked to it, else a new host named
 * after it. *id is 0 for a new host. */
static int disc_target(struct store *st, const char *uri, const char *domain, long *id, char **name,
                       struct pl_err *err)
{
	long other;
	int rc = disc_linked(st, uri, domain, id, name, err);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	*id = 0;
	if (!inv_name_ok(domain))
		return pl_error(err, PL_EINVAL,
		                "'%s' is not a host name: add a host for it ('inventory add NAME"
		                " --libvirt %s --domain DOMAIN'), then discover again",
		                domain, uri);
	rc = inv_host_id(st, domain, &other, err);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return pl_error(err, PL_EEXIST,
		                "host '%s' exists and is not linked to this domain: link it with"
		                " 'inventory set %s --libvirt %s --domain %s', or remove it",
		                domain, domain, uri, domain);
	*name = pl_strdup(domain);
	return 0;
}

static const char *fact(const struct disc_domain *d, const char *key)
{
	return json_string_value(json_object_get(d->facts, key));
}

/* 1 if host id already holds exactly these facts and packages. */
static int disc_unchanged(struct store *st, long id, const struct disc_domain *d,
                          struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *h = NULL, *p = NULL;
	static const char *const keys[] = {"distro", "version", "hostname", "arch", "product"};
	size_t i = 0;
	int rc;

	if (store_prepare(st,
	                  "SELECT os, os_version, hostname, arch, product FROM hosts WHERE id = ?",
	                  &h, err) < 0 ||
	    store_prepare(st,
	                  "SELECT name, arch, version, source, source_version, status"
	                  " FROM host_packages WHERE host_id = ? ORDER BY name, arch",
	                  &p, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(h, 1, id);
	if (sqlite3_step(h) != SQLITE_ROW)
		return store_error(st, err, "reading the host");
	for (int k = 0; k < 5; k++) {
		const char *want = fact(d, keys[k]);

		if ((sqlite3_column_type(h, k) == SQLITE_NULL) != !want ||
		    (want && strcmp(want, store_col_text(h, k)) != 0))
			return 0;
	}
	sqlite3_bind_int64(p, 1, id);
	while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
		const struct inv_pkg *k = i < d->pkgs.n ? &d->pkgs.pkgs[i++] : NULL;
		const char *const want[] = {k ? k->name : NULL,           k ? k->arch : NULL,
		                            k ? k->version : NULL,        k ? k->source : NULL,
		                            k ? k->source_version : NULL, k ? k->status : NULL};

		if (!k)
			return 0;
		for (int c = 0; c < 6; c++)
			if ((sqlite3_column_type(p, c) == SQLITE_NULL) != !want[c] ||
			    (want[c] && strcmp(want[c], store_col_text(p, c)) != 0))
				return 0;
	}
	if (rc != SQLITE_DONE)
		return store_error(st, err, "reading the host's packages");
	return i == d->pkgs.n;
}

static const char DISC_INSERT_SQL[] =
    "INSERT INTO hosts(name, os, os_version, hostname, arch, product, libvirt_uri,"
    " libvirt_domain, discovered_at, discovered_from, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'libvirt', ?9, ?9)";
static const char DISC_UPDATE_SQL[] =
    "UPDATE hosts SET os = ?2, os_version = ?3, hostname = ?4, arch = ?5, product = ?6,"
    " discovered_at = ?9, discovered_from = 'libvirt', updated_at = ?9"
    " WHERE id = ?10";
static const char DISC_SEEN_SQL[] = "UPDATE hosts SET discovered_at = ?1 WHERE id = ?2";

/* Writes one domain in the open transaction; *result says what happened. */
static int disc_write_rows(struct store *st, const char *uri, const struct disc_domain *d,
                           char **host, const char **result, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	long id = 0;
	char now[21];
	int same;

	pl_time_iso(pl_clock_now(NULL), now);
	if (disc_target(st, uri, d->name, &id, host, err) < 0)
		return err->code;
	same = id ? disc_unchanged(st, id, d, err) : 0;
	if (same < 0)
		return same;
	if (same) {
		*result = "unchanged";
		if (store_prepare(st, DISC_SEEN_SQL, &s, err) < 0)
			return PL_EDB;
		sqlite3_bind_text(s, 1, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, id);
		return store_step_done(st, s, err);
	}
	*result = id ? "updated" : "added";
	if (store_prepare(st, id ? DISC_UPDATE_SQL : DISC_INSERT_SQL, &s, err) < 0)
		return PL_EDB;
	inv_bind_opt(s, 1, *host);
	inv_bind_opt(s, 2, fact(d, "distro"));
	inv_bind_opt(s, 3, fact(d, "version"));
	inv_bind_opt(s, 4, fact(d, "hostname"));
	inv_bind_opt(s, 5, fact(d, "arch"));
	inv_bind_opt(s, 6, fact(d, "product"));
	inv_bind_opt(s, 7, uri);
	inv_bind_opt(s, 8, d->name);
	inv_bind_opt(s, 9, now);
	if (id)
		sqlite3_bind_int64(s, 10, id);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	if (!id)
		id = (long)sqlite3_last_insert_rowid(st->db);
	if (inv_packages_write(st, id, &d->pkgs, err) < 0)
		return err->code;
	return inv_audit(st, strcmp(*result, "added") == 0 ? "host-add" : "host-update", *host,
	                 json_pack("{s:s, s:s, s:s, s:I}", "via", "discover", "uri", uri, "domain",
	                           d->name, "packages", (json_int_t)d->pkgs.n),
	                 err);
}

static int disc_write(struct store *st, const char *uri, const struct disc_domain *d, char **host,
                      const char **result, struct pl_err *err)
{
	if (store_begin(st, err) < 0)
		return err->code;
	if (disc_write_rows(st, uri, d, host, result, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		return err->code;
	}
	return 0;
}

/* ---- one domain, and all of them ------------------------------------------ */

static json_t *disc_result(const struct disc_domain *d, const char *host, const char *result,
                           const char *reason, double seconds)
{
	json_t *j = json_pack("{s:s, s:s?, s:s, s:b}", "domain", d->name, "host", host, "result",
	                      result, "running", d->active);
	json_t *disks = json_array();

	for (size_t i = 0; i < d->ndisks; i++)
		json_array_append_new(disks, json_pack("{s:s, s:s}", "path", d->disks[i].path,
		                                       "format", d->disks[i].format));
	json_object_set_new(j, "disks", disks);
	if (reason)
		json_object_set_new(j, "reason", json_string(reason));
	if (d->facts) {
		static const char *const keys[] = {"distro", "version", "hostname", "arch",
		                                   "product"};
		static const char *const out[] = {"os", "os_version", "hostname", "arch",
		                                  "product"};

		for (int k = 0; k < 5; k++)
			json_object_set_new(j, out[k],
			                    fact(d, keys[k]) ? json_string(fact(d, keys[k]))
			                                     : json_null());
		json_object_set_new(j, "packages", json_integer((json_int_t)d->pkgs.n));
		json_object_set_new(j, "live", json_boolean(d->active));
		json_object_set_new(j, "seconds", json_real(seconds));
	}
	return j;
}

/* Resolves, inspects and writes one domain; returns its result object. */
static json_t *disc_one(struct store *st, virConnectPtr conn, virDomainPtr dom, size_t index,
                        size_t total, const struct inv_discover_opts *o, int *failed)
{
	struct disc_domain d = {0};
	struct pl_err e = PL_ERR_INIT;
	PL_AUTOFREE char *host = NULL;
	const char *result = NULL;
	double t0, secs = 0;
	json_t *j;
	int rc;

	d.name = pl_strdup(virDomainGetName(dom));
	d.active = virDomainIsActive(dom) == 1;
	rc = disc_disks(conn, dom, &d, &e);
	if (rc == 0 && d.problem)
		rc = pl_error(&e, PL_EINVAL, "%s", d.problem);
	if (rc == 0 && d.active && !o->live) {
		j = disc_result(&d, NULL, "skipped",
		                "running: its disks change under a reader (--live inspects them"
		                " anyway, read-only)",
		                0);
		disc_domain_clear(&d);
		return j;
	}
	if (rc == 0 && o->dry_run) {
		long id;

		rc = disc_target(st, o->uri, d.name, &id, &host, &e);
		if (rc == 0)
			result = id ? "would update" : "would add";
	} else if (rc == 0) {
		t0 = pl_progress_begin(
		    o->progress, "inspect", "domain %s (%zu of %zu, %zu disk%s%s)", d.name,
		    index + 1, total, d.ndisks, d.ndisks == 1 ? "" : "s", d.active ? ", live" : "");
		rc = disc_inspect(&d, o, &e);
		secs = pl_progress_end(o->progress, "inspect", rc, t0);
		if (rc == 0)
			rc = disc_write(st, o->uri, &d, &host, &result, &e);
	}
	if (rc < 0)
		(*failed)++;
	j = disc_result(&d, host, rc < 0 ? "failed" : result, rc < 0 ? e.msg : NULL, secs);
	disc_domain_clear(&d);
	return j;
}

static int disc_name_cmp(const void *a, const void *b)
{
	return strcmp(virDomainGetName(*(virDomainPtr const *)a),
	              virDomainGetName(*(virDomainPtr const *)b));
}

/* The domains to look at, by name: all, or the ones o->domains names. */
static int disc_domains(virConnectPtr conn, const struct inv_discover_opts *o, virDomainPtr **out,
                        size_t *n, struct pl_err *err)
{
	virDomainPtr *doms = NULL;
	int k;

	if (!o->domains) {
		k = virConnectListAllDomains(conn, &doms, 0);
		if (k < 0)
			return lab_virt_error(err, "listing the domains");
		*n = (size_t)k;
	} else {
		for (*n = 0; o->domains[*n]; (*n)++)
			;
		doms = pl_calloc(*n + 1, sizeof(*doms));
		for (size_t i = 0; i < *n; i++) {
			doms[i] = virDomainLookupByName(conn, o->domains[i]);
			if (!doms[i]) {
				for (size_t j = 0; j < i; j++)
					virDomainFree(doms[j]);
				free(doms);
				return pl_error(err, PL_ENOTFOUND, "no domain '%s' on %s",
				                o->domains[i], o->uri);
			}
		}
	}
	if (*n > 1)
		qsort(doms, *n, sizeof(*doms), disc_name_cmp);
	*out = doms;
	return 0;
}

int inv_discover(struct store *st, const struct inv_discover_opts *o, json_t **out,
                 struct pl_err *err)
{
	virConnectPtr conn __attribute__((cleanup(disc_virconn_closep))) = NULL;
	virDomainPtr *doms = NULL;
	struct pl_buf names = PL_BUF_INIT;
	size_t n = 0;
	int failed = 0;
	json_t *arr;

	virSetErrorFunc(NULL, disc_virt_silent);
	conn = virConnectOpenReadOnly(o->uri);
	if (!conn)
		return lab_virt_error(err, o->uri);
	if (disc_domains(conn, o, &doms, &n, err) < 0)
		return err->code;
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *r = disc_one(st, conn, doms[i], i, n, o, &failed);

		if (strcmp(json_string_value(json_object_get(r, "result")), "failed") == 0)
			pl_buf_addf(&names, "%s'%s'", names.len ? ", " : "",
			            json_string_value(json_object_get(r, "domain")));
		json_array_append_new(arr, r);
		virDomainFree(doms[i]);
	}
	free(doms);
	*out = arr;
	if (failed)
		pl_error(err, PL_EFAIL, "%d of %zu domain%s failed: %s", failed, n,
		         n == 1 ? "" : "s", pl_buf_str(&names));
	pl_buf_release(&names);
	return failed ? PL_EFAIL : 0;
}
