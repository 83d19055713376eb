/*
 * apply.c - candidate patches into a clone, offline, and the offline checks.
 *
 * dpkg runs inside the appliance's chroot of the guest (guestfs_sh), with a
 * policy-rc.d that forbids starting services; the candidate's .debs are
 * installed in one dpkg call so that they satisfy each other's
 * dependencies. Every failure becomes a check with its evidence; only a
 * failure of patchlab itself is an error.
 */
#include "guest.h"

#include <sys/stat.h>

#include "pkgdb/pkgdb.h"
#include "version/version.h"

#define APPLY_DIR "/var/cache/patchlab/debs"

void guest_check_add(json_t *checks, const char *stage, const char *name, const char *status,
		     const char *evidence, const char *fmt, ...)
{
	struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "stage", stage,
						"name", name, "status", status, "detail",
						pl_buf_str(&b), "evidence", evidence));
	pl_buf_release(&b);
}

void guest_applied_clear(struct guest_applied *a)
{
	free(a->kernel_version);
	free(a->kernel);
	free(a->initrd);
	free(a->root_uuid);
	json_decref(a->before);
	memset(a, 0, sizeof(*a));
}

/* Writes text to DIR/name; returns the path (caller frees) or NULL. */
static char *evidence_write(const char *dir, const char *name, const char *text)
{
	char *path = pl_path_join(dir, name);

	if (pl_file_write_atomic(path, text, strlen(text), 0644, NULL) < 0) {
		free(path);
		return NULL;
	}
	return path;
}

/* Runs cmd in the guest and returns its output and exit status: the
 * status is echoed as the last line so a failing command is data. */
static int apply_sh(guestfs_h *g, const char *cmd, char **out, int *status, struct pl_err *err)
{
	PL_AUTOFREE char *full = pl_strdupf("%s; echo \"patchlab-exit=$?\"", cmd);
	char *o = NULL, *mark;

	if (guest_sh(g, full, &o, err) < 0)
		return err->code;
	mark = strstr(o, "patchlab-exit=");
	*status = mark ? atoi(mark + 14) : -1;
	if (mark)
		*mark = '\0';
	*out = o;
	return 0;
}

static int apply_upload(guestfs_h *g, const struct guest_apply *a, struct pl_buf *list,
			struct pl_err *err)
{
	if (guestfs_mkdir_p(g, APPLY_DIR) < 0)
		return guest_error(g, err, APPLY_DIR);
	for (size_t i = 0; i < a->ndebs; i++) {
		PL_AUTOFREE char *remote = pl_strdupf(APPLY_DIR "/%zu.deb", i);

		if (guestfs_upload(g, a->debs[i], remote) < 0)
			return guest_error(g, err, a->debs[i]);
		pl_buf_addf(list, " %s", remote);
	}
	return 0;
}

/* dpkg -i of the whole set; no service starts while it runs. */
static int apply_dpkg(guestfs_h *g, const struct guest_apply *a, json_t *checks,
		      struct pl_err *err)
{
	struct pl_buf list = PL_BUF_INIT;
	PL_AUTOFREE char *out = NULL, *cmd = NULL, *ev = NULL;
	int status = -1, rc;

