// The compliance and cost reports stream the audit log: a period is read page by page in scan order, and the report is the same as from the time-sorted read.
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../functions/audit/audit-log.ts';
import { DynamoAuditStore } from '../../functions/audit/dynamo-store.ts';
import { InMemoryAuditStore } from '../../functions/audit/memory-store.ts';
import { RawDynamoClient } from '../../functions/dynamo/raw-client.ts';
import type { AuditRecordInput } from '../../functions/audit/types.ts';
import { ComplianceAccumulator } from '../../functions/reports/compliance.ts';
import { complianceReport } from '../../functions/reports/compliance-query.ts';
import { COST_FIELDS, costRecords, type CostRecord } from '../../functions/reports/costs/records.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const at = (min: number): string => new Date(T0 + min * 60_000).toISOString();
const digest = (n: number): string => `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`;

/** Records over 4 repositories, appended out of time order, with promotions and security events that share a time (ties). */
function records(): AuditRecordInput[] {
  const out: AuditRecordInput[] = [];
  for (let i = 0; i < 40; i++) {
    const repository = `team/app-${i % 4}`;
    // A permutation of the minutes, so append order is not time order.
    const time = at((i * 17) % 40);
    out.push({ actor: `event:aws.ecr`, action: i % 5 === 0 ? 'retention.delete' : 'replicate', outcome: i % 7 === 0 ? 'failure' : 'success', correlationId: `evt-${i}`, repository, digest: digest(i), source: 'ecr', target: 'gar', registry: 'ecr', bytes: 1000 + i, time });
  }
  for (const [exec, repository, minute] of [['exec-a', 'team/app-1', 50], ['exec-b', 'team/app-2', 50], ['exec-c', 'team/app-3', 45]] as const) {
    const base = { correlationId: exec, repository, digest: digest(99), details: { environment: 'prod', executionId: exec } };
    out.push({ ...base, actor: 'system:promotion', action: 'promote.record', outcome: 'success', time: at(minute + 5) });
    out.push({ ...base, actor: 'cli:alice', action: 'promote.request', outcome: 'success', time: at(minute) });
    out.push({ ...base, actor: 'bob', action: 'promote.approval', outcome: 'rejected', time: at(minute + 2), details: { ...base.details, comment: `no (${exec})` } });
  }
  out.push({ actor: 'webhook:github', action: 'webhook.request', outcome: 'rejected', correlationId: 'wh', errorCode: 'BAD_SIGNATURE', time: at(52) });
  return out;
}

describe('streaming reports over the audit log (dynalite, 4-item pages)', () => {
  let db: DynaliteHandle;
  let log: AuditLog;
  let scans = 0;
  const period = { since: at(0), until: at(120), protectedEnvironments: ['prod'] };

  beforeAll(async () => {
    db = await startDynalite({ tables: undefined });
    // Counts Scan requests on the way through, so the test sees how many pages were read.
    const counting = { send: (command: Parameters<DynamoDBDocumentClient['send']>[0]) => ((scans += command instanceof ScanCommand ? 1 : 0), db.docClient.send(command as never)) } as unknown as DynamoDBDocumentClient;
    log = new AuditLog(new DynamoAuditStore({ docClient: counting, tableName: db.tableNames.audit, pageSize: 4 }));
    for (const r of records()) await log.append(r);
  }, 60_000);

  afterAll(async () => {
    await db?.stop();
  });

  it('reads a period one page at a time with order any, where the sorted read takes every page first', async () => {
    const firstAfter = async (order: 'any' | 'oldest-first'): Promise<number> => {
      scans = 0;
      for await (const _ of log.iterate({ since: period.since, until: period.until, order })) break;
      return scans;
    };
    scans = 0;
    for await (const _ of log.iterate({ since: period.since, until: period.until, order: 'any' }));
    const pages = scans;
    const streamed = await firstAfter('any');
    const sorted = await firstAfter('oldest-first');
    // 50 records plus head and partition items, 4 per page; a page may hold only those meta items.
    expect(pages).toBeGreaterThan(12);
    expect(streamed).toBeLessThanOrEqual(2);
    expect(sorted).toBe(pages);
  });

  it('gives the same compliance report as the time-sorted read, ties included (by chain position: global before repo#…)', async () => {
    const sortedAcc = new ComplianceAccumulator(period);
    for await (const r of log.iterate({ since: period.since, until: period.until, order: 'oldest-first' })) sortedAcc.add(r);
    const expected = sortedAcc.finish(await log.verify());
    const streamed = await complianceReport(log, period);
    expect(streamed).toEqual(expected);
    expect(streamed.records).toBe(50);
    expect(streamed.promotions.map((p) => p.executionId)).toEqual(['exec-c', 'exec-a', 'exec-b']);
    expect(streamed.securityEvents.map((e) => e.why)).toEqual(['no (exec-c)', 'BAD_SIGNATURE', 'no (exec-a)', 'no (exec-b)']);
  });

  it('feeds the cost report from one index query per action, only those actions', async () => {
    const seen: string[] = [];
    for await (const page of costRecords(log, period.since)) for (const r of page) seen.push(r.action);
    expect(seen.filter((a) => a === 'replicate')).toHaveLength(32);
    expect(seen.filter((a) => a === 'retention.delete')).toHaveLength(8);
    expect(new Set(seen)).toEqual(new Set(['replicate', 'retention.delete']));
  });

  it('projects only the cost fields, the same records through the lean client, the SDK and the in-memory store', async () => {
    // Prepare: the whole records, and the same log behind the lean client and in memory.
    const whole = (await log.query({ since: period.since, order: 'oldest-first' })).filter((r) => r.action === 'replicate' || r.action === 'retention.delete');
    // What each query projects: a transfer has no use for `registry`, a deletion none for `source` and `target`.
    const wanted = (action: string): readonly string[] => (action === 'retention.delete' ? ['action', 'outcome', 'bytes', 'registry'] : ['action', 'outcome', 'bytes', 'source', 'target']);
    const expected = whole.map((r) => Object.fromEntries(COST_FIELDS.filter((f) => wanted(r.action).includes(f) && r[f] !== undefined).map((f) => [f, r[f]])));
    const raw = new RawDynamoClient({ endpoint: db.endpoint, region: 'us-east-1' });
    const memory = new AuditLog(new InMemoryAuditStore());
    for (const r of records()) await memory.append(r);
    const read = async (from: Pick<AuditLog, 'pages'>): Promise<CostRecord[]> => {
      const out: CostRecord[] = [];
      for await (const page of costRecords(from, period.since)) out.push(...page);
      return out;
    };
    const order = (rs: readonly object[]): string[] => rs.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1))))).sort();
    try {
      // Act
      const lean = await read(new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit, pageSize: 4, raw })));
      const sdk = await read(log);
      const inMemory = await read(memory);

      // Assess
      expect(lean).toHaveLength(40);
      expect(order(lean)).toEqual(order(expected));
      expect(order(sdk)).toEqual(order(expected));
      expect(order(inMemory)).toEqual(order(expected));
      for (const r of lean) expect(Object.keys(r).every((k) => wanted(r.action).includes(k))).toBe(true);
      expect(lean.filter((r) => r.action === 'retention.delete').every((r) => r.registry === 'ecr' && r.source === undefined)).toBe(true);
    } finally {
      raw.destroy();
    }
  });
});
