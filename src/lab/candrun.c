/*
 * candrun.c - a candidate's lab run: clone, apply, boot with the smoke
 * agent, inspect, verdict. Every stage's failure is a check with evidence;
 * the gate turns the checks into pass or fail, and anything that keeps a
 * result from being produced is a fail, never a pass.
 */
#include "lab-private.h"

#include <poll.h>

#include "audit/audit.h"
#include "gate/gate.h"
#include "guest/guest.h"
#include "guest_agent_script.h" /* generated from src/guest/agent.sh */
#include "guest_agent_unit.h"   /* generated from src/guest/agent.service */

/* The agent's config from the lab's smoke checks (lab files forbid newlines
 * in every value, so each directive stays one line). */
char *lab_agent_config(const struct lab_def *def)
{
	struct pl_buf b = PL_BUF_INIT;

	pl_buf_addf(&b, "settle_timeout %u\n", def->boot_timeout);
	for (size_t i = 0; def->services && def->services[i]; i++)
		pl_buf_addf(&b, "service %s\n", def->services[i]);
	for (size_t i = 0; i < def->nports; i++)
		pl_buf_addf(&b, "port %ld\n", def->ports[i]);
	for (size_t i = 0; def->files && def->files[i]; i++)
		pl_buf_addf(&b, "file %s\n", def->files[i]);
	for (size_t i = 0; i < def->ncommands; i++)
		pl_buf_addf(&b, "command %s %u %d %s\n", def->commands[i].name,
			    def->commands[i].timeout, def->commands[i].expect_exit,
			    def->commands[i].run);
	return pl_buf_detach(&b);
}

/* 1 when patch p is in the subset (NULL: every patch is). */
static int cand_in_subset(const struct patch *p, const char *const *subset)
{
	if (!subset)
		return 1;
	for (size_t i = 0; subset[i]; i++)
		if (strcmp(subset[i], p->package) == 0)
			return 1;
	return 0;
}

static int cand_all_pass(json_t *checks, const char *stage)
{
	json_t *c;
	size_t i;

	json_array_foreach(checks, i, c)
		if (strcmp(json_string_value(json_object_get(c, "stage")), stage) == 0 &&
		    strcmp(json_string_value(json_object_get(c, "status")), "pass") != 0)
			return 0;
	return 1;
}

/* Waits for the agent to power the guest off; a panic, a stop without a
 * result (checked later) or the deadline end the wait. */
static int cand_wait_stop(struct boot_ctx *b, unsigned timeout, const struct gate_policy *pol,
			  json_t *checks, struct pl_err *err)
{
	double deadline = b->t_start + timeout;

	for (;;) {
		PL_AUTOFREE char *text = NULL;
		int running = boot_domain_running(b);
		const char *panic;

		/* the console first: a panicked guest also stops */
		pl_file_read(b->console, &text, NULL, NULL);
		panic = text ? strstr(text, "Kernel panic - not syncing") : NULL;
		if (panic) {
			guest_check_add(checks, "boot", "boot-time", "fail", b->console,
					"the guest kernel panicked: %.200s", panic);
			return 0;
		}
		if (!running) {
			double secs = pl_monotonic() - b->t_start;

			guest_check_add(checks, "boot", "boot-time",
					secs <= pol->max_boot_seconds ? "pass" : "fail", b->console,
					"the guest powered off after %.1f s (limit %ld s)", secs,
					pol->max_boot_seconds);
			return 0;
		}
		if (b->interrupted && *b->interrupted)
			return pl_error(err, PL_EENV, "interrupted");
		if (pl_monotonic() > deadline) {
			guest_check_add(checks, "boot", "boot-time", "fail", b->console,
					"the guest did not finish its checks within %u s (hang, "
					"emergency mode?)",
					timeout);
			return 0;
		}
		poll(NULL, 0, 250);
	}
}

