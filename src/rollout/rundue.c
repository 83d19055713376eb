/*
 * rundue.c - 'rollout run-due': execute what is due now, for cron, a
 * systemd timer or the dashboard's loop.
 *
 * Safe to re-run at any time: a rollout is worked on under its lock only
 * (the row holds the pid and the pid's start time, so a reused pid does not
 * count as alive); only pending targets are executed, so a succeeded one is
 * never applied again, and the libvirt executor also checks the installed
 * versions before it runs dpkg. A run that died leaves targets "running":
 * the next run takes the lock over and rolls each back to its snapshot
 * (the overlay's name and the domain's disk are in the row before anything
 * changes) and makes it pending again, so it is executed once more from
 * the state it had before.
 *
 * The targets of a wave run in batches of --jobs, each target in a thread
 * of its own (libvirt connection, libguestfs appliance); the database is
 * written by the main thread only. After each batch the wave is decided:
 * a failure rate above the wave's halt rate halts the rollout at once.
 */
#include "rollout-private.h"

#include <libxml/parser.h>
#include <pthread.h>

#include "audit/audit.h"
#include "candidate/candidate.h"
#include "gate/gate.h"

#define RD_DEFAULT_JOBS 2
#define RD_MAX_STEPS    64 /* waves worked on per rollout and run: a bound, not a limit */

struct rd {
	struct store *st;
	const struct rollout_run_opts *o;
	json_t *report;     /* array of per-rollout items */
	int halted, failed; /* in this run: rollouts halted, targets failed */
	char first_problem[512];
};

struct rd_rollout {
	struct rd *rd;
	struct rollout_row row;
	struct rollout_policy pol;
	json_t *item;   /* {rollout, state, events, targets} */
	int halted_now; /* halted in this run */
};

static void rd_event(struct rd_rollout *r, const char *fmt, ...) PL_PRINTF(2, 3);

static void rd_event(struct rd_rollout *r, const char *fmt, ...)
{
	struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	json_array_append_new(json_object_get(r->item, "events"), json_string(pl_buf_str(&b)));
	pl_buf_release(&b);
}

static void rd_problem(struct rd *rd, const char *fmt, ...) PL_PRINTF(2, 3);

static void rd_problem(struct rd *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->first_problem[0])
		return;
	va_start(ap, fmt);
	vsnprintf(rd->first_problem, sizeof(rd->first_problem), fmt, ap);
	va_end(ap);
}

static int64_t rd_now(const struct rd *rd)
{
	return pl_clock_now(rd->o->clock);
}

/* ---- the lock ------------------------------------------------------------------------ */

/* Field 22 of /proc/PID/stat: the start time that makes a pid unique. */
static long long rd_pid_start(long pid)
{
	char path[64];
	PL_AUTOFREE char *stat = NULL;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pl_file_read(path, &stat, NULL, NULL) < 0)
		return -1;
	p = strrchr(stat, ')'); /* the command name may hold spaces */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoll(p + 1, NULL, 10) : -1;
}

/* Takes rollout r's lock: PL_ESTATE when a live process holds it; *dead
 * gets the pid of a dead holder whose lock was taken over (0: none). */
static int rd_lock(struct store *st, struct rollout_row *r, long *dead, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL, *u = NULL;
	long me = (long)getpid();
	int rc;

	*dead = 0;
	if (store_begin(st, err) < 0)
		return err->code;
	rc = store_prepare(st, "SELECT lock_pid, lock_start FROM rollouts WHERE id = ?", &q, err);
	if (rc == 0) {
		sqlite3_bind_int64(q, 1, r->id);
		if (sqlite3_step(q) != SQLITE_ROW)
			rc = store_error(st, err, "reading the rollout's lock");
	}
	if (rc == 0 && sqlite3_column_type(q, 0) != SQLITE_NULL) {
		long pid = (long)sqlite3_column_int64(q, 0);

		if (pid != me && rd_pid_start(pid) == sqlite3_column_int64(q, 1))
			rc = pl_error(err, PL_ESTATE, "rollout '%s' is being worked on by pid %ld",
			              r->name, pid);
		else if (pid != me)
			*dead = pid;
	}
	if (rc == 0)
		rc = store_prepare(
		    st, "UPDATE rollouts SET lock_pid = ?, lock_start = ? WHERE id = ?", &u, err);
	if (rc == 0) {
		sqlite3_bind_int64(u, 1, me);
		sqlite3_bind_int64(u, 2, rd_pid_start(me));
		sqlite3_bind_int64(u, 3, r->id);
		rc = store_step_done(st, u, err);
	}
	if (rc == 0 && *dead) {
		PL_AUTOJSON json_t *d = json_pack("{s:I}", "dead_pid", (json_int_t)*dead);

		rc = audit_append(st, NULL, "lock-takeover", "rollout", r->name, d, err);
	}
	return store_end(st, rc, err);
}

static void rd_unlock(struct store *st, const struct rollout_row *r)
{
	PL_AUTOSTMT sqlite3_stmt *u = NULL;
	struct pl_err e = PL_ERR_INIT;

	if (store_prepare(st,
	                  "UPDATE rollouts SET lock_pid = NULL, lock_start = NULL"
	                  " WHERE id = ? AND lock_pid = ?",
	                  &u, &e) < 0)
		return;
	sqlite3_bind_int64(u, 1, r->id);
	sqlite3_bind_int64(u, 2, (long)getpid());
	store_step_done(st, u, &e);
}

/* ---- small transactions ------------------------------------------------------------- */

static int rd_target_set(struct rd_rollout *r, const struct rollout_target_row *t,
                         const struct rollout_target_change *c, struct pl_err *err)
{
	struct store *st = r->rd->st;

	if (store_begin(st, err) < 0)
		return err->code;
	if (rollout_target_update(st, r->row.name, t, c, r->rd->o->clock, err) < 0 ||
	    store_commit(st, err) < 0) {
		store_rollback(st);
		return err->code;
	}
	return 0;
}

