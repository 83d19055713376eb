/* inv_parse.c - host lists from CSV or JSON, validation, rpm -qa output. */
#include "inventory-private.h"

#include <arpa/inet.h>
#include <ctype.h>

#include "pkgdb/pkgdb.h"
#include "version/version.h"

/* Column and JSON field names, in the order of struct inv_host's strings. */
static const char *const inv_fields[] = {
    "name",        "ip",   "os",       "os_version",  "location",       "owner", "role",
    "environment", "tags", "controls", "libvirt_uri", "libvirt_domain", "image", NULL};
enum {
	F_NAME,
	F_IP,
	F_OS,
	F_OS_VERSION,
	F_LOCATION,
	F_OWNER,
	F_ROLE,
	F_ENV,
	F_TAGS,
	F_CONTROLS,
	F_URI,
	F_DOMAIN,
	F_IMAGE,
	F_COUNT
};

static const char *const inv_envs[] = {"production", "staging", "test", "development", NULL};

void inv_host_clear(struct inv_host *h)
{
	free(h->name);
	free(h->ip);
	free(h->os);
	free(h->os_version);
	free(h->location);
	free(h->owner);
	free(h->role);
	free(h->environment);
	json_decref(h->tags);
	json_decref(h->controls);
	free(h->libvirt_uri);
	free(h->libvirt_domain);
	free(h->image);
	memset(h, 0, sizeof(*h));
}

void inv_hostlist_free(struct inv_hostlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		inv_host_clear(&l->hosts[i]);
	free(l->hosts);
	memset(l, 0, sizeof(*l));
}

static void pkg_clear(struct inv_pkg *p)
{
	free(p->name);
	free(p->arch);
	free(p->version);
	free(p->source);
	free(p->source_version);
	free(p->status);
	memset(p, 0, sizeof(*p));
}

void inv_pkglist_free(struct inv_pkglist *l)
{
	for (size_t i = 0; i < l->n; i++)
		pkg_clear(&l->pkgs[i]);
	free(l->pkgs);
	memset(l, 0, sizeof(*l));
}

static struct inv_host *hostlist_push(struct inv_hostlist *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->hosts = pl_realloc(l->hosts, l->cap * sizeof(*l->hosts));
	}
	memset(&l->hosts[l->n], 0, sizeof(l->hosts[0]));
	l->hosts[l->n].tags = json_array();
	l->hosts[l->n].controls = json_object();
	return &l->hosts[l->n++];
}

static char **host_str(struct inv_host *h, int f)
{
	char **p[] = {&h->name,     &h->ip,    &h->os,          &h->os_version,
	              &h->location, &h->owner, &h->role,        &h->environment,
	              NULL,         NULL,      &h->libvirt_uri, &h->libvirt_domain,
	              &h->image};

	return p[f];
}

int inv_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int one_of(const char *v, const char *const *choices, const char *what, char *msg,
                  size_t size)
{
	struct pl_buf b = PL_BUF_INIT;

	for (int i = 0; choices[i]; i++)
		if (strcmp(v, choices[i]) == 0)
			return 0;
	for (int i = 0; choices[i]; i++)
		pl_buf_addf(&b, "%s%s", i ? ", " : "", choices[i]);
	snprintf(msg, size, "%s'%s' is not one of %s", what, v, pl_buf_str(&b));
	pl_buf_release(&b);
	return -1;
}

int inv_tag_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int inv_field_check(const char *field, const char *v, char *msg, size_t size)
{
	unsigned char addr[16];

	if (strcmp(field, "name") == 0 && !inv_name_ok(v)) {
		snprintf(
		    msg, size,
		    "'%s' is not a host name (1-64 of A-Z a-z 0-9 . _ -, first a letter or digit)",
		    v);
		return -1;
	}
	if (strcmp(field, "ip") == 0 && *v && inet_pton(AF_INET, v, addr) != 1 &&
	    inet_pton(AF_INET6, v, addr) != 1) {
		snprintf(msg, size, "'%s' is not an IP address", v);
		return -1;
	}
	if (strcmp(field, "environment") == 0)
		return one_of(v, inv_envs, "", msg, size);
	if (strcmp(field, "tags") == 0 && !inv_tag_ok(v)) {
		snprintf(msg, size, "'%s' is not a tag (1-64 of a-z 0-9 . _ -)", v);
		return -1;
	}
	if (strchr(v, '\n') && strcmp(field, "location") != 0) {
		snprintf(msg, size, "'%s' contains a line break", v);
		return -1;
	}
	return 0;
}

