/* facts.c - what an image holds, read offline with libguestfs. */
#include "image-private.h"

#include "guest/guest.h"
#include "pkgdb/pkgdb.h"

static int facts_packages(guestfs_h *g, json_t *facts, struct pl_err *err)
{
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	PL_AUTOFREE char *status = NULL;
	json_t *arr;
	size_t len;

	/* libguestfs's own application list splits versions at the wrong '-'
	 * and drops source versions: read dpkg's database ourselves. */
	if (guest_read(g, "/var/lib/dpkg/status", &status, &len, err) < 0)
		return err->code;
	if (pkgdb_dpkg_status_parse(status, len, "/var/lib/dpkg/status", &l, err) < 0)
		return err->code;
	arr = json_array();
	for (size_t i = 0; i < l.n; i++) {
		const struct pkgdb_pkg *p = &l.pkgs[i];

		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", p->name, "arch",
				       p->arch ? p->arch : "", "version", p->version ? p->version : "",
				       "source", p->source ? p->source : p->name, "source_version",
				       p->source_version ? p->source_version : "",
				       "status", pkgdb_state_name(p->state)));
	}
	pkgdb_pkglist_free(&l);
	json_object_set_new(facts, "packages", arr);
	return 0;
}

static int facts_kernel(guestfs_h *g, const char *dir, json_t *facts, struct pl_err *err)
{
	PL_AUTOFREE char *ver = NULL, *vmlinuz = NULL, *initrd = NULL;
	PL_AUTOFREE char *lk = pl_path_join(dir, "vmlinuz");
	PL_AUTOFREE char *li = pl_path_join(dir, "initrd.img");

	if (guest_kernel_pair(g, &ver, &vmlinuz, &initrd, err) < 0)
		return err->code;
	if (guest_download(g, vmlinuz, lk, err) < 0 || guest_download(g, initrd, li, err) < 0)
		return err->code;
	json_object_set_new(facts, "kernel_version", json_string(ver));
	/* relative to the image's cache directory, which a build renames */
	json_object_set_new(facts, "kernel_file", json_string("vmlinuz"));
	json_object_set_new(facts, "initrd_file", json_string("initrd.img"));
	return 0;
}

int image_read_facts(guestfs_h *g, const char *dir, json_t **facts, struct pl_err *err)
{
	PL_AUTOFREE char *root = NULL;
	PL_AUTOJSON json_t *f = NULL;
	json_t *insp = NULL;
	char *uuid;

	if (guest_mount_os(g, 1, &root, err) < 0 || guest_inspect(g, root, &insp, err) < 0)
		return err->code;
	f = json_object();
	json_object_set_new(f, "inspection", insp);
	uuid = guestfs_vfs_uuid(g, root);
	if (uuid && *uuid)
		json_object_set_new(f, "root_uuid", json_string(uuid));
	free(uuid);
	json_object_set_new(f, "boot_marker",
			    json_boolean(guestfs_is_file(g, "/usr/local/sbin/patchlab-ready") > 0));
	if (json_string_value(json_object_get(insp, "package_format")) &&
	    strcmp(json_string_value(json_object_get(insp, "package_format")), "deb") == 0 &&
	    facts_packages(g, f, err) < 0)
		return err->code;
	if (facts_kernel(g, dir, f, err) < 0)
		return err->code;
	*facts = PL_STEAL(f);
	return 0;
}
