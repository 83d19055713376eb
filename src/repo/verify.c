/*
 * verify.c - OpenPGP signatures of Release files, through gpgv.
 *
 * gpgv's exit code alone is not the verdict (apt's neither): a Debian
 * InRelease carries several signatures, and a keyring that lacks one of the
 * keys makes gpgv fail although another signature is good. The verdict
 * comes from the machine-readable status lines (--status-fd): at least one
 * good, valid signature with a strong hash and no bad one.
 */
#include "repo.h"

#include <sys/stat.h>

#define GPG_TIMEOUT 120.0
#define ARMOR_KEY   "-----BEGIN PGP PUBLIC KEY BLOCK-----"

/* What the status lines said. */
struct gpgv_status {
	int good;        /* VALIDSIG with a strong hash */
	int bad;         /* BADSIG */
	int worthless;   /* expired or revoked key, expired signature, weak hash */
	int unknown_key; /* NO_PUBKEY / ERRSIG */
	int nodata;      /* NODATA: no signature at all */
	char first_bad[200], first_worthless[200], first_unknown[64];
	struct pl_buf signers;
};

/* The n-th blank-separated word of s (0-based), or "" (into buf). */
static const char *word_at(const char *s, int n, char *buf, size_t len)
{
	for (int i = 0;; i++) {
		size_t k;

		while (*s == ' ')
			s++;
		k = strcspn(s, " ");
		if (k == 0)
			break;
		if (i == n) {
			snprintf(buf, len, "%.*s", (int)k, s);
			return buf;
		}
		s += k;
	}
	buf[0] = '\0';
	return buf;
}

/* SHA-1, MD5 and RIPEMD-160 (OpenPGP hash ids 1, 2, 3) are refused, as apt does. */
static int weak_hash(const char *algo)
{
	return strcmp(algo, "1") == 0 || strcmp(algo, "2") == 0 || strcmp(algo, "3") == 0;
}

static void status_line(struct gpgv_status *st, const char *kw, const char *args)
{
	char w[160], fpr[160];

	if (strcmp(kw, "VALIDSIG") == 0) {
		if (weak_hash(word_at(args, 7, w, sizeof(w)))) {
			st->worthless++;
			snprintf(st->first_worthless, sizeof(st->first_worthless),
			         "a weak hash (algorithm %s) by %s", w,
			         word_at(args, 0, fpr, sizeof(fpr)));
			return;
		}
		st->good++;
		/* the primary key's fingerprint, else the signing (sub)key's */
		if (!*word_at(args, 9, fpr, sizeof(fpr)))
			word_at(args, 0, fpr, sizeof(fpr));
		pl_buf_addf(&st->signers, "%s%s", st->signers.len ? " " : "", fpr);
	} else if (strcmp(kw, "BADSIG") == 0) {
		if (!st->bad++)
			snprintf(st->first_bad, sizeof(st->first_bad), "%s", args);
	} else if (strcmp(kw, "EXPKEYSIG") == 0 || strcmp(kw, "REVKEYSIG") == 0 ||
	           strcmp(kw, "EXPSIG") == 0) {
		if (!st->worthless++)
			snprintf(st->first_worthless, sizeof(st->first_worthless), "%s %s", kw,
			         args);
	} else if (strcmp(kw, "NO_PUBKEY") == 0 || strcmp(kw, "ERRSIG") == 0) {
		if (!st->unknown_key++)
			word_at(args, 0, st->first_unknown, sizeof(st->first_unknown));
	} else if (strcmp(kw, "NODATA") == 0) {
		st->nodata++;
	}
}

static void status_parse(struct gpgv_status *st, const char *out)
{
	static const char prefix[] = "[GNUPG:] ";

	for (const char *p = out; *p;) {
		size_t n = strcspn(p, "\n");

		if (n > sizeof(prefix) - 1 && strncmp(p, prefix, sizeof(prefix) - 1) == 0) {
			PL_AUTOFREE char *line =
			    pl_strndup(p + sizeof(prefix) - 1, n - (sizeof(prefix) - 1));
			char *args = line + strcspn(line, " ");

			if (*args)
				*args++ = '\0';
			status_line(st, line, args);
		}
		p += n + (p[n] == '\n');
	}
}

