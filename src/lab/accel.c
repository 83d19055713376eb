/*
 * accel.c - choosing KVM or TCG.
 *
 * libvirt advertises domain type 'kvm' whenever /dev/kvm exists, but with
 * broken nested virtualisation QEMU aborts ("failed to set MSR") or the
 * guest hangs early. So AUTO boots a probe: the host's own kernel under
 * KVM with no root filesystem must reach its "VFS: Unable to mount root"
 * panic within seconds. Anything else means TCG.
 */
#include "lab.h"

#include <dirent.h>
#include <fcntl.h>

#define ACCEL_PROBE_TIMEOUT 20.0
#define ACCEL_SETTING "lab.accel.probe"

static const char *const accel_names[] = {"auto", "kvm", "tcg"};

int lab_accel_parse(const char *s, enum lab_accel *out, struct pl_err *err)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, accel_names[i]) == 0) {
			*out = (enum lab_accel)i;
			return 0;
		}
	return pl_error(err, PL_EINVAL, "accelerator '%s' is not one of auto, kvm, tcg", s);
}

const char *lab_accel_name(enum lab_accel a)
{
	return accel_names[a];
}

/* The newest /boot/vmlinuz-* of the host, for the probe (caller frees). */
static char *accel_host_kernel(void)
{
	DIR *d = opendir("/boot");
	struct dirent *e;
	char *best = NULL;

	if (!d)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "vmlinuz-", 8) != 0)
			continue;
		if (!best || strcmp(e->d_name, best + 6) > 0) {
			free(best);
			best = pl_strdupf("/boot/%s", e->d_name);
		}
	}
	closedir(d);
	return best;
}

static int accel_probe(char **why)
{
	PL_AUTOFREE char *kernel = accel_host_kernel();
	struct pl_buf out = PL_BUF_INIT;
	struct pl_run_opts ro = {.out = &out, .merge_stderr = 1, .timeout = ACCEL_PROBE_TIMEOUT};
	struct pl_err err = PL_ERR_INIT;
	int status = -1, ok;

	if (!kernel) {
		*why = pl_strdup("no host kernel in /boot to probe KVM with: using TCG");
		return 0;
	}
	{
		const char *argv[] = {"qemu-system-x86_64", "-accel", "kvm", "-cpu", "host",
				      "-m", "256", "-display", "none", "-no-reboot", "-nodefaults",
				      "-serial", "stdio", "-kernel", kernel, "-append",
				      "console=ttyS0 panic=-1", NULL};

		pl_run(argv, &ro, &status, &err);
	}
	ok = strstr(pl_buf_str(&out), "Unable to mount root") != NULL;
	if (ok)
		*why = pl_strdup("KVM probe booted a kernel: using KVM");
	else if (err.code == PL_ETIMEOUT)
		*why = pl_strdup("KVM probe guest hung: using TCG");
	else
		*why = pl_strdupf("KVM probe failed (QEMU exit %d): using TCG", status);
	pl_buf_release(&out);
	return ok;
}

int lab_accel_resolve(enum lab_accel want, struct store *st, enum lab_accel *out, char **why,
		      struct pl_err *err)
{
	const char *env = getenv("PATCHLAB_ACCEL");
	PL_AUTOFREE char *cached = NULL;
	int fd, ok;

	if (want == LAB_ACCEL_AUTO && env && *env && lab_accel_parse(env, &want, err) < 0)
		return pl_error_prefix(err, "PATCHLAB_ACCEL");
	if (want == LAB_ACCEL_TCG) {
		*out = LAB_ACCEL_TCG;
		*why = pl_strdup("TCG forced");
		return 0;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	if (want == LAB_ACCEL_KVM) {
		if (fd < 0)
			return pl_error(err, PL_EENV, "KVM forced but /dev/kvm cannot be opened: %s",
					strerror(errno));
		*out = LAB_ACCEL_KVM;
		*why = pl_strdup("KVM forced");
		return 0;
	}
	if (fd < 0) {
		*out = LAB_ACCEL_TCG;
		*why = pl_strdup("no usable /dev/kvm: using TCG");
		return 0;
	}
	if (st && store_setting_get(st, ACCEL_SETTING, &cached, NULL) == 0) {
		*out = strcmp(cached, "kvm") == 0 ? LAB_ACCEL_KVM : LAB_ACCEL_TCG;
		*why = pl_strdupf("earlier KVM probe (setting %s): using %s", ACCEL_SETTING,
				  cached);
		return 0;
	}
	ok = accel_probe(why);
	*out = ok ? LAB_ACCEL_KVM : LAB_ACCEL_TCG;
	if (st)
		store_setting_set(st, ACCEL_SETTING, ok ? "kvm" : "tcg", NULL);
	return 0;
}
