/*
 * rollout.h - production rollout: when it may happen (the maintenance
 * calendar) and how (waves, their plan and executors).
 *
 * Owns: rollout policies (policies/rollout-*.json; the built-in one is
 * policies/rollout-default.json), maintenance windows (an RRULE subset or an
 * offset from Patch Tuesday, a local start time, a duration, a time zone),
 * Patch Tuesday, civil-date arithmetic, and time zones read from the
 * system's tz database (TZif files parsed here, so every conversion is a
 * pure function of its arguments: no TZ environment, no localtime()).
 * Also: waves (which hosts, how many, soak, thresholds, executor), the plan
 * they make from the inventory and the calendar, the tables rollouts, waves
 * and wave_targets (schema 11), 'run-due' and the libvirt VM executor
 * (snapshot, offline apply, smoke boot, rollback, post-deploy audit).
 * Does not own: the candidate state machine and approvals (src/candidate/),
 * the audit log (src/audit/), the promotion gate (src/gate/), the hosts
 * (src/inventory/), offline disk access (src/guest/).
 *
 * Local times that do not exist or exist twice (DST changes) follow
 * RFC 5545, 3.3.5: a start inside a gap (02:30 on a spring-forward night in
 * Europe/Berlin) is read with the offset before the gap, so it moves forward
 * by the gap's length (03:30 CEST); a start inside a fold (02:30 on a
 * fall-back night) is the first of the two instants (02:30 CEST). Durations
 * are real elapsed time: a 4h window is 4 hours long however the clocks
 * are changed during it, so its local end may read 3 or 5 hours later.
 */
#ifndef PL_ROLLOUT_H
#define PL_ROLLOUT_H

#include "core/core.h"

/* ---- civil dates (proleptic Gregorian, no time zone) ----------------- */

struct rollout_date {
	int year, month, day; /* month 1-12, day 1-31 */
};

/* Days since 1970-01-01 of a civil date (negative before). */
int64_t rollout_days_from_civil(int year, int month, int day);
/* The civil date of a day number. */
struct rollout_date rollout_civil_from_days(int64_t days);
/* Day of the week of a day number: 0 Sunday ... 6 Saturday. */
int rollout_weekday(int64_t days);
/* Number of days in month (1-12) of year. */
int rollout_month_days(int year, int month);
/* Floor division of a Unix time into its UTC day number. */
int64_t rollout_day_of(int64_t t);

/* ---- Patch Tuesday ---------------------------------------------------- */

/* The second Tuesday of the month (a date, the same in every time zone). */
struct rollout_date rollout_patch_tuesday(int year, int month);

/* ---- time zones -------------------------------------------------------- */

/* A loaded zone: transitions, local time types, the POSIX TZ rule for times
 * after the last transition. Immutable once loaded, safe to share. */
struct rollout_tz;

/* Loads zone name ("Europe/Berlin", "UTC") from $TZDIR or
 * /usr/share/zoneinfo. An unknown or malformed zone is PL_EINVAL naming it;
 * "UTC" works without the tz database. *out is the caller's: free it. */
int rollout_tz_load(const char *name, struct rollout_tz **out, struct pl_err *err);
void rollout_tz_free(struct rollout_tz *tz);
/* The name the zone was loaded by (borrowed). */
const char *rollout_tz_name(const struct rollout_tz *tz);

/* The offset east of UTC in seconds at instant t; *abbr (may be NULL) gets
 * the abbreviation in use ("CEST"), borrowed from tz. */
int rollout_tz_offset(const struct rollout_tz *tz, int64_t t, const char **abbr);

/* Converts local wall-clock seconds (the local civil time counted like a
 * Unix time) to UTC by RFC 5545's rule above. Returns 1 when the local time
 * fell into a gap and was moved forward, 0 otherwise. */
int rollout_tz_to_utc(const struct rollout_tz *tz, int64_t local, int64_t *utc);

