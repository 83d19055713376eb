/* test_inventory.c - CSV/JSON host lists, validation messages, upsert, rpm -qa. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "inventory/inventory.h"

static int csv(const char *text, struct inv_hostlist *l, struct pl_err *err)
{
	return inv_parse(text, strlen(text), "hosts.csv", l, err);
}

/* Parses text expecting failure with exactly msg. */
static void parse_fails(const char *text, const char *source, const char *msg)
{
	struct inv_hostlist l = INV_HOSTLIST_INIT;
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(inv_parse(text, strlen(text), source, &l, &err), PL_EINVAL);
	assert_string_equal(err.msg, msg);
	assert_int_equal(l.n, 0);
}

static void test_csv_quoting(void **state)
{
	struct inv_hostlist l = INV_HOSTLIST_INIT;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(csv("name,location,owner,tags,controls\r\n"
	                     "web1,\"Rack 4, row 2\",\"the \"\"ops\"\" team\",a;b.c,"
	                     "firewall=true;edr=crowdstrike;exposure=internet\r\n"
	                     "\r\n"
	                     "db1,\"two\nlines\",,,\r\n"
	                     "x2,,\"\",,",
	                     &l, &err),
	                 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.hosts[0].name, "web1");
	assert_string_equal(l.hosts[0].location, "Rack 4, row 2");
	assert_string_equal(l.hosts[0].owner, "the \"ops\" team");
	assert_int_equal(json_array_size(l.hosts[0].tags), 2);
	assert_string_equal(json_string_value(json_array_get(l.hosts[0].tags, 1)), "b.c");
	assert_true(json_is_true(json_object_get(l.hosts[0].controls, "firewall")));
	assert_string_equal(json_string_value(json_object_get(l.hosts[0].controls, "exposure")),
	                    "internet");
	assert_string_equal(l.hosts[1].location, "two\nlines");
	assert_null(l.hosts[1].owner);
	assert_int_equal(l.hosts[2].line, 6);
	assert_null(l.hosts[2].owner);
	inv_hostlist_free(&l);
}

static void test_csv_errors(void **state)
{
	(void)state;
	parse_fails("", "hosts.csv", "hosts.csv: empty file, expected a header line");
	parse_fails("\n\n", "hosts.csv", "hosts.csv: empty file, expected a header line");
	parse_fails("ip,role\n1.2.3.4,web\n", "hosts.csv",
	            "hosts.csv:1: the header has no 'name' column");
	parse_fails("name,colour\nweb1,red\n", "hosts.csv", "hosts.csv:1: unknown column 'colour'");
	parse_fails("name,ip\nweb1,1.2.3.4,extra\n", "hosts.csv",
	            "hosts.csv:2: 3 fields, the header has 2");
	parse_fails("name,ip\nweb1\n", "hosts.csv", "hosts.csv:2: 1 fields, the header has 2");
	parse_fails("name,ip\nweb1,\"1.2.3.4\n", "hosts.csv",
	            "hosts.csv:2: a quoted field is not closed");
	parse_fails(
	    "name,ip\n\"web1\"x,1.2.3.4\n", "hosts.csv",
	    "hosts.csv:2: a quote inside a field (quote the whole field and double the quote)");
	parse_fails("name,ip,environment\nok1,192.0.2.1,production\nbad1,999.1.1.1,production\n",
	            "hosts.csv", "hosts.csv:3: field 'ip': '999.1.1.1' is not an IP address");
	parse_fails("name,environment\nweb1,prod\n", "hosts.csv",
	            "hosts.csv:2: field 'environment': 'prod' is not one of production, staging, "
	            "test, development");
	parse_fails("name\n-web\n", "hosts.csv",
	            "hosts.csv:2: field 'name': '-web' is not a host name (1-64 of A-Z a-z 0-9 . _ "
	            "-, first a letter or digit)");
	parse_fails("name,ip\n,1.2.3.4\n", "hosts.csv", "hosts.csv:2: field 'name': is required");
	parse_fails("name,tags\nweb1,ok;Bad Tag\n", "hosts.csv",
	            "hosts.csv:2: field 'tags': 'Bad Tag' is not a tag (1-64 of a-z 0-9 . _ -)");
	parse_fails("name,controls\nweb1,exposure=public\n", "hosts.csv",
	            "hosts.csv:2: field 'controls': exposure: 'public' is not one of internet, "
	            "internal, isolated");
	parse_fails("name,controls\nweb1,firewall\n", "hosts.csv",
	            "hosts.csv:2: field 'controls': 'firewall' is not KEY=VALUE");
	parse_fails("name,libvirt_uri\nweb1,qemu:///system\n", "hosts.csv",
	            "hosts.csv:2: host 'web1': libvirt_uri and libvirt_domain go together");
}

