/*
 * bisect.c - which patches make a failing candidate fail.
 *
 * Binary search testing one half per step: log2(n) runs find a single
 * culprit, and one more run confirms it alone. When the confirmation
 * passes, the failure needs several patches together: then the general
 * search runs, which tests both halves and, when neither fails alone,
 * looks for the culprits of each half in the context of the other
 * (two culprits that fail only together are found as a pair).
 */
#include "lab-private.h"

struct bisect {
	struct store *st;
	struct candidate *c;
	const struct image *im;
	const struct lab_def *def;
	const struct lab_cand_opts *o;
	json_t *runs; /* {subset, verdict, run} per lab run */
	struct pl_err *err;
};

/* 1 when the lab fails the set, 0 when it passes, <0 when it broke. */
static int bisect_fails(struct bisect *b, char **set, size_t n)
{
	const char **subset = pl_calloc(n + 1, sizeof(char *));
	json_t *res = NULL, *names = json_array();
	int rc;

	for (size_t i = 0; i < n; i++) {
		subset[i] = set[i];
		json_array_append_new(names, json_string(set[i]));
	}
	rc = lab_run_candidate(b->st, b->c, b->im, b->def, b->o, subset, &res, b->err);
	free(subset);
	json_array_append_new(b->runs, json_pack("{s:o, s:s, s:s}", "subset", names, "verdict",
						 rc == 0 ? "pass" : rc == PL_EFAIL ? "fail" : "error",
						 "run", json_string_value(json_object_get(res, "run"))
							 ?: ""));
	json_decref(res);
	if (rc == PL_EFAIL)
		return 1;
	return rc < 0 ? rc : 0;
}

/* set := a ∪ b (new array; the strings are borrowed) */
static char **bisect_join(char **a, size_t na, char **b, size_t nb)
{
	char **v = pl_calloc(na + nb + 1, sizeof(char *));

	memcpy(v, a, na * sizeof(char *));
	memcpy(v + na, b, nb * sizeof(char *));
	return v;
}

/* Culprits within s (n) given context ctx (m), where s ∪ ctx fails and ctx
 * alone passes; appended to *out. Returns <0 when a run broke. */
static int bisect_general(struct bisect *b, char **s, size_t n, char **ctx, size_t m,
			  char ***out, size_t *nout)
{
	size_t h = n / 2;
	char **with, **sub = NULL;
	size_t nsub = 0;
	int fa, fb, rc;

	if (n == 1) {
		*out = pl_realloc(*out, (*nout + 1) * sizeof(char *));
		(*out)[(*nout)++] = s[0];
		return 0;
	}
	with = bisect_join(s, h, ctx, m);
	fa = bisect_fails(b, with, h + m);
	free(with);
	if (fa < 0)
		return fa;
	if (fa)
		return bisect_general(b, s, h, ctx, m, out, nout);
	with = bisect_join(s + h, n - h, ctx, m);
	fb = bisect_fails(b, with, n - h + m);
	free(with);
	if (fb < 0)
		return fb;
	if (fb)
		return bisect_general(b, s + h, n - h, ctx, m, out, nout);
	/* neither half fails alone: culprits on both sides */
	with = bisect_join(ctx, m, s + h, n - h);
	rc = bisect_general(b, s, h, with, m + n - h, &sub, &nsub);
	free(with);
	if (rc == 0) {
		with = bisect_join(ctx, m, sub, nsub);
		rc = bisect_general(b, s + h, n - h, with, m + nsub, out, nout);
		free(with);
	}
	for (size_t i = 0; rc == 0 && i < nsub; i++) {
		*out = pl_realloc(*out, (*nout + 1) * sizeof(char *));
		(*out)[(*nout)++] = sub[i];
	}
	free(sub);
	return rc;
}

/* The fast path: one half per step, then confirm the one culprit alone. */
static int bisect_single(struct bisect *b, char **s, size_t n, char **culprit)
{
	while (n > 1) {
		size_t h = n / 2;
		int f = bisect_fails(b, s, h);

		if (f < 0)
			return f;
		if (!f) { /* the first half passes: assume the rest holds it */
			s += h;
			n -= h;
		} else {
			n = h;
		}
	}
	*culprit = s[0];
	return bisect_fails(b, s, 1); /* 1: confirmed alone */
}

int lab_bisect(struct store *st, struct candidate *c, const struct image *im,
	       const struct lab_def *def, const struct lab_cand_opts *o, json_t **result,
	       struct pl_err *err)
{
	struct bisect b = {st, c, im, def, o, json_array(), err};
	char **all = pl_calloc(c->npatches + 1, sizeof(char *));
	char **culprits = NULL, *one = NULL;
	size_t n = 0;
	json_t *res, *names;
	int rc;

	if (strcmp(c->state, "failed") != 0) {
		free(all);
		json_decref(b.runs);
		return pl_error(err, PL_ESTATE,
				"candidate '%s' is %s: bisect needs a candidate that failed the lab",
				c->name, c->state);
	}
	for (size_t i = 0; i < c->npatches; i++)
		all[i] = c->patches[i].package;
	rc = bisect_single(&b, all, c->npatches, &one);
	if (rc == 1) {
		culprits = pl_calloc(1, sizeof(char *));
		culprits[n++] = one;
		rc = 0;
	} else if (rc == 0) {
		rc = bisect_general(&b, all, c->npatches, NULL, 0, &culprits, &n);
	}
	res = json_object();
	names = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(names, json_string(culprits[i]));
	json_object_set_new(res, "candidate", json_string(c->name));
	json_object_set_new(res, "culprits", names);
	json_object_set_new(res, "lab_runs", json_integer((json_int_t)json_array_size(b.runs)));
	json_object_set_new(res, "runs", b.runs);
	if (rc < 0)
		json_object_set_new(res, "error", json_string(err->msg));
	free(all);
	free(culprits);
	*result = res;
	return rc;
}
