/*
 * lab.h - the isolated lab on libvirt.
 *
 * Owns: lab definitions (labs/NAME.json: network, VMs, timeouts, smoke
 * checks), the accelerator choice (KVM when it really works, else TCG), the
 * libvirt connection, the XML of pools, volumes, networks and domains
 * (written with libxml2's xmlwriter, so every value is escaped), lab runs
 * and every libvirt object they create (recorded before it is created,
 * removed when the run ends, fails or is interrupted; 'lab gc' removes what
 * a killed run left), and booting a clone by PXE, direct kernel or disk.
 * Does not own: golden images (src/image/), offline disk access
 * (src/guest/), verdicts (src/gate/, later).
 */
#ifndef PL_LAB_H
#define PL_LAB_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "core/core.h"
#include "candidate/candidate.h"
#include "image/image.h"
#include "store/store.h"

#define LAB_DEFAULT_URI "qemu:///system"
/* libvirt metadata namespace of every object a run creates. */
#define LAB_XMLNS "https://patchlab.invalid/xmlns/lab/1"
#define LAB_XMLNS_PREFIX "patchlab"

enum lab_boot { LAB_BOOT_PXE, LAB_BOOT_KERNEL, LAB_BOOT_DISK };
enum lab_accel { LAB_ACCEL_AUTO, LAB_ACCEL_KVM, LAB_ACCEL_TCG };

/* ---- lab definitions ---------------------------------------------------- */

struct lab_vm {
	char *name;     /* unique in the lab; [a-z0-9-], at most 20 */
	char *image;    /* image name; NULL: the one the command names */
	unsigned memory_mib, vcpus;
	enum lab_boot boot;
	int boot_set;   /* boot given in the file (else the command's default) */
};

struct lab_command {
	char *name, *run;
	int expect_exit;
	unsigned timeout;
};

struct lab_def {
	char *file;      /* where it was read, "(built-in)" for the default */
	char *name;
	char *subnet;    /* "auto" or a.b.c.0/24 */
	int pxe;         /* the network serves PXE (TFTP + bootp) */
	struct lab_vm *vms;
	size_t nvms;
	unsigned boot_timeout, shutdown_timeout; /* seconds */
	char **services; /* required units; NULL-terminated */
	long *ports;     /* listening TCP ports, nports of them */
	size_t nports;
	char **files;    /* files that must exist; NULL-terminated */
	struct lab_command *commands;
	size_t ncommands;
};

/* Loads and validates a lab file; errors name the file and JSON path. */
int lab_def_load(const char *path, struct lab_def *out, struct pl_err *err);
/* The built-in lab: one VM, 1 GiB, 1 vCPU, PXE-capable network, sshd. */
int lab_def_default(struct lab_def *out, struct pl_err *err);
/* Parses a lab definition from JSON text (file names it in errors). */
int lab_def_parse(const char *text, const char *file, struct lab_def *out, struct pl_err *err);
void lab_def_free(struct lab_def *d);

/* The smoke agent's configuration (src/guest/agent.sh) for def's smoke
 * checks and boot timeout, one directive a line; the caller frees it. */
char *lab_agent_config(const struct lab_def *def);

/* "pxe", "kernel", "disk" <-> enum lab_boot */
int lab_boot_parse(const char *s, enum lab_boot *out);
const char *lab_boot_name(enum lab_boot b);

/* ---- accelerator -------------------------------------------------------- */

/* "auto", "kvm", "tcg" <-> enum lab_accel. */
int lab_accel_parse(const char *s, enum lab_accel *out, struct pl_err *err);
const char *lab_accel_name(enum lab_accel a);

/* Resolves want (AUTO by default; $PATCHLAB_ACCEL overrides AUTO) to KVM or
 * TCG. AUTO picks KVM only when /dev/kvm opens and a probe kernel boots
 * under it within seconds (on hosts with broken nested KVM, QEMU aborts or
 * the guest hangs). st (may be NULL) caches the probe's answer. Forcing
 * KVM where /dev/kvm is missing is PL_EENV. *why says how it was chosen. */
int lab_accel_resolve(enum lab_accel want, struct store *st, enum lab_accel *out, char **why,
		      struct pl_err *err);

/* ---- libvirt connection ------------------------------------------------- */

void lab_conn_closep(virConnectPtr *c);
#define PL_AUTOVIRCONN __attribute__((cleanup(lab_conn_closep)))

/* The connection URI: uri if set, else $PATCHLAB_LIBVIRT_URI, else the
 * default. Caller frees. */
char *lab_uri(const char *uri);
/* Opens uri read-write; a daemon that does not answer is PL_EENV with
 * libvirt's message and a hint (scripts/libvirt-lab start). */
int lab_connect(const char *uri, virConnectPtr *out, struct pl_err *err);
/* Records libvirt's last error as PL_EENV: "what: message". */
int lab_virt_error(struct pl_err *err, const char *what);

/* ---- XML --------------------------------------------------------------- */

/* QEMU's minimal firmware, used for kernel boots when installed
 * (PATCHLAB_LAB_FIRMWARE=seabios keeps SeaBIOS). */
#define LAB_QBOOT_ROM "/usr/share/qemu/qboot.rom"

