/*
 * exec_libvirt.c - the libvirt VM executor: a production domain patched
 * offline, smoke-booted, and rolled back to its snapshot on failure.
 *
 * The snapshot is a qcow2 overlay: the domain's one writable file disk DISK
 * gets DISK.patchlab-rR-tT.qcow2 on top (backing DISK, its format), and the
 * persistent definition is pointed at the overlay. Why not libvirt's
 * snapshot API: libvirt 9.0 (Debian 12) creates external disk-only
 * snapshots of a shut-off domain but cannot revert to them (that came with
 * 9.9), and internal snapshots need qcow2 disks and, for a running domain,
 * a VM state. An overlay we name ourselves is the same external snapshot
 * without the metadata libvirt could not use: rollback points the domain
 * back at DISK and deletes the overlay (DISK was never written), dropping
 * the snapshot after the soak merges the overlay into DISK - an active
 * block commit and pivot while the domain runs (libvirt then updates the
 * persistent definition itself; checked anyway), 'qemu-img commit' while it
 * is shut off. The overlay's name is derived from the rollout's and the
 * target's ids and recorded before the domain changes, so a run killed at
 * any instant is rolled back the same way by the next one.
 *
 * A running domain is shut down gracefully (ACPI, bounded by the lab file's
 * shutdown timeout; one that does not stop is left running and the target
 * fails with nothing changed), patched offline through src/guest with the
 * same offline checks and smoke agent as the lab, booted by libvirt as it
 * is defined, and judged by the gate policy from what the agent recorded.
 * The agent is injected with "remove_after_run": it removes itself before
 * powering off, so a target that passed is started again as a plain
 * system. It is left running when it was running before, shut off when it
 * was shut off. The QEMU guest agent path (patching a running domain in
 * place) is not implemented: every target takes the offline path.
 */
#include "rollout-private.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <poll.h>
#include <sys/stat.h>

#include "gate/gate.h"
#include "guest_agent_script.h" /* generated from src/guest/agent.sh */
#include "guest_agent_unit.h"   /* generated from src/guest/agent.service */

#define LV_COMMIT_TIMEOUT 600.0

static void lv_domain_freep(virDomainPtr *d)
{
	if (*d)
		virDomainFree(*d);
	*d = NULL;
}
#define PL_AUTOVIRDOM __attribute__((cleanup(lv_domain_freep)))

static void lv_xml_freep(xmlDocPtr *d)
{
	if (*d)
		xmlFreeDoc(*d);
	*d = NULL;
}
#define PL_AUTOXML __attribute__((cleanup(lv_xml_freep)))

/* ---- the domain's disk in its XML -------------------------------------------------- */

static xmlNodePtr lv_child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0)
			return c;
	return NULL;
}

/* An attribute as a malloc'd string (pl_free-able), or NULL. */
static char *lv_prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = v ? pl_strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static xmlDocPtr lv_parse(const char *xml, struct pl_err *err)
{
	xmlDocPtr d = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
	                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	if (!d || !xmlDocGetRootElement(d))
		pl_error(err, PL_EENV, "libvirt returned domain XML libxml2 cannot read");
	return d;
}

struct lv_disk {
	char *dev, *path, *format;
};

static void lv_disk_clear(struct lv_disk *d)
{
	free(d->dev);
	free(d->path);
	free(d->format);
	memset(d, 0, sizeof(*d));
}

/* The one writable file disk of the domain (CD-ROMs, floppies and read-only
 * disks skipped); anything else is refused with the reason. */
