-- What a database scan, 'candidate propose' and a rollout leave, for the
-- report's findings, compliance and wave sections (tests/report/report.sh;
-- the rows src/detect and src/rollout write, put in by hand). Hosts web1
-- and db1 and candidate sec-good exist already.
BEGIN;
INSERT INTO scans(id, started_at, seconds, hosts, scanned, findings)
  VALUES (1, '2026-01-01T00:00:00Z', 1.0, 2, 2, 3);
INSERT INTO host_scans(host_id, scan_id, scanned_at, evaluated_at, release, arch)
  SELECT id, 1, '2026-01-11T00:00:00Z', '2026-01-11T00:00:00Z', 'bookworm', 'amd64' FROM hosts;
INSERT INTO upgrades(id, sig, release, package, arch, installed, candidate, source,
  installed_source, candidate_source, cves, severity, cvss, epss, kev) VALUES
  (1, 'u1', 'bookworm', 'pl-good', 'all', '0.9', '1.0', 'pl-good', '0.9', '1.0',
   '["CVE-2026-0001","CVE-2026-0002"]', 'high', 8.1, 0.2, 1),
  (2, 'u2', 'bookworm', 'openssl', 'amd64', '3.0.1', '3.0.2', 'openssl', '3.0.1', '3.0.2',
   '["CVE-2025-9999"]', 'medium', 5.0, 0.01, 0);
INSERT INTO upgrade_cves(upgrade_id, cve, urgency, cvss, epss, kev) VALUES
  (1, 'CVE-2026-0001', 'high', 8.1, 0.2, 1), (1, 'CVE-2026-0002', 'medium', 5.5, 0.1, 0),
  (2, 'CVE-2025-9999', 'medium', 5.0, 0.01, 0);
-- web1: one open high finding seen 30 days ago (past the 14-day SLA);
-- db1: a medium one resolved after 4 days, none open
INSERT INTO findings(id, host_id, upgrade_id, priority, level, first_seen, last_seen, resolved_at)
  VALUES (1, (SELECT id FROM hosts WHERE name = 'web1'), 1, 88, 'P1', '2025-12-12T08:00:00Z',
          '2026-01-11T00:00:00Z', NULL),
         (2, (SELECT id FROM hosts WHERE name = 'db1'), 2, 40, 'P3', '2026-01-01T00:00:00Z',
          '2026-01-05T00:00:00Z', '2026-01-05T00:00:00Z');
INSERT INTO candidate_findings(candidate_id, finding_id, patch_id)
  SELECT c.id, 1, cp.patch_id FROM candidates c JOIN candidate_patches cp ON cp.candidate_id = c.id
  WHERE c.name = 'sec-good';
-- sec-good's rollout: the canary wave went through on web1, the pilot
-- wave was rolled back on db1
INSERT INTO rollouts(id, name, candidate_id, state, policy_name, policy_file, policy_json,
  created_at, updated_at)
  SELECT 1, 'sec-good', id, 'halted', 'rollout-test', '(test)', '{}', '2026-01-11T00:00:00Z',
         '2026-01-11T06:00:00Z' FROM candidates WHERE name = 'sec-good';
INSERT INTO waves(id, rollout_id, seq, name, executor, rule, state, window_name, window_start,
  window_end, min_soak) VALUES
  (1, 1, 1, 'canary', 'libvirt', '{}', 'succeeded', 'weekly', 1768089600, 1768104000, 3600),
  (2, 1, 2, 'pilot', 'libvirt', '{}', 'failed', 'weekly', 1768111200, 1768125600, 3600);
INSERT INTO wave_targets(rollout_id, wave_id, host_id, host, state, started_at, finished_at)
  VALUES (1, 1, (SELECT id FROM hosts WHERE name = 'web1'), 'web1', 'succeeded',
          '2026-01-11T01:00:00Z', '2026-01-11T01:07:30Z'),
         (1, 2, (SELECT id FROM hosts WHERE name = 'db1'), 'db1', 'rolled-back',
          '2026-01-11T05:00:00Z', '2026-01-11T05:09:00Z');
COMMIT;