/* Tolerated failed units (policy) turn the failed-units check back to pass. */
static void cand_allow_units(json_t *checks, json_t *agent, const struct gate_policy *pol)
{
	json_t *units = json_object_get(agent, "failed_units"), *u, *c;
	size_t i;

	if (!json_array_size(units))
		return;
	json_array_foreach(units, i, u)
		if (!gate_unit_allowed(pol, json_string_value(u)))
			return;
	json_array_foreach(checks, i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), "failed-units") == 0)
			json_object_set_new(c, "status", json_string("pass"));
}

struct cand_ctx {
	struct boot_ctx b;
	const struct gate_policy *pol;
	json_t *checks;
	char **debs;
	struct guest_expect *expect;
	size_t n;
	int force_tcg;
	struct guest_applied applied;
};

static int cand_apply(struct cand_ctx *x, struct pl_err *err)
{
	PL_AUTOFREE char *config = lab_agent_config(x->b.def);
	PL_AUTOFREE char *kdir = pl_path_join(x->b.run.dir, "kernel");
	struct guest_apply a = {.disk = x->b.disk, .root_uuid = x->b.im->root_uuid,
				.force_tcg = x->force_tcg, .debs = x->debs,
				.ndebs = x->n, .expect = x->expect, .nexpect = x->n,
				.evidence_dir = x->b.run.dir,
				.min_free_bytes = (uint64_t)x->pol->min_free_mb << 20,
				.agent_script = guest_agent_script, .agent_unit = guest_agent_unit,
				.agent_config = config, .kernel_dir = kdir, .lab_clone = 1};

	if (pl_mkdir_p(kdir, 0755, err) < 0)
		return err->code;
	return guest_apply_patches(&a, x->checks, &x->applied, err);
}

static int cand_boot_and_inspect(struct cand_ctx *x, enum lab_boot mode, const char *virt,
				 struct pl_err *err)
{
	struct boot_ctx *b = &x->b;
	unsigned timeout = b->def->boot_timeout;
	json_t *agent = NULL;
	int rc;

	for (size_t i = 0; i < b->def->ncommands; i++)
		timeout += b->def->commands[i].timeout;
	boot_ctx_set_kernel(b, x->applied.kernel, x->applied.initrd, x->applied.root_uuid);
	rc = BOOT_STAGE(b, "network", boot_network(b, mode, err), "isolated%s",
			mode == LAB_BOOT_PXE ? ", PXE with the patched kernel" : "");
	if (rc == 0)
		rc = BOOT_STAGE(b, "boot", boot_domain(b, mode, virt, err), "%s boot (%s)",
				lab_boot_name(mode), virt);
	if (rc == 0)
		rc = BOOT_STAGE(b, "smoke", cand_wait_stop(b, timeout, x->pol, x->checks, err),
				"smoke agent in the guest (timeout %u s)", timeout);
	if (rc == 0 && boot_domain_running(b)) {
		/* stop a hung guest before reading its disk */
		virDomainPtr d = virDomainLookupByName(b->run.conn, b->domain);

		if (d) {
			virDomainDestroy(d);
			virDomainFree(d);
		}
	}
	if (rc == 0)
		rc = BOOT_STAGE(b, "inspect",
				guest_collect(b->disk, b->im->root_uuid, x->force_tcg, x->expect,
					      x->n, b->run.dir,
					      x->checks, &agent, err),
				"agent result, journal, packages (libguestfs)");
	if (agent)
		cand_allow_units(x->checks, agent, x->pol);
	json_decref(agent);
	return rc;
}

