/*
 * build.c - building a golden image from its manifest.
 *
 * debootstrap fills a directory from the system's apt mirror; libguestfs
 * then makes the partitioned qcow2, copies the tree in and configures it
 * from inside (fstab by UUID, hostname, serial console, empty machine-id,
 * locked root, per-clone ssh host keys, grub, patchlab's boot marker).
 * The result goes to a cache directory named by the manifest's hash, so a
 * rebuild happens only when the manifest (or the recipe) changes.
 */
#include "image-private.h"

#include <sys/stat.h>

#include "guest/guest.h"
#include "repo/repo.h"

/* The boot marker: one line on the serial console once systemd has settled,
 * so the lab knows a clone is up without any network path to it. */
static const char marker_script[] =
	"#!/bin/sh\n"
	"# patchlab boot marker: tell the lab on the serial console that boot settled.\n"
	"state=$(timeout 300 systemctl is-system-running --wait 2>/dev/null)\n"
	"failed=$(systemctl list-units --failed --plain --no-legend 2>/dev/null | wc -l)\n"
	"up=$(cut -d' ' -f1 /proc/uptime)\n"
	"echo \"patchlab-ready: state=${state:-unknown} failed=$failed uptime=$up\" >/dev/ttyS0\n";

static const char marker_unit[] =
	"[Unit]\n"
	"Description=patchlab lab boot marker\n"
	"After=multi-user.target\n"
	"ConditionPathExists=/dev/ttyS0\n"
	"\n"
	"[Service]\n"
	"# simple, not oneshot: a oneshot still starting keeps the boot job open,\n"
	"# and is-system-running --wait would wait for itself.\n"
	"Type=simple\n"
	"ExecStart=/usr/local/sbin/patchlab-ready\n"
	"\n"
	"[Install]\n"
	"WantedBy=multi-user.target\n";

static const char networkd_dhcp[] = "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n";

/* Each clone makes its own ssh host keys: a golden image must not carry any. */
static const char ssh_keygen_dropin[] =
	"[Service]\n"
	"ExecStartPre=\n"
	"ExecStartPre=/usr/bin/ssh-keygen -A\n"
	"ExecStartPre=/usr/sbin/sshd -t\n";

static const char grub_default[] =
	"GRUB_DEFAULT=0\n"
	"GRUB_TIMEOUT=0\n"
	"GRUB_DISTRIBUTOR=Debian\n"
	"GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n"
	"GRUB_CMDLINE_LINUX=\"console=ttyS0,115200n8\"\n"
	"GRUB_TERMINAL=serial\n"
	"GRUB_SERIAL_COMMAND=\"serial --unit=0 --speed=115200\"\n"
	"GRUB_DISABLE_OS_PROBER=true\n";

/* A small initramfs for virtio guests: a 36 MB one takes long over TFTP. */
static const char initramfs_modules[] =
	"virtio_pci\nvirtio_blk\nvirtio_scsi\nvirtio_net\next4\npvpanic\npvpanic_pci\n";

static int build_stage(struct image_build *b, const char *stage, double *t0, int rc)
{
	if (t0)
		pl_progress_end(b->o->progress, stage, rc, *t0);
	return rc;
}

/* debootstrap --variant=V --include=PKGS --arch A SUITE DIR MIRROR */
static int build_debootstrap(struct image_build *b, const char *mirror, struct pl_err *err)
{
	struct pl_buf pkgs = PL_BUF_INIT, comps = PL_BUF_INIT;
	PL_AUTOFREE char *variant = pl_strdupf("--variant=%s", b->m->variant);
	PL_AUTOFREE char *include = NULL, *components = NULL;
	struct pl_run_opts ro = {.log_path = b->log, .timeout = 3600};
	size_t i;
	json_t *v;
	int rc;

	pl_buf_adds(&pkgs, b->m->kernel);
	pl_buf_adds(&pkgs, ",grub-pc-bin,grub2-common,systemd-sysv,udev");
	json_array_foreach(b->m->packages, i, v)
		pl_buf_addf(&pkgs, ",%s", json_string_value(v));
	include = pl_strdupf("--include=%s", pl_buf_str(&pkgs));
	pl_buf_release(&pkgs);
	json_array_foreach(b->m->components, i, v)
		pl_buf_addf(&comps, "%s%s", i ? "," : "", json_string_value(v));
	components = pl_strdupf("--components=%s", comps.len ? comps.s : "main");
	pl_buf_release(&comps);
	{
		const char *argv[] = {"debootstrap", variant, include, components, "--arch",
				      b->m->arch, b->m->suite, b->rootdir, mirror, NULL};

		rc = pl_run_ok(argv, &ro, err);
	}
	if (rc < 0)
		pl_error_prefix(err, "debootstrap of %s from %s", b->m->suite, mirror);
	return rc;
}

