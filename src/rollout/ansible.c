/*
 * ansible.c - the export for fleets outside libvirt: per wave an Ansible
 * inventory and playbook.
 *
 * YAML is written by hand, not through a library: what is written is two
 * small fixed documents, and every value goes through one function that
 * double-quotes it (backslash escapes for quotes, backslashes, control
 * characters and YAML's own line breaks NEL, LS and PS) and tags it
 * !unsafe, so that Ansible takes it as data and never runs it through
 * Jinja: a smoke command "echo {{ lookup('pipe', 'id') }}" stays that text.
 * The playbook's own expressions are fixed strings that refer to those
 * variables by name.
 */
#include "rollout-private.h"

#include <ctype.h>
#include <sys/stat.h>

#include "candidate/candidate.h"
#include "inventory/inventory.h"
#include "lab/lab.h"
#include "net/net.h"
#include "repo/repo.h"
#include "version/version.h"

#define EXPORT_MARKER ".patchlab-export"

/* ---- YAML ---------------------------------------------------------------------------- */

/* s as a YAML double-quoted scalar. */
static void yq(struct pl_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	pl_buf_addc(b, '"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			pl_buf_addc(b, '\\');
			pl_buf_addc(b, (char)*p);
		} else if (*p == '\n') {
			pl_buf_adds(b, "\\n");
		} else if (*p == '\t') {
			pl_buf_adds(b, "\\t");
		} else if (*p < 0x20 || *p == 0x7f) {
			pl_buf_addf(b, "\\x%02x", *p);
		} else if (p[0] == 0xc2 && p[1] == 0x85) { /* NEL */
			pl_buf_adds(b, "\\N");
			p++;
		} else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			pl_buf_adds(b, p[2] == 0xa8 ? "\\L" : "\\P"); /* LS, PS */
			p += 2;
		} else if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) { /* BOM */
			pl_buf_adds(b, "\\uFEFF");
			p += 2;
		} else {
			pl_buf_addc(b, (char)*p);
		}
	}
	pl_buf_addc(b, '"');
}

/* s as data Ansible never templates. */
static void yu(struct pl_buf *b, const char *s)
{
	pl_buf_adds(b, "!unsafe ");
	yq(b, s);
}

