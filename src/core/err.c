/* err.c - the error record, exit codes and the logger. */
#include "core.h"

#include <string.h>

int pl_log_level = PL_LOG_WARN;

int pl_error(struct pl_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int pl_error_prefix(struct pl_err *err, const char *fmt, ...)
{
	struct pl_buf b = PL_BUF_INIT;
	size_t n;
	va_list ap;

	if (!err)
		return PL_EINTERNAL;
	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	pl_buf_addf(&b, ": %s", err->msg);
	/* Keep the head: context first, then as much of the cause as fits. */
	n = b.len < sizeof(err->msg) - 1 ? b.len : sizeof(err->msg) - 1;
	memcpy(err->msg, b.s, n);
	err->msg[n] = '\0';
	pl_buf_release(&b);
	return err->code ? err->code : PL_EINTERNAL;
}

int pl_exit_code(int code)
{
	switch (code) {
	case PL_OK:
		return PL_EXIT_OK;
	case PL_EFAIL:
		return PL_EXIT_FAIL;
	case PL_EINVAL:
	case PL_EUSAGE:
	case PL_ENOTFOUND:
	case PL_EEXIST:
	case PL_ESTATE:
		return PL_EXIT_USAGE;
	default:
		return PL_EXIT_ENV;
	}
}

const char *pl_code_name(int code)
{
	switch (code) {
	case PL_OK: return "ok";
	case PL_EINVAL: return "input";
	case PL_EUSAGE: return "usage";
	case PL_ENOTFOUND: return "not-found";
	case PL_EEXIST: return "exists";
	case PL_ESTATE: return "state";
	case PL_EFAIL: return "failed";
	case PL_EENV: return "environment";
	case PL_EIO: return "io";
	case PL_EDB: return "database";
	case PL_ETIMEOUT: return "timeout";
	case PL_ENOMEM: return "memory";
	default: return "internal";
	}
}

void pl_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"", "error", "warning", "info", "debug"};
	va_list ap;

	if (level > pl_log_level || level <= PL_LOG_QUIET)
		return;
	fprintf(stderr, "%s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

double pl_progress_begin(const struct pl_progress *p, const char *stage, const char *fmt, ...)
{
	char detail[512] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (p && p->stage)
		p->stage(p->ctx, stage, detail);
	return pl_monotonic();
}

double pl_progress_end(const struct pl_progress *p, const char *stage, int rc, double start)
{
	double secs = pl_monotonic() - start;

	if (p && p->done)
		p->done(p->ctx, stage, rc, secs);
	return secs;
}
