/*
 * zip.c - reading the entries of a zip archive held in memory (PKWARE
 * APPNOTE 6.3.x: end of central directory, ZIP64 end record and locator,
 * central directory headers, local headers; stored and deflate methods).
 *
 * The archive comes from outside: every offset and length is checked
 * against the buffer before it is read, sizes come from the central
 * directory (a data descriptor changes nothing), the local header must
 * agree on the name length it implies, an entry must inflate to exactly
 * its recorded size and CRC-32, and the recorded sizes of all entries may
 * not add up to more than the caller's bound (zip bombs). Nothing is
 * written to disk, so entry names are never paths.
 */
#include "detect/detect-private.h"

#include <zlib.h>

#define SIG_LOCAL   0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD    0x06054b50u
#define SIG_EOCD64  0x06064b50u
#define SIG_LOC64   0x07064b50u

#define ZIP_CHUNK ((size_t)1 << 16)

struct zip {
	const unsigned char *p;
	size_t len;
	const char *file;
	struct pl_err *err;
};

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* 1 when [off, off + n) lies inside the archive. */
static int inside(const struct zip *z, uint64_t off, uint64_t n)
{
	return off <= z->len && n <= z->len - off;
}

static int zip_bad(const struct zip *z, const char *entry, const char *fmt, ...) PL_PRINTF(3, 4);

static int zip_bad(const struct zip *z, const char *entry, const char *fmt, ...)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	pl_buf_addf(&b, "%s: ", z->file);
	if (entry)
		pl_buf_addf(&b, "%s: ", entry);
	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return pl_error(z->err, PL_EINVAL, "%s", pl_buf_str(&b));
}

/* The central directory's place and size. */
struct zip_dir {
	uint64_t offset, size, entries;
};

/* ZIP64: the end record the locator just before the classic one points at. */
static int zip_eocd64(const struct zip *z, size_t eocd, struct zip_dir *d)
{
	const unsigned char *loc, *e;
	uint64_t off;

	if (eocd < 20 || rd32(z->p + eocd - 20) != SIG_LOC64)
		return zip_bad(z, NULL, "ZIP64 sizes without a ZIP64 locator");
	loc = z->p + eocd - 20;
	off = rd64(loc + 8);
	if (rd32(loc + 4) != 0 || rd32(loc + 16) > 1)
		return zip_bad(z, NULL, "multi-volume archives are not read");
	if (!inside(z, off, 56) || off > eocd - 20 || rd32(z->p + off) != SIG_EOCD64)
		return zip_bad(z, NULL, "ZIP64 end of central directory not found at %llu",
		               (unsigned long long)off);
	e = z->p + off;
	if (rd32(e + 16) != 0 || rd32(e + 20) != 0)
		return zip_bad(z, NULL, "multi-volume archives are not read");
	d->entries = rd64(e + 32);
	d->size = rd64(e + 40);
	d->offset = rd64(e + 48);
	if (rd64(e + 24) != d->entries)
		return zip_bad(z, NULL, "multi-volume archives are not read");
	/* the directory ends where the ZIP64 record starts */
	if (!inside(z, d->offset, d->size) || d->offset + d->size > off)
		return zip_bad(z, NULL, "central directory outside the archive");
	return 0;
}

static int zip_dir_find(const struct zip *z, struct zip_dir *d)
{
	size_t lo, i;
	const unsigned char *e = NULL;

	if (z->len < 22)
		return zip_bad(z, NULL, "too short for a zip archive (%zu bytes)", z->len);
	/* the end record is last, followed by a comment of at most 65535 bytes */
	lo = z->len - 22 > 65535 ? z->len - 22 - 65535 : 0;
	for (i = z->len - 22 + 1; i-- > lo;)
		if (rd32(z->p + i) == SIG_EOCD && i + 22 + rd16(z->p + i + 20) == z->len) {
			e = z->p + i;
			break;
		}
	if (!e)
		return zip_bad(z, NULL, "no end of central directory (truncated or not a zip)");
	if (rd16(e + 4) != 0 || rd16(e + 6) != 0 || rd16(e + 8) != rd16(e + 10))
		return zip_bad(z, NULL, "multi-volume archives are not read");
	d->entries = rd16(e + 10);
	d->size = rd32(e + 12);
	d->offset = rd32(e + 16);
	if (d->entries == 0xffff || d->size == 0xffffffffu || d->offset == 0xffffffffu)
		return zip_eocd64(z, i, d);
	if (!inside(z, d->offset, d->size) || d->offset + d->size > i)
		return zip_bad(z, NULL, "central directory outside the archive");
	return 0;
}

