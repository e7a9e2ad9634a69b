// The shape of the promotion workflow's audit records (`promote.<step>`) as the reports read them, and release evidence built from them.
import type { AuditJson, StoredAuditRecord } from '../audit/types.ts';

/**
 * The records of one promotion run, all with the run's `correlationId` and `details.executionId`
 * (docs/REPORTS.md, "Promotion records"), as the workflow writes them (functions/promotion/deps.ts
 * auditStep, functions/approvals/service.ts):
 * - `promote.validate`: actor = the requester; `details.from`, `details.to` (the target environment);
 *   `rejected` with an `errorCode` (FREEZE_WINDOW, HELD, QUARANTINED, ...) when policy blocks the run
 * - `promote.scan`, `promote.signature`, `promote.tests`: a gate's outcome and `details.summary`
 *   (`failure` with errorCode GATE_FAILED when it did not pass), then `promote.quarantine`
 * - `approval.request`, then `approval.approve` / `approval.reject`: actor = the approver,
 *   `details.comment`; `approval.refused`: a decision the engine refused (not an approver, ...)
 * - `promote.sync`, `promote.apply-tags`, `promote.rollback`, and `promote.record`: the run's final
 *   status (`success`, `rejected` for REJECTED or TIMED_OUT, `failure`)
 * Older names still read: `promote.request`, `promote.scan-gate` (`details.scan`),
 * `promote.signature-gate`, `promote.test-gate`, `promote.approval`, and `details.environment`.
 */
export const PROMOTE_PREFIX = 'promote.';
export const APPROVAL_PREFIX = 'approval.';

/**
 * A record of a promotion run: a workflow step or an approvals decision on its request. Holds
 * (`promote.hold-*`) and quarantine releases name no execution and are not runs.
 */
export function isPromotionRunRecord(r: Pick<StoredAuditRecord, 'action' | 'details'>): boolean {
  return (r.action.startsWith(PROMOTE_PREFIX) || r.action.startsWith(APPROVAL_PREFIX)) && typeof r.details?.executionId === 'string';
}

export interface ApprovalEvidence {
  readonly approver: string;
  readonly decision: 'approved' | 'rejected';
  readonly comment?: string;
  readonly time: string;
}

export interface GateEvidence {
  readonly outcome: string;
  readonly result?: AuditJson;
  readonly errorCode?: string;
  readonly time: string;
}

/** One release: everything an auditor keeps about one promotion of a digest into an environment. */
export interface ReleaseEvidence {
  readonly kind: 'regman.release-evidence';
  readonly version: 1;
  readonly environment: string;
  readonly from?: string;
  readonly repository: string;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly executionId: string;
  readonly requester?: string;
  readonly requestedAt?: string;
  readonly approvers: readonly ApprovalEvidence[];
  readonly scan?: GateEvidence;
  readonly signature?: GateEvidence;
  readonly test?: GateEvidence;
  /** `promoted`, `rejected` (a refusal or a blocked gate), `failed`, or `in-progress` (no final record yet). */
  readonly outcome: 'promoted' | 'rejected' | 'failed' | 'in-progress';
  readonly finishedAt?: string;
  /** The audit records this was built from, by chain position, so each can be checked against the chain. */
  readonly records: readonly { readonly partition: string; readonly seq: number; readonly hash: string; readonly action: string; readonly outcome: string; readonly actor: string; readonly time: string }[];
}