struct lab_domain_spec {
	const char *name, *run_id, *vm;
	const char *virt_type; /* "kvm" or "qemu" */
	unsigned memory_mib, vcpus;
	enum lab_boot boot;
	const char *kernel, *initrd, *cmdline; /* kernel boot only */
	const char *firmware;                  /* a ROM instead of SeaBIOS, or NULL */
	const char *disk_path, *disk_format;
	const char *network, *mac;
	const char *console_log;
};

struct lab_host {
	const char *mac, *ip, *name;
};

struct lab_network_spec {
	const char *name, *bridge, *run_id;
	const char *address, *netmask, *dhcp_start, *dhcp_end;
	const char *tftp_root; /* NULL: no PXE */
	const char *bootp_file;
	const struct lab_host *hosts;
	size_t nhosts;
};

struct lab_volume_spec {
	const char *name;
	uint64_t capacity;
	const char *backing_path, *backing_format;
};

struct lab_pool_spec {
	const char *name, *path;
};

/* Each returns a new XML document (caller frees) or NULL on a writer error. */
char *lab_xml_domain(const struct lab_domain_spec *s);
char *lab_xml_network(const struct lab_network_spec *s);
char *lab_xml_volume(const struct lab_volume_spec *s);
char *lab_xml_pool(const struct lab_pool_spec *s);

/* ---- runs --------------------------------------------------------------- */

/* One lab run: its id names and tags every object it creates. */
struct lab_run {
	char id[9];
	char *dir; /* STATE/runs/ID (owned): console logs, TFTP root, evidence */
	char *uri; /* the connection's URI (owned), to reconnect for cleanup */
	struct store *st;
	virConnectPtr conn;
	int keep;  /* leave the objects for debugging */
};

/* Starts a run of kind ("boot", ...) in the store: an id, its directory, its
 * row with this process's pid (so 'lab gc' can tell a dead run). */
int lab_run_begin(struct store *st, virConnectPtr conn, const char *kind, long image_id,
		  struct lab_run *run, struct pl_err *err);
/* Records an object before it is created, so no crash leaves one unknown. */
int lab_run_track(struct lab_run *run, const char *kind, const char *name, struct pl_err *err);
/* Removes the run's objects (unless keep), stores state and result
 * (borrowed), and frees the run. Cleanup problems are logged, not fatal. */
int lab_run_end(struct lab_run *run, const char *state, json_t *result, struct pl_err *err);

struct lab_gc_report {
	unsigned runs, domains, networks, volumes;
};
/* Removes every object of runs whose controlling process is gone and marks
 * those runs aborted; with all, also patchlab objects no run here knows. */
int lab_gc(struct store *st, virConnectPtr conn, int all, struct lab_gc_report *rep,
	   struct pl_err *err);

/* ---- booting ------------------------------------------------------------ */

struct lab_boot_opts {
	const char *uri;
	enum lab_accel accel;
	enum lab_boot boot;
	int boot_set;  /* boot given on the command line: overrides the lab file */
	int keep;
	const struct pl_progress *progress;
	volatile int *interrupted; /* set by a signal handler: stop and clean up */
};

/* Clones image into the lab (an overlay volume), boots the first VM of def
 * by opts->boot, waits until the guest reports it is up, and tears down.
 * *result is a JSON report (boot time, console path and excerpt, stages).
 * A guest that never comes up is PL_EFAIL with the console log path. */
int lab_boot(struct store *st, const struct image *image, const struct lab_def *def,
	     const struct lab_boot_opts *opts, json_t **result, struct pl_err *err);

/* ---- candidate runs ------------------------------------------------------ */

struct candidate;
struct gate_policy;

struct lab_cand_opts {
	const char *uri;
	enum lab_accel accel;
	enum lab_boot boot;
	int boot_set;
	int keep;
	const struct gate_policy *policy;
	const struct pl_progress *progress;
	volatile int *interrupted;
};

/* Tests candidate c (or only the packages named in subset, for bisect) on
 * a clone of im: apply with dpkg and check offline, boot with the smoke
 * agent, inspect, and judge with the policy. Checks, verdict and evidence
 * (STATE/runs/ID) are stored; without a subset the candidate's state
 * becomes passed or failed. Returns 0 on pass, PL_EFAIL on fail, another
 * negative code when the run itself broke (stored as verdict "error", and
 * the candidate failed: never a pass). *result is the run's report. */
int lab_run_candidate(struct store *st, struct candidate *c, const struct image *im,
		      const struct lab_def *def, const struct lab_cand_opts *o,
		      const char *const *subset, json_t **result, struct pl_err *err);

/* Finds the patch or patches that make failed candidate c fail with as few
 * lab runs as it can (see bisect.c); *result names the culprits and lists
 * every run with its subset and verdict. */
int lab_bisect(struct store *st, struct candidate *c, const struct image *im,
	       const struct lab_def *def, const struct lab_cand_opts *o, json_t **result,
	       struct pl_err *err);

/* Every lab run of candidate candidate_id, oldest first, as a JSON array of
 * {run, state, verdict, subset, started_at, ended_at, image, checks: [{vm,
 * stage, name, status, detail, evidence}], and from the stored result when
 * present: stages [{stage, seconds, ok}], evidence_dir, console_log, boot,
 * reasons}; *out is the caller's. */
int lab_candidate_runs(struct store *st, long candidate_id, json_t **out, struct pl_err *err);

#endif