/* Formats t at offset (seconds east) as "2026-12-05T02:00:00+01:00". */
void rollout_time_local(int64_t t, int offset, char out[static 32]);

/* ---- policies and maintenance windows ---------------------------------- */

enum rollout_freq { ROLLOUT_WEEKLY = 1, ROLLOUT_MONTHLY = 2 };

#define ROLLOUT_MAX_BYDAY 64

/* One window rule of a policy. Either an RRULE (freq set) or a Patch
 * Tuesday offset (is_patch_tuesday). Strings and tz owned. */
struct rollout_window_rule {
	char *name;
	char *rrule;   /* the RRULE as written; NULL for a Patch Tuesday rule */
	char *tz_name; /* as written */
	struct rollout_tz *tz;
	int start_sec;        /* local time of day the window opens, seconds */
	int64_t duration;     /* seconds of real elapsed time */
	int is_patch_tuesday; /* the window opens pt_offset days after Patch Tuesday */
	int pt_offset;
	/* the RRULE subset */
	enum rollout_freq freq;
	int interval; /* INTERVAL, 1 when absent */
	int wkst;     /* WKST as a weekday, Monday when absent */
	struct {
		int wday;    /* 0 Sunday ... 6 Saturday */
		int ordinal; /* MONTHLY: 2 for 2TU, -1 for -1FR; 0 for every */
	} byday[ROLLOUT_MAX_BYDAY];
	size_t nbyday;
	int bymonthday[62]; /* 1..31 or -31..-1 */
	size_t nbymonthday;
	unsigned bymonth; /* bit m set for month m; 0 for every month */
	int has_dtstart;
	int64_t dtstart_day; /* the anchor date (day number) */
	long count;          /* COUNT, 0 when absent */
	int64_t until_day;   /* last local date (UNTIL=date or COUNT); INT64_MAX */
	int64_t until_utc;   /* last start instant (UNTIL=...Z); INT64_MAX */
};

/* A rollout policy (policies/NAME.json). Owned strings and rules. */
struct rollout_wave_rule;

struct rollout_policy {
	char *file, *name, *description;
	struct rollout_window_rule *windows;
	size_t nwindows;
	struct rollout_wave_rule *waves; /* "waves" (plan.c); none when the file has none */
	size_t nwaves;
	char *text; /* the document as compact JSON with sorted keys: what 'schedule' keeps */
};

/* Loads and validates a policy; errors name the file and JSON path
 * ("p.json: $.windows[1].rrule: BYDAY: 'XX' is not a weekday"). */
int rollout_policy_load(const char *path, struct rollout_policy *out, struct pl_err *err);
/* The built-in policy (policies/rollout-default.json, embedded at build time). */
int rollout_policy_default(struct rollout_policy *out, struct pl_err *err);
/* Validates an already parsed document; file names it in errors. */
int rollout_policy_from_json(json_t *root, const char *file, struct rollout_policy *out,
                             struct pl_err *err);
void rollout_policy_free(struct rollout_policy *p);
/* The rule named name, or NULL. */
const struct rollout_window_rule *rollout_policy_window(const struct rollout_policy *p,
                                                        const char *name);

/* One occurrence of a window. */
struct rollout_window {
	const struct rollout_window_rule *rule; /* borrowed from the policy */
	struct rollout_date date;               /* the local date it belongs to */
	int64_t start, end;                     /* UTC, end exclusive */
	int start_offset, end_offset;           /* seconds east of UTC */
	char start_abbr[16], end_abbr[16];
	int shifted; /* the start fell into a DST gap and was moved forward */
};

struct rollout_windows {
	struct rollout_window *v;
	size_t n;
};
void rollout_windows_free(struct rollout_windows *w);

/* 1 when rule r has an occurrence on local date day (a day number). */
int rollout_rule_matches(const struct rollout_window_rule *r, int64_t day);