static int verdict(const struct gpgv_status *st, const char *file, const char *keyring, int status,
                   const char *out, struct pl_err *err)
{
	if (st->bad)
		return pl_error(err, PL_EINVAL,
		                "%s: BAD signature (%s): the file is not what was signed", file,
		                st->first_bad);
	if (st->good)
		return 0;
	if (st->worthless)
		return pl_error(err, PL_EINVAL, "%s: no valid signature, only %s", file,
		                st->first_worthless);
	if (st->unknown_key)
		return pl_error(err, PL_EINVAL, "%s: signed by key %s, which is not in keyring %s",
		                file, st->first_unknown, keyring);
	if (st->nodata)
		return pl_error(err, PL_EINVAL, "%s: no OpenPGP signature", file);
	{
		size_t n = strlen(out);

		return pl_error(err, PL_EINVAL, "%s: not verified (gpgv exit %d): %s", file, status,
		                n > 400 ? out + n - 400 : out);
	}
}

/* An armored keyring is converted with gpg --dearmor: gpgv reads binary only. */
static int keyring_binary(const char *keyring, const char *workdir, char **out, struct pl_err *err)
{
	char head[sizeof(ARMOR_KEY)] = "";
	PL_AUTOFILE FILE *f = fopen(keyring, "rb");
	struct stat sb;

	*out = NULL;
	if (!f || fstat(fileno(f), &sb) < 0)
		return pl_error(err, PL_EINVAL, "keyring %s: %s", keyring, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return pl_error(err, PL_EINVAL, "keyring %s: not a regular file", keyring);
	if (fread(head, 1, sizeof(head) - 1, f) == sizeof(head) - 1 &&
	    strcmp(head, ARMOR_KEY) == 0) {
		PL_AUTOFREE char *bin = pl_path_join(workdir, "keyring.gpg");
		const char *argv[] = {"gpg",   "--batch",   "--no-options", "--homedir", workdir,
		                      "--yes", "--dearmor", "--output",     bin,         keyring,
		                      NULL};
		struct pl_run_opts o = {.timeout = GPG_TIMEOUT};

		if (!pl_have_program("gpg"))
			return pl_error(err, PL_EENV,
			                "keyring %s is ASCII-armored and gpg is not installed",
			                keyring);
		if (pl_run_ok(argv, &o, err) < 0)
			return pl_error_prefix(err, "keyring %s", keyring);
		*out = PL_STEAL(bin);
		return 0;
	}
	*out = pl_strdup(keyring);
	return 0;
}

int repo_gpgv_verify(const char *keyring, const char *signed_file, const char *sig,
                     const char *workdir, char **signers, struct pl_err *err)
{
	struct gpgv_status st = {0};
	PL_AUTOBUF struct pl_buf out = PL_BUF_INIT;
	PL_AUTOFREE char *kr = NULL;
	struct pl_run_opts o = {.out = &out, .merge_stderr = 1, .timeout = GPG_TIMEOUT};
	const char *argv[12];
	int n = 0, status = 0, rc;

	*signers = NULL;
	if (!pl_have_program("gpgv"))
		return pl_error(err, PL_EENV, "gpgv is not installed (Debian package gpgv)");
	if (keyring_binary(keyring, workdir, &kr, err) < 0)
		return err->code;
	argv[n++] = "gpgv";
	argv[n++] = "--homedir";
	argv[n++] = workdir;
	argv[n++] = "--status-fd";
	argv[n++] = "1";
	argv[n++] = "--keyring";
	argv[n++] = kr;
	if (sig)
		argv[n++] = sig;
	argv[n++] = signed_file;
	argv[n] = NULL;
	if (pl_run(argv, &o, &status, err) < 0)
		return err->code;
	status_parse(&st, pl_buf_str(&out));
	rc = verdict(&st, sig ? sig : signed_file, keyring, status, pl_buf_str(&out), err);
	if (rc == 0)
		*signers = pl_buf_detach(&st.signers);
	pl_buf_release(&st.signers);
	return rc;
}