static void test_json(void **state)
{
	struct inv_hostlist l = INV_HOSTLIST_INIT;
	struct pl_err err = PL_ERR_INIT;
	const char *ok = "  [{\"name\": \"web1\", \"ip\": \"::1\", \"tags\": [\"a\"],"
	                 " \"controls\": {\"firewall\": false, \"exposure\": \"isolated\"}}]";

	(void)state;
	assert_int_equal(inv_parse(ok, strlen(ok), "hosts.json", &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.hosts[0].ip, "::1");
	assert_true(json_is_false(json_object_get(l.hosts[0].controls, "firewall")));
	inv_hostlist_free(&l);
	parse_fails("[{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\", \"environment\": "
	            "\"prod\"}]",
	            "hosts.json",
	            "hosts.json: $[2].environment: 'prod' is not one of production, staging, test, "
	            "development");
	parse_fails("[{\"name\": \"a\", \"colour\": \"red\"}]", "hosts.json",
	            "hosts.json: $[0].colour: unknown field");
	parse_fails("[{\"ip\": \"1.2.3.4\"}]", "hosts.json", "hosts.json: $[0].name: is required");
	parse_fails("[{\"name\": \"a\", \"tags\": [\"ok\", \"NO\"]}]", "hosts.json",
	            "hosts.json: $[0].tags: [1]: 'NO' is not a tag (1-64 of a-z 0-9 . _ -)");
	parse_fails("[{\"name\": \"a\", \"controls\": {\"exposure\": \"dmz\"}}]", "hosts.json",
	            "hosts.json: $[0].controls.exposure: 'dmz' is not one of internet, internal, "
	            "isolated");
	parse_fails("[{\"name\": \"a\", \"ip\": \"1.2.3\"}]", "hosts.json",
	            "hosts.json: $[0].ip: '1.2.3' is not an IP address");
}

static int setup(void **state)
{
	char *dir = pl_strdup("/tmp/pl-test-inv-XXXXXX");
	struct store *st = NULL;
	struct pl_err err = PL_ERR_INIT;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, STORE_CREATE, &st, &err), 0);
	free(dir);
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	struct store *st = *state;
	const char *argv[] = {"rm", "-rf", st->dir, NULL};
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *dir = pl_strdup(st->dir);

	argv[2] = dir;
	store_close(st);
	assert_int_equal(pl_run_ok(argv, NULL, &err), 0);
	return 0;
}

static long host_count(struct store *st)
{
	json_t *arr = NULL;
	struct pl_err err = PL_ERR_INIT;
	long n;

	assert_int_equal(inv_host_list(st, NULL, NULL, &arr, &err), 0);
	n = (long)json_array_size(arr);
	json_decref(arr);
	return n;
}

static void test_upsert_and_transaction(void **state)
{
	struct store *st = *state;
	struct inv_hostlist l = INV_HOSTLIST_INIT;
	struct pl_err err = PL_ERR_INIT;
	size_t added, updated;
	json_t *j = NULL;

	assert_int_equal(csv("name,ip,role\nweb1,192.0.2.1,web\ndb1,,db\n", &l, &err), 0);
	assert_int_equal(inv_import(st, &l, &added, &updated, &err), 0);
	assert_int_equal(added, 2);
	assert_int_equal(updated, 0);
	inv_hostlist_free(&l);
	assert_int_equal(csv("name,ip,role\nweb1,192.0.2.9,web\nmail1,,mail\n", &l, &err), 0);
	assert_int_equal(inv_import(st, &l, &added, &updated, &err), 0);
	assert_int_equal(added, 1);
	assert_int_equal(updated, 1);
	inv_hostlist_free(&l);
	assert_int_equal(host_count(st), 3);
	assert_int_equal(inv_host_show(st, "web1", 0, &j, &err), 0);
	assert_string_equal(json_string_value(json_object_get(j, "ip")), "192.0.2.9");
	json_decref(j);

	/* a row the database refuses rolls back the rows before it */
	assert_int_equal(csv("name,role\nnew1,x\nnew2,y\n", &l, &err), 0);
	free(l.hosts[1].environment);
	l.hosts[1].environment = pl_strdup("bogus"); /* the CHECK constraint refuses it */
	assert_true(inv_import(st, &l, &added, &updated, &err) < 0);
	assert_int_equal(added + updated, 0);
	inv_hostlist_free(&l);
	assert_int_equal(host_count(st), 3);
	assert_int_equal(inv_host_show(st, "new1", 0, &j, &err), PL_ENOTFOUND);
	assert_string_equal(err.msg, "no host named 'new1'");

	assert_int_equal(inv_host_remove(st, "db1", &err), 0);
	assert_int_equal(inv_host_remove(st, "db1", &err), PL_ENOTFOUND);
	assert_int_equal(host_count(st), 2);
}

