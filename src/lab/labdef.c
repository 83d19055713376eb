/* labdef.c - labs/NAME.json: the lab's network, VMs, timeouts and smoke checks. */
#include "lab.h"

#include <arpa/inet.h>
#include <ctype.h>

#include "lab_default.h" /* generated from labs/default.json by CMake */

static const char *const top_keys[] = {"name", "description", "network", "vms", "timeouts",
				       "smoke", NULL};
static const char *const net_keys[] = {"subnet", "pxe", NULL};
static const char *const vm_keys[] = {"name", "image", "memory", "vcpus", "boot", NULL};
static const char *const timeout_keys[] = {"boot", "shutdown", NULL};
static const char *const smoke_keys[] = {"services", "ports", "files", "commands", NULL};
static const char *const cmd_keys[] = {"name", "run", "expect_exit", "timeout", NULL};
static const char *const boot_names[] = {"pxe", "kernel", "disk", NULL};

int lab_boot_parse(const char *s, enum lab_boot *out)
{
	for (int i = 0; boot_names[i]; i++)
		if (strcmp(s, boot_names[i]) == 0) {
			*out = (enum lab_boot)i;
			return 0;
		}
	return PL_EINVAL;
}

const char *lab_boot_name(enum lab_boot b)
{
	return boot_names[b];
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void lab_def_free(struct lab_def *d)
{
	for (size_t i = 0; i < d->nvms; i++) {
		free(d->vms[i].name);
		free(d->vms[i].image);
	}
	for (size_t i = 0; i < d->ncommands; i++) {
		free(d->commands[i].name);
		free(d->commands[i].run);
	}
	free(d->vms);
	free(d->commands);
	free(d->ports);
	strv_free(d->services);
	strv_free(d->files);
	free(d->file);
	free(d->name);
	free(d->subnet);
	memset(d, 0, sizeof(*d));
}

static int vm_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 20 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* "auto" or A.B.C.0/24: one /24 per run keeps addressing trivial. */
static int subnet_ok(const char *s)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	struct in_addr a;

	if (strcmp(s, "auto") == 0)
		return 1;
	if (!slash || strcmp(slash, "/24") != 0 || (size_t)(slash - s) >= sizeof(ip))
		return 0;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	return inet_pton(AF_INET, ip, &a) == 1 && (ntohl(a.s_addr) & 0xff) == 0;
}

static int def_network(const struct pl_jdoc *d, json_t *root, struct lab_def *out)
{
	json_t *net = NULL;
	const char *subnet = "auto";

	out->pxe = 1;
	if (pl_json_get_object(d, root, "$", "network", PL_J_OPTIONAL, &net) < 0)
		return PL_EINVAL;
	if (net && (pl_json_check_keys(d, net, "$.network", net_keys) < 0 ||
		    pl_json_get_str(d, net, "$.network", "subnet", PL_J_OPTIONAL, &subnet) < 0 ||
		    pl_json_get_bool(d, net, "$.network", "pxe", PL_J_OPTIONAL, &out->pxe) < 0))
		return PL_EINVAL;
	if (!subnet_ok(subnet))
		return pl_json_error(d, "$.network", "subnet",
				     "'%s' is not \"auto\" or a /24 such as 10.231.7.0/24", subnet);
	out->subnet = pl_strdup(subnet);
	return 0;
}

static int def_vm(const struct pl_jdoc *d, json_t *v, const char *path, struct lab_vm *vm)
{
	const char *name = NULL, *image = NULL;
	long mem = 1024, cpus = 1;
	int boot = 0;

	if (pl_json_check_keys(d, v, path, vm_keys) < 0 ||
	    pl_json_get_str(d, v, path, "name", PL_J_REQUIRED, &name) < 0 ||
	    pl_json_get_str(d, v, path, "image", PL_J_OPTIONAL, &image) < 0 ||
	    pl_json_get_int(d, v, path, "memory", PL_J_OPTIONAL, 128, 262144, &mem) < 0 ||
	    pl_json_get_int(d, v, path, "vcpus", PL_J_OPTIONAL, 1, 64, &cpus) < 0 ||
	    pl_json_get_enum(d, v, path, "boot", PL_J_OPTIONAL, boot_names, &boot) < 0)
		return PL_EINVAL;
	if (!vm_name_ok(name))
		return pl_json_error(d, path, "name",
				     "'%s' must be 1-20 of a-z, 0-9 and '-', starting alphanumeric",
				     name);
	vm->name = pl_strdup(name);
	vm->image = image ? pl_strdup(image) : NULL;
	vm->memory_mib = (unsigned)mem;
	vm->vcpus = (unsigned)cpus;
	vm->boot = (enum lab_boot)boot;
	vm->boot_set = json_object_get(v, "boot") != NULL;
	return 0;
}