/* Halts the rollout (and its candidate) with a reason, the wave failed. */
static int rd_halt(struct rd_rollout *r, const struct rollout_wave_row *w, json_t *result,
                   const char *why, struct pl_err *err)
{
	struct store *st = r->rd->st;
	struct rollout_row fresh;
	int rc;

	if (store_begin(st, err) < 0)
		return err->code;
	rc = rollout_row_load(st, r->row.name, &fresh, err);
	if (rc == 0 && w)
		rc = rollout_wave_set_state(st, r->row.name, w, "failed", result, r->rd->o->clock,
		                            err);
	if (rc == 0 && strcmp(fresh.state, "halted") != 0)
		rc = rollout_set_state(st, &fresh, "halted", why, NULL, r->rd->o->clock, err);
	if (rc == 0)
		rc = rollout_candidate_move(st, fresh.candidate, "halted", NULL, err);
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0)
		store_rollback(st);
	rollout_row_clear(&fresh);
	if (rc == 0) {
		r->halted_now = 1;
		r->rd->halted++;
		rd_problem(r->rd, "rollout '%s' halted: %s", r->row.name, why);
		rd_event(r, "HALTED: %s", why);
	}
	return rc;
}

/* ---- recovery of a dead run's targets ------------------------------------------------ */

static int rd_recover(struct rd_rollout *r, long dead, struct pl_err *err)
{
	struct rollout_waves_rows ws;
	int rc = rollout_waves_load(r->rd->st, r->row.id, &ws, err);

	for (size_t i = 0; rc == 0 && i < ws.n; i++)
		for (size_t j = 0; rc == 0 && j < ws.v[i].ntargets; j++) {
			struct rollout_target_row *t = &ws.v[i].targets[j];
			struct rollout_target_change c = {.state = "pending", .action = "recover"};
			struct pl_err e = PL_ERR_INIT;
			PL_AUTOFREE char *detail = NULL;

			if (strcmp(t->state, "running") != 0)
				continue;
			if (t->snapshot && strcmp(t->snapshot_state, "active") == 0 &&
			    rollout_lv_rollback(t->snapshot, &e) < 0) {
				c.state = "failed";
				detail =
				    pl_strdupf("the run of pid %ld died on it, and the rollback to "
				               "its snapshot failed: %s",
				               dead, e.msg);
			} else if (t->snapshot && strcmp(t->snapshot_state, "active") == 0) {
				c.snapshot_state = "discarded";
				detail =
				    pl_strdupf("the run of pid %ld died on it: rolled back to its "
				               "snapshot, to be applied again",
				               dead);
			} else {
				detail =
				    pl_strdupf("the run of pid %ld died on it before it changed "
				               "anything: to be applied again",
				               dead);
			}
			c.detail = detail;
			rd_event(r, "%s: %s", t->host, detail);
			rc = rd_target_set(r, t, &c, err);
			if (rc == 0 && strcmp(c.state, "failed") == 0)
				rc = rd_halt(r, NULL, NULL, detail, err);
		}
	rollout_waves_clear(&ws);
	return rc;
}

/* ---- snapshots whose soak is over ------------------------------------------------- */

static void rd_drop_snapshots(struct rd_rollout *r, struct rollout_waves_rows *ws, int64_t now)
{
	for (size_t i = 0; i < ws->n; i++) {
		struct rollout_wave_row *w = &ws->v[i];

		if (strcmp(w->state, "succeeded") != 0 || w->soak_until == INT64_MIN ||
		    w->soak_until > now)
			continue;
		for (size_t j = 0; j < w->ntargets; j++) {
			struct rollout_target_row *t = &w->targets[j];
			struct rollout_target_change c = {.snapshot_state = "committed",
			                                  .action = "drop-snapshot"};
			struct pl_err e = PL_ERR_INIT;
			double t0;

			if (!t->snapshot || strcmp(t->state, "succeeded") != 0 ||
			    strcmp(t->snapshot_state, "active") != 0)
				continue;
			t0 = pl_progress_begin(r->rd->o->progress, "drop-snapshot",
			                       "%s: soak over, merging the overlay", t->host);
			if (rollout_lv_commit(t->snapshot, &e) < 0 ||
			    rd_target_set(r, t, &c, &e) < 0) {
				pl_progress_end(r->rd->o->progress, "drop-snapshot", -1, t0);
				rd_event(
				    r,
				    "%s: the snapshot was not dropped (tried again next run): %s",
				    t->host, e.msg);
				r->rd->failed++;
				rd_problem(r->rd, "rollout '%s': %s: %s", r->row.name, t->host,
				           e.msg);
				continue;
			}
			pl_progress_end(r->rd->o->progress, "drop-snapshot", 0, t0);
			rd_event(r, "%s: soak over, snapshot dropped", t->host);
		}
	}
}

/* ---- windows ------------------------------------------------------------------------- */

/* Moves waves from idx on into the next windows, the first opening at or
 * after `after`, each later one after its predecessor's window and soak. */
static int rd_replan(struct rd_rollout *r, struct rollout_waves_rows *ws, size_t idx, int64_t after,
                     struct pl_err *err)
{
	struct store *st = r->rd->st;
	int rc = store_begin(st, err);

