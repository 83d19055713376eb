/*
 * core.h - the conventions every patchlab module shares.
 *
 * Owns: the error type (struct pl_err and the PL_E* codes), leveled logging,
 * the growable string buffer (struct pl_buf), cleanup attributes, checked
 * integer parsing, the injectable clock, and small file and JSON helpers.
 * Does not own: anything about a pipeline step, the database or the CLI.
 *
 * Errors: a function returns 0 (or a non-negative value) on success and a
 * negative PL_E* code on failure, after recording a message in the caller's
 * struct pl_err with pl_error(). Callers add context on the way up with
 * pl_error_prefix(); only the command layer prints the message, once.
 */
#ifndef PL_CORE_H
#define PL_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <jansson.h>

#define PL_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- errors ---------------------------------------------------------- */

enum pl_code {
	PL_OK = 0,
	PL_EINVAL = -1,    /* bad input: a file, field or value is wrong */
	PL_EUSAGE = -2,    /* bad command line */
	PL_ENOTFOUND = -3, /* a named object does not exist */
	PL_EEXIST = -4,    /* a named object exists already */
	PL_ESTATE = -5,    /* the object is in the wrong state for this */
	PL_EFAIL = -6,     /* a check or verdict failed (not an error of ours) */
	PL_EENV = -7,      /* environment: daemon down, tool missing */
	PL_EIO = -8,       /* I/O error, disk full */
	PL_EDB = -9,       /* the database failed */
	PL_ETIMEOUT = -10, /* something did not happen in time */
	PL_ENOMEM = -11,   /* out of memory */
	PL_EINTERNAL = -12 /* a bug */
};

/* Process exit codes, the same for every command (README documents them). */
enum pl_exit {
	PL_EXIT_OK = 0,
	PL_EXIT_FAIL = 1,
	PL_EXIT_USAGE = 2,
	PL_EXIT_ENV = 3
};

#define PL_ERR_MSG_MAX 2048

/* An error record owned by the caller; zero-initialise it (PL_ERR_INIT). */
struct pl_err {
	int code;
	char msg[PL_ERR_MSG_MAX];
};
#define PL_ERR_INIT {0, {0}}

/* Records code and a formatted message in err (may be NULL); returns code. */
int pl_error(struct pl_err *err, int code, const char *fmt, ...) PL_PRINTF(3, 4);

/* Prepends "context: " to err's message; returns err->code. */
int pl_error_prefix(struct pl_err *err, const char *fmt, ...) PL_PRINTF(2, 3);

/* Maps an error code to the process exit code (enum pl_exit). */
int pl_exit_code(int code);

/* Returns a short name for a code ("input", "environment", ...). */
const char *pl_code_name(int code);

/* ---- logging --------------------------------------------------------- */

enum pl_log_level { PL_LOG_QUIET = 0, PL_LOG_ERROR, PL_LOG_WARN, PL_LOG_INFO, PL_LOG_DEBUG };

/* The one piece of global mutable state: the logger's level. */
extern int pl_log_level;

/* Logs to stderr when level <= pl_log_level, prefixed "patchlab: ". */
void pl_log(int level, const char *fmt, ...) PL_PRINTF(2, 3);
#define pl_warn(...) pl_log(PL_LOG_WARN, __VA_ARGS__)
#define pl_info(...) pl_log(PL_LOG_INFO, __VA_ARGS__)
#define pl_debug(...) pl_log(PL_LOG_DEBUG, __VA_ARGS__)

/* ---- progress -------------------------------------------------------- */

/*
 * Long steps report stages through a progress sink so that library code
 * never prints: the command layer decides how (a terminal line, a log).
 */
struct pl_progress {
	void (*stage)(void *ctx, const char *stage, const char *detail);
	void (*done)(void *ctx, const char *stage, int rc, double seconds);
	void *ctx;
};

/* Starts a stage; returns the start time to hand to pl_progress_done. */
double pl_progress_begin(const struct pl_progress *p, const char *stage, const char *fmt, ...)
	PL_PRINTF(3, 4);
/* Ends a stage with its result code; returns the seconds it took. */
double pl_progress_end(const struct pl_progress *p, const char *stage, int rc, double start);

/* ---- memory and cleanup ---------------------------------------------- */