static int def_vms(const struct pl_jdoc *d, json_t *root, struct lab_def *out)
{
	json_t *vms = NULL, *v;
	size_t i;

	if (pl_json_get_array(d, root, "$", "vms", PL_J_REQUIRED, &vms) < 0)
		return PL_EINVAL;
	if (json_array_size(vms) == 0 || json_array_size(vms) > 64)
		return pl_json_error(d, "$", "vms", "needs 1 to 64 VMs");
	out->vms = pl_calloc(json_array_size(vms), sizeof(*out->vms));
	json_array_foreach(vms, i, v) {
		char path[32];

		snprintf(path, sizeof(path), "$.vms[%zu]", i);
		if (def_vm(d, v, path, &out->vms[i]) < 0)
			return PL_EINVAL;
		out->nvms++;
		for (size_t k = 0; k < i; k++)
			if (strcmp(out->vms[k].name, out->vms[i].name) == 0)
				return pl_json_error(d, path, "name", "'%s' is used twice",
						     out->vms[i].name);
	}
	return 0;
}

static int def_timeouts(const struct pl_jdoc *d, json_t *root, struct lab_def *out)
{
	json_t *t = NULL;
	long boot = 600, shutdown = 120;

	if (pl_json_get_object(d, root, "$", "timeouts", PL_J_OPTIONAL, &t) < 0)
		return PL_EINVAL;
	if (t && (pl_json_check_keys(d, t, "$.timeouts", timeout_keys) < 0 ||
		  pl_json_get_int(d, t, "$.timeouts", "boot", PL_J_OPTIONAL, 10, 86400, &boot) < 0 ||
		  pl_json_get_int(d, t, "$.timeouts", "shutdown", PL_J_OPTIONAL, 5, 3600,
				  &shutdown) < 0))
		return PL_EINVAL;
	out->boot_timeout = (unsigned)boot;
	out->shutdown_timeout = (unsigned)shutdown;
	return 0;
}

/* A NULL-terminated copy of an array of non-empty strings that pass ok. */
static int def_strings(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		       int (*ok)(const char *), const char *what, char ***out)
{
	json_t *arr = NULL, *v;
	size_t i;

	*out = NULL;
	if (pl_json_get_array(d, obj, path, key, PL_J_OPTIONAL, &arr) < 0)
		return PL_EINVAL;
	*out = pl_calloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v) {
		char p[96];

		snprintf(p, sizeof(p), "%s.%s[%zu]", path, key, i);
		if (!json_is_string(v) || !ok(json_string_value(v)))
			return pl_json_error(d, p, NULL, "expected %s", what);
		(*out)[i] = pl_strdup(json_string_value(v));
	}
	return 0;
}

static int unit_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 256 && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.@\\") == n;
}

static int abs_path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < 4096 && !strstr(s, "/../") && !strchr(s, '\n');
}

static int def_ports(const struct pl_jdoc *d, json_t *smoke, struct lab_def *out)
{
	json_t *arr = NULL, *v;
	size_t i;

	if (pl_json_get_array(d, smoke, "$.smoke", "ports", PL_J_OPTIONAL, &arr) < 0)
		return PL_EINVAL;
	out->ports = pl_calloc(json_array_size(arr) + 1, sizeof(long));
	json_array_foreach(arr, i, v) {
		char p[48];

		snprintf(p, sizeof(p), "$.smoke.ports[%zu]", i);
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535)
			return pl_json_error(d, p, NULL, "expected a TCP port from 1 to 65535");
		out->ports[out->nports++] = (long)json_integer_value(v);
	}
	return 0;
}

