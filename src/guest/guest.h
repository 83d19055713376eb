/*
 * guest.h - offline access to VM disks through libguestfs.
 *
 * Owns: creating and launching libguestfs handles (backend, TCG or KVM,
 * read-only or read-write), wrapping libguestfs errors into struct pl_err
 * with libguestfs's own message kept, and the small file operations the
 * image builder and the lab need (write, read, run a fixed command inside,
 * find the kernel and initrd pair, OS inspection).
 * Does not own: what is written (the image and lab modules decide), and it
 * never boots a guest: that is src/lab/.
 */
#ifndef PL_GUEST_H
#define PL_GUEST_H

#include <guestfs.h>

#include "core/core.h"

void guest_closep(guestfs_h **g);
#define PL_AUTOGUESTFS __attribute__((cleanup(guest_closep)))

struct guest_opts {
	int force_tcg;       /* no KVM for the appliance */
	int readonly;        /* add every disk read-only */
	const char *format;  /* "qcow2", "raw"; NULL: let libguestfs probe (never for
				untrusted images) */
	int memsize_mb;      /* appliance memory; 0: libguestfs's default */
	int smp;             /* appliance vCPUs; 0: as many as the host has, up to 2 */
	int cache_unsafe;    /* writes of a throw-away disk (a lab clone): QEMU ignores
				flushes; guest_finish still syncs before the appliance
				exits, so a completed run's data is whole */
	unsigned launch_timeout; /* seconds the appliance may take to start; 0:
				    PATCHLAB_GUESTFS_LAUNCH_TIMEOUT, else 300 */
};

/* Creates a handle for disk, adds it and launches the appliance. *out is
 * the caller's (PL_AUTOGUESTFS). Launch failures are PL_EENV. A launch
 * that fails, or does not finish within the launch timeout (its QEMU is
 * then killed), is tried once more with libguestfs's debug log kept; a
 * second failure's message ends with the appliance's last lines. */
int guest_open(const char *disk, const struct guest_opts *o, guestfs_h **out, struct pl_err *err);

/* One disk of a machine with several: its path and format (NULL: let
 * libguestfs probe, never for untrusted images). */
struct guest_disk {
	const char *path, *format;
};

/* Like guest_open for the n disks of one machine, added in order (the
 * first is /dev/sda); each has its own format, o->format is not used. */
int guest_open_disks(const struct guest_disk *disks, size_t n, const struct guest_opts *o,
                     guestfs_h **out, struct pl_err *err);

/* Records libguestfs's last error as PL_EENV: "what: message". */
int guest_error(guestfs_h *g, struct pl_err *err, const char *what);

/* Finds the OS root with libguestfs inspection and mounts its filesystems
 * (read-only when ro). *root is the root device, the caller's to free. */
int guest_mount_os(guestfs_h *g, int ro, char **root, struct pl_err *err);

/* Mounts a disk whose root filesystem UUID is known (a registered image)
 * without libguestfs's OS inspection, which costs seconds under TCG: the
 * root by UUID, then the other local filesystems its fstab names by UUID or
 * LABEL. Falls back to guest_mount_os() when uuid is NULL or not found. */
int guest_mount_known(guestfs_h *g, const char *uuid, int ro, char **root, struct pl_err *err);

/* Inspection facts of the mounted root as JSON: type, distro, version
 * (major.minor), product name, hostname, arch, package format. */
int guest_inspect(guestfs_h *g, const char *root, json_t **out, struct pl_err *err);

/* The applications libguestfs's inspection finds under the mounted root
 * (the rpm database, Windows' registry, ...) as a JSON array of {name,
 * epoch, version, release, arch}. For dpkg guests read /var/lib/dpkg/status
 * with src/pkgdb instead: libguestfs splits Debian versions at the wrong
 * '-' and drops source versions. */
int guest_applications(guestfs_h *g, const char *root, json_t **out, struct pl_err *err);

/* Writes data to path inside the guest and sets its mode. */
int guest_write(guestfs_h *g, const char *path, const char *data, size_t len, int mode,
		struct pl_err *err);
