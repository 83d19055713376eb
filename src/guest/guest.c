/* guest.c - libguestfs handles and file operations. */
#include "guest.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

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

/* ---- launching, with a watchdog and one retry ------------------------- */

/*
 * Under TCG on a loaded host the appliance sometimes hangs in its boot or
 * dies early; libguestfs's own launch timeout is 20 minutes, longer than a
 * CI run can spare. A watchdog thread kills the appliance's QEMU (a child
 * of this process, found by a name given on its command line) after the
 * launch timeout, and a failed launch is tried once more with libguestfs's
 * debug messages on, so a second failure carries the appliance's last
 * console lines.
 */

#define GUEST_LAUNCH_TIMEOUT_DEFAULT 300
#define GUEST_LOG_MAX 16384

struct guest_log {
	char buf[GUEST_LOG_MAX];
	size_t len;
};

static void guest_log_cb(guestfs_h *g, void *opaque, uint64_t event, int handle, int flags,
			 const char *buf, size_t len, const uint64_t *array, size_t alen)
{
	struct guest_log *l = opaque;

	(void)g, (void)event, (void)handle, (void)flags, (void)array, (void)alen;
	if (len >= GUEST_LOG_MAX) {
		buf += len - (GUEST_LOG_MAX - 1);
		len = GUEST_LOG_MAX - 1;
	}
	if (l->len + len >= GUEST_LOG_MAX) {
		size_t drop = l->len + len - (GUEST_LOG_MAX - 1);

		memmove(l->buf, l->buf + drop, l->len - drop);
		l->len -= drop;
	}
	memcpy(l->buf + l->len, buf, len);
	l->len += len;
	l->buf[l->len] = '\0';
}

/* The log's last lines, at most max bytes and starting at a line,
 * control characters other than newline and tab dropped (the appliance's
 * console has escape sequences). */
static void guest_log_tail(const struct guest_log *l, size_t max, struct pl_buf *out)
{
	size_t end = l->len, i;

	while (end > 0 && (l->buf[end - 1] == '\n' || l->buf[end - 1] == '\r'))
		end--;
	i = end > max ? end - max : 0;
	if (i > 0) {
		while (i < end && l->buf[i - 1] != '\n')
			i++;
	}
	for (; i < end; i++) {
		unsigned char c = (unsigned char)l->buf[i];

		if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f))
			pl_buf_addc(out, (char)c);
	}
}

struct guest_watch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int fired;
	unsigned timeout;
	char name[64];
};

/* Kills this process's children whose command line has the argument
 * name: the QEMU of one appliance. Returns how many were signalled. */
static int guest_kill_named(const char *name)
{
	DIR *d = opendir("/proc");
	pid_t self = getpid();
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		PL_AUTOFREE char *stat = NULL, *cmd = NULL;
		char path[64], *p;
		long ppid = -1;
		size_t len = 0;
		pid_t pid = (pid_t)strtol(e->d_name, &p, 10);

		if (*p || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (pl_file_read(path, &stat, NULL, NULL) < 0)
			continue;
		/* "pid (comm) state ppid ...": comm may hold anything, so
		 * parse from its closing parenthesis */
		p = strrchr(stat, ')');
		if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != self)
			continue;
		/* QEMU's command line runs to kilobytes with a few disks, and
		 * -name comes last: read it whole */
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		if (pl_file_read(path, &cmd, &len, NULL) < 0)
			continue;
		for (char *a = cmd; a < cmd + len; a += strlen(a) + 1)
			if (strcmp(a, name) == 0) {
				if (kill(pid, SIGKILL) == 0)
					n++;
				break;
			}
	}
	closedir(d);
	return n;
}

