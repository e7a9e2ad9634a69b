// The reports benchmark's synthetic log writes promotion runs as the workflow does: its action names, fields and execution ids, read back by the reports as runs.
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, partitionFor, sealRecord } from '../../../functions/audit/chain.ts';
import { normalizeAuditRecord } from '../../../functions/audit/normalize.ts';
import type { AuditRecordInput, StoredAuditRecord } from '../../../functions/audit/types.ts';
import { ComplianceAccumulator, securityEventOf } from '../../../functions/reports/compliance.ts';
import { buildEvidence, isPromotionRunRecord } from '../../../functions/reports/promotion-records.ts';
import { UsageAccumulator } from '../../../functions/reports/usage/model.ts';
import { PERIOD_DAYS, PERIOD_END, frozenRun, prng, promotionRun, repositoryName, repositoryRecords } from '../../../bench/reports-data.ts';

/** What the promotion workflow writes (functions/promotion/*: `auditStep(deps, input, '<step>', …)`) and the approvals engine (functions/approvals/service.ts). */
const WORKFLOW_ACTIONS = new Set([
  'promote.validate', 'promote.scan', 'promote.signature', 'promote.tests', 'promote.quarantine', 'promote.request-approval',
  'promote.apply-tags', 'promote.sync', 'promote.rollback', 'promote.record',
  'approval.request', 'approval.approve', 'approval.reject', 'approval.refused', 'approval.notify', 'approval.complete',
]);
const EXECUTION_ID = /^promo-\d{14}-[0-9a-f]{8}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/;

function seal(inputs: readonly AuditRecordInput[]): StoredAuditRecord[] {
  let prev = GENESIS_HASH;
  return inputs.map((input, i) => {
    const sealed = sealRecord(normalizeAuditRecord(input), partitionFor({ repository: input.repository }), i + 1, prev);
    prev = sealed.hash;
    return sealed;
  });
}

const t0 = Date.parse('2026-11-10T12:00:00Z');
const minutes = (k: number): string => new Date(t0 + k * 60_000).toISOString();
const DIGEST = `sha256:${'d'.repeat(64)}`;

describe('bench/reports-data.ts promotion records', () => {
  it('a promoted run into prod: the workflow\'s actions in order, one execution id and correlation id, evidence the reports build', () => {
    // Act
    const run = seal(promotionRun('team/app', DIGEST, 's1', minutes, 'prod', false, 5000));
    const evidence = buildEvidence(run)!;

    // Assess
    expect(run.map((r) => r.action)).toEqual(['promote.validate', 'promote.scan', 'promote.signature', 'promote.tests', 'promote.request-approval', 'approval.request', 'approval.approve', 'approval.approve', 'promote.apply-tags', 'promote.sync', 'promote.record']);
    const executionId = run[0]!.details!.executionId as string;
    expect(executionId).toMatch(EXECUTION_ID);
    expect(executionId.slice(6, 20)).toBe('20261110120000');
    expect(run[0]!.correlationId).toMatch(UUID);
    expect(run.every((r) => r.correlationId === run[0]!.correlationId && r.details?.executionId === executionId && isPromotionRunRecord(r))).toBe(true);
    expect(run.filter((r) => r.action.startsWith('promote.')).every((r) => r.actor === 'cli:alice' && r.details?.from === 'staging' && r.details?.to === 'prod')).toBe(true);
    expect(run.filter((r) => r.action.startsWith('approval.')).every((r) => r.details?.edge === 'staging->prod' && r.details?.requestId === executionId)).toBe(true);
    expect(run.find((r) => r.action === 'promote.sync')).toMatchObject({ source: 'ecr-main', target: 'gar-eu', bytes: 5000, outcome: 'success' });
    expect(evidence).toMatchObject({ environment: 'prod', from: 'staging', executionId, requester: 'cli:alice', outcome: 'promoted', scan: { outcome: 'success', result: '0 critical, 1 high, 3 medium (1 allowlisted)' } });
    expect(evidence.approvers.map((a) => [a.approver, a.decision, a.comment])).toEqual([['bob@example.com', 'approved', 'LGTM'], ['carol@example.com', 'approved', 'ok']]);
  });

  it('a rejected run and a frozen one end as the workflow ends them, and are security events where the compliance report looks', () => {
    // Act
    const rejected = seal(promotionRun('team/app', DIGEST, 's2', minutes, 'staging', true, 5000));
    const frozen = seal(frozenRun('team/app', DIGEST, 's3', minutes));

    // Assess
    expect(rejected.map((r) => r.action).slice(-2)).toEqual(['approval.reject', 'promote.record']);
    expect(rejected.at(-1)).toMatchObject({ outcome: 'rejected', errorCode: 'ApprovalRejected', details: { status: 'REJECTED' } });
    expect(buildEvidence(rejected)).toMatchObject({ environment: 'staging', outcome: 'rejected', approvers: [{ approver: 'bob@example.com', decision: 'rejected', comment: 'not in the freeze' }] });
    expect(frozen.map((r) => [r.action, r.outcome, r.errorCode])).toEqual([['promote.validate', 'rejected', 'FROZEN'], ['promote.record', 'failure', 'FROZEN']]);
    expect(frozen[0]!.details!.executionId).toMatch(EXECUTION_ID);
    expect(frozen.every(isPromotionRunRecord)).toBe(true);
    expect(buildEvidence(frozen)).toMatchObject({ environment: 'prod', outcome: 'failed' });
    expect(securityEventOf(frozen[0]!)).toMatchObject({ kind: 'promotion-blocked', why: expect.stringContaining('prod is frozen from') });
  });

  it('a repository\'s generated records hold only action names the workflow writes, and the usage and compliance models count its runs', () => {
    // Prepare
    const records = seal(repositoryRecords(3, 2000, prng(7)));
    const since = new Date(PERIOD_END - PERIOD_DAYS * 86_400_000).toISOString();
    const until = new Date(PERIOD_END + 86_400_000).toISOString();

    // Act
    const usage = new UsageAccumulator({ since, until });
    const compliance = new ComplianceAccumulator({ since, until, protectedEnvironments: ['prod'] });
    for (const r of records) {
      usage.add(r);
      compliance.add(r);
    }
    const u = usage.finish([]);
    const c = compliance.finish({ ok: true, checked: records.length, broken: [], partitions: [partitionFor({ repository: repositoryName(3) })], emptyPartitions: [] });

    // Assess
    const actions = new Set(records.filter((r) => r.action.startsWith('promote.') || r.action.startsWith('approval.')).map((r) => r.action));
    expect([...actions].filter((a) => !WORKFLOW_ACTIONS.has(a))).toEqual([]);
    expect(actions).toContain('promote.validate');
    expect(records).toHaveLength(2000);
    const runs = new Set(records.filter(isPromotionRunRecord).map((r) => r.details!.executionId as string));
    expect([...runs].every((id) => EXECUTION_ID.test(id))).toBe(true);
    const byEnv = Object.fromEntries(u.promotions.map((p) => [p.environment, p]));
    expect((byEnv.prod?.runs ?? 0) + (byEnv.staging?.runs ?? 0)).toBe(runs.size);
    expect(byEnv.prod!.promoted).toBeGreaterThan(0);
    expect(byEnv.prod!.failed).toBeGreaterThan(0);
    expect(byEnv.prod!.leadTime.p50Ms).toBeGreaterThan(0);
    expect(c.promotions.length).toBe(u.promotions.find((p) => p.environment === 'prod')!.runs);
  });
});
