/*
 * clone.c - the storage pool and O(1) clones: one qcow2 overlay volume per
 * lab VM with the golden image as its backing store (never a copy).
 */
#include "lab-private.h"

#include <fcntl.h>
#include <sys/stat.h>

int lab_disk_virtual_size(const char *path, const char *format, uint64_t *out,
			  struct pl_err *err)
{
	PL_AUTOFD int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char hdr[32];
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) < 0)
		return pl_error(err, PL_ENOTFOUND, "%s: %s", path, strerror(errno));
	if (strcmp(format, "raw") == 0) {
		*out = (uint64_t)sb.st_size;
		return 0;
	}
	/* qcow2 header: magic "QFI\xfb", then the virtual size at offset 24
	 * (big-endian), the same in versions 2 and 3. */
	if (read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || memcmp(hdr, "QFI\xfb", 4) != 0)
		return pl_error(err, PL_EINVAL, "%s: not a qcow2 image", path);
	*out = 0;
	for (int i = 24; i < 32; i++)
		*out = *out << 8 | hdr[i];
	return 0;
}

/* One pool per state directory: STATE/pool, named by the state's path. */
int lab_pool_ensure(struct store *st, virConnectPtr conn, virStoragePoolPtr *out,
		    struct pl_err *err)
{
	PL_AUTOFREE char *path = pl_path_join(st->dir, "pool");
	PL_AUTOFREE char *xml = NULL;
	struct pl_sha256 h;
	char hex[65], name[32];
	virStoragePoolPtr p;

	pl_sha256_init(&h);
	pl_sha256_update(&h, st->dir, strlen(st->dir));
	pl_sha256_hex(&h, hex);
	snprintf(name, sizeof(name), "patchlab-pool-%.8s", hex);
	p = virStoragePoolLookupByName(conn, name);
	if (!p) {
		struct lab_pool_spec ps = {name, path};

		if (pl_mkdir_p(path, 0711, err) < 0)
			return err->code;
		xml = lab_xml_pool(&ps);
		p = xml ? virStoragePoolDefineXML(conn, xml, 0) : NULL;
		if (!p)
			return lab_virt_error(err, "defining the lab storage pool");
		virStoragePoolSetAutostart(p, 1);
	}
	if (virStoragePoolIsActive(p) != 1 && virStoragePoolCreate(p, 0) < 0) {
		virStoragePoolFree(p);
		return lab_virt_error(err, "starting the lab storage pool");
	}
	*out = p;
	return 0;
}

int lab_clone_volume(struct lab_run *run, virStoragePoolPtr pool, const struct image *im,
		     const char *vm, char **path, struct pl_err *err)
{
	PL_AUTOFREE char *name = pl_strdupf("patchlab-%s-%s.qcow2", run->id, vm);
	PL_AUTOFREE char *xml = NULL, *pool_xml = NULL, *pool_path = NULL;
	struct lab_volume_spec vs = {name, 0, im->path, im->format};
	virStorageVolPtr v;
	char *p;

	if (lab_disk_virtual_size(im->path, im->format, &vs.capacity, err) < 0)
		return err->code;
	/* Tracked by path before it exists: the pool's target + the name. */
	pool_xml = virStoragePoolGetXMLDesc(pool, 0);
	{
		const char *a = pool_xml ? strstr(pool_xml, "<path>") : NULL;
		const char *b = a ? strstr(a, "</path>") : NULL;

		if (!a || !b)
			return lab_virt_error(err, "reading the lab storage pool");
		pool_path = pl_strndup(a + 6, (size_t)(b - a - 6));
	}
	p = pl_path_join(pool_path, name);
	if (lab_run_track(run, "volume", p, err) < 0) {
		free(p);
		return err->code;
	}
	xml = lab_xml_volume(&vs);
	v = xml ? virStorageVolCreateXML(pool, xml, 0) : NULL;
	if (!v) {
		free(p);
		return lab_virt_error(err, "creating the overlay volume");
	}
	virStorageVolFree(v);
	*path = p;
	return 0;
}