int inv_host_check(const struct inv_host *h, const char *where, struct pl_err *err)
{
	if (!h->name)
		return pl_error(err, PL_EINVAL, "%s: no host name", where);
	if (!h->libvirt_uri != !h->libvirt_domain)
		return pl_error(err, PL_EINVAL,
		                "%s: host '%s': libvirt_uri and libvirt_domain go together", where,
		                h->name);
	return 0;
}

/* ---- CSV ----------------------------------------------------------------- */

/* A CSV reader (RFC 4180): fields of one record at a time. */
struct csv {
	const char *p, *end, *source;
	size_t line;     /* current line */
	size_t rec_line; /* line where the record began */
	char **fields;
	size_t n, cap;
};

static void csv_clear(struct csv *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->fields[i]);
	c->n = 0;
}

/* Reads the next record: 1, 0 at the end, PL_EINVAL on bad quoting. */
static int csv_next(struct csv *c, struct pl_err *err)
{
	struct pl_buf f = PL_BUF_INIT;

	csv_clear(c);
	if (c->p >= c->end)
		return 0;
	c->rec_line = c->line;
	for (;;) {
		int quoted = 0;

		pl_buf_reset(&f);
		pl_buf_adds(&f, "");
		if (c->p < c->end && *c->p == '"') {
			quoted = 1;
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					pl_buf_release(&f);
					return pl_error(err, PL_EINVAL,
					                "%s:%zu: a quoted field is not closed",
					                c->source, c->rec_line);
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						pl_buf_addc(&f, '"');
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->line++;
				pl_buf_addc(&f, *c->p++);
			}
		}
		while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
		       !(*c->p == '\r' && (c->p + 1 == c->end || c->p[1] == '\n'))) {
			if (quoted || *c->p == '"') {
				pl_buf_release(&f);
				return pl_error(
				    err, PL_EINVAL,
				    "%s:%zu: a quote inside a field (quote the whole field"
				    " and double the quote)",
				    c->source, c->line);
			}
			if (*c->p == '\0') {
				pl_buf_release(&f);
				return pl_error(err, PL_EINVAL, "%s:%zu: a NUL byte", c->source,
				                c->line);
			}
			pl_buf_addc(&f, *c->p++);
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 16;
			c->fields = pl_realloc(c->fields, c->cap * sizeof(char *));
		}
		c->fields[c->n++] = pl_buf_detach(&f);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n')
			c->p++;
		c->line++;
		return 1;
	}
}

static int csv_blank(const struct csv *c)
{
	return c->n == 1 && c->fields[0][0] == '\0';
}

/* Fills one host from a record; cols[i] is the field index of column i. */
static int csv_host(struct csv *c, const int *cols, struct inv_host *h, struct pl_err *err)
{
	char msg[512];

	h->line = c->rec_line;
	for (size_t i = 0; i < c->n; i++) {
		const char *v = c->fields[i], *name = inv_fields[cols[i]];

		if (!*v)
			continue;
		if (cols[i] == F_TAGS || cols[i] == F_CONTROLS) {
			PL_AUTOFREE char *copy = pl_strdup(v);
			char *save = NULL;

			for (char *t = strtok_r(copy, ";", &save); t;
			     t = strtok_r(NULL, ";", &save)) {
				int bad =
				    cols[i] == F_TAGS
				        ? inv_field_check("tags", t, msg, sizeof(msg))
				        : inv_control_add(h->controls, t, 0, msg, sizeof(msg));

				if (bad < 0)
					return pl_error(err, PL_EINVAL, "%s:%zu: field '%s': %s",
					                c->source, c->rec_line, name, msg);
				if (cols[i] == F_TAGS)
					json_array_append_new(h->tags, json_string(t));
			}
			continue;
		}
		if (inv_field_check(name, v, msg, sizeof(msg)) < 0)
			return pl_error(err, PL_EINVAL, "%s:%zu: field '%s': %s", c->source,
			                c->rec_line, name, msg);
		*host_str(h, cols[i]) = pl_strdup(v);
	}
	if (!h->name)
		return pl_error(err, PL_EINVAL, "%s:%zu: field 'name': is required", c->source,
		                c->rec_line);
	return 0;
}