/* Packs the tree with numeric owners and xattrs (file capabilities). */
static int build_tar(struct image_build *b, struct pl_err *err)
{
	struct pl_run_opts ro = {.log_path = b->log, .timeout = 1800};
	const char *argv[] = {"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
			      "--exclude=./var/cache/apt/archives/*.deb", "-C", b->rootdir,
			      "-cf", b->tarball, ".", NULL};

	return pl_run_ok(argv, &ro, err);
}

static int build_partition(guestfs_h *g, struct image_build *b, struct pl_err *err)
{
	char *uuid;

	if (guestfs_part_disk(g, "/dev/sda", "mbr") < 0 ||
	    guestfs_part_set_bootable(g, "/dev/sda", 1, 1) < 0 ||
	    guestfs_mkfs_opts(g, "ext4", "/dev/sda1", GUESTFS_MKFS_OPTS_LABEL, "root", -1) < 0)
		return guest_error(g, err, "partitioning the disk");
	uuid = guestfs_vfs_uuid(g, "/dev/sda1");
	if (!uuid)
		return guest_error(g, err, "reading the root filesystem's UUID");
	b->root_uuid = uuid;
	if (guestfs_mount(g, "/dev/sda1", "/") < 0)
		return guest_error(g, err, "mounting the root filesystem");
	if (guestfs_tar_in_opts(g, b->tarball, "/", GUESTFS_TAR_IN_OPTS_XATTRS, 1, -1) < 0)
		return guest_error(g, err, "copying the tree into the disk");
	return 0;
}

static int build_files(guestfs_h *g, struct image_build *b, struct pl_err *err)
{
	PL_AUTOFREE char *fstab = pl_strdupf("UUID=%s / ext4 errors=remount-ro 0 1\n", b->root_uuid);
	PL_AUTOFREE char *hostname = pl_strdupf("%s\n", b->m->hostname);
	PL_AUTOFREE char *hosts = pl_strdupf("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n"
					     "::1\tlocalhost ip6-localhost ip6-loopback\n",
					     b->m->hostname);
	const struct {
		const char *path, *data;
		int mode;
	} files[] = {
		{"/etc/fstab", fstab, 0644},
		{"/etc/hostname", hostname, 0644},
		{"/etc/hosts", hosts, 0644},
		{"/etc/machine-id", "", 0444},
		{"/etc/systemd/network/80-dhcp.network", networkd_dhcp, 0644},
		{"/etc/systemd/system/ssh.service.d/patchlab-keygen.conf", ssh_keygen_dropin, 0644},
		{"/etc/default/grub", grub_default, 0644},
		{"/usr/local/sbin/patchlab-ready", marker_script, 0755},
		{"/etc/systemd/system/patchlab-ready.service", marker_unit, 0644},
	};

	if (guestfs_mkdir_p(g, "/etc/systemd/system/ssh.service.d") < 0 ||
	    guestfs_mkdir_p(g, "/etc/systemd/network") < 0)
		return guest_error(g, err, "creating configuration directories");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (guest_write(g, files[i].path, files[i].data, strlen(files[i].data),
				files[i].mode, err) < 0)
			return err->code;
	if (strcmp(b->m->initramfs, "small") == 0 &&
	    (guest_write(g, "/etc/initramfs-tools/conf.d/patchlab-small", "MODULES=list\n", 13,
			 0644, err) < 0 ||
	     guest_write(g, "/etc/initramfs-tools/modules", initramfs_modules,
			 strlen(initramfs_modules), 0644, err) < 0))
		return err->code;
	return 0;
}