/* The occurrence of rule r on local date day (r must match that day). */
void rollout_rule_occurrence(const struct rollout_window_rule *r, int64_t day,
                             struct rollout_window *out);

/* Every occurrence that overlaps [from, to) (UTC), sorted by start, then
 * by the policy's order. out is the caller's: rollout_windows_free(). */
int rollout_windows_between(const struct rollout_policy *p, int64_t from, int64_t to,
                            struct rollout_windows *out, struct pl_err *err);

/* Every occurrence whose local date (in its window's own time zone) lies in
 * year-month, sorted by start: what 'patchlab calendar --month' lists. */
int rollout_windows_month(const struct rollout_policy *p, int year, int month,
                          struct rollout_windows *out, struct pl_err *err);

/* The first occurrence that has not ended at after (an open window counts:
 * its start may lie before after). PL_ENOTFOUND when no window opens in
 * the next ten years. The scheduler calls this with its pl_clock's now. */
int rollout_next_window(const struct rollout_policy *p, int64_t after, struct rollout_window *out,
                        struct pl_err *err);

/* ---- pull targets and exports (aptrepo.c, ansible.c) --------------------
 *
 * A wave's hosts outside libvirt pull their patches: a signed apt
 * repository per wave that their sources point at (aptrepo.c), or an
 * Ansible inventory and playbook per wave (ansible.c).
 *
 * The repository directory DIR (what the hosts' URI names) holds:
 *   dists -> generations/NNNNNN/dists   the one symlink switched by rename(2)
 *   generations/NNNNNN/                 dists/SUITE/{InRelease, Release,
 *                                       Release.gpg, COMPONENT/binary-ARCH/
 *                                       Packages{,.gz,.xz}, .../by-hash/SHA256/}
 *                                       and generation.json (what it holds)
 *   pool/COMPONENT/P/SOURCE/NAME.deb    shared by the generations; a file
 *                                       name never changes its content
 *   keyring.gpg                         the signing key's public part, for
 *                                       the hosts' Signed-By
 *   repo.json                           suite, component, key, ... as published
 * A publish builds the whole new generation (indexes, Release, InRelease and
 * Release.gpg signed with gpg, both verified with gpgv against keyring.gpg)
 * beside the current one and switches the dists symlink: a client sees the
 * old or the new generation, never a mix. The index files of the previous
 * generation stay reachable by hash (Acquire-By-Hash) and its .debs in the
 * pool, so a client that read the old InRelease still completes. Release's
 * Date always moves forward (at least a second past the previous one).
 *
 * Rollback never points clients at an old Release (apt refuses one older
 * than what it has): it publishes a NEW generation, signed with a new Date,
 * whose indexes are those of the state before the current one (or empty
 * ones when the first publish is rolled back). apt then sees the previous
 * versions as candidates but does not downgrade installed packages by
 * itself: hosts need `apt-get install PKG=VERSION` (the Ansible export's
 * playbook does it, with allow_downgrade) or a pin of priority >= 1000.
 *
 * Errors: PL_EUSAGE for a bad option (suite, component, arch, key, dir),
 * PL_EINVAL for a bad .deb (naming it) or a pool file of the same name with
 * other content, PL_ESTATE when another publish holds DIR's lock or there
 * is nothing to roll back, PL_EENV when gpg cannot sign (no secret key) or
 * gpg/gpgv/dpkg-deb are missing, PL_EIO for the file system. Nothing is
 * half-published: on any error the current generation stays current and the
 * new files are removed.
 */

struct store;
struct lab_def;

/* A wave repository's configuration; strings owned (rollout_aptrepo_clear),
 * clock and progress borrowed. */