/* [A-Za-z0-9_] only: group names and file names on the hosts. */
static char *slug(const char *s)
{
	char *o = pl_strdup(s);

	for (char *p = o; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			*p = '_';
	return o;
}

static int word_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

/* ---- checks ----------------------------------------------------------------------------- */

static int serial_ok(const char *s)
{
	size_t n = strlen(s), d = strspn(s, "0123456789");
	long v = 0;

	if (d == 0 || d > 6 || s[0] == '0' || !(d == n || (d == n - 1 && s[d] == '%')))
		return 0;
	for (size_t i = 0; i < d; i++)
		v = v * 10 + (s[i] - '0');
	return s[d] == '%' ? v <= 100 : 1;
}

static int wave_check(const struct rollout_ansible_wave *w, struct pl_err *err)
{
	if (!w->rollout || !word_ok(w->rollout, 64))
		return pl_error(err, PL_EUSAGE, "rollout name '%s': 1-64 of [A-Za-z0-9._-]",
		                w->rollout ? w->rollout : "");
	if (!w->wave || !word_ok(w->wave, 64))
		return pl_error(err, PL_EUSAGE, "--wave '%s': 1-64 of [A-Za-z0-9._-]",
		                w->wave ? w->wave : "");
	if (w->serial && !serial_ok(w->serial))
		return pl_error(err, PL_EUSAGE,
		                "--serial '%s': a number of hosts (1, 5) or a share (25%%)",
		                w->serial);
	if (!(w->halt_failure_rate >= 0 && w->halt_failure_rate <= 1))
		return pl_error(err, PL_EUSAGE, "--halt-rate %g: between 0 and 1",
		                w->halt_failure_rate);
	if (!w->nhosts)
		return pl_error(err, PL_EUSAGE, "wave '%s' has no hosts", w->wave);
	for (size_t i = 0; i < w->nhosts; i++) {
		if (!inv_name_ok(w->hosts[i].name))
			return pl_error(err, PL_EINVAL, "host '%s': not a host name",
			                w->hosts[i].name);
		for (size_t k = 0; k < i; k++)
			if (strcmp(w->hosts[k].name, w->hosts[i].name) == 0)
				return pl_error(err, PL_EUSAGE, "host '%s' is named twice",
				                w->hosts[i].name);
	}
	if (!w->npkgs)
		return pl_error(err, PL_EUSAGE, "wave '%s' has no packages to install", w->wave);
	for (size_t i = 0; i < w->npkgs; i++) {
		const struct rollout_ansible_pkg *p = &w->pkgs[i];
		struct version_deb v;

		if (!rollout_pkg_name_ok(p->package))
			return pl_error(err, PL_EINVAL, "package '%s': not a Debian package name",
			                p->package);
		if (version_deb_parse(p->version, strlen(p->version), &v, NULL) != 0 ||
		    strpbrk(p->version, "/ \t"))
			return pl_error(err, PL_EINVAL, "package %s: version '%s' is not valid",
			                p->package, p->version);
		if (repo_field_check("arch", p->arch, err) < 0)
			return pl_error(err, PL_EINVAL, "package %s: %s", p->package, err->msg);
		if (!w->repo_url && !p->path)
			return pl_error(err, PL_EUSAGE, "package %s: no .deb to copy", p->package);
	}
	if (w->repo_url) {
		if (net_url_check(w->repo_url, NULL, err) < 0)
			return pl_error(err, PL_EUSAGE, "--repo-url: %s", err->msg);
		if (!w->repo_suite || repo_field_check("suite", w->repo_suite, err) < 0)
			return w->repo_suite
			           ? err->code
			           : pl_error(err, PL_EUSAGE, "--suite is needed with --repo-url");
		if (w->repo_component && repo_field_check("component", w->repo_component, err) < 0)
			return err->code;
		if (!w->repo_keyring)
			return pl_error(err, PL_EUSAGE, "--keyring is needed with --repo-url");
		if (repo_field_check("keyring", w->repo_keyring, err) < 0)
			return err->code;
	}
	return 0;
}

/* ---- the files ----------------------------------------------------------------------------- */

/* The .deb's name in files/ and on the hosts: PACKAGE_VERSION_ARCH.deb. */
static char *deb_name(const struct rollout_ansible_pkg *p)
{
	const char *colon = strchr(p->version, ':');

	return pl_strdupf("%s_%s_%s.deb", p->package, colon ? colon + 1 : p->version, p->arch);
}

static void inventory_yaml(const struct rollout_ansible_wave *w, const char *group,
                           struct pl_buf *b)
{
	pl_buf_adds(b, "# patchlab export: the hosts of wave ");
	yq(b, w->wave);
	pl_buf_adds(b, " of ");
	yq(b, w->rollout);
	pl_buf_addf(b, " (generated; do not edit)\nall:\n  children:\n    %s:\n      hosts:\n",
	            group);
	for (size_t i = 0; i < w->nhosts; i++) {
		pl_buf_adds(b, "        ");
		yq(b, w->hosts[i].name);
		if (w->hosts[i].address && *w->hosts[i].address) {
			pl_buf_adds(b, ":\n          ansible_host: ");
			yu(b, w->hosts[i].address);
			pl_buf_addc(b, '\n');
		} else {
			pl_buf_adds(b, ": {}\n");
		}
	}
}

/* vars: every value of the wave, as data. */
static void playbook_vars(const struct rollout_ansible_wave *w, struct pl_buf *b)
{
	const struct lab_def *s = w->smoke;

	pl_buf_adds(b, "  vars:\n    pl_rollout: ");
	yu(b, w->rollout);
	pl_buf_adds(b, "\n    pl_wave: ");
	yu(b, w->wave);
	pl_buf_adds(b, "\n    pl_packages:\n");
	for (size_t i = 0; i < w->npkgs; i++) {
		const struct rollout_ansible_pkg *p = &w->pkgs[i];
		PL_AUTOFREE char *spec = pl_strdupf("%s=%s", p->package, p->version);
		PL_AUTOFREE char *deb = deb_name(p);

		pl_buf_adds(b, "      - name: ");
		yu(b, p->package);
		pl_buf_adds(b, "\n        version: ");
		yu(b, p->version);
		pl_buf_adds(b, "\n        arch: ");
		yu(b, p->arch);
		pl_buf_adds(b, "\n        spec: ");
		yu(b, spec);
		if (!w->repo_url) {
			pl_buf_adds(b, "\n        deb: ");
			yu(b, deb);
			pl_buf_adds(b, "\n        sha256: ");
			yu(b, p->sha256 ? p->sha256 : "");
		}
		pl_buf_addc(b, '\n');
	}
	pl_buf_adds(b, "    pl_services:");
	if (!s || !s->services || !s->services[0])
		pl_buf_adds(b, " []");
	for (size_t i = 0; s && s->services && s->services[i]; i++) {
		pl_buf_adds(b, "\n      - ");
		yu(b, s->services[i]);
	}
	pl_buf_adds(b, "\n    pl_ports:");
	if (!s || !s->nports)
		pl_buf_adds(b, " []");
	for (size_t i = 0; s && i < s->nports; i++)
		pl_buf_addf(b, "\n      - %ld", s->ports[i]);
	pl_buf_adds(b, "\n    pl_files:");
	if (!s || !s->files || !s->files[0])
		pl_buf_adds(b, " []");
	for (size_t i = 0; s && s->files && s->files[i]; i++) {
		pl_buf_adds(b, "\n      - ");
		yu(b, s->files[i]);
	}
	pl_buf_adds(b, "\n    pl_commands:");
	if (!s || !s->ncommands)
		pl_buf_adds(b, " []");
	for (size_t i = 0; s && i < s->ncommands; i++) {
		pl_buf_adds(b, "\n      - name: ");
		yu(b, s->commands[i].name);
		pl_buf_adds(b, "\n        run: ");
		yu(b, s->commands[i].run);
		pl_buf_addf(b, "\n        expect_exit: %d\n        timeout: %u",
		            s->commands[i].expect_exit, s->commands[i].timeout);
	}
	pl_buf_addc(b, '\n');
}

/* Tasks that point the host at the wave repository and install from it. */
static void tasks_repo(const struct rollout_ansible_wave *w, const char *name, struct pl_buf *b)
{
	PL_AUTOFREE char *keyring = pl_strdupf("/etc/apt/keyrings/%s.gpg", name);
	PL_AUTOFREE char *list = pl_strdupf("/etc/apt/sources.list.d/%s.sources", name);
	PL_AUTOFREE char *src = pl_strdupf(
	    "Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\n", w->repo_url,
	    w->repo_suite, w->repo_component ? w->repo_component : "main", keyring);

	pl_buf_adds(b, "    - name: the directory of apt's keyrings\n"
	               "      ansible.builtin.file:\n"
	               "        path: /etc/apt/keyrings\n"
	               "        state: directory\n"
	               "        mode: \"0755\"\n"
	               "    - name: the wave repository's signing key\n"
	               "      ansible.builtin.copy:\n"
	               "        src: files/keyring.gpg\n"
	               "        dest: ");
	yu(b, keyring);
	pl_buf_adds(b, "\n        mode: \"0644\"\n"
	               "    - name: the wave repository as an apt source\n"
	               "      ansible.builtin.copy:\n"
	               "        content: ");
	yu(b, src);
	pl_buf_adds(b, "\n        dest: ");
	yu(b, list);
	pl_buf_adds(b, "\n        mode: \"0644\"\n"
	               "    - name: exactly the approved versions, from the wave repository\n"
	               "      ansible.builtin.apt:\n"
	               "        name: \"{{ pl_packages | map(attribute='spec') | list }}\"\n"
	               "        state: present\n"
	               "        update_cache: true\n"
	               "        allow_downgrade: true\n");
}

/* Tasks that copy the .debs (SHA-256 checked on the host) and install them
 * in one apt transaction. */
static void tasks_copy(const char *name, struct pl_buf *b)
{
	PL_AUTOFREE char *dir = pl_strdupf("/var/cache/patchlab/%s", name);

	pl_buf_adds(b, "    - name: the directory for the wave's packages\n"
	               "      ansible.builtin.file:\n"
	               "        path: ");
	yu(b, dir);
	pl_buf_adds(b, "\n        state: directory\n"
	               "        mode: \"0700\"\n"
	               "    - name: the approved .debs\n"
	               "      ansible.builtin.copy:\n"
	               "        src: \"files/{{ item.deb }}\"\n"
	               "        dest: \"");
	pl_buf_adds(b, dir);
	pl_buf_adds(b, "/{{ item.deb }}\"\n"
	               "        mode: \"0644\"\n"
	               "      loop: \"{{ pl_packages }}\"\n"
	               "      loop_control:\n"
	               "        label: \"{{ item.deb }}\"\n"
	               "    - name: their SHA-256 on the host\n"
	               "      ansible.builtin.stat:\n"
	               "        path: \"");
	pl_buf_adds(b, dir);
	pl_buf_adds(b, "/{{ item.deb }}\"\n"
	               "        checksum_algorithm: sha256\n"
	               "      loop: \"{{ pl_packages }}\"\n"
	               "      loop_control:\n"
	               "        label: \"{{ item.deb }}\"\n"
	               "      register: pl_debs\n"
	               "    - name: each .deb is the one the lab tested\n"
	               "      ansible.builtin.assert:\n"
	               "        that: item.stat.checksum == item.item.sha256\n"
	               "        fail_msg: \"{{ item.item.deb }}: SHA-256 {{ item.stat.checksum }}, "
	               "expected {{ item.item.sha256 }}\"\n"
	               "        quiet: true\n"
	               "      loop: \"{{ pl_debs.results }}\"\n"
	               "      loop_control:\n"
	               "        label: \"{{ item.item.deb }}\"\n"
	               "    - name: exactly the approved versions, in one apt transaction\n"
	               "      ansible.builtin.command:\n"
	               "        argv: \"{{ ['apt-get', 'install', '-y', '--allow-downgrades', "
	               "'-o', 'Dpkg::Options::=--force-confold'] + (pl_packages | "
	               "map(attribute='deb') | map('regex_replace', '^', '");
	pl_buf_adds(b, dir);
	pl_buf_adds(b, "/') | list) }}\"\n"
	               "      environment:\n"
	               "        DEBIAN_FRONTEND: noninteractive\n"
	               "      changed_when: true\n");
}

/* The checks after the install: the versions, then the lab's smoke checks. */
static void tasks_checks(struct pl_buf *b)
{
	pl_buf_adds(
	    b,
	    "    - name: what dpkg has installed\n"
	    "      ansible.builtin.package_facts:\n"
	    "        manager: apt\n"
	    "    - name: each approved version is installed\n"
	    "      ansible.builtin.assert:\n"
	    "        that: item.version in (ansible_facts.packages[item.name] | default([]) | "
	    "map(attribute='version') | list)\n"
	    "        fail_msg: \"{{ item.name }} {{ item.version }} is not installed\"\n"
	    "        quiet: true\n"
	    "      loop: \"{{ pl_packages }}\"\n"
	    "      loop_control:\n"
	    "        label: \"{{ item.name }}\"\n"
	    "    - name: the state of the services\n"
	    "      ansible.builtin.service_facts:\n"
	    "      when: pl_services | length > 0\n"
	    "    - name: smoke, the required services run\n"
	    "      ansible.builtin.assert:\n"
	    "        that: (ansible_facts.services[item] | default({})).state | default('') == "
	    "'running'\n"
	    "        fail_msg: \"{{ item }} is not running\"\n"
	    "        quiet: true\n"
	    "      loop: \"{{ pl_services }}\"\n"
	    "    - name: smoke, the required ports listen\n"
	    "      ansible.builtin.wait_for:\n"
	    "        port: \"{{ item }}\"\n"
	    "        state: started\n"
	    "        timeout: 30\n"
	    "      loop: \"{{ pl_ports }}\"\n"
	    "    - name: smoke, the required files\n"
	    "      ansible.builtin.stat:\n"
	    "        path: \"{{ item }}\"\n"
	    "      loop: \"{{ pl_files }}\"\n"
	    "      register: pl_stat\n"
	    "    - name: smoke, the required files exist\n"
	    "      ansible.builtin.assert:\n"
	    "        that: item.stat.exists\n"
	    "        fail_msg: \"{{ item.item }} is missing\"\n"
	    "        quiet: true\n"
	    "      loop: \"{{ pl_stat.results }}\"\n"
	    "      loop_control:\n"
	    "        label: \"{{ item.item }}\"\n"
	    "    - name: smoke, the lab's commands (as the lab's agent runs them)\n"
	    "      ansible.builtin.command:\n"
	    "        argv: [\"timeout\", \"-k\", \"10\", \"{{ item.timeout }}\", \"sh\", \"-c\", "
	    "\"{{ item.run }}\"]\n"
	    "      register: pl_cmd\n"
	    "      changed_when: false\n"
	    "      failed_when: pl_cmd.rc == 124 or pl_cmd.rc != item.expect_exit\n"
	    "      loop: \"{{ pl_commands }}\"\n"
	    "      loop_control:\n"
	    "        label: \"{{ item.name }}\"\n");
}

static void playbook_yaml(const struct rollout_ansible_wave *w, const char *group, const char *name,
                          struct pl_buf *b)
{
	pl_buf_adds(b, "# patchlab export: wave ");
	yq(b, w->wave);
	pl_buf_adds(b, " of ");
	yq(b, w->rollout);
	pl_buf_adds(b, " (generated; do not edit).\n"
	               "# Installs exactly the approved versions (downgrading when a rollback\n"
	               "# export names older ones; nothing else is upgraded or held), checks\n"
	               "# them, then runs the lab's smoke checks. Every value is data (!unsafe):\n"
	               "# Ansible never templates it. Run: ansible-playbook -i inventory.yml "
	               "playbook.yml\n"
	               "- name: ");
	{
		PL_AUTOFREE char *title = pl_strdupf("patchlab %s, wave %s", w->rollout, w->wave);

		yu(b, title);
	}
	pl_buf_addf(b, "\n  hosts: %s\n  become: true\n  gather_facts: false\n  serial: ", group);
	yq(b, w->serial ? w->serial : "100%");
	pl_buf_addf(b, "\n  max_fail_percentage: %d\n", (int)(w->halt_failure_rate * 100 + 1e-9));
	playbook_vars(w, b);
	pl_buf_adds(b, "  tasks:\n");
	if (w->repo_url)
		tasks_repo(w, name, b);
	else
		tasks_copy(name, b);
	tasks_checks(b);
}

/* Copies src into dir/name, checking sha256 when given. */
static int file_put(const char *src, const char *dir, const char *name, const char *sha256,
                    struct pl_err *err)
{
	PL_AUTOFREE char *data = NULL, *dst = pl_path_join(dir, name);
	struct pl_sha256 h;
	char hex[65];
	size_t len;

	if (pl_file_read(src, &data, &len, err) < 0)
		return err->code;
	if (sha256) {
		pl_sha256_init(&h);
		pl_sha256_update(&h, data, len);
		pl_sha256_hex(&h, hex);
		if (strcmp(hex, sha256) != 0)
			return pl_error(err, PL_EINVAL, "%s: SHA-256 %s, but %s was expected", src,
			                hex, sha256);
	}
	return pl_file_write_atomic(dst, data, len, 0644, err);
}

static int text_put(const char *dir, const char *name, const struct pl_buf *b, struct pl_err *err)
{
	PL_AUTOFREE char *p = pl_path_join(dir, name);

	return pl_file_write_atomic(p, b->s, b->len, 0644, err);
}

/* Replaces outdir with tmp: an existing outdir must be a previous export. */
static int swap_in(const char *tmp, const char *outdir, struct pl_err *err)
{
	PL_AUTOFREE char *marker = pl_path_join(outdir, EXPORT_MARKER);
	PL_AUTOFREE char *old = pl_strdupf("%s.old-%ld", outdir, (long)getpid());
	struct stat sb;

	if (lstat(outdir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode) || !pl_path_exists(marker))
			return pl_error(err, PL_EEXIST,
			                "%s exists and is not a patchlab export: not replaced",
			                outdir);
		if (rename(outdir, old) < 0)
			return pl_error(err, PL_EIO, "%s: %s", outdir, strerror(errno));
	}
	if (rename(tmp, outdir) < 0) {
		int e = errno;

		rename(old, outdir);
		return pl_error(err, PL_EIO, "%s: %s", outdir, strerror(e));
	}
	return rollout_rmtree(old, err);
}