	for (size_t k = idx; rc == 0 && k < ws->n; k++) {
		struct rollout_wave_row *w = &ws->v[k];
		const struct rollout_wave_rule *rule = rollout_policy_wave(&r->pol, w->name);
		struct rollout_window win;

		if (strcmp(w->state, "skipped") == 0)
			continue;
		if (!rule)
			rc = pl_error(err, PL_EDB, "rollout '%s': wave '%s' is not in its policy",
			              r->row.name, w->name);
		if (rc == 0)
			rc = rollout_wave_window(&r->pol, rule, after, &win, err);
		if (rc == 0)
			rc = rollout_wave_set_window(st, r->row.name, w, &win, err);
		if (rc == 0 && k == idx) {
			char iso[21], was[21];

			pl_time_iso(win.start, iso);
			pl_time_iso(w->window_end, was);
			rd_event(r, "wave %s missed its window (closed %s): moved to %s %s",
			         w->name, was, win.rule->name, iso);
		}
		after = rc == 0 ? win.end + rule->min_soak : after;
	}
	return store_end(st, rc, err);
}

/* ---- one wave: shared context -------------------------------------------------------- */

struct rd_wave_ctx {
	struct candidate cand;
	struct lab_def lab;
	struct gate_policy gate;
	int have_lab, have_gate;
	char *agent_config;
	struct rollout_lv_ctx x;
};

static void rd_wave_ctx_clear(struct rd_wave_ctx *c)
{
	if (c->have_lab)
		lab_def_free(&c->lab);
	if (c->have_gate)
		gate_policy_free(&c->gate);
	free(c->agent_config);
	free(c->x.debs);
	free(c->x.expect);
	candidate_clear(&c->cand);
	memset(c, 0, sizeof(*c));
}

/* The gate policy the rollout was scheduled with, unchanged since. */
static int rd_gate(const struct rollout_row *row, struct gate_policy *out, struct pl_err *err)
{
	char sha[65];

	if (!row->gate_file)
		return gate_policy_default(out, err);
	if (pl_sha256_file(row->gate_file, sha, err) < 0)
		return err->code;
	if (strcmp(sha, row->gate_sha256) != 0)
		return pl_error(err, PL_ESTATE,
		                "rollout '%s': the gate policy %s changed since it was scheduled: "
		                "schedule it again, or put the file back",
		                row->name, row->gate_file);
	return gate_policy_load(row->gate_file, out, err);
}

static int rd_wave_ctx_load(struct rd_rollout *r, struct rd_wave_ctx *c, struct pl_err *err)
{
	struct store *st = r->rd->st;
	enum lab_accel accel;
	PL_AUTOFREE char *why = NULL;
	unsigned timeout;

	memset(c, 0, sizeof(*c));
	if (candidate_get(st, r->row.candidate, &c->cand, err) < 0)
		return err->code;
	if ((r->row.lab_json
	         ? lab_def_parse(r->row.lab_json,
	                         r->row.lab_file ? r->row.lab_file : "(stored lab)", &c->lab, err)
	         : lab_def_default(&c->lab, err)) < 0)
		return err->code;
	c->have_lab = 1;
	if (rd_gate(&r->row, &c->gate, err) < 0)
		return err->code;
	c->have_gate = 1;
	if (lab_accel_resolve(LAB_ACCEL_AUTO, st, &accel, &why, err) < 0)
		return err->code;
	c->agent_config = lab_agent_config(&c->lab);
	c->x.debs = pl_calloc(c->cand.npatches + 1, sizeof(char *));
	c->x.expect = pl_calloc(c->cand.npatches + 1, sizeof(*c->x.expect));
	for (size_t i = 0; i < c->cand.npatches; i++) {
		c->x.debs[i] = c->cand.patches[i].path;
		c->x.expect[i] =
		    (struct guest_expect){c->cand.patches[i].package, c->cand.patches[i].version,
		                          c->cand.patches[i].arch};
	}
	c->x.n = c->cand.npatches;
	timeout = c->lab.boot_timeout;
	for (size_t i = 0; i < c->lab.ncommands; i++)
		timeout += c->lab.commands[i].timeout;
	c->x.agent_config = c->agent_config;
	c->x.boot_timeout = timeout;
	c->x.shutdown_timeout = c->lab.shutdown_timeout;
	c->x.gate = &c->gate;
	c->x.force_tcg = accel == LAB_ACCEL_TCG;
	c->x.progress = r->rd->o->progress;
	c->x.interrupted = r->rd->o->interrupted;
	return 0;
}

/* ---- one wave: the libvirt targets --------------------------------------------------- */

struct rd_job {
	const struct rollout_lv_ctx *x;
	struct rollout_target_row *row;
	struct rollout_lv_target t;
	pthread_t thread;
	int started;
	/* the post-deploy audit */
	json_t *versions;
	char *disk, *format;
	struct pl_err err;
	int rc;
};

static void *rd_execute_thread(void *p)
{
	struct rd_job *j = p;

	rollout_lv_execute(j->x, &j->t);
	return NULL;
}

static void rd_job_clear(struct rd_job *j)
{
	free(j->t.evidence_dir);
	free(j->t.detail);
	json_decref(j->t.result);
	json_decref(j->t.stages);
	json_decref(j->versions);
	free(j->disk);
	free(j->format);
}

static char *rd_evidence_dir(struct rd_rollout *r, const struct rollout_wave_row *w,
                             const struct rollout_target_row *t)
{
	return pl_strdupf("%s/rollouts/%s/%s/%s-%d", r->rd->st->dir, r->row.name, w->name, t->host,
	                  t->attempts + 1);
}

/* Counts a wave's targets by outcome. */
static void rd_count(const struct rollout_wave_row *w, size_t *done, size_t *ok, size_t *bad)
{
	*done = *ok = *bad = 0;
	for (size_t j = 0; j < w->ntargets; j++) {
		const char *s = w->targets[j].state;

		if (strcmp(s, "succeeded") == 0)
			(*ok)++, (*done)++;
		else if (strcmp(s, "failed") == 0 || strcmp(s, "rolled-back") == 0)
			(*bad)++, (*done)++;
		else if (strcmp(s, "skipped") == 0)
			(*done)++;
	}
}

