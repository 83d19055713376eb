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
	{"scan", "find the patches every host misses, or those of one dpkg status file",
	 "scan [--host H ...] [--format text|json]\n"
	 "scan --dpkg-status FILE --packages FILE [--packages FILE ...] [--feed FILE ...]\n"
	 "     [--release NAME] [--format tsv|json]\n"
	 "\n"
	 "Without --dpkg-status and --packages: the database scan. Every host of the\n"
	 "inventory (or each --host) against the synced indexes of its release\n"
	 "(os_version 12 is bookworm: bookworm, bookworm-updates, bookworm-security;\n"
	 "its arch, else its packages' most common one, plus all) and the feeds in\n"
	 "the database: each installed package with a newer candidate is a finding,\n"
	 "with the CVEs the update fixes for that release, their severity, CVSS,\n"
	 "EPSS, KEV and a priority 0-100 (see 'patchlab findings'). The findings of\n"
	 "the scanned hosts are replaced in one transaction: a finding that persists\n"
	 "keeps its first_seen, one that is gone is marked resolved. Prints hosts\n"
	 "scanned, findings (new, changed, resolved), by severity and priority, the\n"
	 "unfixed CVEs and the seconds. A host that is not Debian, has no release,\n"
	 "no packages or no synced index of its release is skipped with a note and\n"
	 "keeps its findings; then the exit is 1.\n"
	 "\n"
	 "With them, one shot, no database: compares dpkg's status file with\n"
	 "Packages indexes (plain, gzip or xz, told apart by content) and lists each\n"
	 "installed package whose candidate (the highest version of the same name\n"
	 "and architecture, as apt picks with default pins) is newer. With --feed (Debian Security Tracker\n"
	 "JSON, or OSV advisories: a .json file, a directory or a .zip of them, whose\n"
	 "ECOSYSTEM ranges for the release's Debian:N count; see src/detect/detect.h),\n"
	 "a CVE of the installed SOURCE package counts as fixed by the upgrade\n"
	 "when it is resolved in --release (default: VERSION_CODENAME of\n"
	 "/etc/os-release, else bookworm) at a source version above the installed\n"
	 "one and not above the candidate's. severity is the highest urgency among\n"
	 "those CVEs (unimportant < low < medium < high; \"not yet assigned\" is\n"
	 "medium); the one-shot priority column is the same word (the database\n"
	 "scan scores priorities).\n"
	 "TSV (default): package, arch, installed, candidate, cves, severity,\n"
	 "priority, '-' when empty. JSON adds the source versions and lists open\n"
	 "and undetermined CVEs of installed packages under \"unfixed\".\n"
	 "Exit 2 on a missing or malformed input, naming the file and line.",
	 cmd_scan, NULL, 0},
	{"findings", "the findings of the last scans, by priority",
	 "findings [--host H] [--role R] [--top N] [--min-priority P] [--resolved|--all]\n"
	 "     [--format text|json]\n"
	 "findings --unfixed --host H [--format text|json]\n"
	 "\n"
	 "Open findings (--resolved: those resolved, --all: both), highest priority\n"
	 "first (ties: host, package, arch). P is P1..P4, critical, high, medium,\n"
	 "low or a score 0-100. The priority (src/risk/risk.h, README) is\n"
	 "10 x base x threat x kev x exposure x environment x controls, capped at\n"
	 "100, at least 70 for a KEV CVE: base is the highest CVSS v3 score of the\n"
	 "CVEs fixed (the tracker urgency where a CVE has no vector), threat comes\n"
	 "from EPSS, the rest from the host's controls and environment. JSON adds\n"
	 "each finding's factors. --unfixed lists the open and undetermined CVEs of\n"
	 "the host's installed sources (no fix in the release yet).",
	 cmd_findings, NULL, 0},
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
	{"publish", "a wave's signed apt repository: publish, roll back, show",
	 "publish SUBCOMMAND ...", NULL, cli_publish_commands, 0},
	{"export", "exports for fleets outside libvirt: an Ansible inventory and playbook",
	 "export SUBCOMMAND ...", NULL, cli_export_commands, 0},
	{"approve", "record a CAB approval; approve the candidate once every requirement is met",
	 "approve NAME --as USER [--role ROLE] --note TEXT [--policy FILE] [--format text|json]\n"
	 "\n"
	 "Records USER's approval as ROLE (default: the policy's first role) on the\n"
	 "candidate's current lab evidence, and moves it to 'approved' when every\n"
	 "requirement of the policy's \"promotion\" object is then met (else it stays\n"
	 "'passed', the approval recorded). Refused (exit 2, saying why) when the\n"
	 "candidate was never tested, is being tested, its latest lab verdict on an\n"
	 "image is a fail that no waiver covers, it is rejected or approved already,\n"
	 "or USER approved it already. One transaction with its audit entries.",
	 cmd_approve, NULL, 0},
	{"reject", "reject a candidate, with a note",
	 "reject NAME --as USER [--role ROLE] --note TEXT [--policy FILE] [--format text|json]\n"
	 "\n"
	 "Records the rejection and moves the candidate to 'rejected' (from passed,\n"
	 "failed, approved or scheduled). A rejected candidate is never promoted.",
	 cmd_reject, NULL, 0},
	{"waive", "accept one failed or missing check of a candidate, if the policy allows",
	 "waive NAME --check CHECK --as USER --reason TEXT [--policy FILE] [--format text|json]\n"
	 "\n"
	 "CHECK is a lab check (\"boot/ports\") that failed or is missing in the\n"
	 "candidate's latest lab run on some image, or \"soak\" while the soak time\n"
	 "runs. Only checks the policy lists under promotion.waivers.checks (with\n"
	 "\"allowed\": true) can be waived; a failed lab verdict becomes acceptable\n"
	 "only when every failed or missing required check of that run is waived.",
	 cmd_waive, NULL, 0},
	{"gate", "the promotion gate: may a candidate be promoted", "gate SUBCOMMAND ...", NULL,
	 cli_gate_commands, 0},
	{"schedule", "plan an approved candidate's rollout in waves over the next windows",
	 "schedule NAME [--policy FILE] [--lab FILE] [--gate-policy FILE] [--as USER]\n"
	 "         [--format text|json]\n"
	 "\n"
	 "Assigns the inventory's hosts to the rollout policy's waves (by role,\n"
	 "environment and tags; sorted by name, each host in one wave; a count or\n"
	 "a share of the matching hosts) and gives each wave the next maintenance\n"
	 "window that opens after the previous wave's window and soak (PATCHLAB_NOW\n"
	 "pins the clock). The policy is policies/rollout-default.json (built in)\n"
	 "unless --policy; --lab (smoke checks for the targets' smoke boot) and\n"
	 "--gate-policy (how it is judged) default to the built-in ones. Stores the\n"
	 "plan and moves the candidate to 'scheduled' in one transaction with its\n"
	 "audit entry. Refused (exit 2, saying why) unless the candidate is\n"
	 "approved; exit 2 for a policy without waves or hosts.",
	 cmd_schedule, NULL, 0},
	{"rollout", "rollouts: status, list, halt, resume, run-due", "rollout SUBCOMMAND ...", NULL,
	 cli_rollout_commands, 0},
	{"report", "the CAB's report: candidates, lab runs, hosts, compliance",
	 "report [--candidate NAME] [--since DATE] [--format html|json|csv|junit]\n"
	 "       [--output FILE] [--policy FILE]\n"
	 "\n"
	 "Per candidate its patches, the CVEs it closes, every lab run with its\n"
	 "stage timings and checks, the verdict, the promotion requirements (the\n"
	 "gate policy, built-in unless --policy), approvals and rollout waves; per\n"
	 "host the deployed patches, failures and rollbacks; compliance figures\n"
	 "(hosts fully patched, mean time to patch and findings past their SLA by\n"
	 "severity). html (default): one self-contained page with inline SVG\n"
	 "charts; json: the whole model; csv: one RFC 4180 table with a 'record'\n"
	 "column (candidate, run, host, compliance); junit: lab runs as testcases\n"
	 "and failed checks as failures, with the evidence path. --since keeps\n"
	 "candidates changed or tested since DATE (YYYY-MM-DD[THH:MM[:SS]Z]).\n"
	 "--output writes FILE atomically instead of standard output.",
	 cmd_report, NULL, 0},
	{"serve", "the CAB dashboard and JSON API over HTTP",
	 "serve [--listen ADDR:PORT] [--threads N] [--max-body SIZE] [--policy FILE]\n"
	 "      [--rollout-policy FILE] [--access-log] [--run-due SECONDS]\n"
	 "\n"
	 "Serves the dashboard (candidates with their evidence and change record,\n"
	 "findings, inventory and drift, rollouts and the calendar, the audit log,\n"
	 "the report) and a JSON API under /api/ (GET /api/candidates,\n"
	 "/api/candidates/NAME, POST /api/candidates/NAME/approve|reject with\n"
	 "{\"note\": TEXT}, /api/hosts, /api/drift, /api/findings, /api/calendar,\n"
	 "/api/audit, /api/report, /api/whoami) until SIGINT or SIGTERM. Default\n"
	 "--listen 127.0.0.1:8080; port 0 picks a free port, printed on the first\n"
	 "line. Users come from 'patchlab user add'; browsers log in at /login,\n"
	 "scripts send 'Authorization: Bearer TOKEN' ('patchlab user token').\n"
	 "Reading needs a user, approve and reject the cab role (as the policy's\n"
	 "'cab' approver). Request bodies over --max-body (default 64K) get 413.\n"
	 "--run-due SECONDS (10 to 86400) also executes what is due in the\n"
	 "rollouts every SECONDS, as 'rollout run-due' from a timer does; each\n"
	 "pass is a line of the access log.",
	 cmd_serve, NULL, 0},
	{"user", "dashboard users: add, list, remove, token", "user SUBCOMMAND ...", NULL,
	 cli_user_commands, 0},
	{"self-test", "check the command table", "self-test", cmd_self_test, NULL, CLI_HIDDEN},
	{NULL, NULL, NULL, NULL, NULL, 0},
};
