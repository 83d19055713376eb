/*
 * net.c - one URL into one file (or buffer) with libcurl's easy interface.
 *
 * Each attempt starts from an empty sink: the body of a failed attempt is
 * never mixed with the next one's. Error bodies (HTTP >= 400) are never
 * written (CURLOPT_FAILONERROR). The SHA-256 is computed while writing,
 * so a caller never has to read a large file back to check it.
 */
#include "net/net.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>

#define NET_CONNECT_TIMEOUT 15L
#define NET_TIMEOUT         300L
#define NET_RETRIES         2
#define NET_MAX_BYTES       ((uint64_t)4 << 30)
#define NET_STALL_TIMEOUT   30L
#define NET_STALL_BYTES     1024L
#define NET_BACKOFF_FIRST   0.5
#define NET_BACKOFF_MAX     8.0
#define NET_RETRY_AFTER_MAX 30L

/* curl_global_init is not thread-safe and must run once: pthread_once. */
static pthread_once_t net_once = PTHREAD_ONCE_INIT;
static CURLcode net_init_rc = CURLE_FAILED_INIT;

static void net_global_init(void)
{
	net_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One transfer's sink and what the server said, reset before each attempt. */
struct net_xfer {
	const char *url;
	const char *label;
	const struct pl_progress *progress;
	int fd;             /* file sink, or -1 */
	struct pl_buf *mem; /* memory sink, or NULL */
	uint64_t max, bytes;
	struct pl_sha256 sha;
	int too_big;
	int write_errno;
	char *etag, *last_modified;
	long retry_after; /* seconds, from the last response; 0: none */
	double started, last_report;
};

static void xfer_reset(struct net_xfer *x)
{
	x->bytes = 0;
	x->too_big = 0;
	x->write_errno = 0;
	x->retry_after = 0;
	free(x->etag);
	free(x->last_modified);
	x->etag = x->last_modified = NULL;
	pl_sha256_init(&x->sha);
	if (x->mem)
		pl_buf_reset(x->mem);
}

static size_t xfer_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct net_xfer *x = ctx;
	size_t n = size * nmemb, off = 0;

	if (x->bytes + n > x->max) {
		x->too_big = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	while (x->fd >= 0 && off < n) {
		ssize_t w = write(x->fd, data + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			x->write_errno = errno;
			return 0;
		}
		off += (size_t)w;
	}
	if (x->mem)
		pl_buf_add(x->mem, data, n);
	pl_sha256_update(&x->sha, data, n);
	x->bytes += n;
	return n;
}

/* The value of header line h[0..n) if it is called name, trimmed; or NULL. */
static char *header_value(const char *h, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(h, name, k) != 0 || h[k] != ':')
		return NULL;
	h += k + 1;
	n -= k + 1;
	while (n > 0 && (*h == ' ' || *h == '\t'))
		h++, n--;
	while (n > 0 && strchr(" \t\r\n", h[n - 1]))
		n--;
	return n ? pl_strndup(h, n) : NULL;
}

static size_t xfer_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct net_xfer *x = ctx;
	size_t n = size * nmemb;
	char *v;

	/* a new status line: a redirect's or a retry's headers no longer count */
	if (n > 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(x->etag);
		free(x->last_modified);
		x->etag = x->last_modified = NULL;
		x->retry_after = 0;
	} else if ((v = header_value(data, n, "ETag")) != NULL) {
		free(x->etag);
		x->etag = v;
	} else if ((v = header_value(data, n, "Last-Modified")) != NULL) {
		free(x->last_modified);
		x->last_modified = v;
	} else if ((v = header_value(data, n, "Retry-After")) != NULL) {
		long s;

		if (pl_parse_long(v, 0, NET_RETRY_AFTER_MAX, &s, "Retry-After", NULL) == 0)
			x->retry_after = s;
		free(v);
	}
	return n;
}

static void size_human(uint64_t n, char *out, size_t len)
{
	if (n >= ((uint64_t)1 << 20))
		snprintf(out, len, "%.1f MiB", (double)n / (1 << 20));
	else if (n >= 1024)
		snprintf(out, len, "%.1f KiB", (double)n / 1024);
	else
		snprintf(out, len, "%llu B", (unsigned long long)n);
}

static int xfer_info(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                     curl_off_t ulnow)
{
	struct net_xfer *x = ctx;
	double now = pl_monotonic();
	char got[32], total[32], detail[512];

	(void)ultotal;
	(void)ulnow;
	if (!x->progress || !x->progress->stage || now - x->started < 1.0 ||
	    now - x->last_report < 1.0)
		return 0;
	x->last_report = now;
	size_human((uint64_t)dlnow, got, sizeof(got));
	if (dltotal > 0) {
		size_human((uint64_t)dltotal, total, sizeof(total));
		snprintf(detail, sizeof(detail), "%s: %s of %s", x->label, got, total);
	} else {
		snprintf(detail, sizeof(detail), "%s: %s", x->label, got);
	}
	x->progress->stage(x->progress->ctx, "fetching", detail);
	return 0;
}

