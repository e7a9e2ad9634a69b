// The worker-thread scan (parallel-audit-scan.ts) on dynalite: the same verify result and the same compliance report as the one-thread read, tampered, truncated, and with a run that spans chains.
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../functions/audit/audit-log.ts';
import { formatSeq } from '../../../functions/audit/chain.ts';
import { DynamoAuditStore } from '../../../functions/audit/dynamo-store.ts';
import { openDynamoAuditLog } from '../../../functions/audit/index.ts';
import type { AuditHead, AuditRecordInput } from '../../../functions/audit/types.ts';
import { complianceReport } from '../../../functions/reports/compliance-query.ts';
import { scanInWorkers, type ParallelScanSource } from '../../../functions/reports/parallel-audit-scan.ts';
import { AUDIT_TABLE } from '../../../functions/dynamo/tables.ts';
import { startDynalite, type DynaliteHandle } from '../../helpers/dynalite.ts';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const at = (min: number): string => new Date(T0 + min * 60_000).toISOString();
const digest = (n: number): string => `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`;
const period = { since: at(0), until: at(200), protectedEnvironments: ['prod'] };

/** 6 repositories' chains with replication, promotion runs into prod and staging (whole runs in one chain), and security events. */
function records(): AuditRecordInput[] {
  const out: AuditRecordInput[] = [];
  for (let i = 0; i < 48; i++) {
    const repository = `team/app-${i % 6}`;
    out.push({ actor: 'event:aws.ecr', action: i % 5 === 0 ? 'retention.delete' : 'replicate', outcome: i % 7 === 0 ? 'failure' : 'success', correlationId: `evt-${i}`, repository, digest: digest(i), source: 'ecr', target: 'gar', bytes: 1000 + i, time: at((i * 17) % 48) });
  }
  for (let k = 0; k < 8; k++) {
    const exec = `exec-${k}`;
    const repository = `team/app-${k % 6}`;
    const base = { correlationId: exec, repository, digest: digest(90 + k), details: { to: k % 3 === 0 ? 'staging' : 'prod', from: 'dev', executionId: exec } };
    out.push({ ...base, actor: 'cli:alice', action: 'promote.validate', outcome: 'success', time: at(60 + k * 10) });
    out.push({ ...base, actor: 'system:promotion', action: 'promote.scan', outcome: 'success', time: at(61 + k * 10), details: { ...base.details, summary: { critical: 0, high: k } } });
    out.push({ ...base, actor: 'bob', action: k === 2 ? 'approval.reject' : 'approval.approve', outcome: 'success', time: at(62 + k * 10), details: { ...base.details, comment: `c${k}` } });
    out.push({ ...base, actor: 'system:promotion', action: 'promote.record', outcome: k === 2 ? 'rejected' : 'success', time: at(63 + k * 10) });
  }
  out.push({ actor: 'webhook:github', action: 'webhook.request', outcome: 'rejected', correlationId: 'wh', errorCode: 'BAD_SIGNATURE', time: at(52) });
  return out;
}

let db: DynaliteHandle;
let opened: ReturnType<typeof openDynamoAuditLog>;
let oneThread: AuditLog;
let source: ParallelScanSource;

beforeAll(async () => {
  db = await startDynalite({ tables: { audit: AUDIT_TABLE } });
  oneThread = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
  for (const r of records()) await oneThread.append(r);
  opened = openDynamoAuditLog({ endpoint: db.endpoint, region: 'us-east-1', tableName: db.tableNames.audit });
  // Small pages and 2 × 2 segments: chains cross page boundaries and each worker reads two segments.
  source = { raw: opened.raw, tableName: db.tableNames.audit, workers: 2, segmentsPerWorker: 2, pageSize: 5 };
}, 60_000);

afterAll(async () => {
  opened?.close();
  await db?.stop();
});

const scan = (anchors: ReadonlyMap<string, AuditHead[]>) => scanInWorkers(source, anchors).then((r) => r.chains);

describe('the audit table read in worker threads', () => {
  it('gives the compliance report of the one-thread read, evidence and security events included', async () => {
    const expected = await complianceReport(oneThread, period);
    const got = await complianceReport(opened.log, { ...period, parallel: source });
    expect(got).toEqual(expected);
    expect(got.records).toBe(48 + 32 + 1);
    expect(got.promotions.map((p) => [p.executionId, p.outcome])).toEqual([['exec-1', 'promoted'], ['exec-2', 'rejected'], ['exec-4', 'promoted'], ['exec-5', 'promoted'], ['exec-7', 'promoted']]);
    expect(got.chain).toEqual({ ok: true, checked: 81, broken: [] });
  }, 60_000);

  it('reads again, holding every run, when a run has records in two chains, and still gives the same report', async () => {
    // Prepare: an approvals refusal without a request names exec-4 but no repository, so it is in the global chain.
    await oneThread.append({ actor: 'mallory', action: 'approval.refused', outcome: 'rejected', correlationId: 'exec-4', time: at(105), details: { executionId: 'exec-4', attempted: 'approve' } });

    const expected = await complianceReport(oneThread, period);
    const got = await complianceReport(opened.log, { ...period, parallel: source });

    expect(got).toEqual(expected);
    expect(got.promotions.find((p) => p.executionId === 'exec-4')?.records.map((r) => r.action)).toContain('approval.refused');
  }, 60_000);

  it('finds a tampered record and a truncated chain as the one-thread verify does', async () => {
    // Prepare: edit team/app-1 #3; delete the newest record of team/app-2 (its head item still names it).
    await db.docClient.send(new UpdateCommand({ TableName: db.tableNames.audit, Key: { pk: 'repo#team/app-1', sk: formatSeq(3) }, UpdateExpression: 'SET bytes = :b', ExpressionAttributeValues: { ':b': 1 } }));
    const heads = await oneThread.head({ partition: 'repo#team/app-2' });
    await db.docClient.send(new DeleteCommand({ TableName: db.tableNames.audit, Key: { pk: 'repo#team/app-2', sk: formatSeq(heads[0]!.seq) } }));

    // Act
    const expected = await oneThread.verify();
    const got = await opened.log.verify({ scan });

    // Assess
    expect(got).toEqual(expected);
    expect(got.broken.map((b) => [b.partition, b.reason])).toEqual([
      ['repo#team/app-1', 'hash-mismatch'],
      ['repo#team/app-2', 'truncated'],
    ]);
    const report = await complianceReport(opened.log, { ...period, parallel: source });
    expect(report.chain).toEqual({ ok: false, checked: expected.checked, broken: expected.broken });
  }, 60_000);

  it("names DynamoDB's error when a worker cannot read the table", async () => {
    const err = await scanInWorkers({ ...source, tableName: 'no-such-table' }, new Map()).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('ResourceNotFoundException');
    expect((err as Error).message).toMatch(/DynamoDB Scan at 127\.0\.0\.1:\d+ failed \(ResourceNotFoundException\)/);
  }, 60_000);
});

describe('a worker that runs out of its heap limit', () => {
  it('has its segments read again without a limit, with the same result', async () => {
    // Arrange: a 1 MiB old generation, which no worker can start in.
    const retries: string[] = [];
    const tiny: ParallelScanSource = { ...source, workerHeapMb: 1, onRetry: (m) => retries.push(m) };
    // Act
    const limited = await scanInWorkers(tiny, new Map());
    const unlimited = await scanInWorkers(source, new Map());
    // Assert
    expect([...limited.chains].sort()).toEqual([...unlimited.chains].sort());
    expect(limited.chains.size).toBe(7);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/segments \d, \d ran out of its 1 MiB heap; reading them again without a limit/);
  }, 60_000);
});
