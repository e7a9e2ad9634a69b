// The usage model over known records and inventories: storage over time, pushes, pulls and the most pulled, lag percentiles and failures per target, the DLQ backlog, bad input.
import { describe, expect, it } from 'vitest';
import type { StoredAuditRecord } from '../../../functions/audit/types.ts';
import { ReportError } from '../../../functions/reports/errors.ts';
import { UsageAccumulator, percentile, seriesDays, type UsageRegistryInput } from '../../../functions/reports/usage/model.ts';
import { usageMarkdown } from '../../../functions/reports/usage/render.ts';
import type { InventoryImage } from '../../../functions/retention/types.ts';

const d = (n: number): string => `sha256:${String(n).padStart(64, '0')}`;
let seq = 0;
const rec = (r: Partial<StoredAuditRecord> & Pick<StoredAuditRecord, 'action' | 'time'>): StoredAuditRecord => ({
  actor: 'event:aws.ecr', outcome: 'success', correlationId: `c${seq}`, partition: 'repo#team/app', seq: ++seq, prevHash: '', hash: '', ...r,
});
const img = (digest: string, tags: string[], pushedAt: string, blobs: [number, number][]): InventoryImage => ({ digest, tags, pushedAt, lastPulledAt: null, blobs: blobs.map(([n, size]) => ({ digest: d(n), size })) });

const SINCE = '2026-03-01T00:00:00.000Z';
const UNTIL = '2026-03-04T00:00:00.000Z';

/** Pushed v1 on day 1 (layers 1+2), v2 on day 3 (layer 1 shared + 3): storage grows by layer 3 only. */
const appImages = [img(d(100), ['v1'], '2026-03-01T10:00:00Z', [[1, 1000], [2, 200]]), img(d(101), ['v2'], '2026-03-03T10:00:00Z', [[1, 1000], [3, 50]])];

const replicate = (target: string, eventTime: string, time: string, extra: Partial<StoredAuditRecord> = {}): StoredAuditRecord =>
  rec({ action: 'replicate', source: 'src', target, repository: 'team/app', digest: d(100), tags: ['v1'], bytes: 1200, time, details: { eventTime }, ...extra });

