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
 * set) with a fixed address per VM MAC, on the lab file's /24 or the first
 * free 10.231.N.0/24; *name is the network's name (caller frees). */
int lab_network_create(struct lab_run *run, const struct lab_def *def, const char *tftp_root,
		       const char *const *macs, size_t nmacs, char **name, struct pl_err *err);

/* Fills a TFTP root with pxelinux, the kernel and initrd and one
 * pxelinux.cfg per MAC that boots them with cmdline. */
int lab_tftp_prepare(const char *root, const char *kernel, const char *initrd,
		     const char *cmdline, const char *const *macs, size_t nmacs,
		     struct pl_err *err);

/* One lab VM being cloned, booted and watched; strings owned unless
 * marked. Shared by 'lab boot' (boot.c) and candidate runs (candrun.c). */
struct boot_ctx {
	const struct pl_progress *progress;
	volatile int *interrupted;
	enum lab_accel accel;
	const struct lab_def *def;
	const struct lab_vm *vm;     /* borrowed */
	const struct image *im;      /* borrowed */
	const char *kernel, *initrd; /* borrowed: the image's, or a patched pair */
	struct lab_run run;
	char mac[18];
	char *console, *disk, *network, *tftp, *cmdline, *domain;
	double t_start;
	json_t *stages;
};

/* Runs one stage with progress and records its timing in b->stages. */
#define BOOT_STAGE(b, name, call, ...)                                                       \
	__extension__({                                                                      \
		double t0_ = pl_progress_begin((b)->progress, name, __VA_ARGS__);           \
		int rc_ = (call);                                                            \
		double s_ = pl_progress_end((b)->progress, name, rc_, t0_);                  \
		json_array_append_new((b)->stages, json_pack("{s:s, s:f, s:b}", "stage", name, \
							     "seconds", s_, "ok", rc_ == 0)); \
		rc_;                                                                         \
	})

/* Names, MAC, console path and kernel command line for vm in b->run. */
void boot_ctx_names(struct boot_ctx *b, const struct lab_vm *vm, const char *kernel,
		    const char *initrd, const char *root_uuid);
/* Boots a patched kernel pair instead of the image's. */
void boot_ctx_set_kernel(struct boot_ctx *b, const char *kernel, const char *initrd,
			 const char *root_uuid);
void boot_ctx_free(struct boot_ctx *b);
int boot_storage(struct boot_ctx *b, struct pl_err *err);
int boot_network(struct boot_ctx *b, enum lab_boot mode, struct pl_err *err);
int boot_domain(struct boot_ctx *b, enum lab_boot mode, const char *virt_type,
		struct pl_err *err);
int boot_domain_running(struct boot_ctx *b);
/* Waits for the boot marker (or a login prompt). */
int boot_wait(struct boot_ctx *b, json_t *result, struct pl_err *err);
char *boot_console_tail(const char *path, int lines);

#endif