int rollout_ansible_export(const struct rollout_ansible_wave *w, const char *outdir,
                           struct pl_err *err)
{
	PL_AUTOFREE char *tmp = NULL, *files = NULL, *gw = NULL, *gr = NULL, *group = NULL;
	PL_AUTOFREE char *name = NULL;
	PL_AUTOBUF struct pl_buf inv = PL_BUF_INIT, play = PL_BUF_INIT, mark = PL_BUF_INIT;
	int rc;

	if (wave_check(w, err) < 0)
		return err->code;
	if (!outdir || !*outdir)
		return pl_error(err, PL_EUSAGE, "--out DIR is needed");
	gw = slug(w->wave);
	gr = slug(w->rollout);
	group = pl_strdupf("patchlab_%s", gw);
	name = pl_strdupf("patchlab-%s-%s", gr, gw);
	tmp = pl_strdupf("%s.tmp-%ld", outdir, (long)getpid());
	files = pl_path_join(tmp, "files");
	rollout_rmtree(tmp, err);
	if (pl_mkdir_p(files, 0755, err) < 0)
		return err->code;
	inventory_yaml(w, group, &inv);
	playbook_yaml(w, group, name, &play);
	pl_buf_addf(&mark, "{\"rollout\": \"%s\", \"wave\": \"%s\"}\n", gr, gw);
	rc = text_put(tmp, "inventory.yml", &inv, err);
	if (rc == 0)
		rc = text_put(tmp, "playbook.yml", &play, err);
	if (rc == 0)
		rc = text_put(tmp, EXPORT_MARKER, &mark, err);
	if (rc == 0 && w->repo_url)
		rc = file_put(w->repo_keyring, files, "keyring.gpg", NULL, err);
	for (size_t i = 0; rc == 0 && !w->repo_url && i < w->npkgs; i++) {
		PL_AUTOFREE char *deb = deb_name(&w->pkgs[i]);

		rc = file_put(w->pkgs[i].path, files, deb, w->pkgs[i].sha256, err);
	}
	if (rc == 0)
		rc = swap_in(tmp, outdir, err);
	if (rc < 0) {
		struct pl_err ignored = PL_ERR_INIT;

		rollout_rmtree(tmp, &ignored);
		return pl_error_prefix(err, "exporting wave %s", w->wave);
	}
	return 0;
}

