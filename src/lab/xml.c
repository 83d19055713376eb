/*
 * xml.c - libvirt XML for pools, volumes, networks and domains.
 *
 * Written with libxml2's xmlTextWriter: names, paths and command lines come
 * from lab files and images, so nothing is ever pasted into markup by hand.
 */
#include "lab.h"

#include <libxml/xmlwriter.h>

struct xw {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	int failed;
};

static int xw_open(struct xw *x)
{
	x->failed = 0;
	x->buf = xmlBufferCreate();
	x->w = x->buf ? xmlNewTextWriterMemory(x->buf, 0) : NULL;
	if (!x->w)
		return -1;
	xmlTextWriterSetIndent(x->w, 1);
	xmlTextWriterSetIndentString(x->w, BAD_CAST "  ");
	return 0;
}

static char *xw_close(struct xw *x)
{
	char *out = NULL;

	if (x->w && xmlTextWriterEndDocument(x->w) < 0)
		x->failed = 1;
	if (x->w)
		xmlFreeTextWriter(x->w);
	if (!x->failed && x->buf)
		out = pl_strdup((const char *)xmlBufferContent(x->buf));
	if (x->buf)
		xmlBufferFree(x->buf);
	return out;
}

static void xw_start(struct xw *x, const char *name)
{
	if (xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->failed = 1;
}

static void xw_end(struct xw *x)
{
	if (xmlTextWriterEndElement(x->w) < 0)
		x->failed = 1;
}

static void xw_attr(struct xw *x, const char *name, const char *value)
{
	if (value && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
		x->failed = 1;
}

/* <name attr=value ...>text</name>; attrs is a NULL-terminated list of pairs. */
static void xw_elem(struct xw *x, const char *name, const char *text, const char *const *attrs)
{
	xw_start(x, name);
	for (size_t i = 0; attrs && attrs[i]; i += 2)
		xw_attr(x, attrs[i], attrs[i + 1]);
	if (text && xmlTextWriterWriteString(x->w, BAD_CAST text) < 0)
		x->failed = 1;
	xw_end(x);
}

#define A(...) ((const char *const[]){__VA_ARGS__, NULL})

char *lab_xml_pool(const struct lab_pool_spec *s)
{
	struct xw x;

	if (xw_open(&x) < 0)
		return xw_close(&x);
	xw_start(&x, "pool");
	xw_attr(&x, "type", "dir");
	xw_elem(&x, "name", s->name, NULL);
	xw_start(&x, "target");
	xw_elem(&x, "path", s->path, NULL);
	xw_start(&x, "permissions");
	xw_elem(&x, "mode", "0711", NULL);
	xw_end(&x);
	xw_end(&x);
	xw_end(&x);
	return xw_close(&x);
}

char *lab_xml_volume(const struct lab_volume_spec *s)
{
	struct xw x;
	char cap[32];

	if (xw_open(&x) < 0)
		return xw_close(&x);
	snprintf(cap, sizeof(cap), "%llu", (unsigned long long)s->capacity);
	xw_start(&x, "volume");
	xw_elem(&x, "name", s->name, NULL);
	xw_elem(&x, "capacity", cap, A("unit", "bytes"));
	xw_start(&x, "target");
	xw_elem(&x, "format", NULL, A("type", "qcow2"));
	xw_end(&x);
	/* QEMU 7.2 refuses a backing file without its format. */
	xw_start(&x, "backingStore");
	xw_elem(&x, "path", s->backing_path, NULL);
	xw_elem(&x, "format", NULL, A("type", s->backing_format));
	xw_end(&x);
	xw_end(&x);
	return xw_close(&x);
}

char *lab_xml_network(const struct lab_network_spec *s)
{
	struct xw x;

	if (xw_open(&x) < 0)
		return xw_close(&x);
	/* No <forward>: the network is isolated, guests reach nothing else. */
	xw_start(&x, "network");
	xw_elem(&x, "name", s->name, NULL);
	xw_elem(&x, "bridge", NULL, A("name", s->bridge, "stp", "off", "delay", "0"));
	xw_start(&x, "ip");
	xw_attr(&x, "address", s->address);
	xw_attr(&x, "netmask", s->netmask);
	if (s->tftp_root)
		xw_elem(&x, "tftp", NULL, A("root", s->tftp_root));
	xw_start(&x, "dhcp");
	xw_elem(&x, "range", NULL, A("start", s->dhcp_start, "end", s->dhcp_end));
	for (size_t i = 0; i < s->nhosts; i++)
		xw_elem(&x, "host", NULL,
			A("mac", s->hosts[i].mac, "name", s->hosts[i].name, "ip", s->hosts[i].ip));
	if (s->tftp_root)
		xw_elem(&x, "bootp", NULL, A("file", s->bootp_file));
	xw_end(&x);
	xw_end(&x);
	xw_end(&x);
	return xw_close(&x);
}

static void xml_domain_os(struct xw *x, const struct lab_domain_spec *s)
{
	xw_start(x, "os");
	xw_elem(x, "type", "hvm", A("arch", "x86_64", "machine", "pc"));
	switch (s->boot) {
	case LAB_BOOT_PXE:
		xw_elem(x, "boot", NULL, A("dev", "network"));
		break;
	case LAB_BOOT_KERNEL:
		if (s->firmware)
			xw_elem(x, "loader", s->firmware, A("readonly", "yes", "type", "rom"));
		xw_elem(x, "kernel", s->kernel, NULL);
		xw_elem(x, "initrd", s->initrd, NULL);
		xw_elem(x, "cmdline", s->cmdline, NULL);
		break;
	case LAB_BOOT_DISK:
		xw_elem(x, "boot", NULL, A("dev", "hd"));
		break;
	}
	xw_end(x);
}

static void xml_domain_devices(struct xw *x, const struct lab_domain_spec *s)
{
	xw_start(x, "devices");
	xw_start(x, "disk");
	xw_attr(x, "type", "file");
	xw_attr(x, "device", "disk");
	xw_elem(x, "driver", NULL, A("name", "qemu", "type", s->disk_format));
	xw_elem(x, "source", NULL, A("file", s->disk_path));
	xw_elem(x, "target", NULL, A("dev", "vda", "bus", "virtio"));
	xw_end(x);
	if (s->network) {
		xw_start(x, "interface");
		xw_attr(x, "type", "network");
		xw_elem(x, "mac", NULL, A("address", s->mac));
		xw_elem(x, "source", NULL, A("network", s->network));
		xw_elem(x, "model", NULL, A("type", "virtio"));
		xw_end(x);
	}
	/* The serial console goes to a file: the evidence of every boot. */
	xw_start(x, "serial");
	xw_attr(x, "type", "file");
	xw_elem(x, "source", NULL, A("path", s->console_log, "append", "off"));
	xw_elem(x, "target", NULL, A("port", "0"));
	xw_end(x);
	/* No USB controller (libvirt adds one otherwise): less for the guest
	 * kernel to probe, nothing a lab check needs. */
	xw_elem(x, "controller", NULL, A("type", "usb", "model", "none"));
	/* pvpanic: a guest kernel panic reaches libvirt as a crash. */
	xw_start(x, "video");
	xw_elem(x, "model", NULL, A("type", "none"));
	xw_end(x);
	xw_elem(x, "memballoon", NULL, A("model", "none"));
	xw_elem(x, "panic", NULL, A("model", "isa"));
	xw_end(x);
}

char *lab_xml_domain(const struct lab_domain_spec *s)
{
	struct xw x;
	char vcpus[16], memory[16];

	if (xw_open(&x) < 0)
		return xw_close(&x);
	snprintf(vcpus, sizeof(vcpus), "%u", s->vcpus);
	snprintf(memory, sizeof(memory), "%u", s->memory_mib);
	xw_start(&x, "domain");
	xw_attr(&x, "type", s->virt_type);
	xw_elem(&x, "name", s->name, NULL);
	xw_start(&x, "metadata");
	if (xmlTextWriterStartElementNS(x.w, BAD_CAST LAB_XMLNS_PREFIX, BAD_CAST "run",
					BAD_CAST LAB_XMLNS) < 0)
		x.failed = 1;
	xw_attr(&x, "id", s->run_id);
	xw_attr(&x, "vm", s->vm);
	xw_end(&x);
	xw_end(&x);
	xw_elem(&x, "memory", memory, A("unit", "MiB"));
	xw_elem(&x, "vcpu", vcpus, NULL);
	xml_domain_os(&x, s);
	xw_start(&x, "features");
	xw_elem(&x, "acpi", NULL, NULL);
	xw_end(&x);
	xw_elem(&x, "on_poweroff", "destroy", NULL);
	/* A lab VM never reboots on purpose: a reboot is a crash to report. */
	xw_elem(&x, "on_reboot", "destroy", NULL);
	xw_elem(&x, "on_crash", "destroy", NULL);
	xml_domain_devices(&x, s);
	xw_end(&x);
	return xw_close(&x);
}