/* Reloads wave w (by id) into *out from the database. */
static int rd_wave_reload(struct rd_rollout *r, int64_t wave_id, struct rollout_waves_rows *ws,
                          struct rollout_wave_row **out, struct pl_err *err)
{
	rollout_waves_clear(ws);
	if (rollout_waves_load(r->rd->st, r->row.id, ws, err) < 0)
		return err->code;
	for (size_t i = 0; i < ws->n; i++)
		if (ws->v[i].id == wave_id) {
			*out = &ws->v[i];
			return 0;
		}
	return pl_error(err, PL_EDB, "rollout '%s': a wave disappeared", r->row.name);
}

/* Prepares and marks running the batch's targets; a target whose domain
 * cannot be read fails here, with nothing changed. */
static int rd_batch_prepare(struct rd_rollout *r, const struct rollout_wave_row *w,
                            struct rd_job *jobs, size_t n, struct pl_err *err)
{
	for (size_t k = 0; k < n; k++) {
		struct rd_job *j = &jobs[k];
		struct pl_err e = PL_ERR_INIT;
		struct rollout_target_change c = {.state = "running"};

		if (rollout_lv_prepare(j->row->uri, j->row->domain, r->row.id, j->row->id,
		                       &j->t.snapshot, &e) < 0) {
			PL_AUTOFREE char *d = pl_strdupf("nothing changed: %s", e.msg);
			struct rollout_target_change f = {.state = "failed", .detail = d};

			rd_event(r, "%s: FAILED: %s", j->row->host, d);
			if (rd_target_set(r, j->row, &c, err) < 0 ||
			    rd_target_set(r, j->row, &f, err) < 0)
				return err->code;
			r->rd->failed++;
			json_array_append_new(json_object_get(r->item, "targets"),
			                      json_pack("{s:s, s:s, s:s}", "host", j->row->host,
			                                "state", "failed", "detail", d));
			continue;
		}
		j->t.host = j->row->host;
		j->t.evidence_dir = rd_evidence_dir(r, w, j->row);
		c.snapshot = j->t.snapshot;
		c.snapshot_state = "active";
		c.detail = "being patched";
		if (rd_target_set(r, j->row, &c, err) < 0)
			return err->code;
		j->started = 1;
	}
	return 0;
}

static int rd_batch_record(struct rd_rollout *r, struct rd_job *jobs, size_t n, struct pl_err *err)
{
	for (size_t k = 0; k < n; k++) {
		struct rd_job *j = &jobs[k];
		struct rollout_target_change c;

		if (!j->started)
			continue;
		c = (struct rollout_target_change){.state = j->t.state,
		                                   .detail = j->t.detail,
		                                   .result = j->t.result,
		                                   .snapshot_state = j->t.snapshot_state};
		if (rd_target_set(r, j->row, &c, err) < 0)
			return err->code;
		rd_event(r, "%s: %s: %s", j->row->host, j->t.state, j->t.detail);
		if (strcmp(j->t.state, "succeeded") != 0)
			r->rd->failed++;
		json_array_append_new(json_object_get(r->item, "targets"),
		                      json_pack("{s:s, s:s, s:s}", "host", j->row->host, "state",
		                                j->t.state, "detail", j->t.detail));
	}
	return 0;
}

/* 1 when the rollout was halted meanwhile (by hand, another process). */
static int rd_halted_meanwhile(struct rd_rollout *r)
{
	struct rollout_row fresh;
	struct pl_err e = PL_ERR_INIT;
	int halted = 0;

	if (rollout_row_load(r->rd->st, r->row.name, &fresh, &e) == 0)
		halted = strcmp(fresh.state, "halted") == 0;
	rollout_row_clear(&fresh);
	return halted;
}

/* Executes the wave's pending targets in batches; 1 when it halted. */
static int rd_wave_libvirt(struct rd_rollout *r, struct rollout_waves_rows *ws, int64_t wave_id,
                           const struct rollout_wave_rule *rule, const struct rollout_lv_ctx *x,
                           struct pl_err *err)
{
	unsigned jobs = r->rd->o->jobs ? r->rd->o->jobs : RD_DEFAULT_JOBS;
	struct rollout_wave_row *w;

	for (;;) {
		struct rd_job *batch;
		size_t n = 0, done, ok, bad;
		char why[256];
		int rc;

		if (rd_wave_reload(r, wave_id, ws, &w, err) < 0)
			return err->code;
		if (rd_halted_meanwhile(r)) {
			rd_event(r, "halted meanwhile: wave %s stops here", w->name);
			return 1;
		}
		if (r->rd->o->interrupted && *r->rd->o->interrupted)
			return pl_error(err, PL_EENV, "interrupted");
		batch = pl_calloc(jobs, sizeof(*batch));
		for (size_t j = 0; j < w->ntargets && n < jobs; j++)
			if (strcmp(w->targets[j].state, "pending") == 0) {
				batch[n].x = x;
				batch[n++].row = &w->targets[j];
			}
		if (!n) {
			free(batch);
			return 0;
		}
		rc = rd_batch_prepare(r, w, batch, n, err);
		for (size_t k = 0; rc == 0 && k < n; k++)
			if (batch[k].started && pthread_create(&batch[k].thread, NULL,
			                                       rd_execute_thread, &batch[k]) != 0)
				rd_execute_thread(&batch[k]); /* no thread: run it here */
			else if (batch[k].started)
				batch[k].started = 2;
		for (size_t k = 0; k < n; k++)
			if (batch[k].started == 2) {
				pthread_join(batch[k].thread, NULL);
				batch[k].started = 1;
			}
		if (rc == 0)
			rc = rd_batch_record(r, batch, n, err);
		for (size_t k = 0; k < n; k++) {
			json_decref(batch[k].t.snapshot);
			rd_job_clear(&batch[k]);
		}
		free(batch);
		if (rc < 0 || rd_wave_reload(r, wave_id, ws, &w, err) < 0)
			return err->code;
		rd_count(w, &done, &ok, &bad);
		if (rollout_wave_decide(rule, w->ntargets, done, ok, bad, why, sizeof(why)) ==
		    ROLLOUT_HALT) {
			PL_AUTOJSON json_t *res = json_pack(
			    "{s:I, s:I, s:I, s:s}", "targets", (json_int_t)w->ntargets, "succeeded",
			    (json_int_t)ok, "failed", (json_int_t)bad, "why", why);
			PL_AUTOFREE char *reason = pl_strdupf("wave %s: %s", w->name, why);

			return rd_halt(r, w, res, reason, err) < 0 ? err->code : 1;
		}
	}
}

