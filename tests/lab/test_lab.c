/*
 * test_lab.c - the lab's XML as data (spec in, expected XML out, one loop,
 * the libvirt way), lab definitions (good and bad files, each bad one with
 * the exact message), and run bookkeeping and gc on libvirt's test driver.
 * PATCHLAB_TEST_REGENERATE=1 rewrites the expected files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>

#include "lab/lab-private.h"

#define XML_DIR PL_TEST_DATA_DIR "/lab/xml"
#define DEFS_DIR PL_TEST_DATA_DIR "/lab/defs"

static const char *js(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Builds the XML a case file asks for: {"kind": ..., "spec": {...}}. */
static char *xml_for_case(json_t *c)
{
	json_t *s = json_object_get(c, "spec");
	const char *kind = js(c, "kind");

	if (strcmp(kind, "pool") == 0) {
		struct lab_pool_spec p = {js(s, "name"), js(s, "path")};

		return lab_xml_pool(&p);
	}
	if (strcmp(kind, "volume") == 0) {
		struct lab_volume_spec v = {js(s, "name"),
					    (uint64_t)json_integer_value(json_object_get(s, "capacity")),
					    js(s, "backing_path"), js(s, "backing_format")};

		return lab_xml_volume(&v);
	}
	if (strcmp(kind, "network") == 0) {
		json_t *hs = json_object_get(s, "hosts"), *h;
		struct lab_host hosts[8];
		size_t i;
		struct lab_network_spec n = {js(s, "name"), js(s, "bridge"), js(s, "run_id"),
					     js(s, "address"), js(s, "netmask"), js(s, "dhcp_start"),
					     js(s, "dhcp_end"), js(s, "tftp_root"), js(s, "bootp_file"),
					     hosts, 0};

		json_array_foreach(hs, i, h) hosts[n.nhosts++] =
			(struct lab_host){js(h, "mac"), js(h, "ip"), js(h, "name")};
		return lab_xml_network(&n);
	}
	{
		enum lab_boot boot = LAB_BOOT_DISK;
		struct lab_domain_spec d = {
			.name = js(s, "name"), .run_id = js(s, "run_id"), .vm = js(s, "vm"),
			.virt_type = js(s, "virt_type"),
			.memory_mib = (unsigned)json_integer_value(json_object_get(s, "memory_mib")),
			.vcpus = (unsigned)json_integer_value(json_object_get(s, "vcpus")),
			.kernel = js(s, "kernel"), .initrd = js(s, "initrd"),
			.cmdline = js(s, "cmdline"), .firmware = js(s, "firmware"),
			.disk_path = js(s, "disk_path"),
			.disk_format = js(s, "disk_format"), .network = js(s, "network"),
			.mac = js(s, "mac"), .console_log = js(s, "console_log")};

		assert_int_equal(lab_boot_parse(js(s, "boot"), &boot), 0);
		d.boot = boot;
		return lab_xml_domain(&d);
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of dir's files ending in suffix (NULL-terminated). */
static char **list_cases(const char *dir, const char *suffix, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l > strlen(suffix) && strcmp(e->d_name + l - strlen(suffix), suffix) == 0) {
			v = pl_realloc(v, (*n + 2) * sizeof(*v));
			v[(*n)++] = pl_strdup(e->d_name);
		}
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), name_cmp);
	return v;
}

/* Compares got with the expected file, or rewrites it when asked to. */
static void check_golden(const char *expected_path, const char *got)
{
	const char *regen = getenv("PATCHLAB_TEST_REGENERATE");
	PL_AUTOFREE char *want = NULL;
	struct pl_err err = PL_ERR_INIT;

	if (regen && strcmp(regen, "1") == 0) {
		assert_int_equal(pl_file_write_atomic(expected_path, got, strlen(got), 0644, &err), 0);
		return;
	}
	if (pl_file_read(expected_path, &want, NULL, &err) < 0)
		fail_msg("%s: %s (PATCHLAB_TEST_REGENERATE=1 writes it)", expected_path, err.msg);
	if (strcmp(want, got) != 0)
		fail_msg("%s differs; got:\n%s", expected_path, got);
}

static void test_xml_cases(void **state)
{
	size_t n;
	char **cases = list_cases(XML_DIR, ".json", &n);

	(void)state;
	assert_true(n >= 6);
	for (size_t i = 0; i < n; i++) {
		PL_AUTOFREE char *in = pl_strdupf("%s/%s", XML_DIR, cases[i]);
		PL_AUTOFREE char *out = pl_strdupf("%.*s.xml", (int)(strlen(in) - 5), in);
		PL_AUTOJSON json_t *c = NULL;
		PL_AUTOFREE char *xml = NULL;
		struct pl_err err = PL_ERR_INIT;

		assert_int_equal(pl_json_load_file(in, &c, &err), 0);
		xml = xml_for_case(c);
		assert_non_null(xml);
		check_golden(out, xml);
		free(cases[i]);
	}
	free(cases);
}

