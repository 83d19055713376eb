/*
 * image.h - golden images: manifests, builds, imports, the image registry.
 *
 * Owns: images/NAME.json manifests (validated with file and JSON path in every
 * error), building a bootable qcow2 from a manifest (debootstrap from the
 * system's apt mirror, then libguestfs for the partitioned disk and its
 * configuration), the build cache keyed by the manifest's hash (outside any
 * clone of the repository), importing an existing image read-only, and the
 * images and image_packages tables.
 * Does not own: cloning or booting (src/lab/), libguestfs mechanics
 * (src/guest/). A golden image is never written after it is built or
 * imported: the lab only ever stacks overlays on it.
 */
#ifndef PL_IMAGE_H
#define PL_IMAGE_H

#include "core/core.h"
#include "store/store.h"

/* Bumped when the build recipe changes what a manifest produces. */
#define IMAGE_RECIPE_VERSION "patchlab-image-recipe-4"

struct image_manifest {
	json_t *json;    /* the parsed file (owned); the strings below point into it */
	char *path;      /* as given (owned) */
	char sha256[65]; /* of the file's bytes */
	const char *name, *os, *release, *suite, *arch, *kernel, *hostname;
	const char *variant, *mirror, *initramfs;
	uint64_t disk_size;
	json_t *packages;   /* array of strings (borrowed from json) */
	json_t *components; /* array of strings (borrowed from json) */
};

/* Loads and validates a manifest; errors name the file and JSON path. */
int image_manifest_load(const char *path, struct image_manifest *m, struct pl_err *err);
void image_manifest_free(struct image_manifest *m);

/* A registered image, as the registry returns it. Strings are owned. */
struct image {
	long id;
	char *name, *origin; /* origin: "built" or "imported" */
	char *path, *format, *sha256;
	int64_t size_bytes;
	char *manifest_path, *manifest_sha256;
	char *distro, *version, *arch, *hostname, *root_uuid;
	char *kernel_version, *kernel_path, *initrd_path; /* host copies; may be NULL */
	int boot_marker;   /* has patchlab's boot marker unit built in */
	long packages;     /* count of installed packages */
	char *created_at;
};
void image_clear(struct image *im);

struct image_opts {
	const char *cache_dir; /* NULL: $PATCHLAB_IMAGE_CACHE, else STATE/images */
	int force_tcg;         /* libguestfs without KVM */
	int rebuild;           /* build even when the cache holds this manifest */
	const struct pl_progress *progress;
};

/* The cache directory to use for st with o (caller frees). */
char *image_cache_dir(struct store *st, const struct image_opts *o);

/* Builds (or reuses from the cache) the image a manifest describes and
 * registers it. *reused tells which happened. */
int image_build(struct store *st, const char *manifest_path, const struct image_opts *o,
		struct image *out, int *reused, struct pl_err *err);

/* Registers an existing disk image read-only under name, after inspecting
 * it with libguestfs (its kernel and initrd are copied into the cache). */
int image_import(struct store *st, const char *file, const char *name, const struct image_opts *o,
		 struct image *out, struct pl_err *err);

/* Looks an image up by name: PL_ENOTFOUND when there is none. */
int image_get(struct store *st, const char *name, struct image *out, struct pl_err *err);

/* The registry as a JSON array of image objects (without packages). */
int image_list(struct store *st, json_t **out, struct pl_err *err);

/* One image as JSON; with packages, its installed package list too. */
json_t *image_to_json(const struct image *im);
int image_packages_json(struct store *st, long image_id, json_t **out, struct pl_err *err);

/* Inspects the image's disk now, read-only, with libguestfs. */
int image_inspect(const struct image *im, const struct image_opts *o, json_t **out,
		  struct pl_err *err);

#endif
