// onlyCounted says a record is only counted exactly when neither isPromotionRunRecord nor securityEventOf looks at it, and addCounted counts it as add does.
import { describe, expect, it } from 'vitest';
import type { StoredAuditRecord } from '../../../functions/audit/types.ts';
import { ComplianceAccumulator, onlyCounted, securityEventOf } from '../../../functions/reports/compliance.ts';
import { isPromotionRunRecord } from '../../../functions/reports/promotion-records.ts';

/** Every action the code writes (grep `action:` in functions/), and lookalikes of the ones the report singles out. */
const ACTIONS = [
  'replicate', 'replicate.interrupted', 'reconcile', 'copy', 'sync', 'tag', 'delete', 'retention.delete', 'retention.plan', 'event.rejected',
  'approval.request', 'approval.notify', 'approval.complete', 'approval.refused', 'approval.approve', 'approval.reject', 'approval.expire',
  'promote.validate', 'promote.scan', 'promote.scan-gate', 'promote.signature', 'promote.signature-gate', 'promote.tests', 'promote.test-gate',
  'promote.approval', 'promote.quarantine', 'promote.quarantine-release', 'promote.apply-tags', 'promote.sync', 'promote.rollback',
  'promote.rollback-env', 'promote.record', 'quarantine', 'quarantine.release', 'webhook.request', 'webhook', 'verify', 'cosign.verify',
  'audit.anchor', 'eventually.rejected',
];
const OUTCOMES = ['success', 'failure', 'rejected', 'skipped', 'partial'];
const ERROR_CODES = [undefined, 'BAD_SIGNATURE', 'THROTTLED'];
const DETAILS = [undefined, { executionId: 'arn:x' }, { reason: 'freeze', executionId: 'arn:y', comment: 'no' }];

function* records(): Generator<StoredAuditRecord> {
  let seq = 0;
  for (const action of ACTIONS)
    for (const outcome of OUTCOMES)
      for (const errorCode of ERROR_CODES)
        for (const details of DETAILS)
          yield {
            time: '2026-11-02T00:00:00.000Z', actor: 'cli:ana', action, outcome, correlationId: `c-${seq}`, repository: 'team/app',
            partition: 'repo#team/app', seq: ++seq, prevHash: '0'.repeat(64), hash: 'h',
            ...(errorCode ? { errorCode } : {}), ...(details ? { details } : {}),
          } as StoredAuditRecord;
}

describe('onlyCounted', () => {
  it('holds only for records that are neither promotion run records nor security events', () => {
    const plain = new Set(['replicate', 'replicate.interrupted', 'reconcile', 'copy', 'sync', 'tag', 'delete', 'retention.delete', 'retention.plan', 'audit.anchor']);
    for (const r of records()) {
      // The bulk of a log is only counted (so never converted by the page scanner's reader).
      if (plain.has(r.action) && r.errorCode !== 'BAD_SIGNATURE') expect(onlyCounted(r), r.action).toBe(true);
      if (!onlyCounted(r)) continue;
      expect(isPromotionRunRecord(r), r.action).toBe(false);
      expect(securityEventOf(r), `${r.action} ${r.outcome} ${r.errorCode}`).toBeUndefined();
    }
  });

  it('addCounted gives the same report as add for such records', () => {
    const options = { since: '2026-11-01T00:00:00.000Z', until: '2026-12-01T00:00:00.000Z', protectedEnvironments: ['prod'] };
    const viaAdd = new ComplianceAccumulator(options);
    const viaCounted = new ComplianceAccumulator(options);
    for (const r of records()) {
      viaAdd.add(r);
      if (onlyCounted(r)) viaCounted.addCounted({ action: r.action, outcome: r.outcome, actor: r.actor, repository: r.repository, errorCode: r.errorCode });
      else viaCounted.add(r);
    }
    expect(viaCounted.parts()).toEqual(viaAdd.parts());
  });
});