/* ---- the post-deploy audit ------------------------------------------------------------- */

static void *rd_audit_thread(void *p)
{
	struct rd_job *j = p;
	const json_t *snap = j->row->snapshot;

	j->rc = rollout_lv_current_disk(j->row->uri, j->row->domain,
	                                json_string_value(json_object_get(snap, "dev")), &j->disk,
	                                &j->format, &j->err);
	if (j->rc == 0)
		j->rc = guest_read_versions(
		    j->disk, j->format,
		    json_string_value(json_object_get(j->row->result, "root_uuid")),
		    j->x->force_tcg, j->x->expect, j->x->n, &j->versions, &j->err);
	return NULL;
}

/* Compares what the disk holds with what the target should hold: the
 * candidate's versions after success, the ones before after a rollback. */
static int rd_audit_compare(const struct rd_job *j, const struct rollout_lv_ctx *x,
                            struct pl_buf *bad)
{
	int rolled = strcmp(j->row->state, "rolled-back") == 0;
	json_t *before = json_object_get(j->row->result, "before");

	for (size_t i = 0; i < x->n; i++) {
		const char *pkg = x->expect[i].package;
		const char *got = json_string_value(
		    json_object_get(json_object_get(j->versions, pkg), "version"));
		const char *want = rolled ? json_string_value(json_object_get(
		                                json_object_get(before, pkg), "version"))
		                          : x->expect[i].version;

		if (rolled && !json_object_get(before, pkg)) {
			pl_buf_addf(bad, "%s%s: its version before the rollout is unknown",
			            bad->len ? "; " : "", pkg);
			continue;
		}
		if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
			pl_buf_addf(bad, "%s%s is %s, expected %s", bad->len ? "; " : "", pkg,
			            got ? got : "not installed", want ? want : "not installed");
	}
	return bad->len == 0;
}

static int rd_audit_record(struct rd_rollout *r, struct rd_job *j, const struct rollout_lv_ctx *x,
                           struct pl_err *err)
{
	struct pl_buf bad = PL_BUF_INIT;
	PL_AUTOFREE char *detail = NULL, *tdetail = NULL;
	struct rollout_target_change c = {.action = "post-deploy-audit"};
	int succeeded = strcmp(j->row->state, "succeeded") == 0;
	int rc;

	if (j->rc < 0) {
		c.verified = "error";
		detail = pl_strdupf("could not re-inspect %s: %s", j->row->domain, j->err.msg);
	} else if (rd_audit_compare(j, x, &bad)) {
		c.verified = "confirmed";
		detail = pl_strdupf("%s on %s: %s",
		                    succeeded ? "the candidate's versions"
		                              : "the versions from before the rollout",
		                    j->disk, succeeded ? "installed" : "restored");
	} else {
		c.verified = "mismatch";
		detail = pl_strdupf("%s on %s", pl_buf_str(&bad), j->disk);
	}
	pl_buf_release(&bad);
	c.verify_detail = detail;
	if (succeeded && strcmp(c.verified, "confirmed") != 0) {
		/* fail closed: a success the disk does not show is no success */
		tdetail = pl_strdupf("post-deploy audit: %s", detail);
		c.state = "failed";
		c.detail = tdetail;
		r->rd->failed++;
	}
	rc = rd_target_set(r, j->row, &c, err);
	if (rc == 0)
		rd_event(r, "%s: post-deploy audit %s: %s", j->row->host, c.verified, detail);
	if (rc == 0 && strcmp(c.verified, "confirmed") != 0)
		rd_problem(r->rd, "rollout '%s': %s: post-deploy audit %s: %s", r->row.name,
		           j->row->host, c.verified, detail);
	return rc;
}

