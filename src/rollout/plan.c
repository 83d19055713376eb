/*
 * plan.c - the plan of a rollout: which hosts each wave takes and in which
 * window it runs. Pure functions of the hosts, the policy and "now", so the
 * whole calendar can be tested at any instant.
 */
#include "rollout-private.h"

void rollout_plan_free(struct rollout_plan *pl)
{
	for (size_t i = 0; i < pl->nwaves; i++)
		free(pl->waves[i].hosts);
	free(pl->waves);
	free(pl->unassigned);
	memset(pl, 0, sizeof(*pl));
}

static int plan_rule_allowed(const struct rollout_wave_rule *r, const char *window)
{
	if (!r->windows)
		return 1;
	for (size_t i = 0; r->windows[i]; i++)
		if (strcmp(r->windows[i], window) == 0)
			return 1;
	return 0;
}

/* The first occurrence of rule w that opens at or after `after`; 0 if none
 * within ten years. */
static int plan_first_occurrence(const struct rollout_window_rule *w, int64_t after,
                                 struct rollout_window *out)
{
	int64_t d0 = rollout_day_of(after) - 2;

	for (int64_t day = d0; day <= d0 + 3660; day++) {
		struct rollout_window o;

		if (!rollout_rule_matches(w, day))
			continue;
		rollout_rule_occurrence(w, day, &o);
		if (o.start > w->until_utc)
			return 0;
		if (o.start >= after) {
			*out = o;
			return 1;
		}
	}
	return 0;
}

int rollout_wave_window(const struct rollout_policy *p, const struct rollout_wave_rule *r,
                        int64_t after, struct rollout_window *out, struct pl_err *err)
{
	int found = 0;
	char iso[21];

	for (size_t i = 0; i < p->nwindows; i++) {
		struct rollout_window o;

		if (!plan_rule_allowed(r, p->windows[i].name) ||
		    !plan_first_occurrence(&p->windows[i], after, &o))
			continue;
		/* earliest first; at the same instant the policy's order */
		if (!found || o.start < out->start)
			*out = o;
		found = 1;
	}
	if (found)
		return 0;
	pl_time_iso(after, iso);
	return pl_error(err, PL_EINVAL,
	                "%s: wave '%s': no maintenance window it may use opens after %s within ten "
	                "years",
	                p->file, r->name, iso);
}

static int plan_cmp(const void *a, const void *b, void *ctx)
{
	const struct rollout_host *hosts = ctx;
	const size_t *x = a, *y = b;

	return strcmp(hosts[*x].name, hosts[*y].name);
}

/* Indexes 0..n-1 sorted by host name. */
static size_t *plan_order(const struct rollout_host *hosts, size_t n)
{
	size_t *v = pl_calloc(n + 1, sizeof(size_t));

	for (size_t i = 0; i < n; i++)
		v[i] = i;
	qsort_r(v, n, sizeof(size_t), plan_cmp, (void *)hosts);
	return v;
}

/* 1 when wave r may take host h: it matches the select, and a libvirt
 * wave needs a host the executor can reach (a libvirt URI and domain). */
static int plan_may_take(const struct rollout_wave_rule *r, const struct rollout_host *h)
{
	if (!rollout_select_matches(&r->select, h))
		return 0;
	return r->executor != ROLLOUT_EXEC_LIBVIRT ||
	       (h->libvirt_uri && *h->libvirt_uri && h->libvirt_domain && *h->libvirt_domain);
}

/* Wave i takes its hosts from the ones still free. */
static void plan_take(const struct rollout_policy *p, size_t i, const struct rollout_host *hosts,
                      const size_t *order, size_t n, unsigned char *taken,
                      struct rollout_plan_wave *w)
{
	const struct rollout_wave_rule *r = &p->waves[i];
	size_t matching = 0, want;

	for (size_t k = 0; k < n; k++)
		matching += !taken[order[k]] && plan_may_take(r, &hosts[order[k]]);
	want = r->count       ? ((size_t)r->count < matching ? (size_t)r->count : matching)
	       : r->share > 0 ? rollout_share_count(r->share, matching)
	                      : matching;
	w->rule = r;
	w->hosts = pl_calloc(want + 1, sizeof(size_t));
	for (size_t k = 0; k < n && w->nhosts < want; k++) {
		if (taken[order[k]] || !plan_may_take(r, &hosts[order[k]]))
			continue;
		taken[order[k]] = 1;
		w->hosts[w->nhosts++] = order[k];
	}
}

int rollout_plan_compute(const struct rollout_policy *p, const struct rollout_host *hosts, size_t n,
                         int64_t now, struct rollout_plan *out, struct pl_err *err)
{
	PL_AUTOFREE size_t *order = NULL;
	PL_AUTOFREE unsigned char *taken = NULL;
	int64_t after = now;
	size_t total = 0;

	memset(out, 0, sizeof(*out));
	if (!p->nwaves)
		return pl_error(
		    err, PL_EINVAL,
		    "%s: policy '%s' has no \"waves\": it gives windows, not a rollout plan",
		    p->file, p->name);
	order = plan_order(hosts, n);
	taken = pl_calloc(n + 1, 1);
	out->waves = pl_calloc(p->nwaves, sizeof(*out->waves));
	out->nwaves = p->nwaves;
	for (size_t i = 0; i < p->nwaves; i++) {
		struct rollout_plan_wave *w = &out->waves[i];

		plan_take(p, i, hosts, order, n, taken, w);
		if (w->nhosts && rollout_wave_window(p, w->rule, after, &w->window, err) < 0) {
			rollout_plan_free(out);
			return err->code;
		}
		if (w->nhosts)
			after = w->window.end + w->rule->min_soak;
		total += w->nhosts;
	}
	if (!total) {
		rollout_plan_free(out);
		return pl_error(
		    err, PL_EINVAL,
		    "%s: no host of the inventory (%zu host(s)) matches a wave of policy "
		    "'%s' (a libvirt wave takes hosts with a libvirt URI and domain only)",
		    p->file, n, p->name);
	}
	out->unassigned = pl_calloc(n + 1, sizeof(size_t));
	for (size_t k = 0; k < n; k++)
		if (!taken[order[k]])
			out->unassigned[out->nunassigned++] = order[k];
	return 0;
}
