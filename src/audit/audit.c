/* audit.c - the hash-chained audit log and its anchor file. */
#include "audit.h"

#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sys/file.h>

#define AUDIT_ANCHOR_NAME "audit-anchor.json"
#define AUDIT_ACTOR_MAX   128
/* The replaced auto-checkpoint's threshold (SQLite's default, in frames). */
#define AUDIT_WAL_CHECKPOINT_FRAMES 1000

void audit_entry_clear(struct audit_entry *e)
{
	free(e->at);
	free(e->actor);
	free(e->action);
	free(e->kind);
	free(e->object);
	free(e->detail);
	free(e->prev_hash);
	free(e->hash);
	memset(e, 0, sizeof(*e));
}

static void hash_field(struct pl_sha256 *c, const char *s)
{
	char len[24];
	size_t n = strlen(s);

	snprintf(len, sizeof(len), "%zu:", n);
	pl_sha256_update(c, len, strlen(len));
	pl_sha256_update(c, s, n);
	pl_sha256_update(c, ",", 1);
}

void audit_entry_hash(const struct audit_entry *e, char out[static 65])
{
	struct pl_sha256 c;
	char seq[24];

	snprintf(seq, sizeof(seq), "%lld", (long long)e->seq);
	pl_sha256_init(&c);
	pl_sha256_update(&c, "patchlab-audit-v1\n", 18);
	hash_field(&c, seq);
	hash_field(&c, e->at);
	hash_field(&c, e->actor);
	hash_field(&c, e->action);
	hash_field(&c, e->kind);
	hash_field(&c, e->object);
	hash_field(&c, e->detail);
	hash_field(&c, e->prev_hash);
	pl_sha256_hex(&c, out);
}

char *audit_actor(const char *as)
{
	const char *env = getenv("PATCHLAB_ACTOR");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (as && *as)
		return pl_strdup(as);
	if (env && *env)
		return pl_strdup(env);
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_name[0])
		return pl_strdup(res->pw_name);
	return pl_strdupf("uid:%u", (unsigned)geteuid());
}

static int audit_text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

char *audit_anchor_path(const struct store *st)
{
	const char *env = getenv("PATCHLAB_AUDIT_ANCHOR");

	return env && *env ? pl_strdup(env) : pl_path_join(st->dir, AUDIT_ANCHOR_NAME);
}

/* The newest row's seq and hash; seq 0 and the genesis hash when empty. */
static int audit_head(struct store *st, int64_t *seq, char hash[static 65], struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	*seq = 0;
	snprintf(hash, 65, "%s", AUDIT_GENESIS);
	if (store_prepare(st, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &s,
	                  err) < 0)
		return PL_EDB;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		snprintf(hash, 65, "%s", store_col_text(s, 1));
	} else if (rc != SQLITE_DONE) {
		return store_error(st, err, "reading the audit log");
	}
	return 0;
}