/* Allocation that cannot fail: aborts with a message on exhaustion. */
void *pl_malloc(size_t n);
void *pl_calloc(size_t n, size_t size);
void *pl_realloc(void *p, size_t n);
char *pl_strdup(const char *s);
char *pl_strndup(const char *s, size_t n);
/* Returns a newly allocated formatted string (never NULL). */
char *pl_strdupf(const char *fmt, ...) PL_PRINTF(1, 2);

void pl_freep(void *pp);
void pl_fclosep(FILE **fp);
void pl_closep(int *fd);
void pl_json_decrefp(json_t **j);

#define PL_AUTOFREE __attribute__((cleanup(pl_freep)))
#define PL_AUTOFILE __attribute__((cleanup(pl_fclosep)))
#define PL_AUTOFD __attribute__((cleanup(pl_closep)))
#define PL_AUTOJSON __attribute__((cleanup(pl_json_decrefp)))
#define PL_AUTOBUF __attribute__((cleanup(pl_buf_release)))

/* Hands ownership out of an automatic variable: returns *p, sets it NULL. */
#define PL_STEAL(p) __extension__({ __typeof__(p) pl_s_ = (p); (p) = NULL; pl_s_; })

/* ---- string buffer --------------------------------------------------- */

/* A growable NUL-terminated string; zero-initialise it (PL_BUF_INIT). */
struct pl_buf {
	char *s;
	size_t len;
	size_t cap;
};
#define PL_BUF_INIT {NULL, 0, 0}

void pl_buf_grow(struct pl_buf *b, size_t extra);
void pl_buf_add(struct pl_buf *b, const void *data, size_t n);
void pl_buf_adds(struct pl_buf *b, const char *s);
void pl_buf_addc(struct pl_buf *b, char c);
void pl_buf_addf(struct pl_buf *b, const char *fmt, ...) PL_PRINTF(2, 3);
void pl_buf_vaddf(struct pl_buf *b, const char *fmt, va_list ap);
/* Empties the buffer, keeping its memory. */
void pl_buf_reset(struct pl_buf *b);
/* Returns the string (never NULL, "" when empty); the buffer keeps it. */
const char *pl_buf_str(const struct pl_buf *b);
/* Returns the string and empties the buffer; the caller frees it. */
char *pl_buf_detach(struct pl_buf *b);
/* Frees the buffer's memory. */
void pl_buf_release(struct pl_buf *b);
/* Appends s with &<>"' escaped for XML or HTML text and attributes. */
void pl_buf_add_xml(struct pl_buf *b, const char *s);

/* ---- checked parsing ------------------------------------------------- */

/* Parses all of s as a base-10 integer in [min, max]; PL_EINVAL with a
 * message naming what (e.g. "--jobs") otherwise. */
int pl_parse_long(const char *s, long min, long max, long *out, const char *what,
		  struct pl_err *err);
int pl_parse_int(const char *s, int min, int max, int *out, const char *what, struct pl_err *err);
int pl_parse_u64(const char *s, uint64_t max, uint64_t *out, const char *what, struct pl_err *err);
/* Parses a size with an optional K/M/G/T suffix (binary units) into bytes. */
int pl_parse_size(const char *s, uint64_t *out, const char *what, struct pl_err *err);

/* ---- clock ----------------------------------------------------------- */

/*
 * Wall time comes through a pl_clock so that schedules can be tested at any
 * instant. pl_clock_system() reads the real clock unless PATCHLAB_NOW (an
 * ISO-8601 UTC time or a Unix time) is set, which tests use to pin "now".
 */
struct pl_clock {
	int64_t (*now)(const struct pl_clock *c); /* Unix seconds */
	int64_t fixed;                            /* for pl_clock_fixed */
};
const struct pl_clock *pl_clock_system(void);
struct pl_clock pl_clock_fixed(int64_t unix_seconds);
int64_t pl_clock_now(const struct pl_clock *c);
/* Monotonic seconds, for timings. */
double pl_monotonic(void);
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void pl_time_iso(int64_t t, char out[static 21]);
/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]Z" or an integer as UTC. */
int pl_time_parse(const char *s, int64_t *out, struct pl_err *err);

/* ---- files ----------------------------------------------------------- */

/* Reads a whole file (NUL-terminated) into *out, its size into *len. */
int pl_file_read(const char *path, char **out, size_t *len, struct pl_err *err);
/* Writes data to path atomically (temp file, fsync, rename). */
int pl_file_write_atomic(const char *path, const void *data, size_t len, int mode,
			 struct pl_err *err);