/* Fixed commands run inside the new system (no manifest data in them). */
static int build_commands(guestfs_h *g, struct image_build *b, struct pl_err *err)
{
	static const char *const cmds[] = {
		"rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*",
		"usermod -p '*' root",
		"systemctl enable systemd-networkd.service patchlab-ready.service 2>&1",
		"systemctl disable apt-daily.timer apt-daily-upgrade.timer 2>&1 || true",
		"update-initramfs -u -k all 2>&1",
		"grub-install --target=i386-pc /dev/sda 2>&1",
		"grub-mkconfig -o /boot/grub/grub.cfg 2>&1",
		"apt-get clean",
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		PL_AUTOFREE char *out = NULL;

		if (guest_sh(g, cmds[i], &out, err) < 0)
			return pl_error_prefix(err, "configuring the image");
		build_log_append(b, cmds[i], out);
	}
	return 0;
}

static int build_disk(struct image_build *b, struct pl_err *err)
{
	struct guest_opts go = {.force_tcg = b->o->force_tcg, .format = "qcow2", .memsize_mb = 1024};
	PL_AUTOGUESTFS guestfs_h *g = guestfs_create();
	double t0;

	if (!g)
		return pl_error(err, PL_EENV, "cannot create a libguestfs handle");
	if (guestfs_disk_create(g, b->disk_tmp, "qcow2", (int64_t)b->m->disk_size, -1) < 0)
		return guest_error(g, err, b->disk_tmp);
	guest_closep(&g);
	t0 = pl_progress_begin(b->o->progress, "launch", "libguestfs appliance%s",
			       go.force_tcg ? " (TCG)" : "");
	if (build_stage(b, "launch", &t0, guest_open(b->disk_tmp, &go, &g, err)) < 0)
		return err->code;
	t0 = pl_progress_begin(b->o->progress, "install", "partition, mkfs, copy the tree in");
	if (build_stage(b, "install", &t0, build_partition(g, b, err)) < 0)
		return err->code;
	t0 = pl_progress_begin(b->o->progress, "configure",
			       "fstab, hostname, console, grub, initramfs, boot marker");
	if (build_stage(b, "configure", &t0,
			build_files(g, b, err) < 0 ? err->code : build_commands(g, b, err)) < 0)
		return err->code;
	if (guestfs_umount_all(g) < 0)
		return guest_error(g, err, "unmounting");
	t0 = pl_progress_begin(b->o->progress, "inspect", "libguestfs inspection, packages, kernel");
	if (build_stage(b, "inspect", &t0, image_read_facts(g, b->dir_tmp, &b->facts, err)) < 0)
		return err->code;
	return guest_finish(g, err);
}

static void build_cleanup(struct image_build *b)
{
	if (b->rootdir && pl_path_exists(b->rootdir)) {
		const char *argv[] = {"rm", "-rf", "--one-file-system", b->rootdir, NULL};

		pl_run_ok(argv, NULL, NULL);
	}
	if (b->tarball)
		unlink(b->tarball);
}

int image_build_into(struct image_build *b, struct pl_err *err)
{
	PL_AUTOFREE char *mirror = NULL;
	double t0;
	int rc;

	if (image_mirror(b->m, &mirror, err) < 0)
		return err->code;
	if (!pl_have_program("debootstrap"))
		return pl_error(err, PL_EENV, "debootstrap is not installed (run scripts/setup)");
	t0 = pl_progress_begin(b->o->progress, "debootstrap", "%s %s from the apt mirror",
			       b->m->suite, b->m->variant);
	rc = build_stage(b, "debootstrap", &t0, build_debootstrap(b, mirror, err));
	if (rc == 0) {
		t0 = pl_progress_begin(b->o->progress, "pack", "tar of the tree");
		rc = build_stage(b, "pack", &t0, build_tar(b, err));
	}
	if (rc == 0)
		rc = build_disk(b, err);
	build_cleanup(b);
	if (rc < 0)
		pl_error_prefix(err, "building image '%s' (log: %s)", b->m->name, b->log);
	return rc;
}

int image_mirror(const struct image_manifest *m, char **out, struct pl_err *err)
{
	struct repo_source_list l;
	int rc;

	if (strcmp(m->mirror, "apt-sources") != 0) {
		*out = pl_strdup(m->mirror);
		return 0;
	}
	if (repo_apt_sources_load(NULL, &l, err) < 0)
		return err->code;
	rc = repo_apt_mirror_for(&l, m->suite, out, err);
	repo_source_list_free(&l);
	return rc;
}
