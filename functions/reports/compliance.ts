// The compliance report as a pure streaming model: totals, promotions into protected environments with evidence, security events, the chain's verification.
import { timeKeyOf } from '../audit/chain.ts';
import type { StoredAuditRecord, VerifyResult } from '../audit/types.ts';
import { ReportError } from './errors.ts';
import { PROMOTE_PREFIX, buildEvidence, environmentOf, isPromotionRunRecord, type ReleaseEvidence } from './promotion-records.ts';

export interface Count {
  readonly key: string;
  readonly total: number;
  readonly outcomes: Readonly<Record<string, number>>;
}

export type SecurityEventKind =
  | 'approval-refused'
  | 'promotion-blocked'
  | 'quarantine'
  | 'quarantine-release'
  | 'event-rejected'
  | 'bad-webhook-signature'
  | 'verification-failed';

export interface SecurityEvent {
  readonly kind: SecurityEventKind;
  readonly time: string;
  readonly actor: string;
  readonly action: string;
  readonly repository?: string;
  readonly digest?: string;
  readonly why: string;
  readonly correlationId: string;
}

export interface ComplianceReport {
  readonly kind: 'regman.compliance-report';
  readonly since: string;
  readonly until: string;
  readonly records: number;
  readonly byAction: readonly Count[];
  readonly byActor: readonly Count[];
  readonly byRepository: readonly Count[];
  readonly protectedEnvironments: readonly string[];
  readonly promotions: readonly ReleaseEvidence[];
  readonly securityEvents: readonly SecurityEvent[];
  readonly chain: { readonly ok: boolean; readonly checked: number; readonly broken: VerifyResult['broken'] };
}

/** The gate steps whose failure blocks a promotion (functions/promotion/gate-step.ts); a failed signature is a failed verification. */
const GATE_STEPS = new Set(['promote.scan', 'promote.tests', 'promote.scan-gate', 'promote.test-gate']);

/**
 * What makes a record a security event; the first rule that matches names it. A run's final
 * `promote.record` is not one: the step that stopped it (a refusal, a gate, a freeze) already is.
 */
export function securityEventOf(r: StoredAuditRecord): SecurityEvent | undefined {
  const why = r.errorMessage ?? r.errorCode ?? (typeof r.details?.reason === 'string' ? r.details.reason : r.outcome);
  const base = { time: r.time, actor: r.actor, action: r.action, correlationId: r.correlationId, why, ...(r.repository ? { repository: r.repository } : {}), ...(r.digest ? { digest: r.digest } : {}) };
  const comment = typeof r.details?.comment === 'string' ? r.details.comment : undefined;
  // An approver refused (why: their comment), or the approvals engine refused a decision (not an approver, a used link, ...).
  if ((r.action === 'approval.reject' && r.outcome === 'success') || (r.action === 'promote.approval' && r.outcome === 'rejected')) return { ...base, kind: 'approval-refused', why: comment ?? why };
  if (r.action === 'approval.refused') return { ...base, kind: 'approval-refused' };
  if (r.action.startsWith('quarantine') || r.action === 'promote.quarantine' || r.action === 'promote.quarantine-release') return { ...base, kind: /release/.test(r.action) ? 'quarantine-release' : 'quarantine' };
  // Webhook requests refused at the door (bad or missing signature): duplicates and unmatched events are `skipped`, not security events.
  if (r.errorCode === 'BAD_SIGNATURE' || /^webhook/.test(r.action)) return r.outcome === 'rejected' ? { ...base, kind: 'bad-webhook-signature' } : undefined;
  if (r.action === 'event.rejected') return { ...base, kind: 'event-rejected' };
  if (r.action === 'promote.record') return undefined;
  if ((/verif|signature-gate/.test(r.action) || r.action === 'promote.signature') && r.outcome === 'failure') return { ...base, kind: 'verification-failed' };
  if (r.action.startsWith(PROMOTE_PREFIX) && (r.outcome === 'rejected' || (GATE_STEPS.has(r.action) && r.outcome === 'failure'))) return { ...base, kind: 'promotion-blocked' };
  return undefined;
}

class Counter {
  private readonly map = new Map<string, { total: number; outcomes: Record<string, number> }>();
  add(key: string, outcome: string): void {
    const c = this.map.get(key) ?? { total: 0, outcomes: {} };
    c.total += 1;
    c.outcomes[outcome] = (c.outcomes[outcome] ?? 0) + 1;
    this.map.set(key, c);
  }
  list(): Count[] {
    return [...this.map].map(([key, c]) => ({ key, ...c })).sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
  }
}

