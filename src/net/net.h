/*
 * net.h - fetching one URL into one file, with libcurl.
 *
 * Owns: downloads over http://, https:// and file:// (whatever libcurl
 * takes) into a destination file that appears atomically and only when
 * the transfer is complete; conditional requests (If-Modified-Since and
 * If-None-Match from a previous fetch's validators); connect and total
 * timeouts; bounded retries with backoff on transient failures (connect
 * errors, timeouts, HTTP 5xx, 429); a maximum size; the SHA-256 and size
 * of what was written; progress reported through struct pl_progress.
 * Does not own: what the bytes mean (signatures, hashes listed in a
 * Release, decompression), where files are kept, the database.
 *
 * Errors: PL_EINVAL for a URL libcurl refuses (or a scheme other than
 * http, https and file; redirects may only go to http and https) and for a
 * body larger than max_bytes, PL_ENOTFOUND for HTTP 404 / 410 or a missing
 * file:// path, PL_EIO for a transfer that failed or was truncated after
 * the retries, or a destination that cannot be written, PL_ETIMEOUT when
 * the timeouts ran out. Messages name the URL and, for HTTP, the status.
 * The destination is untouched on any error.
 *
 * Retries: a failed attempt is retried (at most opts->retries times) when
 * it may succeed later: no connection, a timeout, a stalled or truncated
 * body, HTTP 408, 429 and 5xx. The pause doubles from 0.5 s (at most 8 s);
 * a Retry-After of up to 30 s on 429 or 503 is honoured. The timeouts are
 * per attempt. Any other failure (404, 403, a bad URL, a full disk) is
 * final at once.
 *
 * Progress, when opts->progress is set: stage "fetch" (detail: the label)
 * begins and ends each call; while a transfer runs longer than a second,
 * stage "fetching" reports "LABEL: 12.3 of 40.0 MiB" at most once a
 * second. A sink that draws one line per file redraws it on "fetching".
 *
 * libcurl is initialised once per process, thread-safely (pthread_once);
 * each call uses its own easy handle, so calls may run in parallel threads.
 */
#ifndef PL_NET_H
#define PL_NET_H

#include "core/core.h"

/* How to fetch; zero-initialise, then set what differs from the defaults. */
struct net_fetch_opts {
	long connect_timeout_s; /* 0: 15 s */
	long timeout_s;         /* whole transfer; 0: 300 s */
	int retries;            /* extra attempts on transient errors; <0: none, 0: 2 */
	uint64_t max_bytes;     /* 0: 4 GiB */
	/* Validators of the copy the caller has (NULL: unconditional). */
	const char *etag;
	const char *last_modified;
	const struct pl_progress *progress; /* NULL: silent */
	const char *label;                  /* progress detail; NULL: the URL */
	long stall_timeout_s;               /* give up below 1 KiB/s for this long; 0: 30 s */
};

/* What a fetch did; free the strings with net_fetch_result_release(). */
struct net_fetch_result {
	int not_modified; /* 1: 304, the destination was not written */
	long http_status; /* 0 for file:// */
	uint64_t bytes;   /* written to the destination */
	char sha256[65];  /* of the destination ("" when not_modified) */
	char *etag;       /* the server's new validators, or NULL */
	char *last_modified;
	double seconds;
	int attempts;
};

/* Fetches url into dest (written to dest.tmp-PID, fsynced, then renamed,
 * mode 0644). With opts->etag or opts->last_modified, a 304 answer sets
 * res->not_modified and leaves dest as it was. opts and res may be NULL;
 * res is filled on errors too (status, attempts) and is the caller's to
 * release. */
int net_fetch(const char *url, const char *dest, const struct net_fetch_opts *opts,
              struct net_fetch_result *res, struct pl_err *err);

/* Fetches url into memory (at most opts->max_bytes); *out is NUL-terminated
 * and owned by the caller. */
int net_fetch_mem(const char *url, const struct net_fetch_opts *opts, char **out, size_t *len,
                  struct net_fetch_result *res, struct pl_err *err);

/* Frees the strings of a result (safe on a zeroed or released one). */
void net_fetch_result_release(struct net_fetch_result *res);

/* Checks that url is an absolute http://, https:// or file:// URL with a
 * host (http, https), without credentials, query or fragment: PL_EINVAL
 * "URL 'x': why" otherwise. *out (may be NULL) gets a copy without trailing
 * '/', the caller's to free. */
int net_url_check(const char *url, char **out, struct pl_err *err);

/* Joins a base URL and a relative path with exactly one '/' between them. */
char *net_url_join(const char *base, const char *rel);

#endif
