/* users.c - dashboard users, password hashes, sessions and API tokens. */
#include "users.h"

#include <crypt.h>
#include <sys/random.h>

#include "audit/audit.h"

static const char *const users_roles[] = {"viewer", "qa", "cab"};

const char *users_role_name(int role)
{
	return role >= 0 && role <= USERS_CAB ? users_roles[role] : "?";
}

int users_role_parse(const char *s)
{
	for (int i = 0; s && i <= USERS_CAB; i++)
		if (strcmp(s, users_roles[i]) == 0)
			return i;
	return -1;
}

int users_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64 ||
	    !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9')))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '@'))
			return 0;
	}
	return 1;
}

int users_password_ok(const char *password, struct pl_err *err)
{
	size_t n = password ? strlen(password) : 0;

	if (n < 8 || n > 1024)
		return pl_error(err, PL_EINVAL, "password: 8-1024 characters (it has %zu)", n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f)
			return pl_error(err, PL_EINVAL,
			                "password: no control characters (one at byte %zu)", i + 1);
	return 0;
}

int users_password_hash(const char *password, char **out, struct pl_err *err)
{
	char *setting, *h;
	void *data = NULL;
	int size = 0;

	if (users_password_ok(password, err) < 0)
		return err->code;
	/* count 0: libxcrypt's default cost; no rbytes: it reads getrandom */
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (!setting)
		return pl_error(err, PL_EENV, "crypt_gensalt_ra(yescrypt): %s", strerror(errno));
	h = crypt_ra(password, setting, &data, &size);
	free(setting);
	if (!h || h[0] == '*' || strncmp(h, "$y$", 3) != 0) {
		free(data);
		return pl_error(err, PL_EENV, "crypt_ra(yescrypt) failed");
	}
	*out = pl_strdup(h);
	explicit_bzero(data, (size_t)size);
	free(data);
	return 0;
}

int users_password_check(const char *password, const char *hash)
{
	void *data = NULL;
	int size = 0, ok;
	char *h;

	if (!password || !hash || strncmp(hash, "$y$", 3) != 0)
		return 0;
	h = crypt_ra(password, hash, &data, &size);
	ok = h && h[0] != '*' && users_secret_equal(h, hash);
	if (data)
		explicit_bzero(data, (size_t)size);
	free(data);
	return ok;
}

/* Hashes password with a fresh salt and forgets the result: what checking
 * costs, spent for a name that has no user. */
static void users_password_burn(const char *password)
{
	char *setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	void *data = NULL;
	int size = 0;

	if (setting)
		crypt_ra(password, setting, &data, &size);
	free(setting);
	free(data);
}

int users_secret_equal(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char d = na != nb;

	for (size_t i = 0; i < nb; i++)
		d |= (unsigned char)(a[i < na ? i : 0] ^ b[i]);
	return d == 0;
}

int users_random_hex(size_t nbytes, char *out, struct pl_err *err)
{
	unsigned char rnd[64];
	size_t got = 0;

	if (nbytes > sizeof(rnd))
		return pl_error(err, PL_EINTERNAL, "users_random_hex: %zu bytes", nbytes);
	while (got < nbytes) {
		ssize_t n = getrandom(rnd + got, nbytes - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pl_error(err, PL_EENV, "getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
	}
	out[2 * nbytes] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

/* The stored form of a secret: SHA-256 of its text. */
static void users_secret_digest(const char *secret, char out[static 65])
{
	struct pl_sha256 c;

	pl_sha256_init(&c);
	pl_sha256_update(&c, secret, strlen(secret));
	pl_sha256_hex(&c, out);
}

static int users_secret_wellformed(const char *s)
{
	if (!s || strlen(s) != USERS_SECRET_HEX)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static void users_now_iso(const struct pl_clock *clock, char at[static 21])
{
	pl_time_iso(pl_clock_now(clock), at);
}

int users_add(struct store *st, const char *name, int role, const char *password, const char *actor,
              struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *hash = NULL;
	PL_AUTOJSON json_t *detail = NULL;
	char at[21];
	int rc;

	if (!users_name_ok(name))
		return pl_error(err, PL_EINVAL,
		                "'%s' is not a user name (1-64 of A-Z a-z 0-9 . _ @ -, starting "
		                "with a letter or digit)",
		                name ? name : "");
	if (role < USERS_VIEWER || role > USERS_CAB)
		return pl_error(err, PL_EINVAL, "role: one of viewer, qa, cab");
	if (users_password_hash(password, &hash, err) < 0)
		return err->code;
	users_now_iso(NULL, at);
	detail = json_pack("{s:s}", "role", users_role_name(role));
	if (store_begin(st, err) < 0)
		return err->code;
	rc = store_prepare(
	    st, "INSERT INTO users(name, role, password_hash, created_at) VALUES (?, ?, ?, ?)", &s,
	    err);
	if (rc == 0) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, users_role_name(role), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, err);
		if (rc == PL_EEXIST)
			rc = pl_error(err, PL_EEXIST, "user '%s' exists already", name);
	}
	if (rc == 0)
		rc = audit_append(st, actor, "user-add", "user", name, detail, err);
	return store_end(st, rc, err);
}

int users_remove(struct store *st, const char *name, const char *actor, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (!users_name_ok(name))
		return pl_error(err, PL_ENOTFOUND, "no user '%s'", name ? name : "");
	if (store_begin(st, err) < 0)
		return err->code;
	rc = store_prepare(st, "DELETE FROM users WHERE name = ?", &s, err);
	if (rc == 0) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, err);
	}
	if (rc == 0 && sqlite3_changes(st->db) != 1)
		rc = pl_error(err, PL_ENOTFOUND, "no user '%s'", name);
	if (rc == 0)
		rc = audit_append(st, actor, "user-remove", "user", name, NULL, err);
	return store_end(st, rc, err);
}