int rollout_lv_disk_find(const char *xml, const char *domain, char **dev, char **path,
                         char **format, struct pl_err *err)
{
	PL_AUTOXML xmlDocPtr doc = lv_parse(xml, err);
	xmlNodePtr devices;
	struct lv_disk found = {0};
	int n = 0;

	if (!doc)
		return err->code;
	devices = lv_child(xmlDocGetRootElement(doc), "devices");
	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
		PL_AUTOFREE char *device = NULL, *type = NULL, *tdev = NULL;

		if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST "disk") != 0)
			continue;
		device = lv_prop(c, "device");
		type = lv_prop(c, "type");
		tdev = lv_prop(lv_child(c, "target"), "dev");
		if (device && (strcmp(device, "cdrom") == 0 || strcmp(device, "floppy") == 0))
			continue;
		if (lv_child(c, "readonly"))
			continue;
		if (!type || strcmp(type, "file") != 0)
			return pl_error(
			    err, PL_EINVAL,
			    "domain '%s': disk %s is of type '%s': the libvirt executor "
			    "snapshots file disks only",
			    domain, tdev ? tdev : "?", type ? type : "(none)");
		if (lv_child(c, "shareable"))
			return pl_error(
			    err, PL_EINVAL,
			    "domain '%s': disk %s is shareable: another machine may write it",
			    domain, tdev ? tdev : "?");
		if (++n > 1)
			continue;
		found.dev = PL_STEAL(tdev);
		found.path = lv_prop(lv_child(c, "source"), "file");
		found.format = lv_prop(lv_child(c, "driver"), "type");
	}
	if (n != 1) {
		lv_disk_clear(&found);
		return pl_error(err, PL_EINVAL,
		                "domain '%s' has %d writable disks: the libvirt executor handles "
		                "domains with exactly one",
		                domain, n);
	}
	if (!found.dev || !found.path || !found.format ||
	    (strcmp(found.format, "qcow2") != 0 && strcmp(found.format, "raw") != 0)) {
		int rc = pl_error(err, PL_EINVAL,
		                  "domain '%s': disk %s needs a <source file> and a driver type "
		                  "qcow2 or raw (has %s)",
		                  domain, found.dev ? found.dev : "?",
		                  found.format ? found.format : "none");

		lv_disk_clear(&found);
		return rc;
	}
	*dev = found.dev;
	*path = found.path;
	*format = found.format;
	return 0;
}

/* xml with disk dev's source set to path in format (and no backing chain
 * description left over); *out is the caller's. */
int rollout_lv_disk_set(const char *xml, const char *dev, const char *path, const char *format,
                        char **out, struct pl_err *err)
{
	PL_AUTOXML xmlDocPtr doc = lv_parse(xml, err);
	xmlNodePtr devices;
	xmlChar *mem = NULL;
	int len = 0;

	*out = NULL;
	if (!doc)
		return err->code;
	devices = lv_child(xmlDocGetRootElement(doc), "devices");
	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
		PL_AUTOFREE char *tdev = NULL;
		xmlNodePtr src, drv, bs;

		if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST "disk") != 0)
			continue;
		tdev = lv_prop(lv_child(c, "target"), "dev");
		if (!tdev || strcmp(tdev, dev) != 0)
			continue;
		src = lv_child(c, "source");
		drv = lv_child(c, "driver");
		if (!src || !drv)
			return pl_error(err, PL_EINVAL, "disk %s has no <source> or <driver>", dev);
		xmlSetProp(src, BAD_CAST "file", BAD_CAST path);
		xmlSetProp(drv, BAD_CAST "type", BAD_CAST format);
		while ((bs = lv_child(c, "backingStore"))) {
			xmlUnlinkNode(bs);
			xmlFreeNode(bs);
		}
		xmlDocDumpMemory(doc, &mem, &len);
		if (!mem)
			return pl_error(err, PL_ENOMEM, "writing the domain XML");
		*out = pl_strndup((const char *)mem, (size_t)len);
		xmlFree(mem);
		return 0;
	}
	return pl_error(err, PL_EINVAL, "the domain has no disk %s any more", dev);
}

/* ---- libvirt helpers ------------------------------------------------------------- */

static int lv_open(const char *uri, const char *domain, virConnectPtr *conn, virDomainPtr *dom,
                   struct pl_err *err)
{
	if (lab_connect(uri, conn, err) < 0)
		return err->code;
	*dom = virDomainLookupByName(*conn, domain);
	if (!*dom) {
		lab_virt_error(err, domain);
		return pl_error_prefix(err, "domain '%s' on %s", domain, uri);
	}
	return 0;
}

/* 1 while the domain runs (or is paused, or shutting down), 0 when it is off. */
static int lv_active(virDomainPtr d)
{
	int state = VIR_DOMAIN_NOSTATE, reason = 0;

	if (virDomainGetState(d, &state, &reason, 0) < 0)
		return virDomainIsActive(d) == 1;
	return state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_CRASHED;
}