/* Every defs/NAME.json is loaded; NAME.err holds the exact error, or "ok". */
static void test_lab_defs(void **state)
{
	size_t n;
	char **cases = list_cases(DEFS_DIR, ".json", &n);

	(void)state;
	assert_true(n >= 10);
	for (size_t i = 0; i < n; i++) {
		PL_AUTOFREE char *in = pl_strdupf("%s/%s", DEFS_DIR, cases[i]);
		PL_AUTOFREE char *exp = pl_strdupf("%.*s.err", (int)(strlen(in) - 5), in);
		PL_AUTOFREE char *got = NULL;
		struct pl_err err = PL_ERR_INIT;
		struct lab_def d;
		int rc = lab_def_load(in, &d, &err);

		if (rc == 0) {
			got = pl_strdup("ok\n");
			lab_def_free(&d);
		} else {
			assert_int_equal(rc, PL_EINVAL);
			/* strip the directory so the files hold no machine path */
			got = pl_strdupf("%s\n", strstr(err.msg, DEFS_DIR) == err.msg
							 ? err.msg + strlen(DEFS_DIR) + 1
							 : err.msg);
		}
		check_golden(exp, got);
		free(cases[i]);
	}
	free(cases);
}

static void test_default_lab(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	struct lab_def d;

	(void)state;
	assert_int_equal(lab_def_default(&d, &err), 0);
	assert_string_equal(d.name, "default");
	assert_int_equal(d.nvms, 1);
	assert_int_equal(d.vms[0].memory_mib, 1024);
	assert_true(d.pxe);
	assert_string_equal(d.subnet, "auto");
	assert_string_equal(d.services[0], "ssh.service");
	assert_int_equal(d.nports, 1);
	assert_int_equal(d.ports[0], 22);
	lab_def_free(&d);
}

static void test_parsers(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	enum lab_accel a;
	enum lab_boot b;

	(void)state;
	assert_int_equal(lab_accel_parse("tcg", &a, &err), 0);
	assert_int_equal(a, LAB_ACCEL_TCG);
	assert_int_equal(lab_accel_parse("hvf", &a, &err), PL_EINVAL);
	assert_int_equal(lab_boot_parse("pxe", &b), 0);
	assert_int_equal(b, LAB_BOOT_PXE);
	assert_int_equal(lab_boot_parse("usb", &b), PL_EINVAL);
	assert_string_equal(lab_boot_name(LAB_BOOT_KERNEL), "kernel");
}

static void test_accel_forced(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *why = NULL;
	enum lab_accel got;

	(void)state;
	assert_int_equal(lab_accel_resolve(LAB_ACCEL_TCG, NULL, &got, &why, &err), 0);
	assert_int_equal(got, LAB_ACCEL_TCG);
	free(PL_STEAL(why));
	/* the environment forces what AUTO would probe */
	setenv("PATCHLAB_ACCEL", "tcg", 1);
	assert_int_equal(lab_accel_resolve(LAB_ACCEL_AUTO, NULL, &got, &why, &err), 0);
	assert_int_equal(got, LAB_ACCEL_TCG);
	free(PL_STEAL(why));
	setenv("PATCHLAB_ACCEL", "fast", 1);
	assert_int_equal(lab_accel_resolve(LAB_ACCEL_AUTO, NULL, &got, &why, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "PATCHLAB_ACCEL"));
	unsetenv("PATCHLAB_ACCEL");
}

static void test_qcow2_virtual_size(void **state)
{
	char path[] = "/tmp/pl-test-qcow2-XXXXXX";
	unsigned char hdr[104] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
	struct pl_err err = PL_ERR_INIT;
	uint64_t size = 0;
	int fd = mkstemp(path);

	(void)state;
	hdr[24 + 3] = 0x01; /* 2^32 bytes, big-endian */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, hdr, sizeof(hdr)), sizeof(hdr));
	close(fd);
	assert_int_equal(lab_disk_virtual_size(path, "qcow2", &size, &err), 0);
	assert_true(size == (1ULL << 32));
	assert_int_equal(lab_disk_virtual_size(path, "raw", &size, &err), 0);
	assert_true(size == sizeof(hdr));
	hdr[0] = 'X';
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, hdr, sizeof(hdr)), sizeof(hdr));
	close(fd);
	assert_int_equal(lab_disk_virtual_size(path, "qcow2", &size, &err), PL_EINVAL);
	unlink(path);
}

