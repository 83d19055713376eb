/* cmd_user.c - 'patchlab user add|list|remove|token': the dashboard's users. */
#include "cli.h"

#include <fcntl.h>
#include <getopt.h>
#include <termios.h>

#include "audit/audit.h"
#include "users/users.h"

/* Reads one line (at most 1025 bytes) from fd without its end of line;
 * the caller frees it. NULL on end of file before a newline or an error. */
static char *user_read_line(int fd)
{
	struct pl_buf b = PL_BUF_INIT;
	char c;
	ssize_t n;

	while ((n = read(fd, &c, 1)) == 1 && c != '\n') {
		if (b.len > 1025)
			continue; /* too long: users_password_ok says so */
		pl_buf_addc(&b, c);
	}
	if (n < 0 || (n == 0 && b.len == 0)) {
		if (b.s)
			explicit_bzero(b.s, b.cap);
		pl_buf_release(&b);
		return NULL;
	}
	if (b.len && b.s[b.len - 1] == '\r')
		b.s[--b.len] = '\0';
	return pl_buf_detach(&b);
}

/* Asks for the password twice on the terminal, without echo. */
static int user_prompt_password(struct cli *cli, char **out)
{
	PL_AUTOFD int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	struct termios old, quiet;
	char *a = NULL, *b = NULL;
	int same;

	if (fd < 0 || tcgetattr(fd, &old) < 0)
		return pl_error(&cli->err, PL_EUSAGE,
		                "no terminal to ask for the password: use --password-stdin");
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	if (write(fd, "password: ", 10) == 10)
		a = user_read_line(fd);
	if (a && write(fd, "\nagain: ", 8) == 8)
		b = user_read_line(fd);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		(void)0;
	same = a && b && strcmp(a, b) == 0;
	if (b)
		explicit_bzero(b, strlen(b));
	free(b);
	if (!same) {
		if (a)
			explicit_bzero(a, strlen(a));
		free(a);
		return pl_error(&cli->err, PL_EINVAL, "the two passwords differ");
	}
	*out = a;
	return 0;
}

static int cmd_user_add(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
	                                     {"password-stdin", no_argument, NULL, 'p'},
	                                     {NULL, 0, NULL, 0}};
	PL_AUTOFREE char *actor = NULL;
	const char *role_s = NULL;
	char *password = NULL;
	struct store *st;
	int from_stdin = 0, ch, role, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'r')
			role_s = optarg;
		else if (ch == 'p')
			from_stdin = 1;
		else
			return cli_usage_error(cli, cmd, "unknown option");
	}
	if (optind != argc - 1 || !role_s)
		return cli_usage_error(cli, cmd, "expected NAME and --role viewer|qa|cab");
	role = users_role_parse(role_s);
	if (role < 0)
		return pl_error(&cli->err, PL_EUSAGE, "--role: '%s' is not one of viewer, qa, cab",
		                role_s);
	if (!users_name_ok(argv[optind]))
		return pl_error(&cli->err, PL_EINVAL,
		                "'%s' is not a user name (1-64 of A-Z a-z 0-9 . _ @ -, starting "
		                "with a letter or digit)",
		                argv[optind]);
	if (from_stdin) {
		password = user_read_line(STDIN_FILENO);
		if (!password)
			return pl_error(&cli->err, PL_EINVAL,
			                "--password-stdin: no password on "
			                "standard input");
	} else if (user_prompt_password(cli, &password) < 0) {
		return cli->err.code;
	}
	actor = audit_actor(NULL);
	rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = users_add(st, argv[optind], role, password, actor, &cli->err);
	explicit_bzero(password, strlen(password));
	free(password);
	if (rc == 0)
		printf("added user '%s' (%s)\n", argv[optind], users_role_name(role));
	return rc;
}

static int cmd_user_list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct store *st;
	json_t *arr = NULL, *v;
	size_t i;
	int fmt = CLI_FMT_TEXT, ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0 || users_list(st, NULL, &arr, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	printf("%-24s %-7s %-21s %-8s %s\n", "NAME", "ROLE", "CREATED", "SESSIONS", "TOKENS");
	json_array_foreach (arr, i, v)
		printf("%-24s %-7s %-21s %-8lld %lld\n",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "role")),
		       json_string_value(json_object_get(v, "created_at")),
		       json_integer_value(json_object_get(v, "sessions")),
		       json_integer_value(json_object_get(v, "tokens")));
	json_decref(arr);
	return 0;
}

static int cmd_user_remove(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	PL_AUTOFREE char *actor = NULL;
	struct store *st;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error(cli, cmd, "expected one user name");
	actor = audit_actor(NULL);
	if (cli_store(cli, &st, 0) < 0 || users_remove(st, argv[1], actor, &cli->err) < 0)
		return cli->err.code;
	printf("removed user '%s' and its sessions\n", argv[1]);
	return 0;
}

static int cmd_user_token(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"label", required_argument, NULL, 'l'},
	                                     {"days", required_argument, NULL, 'd'},
	                                     {NULL, 0, NULL, 0}};
	PL_AUTOFREE char *actor = NULL;
	const char *label = NULL;
	char secret[USERS_SECRET_HEX + 1];
	struct store *st;
	int days = USERS_TOKEN_TTL / 86400, ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'l')
			label = optarg;
		else if (ch == 'd') {
			if (pl_parse_int(optarg, 1, 366, &days, "--days", &cli->err) < 0)
				return PL_EUSAGE;
		} else
			return cli_usage_error(cli, cmd, "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one user name");
	actor = audit_actor(NULL);
	if (cli_store(cli, &st, 0) < 0 ||
	    users_token_create(st, argv[optind], label, (int64_t)days * 86400, NULL, actor, secret,
	                       &cli->err) < 0)
		return cli->err.code;
	/* the secret is shown once; only its SHA-256 is kept */
	printf("%s\n", secret);
	explicit_bzero(secret, sizeof(secret));
	return 0;
}

const struct cli_command cli_user_commands[] = {
    {"add", "add a dashboard user with a role and a password",
     "user add NAME --role viewer|qa|cab [--password-stdin]\n"
     "\n"
     "Roles: viewer reads everything, qa too (and later defines labs), cab\n"
     "also approves and rejects candidates. The password (8-1024 characters)\n"
     "is asked twice on the terminal, or read as the first line of standard\n"
     "input with --password-stdin; it is stored as a yescrypt hash (crypt(5)).",
     cmd_user_add, NULL, 0},
    {"list", "list the users, their roles and live sessions and tokens",
     "user list [--format text|json]", cmd_user_list, NULL, 0},
    {"remove", "remove a user and end its sessions and tokens", "user remove NAME", cmd_user_remove,
     NULL, 0},
    {"token", "print a new API token for a user (for scripts: Authorization: Bearer)",
     "user token NAME [--label TEXT] [--days N]\n"
     "\n"
     "Prints a new random token (64 hex digits) once; only its SHA-256 is\n"
     "kept. Scripts send it as 'Authorization: Bearer TOKEN' to the JSON API\n"
     "of 'patchlab serve' and act with the user's role; no CSRF token is\n"
     "needed with it. Valid N days (default 30, at most 366).",
     cmd_user_token, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