/* The disk source of the persistent definition (or the live one). */
static int lv_source(virDomainPtr d, const char *dev, int live, char **path, struct pl_err *err)
{
	PL_AUTOFREE char *xml = virDomainGetXMLDesc(d, live ? 0 : VIR_DOMAIN_XML_INACTIVE);
	PL_AUTOXML xmlDocPtr doc = NULL;
	xmlNodePtr devices;

	*path = NULL;
	if (!xml)
		return lab_virt_error(err, "reading the domain's XML");
	if (!(doc = lv_parse(xml, err)))
		return err->code;
	devices = lv_child(xmlDocGetRootElement(doc), "devices");
	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
		PL_AUTOFREE char *tdev = NULL;

		if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST "disk") != 0)
			continue;
		tdev = lv_prop(lv_child(c, "target"), "dev");
		if (tdev && strcmp(tdev, dev) == 0) {
			*path = lv_prop(lv_child(c, "source"), "file");
			return 0;
		}
	}
	return pl_error(err, PL_EINVAL, "the domain has no disk %s any more", dev);
}

/* Points the persistent definition's disk at path (format). */
static int lv_define_disk(virDomainPtr d, const char *dev, const char *path, const char *format,
                          struct pl_err *err)
{
	PL_AUTOFREE char *xml =
	    virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	PL_AUTOFREE char *nxml = NULL;
	virDomainPtr nd;

	if (!xml)
		return lab_virt_error(err, "reading the domain's XML");
	if (rollout_lv_disk_set(xml, dev, path, format, &nxml, err) < 0)
		return err->code;
	nd = virDomainDefineXML(virDomainGetConnect(d), nxml);
	if (!nd)
		return lab_virt_error(err, "redefining the domain");
	virDomainFree(nd);
	return 0;
}

/* Waits until the domain is off; 0, or PL_ETIMEOUT. */
static int lv_wait_off(virDomainPtr d, double timeout, volatile int *interrupted)
{
	double deadline = pl_monotonic() + timeout;

	while (lv_active(d)) {
		if (pl_monotonic() > deadline || (interrupted && *interrupted))
			return PL_ETIMEOUT;
		poll(NULL, 0, 250);
	}
	return 0;
}

static const char *snap_str(const json_t *snap, const char *key)
{
	return json_string_value(json_object_get(snap, key));
}

/* ---- prepare, rollback, commit ----------------------------------------------------- */

int rollout_lv_prepare(const char *uri, const char *domain, int64_t rollout_id, int64_t target_id,
                       json_t **snapshot, struct pl_err *err)
{
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	PL_AUTOVIRDOM virDomainPtr d = NULL;
	PL_AUTOFREE char *xml = NULL, *dev = NULL, *path = NULL, *format = NULL, *overlay = NULL;

	*snapshot = NULL;
	if (lv_open(uri, domain, &conn, &d, err) < 0)
		return err->code;
	if (virDomainIsPersistent(d) != 1)
		return pl_error(
		    err, PL_EINVAL,
		    "domain '%s' is transient: it has no definition to point at a snapshot",
		    domain);
	xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	if (!xml)
		return lab_virt_error(err, "reading the domain's XML");
	if (rollout_lv_disk_find(xml, domain, &dev, &path, &format, err) < 0)
		return err->code;
	if (strstr(path, ".patchlab-r"))
		return pl_error(err, PL_ESTATE,
		                "domain '%s' runs on %s, a patchlab snapshot overlay: an earlier "
		                "rollout's snapshot was never dropped or rolled back",
		                domain, path);
	overlay = pl_strdupf("%s.patchlab-r%lld-t%lld.qcow2", path, (long long)rollout_id,
	                     (long long)target_id);
	*snapshot = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "uri", uri, "domain", domain,
	                      "dev", dev, "disk", path, "format", format, "overlay", overlay,
	                      "was_running", lv_active(d));
	return 0;
}