int users_list(struct store *st, const struct pl_clock *clock, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (store_prepare(st,
	                  "SELECT u.name, u.role, u.created_at,"
	                  " (SELECT count(*) FROM sessions x WHERE x.user_id = u.id AND"
	                  "  x.kind = 'session' AND x.expires_at > ?1),"
	                  " (SELECT count(*) FROM sessions x WHERE x.user_id = u.id AND"
	                  "  x.kind = 'token' AND x.expires_at > ?1)"
	                  " FROM users u ORDER BY u.name",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, pl_clock_now(clock));
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", store_col_text(s, 0), "role",
		              store_col_text(s, 1), "created_at", store_col_text(s, 2), "sessions",
		              sqlite3_column_int(s, 3), "tokens", sqlite3_column_int(s, 4)));
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "listing users");
	}
	*out = arr;
	return 0;
}

/* Inserts a session or token row for user_id; the caller's transaction. */
static int users_session_insert(struct store *st, long user_id, const char *kind, const char *label,
                                int64_t ttl, const struct pl_clock *clock,
                                char secret[static USERS_SECRET_HEX + 1], char csrf[static 65],
                                struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	char digest[65], at[21];
	int64_t now = pl_clock_now(clock);

	if (users_random_hex(32, secret, err) < 0 || users_random_hex(32, csrf, err) < 0)
		return err->code;
	users_secret_digest(secret, digest);
	pl_time_iso(now, at);
	/* expired rows of this user go when a new one comes */
	if (store_prepare(st, "DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?", &s,
	                  err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, user_id);
	sqlite3_bind_int64(s, 2, now);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	store_stmt_finalizep(&s);
	if (store_prepare(
	        st,
	        "INSERT INTO sessions(secret_sha256, user_id, kind, csrf, label, created_at,"
	        " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
	        &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, csrf, -1, SQLITE_STATIC);
	if (label)
		sqlite3_bind_text(s, 5, label, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now + ttl);
	return store_step_done(st, s, err);
}

/* Reads a user's id, role and hash; PL_ENOTFOUND when absent. */
static int users_lookup(struct store *st, const char *name, long *id, int *role, char **hash,
                        struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, "SELECT id, role, password_hash FROM users WHERE name = ?", &s, err) <
	    0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no user '%s'", name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading users");
	*id = (long)sqlite3_column_int64(s, 0);
	*role = users_role_parse(store_col_text(s, 1));
	if (hash)
		*hash = pl_strdup(store_col_text(s, 2));
	return 0;
}

int users_login(struct store *st, const char *name, const char *password, int64_t ttl,
                const struct pl_clock *clock, char secret[static USERS_SECRET_HEX + 1],
                struct users_identity *out, struct pl_err *err)
{
	PL_AUTOFREE char *hash = NULL;
	struct pl_err lookup = PL_ERR_INIT;
	long id = 0;
	int role = -1, found, ok, rc;
	const char *who = users_name_ok(name) ? name : "(not a user name)";

	found = users_name_ok(name) && users_lookup(st, name, &id, &role, &hash, &lookup) == 0;
	if (lookup.code == PL_EDB)
		return pl_error(err, PL_EDB, "%s", lookup.msg);
	/* the same work whether or not the user exists */
	if (found) {
		ok = users_password_check(password ? password : "", hash) && role >= 0;
	} else {
		users_password_burn(password ? password : "");
		ok = 0;
	}
	if (!ok) {
		PL_AUTOJSON json_t *d = json_pack("{s:b}", "known_user", found);
		struct pl_err ignored = PL_ERR_INIT;

		/* a failed attempt is recorded; if that fails the answer is the same */
		audit_append(st, who, "login-failed", "user", who, d, &ignored);
		return pl_error(err, PL_EFAIL, "wrong user name or password");
	}
	memset(out, 0, sizeof(*out));
	if (store_begin(st, err) < 0)
		return err->code;
	rc = users_session_insert(st, id, "session", NULL, ttl, clock, secret, out->csrf, err);
	if (rc == 0) {
		out->session_id = (long)sqlite3_last_insert_rowid(st->db);
		rc = audit_append(st, name, "login", "user", name, NULL, err);
	}
	rc = store_end(st, rc, err);
	if (rc < 0)
		return rc;
	out->user_id = id;
	out->role = role;
	out->is_token = 0;
	out->expires_at = pl_clock_now(clock) + ttl;
	snprintf(out->name, sizeof(out->name), "%s", name);
	return 0;
}

