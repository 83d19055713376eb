/* manifest.c - images/NAME.json: what a golden image is made of. */
#include "image.h"

#include <ctype.h>

static const char *const manifest_keys[] = {
	"name", "description", "os", "release", "suite", "architecture", "disk_size", "kernel",
	"packages", "hostname", "recipe", NULL};
static const char *const recipe_keys[] = {"type", "variant", "mirror", "components",
					  "initramfs", NULL};

void image_manifest_free(struct image_manifest *m)
{
	json_decref(m->json);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* Image names become file and libvirt object names: keep them tame. */
static int manifest_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 48 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Debian package names (policy 5.6.1), so nothing odd reaches debootstrap. */
static int manifest_pkg_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.") == n;
}

static int manifest_strings(const struct pl_jdoc *d, json_t *arr, const char *key,
			    int (*ok)(const char *), const char *what)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		char path[64];

		snprintf(path, sizeof(path), "$.%s[%zu]", key, i);
		if (!json_is_string(v) || !ok(json_string_value(v)))
			return pl_json_error(d, path, NULL, "expected %s", what);
	}
	return 0;
}

static int manifest_component_ok(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz-/") == strlen(s);
}

static int manifest_recipe(const struct pl_jdoc *d, struct image_manifest *m)
{
	json_t *r = NULL;
	int initramfs = 0, variant = 0;
	static const char *const initramfs_modes[] = {"small", "default", NULL};

	if (pl_json_get_object(d, m->json, "$", "recipe", PL_J_REQUIRED, &r) < 0 ||
	    pl_json_check_keys(d, r, "$.recipe", recipe_keys) < 0)
		return PL_EINVAL;
	{
		int type = 0;

		if (pl_json_get_enum(d, r, "$.recipe", "type", PL_J_REQUIRED,
				     (const char *const[]){"debootstrap", NULL}, &type) < 0)
			return PL_EINVAL;
	}
	m->variant = "minbase";
	m->mirror = "apt-sources";
	if (pl_json_get_enum(d, r, "$.recipe", "variant", PL_J_OPTIONAL,
			     (const char *const[]){"minbase", "buildd", "fakechroot", NULL},
			     &variant) < 0 ||
	    pl_json_get_str(d, r, "$.recipe", "variant", PL_J_OPTIONAL, &m->variant) < 0 ||
	    pl_json_get_str(d, r, "$.recipe", "mirror", PL_J_OPTIONAL, &m->mirror) < 0)
		return PL_EINVAL;
	if (strcmp(m->mirror, "apt-sources") != 0 && strncmp(m->mirror, "http://", 7) != 0 &&
	    strncmp(m->mirror, "https://", 8) != 0 && strncmp(m->mirror, "file://", 7) != 0)
		return pl_json_error(d, "$.recipe", "mirror",
				     "expected \"apt-sources\" or an http(s):// or file:// URL");
	if (pl_json_get_enum(d, r, "$.recipe", "initramfs", PL_J_OPTIONAL, initramfs_modes,
			     &initramfs) < 0)
		return PL_EINVAL;
	m->initramfs = initramfs_modes[initramfs];
	m->components = NULL;
	if (pl_json_get_array(d, r, "$.recipe", "components", PL_J_OPTIONAL, &m->components) < 0)
		return PL_EINVAL;
	if (m->components &&
	    manifest_strings(d, m->components, "recipe.components", manifest_component_ok,
			     "a component name such as \"main\"") < 0)
		return PL_EINVAL;
	return 0;
}

int image_manifest_load(const char *path, struct image_manifest *m, struct pl_err *err)
{
	struct pl_jdoc d = {path, err};
	PL_AUTOFREE char *bytes = NULL;
	const char *size = NULL;
	struct pl_sha256 h;
	size_t len;

	memset(m, 0, sizeof(*m));
	if (pl_file_read(path, &bytes, &len, err) < 0)
		return err->code;
	pl_sha256_init(&h);
	pl_sha256_update(&h, bytes, len);
	pl_sha256_hex(&h, m->sha256);
	if (pl_json_load_file(path, &m->json, err) < 0)
		return err->code;
	m->path = pl_strdup(path);
	m->arch = "amd64";
	m->kernel = "linux-image-amd64";
	m->hostname = "patchlab-golden";
	if (pl_json_check_keys(&d, m->json, "$", manifest_keys) < 0 ||
	    pl_json_get_str(&d, m->json, "$", "name", PL_J_REQUIRED, &m->name) < 0 ||
	    pl_json_get_str(&d, m->json, "$", "os", PL_J_REQUIRED, &m->os) < 0 ||
	    pl_json_get_str(&d, m->json, "$", "release", PL_J_REQUIRED, &m->release) < 0 ||
	    pl_json_get_str(&d, m->json, "$", "suite", PL_J_REQUIRED, &m->suite) < 0 ||
	    pl_json_get_str(&d, m->json, "$", "architecture", PL_J_OPTIONAL, &m->arch) < 0 ||
	    pl_json_get_str(&d, m->json, "$", "kernel", PL_J_OPTIONAL, &m->kernel) < 0 ||
	    pl_json_get_str(&d, m->json, "$", "hostname", PL_J_OPTIONAL, &m->hostname) < 0 ||
	    pl_json_get_str(&d, m->json, "$", "disk_size", PL_J_REQUIRED, &size) < 0 ||
	    pl_json_get_array(&d, m->json, "$", "packages", PL_J_REQUIRED, &m->packages) < 0)
		goto fail;
	if (!manifest_name_ok(m->name)) {
		pl_json_error(&d, "$", "name", "'%s' must be 1-48 letters, digits, '.', '_' or '-'",
			      m->name);
		goto fail;
	}
	if (strcmp(m->os, "debian") != 0) {
		pl_json_error(&d, "$", "os", "'%s' is not supported (debian)", m->os);
		goto fail;
	}
	if (strcmp(m->arch, "amd64") != 0) {
		pl_json_error(&d, "$", "architecture", "'%s' is not supported (amd64)", m->arch);
		goto fail;
	}
	if (!manifest_pkg_ok(m->suite) || !manifest_pkg_ok(m->kernel)) {
		pl_json_error(&d, "$", !manifest_pkg_ok(m->suite) ? "suite" : "kernel",
			      "not a valid name");
		goto fail;
	}
	if (!manifest_name_ok(m->hostname) || strchr(m->hostname, '_')) {
		pl_json_error(&d, "$", "hostname", "'%s' is not a valid host name", m->hostname);
		goto fail;
	}
	if (pl_parse_size(size, &m->disk_size, "disk_size", err) < 0 ||
	    m->disk_size < (1ULL << 30) || m->disk_size > (1ULL << 41)) {
		pl_json_error(&d, "$", "disk_size", "'%s' must be a size from 1G to 2T", size);
		goto fail;
	}
	if (manifest_strings(&d, m->packages, "packages", manifest_pkg_ok,
			     "a Debian package name") < 0 ||
	    manifest_recipe(&d, m) < 0)
		goto fail;
	return 0;
fail:
	image_manifest_free(m);
	return err->code ? err->code : PL_EINVAL;
}