int rollout_lv_rollback(const json_t *snap, struct pl_err *err)
{
	const char *dev = snap_str(snap, "dev"), *disk = snap_str(snap, "disk");
	const char *overlay = snap_str(snap, "overlay");
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	PL_AUTOVIRDOM virDomainPtr d = NULL;
	PL_AUTOFREE char *cfg = NULL, *live = NULL;

	if (lv_open(snap_str(snap, "uri"), snap_str(snap, "domain"), &conn, &d, err) < 0 ||
	    lv_source(d, dev, 0, &cfg, err) < 0)
		return err->code;
	if (lv_active(d) && lv_source(d, dev, 1, &live, err) < 0)
		return err->code;
	/* the overlay in use: stop the domain first, it may not keep writing */
	if (live && strcmp(live, overlay) == 0 && virDomainDestroy(d) < 0)
		return lab_virt_error(err, "stopping the domain for the rollback");
	if (cfg && strcmp(cfg, overlay) == 0 &&
	    lv_define_disk(d, dev, disk, snap_str(snap, "format"), err) < 0)
		return err->code;
	if (unlink(overlay) < 0 && errno != ENOENT)
		return pl_error(err, PL_EIO, "removing the snapshot overlay %s: %s", overlay,
		                strerror(errno));
	if (json_is_true(json_object_get(snap, "was_running")) && !lv_active(d) &&
	    virDomainCreate(d) < 0)
		return lab_virt_error(err, "starting the domain again after the rollback");
	return 0;
}

/* An active block commit of the overlay into its backing file, then the
 * pivot: the running domain goes on writing to the original disk. */
static int lv_commit_live(virDomainPtr d, const char *dev, const char *disk, struct pl_err *err)
{
	double deadline = pl_monotonic() + LV_COMMIT_TIMEOUT;
	virDomainBlockJobInfo info;
	int rc;

	if (virDomainBlockCommit(d, dev, disk, NULL, 0, VIR_DOMAIN_BLOCK_COMMIT_ACTIVE) < 0)
		return lab_virt_error(err, "block commit");
	for (;;) {
		rc = virDomainGetBlockJobInfo(d, dev, &info, 0);
		if (rc < 0)
			return lab_virt_error(err, "block commit progress");
		if (rc == 0)
			return pl_error(err, PL_EENV,
			                "the block commit of %s ended without a pivot", dev);
		if (info.end > 0 && info.cur == info.end)
			break;
		if (pl_monotonic() > deadline) {
			virDomainBlockJobAbort(d, dev, 0);
			return pl_error(err, PL_ETIMEOUT, "the block commit of %s took over %.0f s",
			                dev, LV_COMMIT_TIMEOUT);
		}
		poll(NULL, 0, 200);
	}
	if (virDomainBlockJobAbort(d, dev, VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) < 0)
		return lab_virt_error(err, "block commit pivot");
	while ((rc = virDomainGetBlockJobInfo(d, dev, &info, 0)) == 1) {
		if (pl_monotonic() > deadline)
			return pl_error(err, PL_ETIMEOUT, "the pivot of %s did not finish", dev);
		poll(NULL, 0, 100);
	}
	return rc < 0 ? lab_virt_error(err, "block commit pivot") : 0;
}

int rollout_lv_commit(const json_t *snap, struct pl_err *err)
{
	const char *dev = snap_str(snap, "dev"), *disk = snap_str(snap, "disk");
	const char *overlay = snap_str(snap, "overlay");
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	PL_AUTOVIRDOM virDomainPtr d = NULL;
	PL_AUTOFREE char *cfg = NULL, *live = NULL;

	if (lv_open(snap_str(snap, "uri"), snap_str(snap, "domain"), &conn, &d, err) < 0 ||
	    lv_source(d, dev, 0, &cfg, err) < 0)
		return err->code;
	if (lv_active(d) && lv_source(d, dev, 1, &live, err) < 0)
		return err->code;
	if ((!live || strcmp(live, overlay) != 0) && (!cfg || strcmp(cfg, overlay) != 0)) {
		if (!pl_path_exists(overlay))
			return 0; /* merged already (a run that died before recording it) */
		return pl_error(err, PL_ESTATE,
		                "domain '%s' no longer uses the snapshot overlay %s: left alone",
		                snap_str(snap, "domain"), overlay);
	}
	if (live && strcmp(live, overlay) == 0) {
		if (lv_commit_live(d, dev, disk, err) < 0)
			return err->code;
	} else {
		const char *argv[] = {"qemu-img", "commit", "-q", "-f", "qcow2", overlay, NULL};
		struct pl_run_opts ro = {.timeout = LV_COMMIT_TIMEOUT};

		if (pl_run_ok(argv, &ro, err) < 0)
			return err->code;
	}
	free(cfg);
	cfg = NULL;
	if (lv_source(d, dev, 0, &cfg, err) < 0 ||
	    (cfg && strcmp(cfg, overlay) == 0 &&
	     lv_define_disk(d, dev, disk, snap_str(snap, "format"), err) < 0))
		return err->code;
	if (unlink(overlay) < 0 && errno != ENOENT)
		return pl_error(err, PL_EIO, "removing the merged overlay %s: %s", overlay,
		                strerror(errno));
	return 0;
}