static void test_add_and_packages(void **state)
{
	struct store *st = *state;
	struct pl_err err = PL_ERR_INIT;
	struct inv_host h = {.name = pl_strdup("app1"),
	                     .role = pl_strdup("app"),
	                     .tags = json_array(),
	                     .controls = json_object()};
	struct inv_pkglist p = INV_PKGLIST_INIT;
	const char *rpm =
	    "bash\t(none):5.1.8-6.el9\tx86_64\r\nopenssl-libs\t1:3.0.7-27.el9\tx86_64\n";
	json_t *j = NULL;

	assert_int_equal(inv_host_add(st, &h, &err), 0);
	assert_int_equal(inv_host_add(st, &h, &err), PL_EEXIST);
	assert_string_equal(err.msg, "a host named 'app1' exists already");
	inv_host_clear(&h);
	assert_int_equal(inv_rpmqa_parse(rpm, strlen(rpm), "rpm.txt", &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.pkgs[0].version, "5.1.8-6.el9");
	assert_string_equal(p.pkgs[1].version, "1:3.0.7-27.el9");
	assert_string_equal(p.pkgs[1].arch, "x86_64");
	assert_int_equal(inv_packages_set(st, "app1", &p, &err), 0);
	assert_int_equal(inv_packages_set(st, "nope", &p, &err), PL_ENOTFOUND);
	/* replacing, not adding */
	assert_int_equal(inv_packages_set(st, "app1", &p, &err), 0);
	inv_pkglist_free(&p);
	assert_int_equal(inv_host_show(st, "app1", 1, &j, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "packages")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "package_list")), 2);
	json_decref(j);
}

static void test_rpmqa_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} bad[] = {
	    {"bash\t5.1-1\tx86_64\nbroken\n",
	     "rpm.txt:2: expected NAME<TAB>EPOCH:VERSION-RELEASE<TAB>ARCH"},
	    {"bash\t(none):5.1\tx86_64\n", "rpm.txt:1: version has no release"},
	    {"\t(none):5.1-1\tx86_64\n", "rpm.txt:1: empty name or architecture"},
	    {"bash\t(none):5.1-1\t\n", "rpm.txt:1: empty name or architecture"},
	    {"a\t1:1-1\tx\tz\n", "rpm.txt:1: expected NAME<TAB>EPOCH:VERSION-RELEASE<TAB>ARCH"},
	    {"a\tx:1-1\tx86_64\n", NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct inv_pkglist p = INV_PKGLIST_INIT;
		struct pl_err err = PL_ERR_INIT;

		assert_int_equal(inv_rpmqa_parse(bad[i].in, strlen(bad[i].in), "rpm.txt", &p, &err),
		                 PL_EINVAL);
		assert_int_equal(p.n, 0);
		if (bad[i].msg)
			assert_string_equal(err.msg, bad[i].msg);
		else
			assert_non_null(strstr(err.msg, "rpm.txt:1: "));
	}
}