/* Re-inspects the wave's succeeded and rolled-back targets not audited yet. */
static int rd_post_audit(struct rd_rollout *r, struct rollout_waves_rows *ws, int64_t wave_id,
                         const struct rollout_lv_ctx *x, struct pl_err *err)
{
	unsigned jobs = r->rd->o->jobs ? r->rd->o->jobs : RD_DEFAULT_JOBS;
	struct rollout_wave_row *w;
	size_t next = 0;

	if (rd_wave_reload(r, wave_id, ws, &w, err) < 0)
		return err->code;
	while (next < w->ntargets) {
		struct rd_job *batch = pl_calloc(jobs, sizeof(*batch));
		size_t n = 0;
		int rc = 0;
		double t0;

		for (; next < w->ntargets && n < jobs; next++) {
			struct rollout_target_row *t = &w->targets[next];

			if (t->verified || !t->snapshot ||
			    (strcmp(t->state, "succeeded") != 0 &&
			     strcmp(t->state, "rolled-back") != 0))
				continue;
			batch[n].x = x;
			batch[n++].row = t;
		}
		if (!n) {
			free(batch);
			break;
		}
		t0 = pl_progress_begin(r->rd->o->progress, "audit",
		                       "%zu target(s) of wave %s: installed versions (libguestfs, "
		                       "read-only)",
		                       n, w->name);
		for (size_t k = 0; k < n; k++)
			batch[k].started =
			    pthread_create(&batch[k].thread, NULL, rd_audit_thread, &batch[k]) == 0;
		for (size_t k = 0; k < n; k++) {
			if (batch[k].started)
				pthread_join(batch[k].thread, NULL);
			else
				rd_audit_thread(&batch[k]);
		}
		pl_progress_end(r->rd->o->progress, "audit", 0, t0);
		for (size_t k = 0; k < n; k++) {
			if (rc == 0)
				rc = rd_audit_record(r, &batch[k], x, err);
			rd_job_clear(&batch[k]);
		}
		free(batch);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- one wave: pull targets (apt-repo, ansible) ------------------------------------ */

static int rd_pull_apt(struct rd_rollout *r, const struct rollout_wave_row *w,
                       const struct rollout_wave_rule *rule, char **detail, struct pl_err *err)
{
	struct pl_jdoc d = {r->row.policy_file, err};
	PL_AUTOFREE char *path = pl_strdupf("$.waves[%d].apt_repo", w->seq - 1);
	struct rollout_aptrepo repo;
	struct rollout_publish_result res = {0};
	int rc;

	if (rollout_aptrepo_parse(&d, rule->options, path, &repo) < 0)
		return err->code;
	repo.clock = r->rd->o->clock;
	repo.progress = r->rd->o->progress;
	rc = rollout_aptrepo_publish_candidate(r->rd->st, &repo, r->row.candidate, w->name, &res,
	                                       err);
	if (rc == 0)
		*detail =
		    pl_strdupf("published in %s (generation %d): the host pulls it in its "
		               "window; patchlab sees the versions in its next package report",
		               repo.dir, res.generation);
	rollout_publish_result_clear(&res);
	rollout_aptrepo_clear(&repo);
	/* fail closed: a failure without a recorded code is still a failure */
	return rc < 0 ? (err->code ? err->code : PL_EINTERNAL) : 0;
}

static const char *opt_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int rd_pull_ansible(struct rd_rollout *r, const struct rollout_wave_row *w,
                           const struct rollout_wave_rule *rule, const char **hosts, char **detail,
                           struct pl_err *err)
{
	json_t *o = rule->options;
	struct rollout_ansible_request q = {.candidate = r->row.candidate,
	                                    .wave = w->name,
	                                    .outdir = opt_str(o, "outdir"),
	                                    .hosts = hosts,
	                                    .lab_file = r->row.lab_file,
	                                    .serial = opt_str(o, "serial"),
	                                    .halt_failure_rate = rule->halt_failure_rate,
	                                    .repo_url = opt_str(o, "repo_url"),
	                                    .repo_suite = opt_str(o, "repo_suite"),
	                                    .repo_component = opt_str(o, "repo_component"),
	                                    .repo_keyring = opt_str(o, "repo_keyring")};
	PL_AUTOJSON json_t *out = NULL;

	if (rollout_ansible_export_candidate(r->rd->st, &q, &out, err) < 0)
		return err->code;
	*detail = pl_strdupf("exported to %s: the fleet's operators run ansible-playbook -i "
	                     "inventory.yml playbook.yml there",
	                     q.outdir);
	return 0;
}

/* Publishes or exports for the wave's pending targets, all at once. */
static int rd_wave_pull(struct rd_rollout *r, struct rollout_waves_rows *ws, int64_t wave_id,
                        const struct rollout_wave_rule *rule, struct pl_err *err)
{
	struct rollout_wave_row *w;
	PL_AUTOFREE const char **hosts = NULL;
	PL_AUTOFREE char *detail = NULL;
	struct pl_err e = PL_ERR_INIT;
	size_t n = 0;
	int rc;

	if (rd_wave_reload(r, wave_id, ws, &w, err) < 0)
		return err->code;
	hosts = pl_calloc(w->ntargets + 1, sizeof(char *));
	for (size_t j = 0; j < w->ntargets; j++)
		if (strcmp(w->targets[j].state, "pending") == 0) {
			struct rollout_target_change c = {.state = "running"};

			if (rd_target_set(r, &w->targets[j], &c, err) < 0)
				return err->code;
			hosts[n++] = w->targets[j].host;
		}
	if (!n)
		return 0;
	rc = rule->executor == ROLLOUT_EXEC_APT_REPO
	         ? rd_pull_apt(r, w, rule, &detail, &e)
	         : rd_pull_ansible(r, w, rule, hosts, &detail, &e);
	if (rc < 0)
		detail = pl_strdupf("nothing published: %s", e.msg);
	if (rd_wave_reload(r, wave_id, ws, &w, err) < 0)
		return err->code;
	for (size_t j = 0; j < w->ntargets; j++) {
		struct rollout_target_change c = {.state = rc < 0 ? "failed" : "succeeded",
		                                  .detail = detail,
		                                  .verify_detail = rc < 0 ? NULL : "a pull target"};

		if (strcmp(w->targets[j].state, "running") != 0)
			continue;
		if (rd_target_set(r, &w->targets[j], &c, err) < 0)
			return err->code;
		rd_event(r, "%s: %s: %s", w->targets[j].host, c.state, detail);
		json_array_append_new(json_object_get(r->item, "targets"),
		                      json_pack("{s:s, s:s, s:s}", "host", w->targets[j].host,
		                                "state", c.state, "detail", detail));
		r->rd->failed += rc < 0;
	}
	return 0;
}

/* ---- one wave --------------------------------------------------------------------------- */

/* The wave (and the rollout, and the candidate) start, in one transaction. */
static int rd_wave_start(struct rd_rollout *r, const struct rollout_wave_row *w, struct pl_err *err)
{
	struct store *st = r->rd->st;
	int rc = store_begin(st, err);

	if (rc == 0 && strcmp(w->state, "pending") == 0)
		rc = rollout_wave_set_state(st, r->row.name, w, "running", NULL, r->rd->o->clock,
		                            err);
	if (rc == 0 && strcmp(r->row.state, "scheduled") == 0) {
		PL_AUTOFREE char *why = pl_strdupf("wave %s started", w->name);

		rc = rollout_set_state(st, &r->row, "running", why, NULL, r->rd->o->clock, err);
		if (rc == 0) {
			free(r->row.state);
			r->row.state = pl_strdup("running");
		}
	}
	if (rc == 0)
		rc = rollout_candidate_move(st, r->row.candidate, "rolling-out", NULL, err);
	return store_end(st, rc, err);
}

/* Decides a wave whose targets are all done. */
static int rd_wave_finish(struct rd_rollout *r, struct rollout_waves_rows *ws, int64_t wave_id,
                          const struct rollout_wave_rule *rule, struct pl_err *err)
{
	struct rollout_wave_row *w;
	size_t done, ok, bad;
	char why[256];
	enum rollout_verdict v;
	PL_AUTOJSON json_t *res = NULL;
	struct store *st = r->rd->st;
	int rc;

	if (rd_wave_reload(r, wave_id, ws, &w, err) < 0)
		return err->code;
	rd_count(w, &done, &ok, &bad);
	v = rollout_wave_decide(rule, w->ntargets, done, ok, bad, why, sizeof(why));
	res = json_pack("{s:I, s:I, s:I, s:s}", "targets", (json_int_t)w->ntargets, "succeeded",
	                (json_int_t)ok, "failed", (json_int_t)bad, "why", why);
	if (v == ROLLOUT_GO_ON)
		return 0; /* targets left (halted or interrupted meanwhile) */
	if (v == ROLLOUT_HALT) {
		PL_AUTOFREE char *reason = pl_strdupf("wave %s: %s", w->name, why);

		return rd_halt(r, w, res, reason, err) < 0 ? err->code : 1;
	}
	rc = store_begin(st, err);
	if (rc == 0)
		rc = rollout_wave_set_state(st, r->row.name, w, "succeeded", res, r->rd->o->clock,
		                            err);
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0) {
		store_rollback(st);
		return rc;
	}
	rd_event(r, "wave %s succeeded: %s; soak %llds", w->name, why, (long long)w->min_soak);
	return 0;
}

/* Executes wave idx; returns 1 when the rollout halted, 0 when it went on. */
static int rd_wave(struct rd_rollout *r, struct rollout_waves_rows *ws, size_t idx,
                   struct pl_err *err)
{
	int64_t wave_id = ws->v[idx].id;
	const struct rollout_wave_rule *rule = rollout_policy_wave(&r->pol, ws->v[idx].name);
	struct rd_wave_ctx c = {0};
	int rc;

	if (!rule)
		return pl_error(err, PL_EDB, "rollout '%s': wave '%s' is not in its policy",
		                r->row.name, ws->v[idx].name);
	rd_event(r, "wave %s (%s, %zu target(s)) is due", rule->name,
	         rollout_executor_name(rule->executor), ws->v[idx].ntargets);
	pl_progress_begin(r->rd->o->progress, "wave", "%s: wave %s, %zu target(s), %s executor",
	                  r->row.name, rule->name, ws->v[idx].ntargets,
	                  rollout_executor_name(rule->executor));
	if (rd_wave_start(r, &ws->v[idx], err) < 0)
		return err->code;
	if (rule->executor != ROLLOUT_EXEC_LIBVIRT) {
		rc = rd_wave_pull(r, ws, wave_id, rule, err);
	} else {
		rc = rd_wave_ctx_load(r, &c, err);
		if (rc == 0)
			rc = rd_wave_libvirt(r, ws, wave_id, rule, &c.x, err);
		/* audited whatever happened: a rollback must be confirmed too */
		if (rc >= 0) {
			int arc = rd_post_audit(r, ws, wave_id, &c.x, err);

			rc = arc < 0 ? arc : rc;
		}
	}
	rd_wave_ctx_clear(&c);
	if (rc != 0)
		return rc;
	return rd_wave_finish(r, ws, wave_id, rule, err);
}

/* ---- one rollout --------------------------------------------------------------------- */

/* The last succeeded wave before idx: when its soak ends (INT64_MIN: none). */
static int64_t rd_soak_end(const struct rollout_waves_rows *ws, size_t idx, const char **name)
{
	for (size_t k = idx; k-- > 0;)
		if (strcmp(ws->v[k].state, "succeeded") == 0) {
			*name = ws->v[k].name;
			return ws->v[k].soak_until;
		}
	*name = NULL;
	return INT64_MIN;
}

static int rd_has_pending(const struct rollout_wave_row *w)
{
	for (size_t j = 0; j < w->ntargets; j++)
		if (strcmp(w->targets[j].state, "pending") == 0)
			return 1;
	return 0;
}

static int rd_complete(struct rd_rollout *r, struct pl_err *err)
{
	struct store *st = r->rd->st;
	int rc = store_begin(st, err);

	if (rc == 0)
		rc = rollout_set_state(st, &r->row, "completed", "every wave succeeded", NULL,
		                       r->rd->o->clock, err);
	if (rc == 0)
		rc = rollout_candidate_move(st, r->row.candidate, "deployed", NULL, err);
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0)
		store_rollback(st);
	else
		rd_event(r, "completed: every wave succeeded, candidate deployed");
	return rc;
}

