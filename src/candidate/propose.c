/*
 * propose.c - a candidate from the open findings: the patches the fleet
 * misses at or above a priority, downloaded from the vendor and verified
 * against the signed index (src/repo), stored content-addressed in the
 * patch store and grouped into one candidate that records which findings it
 * addresses (candidate_findings), all in one transaction.
 *
 * Not resolved: dependencies. A proposed update that needs a newer version
 * of a package no finding names is caught by the lab's apply check (dpkg
 * refuses it), not here.
 */
#include "candidate.h"

#include <dirent.h>

#include "detect/detect.h"
#include "repo/repo.h"
#include "risk/risk.h"

/* One patch: a (package, candidate version, arch) and the findings it
 * closes. */
struct pp_patch {
	const char *package, *version, *arch, *release;
	sqlite3_int64 *findings;
	size_t nfindings;
	json_t *hosts; /* object used as a set */
	struct repo_deb deb;
	char *path; /* downloaded */
};

struct pp {
	struct pp_patch *v;
	size_t n;
};

static void pp_free(struct pp *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].findings);
		json_decref(p->v[i].hosts);
		repo_deb_clear(&p->v[i].deb);
		free(p->v[i].path);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* Why nothing matched: no findings at all, or none that high. */
static int nothing_matches(struct store *st, const struct candidate_propose_opts *o,
                           struct pl_err *err)
{
	struct detect_findings_query q = {.host = o->host, .role = o->role, .top = 1};
	PL_AUTOJSON json_t *any = NULL;
	PL_AUTOFREE char *who = NULL;

	if (o->host)
		who = pl_strdupf("host '%s'", o->host);
	else if (o->role)
		who = pl_strdupf("role '%s'", o->role);
	else
		who = pl_strdup("the inventory");
	if (detect_findings_list(st, &q, &any, err) < 0)
		return err->code;
	if (json_array_size(any) == 0)
		return pl_error(err, PL_ENOTFOUND,
		                "%s has no open findings (has 'patchlab scan' run since the last "
		                "'repo sync' and 'feed sync'?)",
		                who);
	return pl_error(err, PL_ENOTFOUND,
	                "no open finding of %s has priority %d or more (the highest is %lld, %s)",
	                who, o->min_priority,
	                json_integer_value(json_object_get(json_array_get(any, 0), "priority")),
	                json_string_value(json_object_get(json_array_get(any, 0), "level")));
}

/* Groups the findings into one patch per (package, version, arch); two
 * versions of one package and arch cannot share a candidate. */
static int pp_group(json_t *findings, struct pp *p, struct pl_err *err)
{
	size_t i;
	json_t *f;

	json_array_foreach (findings, i, f) {
		const char *pkg = json_string_value(json_object_get(f, "package"));
		const char *ver = json_string_value(json_object_get(f, "candidate"));
		const char *arch = json_string_value(json_object_get(f, "arch"));
		struct pp_patch *x = NULL;

		for (size_t k = 0; k < p->n && !x; k++) {
			if (strcmp(p->v[k].package, pkg) != 0 || strcmp(p->v[k].arch, arch) != 0)
				continue;
			if (strcmp(p->v[k].version, ver) != 0)
				return pl_error(
				    err, PL_EINVAL,
				    "the findings need %s %s and %s (%s): a candidate holds "
				    "one version of a package; narrow them with --host or "
				    "--role",
				    pkg, p->v[k].version, ver, arch);
			x = &p->v[k];
		}
		if (!x) {
			p->v = pl_realloc(p->v, (p->n + 1) * sizeof(*p->v));
			x = &p->v[p->n++];
			memset(x, 0, sizeof(*x));
			x->package = pkg;
			x->version = ver;
			x->arch = arch;
			x->release = json_string_value(json_object_get(f, "release"));
			x->hosts = json_object();
		}
		x->findings = pl_realloc(x->findings, (x->nfindings + 1) * sizeof(sqlite3_int64));
		x->findings[x->nfindings++] = json_integer_value(json_object_get(f, "id"));
		json_object_set_new(x->hosts, json_string_value(json_object_get(f, "host")),
		                    json_true());
	}
	return 0;
}

/* Locates every patch in the synced indexes (no network). */
static int pp_locate(struct store *st, struct pp *p, struct pl_err *err)
{
	PL_AUTOFREE struct repo_deb_want *w = pl_calloc(p->n ? p->n : 1, sizeof(*w));
	PL_AUTOFREE struct repo_deb *d = pl_calloc(p->n ? p->n : 1, sizeof(*d));

	for (size_t i = 0; i < p->n; i++)
		w[i] = (struct repo_deb_want){p->v[i].package, p->v[i].version, p->v[i].arch};
	/* every index read once for all the patches */
	if (repo_deb_locate_all(st, NULL, w, p->n, d, err) < 0)
		return err->code;
	for (size_t i = 0; i < p->n; i++)
		p->v[i].deb = d[i];
	return 0;
}

/* Downloads every patch into dir, each checked against its index stanza. */
static int pp_fetch(struct pp *p, const char *dir, const struct pl_progress *progress,
                    struct pl_err *err)
{
	double t0 = pl_progress_begin(progress, "download", "%zu .deb(s)", p->n);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		struct net_fetch_opts no = {.progress = progress};

		if (repo_deb_fetch(&p->v[i].deb, dir, &no, &p->v[i].path, err) < 0)
			rc = err->code;
	}
	pl_progress_end(progress, "download", rc, t0);
	return rc;
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		PL_AUTOFREE char *f = NULL;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		f = pl_path_join(dir, e->d_name);
		unlink(f);
	}
	closedir(d);
	rmdir(dir);
}

