/* guest.c - libguestfs handles and file operations. */
#include "guest.h"

#include "version/version.h"

void guest_closep(guestfs_h **g)
{
	if (*g)
		guestfs_close(*g);
	*g = NULL;
}

int guest_error(guestfs_h *g, struct pl_err *err, const char *what)
{
	const char *m = g ? guestfs_last_error(g) : NULL;

	return pl_error(err, PL_EENV, "%s: %s", what, m ? m : "libguestfs failed");
}

static int guest_configure(guestfs_h *g, const struct guest_opts *o, struct pl_err *err)
{
	char *tcg[] = {(char *)"force_tcg", NULL};

	/* The direct backend: there is no libvirtd for libguestfs to talk to
	 * outside the lab namespace, and it starts faster. */
	if (guestfs_set_backend(g, "direct") < 0)
		return guest_error(g, err, "libguestfs backend");
	if (o && o->force_tcg && guestfs_set_backend_settings(g, tcg) < 0)
		return guest_error(g, err, "libguestfs force_tcg");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int smp = o && o->smp > 0 ? o->smp : cpus >= 2 ? 2 : 1;

	if (o && o->memsize_mb > 0 && guestfs_set_memsize(g, o->memsize_mb) < 0)
		return guest_error(g, err, "libguestfs memsize");
	/* two vCPUs nearly halve tar-in and dpkg under TCG */
	if (guestfs_set_smp(g, smp) < 0)
		return guest_error(g, err, "libguestfs smp");
	return 0;
}

int guest_open(const char *disk, const struct guest_opts *o, guestfs_h **out, struct pl_err *err)
{
	PL_AUTOGUESTFS guestfs_h *g = guestfs_create_flags(GUESTFS_CREATE_NO_ENVIRONMENT);
	int rc;

	if (!g)
		return pl_error(err, PL_EENV, "cannot create a libguestfs handle");
	/* Errors come back through guestfs_last_error; nothing prints. */
	guestfs_set_error_handler(g, NULL, NULL);
	if (guestfs_parse_environment(g) < 0 || guest_configure(g, o, err) < 0)
		return err->code ? err->code : guest_error(g, err, "libguestfs environment");
	const char *cache = o && o->cache_unsafe ? "unsafe" : "writeback";

	if (o && o->format)
		rc = guestfs_add_drive_opts(g, disk, GUESTFS_ADD_DRIVE_OPTS_FORMAT, o->format,
					    GUESTFS_ADD_DRIVE_OPTS_READONLY, o->readonly,
					    GUESTFS_ADD_DRIVE_OPTS_CACHEMODE, cache, -1);
	else
		rc = guestfs_add_drive_opts(g, disk, GUESTFS_ADD_DRIVE_OPTS_READONLY,
					    o && o->readonly, GUESTFS_ADD_DRIVE_OPTS_CACHEMODE,
					    cache, -1);
	if (rc < 0)
		return guest_error(g, err, disk);
	if (guestfs_launch(g) < 0)
		return guest_error(g, err, "launching the libguestfs appliance");
	*out = PL_STEAL(g);
	return 0;
}

int guest_open_disks(const struct guest_disk *disks, size_t n, const struct guest_opts *o,
                     guestfs_h **out, struct pl_err *err)
{
	PL_AUTOGUESTFS guestfs_h *g = guestfs_create_flags(GUESTFS_CREATE_NO_ENVIRONMENT);
	int ro = o && o->readonly;

	if (!g)
		return pl_error(err, PL_EENV, "cannot create a libguestfs handle");
	guestfs_set_error_handler(g, NULL, NULL);
	if (guestfs_parse_environment(g) < 0 || guest_configure(g, o, err) < 0)
		return err->code ? err->code : guest_error(g, err, "libguestfs environment");
	for (size_t i = 0; i < n; i++) {
		int rc = disks[i].format
		             ? guestfs_add_drive_opts(
		                   g, disks[i].path, GUESTFS_ADD_DRIVE_OPTS_FORMAT, disks[i].format,
		                   GUESTFS_ADD_DRIVE_OPTS_READONLY, ro, -1)
		             : guestfs_add_drive_opts(g, disks[i].path,
		                                      GUESTFS_ADD_DRIVE_OPTS_READONLY, ro, -1);

		if (rc < 0)
			return guest_error(g, err, disks[i].path);
	}
	if (guestfs_launch(g) < 0)
		return guest_error(g, err, "launching the libguestfs appliance");
	*out = PL_STEAL(g);
	return 0;
}