/* ---- from the state: the candidate, the inventory, the lab ------------------------------------
 */

/* The hosts the request names or selects, as {name, ip} objects. */
static int request_hosts(struct store *st, const struct rollout_ansible_request *q, json_t **out,
                         struct pl_err *err)
{
	json_t *all = NULL, *v, *sel = json_array();
	size_t i;

	*out = NULL;
	if (q->hosts && q->hosts[0] && (q->role || q->environment || q->tag)) {
		json_decref(sel);
		return pl_error(err, PL_EUSAGE,
		                "--host names the hosts; --role, --environment and --tag select "
		                "them: not both");
	}
	if (q->hosts && q->hosts[0]) {
		for (i = 0; q->hosts[i]; i++) {
			if (inv_host_show(st, q->hosts[i], 0, &v, err) < 0) {
				json_decref(sel);
				return err->code;
			}
			json_array_append_new(sel, v);
		}
		*out = sel;
		return 0;
	}
	if (!q->role && !q->environment && !q->tag) {
		json_decref(sel);
		return pl_error(err, PL_EUSAGE,
		                "name the hosts (--host) or select them (--role, --environment, "
		                "--tag)");
	}
	if (inv_host_list(st, q->role, q->environment, &all, err) < 0) {
		json_decref(sel);
		return err->code;
	}
	json_array_foreach (all, i, v) {
		json_t *t;
		size_t k;
		int has = !q->tag;

		json_array_foreach (json_object_get(v, "tags"), k, t)
			has |= q->tag && json_is_string(t) &&
			       strcmp(json_string_value(t), q->tag) == 0;
		if (has)
			json_array_append(sel, v);
	}
	json_decref(all);
	if (!json_array_size(sel)) {
		json_decref(sel);
		return pl_error(err, PL_EUSAGE, "no inventory host matches the selection");
	}
	*out = sel;
	return 0;
}

