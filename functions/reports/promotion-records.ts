// The shape of the promotion workflow's audit records (`promote.<step>`) as the reports read them, and release evidence built from them.
import type { AuditJson, StoredAuditRecord } from '../audit/types.ts';

/**
 * Promotion records, one per step, all with the execution's id as `correlationId` (docs/REPORTS.md):
 * - `promote.request`: actor = the requester; `details.environment` (target), `details.from`, `details.executionId`
 * - `promote.scan-gate`: `details.scan` (a summary such as `{ critical, high, medium, low }`), outcome
 * - `promote.signature-gate`: `details.signature` (e.g. `{ verified, keyId }`), outcome
 * - `promote.test-gate`: `details.test` (e.g. `{ kind, status, url }`), outcome
 * - `promote.approval`: actor = the approver, outcome `success` (approved) or `rejected`, `details.comment`
 * - `promote.apply-tags`, `promote.sync`, `promote.rollback`, `promote.record`: the outcome of the run
 * Every record has `repository`, `digest`, and `details.environment`. Blocked runs (a gate, a freeze,
 * a hold) have outcome `rejected` and an `errorCode` such as `FREEZE_WINDOW` or `GATE_FAILED`.
 */
export const PROMOTE_PREFIX = 'promote.';

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

/** The target environment a promotion record names. */
export function environmentOf(r: StoredAuditRecord): string | undefined {
  return str(r.details?.environment) ?? (r.action.startsWith(PROMOTE_PREFIX) ? r.target : undefined);
}

const FINAL = new Set(['promote.record', 'promote.apply-tags', 'promote.sync', 'promote.rollback']);

/** Builds release evidence from one execution's records (any order). Pure. */
export function buildEvidence(records: readonly StoredAuditRecord[]): ReleaseEvidence | undefined {
  const sorted = [...records].filter((r) => r.action.startsWith(PROMOTE_PREFIX)).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const first = sorted[0];
  if (!first || first.repository === undefined || first.digest === undefined) return undefined;
  const gate = (action: string, field: string): GateEvidence | undefined => {
    const r = [...sorted].reverse().find((x) => x.action === action);
    if (!r) return undefined;
    const result = r.details?.[field];
    return { outcome: r.outcome, ...(result !== undefined ? { result } : {}), ...(r.errorCode ? { errorCode: r.errorCode } : {}), time: r.time };
  };
  const request = sorted.find((r) => r.action === 'promote.request');
  const approvers: ApprovalEvidence[] = sorted
    .filter((r) => r.action === 'promote.approval')
    .map((r) => {
      const comment = str(r.details?.comment);
      return { approver: str(r.details?.approver) ?? r.actor, decision: r.outcome === 'success' ? 'approved' : 'rejected', ...(comment !== undefined ? { comment } : {}), time: r.time };
    });
  const rejected = sorted.some((r) => r.outcome === 'rejected');
  const failed = sorted.some((r) => r.outcome === 'failure');
  const final = [...sorted].reverse().find((r) => FINAL.has(r.action));
  const outcome: ReleaseEvidence['outcome'] = rejected ? 'rejected' : failed ? 'failed' : final && final.outcome === 'success' ? 'promoted' : 'in-progress';
  const from = str(first.details?.from) ?? str(request?.details?.from);
  const tags = [...new Set(sorted.flatMap((r) => r.tags ?? []))];
  return {
    kind: 'regman.release-evidence',
    version: 1,
    environment: environmentOf(first) ?? 'unknown',
    ...(from !== undefined ? { from } : {}),
    repository: first.repository,
    digest: first.digest,
    tags,
    executionId: str(first.details?.executionId) ?? first.correlationId,
    ...(request ? { requester: request.actor, requestedAt: request.time } : {}),
    approvers,
    ...optional('scan', gate('promote.scan-gate', 'scan')),
    ...optional('signature', gate('promote.signature-gate', 'signature')),
    ...optional('test', gate('promote.test-gate', 'test')),
    outcome,
    ...(final && outcome !== 'in-progress' ? { finishedAt: final.time } : {}),
    records: sorted.map((r) => ({ partition: r.partition, seq: r.seq, hash: r.hash, action: r.action, outcome: r.outcome, actor: r.actor, time: r.time })),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