describe('usage report', () => {
  it('rebuilds storage per day from push times and later deletes, counting shared blobs once', () => {
    // Prepare: a 300-byte image deleted on day 2 was stored on day 1.
    const acc = new UsageAccumulator({ since: SINCE, until: UNTIL });
    acc.add(rec({ action: 'retention.delete', registry: 'src', repository: 'team/app', digest: d(99), bytes: 300, time: '2026-03-02T12:00:00.000Z', actor: 'system:retention' }));
    // Act
    const r = acc.finish([{ name: 'src', kind: 'oci', repositories: [{ repository: 'team/app', images: appImages }] }], []);
    // Assess
    expect(r.storage).toEqual([{ registry: 'src', repository: 'team/app', bytes: 1250, series: [{ day: '2026-03-01', bytes: 1500 }, { day: '2026-03-02', bytes: 1200 }, { day: '2026-03-03', bytes: 1250 }] }]);
  });

  it('counts push events per image (one correlation id each), copies, bytes, failures and lag per target, in any record order', () => {
    // Prepare: push 1 replicated to east (2 s) and west (10 s); push 2 to east (4 s) and failed to west; a skipped no-op.
    const acc = new UsageAccumulator({ since: SINCE, until: UNTIL });
    acc.add(replicate('east', '2026-03-01T10:00:00.000Z', '2026-03-01T10:00:02.000Z', { correlationId: 'p1' }));
    acc.add(replicate('west', '2026-03-01T10:00:00.000Z', '2026-03-01T10:00:10.000Z', { correlationId: 'p1' }));
    acc.add(replicate('east', '2026-03-02T10:00:00.000Z', '2026-03-02T10:00:04.000Z', { correlationId: 'p2' }));
    acc.add(replicate('west', '2026-03-02T10:00:00.000Z', '2026-03-02T10:00:30.000Z', { correlationId: 'p2', outcome: 'failure', errorCode: 'UNREACHABLE', bytes: 0 }));
    acc.add(replicate('east', '2026-03-02T11:00:00.000Z', '2026-03-02T11:00:01.000Z', { correlationId: 'p3', outcome: 'skipped' }));
    acc.add(rec({ action: 'sync', source: 'src', target: 'west', bytes: 500, time: '2026-03-03T00:00:00.000Z' }));
    // An older failure read later (a scan returns pages in any order): the newest stays the last failure.
    acc.add(rec({ action: 'reconcile', source: 'src', target: 'west', outcome: 'failure', errorCode: 'TIMEOUT', time: '2026-03-01T12:00:00.000Z' }));
    // Outside the period: ignored.
    acc.add(replicate('east', '2026-02-01T10:00:00.000Z', '2026-02-01T10:00:02.000Z', { correlationId: 'old' }));
    // Act
    const r = acc.finish([], undefined);
    // Assess
    expect(r.records).toBe(7);
    expect(r.pushes).toEqual([{ registry: 'src', repository: 'team/app', pushes: 2, images: [{ digest: d(100), tags: ['v1'], pushes: 2 }] }]);
    expect(r.replication).toEqual([
      { target: 'east', copies: 2, bytes: 2400, failures: 0, lag: { count: 2, p50Ms: 2000, p95Ms: 4000, maxMs: 4000 } },
      { target: 'west', copies: 2, bytes: 1700, failures: 2, lag: { count: 1, p50Ms: 10_000, p95Ms: 10_000, maxMs: 10_000 }, lastFailure: { time: '2026-03-02T10:00:30.000Z', repository: 'team/app', errorCode: 'UNREACHABLE' } },
    ]);
    expect(r.deadLetters).toBeNull();
  });

  it('counts a push event once whether its copies succeeded or failed, and every failed copy as a failure of its target', () => {
    // Prepare: the records one push event per image leaves (docs/AUDIT.md: one `replicate` record per target, the event id as correlation id).
    const acc = new UsageAccumulator({ since: SINCE, until: UNTIL });
    const at = (h: number, s: number): string => `2026-03-02T${String(h).padStart(2, '0')}:00:${String(s).padStart(2, '0')}.000Z`;
    const push = (digest: number, id: string, target: string, outcome: StoredAuditRecord['outcome'], h: number, s: number, extra: Partial<StoredAuditRecord> = {}): void =>
      acc.add(replicate(target, at(h, 0), at(h, s), { correlationId: id, digest: d(digest), tags: [`t${digest}`], outcome, ...(outcome === 'success' ? {} : { bytes: 0 }), ...(outcome === 'failure' ? { errorCode: 'UNREACHABLE' } : {}), ...extra }));
    // d(1): copied to both targets.
    push(1, 'e1', 'east', 'success', 1, 2);
    push(1, 'e1', 'west', 'success', 1, 3);
    // d(2): failed to both targets, three attempts of the same event (the handler's retries keep the event id).
    for (const s of [5, 20, 40]) {
      push(2, 'e2', 'east', 'failure', 2, s);
      push(2, 'e2', 'west', 'failure', 2, s + 1);
    }
    // d(3): failed to west, then the retry of the same event copied it; east at the first attempt.
    push(3, 'e3', 'east', 'success', 3, 2);
    push(3, 'e3', 'west', 'failure', 3, 5);
    push(3, 'e3', 'west', 'success', 3, 30);
    // d(4): pushed twice (two events), the second one's copies all failed.
    push(4, 'e4a', 'east', 'success', 4, 1);
    push(4, 'e4b', 'east', 'failure', 5, 9);
    // Act
    const r = acc.finish([], undefined);
    // Assess: pushes are push events (5), not successful copies (5 of 13 records) nor records (13).
    expect(r.pushes).toEqual([{
      registry: 'src', repository: 'team/app', pushes: 5,
      images: [{ digest: d(4), tags: ['t4'], pushes: 2 }, { digest: d(1), tags: ['t1'], pushes: 1 }, { digest: d(2), tags: ['t2'], pushes: 1 }, { digest: d(3), tags: ['t3'], pushes: 1 }],
    }]);
    expect(r.replication.map((t) => [t.target, t.copies, t.failures, t.lastFailure?.time])).toEqual([['east', 3, 4, at(5, 9)], ['west', 2, 4, at(3, 5)]]);
  });

  it('sums pulls per image and repository, lists the most pulled and the unpulled, and says where pulls are unknown', () => {
    // Prepare
    const ecr: UsageRegistryInput = {
      name: 'ecr',
      kind: 'ecr',
      repositories: [{ repository: 'team/app', images: appImages }, { repository: 'team/api', images: [img(d(200), ['v1'], '2026-03-01T00:00:00Z', [[4, 10]])] }],
      pulls: new Map([
        [`team/app@${d(100)}`, [{ day: '2026-03-01', count: 3 }, { day: '2026-03-02', count: 4 }]],
        [`team/api@${d(200)}`, [{ day: '2026-03-03', count: 2 }]],
      ]),
    };
    const hub: UsageRegistryInput = { name: 'hub', kind: 'oci', repositories: [{ repository: 'x', images: [img(d(300), ['1'], '', [[5, 1]])] }] };
    // Act
    const r = new UsageAccumulator({ since: SINCE, until: UNTIL, top: 1 }).finish([ecr, hub], [
      { event: {}, error: { code: 'REPLICATION_FAILED', message: 'm' }, attempts: 3, correlationId: 'a', time: '2026-03-02T00:00:00.000Z' },
      { event: {}, error: { code: 'REPLICATION_FAILED', message: 'm' }, attempts: 3, correlationId: 'b', time: '2026-03-01T00:00:00.000Z' },
    ]);
    // Assess
    expect(r.pulls.map((p) => [p.registry, p.repository, p.pulls, p.unpulled])).toEqual([['ecr', 'team/app', 7, 1], ['ecr', 'team/api', 2, 0], ['hub', 'x', null, 0]]);
    expect(r.mostPulled.map((i) => [i.repository, i.digest, i.pulls])).toEqual([['team/app', d(100), 7]]);
    expect(r.pullsUnknown).toEqual(['hub']);
    expect(r.deadLetters).toEqual({ backlog: 2, oldest: '2026-03-01T00:00:00.000Z', byError: { REPLICATION_FAILED: 2 } });
    // An image without a push time counts from the first day.
    expect(r.storage.find((s) => s.registry === 'hub')?.series.map((p) => p.bytes)).toEqual([1, 1, 1]);
    expect(usageMarkdown(r)).toContain('| hub | x | unknown | - |');
  });

  it('counts promotion runs per environment by outcome, with lead times from request and from push to promoted', () => {
    // Prepare: e1 pushed at 10:00, requested 10:10, promoted 10:30; e2 refused by its approver (after the engine refused a
    // non-approver, which does not end the run); e3 still waiting. The workflow's record shapes (functions/promotion/deps.ts
    // auditStep, functions/approvals/service.ts); records out of order.
    const acc = new UsageAccumulator({ since: SINCE, until: UNTIL });
    const run = (executionId: string) => ({ executionId, from: 'staging', to: 'prod' });
    const step = (action: string, correlationId: string, time: string, outcome: StoredAuditRecord['outcome'] = 'success') =>
      acc.add(rec({ action, correlationId, time, outcome, digest: d(100), details: run(correlationId) }));
    const decision = (action: string, correlationId: string, time: string, outcome: StoredAuditRecord['outcome']) =>
      acc.add(rec({ action, correlationId, time, outcome, digest: d(100), actor: 'bob@example.com', details: { executionId: correlationId, requestId: correlationId, edge: 'staging->prod' } }));
    step('promote.record', 'e1', '2026-03-01T10:30:00.000Z');
    step('promote.validate', 'e1', '2026-03-01T10:10:00.000Z');
    acc.add(replicate('east', '2026-03-01T10:00:00.000Z', '2026-03-01T10:00:02.000Z', { correlationId: 'p1' }));
    step('promote.validate', 'e2', '2026-03-02T00:00:00.000Z');
    decision('approval.refused', 'e2', '2026-03-02T00:04:00.000Z', 'rejected');
    decision('approval.reject', 'e2', '2026-03-02T00:05:00.000Z', 'success');
    step('promote.validate', 'e3', '2026-03-03T00:00:00.000Z');
    step('promote.request-approval', 'e3', '2026-03-03T00:00:01.000Z');
    decision('approval.refused', 'e3', '2026-03-03T00:04:00.000Z', 'rejected');
    // A hold names the environment but no execution: not a run.
    acc.add(rec({ action: 'promote.hold-set', time: '2026-03-03T00:00:00.000Z', details: { environment: 'prod', reason: 'incident' } }));
    // Act
    const r = acc.finish([]);
    // Assess
    expect(r.promotions).toEqual([{
      environment: 'prod', runs: 3, promoted: 1, rejected: 1, failed: 0, inProgress: 1,
      leadTime: { count: 1, p50Ms: 20 * 60_000, p95Ms: 20 * 60_000, maxMs: 20 * 60_000 },
      pushToPromoted: { count: 1, p50Ms: 30 * 60_000, p95Ms: 30 * 60_000, maxMs: 30 * 60_000 },
    }]);
    expect(usageMarkdown(r)).toContain('| prod | 3 | 1 | 1 | 0 | 1 | 1200.0 s |');
  });

  it.each([
    [[], 50, null],
    [[5], 95, 5],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 95, 19],
  ])('percentile(%j, %d) = %s (nearest rank)', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('refuses a period longer than the storage series holds', () => {
    expect(seriesDays('2026-03-01T00:00:00.000Z', '2026-03-01T12:00:00.000Z')).toEqual(['2026-03-01']);
    expect(() => seriesDays('2024-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')).toThrow(ReportError);
  });
});
