// The compliance report as a pure streaming model: totals, promotions into protected environments with evidence, security events, the chain's verification.
import { timeKeyOf } from '../audit/chain.ts';
import { detach } from '../audit/page-scanner.ts';
import type { StoredAuditRecord, VerifyResult } from '../audit/types.ts';
import { ReportError } from './errors.ts';
import { APPROVAL_PREFIX, PROMOTE_PREFIX, buildEvidence, environmentOf, isPromotionRunRecord, type ReleaseEvidence } from './promotion-records.ts';

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

/** The top-level fields `ComplianceAccumulator.add` reads of a record it only counts (the page scanner gives them without converting the record). */
export interface RecordSummary {
  readonly action: string;
  readonly outcome: string;
  readonly actor: string;
  readonly repository?: string | undefined;
  readonly errorCode?: string | undefined;
}

/**
 * True when a record with these fields is neither a promotion run's (isPromotionRunRecord) nor a
 * security event (securityEventOf), whatever its other fields: the accumulator only counts it. Every
 * action either of them looks at is excluded here; test/unit/reports/compliance-summary.test.ts holds
 * the three to each other.
 */
export function onlyCounted(s: RecordSummary): boolean {
  const a = s.action;
  return (
    !a.startsWith(PROMOTE_PREFIX) &&
    !a.startsWith(APPROVAL_PREFIX) &&
    !a.startsWith('quarantine') &&
    !a.startsWith('webhook') &&
    a !== 'event.rejected' &&
    !/verif|signature-gate/.test(a) &&
    s.errorCode !== 'BAD_SIGNATURE'
  );
}

type CounterEntries = [string, { total: number; outcomes: Record<string, number> }][];