	if (guest_write(g, "/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 19, 0755, err) < 0)
		return err->code;
	rc = apply_upload(g, a, &list, err);
	if (rc == 0) {
		cmd = pl_strdupf("DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 dpkg "
				 "--force-confdef --force-confold%s -i%s 2>&1",
				 a->lab_clone ? " --force-unsafe-io" : "", pl_buf_str(&list));
		rc = apply_sh(g, cmd, &out, &status, err);
	}
	pl_buf_release(&list);
	if (rc < 0)
		return rc;
	ev = evidence_write(a->evidence_dir, "dpkg.log", out);
	if (status == 0)
		guest_check_add(checks, "apply", "dpkg", "pass", ev, "dpkg installed %zu package(s)",
				a->ndebs);
	else {
		/* the last lines of dpkg's output say why */
		const char *tail = out + strlen(out);
		int lines = 0;

		while (tail > out && lines < 6)
			if (*--tail == '\n')
				lines++;
		guest_check_add(checks, "apply", "dpkg", "fail", ev, "dpkg exited %d: %s", status,
				tail);
	}
	if (guestfs_rm_f(g, "/usr/sbin/policy-rc.d") < 0 || guestfs_rm_rf(g, APPLY_DIR) < 0)
		return guest_error(g, err, "removing the apply scaffolding");
	return 0;
}

/* Every expected package at its expected version, installed. */
static int apply_versions(guestfs_h *g, const struct guest_expect *e, size_t n, const char *stage,
			  json_t *checks, struct pl_err *err)
{
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	PL_AUTOFREE char *status = NULL;
	struct pl_buf bad = PL_BUF_INIT;
	size_t len;

	if (guest_read(g, "/var/lib/dpkg/status", &status, &len, err) < 0 ||
	    pkgdb_dpkg_status_parse(status, len, "/var/lib/dpkg/status", &l, err) < 0)
		return err->code;
	for (size_t i = 0; i < n; i++) {
		const struct pkgdb_pkg *p = pkgdb_pkglist_find(&l, e[i].package,
							       strcmp(e[i].arch, "all") ? e[i].arch
											: NULL);

		if (!p)
			pl_buf_addf(&bad, "%s%s not in the dpkg database", bad.len ? "; " : "",
				    e[i].package);
		else if (!p->installed || strcmp(p->version, e[i].version) != 0)
			pl_buf_addf(&bad, "%s%s is %s %s, expected installed %s",
				    bad.len ? "; " : "", e[i].package, pkgdb_state_name(p->state),
				    p->version, e[i].version);
	}
	if (bad.len)
		guest_check_add(checks, stage, "versions", "fail", NULL, "%s", bad.s);
	else
		guest_check_add(checks, stage, "versions", "pass", NULL,
				"%zu package(s) installed at the candidate's versions", n);
	pl_buf_release(&bad);
	pkgdb_pkglist_free(&l);
	return 0;
}

/* {package: {"version": V or null, "status": S}} of the expected packages;
 * *all_at gets 1 when each is installed at its expected version. */
static int apply_versions_json(guestfs_h *g, const struct guest_expect *e, size_t n, json_t **out,
			       int *all_at, struct pl_err *err)
{
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	PL_AUTOFREE char *status = NULL;
	size_t len;

	*all_at = 1;
	if (guest_read(g, "/var/lib/dpkg/status", &status, &len, err) < 0 ||
	    pkgdb_dpkg_status_parse(status, len, "/var/lib/dpkg/status", &l, err) < 0)
		return err->code;
	*out = json_object();
	for (size_t i = 0; i < n; i++) {
		const struct pkgdb_pkg *p = pkgdb_pkglist_find(&l, e[i].package,
							       strcmp(e[i].arch, "all") ? e[i].arch
											: NULL);
		int at = p && p->installed && p->version && strcmp(p->version, e[i].version) == 0;

		*all_at &= at;
		json_object_set_new(*out, e[i].package,
				    json_pack("{s:s?, s:s}", "version",
					      p && p->installed ? p->version : NULL, "status",
					      p ? pkgdb_state_name(p->state) : "not-installed"));
	}
	pkgdb_pkglist_free(&l);
	return 0;
}

static int apply_audit(guestfs_h *g, const char *dir, json_t *checks, struct pl_err *err)
{
	PL_AUTOFREE char *out = NULL, *ev = NULL;
	int status;

	if (apply_sh(g, "dpkg --audit 2>&1", &out, &status, err) < 0)
		return err->code;
	ev = evidence_write(dir, "dpkg-audit.log", out);
	if (status == 0 && out[0] == '\0')
		guest_check_add(checks, "apply", "dpkg-audit", "pass", ev, "dpkg --audit is clean");
	else
		guest_check_add(checks, "apply", "dpkg-audit", "fail", ev, "dpkg --audit (exit %d): %.300s",
				status, out);
	return 0;
}

/* Each installed linux-image-VERSION package has /boot/vmlinuz-VERSION and
 * /boot/initrd.img-VERSION. */
static int apply_kernels(guestfs_h *g, json_t *checks, struct pl_err *err)
{
	PL_AUTOFREE char *out = NULL;
	struct pl_buf bad = PL_BUF_INIT, seen = PL_BUF_INIT;
	char *save = NULL, *line;
	int status;

	if (apply_sh(g, "dpkg-query -W -f='${db:Status-Status} ${Package}\\n' 'linux-image-[0-9]*' "
			"2>/dev/null | sed -n 's/^installed linux-image-//p'",
		     &out, &status, err) < 0)
		return err->code;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		PL_AUTOFREE char *k = pl_strdupf("/boot/vmlinuz-%s", line);
		PL_AUTOFREE char *i = pl_strdupf("/boot/initrd.img-%s", line);

		pl_buf_addf(&seen, "%s%s", seen.len ? ", " : "", line);
		if (guestfs_is_file_opts(g, k, -1) <= 0 || guestfs_is_file_opts(g, i, -1) <= 0)
			pl_buf_addf(&bad, "%s%s lacks %s", bad.len ? "; " : "", line,
				    guestfs_is_file_opts(g, k, -1) <= 0 ? k : i);
	}
	if (!seen.len)
		guest_check_add(checks, "apply", "kernels", "fail", NULL,
				"no installed kernel package");
	else if (bad.len)
		guest_check_add(checks, "apply", "kernels", "fail", NULL, "%s", bad.s);
	else
		guest_check_add(checks, "apply", "kernels", "pass", NULL,
				"kernel and initrd present for %s", seen.s);
	pl_buf_release(&bad);
	pl_buf_release(&seen);
	return 0;
}

/* An fstab source the guest can resolve: UUID=, LABEL=, PARTUUID= among the
 * disk's filesystems; pseudo filesystems and nofail entries pass. */
static int fstab_resolvable(guestfs_h *g, const char *src)
{
	char *dev = NULL;

	if (strncmp(src, "UUID=", 5) == 0)
		dev = guestfs_findfs_uuid(g, src + 5);
	else if (strncmp(src, "LABEL=", 6) == 0)
		dev = guestfs_findfs_label(g, src + 6);
	else if (strncmp(src, "PARTUUID=", 9) == 0) {
		char **parts = guestfs_list_partitions(g);

		for (size_t i = 0; parts && parts[i] && !dev; i++) {
			char *u = guestfs_part_get_gpt_guid(g, "/dev/sda", (int)i + 1);

			if (u && strcasecmp(u, src + 9) == 0)
				dev = pl_strdup(parts[i]);
			free(u);
		}
		for (size_t i = 0; parts && parts[i]; i++)
			free(parts[i]);
		free(parts);
	} else {
		return 1; /* a device path or a pseudo filesystem: nothing to resolve offline */
	}
	free(dev);
	return dev != NULL;
}

static int apply_fstab(guestfs_h *g, json_t *checks, struct pl_err *err)
{
	PL_AUTOFREE char *fstab = NULL;
	struct pl_buf bad = PL_BUF_INIT;
	char *save = NULL, *line;
	int n = 0;

	if (guest_read(g, "/etc/fstab", &fstab, NULL, err) < 0)
		return err->code;
	for (line = strtok_r(fstab, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char src[512], mp[512], type[64], opts[512];

		if (line[strspn(line, " \t")] == '#' ||
		    sscanf(line, "%511s %511s %63s %511s", src, mp, type, opts) < 3)
			continue;
		n++;
		if (strstr(opts, "nofail") || strcmp(type, "swap") == 0 ||
		    strcmp(type, "none") == 0)
			continue;
		if (!fstab_resolvable(g, src))
			pl_buf_addf(&bad, "%s%s (for %s) matches no filesystem on the disk",
				    bad.len ? "; " : "", src, mp);
	}
	if (bad.len)
		guest_check_add(checks, "apply", "fstab", "fail", NULL, "%s", bad.s);
	else
		guest_check_add(checks, "apply", "fstab", "pass", NULL,
				"%d fstab entr%s resolvable", n, n == 1 ? "y" : "ies");
	pl_buf_release(&bad);
	return 0;
}

static int apply_free_space(guestfs_h *g, uint64_t min, json_t *checks, struct pl_err *err)
{
	struct guestfs_statvfs *v = guestfs_statvfs(g, "/");
	uint64_t avail;

	if (!v)
		return guest_error(g, err, "statvfs /");
	avail = (uint64_t)v->bavail * (uint64_t)v->bsize;
	guestfs_free_statvfs(v);
	guest_check_add(checks, "apply", "free-space", avail >= min ? "pass" : "fail", NULL,
			"%.0f MiB free on /, at least %.0f MiB required", (double)avail / 1048576.0,
			(double)min / 1048576.0);
	return 0;
}

/* The smoke agent: script, unit, config, enabled for the next boot. */
static int apply_agent(guestfs_h *g, const struct guest_apply *a, struct pl_err *err)
{
	if (guestfs_mkdir_p(g, "/etc/patchlab-agent") < 0 ||
	    guestfs_mkdir_p(g, "/etc/systemd/system/multi-user.target.wants") < 0 ||
	    guestfs_rm_rf(g, "/var/lib/patchlab-agent") < 0)
		return guest_error(g, err, "preparing the smoke agent");
	if (guest_write(g, "/usr/local/sbin/patchlab-agent", a->agent_script,
			strlen(a->agent_script), 0755, err) < 0 ||
	    guest_write(g, "/etc/systemd/system/patchlab-agent.service", a->agent_unit,
			strlen(a->agent_unit), 0644, err) < 0 ||
	    guest_write(g, "/etc/patchlab-agent/config", a->agent_config,
			strlen(a->agent_config), 0644, err) < 0)
		return err->code;
	if (guestfs_ln_sf(g, "/etc/systemd/system/patchlab-agent.service",
			  "/etc/systemd/system/multi-user.target.wants/patchlab-agent.service") < 0)
		return guest_error(g, err, "enabling the smoke agent");
	return 0;
}

/*
 * Per-clone ssh host keys, made on the host. A golden image carries none
 * (each clone must have its own) and makes them at first boot with
 * ssh-keygen -A, which takes seconds of emulated CPU for the RSA key on the
 * boot's critical path; made here they cost a fraction of a second and the
 * guest boots as a production host does, with its keys in place. Skipped
 * when the image has no sshd or already has keys (an imported image).
 */
static int apply_host_keys(guestfs_h *g, struct pl_err *err)
{
	static const char *const types[] = {"rsa", "ecdsa", "ed25519"};
	char dir[] = "/tmp/patchlab-hostkeys.XXXXXX";
	int rc = 0;

	if (guestfs_is_dir_opts(g, "/etc/ssh", -1) <= 0 ||
	    guestfs_is_file_opts(g, "/usr/sbin/sshd", -1) <= 0 ||
	    guestfs_is_file_opts(g, "/etc/ssh/ssh_host_ed25519_key", -1) > 0 ||
	    !pl_have_program("ssh-keygen"))
		return 0;
	if (!mkdtemp(dir))
		return pl_error(err, PL_EIO, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; rc == 0 && i < sizeof(types) / sizeof(types[0]); i++) {
		PL_AUTOFREE char *key = pl_strdupf("%s/ssh_host_%s_key", dir, types[i]);
		PL_AUTOFREE char *pub = pl_strdupf("%s.pub", key);
		PL_AUTOFREE char *gkey = pl_strdupf("/etc/ssh/ssh_host_%s_key", types[i]);
		PL_AUTOFREE char *gpub = pl_strdupf("%s.pub", gkey);
		const char *argv[] = {"ssh-keygen", "-q", "-t", types[i], "-N", "", "-C",
				      "root@patchlab-lab", "-f", key, NULL};
		struct pl_run_opts ro = {.timeout = 60};

		rc = pl_run_ok(argv, &ro, err);
		if (rc == 0 && (guestfs_upload(g, key, gkey) < 0 || guestfs_chmod(g, 0600, gkey) < 0 ||
				guestfs_upload(g, pub, gpub) < 0 || guestfs_chmod(g, 0644, gpub) < 0))
			rc = guest_error(g, err, gkey);
		unlink(key);
		unlink(pub);
	}
	rmdir(dir);
	return rc < 0 ? pl_error_prefix(err, "ssh host keys") : 0;
}

static int apply_kernel_out(guestfs_h *g, const struct guest_apply *a, struct guest_applied *o,
			    const char *root, struct pl_err *err)
{
	PL_AUTOFREE char *ver = NULL, *k = NULL, *i = NULL;
	char *uuid;

	if (guest_kernel_pair(g, &ver, &k, &i, err) < 0)
		return err->code;
	o->kernel = pl_path_join(a->kernel_dir, "vmlinuz");
	o->initrd = pl_path_join(a->kernel_dir, "initrd.img");
	if (guest_download(g, k, o->kernel, err) < 0 || guest_download(g, i, o->initrd, err) < 0)
		return err->code;
	chmod(o->kernel, 0644);
	chmod(o->initrd, 0644);
	o->kernel_version = PL_STEAL(ver);
	uuid = guestfs_vfs_uuid(g, root);
	o->root_uuid = uuid;
	return 0;
}

/* Logs how long the step since t took (the lab cycle's profile); returns now. */
static double apply_timed(const char *step, double t)
{
	double now = pl_monotonic();

	pl_debug("apply: %s: %.1f s", step, now - t);
	return now;
}

static int apply_steps(guestfs_h *g, const struct guest_apply *a, json_t *checks,
		       struct guest_applied *out, const char *root, struct pl_err *err)
{
	size_t before = json_array_size(checks);
	double t = pl_monotonic();
	int all_at = 0, rc = 0;

	/* the versions before dpkg only matter to a caller that may skip it
	 * (a production target); a lab clone is the golden image's */
	if (a->skip_installed)
		rc = apply_versions_json(g, a->expect, a->nexpect, &out->before, &all_at, err);

	if (rc == 0 && a->skip_installed && all_at) {
		out->already = 1;
		guest_check_add(checks, "apply", "dpkg", "pass", NULL,
				"every package is installed at the candidate's version already: "
				"dpkg not run");
		return 0;
	}
	if (rc == 0)
		rc = apply_dpkg(g, a, checks, err);
	t = apply_timed("dpkg", t);
	if (rc == 0)
		rc = apply_versions(g, a->expect, a->nexpect, "apply", checks, err);
	if (rc == 0)
		rc = apply_audit(g, a->evidence_dir, checks, err);
	if (rc == 0)
		rc = apply_kernels(g, checks, err);
	if (rc == 0)
		rc = apply_fstab(g, checks, err);
	if (rc == 0)
		rc = apply_free_space(g, a->min_free_bytes, checks, err);
	t = apply_timed("offline checks", t);
	/* the agent goes in only when every offline check passed: a clone that
	 * failed here is not booted */
	for (size_t i = before; rc == 0 && i < json_array_size(checks); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(checks, i), "status")),
			   "pass") != 0)
			return 0;
	if (rc == 0 && a->agent_script)
		rc = apply_agent(g, a, err);
	if (rc == 0 && a->lab_clone)
		rc = apply_host_keys(g, err);
	t = apply_timed("agent and host keys", t);
	if (rc == 0 && a->kernel_dir)
		rc = apply_kernel_out(g, a, out, root, err);
	apply_timed("kernel out", t);
	return rc;
}

