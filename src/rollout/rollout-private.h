/* rollout-private.h - shared between the files of src/rollout/ only. */
#ifndef PL_ROLLOUT_PRIVATE_H
#define PL_ROLLOUT_PRIVATE_H

#include "rollout.h"
#include "store/store.h"
#include "guest/guest.h"
#include "lab/lab.h"

struct gate_policy;

/* Parses the window object at path ("$.windows[0]") into out (zeroed
 * first); errors name d's file and the JSON path of the bad field. */
int rollout_window_parse(const struct pl_jdoc *d, json_t *obj, const char *path,
                         struct rollout_window_rule *out);
/* Frees a rule's strings and zone. */
void rollout_window_rule_clear(struct rollout_window_rule *r);

/* Parses a duration ("4h", "90m", "1h30m", "2d", "0s") into seconds; -1 if bad. */
int rollout_duration_parse(const char *s, int64_t *out);

/* Parses root's optional "waves" into p (whose windows are parsed already);
 * errors name d's file and the JSON path. */
int rollout_waves_parse(const struct pl_jdoc *d, json_t *root, struct rollout_policy *p);
/* Frees a wave's strings and JSON. */
void rollout_wave_rule_clear(struct rollout_wave_rule *r);
/* "libvirt", "apt-repo", "ansible" -> the enum; -1 for anything else. */
int rollout_executor_parse(const char *s, enum rollout_executor *out);
/* The key of an executor's settings object in a wave ("apt_repo", ...). */
const char *rollout_executor_options_key(enum rollout_executor e);
/* ceil(share * n), at most n. */
size_t rollout_share_count(double share, size_t n);

/* Pull targets (aptrepo.c): a Debian package name (Policy 5.6.1), and
 * rm -rf path (no error when it does not exist). */
int rollout_pkg_name_ok(const char *s);
int rollout_rmtree(const char *path, struct pl_err *err);

/* ---- the rows of a rollout (schedule.c) ---- */

/* "YYYY-MM-DDTHH:MM:SSZ" of the clock's now. */
void rollout_now_iso(const struct pl_clock *clock, char out[static 21]);

/* A rollout's row and its candidate's name and state; strings owned. */
struct rollout_row {
	int64_t id;
	char *name, *state, *policy_json, *policy_file, *lab_json, *lab_file, *gate_file,
	    *gate_sha256, *candidate, *candidate_state;
	int64_t lock_pid, lock_start;
};
int rollout_row_load(struct store *st, const char *name, struct rollout_row *out,
                     struct pl_err *err);
void rollout_row_clear(struct rollout_row *r);
/* The policy the rollout was planned with, from its stored document. */
int rollout_row_policy(const struct rollout_row *r, struct rollout_policy *out, struct pl_err *err);

struct rollout_target_row {
	int64_t id;
	char *host, *state, *uri, *domain, *snapshot_state, *verified;
	json_t *snapshot; /* owned, or NULL */
	json_t *result;   /* owned, or NULL */
	int attempts;
};

struct rollout_wave_row {
	int64_t id;
	int seq;
	char *name, *state, *executor, *window_name;
	int64_t window_start, window_end, min_soak, soak_until; /* INT64_MIN when unset */
	struct rollout_target_row *targets;
	size_t ntargets;
};

struct rollout_waves_rows {
	struct rollout_wave_row *v;
	size_t n;
};
/* Every wave of rollout_id, by seq, with its targets, by host. */
int rollout_waves_load(struct store *st, int64_t rollout_id, struct rollout_waves_rows *out,
                       struct pl_err *err);
void rollout_waves_clear(struct rollout_waves_rows *w);

/* Moves candidate name to state to along with its rollout, when the state
 * machine allows it from where it is (else leaves it). */
int rollout_candidate_move(struct store *st, const char *name, const char *to, const char *actor,
                           struct pl_err *err);

/* State changes, each with its audit entry; the caller holds the transaction. */
int rollout_set_state(struct store *st, const struct rollout_row *r, const char *to,
                      const char *reason, const char *actor, const struct pl_clock *clock,
                      struct pl_err *err);
int rollout_wave_set_state(struct store *st, const char *rollout, const struct rollout_wave_row *w,
                           const char *to, json_t *result, const struct pl_clock *clock,
                           struct pl_err *err);
/* A wave's new window (a missed one moved on), audited as "reschedule". */
int rollout_wave_set_window(struct store *st, const char *rollout, const struct rollout_wave_row *w,
                            const struct rollout_window *win, struct pl_err *err);

/* What changes on a target; NULL fields stay as they are. */
struct rollout_target_change {
	const char *state, *detail;
	json_t *result, *snapshot; /* borrowed */
	const char *snapshot_state, *verified, *verify_detail;
	const char *action; /* the audit action; NULL: "set-state" */
};
int rollout_target_update(struct store *st, const char *rollout, const struct rollout_target_row *t,
                          const struct rollout_target_change *c, const struct pl_clock *clock,
                          struct pl_err *err);

/* ---- the libvirt executor (exec_libvirt.c) ---- */

/* What every target of a libvirt wave shares; read-only in the workers. */
struct rollout_lv_ctx {
	char **debs; /* the candidate's .debs in the patch store */
	struct guest_expect *expect;
	size_t n;
	const char *agent_config; /* the lab file's smoke checks as agent directives */
	unsigned boot_timeout, shutdown_timeout;
	const struct gate_policy *gate;
	int force_tcg;
	const struct pl_progress *progress;
	volatile int *interrupted;
};

/* One target: the input (host, evidence_dir, snapshot from prepare) and
 * the outcome execute leaves (state, detail and result owned). */
struct rollout_lv_target {
	const char *host;
	char *evidence_dir;
	json_t *snapshot; /* {uri, domain, dev, disk, format, overlay, was_running} */
	const char *state, *snapshot_state;
	char *detail;
	json_t *result, *stages;
	double boot_seconds;
};

/* Reads the domain (nothing changes): its one writable file disk and
 * whether it runs, as the snapshot it will get (*snapshot owned). */
int rollout_lv_prepare(const char *uri, const char *domain, int64_t rollout_id, int64_t target_id,
                       json_t **snapshot, struct pl_err *err);
/* Shut down, snapshot, apply, smoke boot, judge, start or roll back. Runs
 * in a worker thread; every failure ends in t's outcome. */
void rollout_lv_execute(const struct rollout_lv_ctx *x, struct rollout_lv_target *t);
/* Back to the snapshot: the domain on its original disk, the overlay gone,
 * running again when it was. Idempotent (a crashed run's recovery). */
int rollout_lv_rollback(const json_t *snapshot, struct pl_err *err);
/* Drops the snapshot after the soak: the overlay merged into the original
 * disk (block commit and pivot when running), the domain back on it. */
int rollout_lv_commit(const json_t *snapshot, struct pl_err *err);
/* The disk the domain uses now (live when running), path and format. */
int rollout_lv_current_disk(const char *uri, const char *domain, const char *dev, char **path,
                            char **format, struct pl_err *err);
/* The XML work, exposed for the unit tests: the one writable file disk,
 * and the document with that disk's source and format replaced. */
int rollout_lv_disk_find(const char *xml, const char *domain, char **dev, char **path,
                         char **format, struct pl_err *err);
int rollout_lv_disk_set(const char *xml, const char *dev, const char *path, const char *format,
                        char **out, struct pl_err *err);

#endif
