/* cmd_version.c - 'patchlab version-compare': dpkg and rpm version order. */
#include "cli.h"
#include "version/version.h"

#include <getopt.h>

/* What one side of a comparison is, in either format. */
struct vc_version {
	int blank; /* dpkg's blank version: "" or "<unknown>" */
	struct version_deb deb;
	struct version_rpm rpm;
};

struct vc_ctx {
	struct cli *cli;
	int rpm;
	unsigned long line; /* 0 outside batch mode */
};

static int vc_parse(struct vc_ctx *vc, const char *s, size_t len, struct vc_version *out)
{
	const char *msg = NULL;
	int rc;
	char where[48] = "";

	if (vc->line)
		snprintf(where, sizeof(where), "line %lu: ", vc->line);
	out->blank = 0;
	if (vc->rpm) {
		if (version_rpm_parse(s, len, &out->rpm, &msg) < 0)
			return pl_error(&vc->cli->err, PL_EINVAL, "%sinvalid rpm version '%.*s': %s",
					where, (int)len, s, msg);
		return 0;
	}
	/* dpkg --compare-versions takes "" and "<unknown>" as the blank version. */
	if (len == 0 || (len == 9 && memcmp(s, "<unknown>", 9) == 0)) {
		out->blank = 1;
		memset(&out->deb, 0, sizeof(out->deb));
		out->deb.upstream = out->deb.revision = "";
		return 0;
	}
	rc = version_deb_parse(s, len, &out->deb, &msg);
	if (rc < 0)
		return pl_error(&vc->cli->err, PL_EINVAL, "%sversion '%.*s' has bad syntax: %s",
				where, (int)len, s, msg);
	if (rc > 0)
		pl_warn("%sversion '%.*s' has bad syntax: %s", where, (int)len, s, msg);
	return 0;
}

static int vc_cmp(const struct vc_ctx *vc, const struct vc_version *a, const struct vc_version *b)
{
	/* As dpkg: the blank version sorts before every real one, even "~". */
	if (a->blank || b->blank)
		return b->blank - a->blank;
	return vc->rpm ? version_rpm_cmp(&a->rpm, &b->rpm) : version_deb_cmp(&a->deb, &b->deb);
}

static char vc_symbol(int c)
{
	return c < 0 ? '<' : c > 0 ? '>' : '=';
}

/* Compares one line "A<TAB>B" (without its newline) and appends the symbol. */
static int vc_line(struct vc_ctx *vc, const char *p, size_t n, struct pl_buf *out)
{
	const char *tab = memchr(p, '\t', n);
	struct vc_version a, b;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (!tab || memchr(tab + 1, '\t', n - (size_t)(tab + 1 - p)))
		return pl_error(&vc->cli->err, PL_EINVAL,
				"line %lu: expected two versions separated by one TAB", vc->line);
	if (vc_parse(vc, p, (size_t)(tab - p), &a) < 0 ||
	    vc_parse(vc, tab + 1, n - (size_t)(tab + 1 - p), &b) < 0)
		return PL_EINVAL;
	pl_buf_grow(out, 2);
	out->s[out->len++] = vc_symbol(vc_cmp(vc, &a, &b));
	out->s[out->len++] = '\n';
	return 0;
}

/* Streams standard input in large reads; output is flushed per chunk. */
static int vc_batch(struct vc_ctx *vc)
{
	enum { CHUNK = 1 << 20 };
	PL_AUTOBUF struct pl_buf in = PL_BUF_INIT;
	PL_AUTOBUF struct pl_buf out = PL_BUF_INIT;
	size_t start = 0, got;
	int eof = 0;

	while (!eof) {
		pl_buf_grow(&in, CHUNK);
		got = fread(in.s + in.len, 1, CHUNK, stdin);
		in.len += got;
		if (got < CHUNK) {
			if (ferror(stdin))
				return pl_error(&vc->cli->err, PL_EIO, "reading standard input");
			eof = feof(stdin);
		}
		for (;;) {
			char *nl = memchr(in.s + start, '\n', in.len - start);
			size_t n = nl ? (size_t)(nl - (in.s + start)) : in.len - start;

			if (!nl && (!eof || n == 0))
				break;
			vc->line++;
			if (vc_line(vc, in.s + start, n, &out) < 0)
				return PL_EINVAL;
			start += n + (nl ? 1 : 0);
		}
		if (out.len && fwrite(out.s, 1, out.len, stdout) != out.len)
			return pl_error(&vc->cli->err, PL_EIO, "writing standard output");
		pl_buf_reset(&out);
		memmove(in.s, in.s + start, in.len - start);
		in.len -= start;
		start = 0;
	}
	return 0;
}

int cmd_version_compare(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"rpm", no_argument, NULL, 'r'},
		{"deb", no_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct vc_ctx vc = {cli, 0, 0};
	struct vc_version a, b;
	int fmt = CLI_FMT_TEXT, c;
	char sym;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			vc.rpm = 1;
			break;
		case 'd':
			vc.rpm = 0;
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
				return PL_EUSAGE;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 1 && strcmp(argv[0], "-") == 0) {
		if (fmt != CLI_FMT_TEXT)
			return cli_usage_error(cli, cmd, "batch mode prints text only");
		return vc_batch(&vc);
	}
	if (argc != 2)
		return cli_usage_error(cli, cmd, "expected two versions, or '-'");
	if (vc_parse(&vc, argv[0], strlen(argv[0]), &a) < 0 ||
	    vc_parse(&vc, argv[1], strlen(argv[1]), &b) < 0)
		return PL_EINVAL;
	sym = vc_symbol(vc_cmp(&vc, &a, &b));
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s#}", "format",
						vc.rpm ? "rpm" : "deb", "a", argv[0], "b",
						argv[1], "result", &sym, (size_t)1));
	printf("%c\n", sym);
	return 0;
}