int users_token_create(struct store *st, const char *name, const char *label, int64_t ttl,
                       const struct pl_clock *clock, const char *actor,
                       char secret[static USERS_SECRET_HEX + 1], struct pl_err *err)
{
	PL_AUTOJSON json_t *d = NULL;
	char csrf[65];
	long id;
	int role, rc;

	if (!users_name_ok(name))
		return pl_error(err, PL_ENOTFOUND, "no user '%s'", name ? name : "");
	if (label && (strlen(label) > 200 || strspn(label, " ") == strlen(label)))
		return pl_error(err, PL_EINVAL, "--label: 1-200 characters");
	for (const char *p = label; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return pl_error(err, PL_EINVAL, "--label: no control characters");
	if (ttl <= 0 || ttl > 366 * 86400)
		return pl_error(err, PL_EINVAL, "token lifetime: 1 second to 366 days");
	if (store_begin(st, err) < 0)
		return err->code;
	rc = users_lookup(st, name, &id, &role, NULL, err);
	if (rc == 0)
		rc = users_session_insert(st, id, "token", label, ttl, clock, secret, csrf, err);
	d = json_pack("{s:s?, s:I}", "label", label, "expires_at",
	              (json_int_t)(pl_clock_now(clock) + ttl));
	if (rc == 0)
		rc = audit_append(st, actor, "token-create", "user", name, d, err);
	return store_end(st, rc, err);
}

int users_authenticate(struct store *st, const char *secret, const struct pl_clock *clock,
                       struct users_identity *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	char digest[65];
	int rc;

	if (!users_secret_wellformed(secret))
		return pl_error(err, PL_ENOTFOUND, "no such session");
	users_secret_digest(secret, digest);
	if (store_prepare(st,
	                  "SELECT x.id, x.kind, x.csrf, x.expires_at, u.id, u.name, u.role"
	                  " FROM sessions x JOIN users u ON u.id = x.user_id"
	                  " WHERE x.secret_sha256 = ? AND x.expires_at > ?",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, pl_clock_now(clock));
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no such session");
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading sessions");
	memset(out, 0, sizeof(*out));
	out->session_id = (long)sqlite3_column_int64(s, 0);
	out->is_token = strcmp(store_col_text(s, 1), "token") == 0;
	snprintf(out->csrf, sizeof(out->csrf), "%s", store_col_text(s, 2));
	out->expires_at = sqlite3_column_int64(s, 3);
	out->user_id = (long)sqlite3_column_int64(s, 4);
	snprintf(out->name, sizeof(out->name), "%s", store_col_text(s, 5));
	out->role = users_role_parse(store_col_text(s, 6));
	if (out->role < 0)
		return pl_error(err, PL_ENOTFOUND, "no such session");
	return 0;
}

int users_logout(struct store *st, const char *secret, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL, *q = NULL;
	PL_AUTOFREE char *name = NULL;
	char digest[65];
	int rc;

	/* the session whatever its expiry: an expired one's row goes too */
	if (!users_secret_wellformed(secret))
		return 0;
	users_secret_digest(secret, digest);
	if (store_begin(st, err) < 0)
		return err->code;
	rc = store_prepare(st,
	                   "SELECT u.name FROM sessions x JOIN users u ON u.id = x.user_id"
	                   " WHERE x.secret_sha256 = ?",
	                   &q, err);
	if (rc == 0) {
		sqlite3_bind_text(q, 1, digest, -1, SQLITE_STATIC);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			name = pl_strdup(store_col_text(q, 0));
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
		                                           : store_error(st, err, "reading sessions");
		sqlite3_reset(q);
	}
	if (rc == 0 && !name) /* no such session: nothing to do */
		return store_end(st, rc, err);
	if (rc == 0)
		rc = store_prepare(st, "DELETE FROM sessions WHERE secret_sha256 = ?", &s, err);
	if (rc == 0) {
		sqlite3_bind_text(s, 1, digest, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, err);
	}
	if (rc == 0)
		rc = audit_append(st, name, "logout", "user", name, NULL, err);
	return store_end(st, rc, err);
}