struct rollout_aptrepo {
	char *dir;          /* the repository root */
	char *suite;        /* dists/SUITE, also its Codename; no '/' */
	char *component;    /* NULL: "main" */
	char **arches;      /* NULL-terminated; NULL: those of the .debs
	                       (dpkg's when every .deb is "all") */
	char *origin;       /* Release Origin; NULL: "patchlab" */
	char *label;        /* Release Label; NULL: "patchlab" */
	char *key;          /* signing key: fingerprint, key id or user id */
	char *gnupghome;    /* gpg's home with the secret key; NULL: gpg's default */
	int64_t valid_for;  /* Valid-Until = Date + valid_for seconds; 0: none */
	int keep;           /* generations kept (and rollback depth); 0: 5 */
	const struct pl_clock *clock;       /* Date; NULL: the system's */
	const struct pl_progress *progress; /* NULL: silent */
};
void rollout_aptrepo_clear(struct rollout_aptrepo *r);

/* Parses a policy's "apt_repo" object at path ({dir, suite, component,
 * arches, origin, label, key, gnupghome, valid_days, keep}; dir,
 * suite and key required, unknown keys refused) into out (zeroed first).
 * Errors name d's file and the JSON path. */
int rollout_aptrepo_parse(const struct pl_jdoc *d, json_t *obj, const char *path,
                          struct rollout_aptrepo *out);

/* Fills out from DIR/repo.json (what the last publish used): for rollback
 * and show. gnupghome is not stored: set it. PL_ENOTFOUND when DIR holds
 * no published repository. */
int rollout_aptrepo_load(const char *dir, struct rollout_aptrepo *out, struct pl_err *err);

/* One .deb to publish: its path and, when known (the patch store's), the
 * SHA-256 it must have. Borrowed. */
struct rollout_deb {
	const char *path;
	const char *sha256; /* NULL: not checked against an expectation */
};

/* What a publish or rollback made. */
struct rollout_publish_result {
	int generation; /* the new current generation */
	int previous;   /* the one it replaced; 0: none */
	int64_t date;   /* its Release Date */
	size_t npackages;
	json_t *detail; /* its generation.json: packages, stack, signers; owned */
};
void rollout_publish_result_clear(struct rollout_publish_result *r);

/* Publishes exactly debs (one version per package and architecture) as a
 * new generation of r's repository; label (NULL: none) says what it is
 * ("candidate openssl-2026-11 wave canary"). out may be NULL. */
int rollout_aptrepo_publish(const struct rollout_aptrepo *r, const struct rollout_deb *debs,
                            size_t ndebs, const char *label, struct rollout_publish_result *out,
                            struct pl_err *err);

/* Publishes the approved candidate's patches (state approved, scheduled,
 * rolling-out or deployed, else PL_ESTATE saying why), checked against the
 * patch store's SHA-256, and appends an audit entry ("publish", candidate). */
int rollout_aptrepo_publish_candidate(struct store *st, const struct rollout_aptrepo *r,
                                      const char *candidate, const char *wave,
                                      struct rollout_publish_result *out, struct pl_err *err);

/* Republishes the state before the current one as a new generation (see
 * above); with st (may be NULL) appends an audit entry ("publish-rollback",
 * apt-repo DIR). PL_ESTATE when nothing is left to roll back to. */
int rollout_aptrepo_rollback(struct store *st, const struct rollout_aptrepo *r,
                             struct rollout_publish_result *out, struct pl_err *err);

/* DIR as JSON: configuration, current generation and its packages, every
 * kept generation (kind, label, date, packages), the rollback stack. */
int rollout_aptrepo_show(const char *dir, json_t **out, struct pl_err *err);

/* A deb822 apt source for the repository served at url, trusting keyring
 * (the path where the hosts keep keyring.gpg). Caller frees. */
char *rollout_aptrepo_sources(const struct rollout_aptrepo *r, const char *url,
                              const char *keyring);

/* ---- the Ansible export ---- */

/* One package version a wave installs. Borrowed. */
struct rollout_ansible_pkg {
	const char *package, *version, *arch;
	const char *path;   /* the .deb (copied into the export without a repo) */
	const char *sha256; /* checked on the host after the copy */
};