static void *guest_watch_run(void *arg)
{
	struct guest_watch *w = arg;
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += w->timeout;
	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		if (pthread_cond_timedwait(&w->cv, &w->mu, &t) != ETIMEDOUT)
			continue;
		/* The appliance may not have been started yet (supermin
		 * still building it): keep looking once a second until the
		 * launch returns. */
		w->fired = 1;
		pthread_mutex_unlock(&w->mu);
		guest_kill_named(w->name);
		pthread_mutex_lock(&w->mu);
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += 1;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* The launch timeout in seconds: the caller's, else the environment's
 * PATCHLAB_GUESTFS_LAUNCH_TIMEOUT, else 300. */
static int guest_launch_timeout(const struct guest_opts *o, unsigned *out, struct pl_err *err)
{
	const char *env = getenv("PATCHLAB_GUESTFS_LAUNCH_TIMEOUT");
	char *end;
	long v;

	*out = GUEST_LAUNCH_TIMEOUT_DEFAULT;
	if (o && o->launch_timeout > 0) {
		*out = o->launch_timeout;
		return 0;
	}
	if (!env || !*env)
		return 0;
	errno = 0;
	v = strtol(env, &end, 10);
	if (errno || *end || v < 1 || v > 86400)
		return pl_error(err, PL_EINVAL,
				"PATCHLAB_GUESTFS_LAUNCH_TIMEOUT: '%s' is not a number of seconds "
				"from 1 to 86400", env);
	*out = (unsigned)v;
	return 0;
}

/* Launches g under the watchdog. On failure err has libguestfs's message,
 * "did not start within N s" when the watchdog killed it. */
static int guest_launch_watched(guestfs_h *g, unsigned timeout, const char *name,
				struct pl_err *err)
{
	struct guest_watch w = {.timeout = timeout};
	pthread_condattr_t ca;
	pthread_t th;
	int started, rc;

	/* the deadline on the monotonic clock: a wall clock set back must
	 * not stretch it */
	pthread_mutex_init(&w.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(w.name, sizeof(w.name), "%s", name);
	started = pthread_create(&th, NULL, guest_watch_run, &w) == 0;
	rc = guestfs_launch(g);
	if (started) {
		pthread_mutex_lock(&w.mu);
		w.done = 1;
		pthread_cond_signal(&w.cv);
		pthread_mutex_unlock(&w.mu);
		pthread_join(th, NULL);
	}
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	if (rc == 0)
		return 0;
	if (w.fired)
		return pl_error(err, PL_EENV,
				"launching the libguestfs appliance: it did not start within %u s "
				"(killed; PATCHLAB_GUESTFS_LAUNCH_TIMEOUT sets the limit)",
				timeout);
	return guest_error(g, err, "launching the libguestfs appliance");
}

/* One attempt: a new handle, configured, the disks added, launched.
 * *at_launch is set when it failed in the launch itself (worth a retry;
 * a bad drive or setting fails the same way again). */
static int guest_attempt(const struct guest_disk *disks, size_t n, const struct guest_opts *o,
			 unsigned timeout, struct guest_log *log, guestfs_h **out,
			 int *at_launch, struct pl_err *err)
{
	static unsigned seq;
	PL_AUTOGUESTFS guestfs_h *g = guestfs_create_flags(GUESTFS_CREATE_NO_ENVIRONMENT);
	const char *cache = o && o->cache_unsafe ? "unsafe" : "writeback";
	int ro = o && o->readonly;
	char name[64];

	if (!g)
		return pl_error(err, PL_EENV, "cannot create a libguestfs handle");
	/* Errors come back through guestfs_last_error; nothing prints. */
	guestfs_set_error_handler(g, NULL, NULL);
	if (guestfs_parse_environment(g) < 0 || guest_configure(g, o, err) < 0)
		return err->code ? err->code : guest_error(g, err, "libguestfs environment");
	/* The name the watchdog finds the appliance's QEMU by. */
	snprintf(name, sizeof(name), "patchlab-guestfs-%d-%u", (int)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	if (guestfs_config(g, "-name", name) < 0)
		return guest_error(g, err, "libguestfs -name");
	if (log) {
		log->len = 0;
		log->buf[0] = '\0';
		if (guestfs_set_verbose(g, 1) < 0 ||
		    guestfs_set_event_callback(g, guest_log_cb,
					       GUESTFS_EVENT_APPLIANCE | GUESTFS_EVENT_LIBRARY |
						   GUESTFS_EVENT_WARNING,
					       0, log) < 0)
			return guest_error(g, err, "libguestfs log");
	}
	for (size_t i = 0; i < n; i++) {
		int rc = disks[i].format
			     ? guestfs_add_drive_opts(g, disks[i].path, GUESTFS_ADD_DRIVE_OPTS_FORMAT,
						      disks[i].format, GUESTFS_ADD_DRIVE_OPTS_READONLY,
						      ro, GUESTFS_ADD_DRIVE_OPTS_CACHEMODE, cache, -1)
			     : guestfs_add_drive_opts(g, disks[i].path,
						      GUESTFS_ADD_DRIVE_OPTS_READONLY, ro,
						      GUESTFS_ADD_DRIVE_OPTS_CACHEMODE, cache, -1);

		if (rc < 0)
			return guest_error(g, err, disks[i].path);
	}
	if (guest_launch_watched(g, timeout, name, err) < 0) {
		*at_launch = 1;
		return err->code;
	}
	if (log) {
		/* the verbose messages were for the launch only */
		guestfs_set_verbose(g, 0);
		guestfs_delete_event_callback(g, 0);
	}
	*out = PL_STEAL(g);
	return 0;
}

int guest_open_disks(const struct guest_disk *disks, size_t n, const struct guest_opts *o,
		     guestfs_h **out, struct pl_err *err)
{
	struct pl_err first = PL_ERR_INIT;
	unsigned timeout;
	int at_launch = 0;

	if (guest_launch_timeout(o, &timeout, err) < 0)
		return err->code;
	if (guest_attempt(disks, n, o, timeout, NULL, out, &at_launch, &first) == 0)
		return 0;
	if (!at_launch)
		return pl_error(err, first.code, "%s", first.msg);
	pl_warn("%s; trying once more with the appliance's log kept", first.msg);

	struct guest_log *log = pl_calloc(1, sizeof(*log));
	PL_AUTOBUF struct pl_buf tail = PL_BUF_INIT;
	int rc = guest_attempt(disks, n, o, timeout, log, out, &at_launch, err);

	if (rc < 0) {
		struct pl_err second = *err;

		guest_log_tail(log, 1100, &tail);
		pl_error(err, second.code, "%.500s (the second attempt; the first: %.300s)%s%s",
			 second.msg, first.msg, tail.len ? "; the appliance's last lines:\n" : "",
			 tail.len ? tail.s : "");
	}
	free(log);
	return rc;
}

int guest_open(const char *disk, const struct guest_opts *o, guestfs_h **out, struct pl_err *err)
{
	struct guest_disk d = {disk, o ? o->format : NULL};

	return guest_open_disks(&d, 1, o, out, err);
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