/* mkdir -p with mode for the directories it creates. */
int pl_mkdir_p(const char *path, int mode, struct pl_err *err);
/* Joins two path parts with exactly one '/'; caller frees. */
char *pl_path_join(const char *a, const char *b);
/* Returns 1 if path exists. */
int pl_path_exists(const char *path);

/* ---- processes ------------------------------------------------------- */

/*
 * Running a helper program (debootstrap, qemu-img, a probe) from an argv
 * array: never through a shell. Output goes to a log file, into a buffer,
 * or is inherited; a timeout kills the whole process group.
 */
struct pl_run_opts {
	const char *log_path;  /* append stdout and stderr here (or NULL) */
	struct pl_buf *out;    /* capture stdout (and stderr when merge) */
	int merge_stderr;      /* with out: stderr into out as well */
	double timeout;        /* seconds; 0 means none */
	char *const *envp;     /* NULL: inherit the environment */
	const char *stdin_path; /* NULL: /dev/null */
};

/* Runs argv[0] (searched in PATH). Returns 0 when it ran to an exit (the
 * status in *status: the exit code, or 128+signal), PL_ETIMEOUT when killed
 * at the timeout, PL_EENV when it could not be started. */
int pl_run(const char *const *argv, const struct pl_run_opts *o, int *status, struct pl_err *err);

/* Runs argv and fails (PL_EENV with the tail of its output) unless it exits 0. */
int pl_run_ok(const char *const *argv, const struct pl_run_opts *o, struct pl_err *err);

/* Formats argv as a shell-quoted line, for logs and error messages. */
char *pl_argv_str(const char *const *argv);

/* Returns 1 when a program is found in PATH. */
int pl_have_program(const char *name);

/* ---- SHA-256 ---------------------------------------------------------- */

/* FIPS 180-4 SHA-256, for content addresses and the audit chain. */
struct pl_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t used;
};
void pl_sha256_init(struct pl_sha256 *c);
void pl_sha256_update(struct pl_sha256 *c, const void *data, size_t n);
/* Writes the digest as 64 lower-case hex digits and a NUL. */
void pl_sha256_hex(struct pl_sha256 *c, char out[static 65]);
/* Hashes a whole file into hex. */
int pl_sha256_file(const char *path, char out[static 65], struct pl_err *err);

/* ---- JSON ------------------------------------------------------------ */

/* Loads a JSON file; errors name the file, line and column. */
int pl_json_load_file(const char *path, json_t **out, struct pl_err *err);
/*
 * Reading a JSON document against what a file format expects. Every error
 * names the file and the JSON path ("labs/x.json: $.vms[0].memory: ...").
 * path is the object's own path ("$", "$.vms[0]"); key is looked up in it.
 */
struct pl_jdoc {
	const char *file;
	struct pl_err *err;
};
enum pl_jflags { PL_J_OPTIONAL = 0, PL_J_REQUIRED = 1 };

/* Fails on a key of obj not in allowed (NULL-terminated): catches typos. */
int pl_json_check_keys(const struct pl_jdoc *d, json_t *obj, const char *path,
		       const char *const *allowed);
/* Fetches obj[key] as a non-empty string; *out unchanged when optional and absent. */
int pl_json_get_str(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		    int flags, const char **out);
/* Fetches obj[key] as an integer in [min, max]. */
int pl_json_get_int(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		    int flags, long min, long max, long *out);
/* Fetches obj[key] as a boolean. */
int pl_json_get_bool(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		     int flags, int *out);
/* Fetches obj[key] as an array or object (borrowed reference). */
int pl_json_get_array(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		      int flags, json_t **out);
int pl_json_get_object(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		       int flags, json_t **out);
/* Fetches obj[key] as one of the strings in choices (NULL-terminated);
 * *out is the index. */
int pl_json_get_enum(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		     int flags, const char *const *choices, int *out);
/* Records an error at path.key in the document. */
int pl_json_error(const struct pl_jdoc *d, const char *path, const char *key, const char *fmt,
		  ...) PL_PRINTF(4, 5);

/* Dumps j to f with indentation and a final newline. */
int pl_json_print(FILE *f, const json_t *j);

#include "core/banned.h"

#endif