const str = (v: AuditJson | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** The target environment a promotion record names: `details.to` (an approvals record: the edge `from->to`). */
export function environmentOf(r: Pick<StoredAuditRecord, 'action' | 'details'>): string | undefined {
  const edge = str(r.details?.edge);
  return str(r.details?.to) ?? str(r.details?.environment) ?? (edge?.includes('->') ? edge.slice(edge.indexOf('->') + 2) : undefined);
}

const FINAL = new Set(['promote.record', 'promote.apply-tags', 'promote.sync', 'promote.rollback']);
/** Where each gate's result is: the step's action, then the field that holds the result. */
const GATES = {
  scan: [['promote.scan', 'summary'], ['promote.scan-gate', 'scan']],
  signature: [['promote.signature', 'summary'], ['promote.signature-gate', 'signature']],
  test: [['promote.tests', 'summary'], ['promote.test-gate', 'test']],
} as const;
const DECISIONS: Readonly<Record<string, 'approved' | 'rejected'>> = { 'approval.approve': 'approved', 'approval.reject': 'rejected' };

/** The outcome of a run: its final record's status when it has one, else what its steps say so far. */
function outcomeOf(steps: readonly StoredAuditRecord[], approvals: readonly ApprovalEvidence[]): ReleaseEvidence['outcome'] {
  const record = [...steps].reverse().find((r) => r.action === 'promote.record');
  if (record) return record.outcome === 'success' ? 'promoted' : record.outcome === 'rejected' ? 'rejected' : 'failed';
  if (steps.some((r) => r.outcome === 'rejected') || approvals.some((a) => a.decision === 'rejected')) return 'rejected';
  if (steps.some((r) => r.outcome === 'failure')) return 'failed';
  const final = [...steps].reverse().find((r) => FINAL.has(r.action));
  return final && final.outcome === 'success' ? 'promoted' : 'in-progress';
}

/** Builds release evidence from one run's records (any order; records that are not of a run are ignored). Pure. */
export function buildEvidence(records: readonly StoredAuditRecord[]): ReleaseEvidence | undefined {
  const sorted = [...records].filter((r) => r.action.startsWith(PROMOTE_PREFIX) || r.action.startsWith(APPROVAL_PREFIX)).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const steps = sorted.filter((r) => r.action.startsWith(PROMOTE_PREFIX));
  const first = steps[0] ?? sorted[0];
  const digest = sorted.find((r) => r.digest !== undefined)?.digest;
  if (!first || first.repository === undefined || digest === undefined) return undefined;
  const gate = (where: (typeof GATES)[keyof typeof GATES]): GateEvidence | undefined => {
    for (const [action, field] of where) {
      const r = [...steps].reverse().find((x) => x.action === action);
      if (!r) continue;
      const result = r.details?.[field];
      return { outcome: r.outcome, ...(result !== undefined ? { result } : {}), ...(r.errorCode ? { errorCode: r.errorCode } : {}), time: r.time };
    }
    return undefined;
  };
  const request = steps.find((r) => r.action === 'promote.validate' || r.action === 'promote.request');
  const approvers: ApprovalEvidence[] = sorted.flatMap((r): ApprovalEvidence[] => {
    const decision = r.action === 'promote.approval' ? (r.outcome === 'success' ? 'approved' : 'rejected') : DECISIONS[r.action];
    if (decision === undefined || (r.action !== 'promote.approval' && r.outcome !== 'success')) return [];
    const comment = str(r.details?.comment);
    return [{ approver: str(r.details?.approver) ?? r.actor, decision, ...(comment !== undefined ? { comment } : {}), time: r.time }];
  });
  const outcome = outcomeOf(steps, approvers);
  const from = sorted.map((r) => str(r.details?.from)).find((f) => f !== undefined);
  // The tags written at the target when the run got that far, else the tags it was asked to promote.
  const written = steps.filter((r) => r.action === 'promote.sync' || r.action === 'promote.apply-tags').flatMap((r) => r.tags ?? []);
  const tags = [...new Set(written.length > 0 ? written : steps.flatMap((r) => r.tags ?? []))];
  const final = [...steps].reverse().find((r) => FINAL.has(r.action));
  const environment = sorted.map(environmentOf).find((e) => e !== undefined);
  return {
    kind: 'regman.release-evidence',
    version: 1,
    environment: environment ?? 'unknown',
    ...(from !== undefined ? { from } : {}),
    repository: first.repository,
    digest,
    tags,
    executionId: str(first.details?.executionId) ?? first.correlationId,
    ...(request ? { requester: request.actor, requestedAt: request.time } : {}),
    approvers,
    ...optional('scan', gate(GATES.scan)),
    ...optional('signature', gate(GATES.signature)),
    ...optional('test', gate(GATES.test)),
    outcome,
    ...(final && outcome !== 'in-progress' ? { finishedAt: final.time } : {}),
    records: sorted.map((r) => ({ partition: r.partition, seq: r.seq, hash: r.hash, action: r.action, outcome: r.outcome, actor: r.actor, time: r.time })),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