int guest_apply_patches(const struct guest_apply *a, json_t *checks, struct guest_applied *out,
			struct pl_err *err)
{
	/* A lab clone is thrown away when anything fails, so its writes need
	 * no flush on the way (dpkg fsyncs every file): unsafe cache and io.
	 * A production disk keeps both safe. */
	struct guest_opts go = {.force_tcg = a->force_tcg,
				.format = "qcow2",
				.memsize_mb = 1024,
				.cache_unsafe = a->lab_clone};
	PL_AUTOGUESTFS guestfs_h *g = NULL;
	PL_AUTOFREE char *root = NULL;
	double t = pl_monotonic();
	int rc;

	memset(out, 0, sizeof(*out));
	if (guest_open(a->disk, &go, &g, err) < 0 ||
	    guest_mount_known(g, a->root_uuid, 0, &root, err) < 0)
		return err->code;
	t = apply_timed("appliance launch and mount", t);
	rc = apply_steps(g, a, checks, out, root, err);
	if (rc == 0 && !out->root_uuid)
		out->root_uuid = guestfs_vfs_uuid(g, root);
	t = pl_monotonic();
	if (rc == 0)
		rc = guest_finish(g, err);
	apply_timed("appliance shutdown", t);
	return rc;
}

int guest_read_versions(const char *disk, const char *format, const char *root_uuid,
			int force_tcg, const struct guest_expect *expect, size_t nexpect,
			json_t **out, struct pl_err *err)
{
	struct guest_opts go = {.force_tcg = force_tcg, .readonly = 1, .format = format};
	PL_AUTOGUESTFS guestfs_h *g = NULL;
	PL_AUTOFREE char *root = NULL;
	int all_at;

	*out = NULL;
	if (guest_open(disk, &go, &g, err) < 0 || guest_mount_known(g, root_uuid, 1, &root, err) < 0)
		return err->code;
	return apply_versions_json(g, expect, nexpect, out, &all_at, err);
}

