/* image-private.h - internals shared by the files of src/image/. */
#ifndef PL_IMAGE_PRIVATE_H
#define PL_IMAGE_PRIVATE_H

#include <guestfs.h>

#include "image.h"

/* One build in progress; paths are owned. */
struct image_build {
	const struct image_manifest *m;
	const struct image_opts *o;
	char *dir_tmp;   /* the build's private directory in the cache */
	char *rootdir;   /* debootstrap target, inside dir_tmp */
	char *tarball;   /* the packed tree, inside dir_tmp */
	char *disk_tmp;  /* the qcow2 being made, inside dir_tmp */
	char *log;       /* build log, beside the final directory */
	char *root_uuid; /* from libguestfs (free()) */
	json_t *facts;   /* what image_read_facts found (owned) */
};

/* Runs debootstrap, packing and the libguestfs stages into b->dir_tmp. */
int image_build_into(struct image_build *b, struct pl_err *err);

/* The mirror the manifest names, or the system's apt mirror for its suite. */
int image_mirror(const struct image_manifest *m, char **out, struct pl_err *err);

/* Appends a command and its output to the build log. */
void build_log_append(struct image_build *b, const char *cmd, const char *out);

/* Inspects a launched, unmounted disk: OS facts, dpkg packages, the kernel
 * and initrd pair (copied into dir as vmlinuz and initrd.img), root UUID,
 * boot marker. *facts is a new JSON object. */
int image_read_facts(guestfs_h *g, const char *dir, json_t **facts, struct pl_err *err);

/* Registers (insert or replace by name) an image described by facts in one
 * transaction with its packages; dir holds its kernel and initrd copies. */
int image_register(struct store *st, const char *name, const char *origin, const char *path,
		   const char *dir, const char *manifest_path, json_t *facts, struct pl_err *err);

#endif