/* One host: inventory name and ansible_host (NULL: the name resolves). */
struct rollout_ansible_host {
	const char *name, *address;
};

/* A wave as the export sees it. Everything borrowed. */
struct rollout_ansible_wave {
	const char *rollout; /* the rollout or candidate it belongs to */
	const char *wave;    /* [A-Za-z0-9._-] */
	const struct rollout_ansible_host *hosts;
	size_t nhosts;
	const struct rollout_ansible_pkg *pkgs;
	size_t npkgs;
	const struct lab_def *smoke; /* services, ports, files, commands; NULL: none */
	const char *serial;          /* "N" or "N%"; NULL: "100%" (one batch) */
	double halt_failure_rate;    /* 0..1: max_fail_percentage = rate * 100 */
	/* With repo_url the hosts get the wave repository (keyring installed
	 * from repo_keyring, a local file); without, the .debs are copied. */
	const char *repo_url, *repo_suite, *repo_component, *repo_keyring;
};

/* Writes OUTDIR/inventory.yml (group patchlab_WAVE), playbook.yml and
 * files/ (the .debs or the keyring): every value YAML-quoted and tagged
 * !unsafe so Ansible never templates data. The playbook configures the
 * repository or copies the .debs (SHA-256 checked on the host), installs
 * exactly the approved versions (allow_downgrade: a rollback export
 * installs the previous ones), asserts them with package_facts and runs the
 * smoke checks. Built in a temporary directory and renamed into place; an
 * existing OUTDIR is replaced only when it is a previous export. */
int rollout_ansible_export(const struct rollout_ansible_wave *w, const char *outdir,
                           struct pl_err *err);

/* What 'export ansible' asks for. Borrowed. */
struct rollout_ansible_request {
	const char *candidate, *wave, *outdir;
	const char *const *hosts;       /* by name (NULL-terminated), or NULL: */
	const char *role, *environment; /* every inventory host that matches */
	const char *tag;                /* ... and carries this tag */
	const char *lab_file;           /* smoke checks; NULL: the built-in lab */
	const char *serial;
	double halt_failure_rate;
	const char *repo_url, *repo_suite, *repo_component, *repo_keyring;
};

/* Exports an approved candidate's wave (states as for publish): its patches
 * from the patch store, the hosts from the inventory (an unknown host is
 * PL_ENOTFOUND; no host at all is PL_EUSAGE), the lab file's smoke checks.
 * *out (may be NULL) gets {outdir, hosts, packages, files}. */
int rollout_ansible_export_candidate(struct store *st, const struct rollout_ansible_request *q,
                                     json_t **out, struct pl_err *err);

/* ---- waves: the "waves" of a policy (wave.c) ---------------------------- */

/*
 * "waves": [{"name": "canary", "select": {"role": "web", "environment":
 * "production", "tags": ["pilot"]}, "count": 1, "min_soak": "24h",
 * "success_threshold": 1, "halt_failure_rate": 0, "executor": "libvirt",
 * "windows": ["patch-tuesday+2"]}, ...]
 * A host matches a wave's select when every field given matches (tags: the
 * host carries each one); a libvirt wave takes only hosts with a libvirt
 * URI and domain (others are left to later waves, or stay unassigned, which
 * the rollout's status lists). Waves take hosts in policy order, each once:
 * a wave takes, of the matching hosts no earlier wave took, sorted by name,
 * the first "count", or the first ceil(share * matching) for "share" in
 * (0, 1], or all of them. min_soak is how long the wave's targets run
 * patched before the next wave may start and before their snapshots are
 * dropped. success_threshold (default 1) and halt_failure_rate (default 0)
 * are shares of the wave's targets. An "apt-repo" wave has its repository
 * under "apt_repo" (rollout_aptrepo_parse's object) and publishes the
 * candidate there for its hosts to pull; an "ansible" wave has "ansible":
 * {"outdir", "serial", "repo_url", "repo_suite", "repo_component",
 * "repo_keyring"} and writes the export there for the fleet's operators.
 */