static void test_controls(void **state)
{
	static const struct {
		const char *key, *in, *want; /* want: "true", "false", a string, or NULL */
		const char *msg;
	} cases[] = {
	    {"firewall", "on", "true", NULL},
	    {"firewall", "off", "false", NULL},
	    {"firewall", "true", "true", NULL},
	    {"firewall", "maybe", NULL, "'maybe' is not one of on, off"},
	    {"firewall", "crowdstrike", NULL, "'crowdstrike' is not one of on, off"},
	    {"edr", "on", "true", NULL},
	    {"edr", "crowdstrike", "crowdstrike", NULL},
	    {"edr", "Crowd Strike", NULL,
	     "'Crowd Strike' is not on, off or a product name (1-64 of a-z 0-9 . _ -)"},
	    {"patch-agent", "unattended-upgrades", "unattended-upgrades", NULL},
	    {"exposure", "isolated", "isolated", NULL},
	    {"exposure", "on", NULL, "'on' is not one of internet, internal, isolated"},
	    {"backup", "off", "false", NULL},
	    {"mfa", "on", "true", NULL},
	    {"disk-encryption", "on", "true", NULL},
	    {"colour", "red", NULL,
	     "unknown control (one of firewall, edr, exposure, backup, mfa, patch-agent, "
	     "disk-encryption)"},
	};
	size_t n;

	(void)state;
	assert_int_equal(inv_controls(&n)[0].kind, INV_CONTROL_ONOFF);
	assert_int_equal(n, 7);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *in = json_string(cases[i].in);
		char msg[512] = "";
		json_t *v = inv_control_value(cases[i].key, in, msg, sizeof(msg));

		json_decref(in);
		if (!cases[i].want) {
			assert_null(v);
			assert_string_equal(msg, cases[i].msg);
			continue;
		}
		assert_non_null(v);
		if (strcmp(cases[i].want, "true") == 0)
			assert_true(json_is_true(v));
		else if (strcmp(cases[i].want, "false") == 0)
			assert_true(json_is_false(v));
		else
			assert_string_equal(json_string_value(v), cases[i].want);
		json_decref(v);
	}
	/* typed JSON values: booleans for switches, no integers anywhere */
	{
		json_t *t = json_true(), *one = json_integer(1), *v;
		char msg[512];

		v = inv_control_value("edr", t, msg, sizeof(msg));
		assert_true(json_is_true(v));
		json_decref(v);
		assert_null(inv_control_value("firewall", one, msg, sizeof(msg)));
		assert_string_equal(msg, "expected on or off");
		assert_null(inv_control_value("exposure", t, msg, sizeof(msg)));
		assert_string_equal(msg, "expected a string");
		json_decref(one);
	}
	parse_fails("name,controls\nweb1,firewall=on;colour=red\n", "hosts.csv",
	            "hosts.csv:2: field 'controls': colour: unknown control (one of firewall, edr, "
	            "exposure, backup, mfa, patch-agent, disk-encryption)");
	parse_fails("name,controls\nweb1,edr=\n", "hosts.csv",
	            "hosts.csv:2: field 'controls': edr: '' is not on, off or a product name (1-64 "
	            "of a-z 0-9 . _ -)");
	parse_fails("[{\"name\": \"a\", \"controls\": {\"firewall\": \"maybe\"}}]", "hosts.json",
	            "hosts.json: $[0].controls.firewall: 'maybe' is not one of on, off");
	parse_fails(
	    "[{\"name\": \"a\", \"controls\": {\"waf\": true}}]", "hosts.json",
	    "hosts.json: $[0].controls.waf: unknown control (one of firewall, edr, exposure, "
	    "backup, mfa, patch-agent, disk-encryption)");
	parse_fails("[{\"name\": \"a\", \"controls\": {\"backup\": 1}}]", "hosts.json",
	            "hosts.json: $[0].controls.backup: expected on or off");
	{
		struct inv_hostlist l = INV_HOSTLIST_INIT;
		struct pl_err err = PL_ERR_INIT;

		assert_int_equal(csv("name,controls\nweb1,firewall=on;edr=off;mfa=true;"
		                     "patch-agent=unattended-upgrades\n",
		                     &l, &err),
		                 0);
		assert_true(json_is_true(json_object_get(l.hosts[0].controls, "firewall")));
		assert_true(json_is_false(json_object_get(l.hosts[0].controls, "edr")));
		assert_true(json_is_true(json_object_get(l.hosts[0].controls, "mfa")));
		assert_string_equal(
		    json_string_value(json_object_get(l.hosts[0].controls, "patch-agent")),
		    "unattended-upgrades");
		inv_hostlist_free(&l);
	}
}

