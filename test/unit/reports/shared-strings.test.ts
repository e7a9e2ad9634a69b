// The pool the main thread shares the workers' repeated strings through (functions/reports/shared-strings.ts): the parts merge into the same report, and only the repeated fields are pooled.
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../functions/audit/audit-log.ts';
import { InMemoryAuditStore } from '../../../functions/audit/memory-store.ts';
import type { AuditRecordInput, StoredAuditRecord } from '../../../functions/audit/types.ts';
import { ComplianceAccumulator, type ComplianceParts } from '../../../functions/reports/compliance.ts';
import { StringPool, shareStrings } from '../../../functions/reports/shared-strings.ts';

const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const at = (min: number): string => new Date(T0 + min * 60_000).toISOString();
const period = { since: at(0), until: at(1000), protectedEnvironments: ['prod'] };

/** Two repositories' promotion runs into prod (one rejected by its approver), a quarantine and a bad webhook signature. */
function inputs(): AuditRecordInput[] {
  const out: AuditRecordInput[] = [];
  for (let k = 0; k < 6; k++) {
    const exec = `exec-${k}`;
    const repository = `team/app-${k % 2}`;
    const base = { correlationId: exec, repository, digest: `sha256:${String(k).repeat(64)}`, tags: ['v1', `prod-${k}`], details: { to: 'prod', from: 'staging', executionId: exec } };
    out.push({ ...base, actor: 'cli:alice', action: 'promote.validate', outcome: 'success', time: at(k * 10) });
    out.push({ ...base, actor: 'system:promotion', action: 'promote.scan', outcome: 'success', time: at(k * 10 + 1), details: { ...base.details, summary: '0 critical' } });
    out.push({ ...base, actor: 'bob@example.com', action: k === 3 ? 'approval.reject' : 'approval.approve', outcome: 'success', time: at(k * 10 + 2), details: { ...base.details, comment: k === 3 ? 'x'.repeat(300) : 'LGTM' } });
    out.push({ ...base, actor: 'system:promotion', action: 'promote.record', outcome: k === 3 ? 'rejected' : 'success', time: at(k * 10 + 3) });
  }
  out.push({ actor: 'cli:carol', action: 'quarantine.add', outcome: 'success', correlationId: 'q', repository: 'team/app-1', digest: `sha256:${'a'.repeat(64)}`, time: at(90) });
  out.push({ actor: 'webhook:github', action: 'webhook.request', outcome: 'rejected', correlationId: 'wh', errorCode: 'BAD_SIGNATURE', time: at(91) });
  return out;
}

async function stored(): Promise<StoredAuditRecord[]> {
  const log = new AuditLog(new InMemoryAuditStore());
  for (const r of inputs()) await log.append(r);
  return log.query({});
}

/** One accumulator's parts, with its runs closed (as a worker sends them) or open. */
function partsOf(records: readonly StoredAuditRecord[], close: boolean): ComplianceParts {
  const acc = new ComplianceAccumulator(period);
  for (const r of records) acc.add(r);
  if (close) for (const p of new Set(records.map((r) => r.partition))) acc.closeChain(p);
  return acc.parts();
}

const report = (parts: readonly ComplianceParts[]) => {
  const acc = new ComplianceAccumulator(period);
  for (const p of parts) acc.merge(p);
  return acc.finish({ ok: true, checked: 0, broken: [], partitions: [], emptyPartitions: [] });
};

describe('shareStrings', () => {
  it('leaves the parts as they were: the merged report is the same, finished and open runs alike', async () => {
    const records = await stored();
    // Two workers: each reads its own chains (repositories), and its parts arrive as a structured clone.
    const byWorker = [records.filter((r) => r.partition.endsWith('app-0')), records.filter((r) => !r.partition.endsWith('app-0'))];
    for (const close of [true, false]) {
      const expected = report(byWorker.map((w) => partsOf(w, close)));
      expect(expected.promotions.length).toBe(6);
      const pool = new StringPool();
      const shared = byWorker.map((w) => shareStrings(structuredClone(partsOf(w, close)), pool));
      expect(shared).toEqual(byWorker.map((w) => partsOf(w, close)));
      expect(report(shared)).toEqual(expected);
    }
  });

  it('pools the repeated fields once each, and no hash, digest, time, id or long comment', async () => {
    const records = await stored();
    const pool = new StringPool();
    shareStrings(structuredClone(partsOf(records, true)), pool);
    const pooled = pool.size;
    // A second worker's copy of the same values adds nothing.
    shareStrings(structuredClone(partsOf(records, true)), pool);
    expect(pool.size).toBe(pooled);
    for (const s of ['prod', 'staging', 'team/app-0', 'team/app-1', 'cli:alice', 'bob@example.com', 'LGTM', 'v1', 'prod-4', 'promote.validate', 'approval.reject', 'rejected', 'quarantine', 'repo#team/app-0']) expect(pool.has(s), s).toBe(true);
    for (const r of records) {
      expect(pool.has(r.hash)).toBe(false);
      expect(pool.has(r.time)).toBe(false);
      expect(pool.has(r.correlationId)).toBe(false);
      if (r.digest) expect(pool.has(r.digest)).toBe(false);
    }
    expect(pool.has('x'.repeat(300))).toBe(false);
  });

  it('passes long strings through without pooling them', () => {
    const pool = new StringPool();
    const long = 'y'.repeat(257);
    expect(pool.share(long)).toBe(long);
    expect(pool.share('y'.repeat(256))).toBe('y'.repeat(256));
    expect(pool.share(undefined)).toBeUndefined();
    expect(pool.size).toBe(1);
  });
});