enum rollout_executor { ROLLOUT_EXEC_LIBVIRT, ROLLOUT_EXEC_APT_REPO, ROLLOUT_EXEC_ANSIBLE };

/* "libvirt", "apt-repo", "ansible". */
const char *rollout_executor_name(enum rollout_executor e);

/* Which hosts a wave may take; strings owned. */
struct rollout_select {
	char *role, *environment; /* NULL: any */
	char **tags;              /* NULL-terminated; NULL: any */
};

/* One wave of a policy; everything owned. */
struct rollout_wave_rule {
	char *name, *description;
	struct rollout_select select;
	double share; /* (0, 1]; 0 when count is given or neither */
	long count;   /* >= 1; 0 when share is given or neither (every matching host) */
	int64_t min_soak;
	double success_threshold, halt_failure_rate;
	enum rollout_executor executor;
	char **windows;  /* window names the wave may use (NULL-terminated); NULL: any */
	json_t *options; /* the executor's settings ("apt_repo", "ansible"), or NULL */
	json_t *doc;     /* the wave's object as written */
};

/* The wave named name, or NULL. */
const struct rollout_wave_rule *rollout_policy_wave(const struct rollout_policy *p,
                                                    const char *name);

/* ---- the plan (plan.c): pure functions of hosts, policy and an instant ---- */

/* A host as the planner sees it; strings and tags borrowed. */
struct rollout_host {
	const char *name, *role, *environment;
	json_t *tags; /* a JSON array of strings, or NULL */
	const char *libvirt_uri, *libvirt_domain;
};

/* 1 when host h matches select s. */
int rollout_select_matches(const struct rollout_select *s, const struct rollout_host *h);

struct rollout_plan_wave {
	const struct rollout_wave_rule *rule; /* borrowed from the policy */
	size_t *hosts;                        /* indexes into the planner's hosts, by name */
	size_t nhosts;
	struct rollout_window window; /* meaningful when nhosts > 0 */
};

/* A plan; rollout_plan_free() it. */
struct rollout_plan {
	struct rollout_plan_wave *waves; /* one per policy wave, in order */
	size_t nwaves;
	size_t *unassigned; /* hosts no wave took, by name */
	size_t nunassigned;
};
void rollout_plan_free(struct rollout_plan *pl);

/* The first occurrence of the windows wave r may use (its "windows", else
 * every window of p) that opens at or after `after`. */
int rollout_wave_window(const struct rollout_policy *p, const struct rollout_wave_rule *r,
                        int64_t after, struct rollout_window *out, struct pl_err *err);

/* Assigns hosts to p's waves (see above) and gives each wave with hosts a
 * window: the first wave the first window opening at or after now, each
 * later one the first opening at or after the end of the previous wave's
 * window plus that wave's min_soak. PL_EINVAL when p has no waves or when
 * no host matches any wave. */
int rollout_plan_compute(const struct rollout_policy *p, const struct rollout_host *hosts, size_t n,
                         int64_t now, struct rollout_plan *out, struct pl_err *err);

/* What a wave's results so far mean. */
enum rollout_verdict {
	ROLLOUT_GO_ON,          /* targets left and nothing decided yet */
	ROLLOUT_WAVE_SUCCEEDED, /* every target done, enough succeeded */
	ROLLOUT_HALT            /* too many failed, or too few succeeded */
};

/* Decides wave r after `done` of its `total` targets finished, `succeeded`
 * and `failed` of them (skipped ones are neither): HALT as soon as
 * failed / total exceeds halt_failure_rate, even mid-wave; once done ==
 * total, SUCCEEDED when succeeded / total reaches success_threshold, else
 * HALT. why (may be NULL) gets the reason in a sentence. */