static int csv_header(struct csv *c, int *cols, struct pl_err *err)
{
	int seen[F_COUNT] = {0};

	for (size_t i = 0; i < c->n; i++) {
		int f = -1;

		for (int k = 0; inv_fields[k]; k++)
			if (strcmp(c->fields[i], inv_fields[k]) == 0)
				f = k;
		if (f < 0)
			return pl_error(err, PL_EINVAL, "%s:%zu: unknown column '%s'", c->source,
			                c->rec_line, c->fields[i]);
		if (seen[f]++)
			return pl_error(err, PL_EINVAL, "%s:%zu: column '%s' appears twice",
			                c->source, c->rec_line, c->fields[i]);
		cols[i] = f;
	}
	if (!seen[F_NAME])
		return pl_error(err, PL_EINVAL, "%s:%zu: the header has no 'name' column",
		                c->source, c->rec_line);
	return 0;
}

int inv_csv_parse(const char *buf, size_t len, const char *source, struct inv_hostlist *out,
                  struct pl_err *err)
{
	struct csv c = {.p = buf, .end = buf + len, .source = source, .line = 1};
	int cols[F_COUNT] = {0};
	size_t ncols = 0;
	int rc;

	/* skip a UTF-8 byte order mark, as spreadsheets write one */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	while ((rc = csv_next(&c, err)) == 1 && csv_blank(&c))
		;
	if (rc == 0)
		rc = pl_error(err, PL_EINVAL, "%s: empty file, expected a header line", source);
	if (rc == 1 && c.n > F_COUNT)
		rc =
		    pl_error(err, PL_EINVAL, "%s:%zu: the header has %zu columns, at most %d known",
		             source, c.rec_line, c.n, F_COUNT);
	if (rc == 1) {
		ncols = c.n;
		rc = csv_header(&c, cols, err);
	}
	while (rc >= 0 && (rc = csv_next(&c, err)) == 1) {
		if (csv_blank(&c))
			continue;
		if (c.n != ncols) {
			rc = pl_error(err, PL_EINVAL, "%s:%zu: %zu fields, the header has %zu",
			              source, c.rec_line, c.n, ncols);
			break;
		}
		rc = csv_host(&c, cols, hostlist_push(out), err);
		if (rc == 0) {
			PL_AUTOFREE char *w = pl_strdupf("%s:%zu", source, c.rec_line);

			rc = inv_host_check(&out->hosts[out->n - 1], w, err);
		}
	}
	csv_clear(&c);
	free(c.fields);
	if (rc < 0) {
		inv_hostlist_free(out);
		return err->code ? err->code : PL_EINVAL;
	}
	return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static int json_host(const struct pl_jdoc *d, json_t *obj, const char *path, struct inv_host *h)
{
	static const char *const allowed[] = {
	    "name",        "ip",   "os",       "os_version",  "location",       "owner", "role",
	    "environment", "tags", "controls", "libvirt_uri", "libvirt_domain", "image", NULL};
	char msg[512];
	json_t *v;
	const char *key;
	size_t i;

	if (pl_json_check_keys(d, obj, path, allowed) < 0)
		return PL_EINVAL;
	for (int f = 0; f < F_COUNT; f++) {
		if (f == F_TAGS || f == F_CONTROLS)
			continue;
		v = json_object_get(obj, inv_fields[f]);
		if (!v || json_is_null(v)) {
			if (f == F_NAME)
				return pl_json_error(d, path, "name", "is required");
			continue;
		}
		if (!json_is_string(v))
			return pl_json_error(d, path, inv_fields[f], "expected a string");
		if (strlen(json_string_value(v)) != json_string_length(v))
			return pl_json_error(d, path, inv_fields[f], "contains a NUL character");
		if (inv_field_check(inv_fields[f], json_string_value(v), msg, sizeof(msg)) < 0)
			return pl_json_error(d, path, inv_fields[f], "%s", msg);
		if (json_string_length(v))
			*host_str(h, f) = pl_strdup(json_string_value(v));
	}
	if ((v = json_object_get(obj, "tags")) && !json_is_null(v)) {
		if (!json_is_array(v))
			return pl_json_error(d, path, "tags", "expected an array of strings");
		json_t *t;

		json_array_foreach(v, i, t)
		{
			if (!json_is_string(t))
				return pl_json_error(d, path, "tags", "[%zu]: expected a string",
				                     i);
			if (inv_field_check("tags", json_string_value(t), msg, sizeof(msg)) < 0)
				return pl_json_error(d, path, "tags", "[%zu]: %s", i, msg);
			json_array_append(h->tags, t);
		}
	}
	if ((v = json_object_get(obj, "controls")) && !json_is_null(v)) {
		json_t *cv;
		PL_AUTOFREE char *cpath = pl_strdupf("%s.controls", path);

		if (!json_is_object(v))
			return pl_json_error(d, path, "controls", "expected an object");
		json_object_foreach(v, key, cv)
		{
			json_t *nv = inv_control_value(key, cv, msg, sizeof(msg));

			if (!nv)
				return pl_json_error(d, cpath, key, "%s", msg);
			json_object_set_new(h->controls, key, nv);
		}
	}
	{
		PL_AUTOFREE char *w = pl_strdupf("%s: %s", d->file, path);

		return inv_host_check(h, w, d->err) < 0 ? PL_EINVAL : 0;
	}
}

int inv_json_parse(const char *buf, size_t len, const char *source, struct inv_hostlist *out,
                   struct pl_err *err)
{
	struct pl_jdoc d = {source, err};
	json_error_t je;
	PL_AUTOJSON json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	json_t *v;
	size_t i;