int rollout_ansible_export_candidate(struct store *st, const struct rollout_ansible_request *q,
                                     json_t **out, struct pl_err *err)
{
	static const char *const ok[] = {"approved", "scheduled", "rolling-out", "deployed", NULL};
	struct candidate c;
	struct lab_def lab;
	struct rollout_ansible_wave w = {0};
	struct rollout_ansible_host *hosts = NULL;
	struct rollout_ansible_pkg *pkgs = NULL;
	json_t *sel = NULL, *v, *names;
	size_t i;
	int rc, allowed = 0;

	if (out)
		*out = NULL;
	if (!q->candidate || !q->wave)
		return pl_error(err, PL_EUSAGE, "--candidate and --wave are needed");
	if (candidate_get(st, q->candidate, &c, err) < 0)
		return err->code;
	for (i = 0; ok[i]; i++)
		allowed |= strcmp(c.state, ok[i]) == 0;
	if (!allowed) {
		rc = pl_error(err, PL_ESTATE,
		              "candidate '%s' is %s, not approved: only approved versions are "
		              "exported",
		              q->candidate, c.state);
		candidate_clear(&c);
		return rc;
	}
	rc = q->lab_file ? lab_def_load(q->lab_file, &lab, err) : lab_def_default(&lab, err);
	if (rc < 0) {
		candidate_clear(&c);
		return rc;
	}
	rc = request_hosts(st, q, &sel, err);
	if (rc == 0) {
		hosts = pl_calloc(json_array_size(sel) + 1, sizeof(*hosts));
		json_array_foreach (sel, i, v) {
			hosts[i].name = json_string_value(json_object_get(v, "name"));
			hosts[i].address = json_string_value(json_object_get(v, "ip"));
		}
		pkgs = pl_calloc(c.npatches + 1, sizeof(*pkgs));
		for (i = 0; i < c.npatches; i++)
			pkgs[i] = (struct rollout_ansible_pkg){
			    c.patches[i].package, c.patches[i].version, c.patches[i].arch,
			    c.patches[i].path, c.patches[i].sha256};
		w = (struct rollout_ansible_wave){
		    .rollout = q->candidate,
		    .wave = q->wave,
		    .hosts = hosts,
		    .nhosts = json_array_size(sel),
		    .pkgs = pkgs,
		    .npkgs = c.npatches,
		    .smoke = &lab,
		    .serial = q->serial,
		    .halt_failure_rate = q->halt_failure_rate,
		    .repo_url = q->repo_url,
		    .repo_suite = q->repo_suite,
		    .repo_component = q->repo_component,
		    .repo_keyring = q->repo_keyring,
		};
		rc = rollout_ansible_export(&w, q->outdir, err);
	}
	if (rc == 0 && out) {
		names = json_array();
		json_array_foreach (sel, i, v)
			json_array_append(names, json_object_get(v, "name"));
		*out = json_pack("{s:s, s:s, s:s, s:o, s:I, s:s}", "outdir", q->outdir, "candidate",
		                 q->candidate, "wave", q->wave, "hosts", names, "packages",
		                 (json_int_t)c.npatches, "mode", q->repo_url ? "repo" : "copy");
	}
	free(hosts);
	free(pkgs);
	json_decref(sel);
	lab_def_free(&lab);
	candidate_clear(&c);
	return rc;
}