/* A header value we send back must not smuggle in another header. */
static int header_safe(const char *v)
{
	return v && *v && !strpbrk(v, "\r\n");
}

static int net_setup(CURL *h, const char *url, const struct net_fetch_opts *o, struct net_xfer *x,
                     struct curl_slist **hdrs, char *errbuf)
{
	long connect = o && o->connect_timeout_s > 0 ? o->connect_timeout_s : NET_CONNECT_TIMEOUT;
	long total = o && o->timeout_s > 0 ? o->timeout_s : NET_TIMEOUT;
	long stall = o && o->stall_timeout_s > 0 ? o->stall_timeout_s : NET_STALL_TIMEOUT;

	if (o && header_safe(o->etag)) {
		PL_AUTOFREE char *line = pl_strdupf("If-None-Match: %s", o->etag);

		*hdrs = curl_slist_append(*hdrs, line);
	}
	if (o && header_safe(o->last_modified)) {
		PL_AUTOFREE char *line = pl_strdupf("If-Modified-Since: %s", o->last_modified);

		*hdrs = curl_slist_append(*hdrs, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, connect);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, total);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, NET_STALL_BYTES);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "patchlab/" PATCHLAB_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, xfer_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, xfer_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_info);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	return 0;
}

/* What one attempt came to. */
enum outcome { OUT_OK, OUT_NOT_MODIFIED, OUT_FINAL, OUT_TRANSIENT };

static int transient_http(long status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

static int transient_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* Classifies an attempt; on a failure records the message in err. */
static enum outcome net_outcome(CURLcode cc, long status, int conditional, const struct net_xfer *x,
                                const char *errbuf, struct pl_err *err)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		pl_error(err, PL_EINVAL, "%s: larger than %llu bytes", x->url,
		         (unsigned long long)x->max);
		return OUT_FINAL;
	}
	if (x->write_errno) {
		pl_error(err, PL_EIO, "%s: writing the download: %s", x->url,
		         strerror(x->write_errno));
		return OUT_FINAL;
	}
	if (cc == CURLE_OK && status == 304) {
		if (conditional)
			return OUT_NOT_MODIFIED;
		pl_error(err, PL_EIO, "%s: HTTP 304 to an unconditional request", x->url);
		return OUT_FINAL;
	}
	if (cc == CURLE_OK && (status == 0 || (status >= 200 && status <= 299)))
		return OUT_OK;
	if (cc == CURLE_OK) {
		pl_error(err, PL_EIO, "%s: unexpected HTTP %ld", x->url, status);
		return OUT_FINAL;
	}
	if (cc == CURLE_HTTP_RETURNED_ERROR) {
		if (status == 404 || status == 410) {
			pl_error(err, PL_ENOTFOUND, "%s: not found (HTTP %ld)", x->url, status);
			return OUT_FINAL;
		}
		pl_error(err, PL_EIO, "%s: HTTP %ld", x->url, status);
		return transient_http(status) ? OUT_TRANSIENT : OUT_FINAL;
	}
	if (cc == CURLE_FILE_COULDNT_READ_FILE || cc == CURLE_REMOTE_FILE_NOT_FOUND) {
		pl_error(err, PL_ENOTFOUND, "%s: not found: %s", x->url, why);
		return OUT_FINAL;
	}
	if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL) {
		pl_error(err, PL_EINVAL, "%s: %s", x->url, why);
		return OUT_FINAL;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		pl_error(err, PL_ETIMEOUT, "%s: %s", x->url, why);
		return OUT_TRANSIENT;
	}
	if (cc == CURLE_PARTIAL_FILE) {
		pl_error(err, PL_EIO, "%s: truncated: %s", x->url, why);
		return OUT_TRANSIENT;
	}
	pl_error(err, PL_EIO, "%s: %s", x->url, why);
	return transient_curl(cc) ? OUT_TRANSIENT : OUT_FINAL;
}

static void net_pause(double seconds)
{
	double end = pl_monotonic() + seconds;
	double left;

	while ((left = end - pl_monotonic()) > 0)
		poll(NULL, 0, (int)(left * 1000) + 1);
}

/* Empties the sink before an attempt. */
static int sink_rewind(struct net_xfer *x, struct pl_err *err)
{
	if (x->fd >= 0 && (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0))
		return pl_error(err, PL_EIO, "%s: %s", x->url, strerror(errno));
	return 0;
}