int rollout_lv_current_disk(const char *uri, const char *domain, const char *dev, char **path,
                            char **format, struct pl_err *err)
{
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	PL_AUTOVIRDOM virDomainPtr d = NULL;
	PL_AUTOFREE char *xml = NULL, *fdev = NULL;

	if (lv_open(uri, domain, &conn, &d, err) < 0)
		return err->code;
	xml = virDomainGetXMLDesc(d, lv_active(d) ? 0 : VIR_DOMAIN_XML_INACTIVE);
	if (!xml)
		return lab_virt_error(err, "reading the domain's XML");
	if (rollout_lv_disk_find(xml, domain, &fdev, path, format, err) < 0)
		return err->code;
	if (dev && strcmp(dev, fdev) != 0) {
		free(*path);
		free(*format);
		return pl_error(err, PL_ESTATE, "domain '%s' has disk %s now, not %s", domain, fdev,
		                dev);
	}
	return 0;
}

/* ---- executing one target ----------------------------------------------------------- */

/* One step with progress, named after the host. */
#define LV_STEP(t, x, name, call, fmt, ...)                                                        \
	__extension__({                                                                            \
		double t0_ =                                                                       \
		    pl_progress_begin((x)->progress, name, "%s: " fmt, (t)->host, ##__VA_ARGS__);  \
		int rc_ = (call);                                                                  \
		double s_ = pl_progress_end((x)->progress, name, rc_, t0_);                        \
		json_array_append_new((t)->stages, json_pack("{s:s, s:f, s:b}", "stage", name,     \
		                                             "seconds", s_, "ok", rc_ == 0));      \
		rc_;                                                                               \
	})

static int lv_all_pass(json_t *checks)
{
	json_t *c;
	size_t i;

	json_array_foreach (checks, i, c)
		if (strcmp(json_string_value(json_object_get(c, "status")), "pass") != 0)
			return 0;
	return 1;
}

/* The gate's tolerated failed units turn the failed-units check back to pass. */
static void lv_allow_units(json_t *checks, json_t *agent, const struct gate_policy *pol)
{
	json_t *units = json_object_get(agent, "failed_units"), *u, *c;
	size_t i;

	if (!json_array_size(units))
		return;
	json_array_foreach (units, i, u)
		if (!gate_unit_allowed(pol, json_string_value(u)))
			return;
	json_array_foreach (checks, i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), "failed-units") == 0)
			json_object_set_new(c, "status", json_string("pass"));
}

static int lv_shutdown(const struct rollout_lv_ctx *x, virDomainPtr d, struct pl_err *err)
{
	if (!lv_active(d))
		return 0;
	if (virDomainShutdown(d) < 0)
		return lab_virt_error(err, "asking the domain to shut down");
	if (lv_wait_off(d, x->shutdown_timeout, x->interrupted) < 0)
		return pl_error(err, PL_ETIMEOUT,
		                "the domain did not shut down within %u s (left running, nothing "
		                "changed)",
		                x->shutdown_timeout);
	return 0;
}

static int lv_snapshot(struct rollout_lv_target *t, virDomainPtr d, struct pl_err *err)
{
	const char *argv[] = {"qemu-img",
	                      "create",
	                      "-q",
	                      "-f",
	                      "qcow2",
	                      "-b",
	                      snap_str(t->snapshot, "disk"),
	                      "-F",
	                      snap_str(t->snapshot, "format"),
	                      snap_str(t->snapshot, "overlay"),
	                      NULL};
	struct pl_run_opts ro = {.timeout = 120};

	if (pl_path_exists(argv[9]))
		return pl_error(err, PL_EEXIST, "the snapshot overlay %s exists already", argv[9]);
	if (pl_run_ok(argv, &ro, err) < 0)
		return err->code;
	chmod(argv[9], 0644);
	return lv_define_disk(d, snap_str(t->snapshot, "dev"), argv[9], "qcow2", err);
}

