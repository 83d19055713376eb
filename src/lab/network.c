/*
 * network.c - the run's isolated network: no <forward>, DHCP with a fixed
 * address per VM, and for PXE a TFTP root served by libvirt's dnsmasq.
 */
#include "lab-private.h"

#include <fcntl.h>
#include <sys/stat.h>

/* PXE files from Debian's pxelinux and syslinux-common packages. */
#define LAB_PXELINUX "/usr/lib/PXELINUX/pxelinux.0"
#define LAB_LDLINUX "/usr/lib/syslinux/modules/bios/ldlinux.c32"

/* 1 when an active libvirt network already uses 10.231.N.0/24. */
static int lab_subnet_used(virConnectPtr conn, unsigned n)
{
	virNetworkPtr *nets = NULL;
	char needle[48];
	int k = virConnectListAllNetworks(conn, &nets, VIR_CONNECT_LIST_NETWORKS_ACTIVE);
	int used = 0;

	snprintf(needle, sizeof(needle), "address='10.231.%u.1'", n);
	for (int i = 0; i < k; i++) {
		char *xml = virNetworkGetXMLDesc(nets[i], 0);

		used |= xml && strstr(xml, needle) != NULL;
		free(xml);
		virNetworkFree(nets[i]);
	}
	free(nets);
	return used;
}

/* "auto": the first free 10.231.N.0/24 from a start derived from the run id. */
static int lab_pick_prefix(struct lab_run *run, const struct lab_def *def, char **prefix,
			   struct pl_err *err)
{
	unsigned start = (unsigned)strtoul(run->id + 6, NULL, 16) % 250;

	if (strcmp(def->subnet, "auto") != 0) {
		*prefix = pl_strndup(def->subnet, strlen(def->subnet) - strlen(".0/24"));
		return 0;
	}
	for (unsigned i = 0; i < 250; i++) {
		unsigned n = (start + i) % 250 + 1;

		if (!lab_subnet_used(run->conn, n)) {
			*prefix = pl_strdupf("10.231.%u", n);
			return 0;
		}
	}
	return pl_error(err, PL_EENV, "no free lab subnet in 10.231.0.0/16");
}

int lab_network_create(struct lab_run *run, const struct lab_def *def, const char *tftp_root,
		       const char *const *macs, size_t nmacs, char **name, struct pl_err *err)
{
	PL_AUTOFREE char *prefix = NULL, *xml = NULL;
	PL_AUTOFREE char *net = pl_strdupf("patchlab-%s", run->id);
	PL_AUTOFREE char *bridge = pl_strdupf("plb-%s", run->id);
	PL_AUTOFREE char *gw = NULL, *lo = NULL, *hi = NULL;
	struct lab_host *hosts = pl_calloc(nmacs, sizeof(*hosts));
	char **ips = pl_calloc(nmacs, sizeof(*ips));
	virNetworkPtr n = NULL;
	int rc = lab_pick_prefix(run, def, &prefix, err);

	if (rc == 0) {
		struct lab_network_spec ns = {.name = net, .bridge = bridge, .run_id = run->id,
					      .netmask = "255.255.255.0", .tftp_root = tftp_root,
					      .bootp_file = "pxelinux.0", .hosts = hosts,
					      .nhosts = nmacs};

		gw = pl_strdupf("%s.1", prefix);
		lo = pl_strdupf("%s.100", prefix);
		hi = pl_strdupf("%s.200", prefix);
		ns.address = gw;
		ns.dhcp_start = lo;
		ns.dhcp_end = hi;
		for (size_t i = 0; i < nmacs; i++) {
			ips[i] = pl_strdupf("%s.%zu", prefix, 10 + i);
			hosts[i] = (struct lab_host){macs[i], ips[i], NULL};
		}
		xml = lab_xml_network(&ns);
		rc = xml ? lab_run_track(run, "network", net, err)
			 : pl_error(err, PL_EINTERNAL, "writing the network XML");
	}
	if (rc == 0 && !(n = virNetworkCreateXML(run->conn, xml)))
		rc = lab_virt_error(err, "creating the lab network");
	if (n)
		virNetworkFree(n);
	for (size_t i = 0; i < nmacs; i++)
		free(ips[i]);
	free(ips);
	free(hosts);
	if (rc == 0)
		*name = PL_STEAL(net);
	return rc;
}

/* Copies src to dst (0644): the TFTP root must not hold links into the
 * image cache, which dnsmasq may not be allowed to read. */
static int lab_copy(const char *src, const char *dst, struct pl_err *err)
{
	PL_AUTOFD int in = open(src, O_RDONLY | O_CLOEXEC);
	PL_AUTOFD int out = -1;
	char buf[1 << 16];
	ssize_t n;

	if (in < 0)
		return pl_error(err, PL_EENV, "%s: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return pl_error(err, PL_EIO, "%s: %s", dst, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return pl_error(err, PL_EIO, "%s: %s", dst, strerror(errno));
	return n < 0 ? pl_error(err, PL_EIO, "%s: %s", src, strerror(errno)) : 0;
}

int lab_tftp_prepare(const char *root, const char *kernel, const char *initrd,
		     const char *cmdline, const char *const *macs, size_t nmacs,
		     struct pl_err *err)
{
	PL_AUTOFREE char *cfgdir = pl_path_join(root, "pxelinux.cfg");
	const struct {
		const char *src, *name;
	} files[] = {{LAB_PXELINUX, "pxelinux.0"},
		     {LAB_LDLINUX, "ldlinux.c32"},
		     {kernel, "vmlinuz"},
		     {initrd, "initrd.img"}};

	if (!pl_path_exists(LAB_PXELINUX) || !pl_path_exists(LAB_LDLINUX))
		return pl_error(err, PL_EENV, "PXE boot needs %s and %s (packages pxelinux and "
					      "syslinux-common: run scripts/setup)",
				LAB_PXELINUX, LAB_LDLINUX);
	if (pl_mkdir_p(cfgdir, 0755, err) < 0)
		return err->code;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		PL_AUTOFREE char *dst = pl_path_join(root, files[i].name);

		if (lab_copy(files[i].src, dst, err) < 0)
			return err->code;
	}
	/* One config per MAC ("01-" + the MAC with dashes), as pxelinux asks. */
	for (size_t i = 0; i < nmacs; i++) {
		PL_AUTOFREE char *cfg = pl_strdupf("DEFAULT lab\nPROMPT 0\nTIMEOUT 1\nLABEL lab\n"
						   "  KERNEL vmlinuz\n  INITRD initrd.img\n"
						   "  APPEND %s\n",
						   cmdline);
		PL_AUTOFREE char *file = pl_strdupf("%s/01-%s", cfgdir, macs[i]);

		for (char *p = strrchr(file, '/') + 4; *p; p++)
			if (*p == ':')
				*p = '-';
		if (pl_file_write_atomic(file, cfg, strlen(cfg), 0644, err) < 0)
			return err->code;
	}
	return 0;
}