/* Runs the attempts; returns 0, 1 for not modified, or a PL_E* code. */
static int net_run(const char *url, const struct net_fetch_opts *o, struct net_xfer *x,
                   struct net_fetch_result *res, struct pl_err *err)
{
	int retries = !o || o->retries == 0 ? NET_RETRIES : o->retries < 0 ? 0 : o->retries;
	int conditional = o && (header_safe(o->etag) || header_safe(o->last_modified));
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE];
	double pause = NET_BACKOFF_FIRST;
	enum outcome out = OUT_FINAL;
	CURL *h;

	pthread_once(&net_once, net_global_init);
	if (net_init_rc != CURLE_OK)
		return pl_error(err, PL_EENV, "libcurl: %s", curl_easy_strerror(net_init_rc));
	h = curl_easy_init();
	if (!h)
		return pl_error(err, PL_EENV, "libcurl: cannot create a handle");
	net_setup(h, url, o, x, &hdrs, errbuf);
	for (res->attempts = 1;; res->attempts++) {
		CURLcode cc;

		errbuf[0] = '\0';
		xfer_reset(x);
		if (sink_rewind(x, err) < 0)
			break;
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);
		out = net_outcome(cc, res->http_status, conditional, x, errbuf, err);
		if (out != OUT_TRANSIENT || res->attempts > retries)
			break;
		pl_debug("%s: attempt %d failed (%s); retrying", url, res->attempts, err->msg);
		net_pause(x->retry_after > 0 ? (double)x->retry_after : pause);
		pause = pause * 2 > NET_BACKOFF_MAX ? NET_BACKOFF_MAX : pause * 2;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (out == OUT_OK || out == OUT_NOT_MODIFIED) {
		res->etag = PL_STEAL(x->etag);
		res->last_modified = PL_STEAL(x->last_modified);
		return out == OUT_NOT_MODIFIED;
	}
	if (out == OUT_TRANSIENT && res->attempts > 1) {
		PL_AUTOFREE char *msg = pl_strdup(err->msg);

		pl_error(err, err->code, "%s (%d attempts)", msg, res->attempts);
	}
	return err->code ? err->code : PL_EIO;
}

/* The common start: validates the URL, fills the defaults. */
static int net_begin(const char *url, const struct net_fetch_opts *o, struct net_xfer *x,
                     struct net_fetch_result *res, struct pl_err *err)
{
	memset(res, 0, sizeof(*res));
	memset(x, 0, sizeof(*x));
	x->url = url;
	x->fd = -1;
	x->label = o && o->label ? o->label : url;
	x->progress = o ? o->progress : NULL;
	x->max = o && o->max_bytes ? o->max_bytes : NET_MAX_BYTES;
	if (!url || !*url)
		return pl_error(err, PL_EINVAL, "empty URL");
	if (strpbrk(url, " \t\r\n"))
		return pl_error(err, PL_EINVAL, "URL '%s': contains blanks", url);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "file://", 7) != 0)
		return pl_error(err, PL_EINVAL, "URL '%s': only http, https and file are fetched",
		                url);
	return 0;
}

static void xfer_release(struct net_xfer *x)
{
	free(x->etag);
	free(x->last_modified);
	x->etag = x->last_modified = NULL;
}

static int fsync_parent(const char *path)
{
	PL_AUTOFREE char *copy = pl_strdup(path);
	PL_AUTOFD int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd >= 0 ? fsync(fd) : -1;
}

/* Makes the finished temporary file the destination. */
static int net_commit(const char *tmp, const char *dest, int *fd, struct pl_err *err)
{
	int rc = 0;

	if (fchmod(*fd, 0644) < 0 || fsync(*fd) < 0)
		rc = pl_error(err, PL_EIO, "%s: %s", dest, strerror(errno));
	if (close(*fd) < 0 && rc == 0)
		rc = pl_error(err, PL_EIO, "%s: %s", dest, strerror(errno));
	*fd = -1;
	if (rc == 0 && rename(tmp, dest) < 0)
		rc = pl_error(err, PL_EIO, "%s: %s", dest, strerror(errno));
	if (rc == 0)
		fsync_parent(dest); /* the rename is durable; a failure here loses nothing */
	return rc;
}

int net_fetch(const char *url, const char *dest, const struct net_fetch_opts *opts,
              struct net_fetch_result *res, struct pl_err *err)
{
	struct net_fetch_result local;
	PL_AUTOFREE char *tmp = NULL;
	struct net_xfer x;
	PL_AUTOFD int fd = -1;
	double t0;
	int rc;