/* A private download directory under STATE/tmp; caller frees the name. */
static int pp_tmpdir(struct store *st, char **out, struct pl_err *err)
{
	PL_AUTOFREE char *base = pl_path_join(st->dir, "tmp");
	char *dir;
	int rc;

	if (pl_mkdir_p(base, 0700, err) < 0)
		return err->code;
	dir = pl_strdupf("%s/propose-XXXXXX", base);
	if (!mkdtemp(dir)) {
		rc = pl_error(err, PL_EIO, "%s: %s", base, strerror(errno));
		free(dir);
		return rc;
	}
	*out = dir;
	return 0;
}

/* The hook of candidate_create_from: which findings each patch closes. */
static int pp_record(struct store *st, long id, const struct patch *patches, size_t n, void *ctx,
                     struct pl_err *err)
{
	const struct pp *p = ctx;
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_prepare(st,
	                  "INSERT INTO candidate_findings (candidate_id, finding_id, patch_id)"
	                  " VALUES (?, ?, ?)",
	                  &s, err) < 0)
		return PL_EDB;
	for (size_t i = 0; i < n && i < p->n; i++)
		for (size_t k = 0; k < p->v[i].nfindings; k++) {
			sqlite3_reset(s);
			sqlite3_bind_int64(s, 1, id);
			sqlite3_bind_int64(s, 2, p->v[i].findings[k]);
			sqlite3_bind_int64(s, 3, patches[i].id);
			if (store_step_done(st, s, err) < 0)
				return err->code;
		}
	return 0;
}

static json_t *pp_json(const char *name, const struct pp *p, const struct candidate_propose_opts *o,
                       size_t nfindings, const struct candidate *c)
{
	json_t *arr = json_array(), *hosts = json_object(), *j;

	for (size_t i = 0; i < p->n; i++) {
		const struct pp_patch *x = &p->v[i];
		PL_AUTOFREE char *url = pl_strdupf("%s/%s", x->deb.uri, x->deb.filename);
		json_t *item = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:I, s:s, s:I, s:I}",
		                         "package", x->package, "version", x->version, "arch",
		                         x->arch, "release", x->release, "repo", x->deb.repo, "url",
		                         url, "size", (json_int_t)x->deb.size, "sha256",
		                         x->deb.sha256, "findings", (json_int_t)x->nfindings,
		                         "hosts", (json_int_t)json_object_size(x->hosts));

		json_object_update(hosts, x->hosts);
		json_array_append_new(arr, item);
	}
	j = json_pack("{s:s, s:b, s:s?, s:i, s:s, s:s?, s:s?, s:I, s:I, s:o}", "candidate", name,
	              "dry_run", o->dry_run, "state", c ? c->state : NULL, "min_priority",
	              o->min_priority, "min_level",
	              risk_priority_level_name(risk_priority_level(o->min_priority)), "host",
	              o->host, "role", o->role, "findings", (json_int_t)nfindings, "hosts",
	              (json_int_t)json_object_size(hosts), "patches", arr);
	json_decref(hosts);
	return j;
}

static int pp_exists(struct store *st, const char *name, struct pl_err *err)
{
	struct candidate c;

	if (candidate_get(st, name, &c, err) == 0) {
		candidate_clear(&c);
		return pl_error(err, PL_EEXIST, "a candidate named '%s' exists already", name);
	}
	if (err->code != PL_ENOTFOUND)
		return err->code;
	err->code = 0;
	err->msg[0] = '\0';
	return 0;
}

int candidate_propose(struct store *st, const char *name, const struct candidate_propose_opts *o,
                      json_t **out, struct pl_err *err)
{
	struct detect_findings_query q = {
	    .host = o->host, .role = o->role, .min_priority = o->min_priority};
	PL_AUTOJSON json_t *findings = NULL;
	PL_AUTOFREE char *dir = NULL;
	PL_AUTOFREE struct candidate_deb *debs = NULL;
	struct candidate c = {0};
	struct pp p = {0};
	int rc;

	*out = NULL;
	if (!candidate_name_ok(name))
		return pl_error(err, PL_EINVAL,
		                "candidate name '%s': use 1-64 of A-Z a-z 0-9 . _ -, starting "
		                "alphanumeric",
		                name);
	if (o->host && o->role)
		return pl_error(err, PL_EUSAGE, "give --host or --role, not both");
	if (pp_exists(st, name, err) < 0 || detect_findings_list(st, &q, &findings, err) < 0)
		return err->code;
	if (json_array_size(findings) == 0)
		return nothing_matches(st, o, err);
	rc = pp_group(findings, &p, err);
	if (rc == 0)
		rc = pp_locate(st, &p, err);
	if (rc == 0 && !o->dry_run)
		rc = pp_tmpdir(st, &dir, err);
	if (rc == 0 && !o->dry_run)
		rc = pp_fetch(&p, dir, o->progress, err);
	if (rc == 0 && !o->dry_run) {
		debs = pl_calloc(p.n, sizeof(*debs));
		for (size_t i = 0; i < p.n; i++) {
			debs[i].path = p.v[i].path;
			debs[i].origin = pl_strdupf("%s/%s", p.v[i].deb.uri, p.v[i].deb.filename);
		}
		rc = candidate_create_from(st, name, debs, p.n, pp_record, &p, &c, err);
		for (size_t i = 0; i < p.n; i++)
			free((char *)debs[i].origin);
	}
	if (dir)
		rm_dir(dir);
	if (rc == 0)
		*out = pp_json(name, &p, o, json_array_size(findings), o->dry_run ? NULL : &c);
	candidate_clear(&c);
	pp_free(&p);
	return rc;
}
