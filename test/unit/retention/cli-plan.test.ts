// `regman retention plan` as a child process: the JSON contract, the table, and exit code 2 on bad input.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIX = 'test/fixtures/retention';
// The full CLI (bin/regman.ts) also loads the copy command; until that file exists, a program with only
// the retention command (same registerRetention, same runCli) stands in.
const ENTRY = existsSync(`${ROOT}bin/commands/copy.ts`) ? 'bin/regman.ts' : `${FIX}/retention-cli.ts`;
const TSX = `${ROOT}node_modules/.bin/tsx`;

function regman(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [ENTRY, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const plan = (policy: string, ...extra: string[]) =>
  regman(['retention', 'plan', '--policy', `${FIX}/${policy}`, '--inventory', `${FIX}/inventory.json`, '--now', '2024-06-01T00:00:00Z', ...extra]);

interface Json {
  expire: { digest: string; tags: string[]; rule: string; reason: string }[];
  keep: { digest: string; tags: string[]; reason: string }[];
  bytesFreed: number;
  blocked: unknown;
}

describe('regman retention plan', () => {
  it('prints the JSON contract for a regman YAML policy', async () => {
    // Act
    const { code, stdout, stderr } = await plan('policy.yaml', '--json');
    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as Json;
    expect(Object.keys(json).slice(0, 3)).toEqual(['expire', 'keep', 'bytesFreed']);
    for (const e of json.expire) expect(Object.keys(e)).toEqual(['digest', 'tags', 'rule', 'reason']);
    for (const k of json.keep) expect(Object.keys(k)).toEqual(['digest', 'tags', 'reason']);
    expect(json.expire.map((e) => e.tags.join(','))).toEqual(['', '', 'nightly-20240201', '', '']);
    expect(json.expire.filter((e) => e.rule === 'delete.olderThanDays')).toHaveLength(4);
    expect(json.keep.find((k) => k.tags.includes('v1.0.0'))?.reason).toMatch(/^tag v1\.0\.0 matches preserved regex/);
    // dangling-app + two nightly app layers + the SBOM; the shared base layers stay with kept images.
    expect(json.bytesFreed).toBe(6_600_000 + 6_000_000 + 6_100_000 + 90_000);
    expect(json.blocked).toBeNull();
  });

  it('reads an ECR lifecycle policy and a GitLab cleanup policy from the same inventory', async () => {
    const ecr = JSON.parse((await plan('ecr-lifecycle.json', '--json', '--force')).stdout) as Json;
    // Rule 1 claims v1.0.0; rule 2 expires the dangling image; rule 3 keeps the 2 newest and expires the nightly index.
    expect(ecr.expire.filter((e) => e.tags.length > 0).map((e) => [e.tags[0], e.rule])).toEqual([['nightly-20240201', 'ecr:rule-3']]);
    expect(ecr.expire.some((e) => e.rule === 'ecr:rule-2' && /Expire untagged images after 14 days/.test(e.reason))).toBe(true);
    const gitlab = JSON.parse((await plan('gitlab-cleanup.json', '--json')).stdout) as Json;
    expect(gitlab.expire.filter((e) => e.tags.length > 0).map((e) => e.tags[0])).toEqual(['ci-4711', 'nightly-20240201']);
  });

  it('prints a readable table without --json', async () => {
    const { code, stdout } = await plan('policy.yaml');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^repository shop\/api · policy regman · now 2024-06-01T00:00:00.000Z/);
    expect(stdout).toMatch(/ACTION\s+DIGEST\s+TAGS\s+RULE\s+REASON/);
    expect(stdout).toMatch(/expire\s+sha256:\w{12}\s+nightly-20240201\s+delete\.olderThanDays\s+pushed 120 days ago, older than 60 days/);
    expect(stdout).toMatch(/5 to expire, 7 to keep; bytes freed 17\.9 MiB\n$/);
  });

  it.each([
    { name: 'an invalid ECR policy', args: ['--policy', `${FIX}/bad-ecr-lifecycle.json`], message: /invalid ecr policy test\/fixtures\/retention\/bad-ecr-lifecycle\.json:\n {2}rules\[1\]\.selection: tagStatus tagged needs tagPrefixList or tagPatternList; AWS: "If you specify tagged/ },
    { name: 'a YAML syntax error', args: ['--policy', `${FIX}/bad-syntax.yaml`], message: /policy test\/fixtures\/retention\/bad-syntax\.yaml is not valid YAML/ },
    { name: 'a missing policy file', args: ['--policy', `${FIX}/nope.json`], message: /cannot read policy test\/fixtures\/retention\/nope\.json: ENOENT/ },
    { name: 'an invalid inventory', args: ['--policy', `${FIX}/policy.yaml`, '--inventory', `${FIX}/bad-inventory.json`], message: /invalid inventory test\/fixtures\/retention\/bad-inventory\.json:\n {2}images\[0\]\.digest: a sha256 digest needs 64 lowercase hex characters \(got "sha256:1234"\)\n {2}images\[1\]\.pushedAt: not an ISO-8601 date-time/ },
    { name: 'a bad --now', args: ['--policy', `${FIX}/policy.yaml`, '--now', 'tomorrow'], message: /--now tomorrow is not an ISO-8601 date-time/ },
  ])('exits 2 and names the file and the bad path on $name', async ({ args, message }) => {
    const base = ['retention', 'plan', '--inventory', `${FIX}/inventory.json`, '--json'];
    const { code, stdout, stderr } = await regman([...base, ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: /);
    expect(stderr).toMatch(message);
  });

  it('reports every problem of an invalid ECR policy at once, each with its AWS rule', async () => {
    const { stderr } = await regman(['retention', 'plan', '--inventory', `${FIX}/inventory.json`, '--policy', `${FIX}/bad-ecr-lifecycle.json`]);
    expect(stderr).toMatch(/rules\[0\]\.rulePriority: a tagStatus any rule must have the highest rulePriority; AWS: "A rule with a tagStatus value of any must have the highest value/);
    expect(stderr).toMatch(/rules\[1\]\.selection: tagStatus tagged needs tagPrefixList or tagPatternList/);
    expect(stderr).toMatch(/\nTry: see docs\/RETENTION\.md for the accepted policy formats/);
  });

  it('reports a blocked plan past the safety valve, and plans it with --force', async () => {
    const blocked = JSON.parse((await plan('policy.yaml', '--json', '--max-delete-share', '0.2')).stdout) as { blocked: { reason: string } | null };
    expect(blocked.blocked?.reason).toMatch(/expires 2 of 5 images in shop\/api \(40\.0%\), more than the allowed 20\.0%/);
    const forced = JSON.parse((await plan('policy.yaml', '--json', '--max-delete-share', '0.2', '--force')).stdout) as { blocked: unknown };
    expect(forced.blocked).toBeNull();
  });
});