/* One item of an agent list, appended to b as text; returns 1 when it passed. */
typedef int (*collect_item_fn)(json_t *v, struct pl_buf *b);

static int item_service(json_t *v, struct pl_buf *b)
{
	const char *act = json_string_value(json_object_get(v, "active"));

	pl_buf_addf(b, "%s %s/%s", json_string_value(json_object_get(v, "unit")), act ? act : "?",
		    json_string_value(json_object_get(v, "sub")) ?: "?");
	return act && strcmp(act, "active") == 0;
}

static int item_port(json_t *v, struct pl_buf *b)
{
	int l = json_is_true(json_object_get(v, "listening"));

	pl_buf_addf(b, "%lld %s", json_integer_value(json_object_get(v, "port")),
		    l ? "listening" : "CLOSED");
	return l;
}

static int item_file(json_t *v, struct pl_buf *b)
{
	int e = json_is_true(json_object_get(v, "exists"));

	pl_buf_addf(b, "%s %s", json_string_value(json_object_get(v, "path")),
		    e ? "present" : "MISSING");
	return e;
}

static int item_command(json_t *v, struct pl_buf *b)
{
	json_int_t code = json_integer_value(json_object_get(v, "exit"));
	json_int_t want = json_integer_value(json_object_get(v, "expect_exit"));
	int to = json_is_true(json_object_get(v, "timed_out"));
	int ok = !to && code == want;

	pl_buf_addf(b, "%s exit %lld%s%s", json_string_value(json_object_get(v, "name")),
		    (long long)code, to ? " (timed out)" : "", ok ? "" : " (FAILED)");
	return ok;
}