enum rollout_verdict rollout_wave_decide(const struct rollout_wave_rule *r, size_t total,
                                         size_t done, size_t succeeded, size_t failed, char *why,
                                         size_t whysize);

/* ---- rollouts in the database (schedule.c; schema 11) -------------------- */

/*
 * A rollout is named after its candidate (one per candidate) and keeps the
 * policy document it was planned with, so later edits of the file change
 * nothing already scheduled. States: scheduled (no wave started), running,
 * halted (by hand or by a wave's failure rate), completed. Waves: pending,
 * running, succeeded, failed, skipped (no host). Targets: pending, running,
 * succeeded, failed, rolled-back, skipped. Every change of a rollout, wave
 * or target appends to the audit log in the same transaction.
 */
struct rollout_schedule_opts {
	const struct rollout_policy *policy;
	const char *lab_file;  /* smoke checks for the targets' smoke boot; NULL: built-in */
	const char *gate_file; /* the gate policy judging it; NULL: built-in */
	const char *actor;     /* NULL: audit_actor(NULL) */
	const struct pl_clock *clock;
};

/* Plans the rollout of approved candidate name over the inventory and
 * stores it, moving the candidate to scheduled, in one transaction.
 * PL_ESTATE (saying why) when the candidate is not approved, PL_EEXIST when
 * it has a rollout, PL_EINVAL for a policy without waves or hosts, a bad
 * lab or gate file. *out (may be NULL) gets the new rollout's status. */
int rollout_schedule(struct store *st, const char *name, const struct rollout_schedule_opts *o,
                     json_t **out, struct pl_err *err);

/* Rollout name with every wave (window in UTC and local time, state, soak)
 * and every target (state, times, detail, snapshot, post-deploy audit). */
int rollout_status(struct store *st, const char *name, json_t **out, struct pl_err *err);

/* Every rollout, newest first: name, candidate, state, waves, targets by state. */
int rollout_list(struct store *st, json_t **out, struct pl_err *err);

/* Halts a scheduled or running rollout (and its candidate) with a reason;
 * a run-due at work stops before its next batch of targets. */
int rollout_halt(struct store *st, const char *name, const char *reason, const char *actor,
                 const struct pl_clock *clock, struct pl_err *err);

/* Resumes a halted rollout: its failed or rolled-back targets of the wave
 * that halted go back to pending, and the rollout to running (scheduled
 * when no wave had started); the next run-due takes it on. */
int rollout_resume(struct store *st, const char *name, const char *actor,
                   const struct pl_clock *clock, struct pl_err *err);

/* ---- executing what is due (rundue.c, exec_libvirt.c) --------------------- */

struct rollout_run_opts {
	const struct pl_clock *clock;
	const struct pl_progress *progress;
	unsigned jobs;             /* targets of a wave at once; 0: 2 */
	const char *only;          /* only this rollout; NULL: every one */
	volatile int *interrupted; /* set by a signal handler: stop after the batch */
};

/*
 * For every rollout that is not halted or completed (or only o->only), under
 * a lock (the rollout's row holds this process's pid; a dead holder's lock
 * is taken over and its interrupted targets are rolled back to their
 * snapshots and made pending again): drops the snapshots of targets whose
 * wave's soak is over, then executes the first unfinished wave when its
 * window is open, its predecessor succeeded and soaked; a wave whose window
 * passed unexecuted moves to the next window (and the later waves after
 * it). Pending targets only: a succeeded target is never applied again.
 * After each batch of targets the wave is decided (rollout_wave_decide); a
 * halt stops the rollout and its candidate. After the wave, each target is
 * inspected again (post-deploy audit of installed versions). *report lists
 * what happened per rollout. Returns PL_EFAIL when a rollout halted or a
 * target failed in this run, 0 otherwise, another code when it could not
 * work at all.
 */
int rollout_run_due(struct store *st, const struct rollout_run_opts *o, json_t **report,
                    struct pl_err *err);

#endif