/* The hash stored for seq, or "" when there is no such row. */
static int audit_hash_of(struct store *st, int64_t seq, char hash[static 65], struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	hash[0] = '\0';
	if (store_prepare(st, "SELECT hash FROM audit_log WHERE seq = ?", &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(hash, 65, "%s", store_col_text(s, 0));
	else if (rc != SQLITE_DONE)
		return store_error(st, err, "reading the audit log");
	return 0;
}

/* Reads the anchor: 1 when read, 0 when there is none. */
static int anchor_read(const char *path, int64_t *seq, char hash[static 65], struct pl_err *err)
{
	PL_AUTOJSON json_t *j = NULL;
	struct pl_jdoc d = {path, err};
	const char *h = NULL;
	long s = 0;

	if (!pl_path_exists(path))
		return 0;
	if (pl_json_load_file(path, &j, err) < 0 ||
	    pl_json_get_int(&d, j, "$", "seq", PL_J_REQUIRED, 1, LONG_MAX, &s) < 0 ||
	    pl_json_get_str(&d, j, "$", "hash", PL_J_REQUIRED, &h) < 0)
		return err->code;
	if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
		return pl_json_error(&d, "$", "hash", "not a SHA-256 in hex");
	*seq = s;
	snprintf(hash, 65, "%s", h);
	return 1;
}

/*
 * Moves the anchor to the newest row, under a lock so that concurrent
 * writers never move it backwards. It never moves past an anchored row
 * whose hash changed: that evidence must survive later appends.
 */
static int anchor_advance(struct store *st, struct pl_err *err)
{
	PL_AUTOFREE char *path = audit_anchor_path(st);
	PL_AUTOFREE char *lock = pl_strdupf("%s.lock", path);
	PL_AUTOFREE char *text = NULL;
	PL_AUTOFD int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	char head[65], ahash[65], stored[65], at[21];
	int64_t seq, aseq = 0;
	int rc;

	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return pl_error(err, PL_EIO, "%s: %s", lock, strerror(errno));
	rc = audit_head(st, &seq, head, err);
	if (rc < 0 || seq == 0)
		return rc;
	rc = anchor_read(path, &aseq, ahash, err);
	if (rc < 0)
		return rc;
	if (rc == 1 &&
	    (aseq >= seq || audit_hash_of(st, aseq, stored, err) < 0 || strcmp(stored, ahash) != 0))
		return 0;
	pl_time_iso(pl_clock_now(NULL), at);
	text = pl_strdupf("{\"seq\": %lld, \"hash\": \"%s\", \"advanced_at\": \"%s\"}\n",
	                  (long long)seq, head, at);
	return pl_file_write_atomic(path, text, strlen(text), 0600, err);
}

/*
 * Called by SQLite after each commit of the connection (WAL mode), with
 * the write lock released: the one moment at which the anchor may name the
 * new rows, whoever opened the transaction. It replaces SQLite's own
 * auto-checkpoint hook, so it checkpoints as that one did. A failure to
 * write the anchor leaves it behind, which verify still accepts: the commit
 * has happened and must not be reported as failed.
 */
static int audit_wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
	struct pl_err ignored = PL_ERR_INIT;

	if (frames >= AUDIT_WAL_CHECKPOINT_FRAMES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	anchor_advance(ctx, &ignored);
	return SQLITE_OK;
}

static int audit_insert(struct store *st, struct audit_entry *e, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	const char *v[] = {e->at,     e->actor,  e->action,    e->kind,
	                   e->object, e->detail, e->prev_hash, e->hash};

	if (store_prepare(
	        st,
	        "INSERT INTO audit_log(seq, at, actor, action, object_kind, object, detail,"
	        " prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)",
	        &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, e->seq);
	for (int i = 0; i < 8; i++)
		sqlite3_bind_text(s, i + 2, v[i], -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_error(st, err, "appending to the audit log");
	return 0;
}

int audit_append(struct store *st, const char *actor, const char *action, const char *kind,
                 const char *object, json_t *detail, struct pl_err *err)
{
	PL_AUTOJSON json_t *empty = json_object();
	struct audit_entry e = {0};
	char prev[65], hash[65], at[21];
	int own = sqlite3_get_autocommit(st->db);
	int rc;

	e.actor = audit_actor(actor);
	if (!audit_text_ok(e.actor, AUDIT_ACTOR_MAX)) {
		rc = pl_error(err, PL_EINVAL,
		              "actor '%s': 1-%d printable characters (--as or $PATCHLAB_ACTOR)",
		              e.actor, AUDIT_ACTOR_MAX);
		audit_entry_clear(&e);
		return rc;
	}
	if (!audit_text_ok(action, 64) || !audit_text_ok(kind, 64) || !audit_text_ok(object, 256)) {
		audit_entry_clear(&e);
		return pl_error(err, PL_EINTERNAL, "audit entry with an empty or bad field");
	}
	e.detail = json_dumps(detail ? detail : empty, JSON_COMPACT | JSON_SORT_KEYS);
	if (!e.detail) {
		audit_entry_clear(&e);
		return pl_error(err, PL_EINTERNAL, "audit detail cannot be written as JSON");
	}
	/* install first: the hook must see the commit below or the caller's */
	sqlite3_wal_hook(st->db, audit_wal_hook, st);
	if (own && store_begin(st, err) < 0) {
		audit_entry_clear(&e);
		return err->code;
	}
	rc = audit_head(st, &e.seq, prev, err);
	if (rc == 0) {
		pl_time_iso(pl_clock_now(NULL), at);
		e.seq++;
		e.at = pl_strdup(at);
		e.action = pl_strdup(action);
		e.kind = pl_strdup(kind);
		e.object = pl_strdup(object);
		e.prev_hash = pl_strdup(prev);
		audit_entry_hash(&e, hash);
		e.hash = pl_strdup(hash);
		rc = audit_insert(st, &e, err);
	}
	if (rc == 0 && own)
		rc = store_commit(st, err);
	if (rc < 0 && own)
		store_rollback(st);
	audit_entry_clear(&e);
	return rc;
}

int audit_list(struct store *st, const struct audit_filter *f, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	char since[21] = "";
	json_t *arr;
	int rc;

	if (f && f->since) {
		int64_t t;

		if (pl_time_parse(f->since, &t, err) < 0)
			return pl_error_prefix(err, "--since");
		pl_time_iso(t, since);
	}
	if (store_prepare(
	        st,
	        "SELECT seq, at, actor, action, object_kind, object, detail, hash"
	        " FROM audit_log WHERE (?1 = '' OR at >= ?1) AND (?2 IS NULL OR object = ?2)"
	        " AND (?3 IS NULL OR object_kind = ?3) ORDER BY seq",
	        &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, since, -1, SQLITE_STATIC);
	if (f && f->object)
		sqlite3_bind_text(s, 2, f->object, -1, SQLITE_STATIC);
	if (f && f->kind)
		sqlite3_bind_text(s, 3, f->kind, -1, SQLITE_STATIC);
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *detail = json_loads(store_col_text(s, 6), 0, NULL);

		json_array_append_new(
		    arr,
		    json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "seq",
		              (json_int_t)sqlite3_column_int64(s, 0), "at", store_col_text(s, 1),
		              "actor", store_col_text(s, 2), "action", store_col_text(s, 3), "kind",
		              store_col_text(s, 4), "object", store_col_text(s, 5), "detail",
		              detail ? detail : json_string(store_col_text(s, 6)), "hash",
		              store_col_text(s, 7)));
	}
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "reading the audit log");
	}
	*out = arr;
	return 0;
}

static char *verify_col(sqlite3_stmt *s, int i)
{
	return pl_strdup(store_col_text(s, i));
}

static int verify_bad(struct audit_verify_result *r, int64_t seq, struct pl_err *err,
                      const char *fmt, ...) PL_PRINTF(4, 5);

static int verify_bad(struct audit_verify_result *r, int64_t seq, struct pl_err *err,
                      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->first_bad = seq;
	return pl_error(err, PL_EFAIL, "audit log broken at seq %lld: %s", (long long)seq,
	                r->reason);
}

/* Walks the chain; 0 when every row is in place, PL_EFAIL at the first bad one. */
static int verify_chain(struct store *st, struct audit_verify_result *r, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st,
	                  "SELECT seq, at, actor, action, object_kind, object, detail, prev_hash,"
	                  " hash FROM audit_log ORDER BY seq",
	                  &s, err) < 0)
		return PL_EDB;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct audit_entry e = {
		    sqlite3_column_int64(s, 0), verify_col(s, 1), verify_col(s, 2),
		    verify_col(s, 3),           verify_col(s, 4), verify_col(s, 5),
		    verify_col(s, 6),           verify_col(s, 7), verify_col(s, 8)};
		int64_t want = r->entries + 1;
		char hash[65];

		audit_entry_hash(&e, hash);
		if (e.seq != want)
			rc = verify_bad(r, want, err,
			                "row %lld is missing (gap in seq: %lld follows %lld)",
			                (long long)want, (long long)e.seq, (long long)want - 1);
		else if (strcmp(e.prev_hash, r->head) != 0)
			rc = verify_bad(
			    r, e.seq, err,
			    "prev_hash mismatch: it does not name row %lld's hash (a row "
			    "before it was replaced)",
			    (long long)e.seq - 1);
		else if (strcmp(hash, e.hash) != 0)
			rc = verify_bad(r, e.seq, err,
			                "hash mismatch: the row was changed after it was written");
		snprintf(r->head, sizeof(r->head), "%s", e.hash);
		audit_entry_clear(&e);
		if (rc < 0)
			return rc;
		r->entries++;
	}
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading the audit log");
}

