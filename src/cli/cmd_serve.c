/* cmd_serve.c - 'patchlab serve': the dashboard and JSON API until a signal. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>

#include "gate/gate.h"
#include "rollout/rollout.h"
#include "server/server.h"

int cmd_serve(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
	                                     {"threads", required_argument, NULL, 't'},
	                                     {"max-body", required_argument, NULL, 'b'},
	                                     {"policy", required_argument, NULL, 'p'},
	                                     {"rollout-policy", required_argument, NULL, 'r'},
	                                     {"access-log", no_argument, NULL, 'a'},
	                                     {"run-due", required_argument, NULL, 'd'},
	                                     {NULL, 0, NULL, 0}};
	struct server_opts o = {"127.0.0.1:8080", 0, 0, NULL, NULL, NULL, NULL, 0};
	const char *policy = NULL, *rollout = NULL;
	struct gate_policy gp;
	struct rollout_policy rp;
	struct server *srv = NULL;
	struct store *st;
	sigset_t sigs;
	uint64_t body;
	int ch, sig = 0, threads, every, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			o.listen = optarg;
			break;
		case 't':
			if (pl_parse_int(optarg, 1, 256, &threads, "--threads", &cli->err) < 0)
				return PL_EUSAGE;
			o.threads = (unsigned)threads;
			break;
		case 'b':
			if (pl_parse_size(optarg, &body, "--max-body", &cli->err) < 0 ||
			    body < 1024 || body > (64 << 20))
				return pl_error(&cli->err, PL_EUSAGE, "--max-body: '%s': 1K to 64M",
				                optarg);
			o.max_body = (size_t)body;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'r':
			rollout = optarg;
			break;
		case 'a':
			o.access_log = stderr;
			break;
		case 'd':
			if (pl_parse_int(optarg, 10, 86400, &every, "--run-due", &cli->err) < 0)
				return PL_EUSAGE;
			o.run_due_every = (unsigned)every;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	/* the database exists and is migrated before any thread opens it */
	if (cli_store(cli, &st, 0) < 0)
		return cli->err.code;
	if ((policy ? gate_policy_load(policy, &gp, &cli->err)
	            : gate_policy_default(&gp, &cli->err)) < 0)
		return cli->err.code;
	if ((rollout ? rollout_policy_load(rollout, &rp, &cli->err)
	             : rollout_policy_default(&rp, &cli->err)) < 0) {
		gate_policy_free(&gp);
		return cli->err.code;
	}
	o.policy = &gp;
	o.rollout = &rp;
	/* the server's threads inherit the mask: only sigwait below sees these */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	rc = server_start(cli->state_dir, &o, &srv, &cli->err);
	if (rc == 0) {
		/* the host part as given, the port as bound (port 0 picks a free one) */
		printf("patchlab: serving the dashboard on http://%.*s:%u/ (state %s)\n",
		       (int)(strrchr(o.listen, ':') - o.listen), o.listen, server_port(srv),
		       cli->state_dir);
		fflush(stdout);
		while (sigwait(&sigs, &sig) == 0 && sig != SIGINT && sig != SIGTERM)
			; /* SIGHUP: keep serving */
		server_stop(srv);
		if (cli->verbosity >= 0)
			fprintf(stderr, "patchlab: stopped (signal %d)\n", sig);
	}
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	rollout_policy_free(&rp);
	gate_policy_free(&gp);
	return rc;
}