/**
 * The fields of a promotion record that the evidence (buildEvidence), its environment and its time
 * key read: promotion records are most of a busy log, and until the period ends any of them may
 * belong to a protected promotion, so they are kept without `prevHash`, sizes and the rest.
 */
function evidenceFields(r: StoredAuditRecord): StoredAuditRecord {
  const { partition, seq, hash, time, action, outcome, actor, correlationId, repository, digest, target, errorCode, tags, details } = r;
  return {
    partition, seq, hash, time, action, outcome, actor, correlationId,
    ...(repository !== undefined ? { repository } : {}),
    ...(digest !== undefined ? { digest } : {}),
    ...(target !== undefined ? { target } : {}),
    ...(errorCode !== undefined ? { errorCode } : {}),
    ...(tags !== undefined ? { tags } : {}),
    ...(details !== undefined ? { details } : {}),
  } as StoredAuditRecord;
}

/** Records in the time indexes' order (`<time>#<partition>#<seq>`: unique), whatever order they were read in. */
const byTimeKey = (a: { readonly key: string }, b: { readonly key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Feed records (any order, any number: only promotion records and security events are kept, so a
 * period of a million records costs a few counters), then `finish` with the chain's verify result.
 * The report is the same whatever order the records came in: what is listed is sorted by time, ties
 * by chain position.
 *
 * @example
 * const acc = new ComplianceAccumulator({ since, until, protectedEnvironments: ['prod'] });
 * for await (const r of log.iterate({ since, until })) acc.add(r);
 * const report = acc.finish(await log.verify());
 */
export class ComplianceAccumulator {
  private count = 0;
  private readonly actions = new Counter();
  private readonly actors = new Counter();
  private readonly repositories = new Counter();
  private readonly executions = new Map<string, StoredAuditRecord[]>();
  private readonly security: { readonly key: string; readonly event: SecurityEvent }[] = [];

  constructor(private readonly options: { readonly since: string; readonly until: string; readonly protectedEnvironments: readonly string[] }) {}

  add(r: StoredAuditRecord): void {
    this.count += 1;
    this.actions.add(r.action, r.outcome);
    this.actors.add(r.actor, r.outcome);
    if (r.repository !== undefined) this.repositories.add(r.repository, r.outcome);
    if (isPromotionRunRecord(r)) {
      const list = this.executions.get(r.correlationId) ?? [];
      list.push(evidenceFields(r));
      this.executions.set(r.correlationId, list);
    }
    const event = securityEventOf(r);
    if (event) this.security.push({ key: timeKeyOf(r), event });
  }

  /** @throws ReportError `REPORT_EMPTY_PERIOD` when no record was added. */
  finish(chain: VerifyResult): ComplianceReport {
    if (this.count === 0) {
      throw new ReportError(`No audit records from ${this.options.since} until ${this.options.until}: nothing to report. Widen --since/--until, or check the log with \`regman audit query\``, {
        code: 'REPORT_EMPTY_PERIOD',
      });
    }
    const protectedSet = new Set(this.options.protectedEnvironments);
    const promotions = [...this.executions.values()]
      .filter((records) => records.some((r) => protectedSet.has(environmentOf(r) ?? '')))
      .map((records) => records.map((r) => ({ key: timeKeyOf(r), r })).sort(byTimeKey))
      .map((sorted) => ({ key: sorted[0]!.key, evidence: buildEvidence(sorted.map((x) => x.r)) }))
      .filter((e): e is { key: string; evidence: ReleaseEvidence } => e.evidence !== undefined)
      .map((e) => ({ key: `${e.evidence.requestedAt ?? e.evidence.records[0]?.time ?? ''}\u0000${e.key}`, evidence: e.evidence }))
      .sort(byTimeKey)
      .map((e) => e.evidence);
    return {
      kind: 'regman.compliance-report',
      since: this.options.since,
      until: this.options.until,
      records: this.count,
      byAction: this.actions.list(),
      byActor: this.actors.list(),
      byRepository: this.repositories.list(),
      protectedEnvironments: [...this.options.protectedEnvironments],
      promotions,
      securityEvents: [...this.security].sort(byTimeKey).map((x) => x.event),
      chain: { ok: chain.ok, checked: chain.checked, broken: chain.broken },
    };
  }
}