/* Compares the chain with the anchor read before it (so a writer that
 * commits meanwhile can only make the chain longer than the anchor). */
static int verify_anchor(struct store *st, const char *path, struct audit_verify_result *r,
                         struct pl_err *err)
{
	char stored[65];

	if (!r->anchored)
		return r->entries == 0
		           ? 0
		           : verify_bad(r, r->entries, err,
		                        "the anchor %s is missing: whether newer rows were "
		                        "removed cannot be told",
		                        path);
	if (r->anchor_seq > r->entries)
		return verify_bad(r, r->entries + 1, err,
		                  "tail truncated: the anchor names row %lld, the log ends at %lld",
		                  (long long)r->anchor_seq, (long long)r->entries);
	if (audit_hash_of(st, r->anchor_seq, stored, err) < 0)
		return err->code;
	if (strcmp(stored, r->anchor_hash) != 0)
		return verify_bad(r, r->anchor_seq, err,
		                  "anchor mismatch: row %lld is not the row anchored in %s (the "
		                  "tail was removed and written anew)",
		                  (long long)r->anchor_seq, path);
	return 0;
}

/* 1 when the audit_log table exists. */
static int verify_table(struct store *st, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_prepare(st,
	                  "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
	                  " name = 'audit_log'",
	                  &s, err) < 0)
		return PL_EDB;
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_error(st, err, "reading the schema");
	return sqlite3_column_int(s, 0) == 1;
}

int audit_verify(struct store *st, struct audit_verify_result *out, struct pl_err *err)
{
	PL_AUTOFREE char *path = audit_anchor_path(st);
	int own = sqlite3_get_autocommit(st->db);
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->head, sizeof(out->head), "%s", AUDIT_GENESIS);
	rc = anchor_read(path, &out->anchor_seq, out->anchor_hash, err);
	if (rc < 0)
		return rc;
	out->anchored = rc;
	/* one read transaction: the chain and the anchored row are one state */
	if (own && store_exec(st, "BEGIN", err) < 0)
		return err->code;
	rc = verify_table(st, err);
	if (rc == 0)
		rc = verify_bad(out, 1, err, "the audit_log table is missing");
	else if (rc == 1)
		rc = verify_chain(st, out, err);
	if (rc == 0)
		rc = verify_anchor(st, path, out, err);
	if (own)
		store_rollback(st); /* read only: this ends the snapshot */
	return rc;
}