/* 1 when nothing more is due for the rollout now, 0 to look again. */
static int rd_step(struct rd_rollout *r, struct pl_err *err)
{
	struct rollout_waves_rows ws = {0};
	int64_t now = rd_now(r->rd), soak;
	const char *prev = NULL;
	size_t idx;
	int rc;

	rollout_row_clear(&r->row);
	if (rollout_row_load(r->rd->st, json_string_value(json_object_get(r->item, "rollout")),
	                     &r->row, err) < 0)
		return err->code;
	if (strcmp(r->row.state, "halted") == 0)
		return 1;
	if (rollout_waves_load(r->rd->st, r->row.id, &ws, err) < 0)
		return err->code;
	rd_drop_snapshots(r, &ws, now);
	rc = 1;
	if (strcmp(r->row.state, "completed") == 0)
		goto out;
	if (strcmp(r->row.candidate_state, "scheduled") != 0 &&
	    strcmp(r->row.candidate_state, "rolling-out") != 0) {
		PL_AUTOFREE char *why = pl_strdupf("candidate '%s' is %s: nothing more is applied",
		                                   r->row.candidate, r->row.candidate_state);

		rc = rd_halt(r, NULL, NULL, why, err) < 0 ? err->code : 1;
		goto out;
	}
	for (idx = 0; idx < ws.n; idx++)
		if (strcmp(ws.v[idx].state, "succeeded") != 0 &&
		    strcmp(ws.v[idx].state, "skipped") != 0)
			break;
	if (idx == ws.n) {
		rc = rd_complete(r, err) < 0 ? err->code : 1;
		goto out;
	}
	soak = rd_soak_end(&ws, idx, &prev);
	if (rd_has_pending(&ws.v[idx]) || strcmp(ws.v[idx].state, "pending") == 0) {
		char iso[21];

		if (now < soak) {
			pl_time_iso(soak, iso);
			rd_event(r, "wave %s waits for wave %s's soak, until %s", ws.v[idx].name,
			         prev, iso);
			goto out;
		}
		if (ws.v[idx].window_end <= now) {
			rc = rd_replan(r, &ws, idx, soak > now ? soak : now, err) < 0 ? err->code
			                                                              : 1;
			goto out;
		}
		if (now < ws.v[idx].window_start) {
			pl_time_iso(ws.v[idx].window_start, iso);
			rd_event(r, "wave %s is due at %s (window %s)", ws.v[idx].name, iso,
			         ws.v[idx].window_name);
			goto out;
		}
	}
	rc = rd_wave(r, &ws, idx, err);
out:
	rollout_waves_clear(&ws);
	return rc;
}