/* One check over a list of the agent's result: fails if any item fails. */
static void collect_list(json_t *ag, const char *key, collect_item_fn fn, json_t *checks,
			 const char *ev)
{
	struct pl_buf b = PL_BUF_INIT;
	size_t i;
	json_t *v;
	int bad = 0;

	json_array_foreach(json_object_get(ag, key), i, v) {
		if (i)
			pl_buf_adds(&b, ", ");
		bad += !fn(v, &b);
	}
	guest_check_add(checks, "boot", key, bad ? "fail" : "pass", ev, "%s",
			b.len ? b.s : "none required");
	pl_buf_release(&b);
}

/* Agent JSON -> checks (state, failed units, services, ports, files, commands). */
static void collect_agent_checks(json_t *ag, json_t *checks, const char *ev)
{
	const char *state = json_string_value(json_object_get(ag, "system_state"));
	struct pl_buf b = PL_BUF_INIT;
	json_t *arr, *v;
	size_t i;

	guest_check_add(checks, "boot", "system-state",
			state && strcmp(state, "running") == 0 ? "pass" : "fail", ev,
			"systemd reports '%s'", state ? state : "(nothing)");
	arr = json_object_get(ag, "failed_units");
	json_array_foreach(arr, i, v)
		pl_buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(v));
	guest_check_add(checks, "boot", "failed-units", json_array_size(arr) ? "fail" : "pass", ev,
			"%s", json_array_size(arr) ? pl_buf_str(&b) : "no failed units");
	pl_buf_release(&b);
	collect_list(ag, "services", item_service, checks, ev);
	collect_list(ag, "ports", item_port, checks, ev);
	collect_list(ag, "files", item_file, checks, ev);
	collect_list(ag, "commands", item_command, checks, ev);
}

