// `regman report usage|costs|compliance` as a user runs them, against an audit table on dynalite and a real registry: bad input and empty periods are errors on stderr with exit 2; costs text fits a terminal.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { AUDIT_TABLE } from '../../functions/dynamo/tables.ts';
import type { CostReport } from '../../functions/reports/costs/report.ts';
import type { UsageReport } from '../../functions/reports/usage/model.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pushImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DAY = 86_400_000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('report commands: errors a user can act on', () => {
  let reg: RunningRegistry;
  let db: DynaliteHandle;
  let dir: string;
  let config: string;
  let badPrice: string;
  let conn: string[];

  /** The CLI in a child process (the dynalite answers from this one, so never a sync spawn), without this machine's REGMAN_ variables. */
  function regman(args: string[]): Promise<Run> {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGMAN_')));
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'regman.ts'), ...args], { cwd: ROOT, env: { ...env, CI: '1' }, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  beforeAll(async () => {
    [reg, db] = await Promise.all([startRegistry({}), startDynalite({ tables: { audit: AUDIT_TABLE } })]);
    await pushImage(reg, 'team/app', 'v1', { layers: [1200, 800] });
    dir = mkdtempSync(join(tmpdir(), 'regman-report-cli-'));
    config = join(dir, 'registries.yaml');
    writeFileSync(config, ['version: 1', 'registries:', '  src:', '    kind: oci', `    url: ${reg.url}`, '    public: true', ''].join('\n'));
    badPrice = join(dir, 'bad-price.yaml');
    writeFileSync(badPrice, ['version: 1', 'registries:', '  src:', '    kind: oci', `    url: ${reg.url}`, '    public: true', '    pricing:', '      storagePerGbMonth: cheap', ''].join('\n'));
    conn = ['--table', db.tableNames.audit, '--endpoint', db.endpoint, '--region', 'us-east-1'];
    // Ten days ago: one replication and one dry-run plan, no retention apply.
    const { log, close } = openDynamoAuditLog({ endpoint: db.endpoint, tableName: db.tableNames.audit, region: 'us-east-1' });
    const time = new Date(Date.now() - 10 * DAY).toISOString();
    await log.append({ actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: 'evt-1', repository: 'team/app', digest: `sha256:${'a'.repeat(64)}`, source: 'src', target: 'src', bytes: 2000, time });
    await log.append({ actor: 'system:retention', action: 'retention.plan', outcome: 'success', correlationId: 'sweep-1', registry: 'src', repository: 'team/app', time });
    close();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([reg?.stop(), db?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['usage', ['report', 'usage', '--config', 'CONFIG', '--since', '2020-01-01', '--until', '2020-02-01'], /No audit records from 2020-01-01T00:00:00\.000Z until 2020-02-01T00:00:00\.000Z: .*Widen it with --since/],
    ['usage --format json', ['report', 'usage', '--config', 'CONFIG', '--since', '2020-01-01', '--until', '2020-02-01', '--format', 'json'], /No audit records from 2020-01-01T00:00:00\.000Z until 2020-02-01T00:00:00\.000Z/],
    ['compliance', ['report', 'compliance', '--since', '2020-01-01', '--until', '2020-02-01', '--format', 'json'], /No audit records from 2020-01-01T00:00:00\.000Z until 2020-02-01T00:00:00\.000Z: nothing to report\. Widen --since\/--until/],
    ['costs', ['report', 'costs', '--config', 'CONFIG', '--since', '1d'], /No audit records from \d{4}-\d\d-\d\dT[\d:.]+Z until now .*Widen it with --since/],
    ['costs --format json', ['report', 'costs', '--config', 'CONFIG', '--since', '1d', '--format', 'json'], /No audit records from .* until now/],
  ])('%s over a period without records: exit 2, the period and --since on stderr, nothing on stdout', async (_name, args, message) => {
    // Act
    const run = await regman([...args.map((a) => (a === 'CONFIG' ? config : a)), ...conn]);

    // Assess
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: /);
    expect(run.stderr).toMatch(message);
  });

  it.each([
    ['usage', ['report', 'usage']],
    ['costs', ['report', 'costs']],
  ])('report %s --registry that is not configured: exit 2 naming the registries there are', async (_name, args) => {
    const run = await regman([...args, '--config', config, '--registry', 'nope', ...conn]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('error: --registry nope: no such registry in the config (there are: src)');
  });

  it('report costs with a price override that is not a number: exit 2 naming the file, the path and the value', async () => {
    const run = await regman(['report', 'costs', '--config', badPrice, ...conn]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(badPrice);
    expect(run.stderr).toMatch(/registries\.src\.pricing\.storagePerGbMonth/);
    expect(run.stderr).toMatch(/cheap|number/);
    expect(run.stdout).toBe('');
  });

  it('report usage and costs over a period with records still report; costs text fits a terminal and says there was no retention apply', async () => {
    // Act
    const [usage, costs, costsJson, costsMd] = await Promise.all([
      regman(['report', 'usage', '--config', config, '--since', '30d', '--format', 'json', ...conn]),
      regman(['report', 'costs', '--config', config, '--since', '30d', ...conn]),
      regman(['report', 'costs', '--config', config, '--since', '30d', '--format', 'json', ...conn]),
      regman(['report', 'costs', '--config', config, '--since', '30d', '--format', 'md', ...conn]),
    ]);

    // Assess
    expect(usage.code, usage.stderr).toBe(0);
    expect((JSON.parse(usage.stdout) as UsageReport).records).toBe(2);
    expect(costs.code, costs.stderr).toBe(0);
    expect(costs.stdout.split('\n').filter((l) => !l.includes('https://') && !l.startsWith('      $ ')).every((l) => l.length <= 100)).toBe(true);
    expect(costs.stdout).not.toContain('|');
    expect(costs.stdout).not.toMatch(/0\.000 GiB/);
    // The image's layers and manifest, each a few KiB: a human size, not "0.000 GiB".
    expect(costs.stdout).toMatch(/src\s+team\/app\s+\d\.\d KiB\s+\d\.\d KiB\s+\$0\.00/);
    expect(costs.stdout).toMatch(/^ {2}src\s+no retention apply in this period$/m);
    const report = JSON.parse(costsJson.stdout) as CostReport;
    expect(report.registries[0]!.reduction).toEqual({ before: null, after: null, saved: null, bytesFreed: 0, reason: 'no retention apply in this period' });
    expect(costsMd.stdout).toMatch(/^\| registry \| kind \| stored \|/m);
    expect(costsMd.stdout).toMatch(/^\| src \| oci \| \d\.\d KiB \| .* \| no retention apply in this period \|/m);
  });
});