	if (!root)
		return pl_error(err, PL_EINVAL, "%s:%d:%d: %s", source, je.line, je.column,
		                je.text);
	if (!json_is_array(root))
		return pl_json_error(&d, "$", NULL, "expected an array of hosts");
	json_array_foreach(root, i, v)
	{
		char path[32];

		snprintf(path, sizeof(path), "$[%zu]", i);
		if (json_host(&d, v, path, hostlist_push(out)) < 0) {
			inv_hostlist_free(out);
			return PL_EINVAL;
		}
	}
	return 0;
}

int inv_parse(const char *buf, size_t len, const char *source, struct inv_hostlist *out,
              struct pl_err *err)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len && buf[i] == '[')
		return inv_json_parse(buf, len, source, out, err);
	return inv_csv_parse(buf, len, source, out, err);
}

/* ---- packages ------------------------------------------------------------ */

struct inv_pkg *inv_pkglist_push(struct inv_pkglist *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->pkgs = pl_realloc(l->pkgs, l->cap * sizeof(*l->pkgs));
	}
	memset(&l->pkgs[l->n], 0, sizeof(l->pkgs[0]));
	return &l->pkgs[l->n++];
}

/* One line: NAME \t [EPOCH|(none)]:VERSION-RELEASE \t ARCH. */
static int rpmqa_line(const char *s, size_t n, struct inv_pkg *p, const char **msg)
{
	const char *t1 = memchr(s, '\t', n), *t2, *ver;
	size_t vlen;
	struct version_rpm v;

	if (!t1 || !(t2 = memchr(t1 + 1, '\t', n - (size_t)(t1 + 1 - s))) ||
	    memchr(t2 + 1, '\t', n - (size_t)(t2 + 1 - s))) {
		*msg = "expected NAME<TAB>EPOCH:VERSION-RELEASE<TAB>ARCH";
		return -1;
	}
	if (t1 == s || t2 + 1 == s + n) {
		*msg = "empty name or architecture";
		return -1;
	}
	ver = t1 + 1;
	vlen = (size_t)(t2 - ver);
	if (vlen >= 7 && memcmp(ver, "(none):", 7) == 0) {
		ver += 7;
		vlen -= 7;
	}
	if (memchr(ver, ' ', vlen)) {
		*msg = "version has a space";
		return -1;
	}
	if (version_rpm_parse(ver, vlen, &v, msg) < 0)
		return -1;
	if (!v.release) {
		*msg = "version has no release";
		return -1;
	}
	p->name = pl_strndup(s, (size_t)(t1 - s));
	p->version = pl_strndup(ver, vlen);
	p->arch = pl_strndup(t2 + 1, n - (size_t)(t2 + 1 - s));
	p->status = pl_strdup("installed");
	return 0;
}

