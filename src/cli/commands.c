/* commands.c - the table of every patchlab command, like git.c's. */
#include "cli.h"

const struct cli_command cli_commands[] = {
	{"help", "show the commands, or one command's usage", "help [COMMAND [SUBCOMMAND]]",
	 cmd_help, NULL, 0},
	{"init", "create the state directory and its database",
	 "init [--format text|json]\n"
	 "\n"
	 "Creates the state directory (--state, $PATCHLAB_STATE, or the default)\n"
	 "and migrates its database to the newest schema. Safe to run again.",
	 cmd_init, NULL, 0},
	{"status", "show the state directory, schema and environment",
	 "status [--format text|json]", cmd_status, NULL, 0},
	{"version-compare", "compare package versions exactly as dpkg or rpm does",
	 "version-compare [--rpm] [--format text|json] A B\n"
	 "version-compare [--rpm] -\n"
	 "\n"
	 "Prints '<', '=' or '>' for A against B, in Debian (dpkg) order or, with\n"
	 "--rpm, in RPM (rpmvercmp) order. With '-', reads TAB-separated pairs\n"
	 "from standard input and prints one symbol per line, in order. A version\n"
	 "the format forbids is an input error (exit 2) naming the line; one that\n"
	 "dpkg accepts with a warning is compared after the same warning.",
	 cmd_version_compare, NULL, 0},
	{"image", "golden images: build, import, list, show, inspect", "image SUBCOMMAND ...", NULL,
	 cli_image_commands, 0},
	{"lab", "the isolated libvirt lab: boot a clone, collect garbage", "lab SUBCOMMAND ...",
	 NULL, cli_lab_commands, 0},
	{"candidate", "candidates: named sets of patches to test and approve",
	 "candidate SUBCOMMAND ...", NULL, cli_candidate_commands, 0},
	{"bisect", "find the patch(es) that make a failing candidate fail",
	 "bisect NAME [--image IMG] [--lab FILE] [--policy FILE] [--boot pxe|kernel|disk]\n"
	 "\n"
	 "Runs the lab on subsets of a failing candidate, halving the set that\n"
	 "still fails; two patches that fail only together are found as a pair.\n"
	 "Records the culprit(s) and the runs it took. Exit 0 when found.",
	 cmd_bisect, NULL, 0},
	{"scan", "list the installed packages that miss a patch, and the CVEs it fixes",
	 "scan --dpkg-status FILE --packages FILE [--packages FILE ...] [--feed FILE ...]\n"
	 "     [--release NAME] [--format tsv|json]\n"
	 "\n"
	 "One shot, no database: compares dpkg's status file with Packages indexes\n"
	 "(plain, gzip or xz, told apart by content) and lists each installed package\n"
	 "whose candidate (the highest version of the same name and architecture, as\n"
	 "apt picks with default pins) is newer. With --feed (Debian Security Tracker\n"
	 "JSON, or OSV advisories: a .json file, a directory or a .zip of them, whose\n"
	 "ECOSYSTEM ranges for the release's Debian:N count; see src/detect/detect.h),\n"
	 "a CVE of the installed SOURCE package counts as fixed by the upgrade\n"
	 "when it is resolved in --release (default: VERSION_CODENAME of\n"
	 "/etc/os-release, else bookworm) at a source version above the installed\n"
	 "one and not above the candidate's. severity is the highest urgency among\n"
	 "those CVEs (unimportant < low < medium < high; \"not yet assigned\" is\n"
	 "medium); priority is for now the same word (a risk score comes later).\n"
	 "TSV (default): package, arch, installed, candidate, cves, severity,\n"
	 "priority, '-' when empty. JSON adds the source versions and lists open\n"
	 "and undetermined CVEs of installed packages under \"unfixed\".\n"
	 "Exit 2 on a missing or malformed input, naming the file and line.",
	 cmd_scan, NULL, 0},
	{"inventory", "production hosts and the packages they run", "inventory SUBCOMMAND ...",
	 NULL, cli_inventory_commands, 0},
	{"repo", "vendor repositories: signed, verified index sync and .deb downloads",
	 "repo SUBCOMMAND ...", NULL, cli_repo_commands, 0},
	{"feed", "vulnerability feeds: tracker, OSV, EPSS, KEV in the database",
	 "feed SUBCOMMAND ...", NULL, cli_feed_commands, 0},
	{"calendar", "the month's Patch Tuesday and maintenance windows, or the next window",
	 "calendar [--month YYYY-MM] [--policy FILE] [--format text|json]\n"
	 "calendar --next [--after TIME] [--policy FILE] [--format text|json]\n"
	 "\n"
	 "Lists the month's Patch Tuesday (the second Tuesday) and every occurrence\n"
	 "of the rollout policy's maintenance windows whose local date lies in the\n"
	 "month (default: this month), each with its local start and end (with\n"
	 "their UTC offsets) and in UTC. --next shows the window open now or the\n"
	 "next to open after TIME (default: now; PATCHLAB_NOW pins it). The policy\n"
	 "is policies/rollout-default.json (built in) unless --policy. A start in\n"
	 "a DST gap moves forward by the gap, one in a fold is the first instant\n"
	 "(RFC 5545); durations are real elapsed time.",
	 cmd_calendar, NULL, 0},
	{"audit", "the tamper-evident audit log: list, verify", "audit SUBCOMMAND ...", NULL,
	 cli_audit_commands, 0},
	{"self-test", "check the command table", "self-test", cmd_self_test, NULL, CLI_HIDDEN},
	{NULL, NULL, NULL, NULL, NULL, 0},
};