/* Reads a whole guest file (NUL-terminated); *out is the caller's. */
int guest_read(guestfs_h *g, const char *path, char **out, size_t *len, struct pl_err *err);

/* Runs a fixed shell command inside the guest's root (guestfs_sh). Never
 * pass user data in cmd. Output (stdout) into *out if not NULL. */
int guest_sh(guestfs_h *g, const char *cmd, char **out, struct pl_err *err);

/* The newest kernel in /boot that has an initrd of the same version, as
 * guest paths and the version string; each the caller's to free. */
int guest_kernel_pair(guestfs_h *g, char **version, char **vmlinuz, char **initrd,
		      struct pl_err *err);

/* Copies a guest file to a local path. */
int guest_download(guestfs_h *g, const char *remote, const char *local, struct pl_err *err);

/* Unmounts everything, syncs and shuts the appliance down cleanly (a
 * qcow2 written without this may lose data). */
int guest_finish(guestfs_h *g, struct pl_err *err);

/* ---- checks ------------------------------------------------------------ */

/* Appends a check result {stage, name, status, detail, evidence} to checks.
 * status is "pass", "fail", "error" or "skip"; evidence a file or NULL. */
void guest_check_add(json_t *checks, const char *stage, const char *name, const char *status,
		     const char *evidence, const char *fmt, ...) PL_PRINTF(6, 7);

/* ---- applying patches offline ------------------------------------------- */

/* One package the candidate must leave installed at this version. */
struct guest_expect {
	const char *package, *version, *arch;
};

struct guest_apply {
	const char *disk;                   /* the clone (qcow2 overlay), opened rw */
	const char *root_uuid;              /* the image's root filesystem, if known */
	int force_tcg;
	char *const *debs;                  /* local .deb files */
	size_t ndebs;
	const struct guest_expect *expect;  /* nexpect entries */
	size_t nexpect;
	const char *evidence_dir;           /* dpkg output and the like go here */
	uint64_t min_free_bytes;            /* free space left on / */
	const char *agent_script, *agent_unit, *agent_config; /* injected when set */
	const char *kernel_dir;             /* extract the patched kernel pair here */
	int lab_clone;                      /* a throw-away lab clone: no flushes (unsafe
					       cache and dpkg io), ssh host keys made on
					       the host; never for a production disk */
	int skip_installed;                 /* every package at its version already: no
					       dpkg; also reports the versions before */
};

/* What the apply stage learnt, for the boot that follows (owned strings). */
struct guest_applied {
	char *kernel_version, *kernel, *initrd; /* local copies, in kernel_dir */
	char *root_uuid;
	json_t *before;  /* with skip_installed: {package: installed version or
			    null} before dpkg ran; else NULL */
	int already;     /* skip_installed and nothing to do: dpkg never ran */
};
void guest_applied_clear(struct guest_applied *a);

/* Installs the .debs into the clone with dpkg, services kept from starting,
 * then checks the result offline (versions, dpkg --audit, kernels, fstab,
 * free space) and injects the smoke agent. Failed checks are recorded in
 * checks and are not errors; a negative return is an internal error (the
 * caller fails closed). */
int guest_apply_patches(const struct guest_apply *a, json_t *checks, struct guest_applied *out,
			struct pl_err *err);

/* The installed versions of the expected packages on disk (opened
 * read-only in format), as {package: {"version": V or null, "status": dpkg's
 * state word}}; *out is the caller's. For re-inspecting a machine after a
 * change (a rollout's post-deploy audit). */
int guest_read_versions(const char *disk, const char *format, const char *root_uuid,
			int force_tcg, const struct guest_expect *expect, size_t nexpect,
			json_t **out, struct pl_err *err);

/* After the clone's boot: reads the agent's result, the journal's errors
 * and the package versions, read-only, into checks; evidence files go to
 * evidence_dir. A missing agent result is a failed check. */
int guest_collect(const char *disk, const char *root_uuid, int force_tcg,
		  const struct guest_expect *expect,
		  size_t nexpect, const char *evidence_dir, json_t *checks, json_t **agent,
		  struct pl_err *err);

#endif