/* The checks rows, the verdict and its audit entry, in one transaction. */
static int cand_store(struct cand_ctx *x, const char *cand, const char *const *subset,
		      const char *verdict, struct pl_err *err)
{
	struct store *st = x->b.run.st;
	PL_AUTOSTMT sqlite3_stmt *ins = NULL, *upd = NULL;
	PL_AUTOJSON json_t *detail = json_pack("{s:s, s:s, s:s, s:n}", "candidate", cand, "verdict",
					       verdict, "policy", x->pol->name, "subset");
	json_t *c;
	size_t i;

	for (i = 0; subset && subset[i]; i++) {
		if (i == 0)
			json_object_set_new(detail, "subset", json_array());
		json_array_append_new(json_object_get(detail, "subset"), json_string(subset[i]));
	}

	if (store_begin(st, err) < 0)
		return err->code;
	if (store_prepare(st,
			  "INSERT INTO checks(run_id, vm, stage, name, status, detail, evidence)"
			  " VALUES (?,?,?,?,?,?,?)",
			  &ins, err) < 0 ||
	    store_prepare(st, "UPDATE lab_runs SET verdict = ? WHERE id = ?", &upd, err) < 0)
		goto fail;
	json_array_foreach(x->checks, i, c) {
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, x->b.run.id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, x->b.vm->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, json_string_value(json_object_get(c, "stage")), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, json_string_value(json_object_get(c, "name")), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, json_string_value(json_object_get(c, "status")), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(ins, 6, json_string_value(json_object_get(c, "detail")), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(ins, 7, json_string_value(json_object_get(c, "evidence")), -1,
				  SQLITE_STATIC);
		if (store_step_done(st, ins, err) < 0)
			goto fail;
	}
	sqlite3_bind_text(upd, 1, verdict, -1, SQLITE_STATIC);
	sqlite3_bind_text(upd, 2, x->b.run.id, -1, SQLITE_STATIC);
	if (store_step_done(st, upd, err) < 0 ||
	    audit_append(st, NULL, "verdict", "lab-run", x->b.run.id, detail, err) < 0 ||
	    store_commit(st, err) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return err->code;
}

static int cand_mark_run(struct store *st, const char *run_id, long cand_id,
			 const char *const *subset, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct pl_buf b = PL_BUF_INIT;
	int rc;

	for (size_t i = 0; subset && subset[i]; i++)
		pl_buf_addf(&b, "%s%s", i ? " " : "", subset[i]);
	if (store_prepare(st, "UPDATE lab_runs SET candidate_id = ?, subset = ? WHERE id = ?", &s,
			  err) < 0) {
		pl_buf_release(&b);
		return err->code;
	}
	sqlite3_bind_int64(s, 1, cand_id);
	if (subset)
		sqlite3_bind_text(s, 2, pl_buf_str(&b), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, run_id, -1, SQLITE_STATIC);
	rc = store_step_done(st, s, err);
	pl_buf_release(&b);
	return rc;
}

static int cand_stages(struct cand_ctx *x, enum lab_boot mode, json_t *res, struct pl_err *err)
{
	struct boot_ctx *b = &x->b;
	enum lab_accel accel;
	PL_AUTOFREE char *why = NULL;
	int rc;

	if (lab_accel_resolve(b->accel, b->run.st, &accel, &why, err) < 0)
		return err->code;
	x->force_tcg = accel == LAB_ACCEL_TCG;
	json_object_set_new(res, "accelerator", json_string(lab_accel_name(accel)));
	rc = BOOT_STAGE(b, "clone", boot_storage(b, err), "qcow2 overlay on %s", b->im->name);
	if (rc == 0)
		rc = BOOT_STAGE(b, "apply", cand_apply(x, err),
				"%zu patch(es) with dpkg, offline checks, smoke agent", x->n);
	if (rc == 0 && !cand_all_pass(x->checks, "apply")) {
		guest_check_add(x->checks, "boot", "agent-result", "skip", NULL,
				"not booted: an offline check failed");
		return 0;
	}
	if (rc == 0)
		rc = cand_boot_and_inspect(x, mode, accel == LAB_ACCEL_KVM ? "kvm" : "qemu", err);
	return rc;
}

int lab_run_candidate(struct store *st, struct candidate *c, const struct image *im,
		      const struct lab_def *def, const struct lab_cand_opts *o,
		      const char *const *subset, json_t **result, struct pl_err *err)
{
	struct cand_ctx x = {.b = {.progress = o->progress, .interrupted = o->interrupted,
				   .accel = o->accel, .def = def, .im = im,
				   .stages = json_array()},
			     .pol = o->policy, .checks = json_array()};
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	enum lab_boot mode = o->boot_set || !def->vms[0].boot_set ? o->boot : def->vms[0].boot;
	json_t *res = json_object(), *reasons = NULL;
	struct pl_err eerr = PL_ERR_INIT;
	const char *verdict;
	int rc, pass;

	x.debs = pl_calloc(c->npatches + 1, sizeof(char *));
	x.expect = pl_calloc(c->npatches + 1, sizeof(*x.expect));
	for (size_t i = 0; i < c->npatches; i++)
		if (cand_in_subset(&c->patches[i], subset)) {
			x.debs[x.n] = c->patches[i].path;
			x.expect[x.n++] = (struct guest_expect){
				c->patches[i].package, c->patches[i].version, c->patches[i].arch};
		}
	rc = x.n ? 0 : pl_error(err, PL_EINVAL, "no patch of '%s' is in the subset", c->name);
	if (rc == 0)
		rc = lab_connect(o->uri, &conn, err);
	if (rc == 0 && !subset && strcmp(c->state, "testing") != 0)
		rc = candidate_set_state(st, c, "testing", err);
	if (rc == 0)
		rc = lab_run_begin(st, conn, "candidate", im->id, &x.b.run, err);
	if (rc < 0) {
		free(x.debs);
		free(x.expect);
		json_decref(x.checks);
		json_decref(res);
		boot_ctx_free(&x.b);
		return rc;
	}
	x.b.run.keep = o->keep;
	boot_ctx_names(&x.b, &def->vms[0], im->kernel_path, im->initrd_path, im->root_uuid);
	json_object_set_new(res, "run", json_string(x.b.run.id));
	json_object_set_new(res, "candidate", json_string(c->name));
	json_object_set_new(res, "image", json_string(im->name));
	json_object_set_new(res, "boot", json_string(lab_boot_name(mode)));
	json_object_set_new(res, "evidence_dir", json_string(x.b.run.dir));
	json_object_set_new(res, "console_log", json_string(x.b.console));
	rc = cand_mark_run(st, x.b.run.id, c->id, subset, err);
	if (rc == 0)
		rc = cand_stages(&x, mode, res, err);
	if (rc < 0) /* fail closed: the error is itself a failed check */
		guest_check_add(x.checks, "lab", "internal", "error", NULL, "%s", err->msg);
	pass = gate_verdict(o->policy, x.checks, &reasons);
	verdict = rc < 0 ? "error" : pass ? "pass" : "fail";
	json_object_set_new(res, "verdict", json_string(verdict));
	json_object_set_new(res, "policy", json_string(o->policy->name));
	json_object_set_new(res, "reasons", reasons);
	json_object_set_new(res, "checks", json_incref(x.checks));
	json_object_set_new(res, "stages", json_incref(x.b.stages));
	{
		PL_AUTOFREE char *tail = boot_console_tail(x.b.console, 20);
		PL_AUTOFREE char *text = json_dumps(res, JSON_INDENT(2));
		PL_AUTOFREE char *path = pl_path_join(x.b.run.dir, "result.json");

		json_object_set_new(res, "console_excerpt", json_string(tail));
		pl_file_write_atomic(path, text, strlen(text), 0644, NULL);
	}
	if (cand_store(&x, c->name, subset, verdict, &eerr) < 0 && rc == 0)
		rc = pl_error(err, eerr.code, "%s", eerr.msg);
	if (!subset && candidate_set_state(st, c, rc == 0 && pass ? "passed" : "failed", &eerr) < 0 &&
	    rc == 0)
		rc = pl_error(err, eerr.code, "%s", eerr.msg);
	if (lab_run_end(&x.b.run, rc < 0 ? "error" : pass ? "passed" : "failed", res, &eerr) < 0 &&
	    rc == 0)
		rc = pl_error(err, eerr.code, "%s", eerr.msg);
	if (rc == 0 && !pass)
		rc = pl_error(err, PL_EFAIL, "candidate '%s' failed the lab: %s", c->name,
			      json_string_value(json_array_get(json_object_get(res, "reasons"), 0)));
	guest_applied_clear(&x.applied);
	free(x.debs);
	free(x.expect);
	json_decref(x.checks);
	boot_ctx_free(&x.b);
	*result = res;
	return rc;
}