/* One entry as the central directory records it. */
struct zip_entry {
	char name[256]; /* printable, for messages (cut) */
	const char *raw_name;
	size_t name_len;
	uint16_t flags, method;
	uint32_t crc;
	uint64_t csize, usize, local;
};

/* Reads the ZIP64 extra field for the sizes and offset the header saturated. */
static int zip_extra64(const struct zip *z, struct zip_entry *en, const unsigned char *x,
                       size_t xlen)
{
	while (xlen >= 4) {
		uint16_t id = rd16(x), n = rd16(x + 2);
		const unsigned char *q = x + 4;
		size_t need = 0;

		if ((size_t)n + 4 > xlen)
			return zip_bad(z, en->name, "extra field overruns its header");
		if (id == 0x0001) {
			need = 8 * ((en->usize == 0xffffffffu) + (en->csize == 0xffffffffu) +
			            (en->local == 0xffffffffu));
			if (n < need)
				return zip_bad(z, en->name, "ZIP64 extra field too short");
			if (en->usize == 0xffffffffu)
				en->usize = rd64(q), q += 8;
			if (en->csize == 0xffffffffu)
				en->csize = rd64(q), q += 8;
			if (en->local == 0xffffffffu)
				en->local = rd64(q);
			return 0;
		}
		x += 4 + n;
		xlen -= 4 + (size_t)n;
	}
	if (en->usize == 0xffffffffu || en->csize == 0xffffffffu || en->local == 0xffffffffu)
		return zip_bad(z, en->name, "ZIP64 sizes without a ZIP64 extra field");
	return 0;
}

/* Reads the central header at *pos (inside the directory end) into en. */
static int zip_central(const struct zip *z, uint64_t *pos, uint64_t end, struct zip_entry *en)
{
	const unsigned char *h = z->p + *pos;
	size_t n, x, c, k;

	if (*pos + 46 > end || rd32(h) != SIG_CENTRAL)
		return zip_bad(z, NULL, "bad central directory header at %llu",
		               (unsigned long long)*pos);
	n = rd16(h + 28);
	x = rd16(h + 30);
	c = rd16(h + 32);
	if (*pos + 46 + n + x + c > end)
		return zip_bad(z, NULL, "central directory header at %llu overruns the directory",
		               (unsigned long long)*pos);
	memset(en, 0, sizeof(*en));
	en->raw_name = (const char *)h + 46;
	en->name_len = n;
	for (k = 0; k < n && k < sizeof(en->name) - 1; k++)
		en->name[k] = h[46 + k] >= 0x20 && h[46 + k] < 0x7f ? (char)h[46 + k] : '?';
	en->name[k] = '\0';
	en->flags = rd16(h + 8);
	en->method = rd16(h + 10);
	en->crc = rd32(h + 16);
	en->csize = rd32(h + 20);
	en->usize = rd32(h + 24);
	en->local = rd32(h + 42);
	if (rd16(h + 34) != 0 && rd16(h + 34) != 0xffff)
		return zip_bad(z, en->name, "multi-volume archives are not read");
	if (zip_extra64(z, en, h + 46 + n, x) < 0)
		return PL_EINVAL;
	if (n == 0 || memchr(en->raw_name, '\0', n))
		return zip_bad(z, en->name, "empty name or a NUL in it");
	*pos += 46 + n + x + c;
	return 0;
}

/* Where the entry's data starts, from its local header. */
static int zip_data(const struct zip *z, const struct zip_entry *en, const unsigned char **out)
{
	const unsigned char *h = z->p + en->local;
	uint64_t start;

	if (!inside(z, en->local, 30) || rd32(h) != SIG_LOCAL)
		return zip_bad(z, en->name, "no local header at %llu",
		               (unsigned long long)en->local);
	if (rd16(h + 26) != en->name_len)
		return zip_bad(z, en->name, "local and central headers disagree on the name");
	start = en->local + 30 + rd16(h + 26) + rd16(h + 28);
	if (!inside(z, start, en->csize))
		return zip_bad(z, en->name, "data runs past the end of the archive (truncated?)");
	*out = z->p + start;
	return 0;
}