/* Boots the patched domain and waits for the agent to power it off. */
static int lv_boot(const struct rollout_lv_ctx *x, struct rollout_lv_target *t, virDomainPtr d,
                   json_t *checks, struct pl_err *err)
{
	double t0, secs;

	if (virDomainCreate(d) < 0)
		return lab_virt_error(err, "starting the patched domain");
	t0 = pl_monotonic();
	if (lv_wait_off(d, x->boot_timeout, x->interrupted) < 0) {
		virDomainDestroy(d);
		if (x->interrupted && *x->interrupted)
			return pl_error(err, PL_EENV, "interrupted");
		guest_check_add(checks, "boot", "boot-time", "fail", NULL,
		                "the domain did not finish its smoke checks within %u s (hang, "
		                "emergency mode?)",
		                x->boot_timeout);
		return 0;
	}
	secs = pl_monotonic() - t0;
	t->boot_seconds = secs;
	guest_check_add(
	    checks, "boot", "boot-time", secs <= x->gate->max_boot_seconds ? "pass" : "fail", NULL,
	    "the domain powered off after %.1f s (limit %ld s)", secs, x->gate->max_boot_seconds);
	return 0;
}

static int lv_inspect(const struct rollout_lv_ctx *x, struct rollout_lv_target *t,
                      const char *root_uuid, json_t *checks, struct pl_err *err)
{
	json_t *agent = NULL;
	int rc = guest_collect(snap_str(t->snapshot, "overlay"), root_uuid, x->force_tcg, x->expect,
	                       x->n, t->evidence_dir, checks, &agent, err);

	if (rc < 0)
		return rc;
	if (agent) {
		lv_allow_units(checks, agent, x->gate);
		guest_check_add(
		    checks, "boot", "agent-removed",
		    json_is_true(json_object_get(agent, "self_removed")) ? "pass" : "fail", NULL,
		    "the smoke agent %s itself before powering off",
		    json_is_true(json_object_get(agent, "self_removed")) ? "removed"
		                                                         : "did NOT remove");
	}
	json_decref(agent);
	return 0;
}

/* Rolls the target back and says so in t. */
static void lv_undo(const struct rollout_lv_ctx *x, struct rollout_lv_target *t, const char *why)
{
	struct pl_err e = PL_ERR_INIT;

	if (LV_STEP(t, x, "rollback", rollout_lv_rollback(t->snapshot, &e),
	            "back to the snapshot") < 0) {
		t->state = "failed";
		t->snapshot_state = "active";
		t->detail = pl_strdupf("%s; ROLLBACK FAILED, the snapshot is kept: %s", why, e.msg);
		return;
	}
	t->state = "rolled-back";
	t->snapshot_state = "discarded";
	t->detail = pl_strdup(why);
}

static char *lv_agent_config(const struct rollout_lv_ctx *x)
{
	return pl_strdupf("%sremove_after_run\n", x->agent_config);
}