static void test_context_and_update(void **state)
{
	struct store *st = *state;
	struct pl_err err = PL_ERR_INIT;
	struct inv_hostlist l = INV_HOSTLIST_INIT;
	struct inv_host_context c;
	struct inv_host h = {.tags = json_array(), .controls = json_object()};
	char msg[256];
	size_t added, updated;

	assert_int_equal(csv("name,role,environment,controls,tags\n"
	                     "web1,web,production,firewall=on;edr=crowdstrike;exposure=internet,a\n"
	                     "bare1,,,,\n",
	                     &l, &err),
	                 0);
	assert_int_equal(inv_import(st, &l, &added, &updated, &err), 0);
	inv_hostlist_free(&l);

	assert_int_equal(inv_host_context(st, "web1", &c, &err), 0);
	assert_string_equal(c.role, "web");
	assert_string_equal(c.environment, "production");
	assert_int_equal(c.exposure, INV_EXPOSURE_INTERNET);
	assert_int_equal(c.firewall, INV_ON);
	assert_int_equal(c.edr, INV_ON);
	assert_string_equal(c.edr_product, "crowdstrike");
	assert_int_equal(c.backup, INV_UNKNOWN);
	assert_int_equal(c.patch_agent, INV_UNKNOWN);
	assert_null(c.patch_agent_product);
	inv_host_context_clear(&c);

	assert_int_equal(inv_host_context(st, "bare1", &c, &err), 0);
	assert_null(c.role);
	assert_int_equal(c.exposure, INV_EXPOSURE_UNKNOWN);
	assert_int_equal(c.firewall, INV_UNKNOWN);
	assert_int_equal(json_object_size(c.controls), 0);
	inv_host_context_clear(&c);
	assert_int_equal(inv_host_context(st, "nope", &c, &err), PL_ENOTFOUND);
	assert_string_equal(err.msg, "no host named 'nope'");

	/* set: only what is given; controls merged, KEY= removes */
	h.role = pl_strdup("api");
	assert_int_equal(inv_control_add(h.controls, "edr=off", 1, msg, sizeof(msg)), 0);
	assert_int_equal(inv_control_add(h.controls, "firewall=", 1, msg, sizeof(msg)), 0);
	assert_int_equal(inv_control_add(h.controls, "exposure=isolated", 1, msg, sizeof(msg)), 0);
	assert_int_equal(inv_control_add(h.controls, "colour=", 1, msg, sizeof(msg)), -1);
	assert_int_equal(inv_host_update(st, "web1", &h, 0, &err), 0);
	assert_int_equal(inv_host_update(st, "nope", &h, 0, &err), PL_ENOTFOUND);
	inv_host_clear(&h);
	assert_int_equal(inv_host_context(st, "web1", &c, &err), 0);
	assert_string_equal(c.role, "api");
	assert_string_equal(c.environment, "production");
	assert_int_equal(c.exposure, INV_EXPOSURE_ISOLATED);
	assert_int_equal(c.firewall, INV_UNKNOWN);
	assert_int_equal(c.edr, INV_OFF);
	assert_null(c.edr_product);
	inv_host_context_clear(&c);
	{
		json_t *j = NULL;

		assert_int_equal(inv_host_show(st, "web1", 0, &j, &err), 0);
		assert_int_equal(json_array_size(json_object_get(j, "tags")), 1);
		assert_true(json_is_null(json_object_get(j, "hostname")));
		json_decref(j);
	}
}

static void test_rpm_dedup(void **state)
{
	const char *rpm = "kernel-core\t(none):5.14.0-362.8.1.el9_3\tx86_64\n"
	                  "bash\t(none):5.1.8-6.el9\tx86_64\n"
	                  "kernel-core\t(none):5.14.0-427.13.1.el9_4\tx86_64\n"
	                  "kernel-core\t(none):5.14.0-70.13.1.el9_0\tx86_64\n"
	                  "glibc\t(none):2.34-60.el9\ti686\n"
	                  "glibc\t(none):2.34-60.el9\tx86_64\n";
	struct inv_pkglist p = INV_PKGLIST_INIT;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(inv_rpmqa_parse(rpm, strlen(rpm), "rpm.txt", &p, &err), 0);
	assert_int_equal(p.n, 4);
	assert_string_equal(p.pkgs[0].name, "bash");
	assert_string_equal(p.pkgs[1].arch, "i686");
	assert_string_equal(p.pkgs[3].name, "kernel-core");
	assert_string_equal(p.pkgs[3].version, "5.14.0-427.13.1.el9_4");
	inv_pkglist_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_quoting),
	    cmocka_unit_test(test_csv_errors),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_rpmqa_errors),
	    cmocka_unit_test_setup_teardown(test_upsert_and_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_and_packages, setup, teardown),
	    cmocka_unit_test(test_controls),
	    cmocka_unit_test(test_rpm_dedup),
	    cmocka_unit_test_setup_teardown(test_context_and_update, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
