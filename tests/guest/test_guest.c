/*
 * test_guest.c - launching the libguestfs appliance: the launch timeout's
 * watchdog kills a launch that takes too long and the retry keeps the
 * appliance's log; a bad timeout setting is an input error; a normal
 * launch still works with the watchdog's name on QEMU's command line.
 * Real libguestfs (direct backend, TCG) on a blank raw disk; skipped (77)
 * where libguestfs cannot start an appliance at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "guest/guest.h"

static char disk[] = "/tmp/pl-test-guest-XXXXXX";

static int setup(void **state)
{
	int fd = mkstemp(disk);

	(void)state;
	if (fd < 0 || ftruncate(fd, 16 << 20) < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(disk);
	return 0;
}

/* This process's children that are still alive (not zombies). */
static int live_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[300], buf[512], state;
		long ppid;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strrchr(buf, ')') &&
		    sscanf(strrchr(buf, ')') + 1, " %c %ld", &state, &ppid) == 2 &&
		    ppid == getpid() && state != 'Z')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void test_timeout_kills_and_retries(void **state)
{
	struct guest_opts o = {.force_tcg = 1, .format = "raw", .launch_timeout = 1};
	struct pl_err err = PL_ERR_INIT;
	guestfs_h *g = NULL;
	double t0 = pl_monotonic();

	(void)state;
	assert_int_equal(guest_open(disk, &o, &g, &err), PL_EENV);
	assert_null(g);
	/* two attempts of about a second each, not libguestfs's 20 minutes */
	assert_true(pl_monotonic() - t0 < 60);
	assert_non_null(strstr(err.msg, "did not start within 1 s"));
	assert_non_null(strstr(err.msg, "the second attempt"));
	/* the kept log of the second attempt: libguestfs's own debug lines,
	 * down to the QEMU command line with the name the watchdog looks for */
	assert_non_null(strstr(err.msg, "the appliance's last lines:\n"));
	if (!strstr(err.msg, "-name patchlab-guestfs-"))
		fail_msg("%s", err.msg);
	assert_int_equal(live_children(), 0);
}

static void test_bad_timeout_setting(void **state)
{
	struct guest_opts o = {.force_tcg = 1, .format = "raw"};
	struct pl_err err = PL_ERR_INIT;
	guestfs_h *g = NULL;

	(void)state;
	setenv("PATCHLAB_GUESTFS_LAUNCH_TIMEOUT", "5m", 1);
	assert_int_equal(guest_open(disk, &o, &g, &err), PL_EINVAL);
	unsetenv("PATCHLAB_GUESTFS_LAUNCH_TIMEOUT");
	assert_string_equal(err.msg, "PATCHLAB_GUESTFS_LAUNCH_TIMEOUT: '5m' is not a number of "
				     "seconds from 1 to 86400");
	assert_null(g);
}

static void test_bad_drive_not_retried(void **state)
{
	struct guest_opts o = {.force_tcg = 1, .format = "raw"};
	struct pl_err err = PL_ERR_INIT;
	guestfs_h *g = NULL;

	(void)state;
	assert_int_equal(guest_open("/nonexistent/disk.img", &o, &g, &err), PL_EENV);
	assert_non_null(strstr(err.msg, "/nonexistent/disk.img"));
	assert_null(strstr(err.msg, "second attempt"));
}

static void test_launch_works(void **state)
{
	struct guest_opts o = {.force_tcg = 1, .format = "raw", .readonly = 1};
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOGUESTFS guestfs_h *g = NULL;

	(void)state;
	if (guest_open(disk, &o, &g, &err) < 0)
		fail_msg("%s", err.msg);
	/* the appliance answers: the disk is there, at its size */
	assert_int_equal(guestfs_blockdev_getsize64(g, "/dev/sda"), 16 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_timeout_setting),
		cmocka_unit_test(test_bad_drive_not_retried),
		cmocka_unit_test(test_timeout_kills_and_retries),
		cmocka_unit_test(test_launch_works),
	};

	if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0 || access("/usr/bin/supermin", X_OK) != 0) {
		printf("skipped: no QEMU or supermin for the libguestfs appliance\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