class Counter {
  private readonly map = new Map<string, { total: number; outcomes: Record<string, number> }>();
  add(key: string, outcome: string): void {
    let c = this.map.get(key);
    if (!c) this.map.set(detach(key), (c = { total: 0, outcomes: {} }));
    c.total += 1;
    c.outcomes[outcome] = (c.outcomes[outcome] ?? 0) + 1;
  }
  entries(): CounterEntries {
    return [...this.map];
  }
  merge(entries: CounterEntries): void {
    for (const [key, other] of entries) {
      let c = this.map.get(key);
      if (!c) this.map.set(key, (c = { total: 0, outcomes: {} }));
      c.total += other.total;
      for (const o in other.outcomes) c.outcomes[o] = (c.outcomes[o] ?? 0) + other.outcomes[o]!;
    }
  }
  list(): Count[] {
    // Outcomes in name order: the workers' pages arrive in any order, the report's JSON must not depend on it.
    return [...this.map].map(([key, c]) => ({ key, total: c.total, outcomes: Object.fromEntries(Object.entries(c.outcomes).sort(([a], [b]) => (a < b ? -1 : 1))) })).sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
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

/** A promotion into a protected environment, with the key the report lists it by (request time, then chain position). */
interface FinishedPromotion {
  readonly key: string;
  readonly evidence: ReleaseEvidence;
}

/**
 * An accumulator's state as plain data, to move between threads (the worker-thread scan,
 * functions/reports/parallel-audit-scan.ts): what `merge` adds into another accumulator.
 */
export interface ComplianceParts {
  readonly count: number;
  readonly actions: CounterEntries;
  readonly actors: CounterEntries;
  readonly repositories: CounterEntries;
  /** Runs still open: correlation id → its records so far. */
  readonly open: [string, StoredAuditRecord[]][];
  /** Runs finished by `closeChain`: the protected ones' evidence, and every finished run's correlation id. */
  readonly finished: FinishedPromotion[];
  readonly closed: string[];
  readonly security: { readonly key: string; readonly event: SecurityEvent }[];
  /** A record came for a run already finished by `closeChain`: the run spans chains, and this accumulator's evidence for it is incomplete. */
  readonly spansChains: boolean;
}

/**
 * Feed records (any order, any number: only promotion records and security events are kept, so a
 * period of a million records costs a few counters), then `finish` with the chain's verify result.
 * The report is the same whatever order the records came in: what is listed is sorted by time, ties
 * by chain position.
 *
 * A reader that knows a chain has been read to its end calls `closeChain`: the runs whose records
 * all came from that chain are finished then (the protected ones' evidence built, the rest
 * dropped), so memory holds the open runs of the chains being read, not every run of the period.
 * A run's records are in its repository's chain (the workflow and the approvals record the
 * repository on each), so this is exact; a record that still comes for a finished run sets
 * `spansChains`, and the caller reads again without closing (compliance-query.ts).
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
  /** Open runs by the chain their first record came from. */
  private readonly runsOfChain = new Map<string, string[]>();
  private readonly finished: FinishedPromotion[] = [];
  private readonly closed = new Set<string>();
  private readonly security: { readonly key: string; readonly event: SecurityEvent }[] = [];
  private readonly protectedSet: ReadonlySet<string>;
  private conflict = false;

  constructor(private readonly options: { readonly since: string; readonly until: string; readonly protectedEnvironments: readonly string[] }) {
    this.protectedSet = new Set(options.protectedEnvironments);
  }

  /** Counts a record for which `onlyCounted(s)` holds, from those fields alone. */
  addCounted(s: RecordSummary): void {
    this.count += 1;
    this.actions.add(s.action, s.outcome);
    this.actors.add(s.actor, s.outcome);
    if (s.repository !== undefined) this.repositories.add(s.repository, s.outcome);
  }

  add(r: StoredAuditRecord): void {
    this.addCounted(r);
    if (isPromotionRunRecord(r)) {
      if (this.closed.has(r.correlationId)) this.conflict = true;
      let list = this.executions.get(r.correlationId);
      if (!list) {
        this.executions.set(r.correlationId, (list = []));
        let runs = this.runsOfChain.get(r.partition);
        if (!runs) this.runsOfChain.set(r.partition, (runs = []));
        runs.push(r.correlationId);
      }
      list.push(evidenceFields(r));
    }
    const event = securityEventOf(r);
    if (event) this.security.push({ key: timeKeyOf(r), event });
  }

  /** `partition` has been read to its end: finishes the runs whose records all came from it. */
  closeChain(partition: string): void {
    const runs = this.runsOfChain.get(partition);
    if (!runs) return;
    this.runsOfChain.delete(partition);
    for (const id of runs) {
      const records = this.executions.get(id);
      if (!records || records.some((r) => r.partition !== partition)) continue;
      this.executions.delete(id);
      this.closed.add(id);
      const done = this.promotionOf(records);
      if (done) this.finished.push(done);
    }
  }

  /** True when a record came for a run `closeChain` had already finished (see the class comment). */
  get spansChains(): boolean {
    return this.conflict;
  }

  parts(): ComplianceParts {
    return {
      count: this.count,
      actions: this.actions.entries(),
      actors: this.actors.entries(),
      repositories: this.repositories.entries(),
      open: [...this.executions],
      finished: this.finished,
      closed: [...this.closed],
      security: this.security,
      spansChains: this.conflict,
    };
  }

  /** Adds another accumulator's parts (of other chains); a run finished on both sides, or finished on one and open on the other, sets `spansChains`. */
  merge(p: ComplianceParts): void {
    this.count += p.count;
    this.actions.merge(p.actions);
    this.actors.merge(p.actors);
    this.repositories.merge(p.repositories);
    if (p.spansChains) this.conflict = true;
    for (const id of p.closed) {
      if (this.closed.has(id) || this.executions.has(id)) this.conflict = true;
      this.closed.add(id);
    }
    for (const [id, records] of p.open) {
      if (this.closed.has(id)) this.conflict = true;
      const list = this.executions.get(id);
      if (list) list.push(...records);
      else this.executions.set(id, records);
    }
    for (const f of p.finished) this.finished.push(f);
    for (const e of p.security) this.security.push(e);
  }

  /** One run's listing, when it went into a protected environment and has evidence. */
  private promotionOf(records: readonly StoredAuditRecord[]): FinishedPromotion | undefined {
    if (!records.some((r) => this.protectedSet.has(environmentOf(r) ?? ''))) return undefined;
    const sorted = records.map((r) => ({ key: timeKeyOf(r), r })).sort(byTimeKey);
    const evidence = buildEvidence(sorted.map((x) => x.r));
    if (!evidence) return undefined;
    return { key: `${evidence.requestedAt ?? evidence.records[0]?.time ?? ''}\u0000${sorted[0]!.key}`, evidence };
  }

  /** @throws ReportError `REPORT_EMPTY_PERIOD` when no record was added. */
  finish(chain: VerifyResult): ComplianceReport {
    if (this.count === 0) {
      throw new ReportError(`No audit records from ${this.options.since} until ${this.options.until}: nothing to report. Widen --since/--until, or check the log with \`regman audit query\``, {
        code: 'REPORT_EMPTY_PERIOD',
      });
    }
    const promotions = [...this.finished];
    for (const records of this.executions.values()) {
      const p = this.promotionOf(records);
      if (p) promotions.push(p);
    }
    return {
      kind: 'regman.compliance-report',
      since: this.options.since,
      until: this.options.until,
      records: this.count,
      byAction: this.actions.list(),
      byActor: this.actors.list(),
      byRepository: this.repositories.list(),
      protectedEnvironments: [...this.options.protectedEnvironments],
      promotions: promotions.sort(byTimeKey).map((e) => e.evidence),
      securityEvents: [...this.security].sort(byTimeKey).map((x) => x.event),
      chain: { ok: chain.ok, checked: chain.checked, broken: chain.broken },
    };
  }
}