/* Error-priority journal entries (PRIORITY <= 3) of the last boot. */
/* The journal's value of a field as a string (attribute values carry a
 * length and no NUL). */
static char *journal_value(const struct guestfs_xattr *a)
{
	return pl_strndup(a->attrval, a->attrval_len);
}

/* Keeps in *boot (a boot id without dashes) the boot whose errors count:
 * the agent's, else the last boot the journal saw. */
static void journal_boot_pick(const char *agent_boot, char *boot, size_t size)
{
	size_t j = 0;

	if (!agent_boot || !*agent_boot)
		return;
	for (const char *p = agent_boot; *p && j + 1 < size; p++)
		if (*p != '-')
			boot[j++] = *p;
	boot[j] = '\0';
}

/*
 * The error-priority entries (0-3) of the boot under test, read with the
 * journal API. The golden image's own boots (its build) are in the same
 * journal and are left out: only the agent's boot counts, or, when the
 * agent never reported, the last boot the journal recorded.
 */
struct journal_line {
	char *boot, *text;
};

static int collect_journal(guestfs_h *g, const char *dir, const char *agent_boot, json_t *checks)
{
	struct pl_buf out = PL_BUF_INIT;
	PL_AUTOFREE char *ev = NULL, *last_boot = NULL;
	struct journal_line *v = NULL;
	size_t nv = 0;
	char boot[64] = "";
	int n = 0;

	journal_boot_pick(agent_boot, boot, sizeof(boot));
	if (guestfs_journal_open(g, "/var/log/journal") < 0) {
		guest_check_add(checks, "inspect", "journal", "skip", NULL,
				"no persistent journal in the guest (/var/log/journal)");
		return 0;
	}
	while (guestfs_journal_next(g) > 0) {
		struct guestfs_xattr_list *x = guestfs_journal_get(g);
		PL_AUTOFREE char *prio = NULL, *msg = NULL, *ident = NULL, *bid = NULL;

		for (size_t i = 0; x && i < x->len; i++) {
			const char *k = x->val[i].attrname;

			if (strcmp(k, "PRIORITY") == 0 && !prio)
				prio = journal_value(&x->val[i]);
			else if (strcmp(k, "MESSAGE") == 0 && !msg)
				msg = journal_value(&x->val[i]);
			else if (strcmp(k, "SYSLOG_IDENTIFIER") == 0 && !ident)
				ident = journal_value(&x->val[i]);
			else if (strcmp(k, "_BOOT_ID") == 0 && !bid)
				bid = journal_value(&x->val[i]);
		}
		if (x)
			guestfs_free_xattr_list(x);
		if (bid) {
			free(last_boot);
			last_boot = pl_strdup(bid);
		}
		if (prio && msg && prio[0] >= '0' && prio[0] <= '3') {
			v = pl_realloc(v, (nv + 1) * sizeof(*v));
			v[nv].boot = pl_strdup(bid ? bid : "");
			v[nv].text = pl_strdupf("<%c> %s: %s", prio[0], ident ? ident : "", msg);
			nv++;
		}
	}
	guestfs_journal_close(g);
	if (!*boot && last_boot)
		snprintf(boot, sizeof(boot), "%s", last_boot);
	for (size_t i = 0; i < nv; i++) {
		if (strcmp(v[i].boot, boot) == 0 && n++ < 200)
			pl_buf_addf(&out, "%s\n", v[i].text);
		free(v[i].boot);
		free(v[i].text);
	}
	free(v);
	ev = evidence_write(dir, "journal-errors.txt", pl_buf_str(&out));
	guest_check_add(checks, "inspect", "journal", "pass", ev,
			"%d error-priority journal entr%s in the boot under test (see evidence)",
			n, n == 1 ? "y" : "ies");
	pl_buf_release(&out);
	return 0;
}

