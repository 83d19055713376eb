/* proc.c - running helper programs from argv arrays, with timeouts. */
#include "core.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

char *pl_argv_str(const char *const *argv)
{
	struct pl_buf b = PL_BUF_INIT;

	for (size_t i = 0; argv[i]; i++) {
		const char *a = argv[i];

		if (i)
			pl_buf_addc(&b, ' ');
		if (*a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-_./=:,+@%") == strlen(a)) {
			pl_buf_adds(&b, a);
			continue;
		}
		pl_buf_addc(&b, '\'');
		for (; *a; a++) {
			if (*a == '\'')
				pl_buf_adds(&b, "'\\''");
			else
				pl_buf_addc(&b, *a);
		}
		pl_buf_addc(&b, '\'');
	}
	return pl_buf_detach(&b);
}

int pl_have_program(const char *name)
{
	const char *path = getenv("PATH");
	PL_AUTOFREE char *copy = pl_strdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		PL_AUTOFREE char *p = pl_path_join(d, name);

		if (access(p, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* Sets up the child's stdin, stdout and stderr. */
static int run_file_actions(posix_spawn_file_actions_t *fa, const struct pl_run_opts *o,
			    int pipe_w, struct pl_err *err)
{
	posix_spawn_file_actions_init(fa);
	posix_spawn_file_actions_addopen(fa, 0, o && o->stdin_path ? o->stdin_path : "/dev/null",
					 O_RDONLY, 0);
	if (o && o->log_path) {
		posix_spawn_file_actions_addopen(fa, 1, o->log_path,
						 O_WRONLY | O_CREAT | O_APPEND, 0640);
		posix_spawn_file_actions_adddup2(fa, 1, 2);
	}
	if (pipe_w >= 0) {
		posix_spawn_file_actions_adddup2(fa, pipe_w, 1);
		if (o->merge_stderr)
			posix_spawn_file_actions_adddup2(fa, pipe_w, 2);
	}
	(void)err;
	return 0;
}

/* Reads the child's output (if piped) until it exits or the deadline. */
static int run_wait(pid_t pid, int rfd, const struct pl_run_opts *o, int *wstatus)
{
	double deadline = o && o->timeout > 0 ? pl_monotonic() + o->timeout : 0;
	char chunk[8192];

	for (;;) {
		pid_t r = waitpid(pid, wstatus, WNOHANG);
		int wait_ms = 100;

		if (r == pid) {
			/* drain what is left in the pipe */
			ssize_t n;

			while (rfd >= 0 && (n = read(rfd, chunk, sizeof(chunk))) > 0)
				pl_buf_add(o->out, chunk, (size_t)n);
			return 0;
		}
		if (deadline && pl_monotonic() > deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, wstatus, 0);
			return PL_ETIMEOUT;
		}
		if (rfd >= 0) {
			struct pollfd pfd = {rfd, POLLIN, 0};

			if (poll(&pfd, 1, wait_ms) > 0) {
				ssize_t n = read(rfd, chunk, sizeof(chunk));

				if (n > 0)
					pl_buf_add(o->out, chunk, (size_t)n);
				else if (n == 0) {
					close(rfd);
					rfd = -1;
				}
			}
		} else {
			poll(NULL, 0, wait_ms);
		}
	}
}

int pl_run(const char *const *argv, const struct pl_run_opts *o, int *status, struct pl_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pfd[2] = {-1, -1};
	int wstatus = 0, rc;
	pid_t pid;

	if (o && o->out && pipe2(pfd, O_CLOEXEC) < 0)
		return pl_error(err, PL_EENV, "pipe: %s", strerror(errno));
	run_file_actions(&fa, o, pfd[1], err);
	posix_spawnattr_init(&attr);
	/* Own process group, so a timeout kills helpers the child started. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv,
			  o && o->envp ? o->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (rc != 0) {
		if (pfd[0] >= 0)
			close(pfd[0]);
		return pl_error(err, PL_EENV, "cannot run '%s': %s", argv[0], strerror(rc));
	}
	rc = run_wait(pid, pfd[0], o, &wstatus);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (rc == PL_ETIMEOUT) {
		PL_AUTOFREE char *cmd = pl_argv_str(argv);

		return pl_error(err, PL_ETIMEOUT, "'%s' did not finish within %.0f s", cmd,
				o->timeout);
	}
	if (status)
		*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	return 0;
}

int pl_run_ok(const char *const *argv, const struct pl_run_opts *o, struct pl_err *err)
{
	struct pl_buf tail = PL_BUF_INIT;
	struct pl_run_opts local = o ? *o : (struct pl_run_opts){0};
	int status = 0, rc;

	if (!local.out && !local.log_path) {
		local.out = &tail;
		local.merge_stderr = 1;
	}
	rc = pl_run(argv, &local, &status, err);
	if (rc == 0 && status != 0) {
		PL_AUTOFREE char *cmd = pl_argv_str(argv);
		const char *text = local.out ? pl_buf_str(local.out) : "";
		size_t n = strlen(text);
		const char *t = n > 600 ? text + n - 600 : text;

		if (local.log_path)
			rc = pl_error(err, PL_EENV, "'%s' exited with status %d (log: %s)", cmd,
				      status, local.log_path);
		else
			rc = pl_error(err, PL_EENV, "'%s' exited with status %d: %s", cmd, status,
				      t);
	}
	pl_buf_release(&tail);
	return rc;
}
