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
};

/* Creates a handle for disk, adds it and launches the appliance. *out is
 * the caller's (PL_AUTOGUESTFS). Launch failures are PL_EENV. */
int guest_open(const char *disk, const struct guest_opts *o, guestfs_h **out, struct pl_err *err);

/* Records libguestfs's last error as PL_EENV: "what: message". */
int guest_error(guestfs_h *g, struct pl_err *err, const char *what);

/* Finds the OS root with libguestfs inspection and mounts its filesystems
 * (read-only when ro). *root is the root device, the caller's to free. */
int guest_mount_os(guestfs_h *g, int ro, char **root, struct pl_err *err);

/* Inspection facts of the mounted root as JSON: type, distro, version
 * (major.minor), product name, hostname, arch, package format. */
int guest_inspect(guestfs_h *g, const char *root, json_t **out, struct pl_err *err);

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

#endif