int guest_collect(const char *disk, const char *root_uuid, int force_tcg,
		  const struct guest_expect *expect,
		  size_t nexpect, const char *evidence_dir, json_t *checks, json_t **agent,
		  struct pl_err *err)
{
	/* two vCPUs: one boots the appliance ~2 s sooner under TCG, but the
	 * journal and package reads that follow take longer (measured) */
	struct guest_opts go = {.force_tcg = force_tcg, .readonly = 1, .format = "qcow2"};
	PL_AUTOGUESTFS guestfs_h *g = NULL;
	PL_AUTOFREE char *root = NULL, *text = NULL, *ev = NULL;
	json_error_t je;
	json_t *ag = NULL;

	*agent = NULL;
	if (guest_open(disk, &go, &g, err) < 0 || guest_mount_known(g, root_uuid, 1, &root, err) < 0)
		return err->code;
	if (guestfs_is_file_opts(g, "/var/lib/patchlab-agent/result.json", -1) > 0 &&
	    guest_read(g, "/var/lib/patchlab-agent/result.json", &text, NULL, err) == 0) {
		ev = evidence_write(evidence_dir, "agent.json", text);
		ag = json_loads(text, 0, &je);
	}
	if (!ag) {
		guest_check_add(checks, "boot", "agent-result", "fail", NULL,
				"%s: the guest never completed its smoke checks (hang, panic, "
				"emergency mode or timeout: see the console log)",
				text ? "the agent's result is not valid JSON" : "no agent result");
	} else {
		guest_check_add(checks, "boot", "agent-result", "pass", ev,
				"the smoke agent reported after %.1f s of uptime",
				json_number_value(json_object_get(ag, "settled_at_uptime")));
		collect_agent_checks(ag, checks, ev);
	}
	if (apply_versions(g, expect, nexpect, "inspect", checks, err) < 0 ||
	    collect_journal(g, evidence_dir,
			    ag ? json_string_value(json_object_get(ag, "boot_id")) : NULL,
			    checks) < 0) {
		json_decref(ag);
		return err->code;
	}
	*agent = ag;
	return 0;
}