static int net_exists(virConnectPtr conn, const char *name)
{
	virNetworkPtr n = virNetworkLookupByName(conn, name);

	if (n)
		virNetworkFree(n);
	return n != NULL;
}

/* Run bookkeeping on the test driver: objects are tracked before they
 * exist, a run whose process died is collected by gc, a live one is not. */
static void test_run_and_gc(void **state)
{
	char dir[] = "/tmp/pl-test-lab-XXXXXX";
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOSTORE struct store *st = NULL;
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	struct lab_run run, live;
	struct lab_gc_report rep;
	struct lab_def def;
	PL_AUTOFREE char *net = NULL, *sql = NULL;
	const char *macs[] = {"52:54:00:00:00:01"};
	virDomainPtr dom;
	struct lab_domain_spec ds = {.name = NULL, .vm = "vm1", .virt_type = "test",
				     .memory_mib = 128, .vcpus = 1, .boot = LAB_BOOT_DISK,
				     .disk_path = "/dev/null", .disk_format = "raw",
				     .mac = "52:54:00:00:00:01", .console_log = "/dev/null"};
	PL_AUTOFREE char *dname = NULL, *xml = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, STORE_CREATE, &st, &err), 0);
	assert_int_equal(lab_connect("test:///default", &conn, &err), 0);
	assert_int_equal(lab_def_default(&def, &err), 0);

	assert_int_equal(lab_run_begin(st, conn, "boot", 0, &run, &err), 0);
	assert_int_equal(strlen(run.id), 8);
	assert_int_equal(lab_network_create(&run, &def, NULL, macs, 1, &net, &err), 0);
	dname = pl_strdupf("patchlab-%s-vm1", run.id);
	ds.name = dname;
	ds.run_id = run.id;
	ds.network = net;
	xml = lab_xml_domain(&ds);
	assert_int_equal(lab_run_track(&run, "domain", dname, &err), 0);
	dom = virDomainCreateXML(conn, xml, 0);
	assert_non_null(dom);
	virDomainFree(dom);

	/* a live run is left alone */
	assert_int_equal(lab_gc(st, conn, 0, &rep, &err), 0);
	assert_int_equal(rep.runs, 0);
	assert_non_null(dom = virDomainLookupByName(conn, dname));
	virDomainFree(dom);

	/* the run's process "dies": gc removes its domain and network */
	sql = pl_strdupf("UPDATE lab_runs SET pid = 999999999 WHERE id = '%s'", run.id);
	assert_int_equal(store_exec(st, sql, &err), 0);
	assert_int_equal(lab_gc(st, conn, 0, &rep, &err), 0);
	assert_int_equal(rep.runs, 1);
	assert_int_equal(rep.domains, 1);
	assert_int_equal(rep.networks, 1);
	assert_null(virDomainLookupByName(conn, dname));
	assert_null(virNetworkLookupByName(conn, net));
	free(run.dir);
	free(run.uri);

	/* a finished run cleans up after itself and is not collected again */
	assert_int_equal(lab_run_begin(st, conn, "boot", 0, &live, &err), 0);
	free(PL_STEAL(net));
	assert_int_equal(lab_network_create(&live, &def, NULL, macs, 1, &net, &err), 0);
	assert_int_equal(lab_run_end(&live, "passed", NULL, &err), 0);
	assert_null(virNetworkLookupByName(conn, net));
	assert_int_equal(lab_gc(st, conn, 0, &rep, &err), 0);
	assert_int_equal(rep.runs, 0);

	/* a kept run's objects stay until gc --all, which keeps its verdict */
	assert_int_equal(lab_run_begin(st, conn, "boot", 0, &live, &err), 0);
	free(PL_STEAL(net));
	assert_int_equal(lab_network_create(&live, &def, NULL, macs, 1, &net, &err), 0);
	live.keep = 1;
	assert_int_equal(lab_run_end(&live, "passed", NULL, &err), 0);
	assert_true(net_exists(conn, net));
	assert_int_equal(lab_gc(st, conn, 0, &rep, &err), 0);
	assert_true(net_exists(conn, net));
	assert_int_equal(lab_gc(st, conn, 1, &rep, &err), 0);
	assert_int_equal(rep.networks, 1);
	assert_int_equal(rep.runs, 0);
	assert_false(net_exists(conn, net));

	lab_def_free(&def);
	{
		const char *argv[] = {"rm", "-rf", dir, NULL};

		store_close(PL_STEAL(st));
		assert_int_equal(pl_run_ok(argv, NULL, &err), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_cases),    cmocka_unit_test(test_lab_defs),
		cmocka_unit_test(test_default_lab),  cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_accel_forced), cmocka_unit_test(test_qcow2_virtual_size),
		cmocka_unit_test(test_run_and_gc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