static int rd_one(struct rd *rd, const char *name, struct pl_err *err)
{
	struct rd_rollout r = {.rd = rd};
	long dead = 0;
	int rc;

	r.item = json_pack("{s:s, s:[], s:[]}", "rollout", name, "events", "targets");
	json_array_append_new(rd->report, r.item);
	rc = rollout_row_load(rd->st, name, &r.row, err);
	if (rc == 0 && (rc = rd_lock(rd->st, &r.row, &dead, err)) == PL_ESTATE) {
		rd_event(&r, "skipped: %s", err->msg);
		json_object_set_new(r.item, "state", json_string(r.row.state));
		err->code = 0;
		err->msg[0] = '\0';
		rollout_row_clear(&r.row);
		return 0;
	}
	if (rc == 0)
		rc = rd_recover(&r, dead, err);
	if (rc == 0)
		rc = rollout_row_policy(&r.row, &r.pol, err);
	for (int step = 0; rc == 0 && step < RD_MAX_STEPS; step++) {
		rc = rd_step(&r, err);
		if (rc == 1) {
			rc = 0;
			break;
		}
	}
	if (r.row.id)
		rd_unlock(rd->st, &r.row);
	if (rc < 0)
		rd_event(&r, "error: %s", err->msg);
	{
		struct rollout_row fresh;
		struct pl_err e = PL_ERR_INIT;

		if (rollout_row_load(rd->st, name, &fresh, &e) == 0)
			json_object_set_new(r.item, "state", json_string(fresh.state));
		rollout_row_clear(&fresh);
	}
	rollout_policy_free(&r.pol);
	rollout_row_clear(&r.row);
	return rc;
}

/* The rollouts with something to do: not halted, not completed unless a
 * snapshot is still to be dropped. */
static int rd_names(struct store *st, const char *only, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	*out = json_array();
	if (store_prepare(st,
	                  "SELECT name FROM rollouts r WHERE (?1 IS NULL OR name = ?1) AND"
	                  " (state IN ('scheduled', 'running') OR (state = 'completed' AND EXISTS"
	                  "  (SELECT 1 FROM wave_targets t WHERE t.rollout_id = r.id AND"
	                  "   t.snapshot_state = 'active'))) ORDER BY id",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, only, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(*out, json_string(store_col_text(s, 0)));
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "listing rollouts");
}

int rollout_run_due(struct store *st, const struct rollout_run_opts *o, json_t **report,
                    struct pl_err *err)
{
	struct rd rd = {.st = st, .o = o, .report = json_array()};
	PL_AUTOJSON json_t *names = NULL;
	struct pl_err first = PL_ERR_INIT;
	char now[21];
	size_t i;
	json_t *v;

	*report = NULL;
	/* libvirt and libxml2 before any thread uses them */
	virInitialize();
	xmlInitParser();
	if (o->only) {
		struct rollout_row row;

		if (rollout_row_load(st, o->only, &row, err) < 0) {
			json_decref(rd.report);
			return err->code;
		}
		rollout_row_clear(&row);
	}
	if (rd_names(st, o->only, &names, err) < 0) {
		json_decref(rd.report);
		return err->code;
	}
	json_array_foreach (names, i, v) {
		struct pl_err e = PL_ERR_INIT;

		if (rd_one(&rd, json_string_value(v), &e) < 0 && !first.code)
			first = e;
	}
	pl_time_iso(rd_now(&rd), now);
	*report = json_pack("{s:s, s:o, s:i, s:i}", "now", now, "rollouts", rd.report, "halted",
	                    rd.halted, "failed_targets", rd.failed);
	if (first.code) {
		*err = first;
		return first.code;
	}
	if (rd.halted || rd.failed)
		return pl_error(err, PL_EFAIL, "%s",
		                rd.first_problem[0] ? rd.first_problem : "a target failed");
	return 0;
}
