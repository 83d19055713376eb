/*
 * boot.c - clone, boot one VM, wait for it to report that it is up.
 *
 * "Up" is the boot marker line the golden image prints on its serial
 * console once systemd has settled ("patchlab-ready: state=..."); images
 * without the marker (imports) count as up at the console's login prompt.
 * The console log file is the evidence either way. No network path to the
 * guest is needed.
 */
#include "lab-private.h"

#include <poll.h>

#define LAB_MARKER "patchlab-ready:"

void boot_ctx_free(struct boot_ctx *b)
{
	free(b->console);
	free(b->disk);
	free(b->network);
	free(b->tftp);
	free(b->cmdline);
	free(b->domain);
	json_decref(b->stages);
}

void boot_ctx_names(struct boot_ctx *b, const struct lab_vm *vm, const char *kernel,
		    const char *initrd, const char *root_uuid)
{
	b->vm = vm;
	b->kernel = kernel;
	b->initrd = initrd;
	snprintf(b->mac, sizeof(b->mac), "52:54:00:%c%c:%c%c:%c%c", b->run.id[2], b->run.id[3],
		 b->run.id[4], b->run.id[5], b->run.id[6], b->run.id[7]);
	b->console = pl_strdupf("%s/%s.console.log", b->run.dir, vm->name);
	b->domain = pl_strdupf("patchlab-%s-%s", b->run.id, vm->name);
	b->cmdline = pl_strdupf("root=UUID=%s ro console=ttyS0,115200n8 panic=-1",
				root_uuid ? root_uuid : "");
}

void boot_ctx_set_kernel(struct boot_ctx *b, const char *kernel, const char *initrd,
			 const char *root_uuid)
{
	b->kernel = kernel;
	b->initrd = initrd;
	free(b->cmdline);
	b->cmdline = pl_strdupf("root=UUID=%s ro console=ttyS0,115200n8 panic=-1",
				root_uuid ? root_uuid : "");
}

/* The last lines of the console log, for reports and errors. */
char *boot_console_tail(const char *path, int lines)
{
	PL_AUTOFREE char *text = NULL;
	size_t len = 0;
	const char *p;
	int seen = 0;

	if (pl_file_read(path, &text, &len, NULL) < 0)
		return pl_strdup("");
	for (p = text + len; p > text; p--)
		if (p[-1] == '\n' && p != text + len && ++seen > lines)
			break;
	return pl_strdup(p);
}

int boot_storage(struct boot_ctx *b, struct pl_err *err)
{
	virStoragePoolPtr pool = NULL;
	int rc = lab_pool_ensure(b->run.st, b->run.conn, &pool, err);

	if (rc == 0)
		rc = lab_clone_volume(&b->run, pool, b->im, b->vm->name, &b->disk, err);
	if (pool)
		virStoragePoolFree(pool);
	return rc;
}

int boot_network(struct boot_ctx *b, enum lab_boot mode, struct pl_err *err)
{
	const char *macs[] = {b->mac};

	if (mode == LAB_BOOT_PXE) {
		b->tftp = pl_path_join(b->run.dir, "tftp");
		if (lab_run_track(&b->run, "dir", b->tftp, err) < 0 ||
		    lab_tftp_prepare(b->tftp, b->kernel, b->initrd, b->cmdline, macs, 1, err) < 0)
			return err->code;
	}
	return lab_network_create(&b->run, b->def, b->tftp, macs, 1, &b->network, err);
}

int boot_domain(struct boot_ctx *b, enum lab_boot mode, const char *virt_type,
		       struct pl_err *err)
{
	const struct lab_vm *vm = b->vm;
	struct lab_domain_spec ds = {
		.name = b->domain, .run_id = b->run.id, .vm = vm->name, .virt_type = virt_type,
		.memory_mib = vm->memory_mib, .vcpus = vm->vcpus, .boot = mode,
		.kernel = b->kernel, .initrd = b->initrd, .cmdline = b->cmdline,
		.disk_path = b->disk, .disk_format = "qcow2", .network = b->network, .mac = b->mac,
		.console_log = b->console};
	PL_AUTOFREE char *xml = NULL;

	/* qboot starts a kernel handed over by QEMU in about a second less
	 * than SeaBIOS under emulation; PXE and disk boots need SeaBIOS. */
	const char *fw = getenv("PATCHLAB_LAB_FIRMWARE");

	if (mode == LAB_BOOT_KERNEL && access(LAB_QBOOT_ROM, R_OK) == 0 &&
	    !(fw && strcmp(fw, "seabios") == 0))
		ds.firmware = LAB_QBOOT_ROM;
	xml = lab_xml_domain(&ds);
	virDomainPtr d;

	if (!xml)
		return pl_error(err, PL_EINTERNAL, "writing the domain XML");
	if (lab_run_track(&b->run, "domain", b->domain, err) < 0)
		return err->code;
	d = virDomainCreateXML(b->run.conn, xml, 0);
	if (!d)
		return lab_virt_error(err, "starting the lab domain");
	b->t_start = pl_monotonic();
	virDomainFree(d);
	return 0;
}

/* 1 while the domain runs; 0 once it is gone or shut off. */
int boot_domain_running(struct boot_ctx *b)
{
	virDomainPtr d = virDomainLookupByName(b->run.conn, b->domain);
	int state = VIR_DOMAIN_NOSTATE, reason = 0;

	if (!d)
		return 0;
	if (virDomainGetState(d, &state, &reason, 0) < 0)
		state = VIR_DOMAIN_SHUTOFF;
	virDomainFree(d);
	return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED ||
	       state == VIR_DOMAIN_PAUSED;
}