int inv_rpmqa_parse(const char *buf, size_t len, const char *source, struct inv_pkglist *out,
                    struct pl_err *err)
{
	const char *p = buf, *end = buf + len;
	size_t line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *msg = NULL;

		line++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n &&
		    (memchr(p, '\0', n) || rpmqa_line(p, n, inv_pkglist_push(out), &msg) < 0)) {
			pl_error(err, PL_EINVAL, "%s:%zu: %s", source, line,
			         msg ? msg : "a NUL byte");
			inv_pkglist_free(out);
			return PL_EINVAL;
		}
		p = nl ? nl + 1 : end;
	}
	inv_pkglist_rpm_dedup(out);
	return 0;
}

void inv_pkglist_from_pkgdb(const struct pkgdb_pkglist *in, struct inv_pkglist *out)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct pkgdb_pkg *k = &in->pkgs[i];
		struct inv_pkg *p = inv_pkglist_push(out);

		p->name = pl_strdup(k->name);
		p->arch = pl_strdup(k->arch ? k->arch : "");
		p->version = k->version ? pl_strdup(k->version) : NULL;
		p->source = k->source ? pl_strdup(k->source) : NULL;
		p->source_version = k->source_version ? pl_strdup(k->source_version) : NULL;
		p->status = pl_strdupf("%s %s %s", pkgdb_want_name(k->want),
		                       pkgdb_eflag_name(k->eflag), pkgdb_state_name(k->state));
	}
}

int inv_dpkg_load(const char *path, struct inv_pkglist *out, struct pl_err *err)
{
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;

	if (pkgdb_dpkg_status_load(path, &l, err) < 0)
		return err->code;
	inv_pkglist_from_pkgdb(&l, out);
	pkgdb_pkglist_free(&l);
	return 0;
}

static int pkg_cmp(const void *a, const void *b)
{
	const struct inv_pkg *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->arch ? x->arch : "", y->arch ? y->arch : "");
}

void inv_pkglist_sort(struct inv_pkglist *l)
{
	if (l->n > 1)
		qsort(l->pkgs, l->n, sizeof(l->pkgs[0]), pkg_cmp);
}

static int rpm_newer(const char *a, const char *b)
{
	struct version_rpm va, vb;
	const char *msg;

	if (version_rpm_parse(a, strlen(a), &va, &msg) < 0 ||
	    version_rpm_parse(b, strlen(b), &vb, &msg) < 0)
		return strcmp(a, b) > 0;
	return version_rpm_cmp(&va, &vb) > 0;
}

void inv_pkglist_rpm_dedup(struct inv_pkglist *l)
{
	size_t w = 0;

	inv_pkglist_sort(l);
	for (size_t r = 0; r < l->n; r++) {
		struct inv_pkg *p = &l->pkgs[r];

		if (w > 0 && pkg_cmp(&l->pkgs[w - 1], p) == 0) {
			struct inv_pkg *keep = &l->pkgs[w - 1];

			if (p->version &&
			    (!keep->version || rpm_newer(p->version, keep->version))) {
				pkg_clear(keep);
				*keep = *p;
			} else {
				pkg_clear(p);
			}
			continue;
		}
		if (w != r)
			l->pkgs[w] = *p;
		w++;
	}
	l->n = w;
}

int inv_pkg_installed(const char *status)
{
	const char *w = status ? strrchr(status, ' ') : NULL;

	return status && strcmp(w ? w + 1 : status, "installed") == 0;
}

int inv_pkg_scan_fields(const char *name, const char *arch, const char *version,
                        const char *source, const char *source_version, const char *status,
                        const char *v[5])
{
	if (!version || !arch || !*arch || !inv_pkg_installed(status))
		return 0;
	v[0] = name;
	v[1] = arch;
	v[2] = version;
	v[3] = source ? source : name;
	v[4] = source_version ? source_version : version;
	return 1;
}