/* The target's steps after the snapshot; returns with t's outcome set. */
static void lv_patch(const struct rollout_lv_ctx *x, struct rollout_lv_target *t, virDomainPtr d,
                     json_t *checks)
{
	PL_AUTOFREE char *config = lv_agent_config(x);
	struct guest_apply a = {.disk = snap_str(t->snapshot, "overlay"),
	                        .force_tcg = x->force_tcg,
	                        .debs = x->debs,
	                        .ndebs = x->n,
	                        .expect = x->expect,
	                        .nexpect = x->n,
	                        .evidence_dir = t->evidence_dir,
	                        .min_free_bytes = (uint64_t)x->gate->min_free_mb << 20,
	                        .agent_script = guest_agent_script,
	                        .agent_unit = guest_agent_unit,
	                        .agent_config = config,
	                        .skip_installed = 1};
	struct guest_applied ap = {0};
	struct pl_err e = PL_ERR_INIT;
	json_t *reasons = NULL;
	int rc;

	rc = LV_STEP(t, x, "apply", guest_apply_patches(&a, checks, &ap, &e),
	             "%zu patch(es) offline with dpkg, offline checks, smoke agent", x->n);
	if (ap.before)
		json_object_set(t->result, "before", ap.before);
	if (ap.root_uuid) /* spares the post-deploy audit an OS inspection */
		json_object_set_new(t->result, "root_uuid", json_string(ap.root_uuid));
	if (rc == 0 && ap.already) {
		lv_undo(x, t,
		        "every package is at the candidate's version already: nothing applied");
		if (strcmp(t->state, "rolled-back") == 0)
			t->state = "succeeded";
		guest_applied_clear(&ap);
		return;
	}
	if (rc == 0 && lv_all_pass(checks)) {
		rc = LV_STEP(t, x, "boot", lv_boot(x, t, d, checks, &e),
		             "the patched domain with the smoke agent (timeout %u s)",
		             x->boot_timeout);
		if (rc == 0)
			rc = LV_STEP(t, x, "inspect", lv_inspect(x, t, ap.root_uuid, checks, &e),
			             "agent result, journal, packages (libguestfs, read-only)");
	} else if (rc == 0) {
		guest_check_add(checks, "boot", "agent-result", "skip", NULL,
		                "not booted: an offline check failed");
	}
	if (rc < 0) /* fail closed: the error is itself a failed check */
		guest_check_add(checks, "rollout", "internal", "error", NULL, "%s", e.msg);
	if (gate_verdict(x->gate, checks, &reasons) && rc == 0) {
		t->state = "succeeded";
		t->snapshot_state = "active";
		if (json_is_true(json_object_get(t->snapshot, "was_running")) &&
		    LV_STEP(t, x, "start", virDomainCreate(d) < 0 ? lab_virt_error(&e, "start") : 0,
		            "the patched domain, without the agent") < 0) {
			t->state = "failed";
			t->detail = pl_strdupf(
			    "passed its smoke checks, but did not start again: %s", e.msg);
		} else {
			t->detail =
			    pl_strdupf("patched: %zu package(s), smoke checks passed in %.0f s",
			               x->n, t->boot_seconds);
		}
	} else {
		struct pl_buf why = PL_BUF_INIT;
		json_t *v;
		size_t i;

		/* every reason: the first is often the consequence ("degraded") */
		json_array_foreach (reasons, i, v)
			pl_buf_addf(&why, "%s%s", i ? "; " : "", json_string_value(v));
		lv_undo(x, t, why.len ? pl_buf_str(&why) : "the gate failed it");
		pl_buf_release(&why);
	}
	json_object_set_new(t->result, "verdict",
	                    json_string(strcmp(t->state, "succeeded") == 0 ? "pass" : "fail"));
	json_object_set_new(t->result, "reasons", reasons ? reasons : json_array());
	guest_applied_clear(&ap);
}

void rollout_lv_execute(const struct rollout_lv_ctx *x, struct rollout_lv_target *t)
{
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	PL_AUTOVIRDOM virDomainPtr d = NULL;
	struct pl_err e = PL_ERR_INIT;
	json_t *checks = json_array();

	t->stages = json_array();
	t->result = json_object();
	t->snapshot_state = "none";
	if (pl_mkdir_p(t->evidence_dir, 0755, &e) < 0 ||
	    lv_open(snap_str(t->snapshot, "uri"), snap_str(t->snapshot, "domain"), &conn, &d, &e) <
	        0 ||
	    LV_STEP(t, x, "shutdown", lv_shutdown(x, d, &e), "the domain, gracefully") < 0) {
		t->state = "failed";
		t->detail = pl_strdupf("nothing changed: %s", e.msg);
	} else if (LV_STEP(t, x, "snapshot", lv_snapshot(t, d, &e), "qcow2 overlay %s",
	                   snap_str(t->snapshot, "overlay")) < 0) {
		PL_AUTOFREE char *why = pl_strdupf("snapshot: %s", e.msg);

		lv_undo(x, t, why);
		if (strcmp(t->state, "rolled-back") == 0)
			t->state = "failed"; /* nothing was applied: undone is "unchanged" */
	} else {
		lv_patch(x, t, d, checks);
	}
	json_object_set_new(t->result, "checks", checks);
	json_object_set_new(t->result, "stages", t->stages);
	json_object_set_new(t->result, "evidence_dir", json_string(t->evidence_dir));
	t->stages = NULL;
}
