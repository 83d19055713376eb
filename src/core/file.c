/* file.c - whole-file reads, atomic writes, directories, JSON files. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pl_file_read(const char *path, char **out, size_t *len, struct pl_err *err)
{
	PL_AUTOFILE FILE *f = fopen(path, "rb");
	struct pl_buf b = PL_BUF_INIT;
	char chunk[65536];
	size_t n;

	if (!f)
		return pl_error(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "%s: %s", path,
				strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		pl_buf_add(&b, chunk, n);
	if (ferror(f)) {
		pl_buf_release(&b);
		return pl_error(err, PL_EIO, "%s: read error", path);
	}
	pl_buf_grow(&b, 0);
	b.s[b.len] = '\0'; /* an empty file has no byte written yet */
	if (len)
		*len = b.len;
	*out = pl_buf_detach(&b);
	return 0;
}

int pl_file_write_atomic(const char *path, const void *data, size_t len, int mode,
			 struct pl_err *err)
{
	PL_AUTOFREE char *tmp = pl_strdupf("%s.tmp.%ld", path, (long)getpid());
	PL_AUTOFD int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const char *p = data;

	if (fd < 0)
		return pl_error(err, PL_EIO, "%s: %s", tmp, strerror(errno));
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			unlink(tmp);
			return pl_error(err, PL_EIO, "%s: %s", path, strerror(e));
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return pl_error(err, PL_EIO, "%s: %s", path, strerror(e));
	}
	return 0;
}

int pl_mkdir_p(const char *path, int mode, struct pl_err *err)
{
	PL_AUTOFREE char *p = pl_strdup(path);
	char *s;

	for (s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
			return pl_error(err, PL_EIO, "cannot create directory '%s': %s", p,
					strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	return 0;
}

char *pl_path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	while (n > 1 && a[n - 1] == '/')
		n--;
	while (*b == '/')
		b++;
	return pl_strdupf("%.*s/%s", (int)n, a, b);
}

int pl_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int pl_json_load_file(const char *path, json_t **out, struct pl_err *err)
{
	json_error_t je;
	json_t *j;

	if (access(path, R_OK) < 0)
		return pl_error(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "%s: %s", path,
				strerror(errno));
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return pl_error(err, PL_EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	*out = j;
	return 0;
}

int pl_json_print(FILE *f, const json_t *j)
{
	/* 15 significant digits: 9.8 prints as 9.8, not 9.8000000000000007 */
	if (json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) < 0)
		return PL_EIO;
	fputc('\n', f);
	return 0;
}