static void guest_free_strings(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Mounts shortest mountpoint first, so /boot lands on top of /. */
static int guest_cmp_mp(const void *a, const void *b)
{
	return (int)strlen(*(char *const *)a) - (int)strlen(*(char *const *)b);
}

int guest_mount_os(guestfs_h *g, int ro, char **root, struct pl_err *err)
{
	char **roots = guestfs_inspect_os(g);
	char **mps = NULL;
	size_t n = 0;
	const char **order;
	int rc = 0;

	if (!roots)
		return guest_error(g, err, "inspecting the disk");
	if (!roots[0]) {
		guest_free_strings(roots);
		return pl_error(err, PL_EINVAL, "no operating system found on the disk");
	}
	mps = guestfs_inspect_get_mountpoints(g, roots[0]);
	if (!mps) {
		guest_free_strings(roots);
		return guest_error(g, err, "reading the guest's mountpoints");
	}
	while (mps[2 * n])
		n++;
	order = pl_calloc(n, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = mps[2 * i];
	qsort(order, n, sizeof(*order), guest_cmp_mp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *dev = NULL;

		for (size_t j = 0; j < n; j++)
			if (mps[2 * j] == order[i])
				dev = mps[2 * j + 1];
		if ((ro ? guestfs_mount_ro(g, dev, order[i]) : guestfs_mount(g, dev, order[i])) < 0)
			rc = guest_error(g, err, order[i]);
	}
	free(order);
	guest_free_strings(mps);
	if (rc == 0)
		*root = pl_strdup(roots[0]);
	guest_free_strings(roots);
	return rc;
}

/* The other local filesystems of the guest's fstab, shortest path first. */
static int guest_mount_fstab(guestfs_h *g, int ro, struct pl_err *err)
{
	char *fstab = NULL, *save = NULL, *line;
	size_t n = 0;
	int rc = 0;

	fstab = guestfs_read_file(g, "/etc/fstab", &n);
	if (!fstab)
		return 0; /* no fstab: nothing else to mount */
	for (line = strtok_r(fstab, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char src[512], mp[512], type[64];
		char *dev = NULL;

		if (line[strspn(line, " \t")] == '#' ||
		    sscanf(line, "%511s %511s %63s", src, mp, type) != 3 || mp[0] != '/' ||
		    strcmp(mp, "/") == 0 || strcmp(type, "swap") == 0 || strcmp(type, "tmpfs") == 0 ||
		    strcmp(type, "proc") == 0 || strcmp(type, "none") == 0)
			continue;
		if (strncmp(src, "UUID=", 5) == 0)
			dev = guestfs_findfs_uuid(g, src + 5);
		else if (strncmp(src, "LABEL=", 6) == 0)
			dev = guestfs_findfs_label(g, src + 6);
		if (!dev)
			continue; /* the checks report unresolvable entries */
		if ((ro ? guestfs_mount_ro(g, dev, mp) : guestfs_mount(g, dev, mp)) < 0)
			rc = guest_error(g, err, mp);
		free(dev);
	}
	free(fstab);
	return rc;
}

int guest_mount_known(guestfs_h *g, const char *uuid, int ro, char **root, struct pl_err *err)
{
	char *dev;

	if (!uuid || !*uuid)
		return guest_mount_os(g, ro, root, err);
	guestfs_push_error_handler(g, NULL, NULL);
	dev = guestfs_findfs_uuid(g, uuid);
	guestfs_pop_error_handler(g);
	if (!dev)
		return guest_mount_os(g, ro, root, err);
	if ((ro ? guestfs_mount_ro(g, dev, "/") : guestfs_mount(g, dev, "/")) < 0) {
		free(dev);
		return guest_error(g, err, "mounting the root filesystem");
	}
	*root = dev;
	return guest_mount_fstab(g, ro, err);
}

static void guest_json_str(json_t *j, const char *key, char *value)
{
	if (value && *value && strcmp(value, "unknown") != 0)
		json_object_set_new(j, key, json_string(value));
	free(value);
}

int guest_inspect(guestfs_h *g, const char *root, json_t **out, struct pl_err *err)
{
	json_t *j = json_object();
	int major = guestfs_inspect_get_major_version(g, root);
	int minor = guestfs_inspect_get_minor_version(g, root);

	guest_json_str(j, "type", guestfs_inspect_get_type(g, root));
	guest_json_str(j, "distro", guestfs_inspect_get_distro(g, root));
	guest_json_str(j, "product", guestfs_inspect_get_product_name(g, root));
	guest_json_str(j, "hostname", guestfs_inspect_get_hostname(g, root));
	guest_json_str(j, "arch", guestfs_inspect_get_arch(g, root));
	guest_json_str(j, "package_format", guestfs_inspect_get_package_format(g, root));
	guest_json_str(j, "package_management", guestfs_inspect_get_package_management(g, root));
	if (major < 0 || !json_object_get(j, "distro")) {
		json_decref(j);
		return guest_error(g, err, "inspecting the operating system");
	}
	json_object_set_new(j, "version", json_sprintf("%d.%d", major, minor));
	json_object_set_new(j, "major_version", json_integer(major));
	json_object_set_new(j, "root", json_string(root));
	*out = j;
	return 0;
}

int guest_applications(guestfs_h *g, const char *root, json_t **out, struct pl_err *err)
{
	struct guestfs_application2_list *l = guestfs_inspect_list_applications2(g, root);
	json_t *arr;

	if (!l)
		return guest_error(g, err, "listing the guest's applications");
	arr = json_array();
	for (uint32_t i = 0; i < l->len; i++) {
		const struct guestfs_application2 *a = &l->val[i];

		json_array_append_new(arr,
		                      json_pack("{s:s, s:i, s:s, s:s, s:s}", "name", a->app2_name,
		                                "epoch", a->app2_epoch, "version", a->app2_version,
		                                "release", a->app2_release, "arch", a->app2_arch));
	}
	guestfs_free_application2_list(l);
	*out = arr;
	return 0;
}

int guest_write(guestfs_h *g, const char *path, const char *data, size_t len, int mode,
		struct pl_err *err)
{
	if (guestfs_write(g, path, data, len) < 0 || guestfs_chmod(g, mode, path) < 0)
		return guest_error(g, err, path);
	return 0;
}

int guest_read(guestfs_h *g, const char *path, char **out, size_t *len, struct pl_err *err)
{
	size_t n = 0;
	char *data = guestfs_read_file(g, path, &n);
	char *s;

	if (!data)
		return guest_error(g, err, path);
	s = pl_malloc(n + 1);
	memcpy(s, data, n);
	s[n] = '\0';
	free(data);
	*out = s;
	if (len)
		*len = n;
	return 0;
}

int guest_sh(guestfs_h *g, const char *cmd, char **out, struct pl_err *err)
{
	char *o = guestfs_sh(g, cmd);

	if (!o)
		return guest_error(g, err, cmd);
	if (out)
		*out = o;
	else
		free(o);
	return 0;
}

/* Version of a /boot file name with the given prefix, or NULL. */
static const char *guest_kver(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(name, prefix, n) == 0 && name[n] ? name + n : NULL;
}

static int guest_kver_cmp(const char *a, const char *b)
{
	struct version_deb va, vb;
	const char *msg;

	/* Kernel release strings order like Debian versions (6.1.0-28-amd64). */
	if (version_deb_parse(a, strlen(a), &va, &msg) < 0 ||
	    version_deb_parse(b, strlen(b), &vb, &msg) < 0)
		return strcmp(a, b);
	return version_deb_cmp(&va, &vb);
}

int guest_kernel_pair(guestfs_h *g, char **version, char **vmlinuz, char **initrd,
		      struct pl_err *err)
{
	char **ls = guestfs_ls(g, "/boot");
	const char *best = NULL;

	if (!ls)
		return guest_error(g, err, "/boot");
	/* A kernel counts only with an initrd of the same version: virt-get-kernel
	 * picks the newest of each separately, which can mismatch. */
	for (size_t i = 0; ls[i]; i++) {
		const char *v = guest_kver(ls[i], "vmlinuz-");
		int paired = 0;

		if (!v)
			continue;
		for (size_t j = 0; ls[j]; j++) {
			const char *iv = guest_kver(ls[j], "initrd.img-");

			if (iv && strcmp(iv, v) == 0)
				paired = 1;
		}
		if (paired && (!best || guest_kver_cmp(v, best) > 0))
			best = v;
	}
	if (best) {
		*version = pl_strdup(best);
		*vmlinuz = pl_strdupf("/boot/vmlinuz-%s", best);
		*initrd = pl_strdupf("/boot/initrd.img-%s", best);
	}
	guest_free_strings(ls);
	if (!best)
		return pl_error(err, PL_EINVAL, "no kernel with a matching initrd in /boot");
	return 0;
}

int guest_download(guestfs_h *g, const char *remote, const char *local, struct pl_err *err)
{
	if (guestfs_download(g, remote, local) < 0)
		return guest_error(g, err, remote);
	return 0;
}

int guest_finish(guestfs_h *g, struct pl_err *err)
{
	if (guestfs_umount_all(g) < 0 || guestfs_sync(g) < 0 || guestfs_shutdown(g) < 0)
		return guest_error(g, err, "closing the disk");
	return 0;
}