static int def_commands(const struct pl_jdoc *d, json_t *smoke, struct lab_def *out)
{
	json_t *arr = NULL, *v;
	size_t i;

	if (pl_json_get_array(d, smoke, "$.smoke", "commands", PL_J_OPTIONAL, &arr) < 0)
		return PL_EINVAL;
	out->commands = pl_calloc(json_array_size(arr) + 1, sizeof(*out->commands));
	json_array_foreach(arr, i, v) {
		struct lab_command *c = &out->commands[i];
		const char *name = NULL, *run = NULL;
		long code = 0, timeout = 60;
		char p[48];

		snprintf(p, sizeof(p), "$.smoke.commands[%zu]", i);
		if (pl_json_check_keys(d, v, p, cmd_keys) < 0 ||
		    pl_json_get_str(d, v, p, "name", PL_J_REQUIRED, &name) < 0 ||
		    pl_json_get_str(d, v, p, "run", PL_J_REQUIRED, &run) < 0 ||
		    pl_json_get_int(d, v, p, "expect_exit", PL_J_OPTIONAL, 0, 255, &code) < 0 ||
		    pl_json_get_int(d, v, p, "timeout", PL_J_OPTIONAL, 1, 3600, &timeout) < 0)
			return PL_EINVAL;
		if (!vm_name_ok(name))
			return pl_json_error(d, p, "name", "'%s' must be 1-20 of a-z, 0-9 and '-'",
					     name);
		if (strpbrk(run, "\n\r"))
			return pl_json_error(d, p, "run", "must be one line");
		c->name = pl_strdup(name);
		c->run = pl_strdup(run);
		c->expect_exit = (int)code;
		c->timeout = (unsigned)timeout;
		out->ncommands++;
	}
	return 0;
}

static int def_smoke(const struct pl_jdoc *d, json_t *root, struct lab_def *out)
{
	json_t *smoke = NULL;
	json_t *empty = json_object();
	int rc;

	if (pl_json_get_object(d, root, "$", "smoke", PL_J_OPTIONAL, &smoke) < 0) {
		json_decref(empty);
		return PL_EINVAL;
	}
	if (!smoke)
		smoke = empty;
	rc = pl_json_check_keys(d, smoke, "$.smoke", smoke_keys);
	if (rc == 0)
		rc = def_strings(d, smoke, "$.smoke", "services", unit_ok, "a systemd unit name",
				 &out->services);
	if (rc == 0)
		rc = def_strings(d, smoke, "$.smoke", "files", abs_path_ok, "an absolute path",
				 &out->files);
	if (rc == 0)
		rc = def_ports(d, smoke, out);
	if (rc == 0)
		rc = def_commands(d, smoke, out);
	json_decref(empty);
	return rc;
}

static int def_from_json(json_t *root, const char *file, struct lab_def *out, struct pl_err *err)
{
	struct pl_jdoc d = {file, err};
	const char *name = NULL, *desc = NULL;

	memset(out, 0, sizeof(*out));
	out->file = pl_strdup(file);
	if (pl_json_check_keys(&d, root, "$", top_keys) < 0 ||
	    pl_json_get_str(&d, root, "$", "name", PL_J_REQUIRED, &name) < 0 ||
	    pl_json_get_str(&d, root, "$", "description", PL_J_OPTIONAL, &desc) < 0 ||
	    def_network(&d, root, out) < 0 || def_vms(&d, root, out) < 0 ||
	    def_timeouts(&d, root, out) < 0 || def_smoke(&d, root, out) < 0) {
		lab_def_free(out);
		return err->code ? err->code : PL_EINVAL;
	}
	out->name = pl_strdup(name);
	return 0;
}

int lab_def_parse(const char *text, const char *file, struct lab_def *out, struct pl_err *err)
{
	json_error_t je;
	PL_AUTOJSON json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (!root)
		return pl_error(err, PL_EINVAL, "%s:%d:%d: %s", file, je.line, je.column, je.text);
	return def_from_json(root, file, out, err);
}

int lab_def_load(const char *path, struct lab_def *out, struct pl_err *err)
{
	PL_AUTOJSON json_t *root = NULL;

	if (pl_json_load_file(path, &root, err) < 0)
		return err->code;
	return def_from_json(root, path, out, err);
}

int lab_def_default(struct lab_def *out, struct pl_err *err)
{
	return lab_def_parse(lab_default_json, "(built-in labs/default.json)", out, err);
}
