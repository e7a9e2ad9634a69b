// A period without audit records is REPORT_EMPTY_PERIOD (exit 2) for the usage and cost collectors, as for compliance; a period with records but none priced is still a report.
import { describe, expect, it } from 'vitest';
import type { AuditLog, AuditQuery, StoredAuditRecord } from '../../../functions/audit/index.ts';
import type { RegmanConfig } from '../../../functions/config/index.ts';
import { collectCostReport } from '../../../functions/reports/costs/collect.ts';
import { AUDITED_ACTIONS } from '../../../functions/reports/costs/period-records.ts';
import { COST_ACTIONS } from '../../../functions/reports/costs/records.ts';
import { ReportError } from '../../../functions/reports/errors.ts';
import { collectUsageReport } from '../../../functions/reports/usage/collect.ts';

const NOW = new Date('2026-06-01T00:00:00Z');

/** A log of `records` that answers `pages` per action and `iterate` by time, like the real one, and counts what it was asked. */
class FakeLog implements Pick<AuditLog, 'pages' | 'iterate'> {
  readonly asked: AuditQuery[] = [];
  constructor(private readonly records: readonly StoredAuditRecord[]) {}

  private match(q: AuditQuery): StoredAuditRecord[] {
    const since = q.since instanceof Date ? q.since.toISOString() : q.since;
    return this.records.filter((r) => (q.action === undefined || r.action === q.action) && (since === undefined || r.time >= since));
  }

  async *pages(q: AuditQuery): AsyncIterable<StoredAuditRecord[]> {
    this.asked.push(q);
    const page = this.match(q);
    if (page.length > 0) yield page;
  }

  async *iterate(q: AuditQuery = {}): AsyncIterable<StoredAuditRecord> {
    this.asked.push(q);
    yield* this.match(q).slice(0, q.limit ?? Number.POSITIVE_INFINITY);
  }
}

const rec = (action: string, time: string): StoredAuditRecord => ({ actor: 'system:retention', action, outcome: 'success', correlationId: 'c', time, partition: 'p', seq: 1, prevHash: '', hash: '', registry: 'src', repository: 'team/app' });
// No registry to list: the collectors read the log only.
const noRegistries = { version: 1, registries: {} } as unknown as RegmanConfig;
// A registry without an adapter: reading its inventory would throw a TypeError, so an empty-period error proves none was read.
const oneRegistry = { version: 1, registries: { src: { kind: 'oci', url: 'http://127.0.0.1:1' } } } as unknown as RegmanConfig;

describe('empty periods', () => {
  it('usage: no record in [since, until) is REPORT_EMPTY_PERIOD naming the period and --since, before any inventory is read', async () => {
    const log = new FakeLog([rec('replicate', '2026-01-01T00:00:00.000Z')]);
    const err = await collectUsageReport({ config: oneRegistry, adapters: new Map(), log, since: '2026-05-01T00:00:00.000Z', until: '2026-06-01T00:00:00.000Z' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReportError);
    expect(err).toMatchObject({ code: 'REPORT_EMPTY_PERIOD', exitCode: 2, message: expect.stringMatching(/^No audit records from 2026-05-01T00:00:00\.000Z until 2026-06-01T00:00:00\.000Z: .*--since/) });
  });

  it('usage without an audit log is a report (the CLI says on stderr that none was read)', async () => {
    const report = await collectUsageReport({ config: noRegistries, adapters: new Map(), since: '2026-05-01T00:00:00.000Z', until: '2026-06-01T00:00:00.000Z' });
    expect(report.records).toBe(0);
  });

  it('costs: no record at all since --since is REPORT_EMPTY_PERIOD naming the period and --since', async () => {
    const log = new FakeLog([rec('replicate', '2026-01-01T00:00:00.000Z')]);
    await expect(collectCostReport({ config: noRegistries, adapters: new Map(), log, since: '7d', now: NOW, refuseEmptyPeriod: true })).rejects.toMatchObject({
      code: 'REPORT_EMPTY_PERIOD',
      exitCode: 2,
      message: expect.stringMatching(/^No audit records from 2026-05-25T00:00:00\.000Z until now \(2026-06-01T00:00:00\.000Z\): .*--since/),
    });
  });

  it('costs: records in the period but none priced (a dry-run plan) is a report, asked with one record at most', async () => {
    // Prepare
    const log = new FakeLog([rec('retention.plan', '2026-05-30T00:00:00.000Z')]);

    // Act
    const report = await collectCostReport({ config: noRegistries, adapters: new Map(), log, since: '7d', now: NOW, refuseEmptyPeriod: true });

    // Assess
    expect(report).toMatchObject({ since: '2026-05-25T00:00:00.000Z', transfer: { pairs: [], total: 0 } });
    // Never a time-only read (a Scan of the table): one query per action, one record at most, none after the hit.
    expect(log.asked.filter((q) => q.action === undefined)).toEqual([]);
    const probes = log.asked.filter((q) => q.limit !== undefined);
    expect(probes.every((q) => q.limit === 1 && q.since === '2026-05-25T00:00:00.000Z' && !COST_ACTIONS.includes(q.action!))).toBe(true);
    expect(probes.map((q) => q.action)).toContain('retention.plan');
    expect(probes.length).toBeLessThan(AUDITED_ACTIONS.length - COST_ACTIONS.length);
  });

  it('costs for the console (no period to widen) is a report even over an empty period', async () => {
    const report = await collectCostReport({ config: noRegistries, adapters: new Map(), log: new FakeLog([]), since: '7d', now: NOW });
    expect(report).toMatchObject({ since: '2026-05-25T00:00:00.000Z', registries: [], transfer: { pairs: [] } });
  });

  it('costs: a bad --since is REPORT_INVALID (exit 2)', async () => {
    await expect(collectCostReport({ config: noRegistries, adapters: new Map(), log: new FakeLog([]), since: 'last tuesday', now: NOW })).rejects.toMatchObject({ code: 'REPORT_INVALID', exitCode: 2 });
  });

  it('a release not found and a report too large for the console stay exit 1', () => {
    expect(new ReportError('x', { code: 'REPORT_NOT_FOUND' }).exitCode).toBe(1);
    expect(new ReportError('x', { code: 'REPORT_TOO_LARGE' }).exitCode).toBe(1);
    expect(new ReportError('x', { code: 'REPORT_UNKNOWN_REGISTRY' }).exitCode).toBe(2);
    expect(new ReportError('x', { code: 'REPORT_BAD_PRICE' }).exitCode).toBe(2);
  });
});
