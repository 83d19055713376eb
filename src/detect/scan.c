/*
 * scan.c - the one-shot comparison: installed packages against the
 * candidates of the index, and the upgrade's source versions against the
 * feed's fixed versions.
 */
#include "detect/detect-private.h"

/* The feed's CVEs of source src: [*first, *first + return). */
size_t detect_feed_range(const struct detect_feed *f, const char *src, size_t *first)
{
	size_t lo = 0, hi = f->n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(f->c[mid].source, src) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < f->n && strcmp(f->c[end].source, src) == 0; end++)
		;
	*first = lo;
	return end - lo;
}

/* installed < fixed <= candidate, fixed "0" meaning never affected. */
int detect_cve_fixes(const struct detect_cve *c, const char *inst, const char *cand)
{
	if (!c->resolved || strcmp(c->fixed, "0") == 0)
		return 0;
	return detect_version_cmp(inst, c->fixed) < 0 && detect_version_cmp(c->fixed, cand) <= 0;
}

static void add_cves(const struct detect_feed *f, struct detect_upgrade *u)
{
	size_t first, n = detect_feed_range(f, u->source, &first);

	for (size_t i = first; i < first + n; i++) {
		const struct detect_cve *c = &f->c[i];

		if (!detect_cve_fixes(c, u->installed_source, u->candidate_source))
			continue;
		/* sorted by id: a repeat (two feeds) is the previous one */
		if (u->ncves && strcmp(u->cves[u->ncves - 1], c->id) == 0) {
			if (c->urgency > u->severity)
				u->severity = c->urgency;
			continue;
		}
		u->cves = pl_realloc(u->cves, (u->ncves + 1) * sizeof(char *));
		u->cves[u->ncves++] = pl_strdup(c->id);
		if (c->urgency > u->severity)
			u->severity = c->urgency;
	}
}

static void add_unfixed(const struct detect_feed *f, const struct pkgdb_pkg *p,
                        struct detect_result *r, size_t *cap)
{
	size_t first, n = detect_feed_range(f, p->source, &first);

	for (size_t i = first; i < first + n; i++) {
		const struct detect_cve *c = &f->c[i];
		struct detect_unfixed *u;

		if (c->resolved)
			continue;
		/* one row per package name, whatever its architectures */
		if (r->nunfixed && strcmp(r->unfixed[r->nunfixed - 1].package, p->name) == 0 &&
		    strcmp(r->unfixed[r->nunfixed - 1].cve, c->id) >= 0)
			continue;
		if (r->nunfixed == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			r->unfixed = pl_realloc(r->unfixed, *cap * sizeof(r->unfixed[0]));
		}
		u = &r->unfixed[r->nunfixed++];
		u->package = pl_strdup(p->name);
		u->source = pl_strdup(p->source);
		u->cve = pl_strdup(c->id);
		u->urgency = c->urgency;
	}
}

int detect_scan(const struct pkgdb_pkglist *pkgs, const struct detect_index *ix,
                const struct detect_feed *feed, struct detect_result *out, struct pl_err *err)
{
	size_t cap = 0, ucap = 0;

	(void)err;
	memset(out, 0, sizeof(*out));
	out->indexed = ix->stanzas;
	for (size_t i = 0; i < pkgs->n; i++) {
		const struct pkgdb_pkg *p = &pkgs->pkgs[i];
		const struct detect_entry *e;
		struct detect_upgrade *u;

		if (!p->installed || !p->arch || !p->version)
			continue;
		out->installed++;
		if (feed)
			add_unfixed(feed, p, out, &ucap);
		e = detect_index_find(ix, p->name, p->arch);
		if (!e || detect_version_cmp(e->version, p->version) <= 0)
			continue;
		if (out->nup == cap) {
			cap = cap ? cap * 2 : 64;
			out->up = pl_realloc(out->up, cap * sizeof(out->up[0]));
		}
		u = &out->up[out->nup++];
		memset(u, 0, sizeof(*u));
		u->package = pl_strdup(p->name);
		u->arch = pl_strdup(p->arch);
		u->installed = pl_strdup(p->version);
		u->candidate = pl_strdup(e->version);
		u->source = pl_strdup(p->source);
		u->installed_source = pl_strdup(p->source_version);
		u->candidate_source = pl_strdup(e->source_version);
		u->severity = DETECT_URG_NONE;
		if (feed)
			add_cves(feed, u);
	}
	return 0;
}

void detect_result_free(struct detect_result *r)
{
	for (size_t i = 0; i < r->nup; i++) {
		struct detect_upgrade *u = &r->up[i];

		free(u->package);
		free(u->arch);
		free(u->installed);
		free(u->candidate);
		free(u->source);
		free(u->installed_source);
		free(u->candidate_source);
		for (size_t k = 0; k < u->ncves; k++)
			free(u->cves[k]);
		free(u->cves);
	}
	for (size_t i = 0; i < r->nunfixed; i++) {
		free(r->unfixed[i].package);
		free(r->unfixed[i].source);
		free(r->unfixed[i].cve);
	}
	free(r->up);
	free(r->unfixed);
	memset(r, 0, sizeof(*r));
}
