/* lab-private.h - internals shared by the files of src/lab/. */
#ifndef PL_LAB_PRIVATE_H
#define PL_LAB_PRIVATE_H

#include "lab.h"

/* The virtual size of a qcow2 (from its header) or raw image. */
int lab_disk_virtual_size(const char *path, const char *format, uint64_t *out,
			  struct pl_err *err);

/* The state's storage pool, defined and started when missing. */
int lab_pool_ensure(struct store *st, virConnectPtr conn, virStoragePoolPtr *out,
		    struct pl_err *err);

/* A qcow2 overlay volume backed by the image, tracked by the run; *path
 * is its file (caller frees). */
int lab_clone_volume(struct lab_run *run, virStoragePoolPtr pool, const struct image *im,
		     const char *vm, char **path, struct pl_err *err);

/* Creates the run's isolated network (with a TFTP root when tftp_root is
 * set) for the given VM MACs; the chosen /24 goes to *prefix ("10.231.7"). */
int lab_network_create(struct lab_run *run, const struct lab_def *def, const char *tftp_root,
		       const char *const *macs, size_t nmacs, char **name, struct pl_err *err);

/* Fills a TFTP root with pxelinux, the kernel and initrd and one
 * pxelinux.cfg per MAC that boots them with cmdline. */
int lab_tftp_prepare(const char *root, const char *kernel, const char *initrd,
		     const char *cmdline, const char *const *macs, size_t nmacs,
		     struct pl_err *err);

#endif
