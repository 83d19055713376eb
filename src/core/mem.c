/* mem.c - allocation that cannot fail, cleanup helpers, the string buffer. */
#include "core.h"

#include <string.h>
#include <unistd.h>

static void pl_oom(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *pl_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		pl_oom(n);
	return p;
}

void *pl_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		pl_oom(n * size);
	return p;
}

void *pl_realloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (!p)
		pl_oom(n);
	return p;
}

char *pl_strdup(const char *s)
{
	return pl_strndup(s, strlen(s));
}

char *pl_strndup(const char *s, size_t n)
{
	char *p = pl_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *pl_strdupf(const char *fmt, ...)
{
	struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return pl_buf_detach(&b);
}

void pl_freep(void *pp)
{
	void **p = pp;

	free(*p);
	*p = NULL;
}

void pl_fclosep(FILE **fp)
{
	if (*fp)
		fclose(*fp);
	*fp = NULL;
}

void pl_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void pl_json_decrefp(json_t **j)
{
	json_decref(*j);
	*j = NULL;
}

void pl_buf_grow(struct pl_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need < b->len)
		pl_oom(SIZE_MAX);
	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap = b->cap * 2 > b->cap ? b->cap * 2 : need;
	b->s = pl_realloc(b->s, b->cap);
}

void pl_buf_add(struct pl_buf *b, const void *data, size_t n)
{
	pl_buf_grow(b, n);
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void pl_buf_adds(struct pl_buf *b, const char *s)
{
	pl_buf_add(b, s, strlen(s));
}

void pl_buf_addc(struct pl_buf *b, char c)
{
	pl_buf_grow(b, 1);
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

void pl_buf_vaddf(struct pl_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	pl_buf_grow(b, 64);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		pl_buf_grow(b, (size_t)n);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void pl_buf_addf(struct pl_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pl_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void pl_buf_reset(struct pl_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

const char *pl_buf_str(const struct pl_buf *b)
{
	return b->s ? b->s : "";
}

char *pl_buf_detach(struct pl_buf *b)
{
	char *s = b->s ? b->s : pl_strdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void pl_buf_release(struct pl_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void pl_buf_add_xml(struct pl_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': pl_buf_adds(b, "&amp;"); break;
		case '<': pl_buf_adds(b, "&lt;"); break;
		case '>': pl_buf_adds(b, "&gt;"); break;
		case '"': pl_buf_adds(b, "&quot;"); break;
		case '\'': pl_buf_adds(b, "&#39;"); break;
		default: pl_buf_addc(b, *s);
		}
	}
}