/* Waits for the marker (or a login prompt without one), a panic, the
 * domain's end, a signal or the timeout; whatever is not "up" fails. */
int boot_wait(struct boot_ctx *b, json_t *result, struct pl_err *err)
{
	double deadline = b->t_start + b->def->boot_timeout;

	for (;;) {
		PL_AUTOFREE char *text = NULL;
		const char *m;

		pl_file_read(b->console, &text, NULL, NULL);
		m = text ? strstr(text, LAB_MARKER) : NULL;
		if (m && strchr(m, '\n')) {
			json_object_set_new(result, "marker",
					    json_stringn(m, (size_t)(strchr(m, '\n') - m)));
			return 0;
		}
		if (!b->im->boot_marker && text && strstr(text, " login:")) {
			json_object_set_new(result, "marker", json_string("login prompt"));
			return 0;
		}
		if (text && strstr(text, "Kernel panic - not syncing"))
			return pl_error(err, PL_EFAIL, "the guest kernel panicked (console: %s)",
					b->console);
		if (!boot_domain_running(b))
			return pl_error(err, PL_EFAIL,
					"the guest stopped before it came up (console: %s)",
					b->console);
		if (b->interrupted && *b->interrupted)
			return pl_error(err, PL_EENV, "interrupted");
		if (pl_monotonic() > deadline)
			return pl_error(err, PL_EFAIL,
					"the guest did not come up within %u s (console: %s)",
					b->def->boot_timeout, b->console);
		poll(NULL, 0, 250);
	}
}

static int boot_check_image(const struct image *im, enum lab_boot mode, struct pl_err *err)
{
	if (mode != LAB_BOOT_DISK && (!im->kernel_path || !im->initrd_path || !im->root_uuid))
		return pl_error(err, PL_EINVAL,
				"image '%s' has no extracted kernel, initrd or root UUID: boot it "
				"with --boot disk",
				im->name);
	return 0;
}

static int boot_run(struct boot_ctx *b, enum lab_boot mode, json_t *result, struct pl_err *err)
{
	enum lab_accel accel;
	PL_AUTOFREE char *why = NULL;
	int rc;

	if (lab_accel_resolve(b->accel, b->run.st, &accel, &why, err) < 0)
		return err->code;
	json_object_set_new(result, "accelerator", json_string(lab_accel_name(accel)));
	json_object_set_new(result, "accelerator_reason", json_string(why));
	rc = BOOT_STAGE(b, "clone", boot_storage(b, err), "qcow2 overlay on %s", b->im->name);
	if (rc == 0)
		rc = BOOT_STAGE(b, "network", boot_network(b, mode, err), "isolated%s",
				mode == LAB_BOOT_PXE ? ", PXE (TFTP + bootp)" : "");
	if (rc == 0)
		rc = BOOT_STAGE(b, "start", boot_domain(b, mode, accel == LAB_ACCEL_KVM ? "kvm" : "qemu",
							err),
				"%s boot, %s", lab_boot_name(mode), lab_accel_name(accel));
	if (rc == 0)
		rc = BOOT_STAGE(b, "wait", boot_wait(b, result, err), "for the guest (timeout %u s)",
				b->def->boot_timeout);
	if (b->t_start > 0)
		json_object_set_new(result, "boot_seconds",
				    json_real(pl_monotonic() - b->t_start));
	return rc;
}

int lab_boot(struct store *st, const struct image *im, const struct lab_def *def,
	     const struct lab_boot_opts *o, json_t **result, struct pl_err *err)
{
	struct boot_ctx b = {.progress = o->progress, .interrupted = o->interrupted, .def = def,
			     .im = im, .stages = json_array()};
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	enum lab_boot mode = o->boot_set || !def->vms[0].boot_set ? o->boot : def->vms[0].boot;
	json_t *res = json_object();
	PL_AUTOFREE char *tail = NULL;
	struct pl_err eerr = PL_ERR_INIT;
	int rc = boot_check_image(im, mode, err);

	if (rc == 0)
		rc = lab_connect(o->uri, &conn, err);
	if (rc == 0)
		rc = lab_run_begin(st, conn, "boot", im->id, &b.run, err);
	if (rc < 0) {
		json_decref(res);
		boot_ctx_free(&b);
		return rc;
	}
	b.run.keep = o->keep;
	boot_ctx_names(&b, &def->vms[0], im->kernel_path, im->initrd_path, im->root_uuid);
	json_object_set_new(res, "run", json_string(b.run.id));
	json_object_set_new(res, "image", json_string(im->name));
	json_object_set_new(res, "boot", json_string(lab_boot_name(mode)));
	json_object_set_new(res, "domain", json_string(b.domain));
	json_object_set_new(res, "console_log", json_string(b.console));
	b.accel = o->accel;
	rc = boot_run(&b, mode, res, err);
	tail = boot_console_tail(b.console, 25);
	json_object_set_new(res, "console_excerpt", json_string(tail));
	json_object_set_new(res, "stages", json_incref(b.stages));
	json_object_set_new(res, "up", json_boolean(rc == 0));
	json_object_set_new(res, "kept", json_boolean(o->keep));
	if (rc < 0)
		json_object_set_new(res, "error", json_string(err->msg));
	if (lab_run_end(&b.run, rc == 0 ? "passed" : rc == PL_EFAIL ? "failed" : "error", res,
			&eerr) < 0 && rc == 0)
		rc = pl_error(err, eerr.code, "%s", eerr.msg);
	boot_ctx_free(&b);
	*result = res;
	return rc;
}