	if (!res)
		res = &local;
	if (net_begin(url, opts, &x, res, err) < 0)
		return err->code;
	tmp = pl_strdupf("%s.tmp-%ld", dest, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return pl_error(err, PL_EIO, "%s: %s", tmp, strerror(errno));
	x.fd = fd;
	t0 = x.started = pl_progress_begin(x.progress, "fetch", "%s", x.label);
	rc = net_run(url, opts, &x, res, err);
	if (rc == 0)
		rc = net_commit(tmp, dest, &fd, err);
	if (rc != 0)
		unlink(tmp); /* also on 304: dest stays as it was */
	if (rc == 0) {
		res->bytes = x.bytes;
		pl_sha256_hex(&x.sha, res->sha256);
	}
	res->not_modified = rc == 1;
	res->seconds = pl_progress_end(x.progress, "fetch", rc < 0 ? rc : 0, t0);
	xfer_release(&x);
	if (res == &local)
		net_fetch_result_release(&local);
	return rc < 0 ? rc : 0;
}

int net_fetch_mem(const char *url, const struct net_fetch_opts *opts, char **out, size_t *len,
                  struct net_fetch_result *res, struct pl_err *err)
{
	struct net_fetch_result local;
	struct pl_buf b = PL_BUF_INIT;
	struct net_xfer x;
	double t0;
	int rc;

	*out = NULL;
	if (len)
		*len = 0;
	if (!res)
		res = &local;
	if (net_begin(url, opts, &x, res, err) < 0)
		return err->code;
	x.mem = &b;
	t0 = x.started = pl_progress_begin(x.progress, "fetch", "%s", x.label);
	rc = net_run(url, opts, &x, res, err);
	if (rc == 0) {
		res->bytes = x.bytes;
		pl_sha256_hex(&x.sha, res->sha256);
		pl_buf_grow(&b, 0);
		b.s[b.len] = '\0';
		if (len)
			*len = b.len;
		*out = pl_buf_detach(&b);
	}
	pl_buf_release(&b);
	res->not_modified = rc == 1;
	res->seconds = pl_progress_end(x.progress, "fetch", rc < 0 ? rc : 0, t0);
	xfer_release(&x);
	if (res == &local)
		net_fetch_result_release(&local);
	return rc < 0 ? rc : 0;
}

void net_fetch_result_release(struct net_fetch_result *res)
{
	if (!res)
		return;
	free(res->etag);
	free(res->last_modified);
	res->etag = res->last_modified = NULL;
}

/* The part of u, or NULL when absent (freed with curl_free). */
static char *url_part(CURLU *u, CURLUPart part)
{
	char *v = NULL;

	return curl_url_get(u, part, &v, 0) == CURLUE_OK ? v : NULL;
}

static int url_check_parts(CURLU *u, const char *url, struct pl_err *err)
{
	char *scheme = url_part(u, CURLUPART_SCHEME), *host = url_part(u, CURLUPART_HOST);
	char *user = url_part(u, CURLUPART_USER), *query = url_part(u, CURLUPART_QUERY);
	char *frag = url_part(u, CURLUPART_FRAGMENT);
	int rc = 0;

	if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 &&
	                strcmp(scheme, "file") != 0))
		rc = pl_error(err, PL_EINVAL, "URL '%s': only http, https and file are fetched",
		              url);
	else if (strcmp(scheme, "file") != 0 && (!host || !*host))
		rc = pl_error(err, PL_EINVAL, "URL '%s': no host", url);
	else if (user)
		rc = pl_error(err, PL_EINVAL, "URL '%s': credentials are not kept in URLs", url);
	else if (query || frag)
		rc = pl_error(err, PL_EINVAL, "URL '%s': a query or fragment is not allowed", url);
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	return rc;
}

int net_url_check(const char *url, char **out, struct pl_err *err)
{
	const char *sep;
	CURLU *u;
	CURLUcode uc;
	size_t n, min;
	int rc;

	if (out)
		*out = NULL;
	if (!url || !*url)
		return pl_error(err, PL_EINVAL, "empty URL");
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return pl_error(err, PL_EINVAL, "URL '%s': blanks or control characters",
			                url);
	/* libcurl reads "http:///x" as host x: an empty host is a mistake here */
	sep = strstr(url, "://");
	if (sep && sep[3] == '/' && strncmp(url, "file:", 5) != 0)
		return pl_error(err, PL_EINVAL, "URL '%s': no host", url);
	pthread_once(&net_once, net_global_init);
	u = curl_url();
	if (!u)
		return pl_error(err, PL_ENOMEM, "libcurl: cannot parse URLs");
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	rc = uc != CURLUE_OK ? pl_error(err, PL_EINVAL, "URL '%s': %s", url, curl_url_strerror(uc))
	                     : url_check_parts(u, url, err);
	curl_url_cleanup(u);
	if (rc < 0 || !out)
		return rc;
	/* drop trailing slashes, keeping at least one byte after "://" */
	min = sep ? (size_t)(sep - url) + 4 : 1;
	n = strlen(url);
	while (n > min && url[n - 1] == '/')
		n--;
	*out = pl_strndup(url, n);
	return 0;
}

char *net_url_join(const char *base, const char *rel)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	while (*rel == '/')
		rel++;
	return pl_strdupf("%.*s/%s", (int)n, base, rel);
}
