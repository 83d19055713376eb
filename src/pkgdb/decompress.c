/*
 * decompress.c - reading an index that may be plain, gzip or xz into memory.
 * The format is taken from the first bytes, never from the file name, so a
 * renamed file is still read right. Errors name the file; a stream that
 * ends early or fails its checksum is PL_EINVAL, as is output larger than
 * the caller's limit (a decompression bomb is bad input, not a crash).
 */
#include "pkgdb/pkgdb.h"

#include <lzma.h>
#include <sys/stat.h>
#include <zlib.h>

#define CHUNK ((size_t)1 << 16)

static const char *kind_name(enum pkgdb_compression c)
{
	return c == PKGDB_COMP_GZIP ? "gzip" : c == PKGDB_COMP_XZ ? "xz" : "plain";
}

enum pkgdb_compression pkgdb_compression_detect(const void *data, size_t len)
{
	const unsigned char *p = data;

	if (len >= 6 && memcmp(p,
	                       "\xfd"
	                       "7zXZ\0",
	                       6) == 0)
		return PKGDB_COMP_XZ;
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return PKGDB_COMP_GZIP;
	return PKGDB_COMP_NONE;
}

/* Formats we recognise but do not read: a clear error beats parsing binary. */
static const char *unsupported(const unsigned char *p, size_t len)
{
	if (len >= 4 && memcmp(p, "\x04\x22\x4d\x18", 4) == 0)
		return "lz4";
	if (len >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		return "zstd";
	if (len >= 3 && memcmp(p, "BZh", 3) == 0)
		return "bzip2";
	return NULL;
}

static int too_big(const char *source, size_t max, struct pl_err *err)
{
	return pl_error(err, PL_EINVAL, "%s: decompressed data larger than %zu bytes", source, max);
}

static int inflate_gzip(const unsigned char *in, size_t len, const char *source, size_t max,
                        struct pl_buf *out, struct pl_err *err)
{
	z_stream z;
	int zr = Z_OK;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return pl_error(err, PL_ENOMEM, "%s: cannot start zlib", source);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = 0;
	while (1) {
		size_t before;

		if (z.avail_in == 0 && len > 0) {
			uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;

			z.avail_in = n;
			len -= n;
		}
		pl_buf_grow(out, CHUNK);
		z.next_out = (unsigned char *)out->s + out->len;
		z.avail_out = (uInt)CHUNK;
		before = z.avail_out;
		zr = inflate(&z, Z_NO_FLUSH);
		out->len += before - z.avail_out;
		if (out->len > max) {
			inflateEnd(&z);
			return too_big(source, max, err);
		}
		if (zr == Z_STREAM_END) {
			/* gzip allows several members one after the other (RFC 1952 2.2) */
			if (z.avail_in == 0 && len == 0)
				break;
			if (inflateReset(&z) != Z_OK)
				break;
			continue;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0 && len == 0) {
			inflateEnd(&z);
			return pl_error(err, PL_EINVAL, "%s: truncated gzip data", source);
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			const char *m = z.msg ? z.msg : "corrupt data";

			inflateEnd(&z);
			return pl_error(err, PL_EINVAL, "%s: corrupt gzip data: %s", source, m);
		}
	}
	inflateEnd(&z);
	return 0;
}

static const char *lzma_msg(lzma_ret r)
{
	switch (r) {
	case LZMA_FORMAT_ERROR:
		return "not in xz format";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options";
	case LZMA_DATA_ERROR:
		return "corrupt data";
	case LZMA_BUF_ERROR:
		return "truncated data";
	case LZMA_MEMLIMIT_ERROR:
		return "needs more memory than allowed";
	default:
		return "decoder error";
	}
}

static int inflate_xz(const unsigned char *in, size_t len, const char *source, size_t max,
                      struct pl_buf *out, struct pl_err *err)
{
	lzma_stream z = LZMA_STREAM_INIT;
	lzma_ret r;

	/* 256 MiB of dictionary is far above xz -9e's 64 MiB. */
	if (lzma_stream_decoder(&z, (uint64_t)256 << 20, LZMA_CONCATENATED) != LZMA_OK)
		return pl_error(err, PL_ENOMEM, "%s: cannot start liblzma", source);
	z.next_in = in;
	z.avail_in = len;
	do {
		size_t before;

		pl_buf_grow(out, CHUNK);
		z.next_out = (uint8_t *)out->s + out->len;
		z.avail_out = CHUNK;
		before = z.avail_out;
		/* all input is there: LZMA_FINISH makes an early end LZMA_BUF_ERROR */
		r = lzma_code(&z, LZMA_FINISH);
		out->len += before - z.avail_out;
		if (out->len > max) {
			lzma_end(&z);
			return too_big(source, max, err);
		}
	} while (r == LZMA_OK);
	lzma_end(&z);
	if (r != LZMA_STREAM_END)
		return pl_error(err, PL_EINVAL, "%s: %s xz data", source,
		                r == LZMA_BUF_ERROR ? "truncated" : lzma_msg(r));
	return 0;
}

int pkgdb_decompress(const void *data, size_t len, const char *source, size_t max, char **out,
                     size_t *out_len, struct pl_err *err)
{
	struct pl_buf b = PL_BUF_INIT;
	enum pkgdb_compression c = pkgdb_compression_detect(data, len);
	const char *other = unsupported(data, len);
	int rc = 0;

	*out = NULL;
	if (!source)
		source = "<input>";
	if (other)
		return pl_error(err, PL_EINVAL, "%s: %s-compressed data is not supported", source,
		                other);
	if (c == PKGDB_COMP_GZIP)
		rc = inflate_gzip(data, len, source, max, &b, err);
	else if (c == PKGDB_COMP_XZ)
		rc = inflate_xz(data, len, source, max, &b, err);
	else if (len > max)
		rc = too_big(source, max, err);
	else
		pl_buf_add(&b, data, len);
	if (rc < 0) {
		pl_buf_release(&b);
		return rc;
	}
	pl_buf_grow(&b, 0);
	b.s[b.len] = '\0';
	if (out_len)
		*out_len = b.len;
	*out = pl_buf_detach(&b);
	pl_debug("%s: %s, %zu bytes", source, kind_name(c), out_len ? *out_len : 0);
	return 0;
}

int pkgdb_file_read_any(const char *path, size_t max, char **out, size_t *out_len,
                        struct pl_err *err)
{
	PL_AUTOFREE char *raw = NULL;
	struct stat st;
	size_t len;

	*out = NULL;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return pl_error(err, PL_EINVAL, "%s: is a directory", path);
	/* a compressed file is never larger than what it holds (less a header) */
	if (stat(path, &st) == 0 && (uint64_t)st.st_size > (uint64_t)max)
		return pl_error(err, PL_EINVAL, "%s: larger than %zu bytes", path, max);
	if (pl_file_read(path, &raw, &len, err) < 0)
		return err ? err->code : PL_EIO;
	return pkgdb_decompress(raw, len, path, max, out, out_len, err);
}