/* Raw deflate of exactly csize bytes into exactly usize bytes. */
static int zip_inflate(const struct zip *z, const struct zip_entry *en, const unsigned char *in,
                       struct pl_buf *out)
{
	z_stream s;
	int zr;

	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, -15) != Z_OK)
		return pl_error(z->err, PL_ENOMEM, "%s: cannot start zlib", z->file);
	s.next_in = (unsigned char *)(uintptr_t)in;
	s.avail_in = 0;
	do {
		uint64_t left_in = en->csize - (uint64_t)(s.next_in - in) - s.avail_in;
		size_t room = ZIP_CHUNK, before;

		if (s.avail_in == 0 && left_in > 0)
			s.avail_in = left_in > UINT_MAX ? UINT_MAX : (uInt)left_in;
		/* never more than the recorded size (+1 to notice a lie) */
		if ((uint64_t)out->len + room > en->usize + 1)
			room = (size_t)(en->usize + 1 - out->len);
		pl_buf_grow(out, room);
		s.next_out = (unsigned char *)out->s + out->len;
		s.avail_out = (uInt)room;
		before = s.avail_out;
		zr = inflate(&s, Z_NO_FLUSH);
		out->len += before - s.avail_out;
		if (out->len > en->usize) {
			inflateEnd(&s);
			return zip_bad(z, en->name, "inflates to more than its recorded %llu bytes",
			               (unsigned long long)en->usize);
		}
		if (zr == Z_BUF_ERROR && s.avail_in == 0 &&
		    (uint64_t)(s.next_in - in) == en->csize) {
			inflateEnd(&s);
			return zip_bad(z, en->name, "truncated deflate data");
		}
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			const char *m = s.msg ? s.msg : "corrupt data";

			inflateEnd(&s);
			return zip_bad(z, en->name, "corrupt deflate data: %s", m);
		}
	} while (zr != Z_STREAM_END);
	inflateEnd(&s);
	if ((uint64_t)(s.next_in - in) != en->csize)
		return zip_bad(z, en->name, "bytes after the end of the deflate data");
	if (out->len != en->usize)
		return zip_bad(z, en->name, "inflates to %zu bytes, %llu recorded", out->len,
		               (unsigned long long)en->usize);
	return 0;
}

static int zip_entry_read(const struct zip *z, const struct zip_entry *en, struct pl_buf *out)
{
	const unsigned char *data = NULL;

	if (en->flags & 0x0001)
		return zip_bad(z, en->name, "encrypted entries are not read");
	if (en->method != 0 && en->method != 8)
		return zip_bad(z, en->name,
		               "compression method %u is not read (only stored and deflate)",
		               en->method);
	if (zip_data(z, en, &data) < 0)
		return PL_EINVAL;
	pl_buf_reset(out);
	if (en->method == 0) {
		if (en->csize != en->usize)
			return zip_bad(z, en->name, "stored entry with two different sizes");
		pl_buf_add(out, data, (size_t)en->usize);
	} else if (zip_inflate(z, en, data, out) < 0) {
		return PL_EINVAL;
	}
	if (crc32_z(0L, (const Bytef *)(out->s ? out->s : ""), out->len) != en->crc)
		return zip_bad(z, en->name, "CRC-32 mismatch (corrupt data)");
	pl_buf_grow(out, 0);
	out->s[out->len] = '\0';
	return 0;
}

int detect_zip_each(const void *data, size_t len, const char *file, uint64_t max_total,
                    int (*fn)(void *ctx, const char *name, const char *data, size_t len,
                              struct pl_err *err),
                    void *ctx, struct pl_err *err)
{
	struct zip z = {data, len, file ? file : "<input>", err};
	PL_AUTOBUF struct pl_buf buf = PL_BUF_INIT;
	struct zip_dir d = {0};
	struct zip_entry en;
	uint64_t pos, end, total = 0, i;

	if (zip_dir_find(&z, &d) < 0)
		return PL_EINVAL;
	/* 46 bytes per central header at least: a count that cannot fit lies */
	if (d.entries > d.size / 46)
		return zip_bad(&z, NULL, "%llu entries cannot fit in a %llu-byte directory",
		               (unsigned long long)d.entries, (unsigned long long)d.size);
	/* first pass: headers and the total size, before inflating anything */
	end = d.offset + d.size;
	for (pos = d.offset, i = 0; i < d.entries; i++) {
		if (zip_central(&z, &pos, end, &en) < 0)
			return PL_EINVAL;
		if (en.usize > max_total - total)
			return zip_bad(&z, en.name,
			               "the entries add up to more than %llu bytes uncompressed",
			               (unsigned long long)max_total);
		total += en.usize;
	}
	if (pos != end)
		return zip_bad(&z, NULL, "central directory holds more than its %llu entries",
		               (unsigned long long)d.entries);
	for (pos = d.offset, i = 0; i < d.entries; i++) {
		PL_AUTOFREE char *name = NULL;
		int rc;

		zip_central(&z, &pos, end, &en);
		if (en.raw_name[en.name_len - 1] == '/')
			continue;
		if (zip_entry_read(&z, &en, &buf) < 0)
			return PL_EINVAL;
		name = pl_strndup(en.raw_name, en.name_len);
		rc = fn(ctx, name, buf.s, buf.len, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
