// `regman hold set|release --json` and `regman quarantine release --json` print the records they wrote (the store item and the audit record), against dynalite behind a --state-dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerHold } from '../../bin/commands/hold.ts';
import { registerQuarantine } from '../../bin/commands/quarantine.ts';
import { runCli } from '../../bin/commands/run-cli.ts';
import { AuditLog, DynamoAuditStore } from '../../functions/audit/index.ts';
import { DynamoPromotionStore } from '../../functions/promotion/store.ts';
import { writeEndpoints } from '../../local/endpoints.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('hold and quarantine changes as JSON (--json)', () => {
  let db: DynaliteHandle;
  let dir: string;
  let store: DynamoPromotionStore;

  /** Runs the commands in-process as bin/regman.ts would, capturing stdout and the exit code. */
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const program = new Command('regman').option('--debug', 'print stack traces on error');
    registerHold(program);
    registerQuarantine(program);
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    try {
      await runCli(program, ['node', 'regman', ...args, '--state-dir', dir]);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const code = Number(process.exitCode ?? 0);
    process.exitCode = 0;
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    db = await startDynalite();
    dir = mkdtempSync(join(tmpdir(), 'regman-hold-json-'));
    // A "running local stack" whose DynamoDB is this dynalite: the promotion commands only need its tables.
    await writeEndpoints(dir, { registries: {}, source: '', environments: {}, dynamodb: { endpoint: db.endpoint, tables: db.tableNames }, control: 'http://127.0.0.1:9', controlToken: 'unused', pid: process.pid });
    store = new DynamoPromotionStore({ docClient: db.docClient, tables: { promotions: db.tableNames.promotions, quarantine: db.tableNames.quarantine, holds: db.tableNames.holds } });
  }, 60_000);

  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const auditRecords = async () => {
    const log = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
    const out = [];
    for await (const r of log.iterate({ order: 'oldest-first' })) out.push(r);
    return out;
  };

  it('hold set --json prints the hold written and its audit record; hold release --json the hold removed and its record', async () => {
    // Act
    const set = await cli(['hold', 'set', '--env', 'prod', '--repository', 'team/app', '--reason', 'INC-42', '--as', 'rita', '--json']);
    const stored = await store.getHold('prod', 'team/app');
    const released = await cli(['hold', 'release', '--env', 'prod', '--repository', 'team/app', '--reason', 'fixed', '--as', 'sam', '--json']);

    // Assess
    expect(set.code).toBe(0);
    const setJson = JSON.parse(set.stdout) as { hold: unknown; audit: { seq: number; hash: string; correlationId: string } };
    expect(setJson.hold).toEqual(stored);
    expect(setJson.hold).toMatchObject({ environment: 'prod', repository: 'team/app', reason: 'INC-42', by: 'rita' });
    expect(setJson.audit).toMatchObject({ actor: 'rita', action: 'promote.hold-set', outcome: 'success', repository: 'team/app', details: { environment: 'prod', reason: 'INC-42' } });
    expect(released.code).toBe(0);
    const releasedJson = JSON.parse(released.stdout) as { hold: unknown; audit: unknown };
    expect(releasedJson.hold).toEqual(stored);
    expect(releasedJson.audit).toMatchObject({ actor: 'sam', action: 'promote.hold-release', details: { environment: 'prod', reason: 'fixed' } });
    expect(await store.getHold('prod', 'team/app')).toBeUndefined();
    // The JSON is the stored audit record itself, hash and sequence included.
    const records = await auditRecords();
    expect(records.map((r) => r.action)).toEqual(['promote.hold-set', 'promote.hold-release']);
    expect([setJson.audit, releasedJson.audit]).toEqual(records);
  });

  it('without --json the same commands print their one line; releasing what is not held exits 2 and prints no JSON', async () => {
    expect((await cli(['hold', 'set', '--env', 'dev', '--repository', 'x', '--reason', 'r'])).stdout).toBe('dev x: hold set\n');
    const missing = await cli(['hold', 'release', '--env', 'dev', '--repository', 'nope', '--reason', 'r', '--json']);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toContain('dev holds no nope');
  });

  it('quarantine release --json prints the record removed and the audit record written', async () => {
    // Prepare
    const q = { digest: DIGEST, repository: 'team/app', reason: 'critical CVE', gate: 'scan', summary: '1 critical', executionId: 'promo-1', time: '2026-12-01T00:00:00.000Z' };
    await store.putQuarantine(q);

    // Act
    const out = await cli(['quarantine', 'release', DIGEST, '--reason', 'false positive', '--as', 'rita', '--json']);

    // Assess
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout) as { quarantine: unknown; audit: { seq: number; hash: string } };
    expect(json.quarantine).toEqual(q);
    expect(json.audit).toMatchObject({ actor: 'rita', action: 'promote.quarantine-release', digest: DIGEST, repository: 'team/app', details: { reason: 'false positive', gate: 'scan', summary: '1 critical' } });
    expect(json.audit).toEqual((await auditRecords()).find((r) => r.action === 'promote.quarantine-release'));
    expect(await store.getQuarantine(DIGEST)).toBeUndefined();
  });
});
