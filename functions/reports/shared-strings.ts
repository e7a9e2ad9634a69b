// One copy of each repeated string in the compliance parts the worker threads send: a message arrives as a structured clone, and that gives every string its own copy.
//
// A million-record period's evidence is ~175k evidence records and ~43k security events. Their
// repositories, partitions, actions, outcomes, actors, environments and tags come from a few thousand
// values, but V8's deserializer makes a new string for each occurrence
// (https://github.com/v8/v8/blob/main/src/objects/value-serializer.cc: strings are not back-referenced, objects are).
// Sharing them took the main thread's heap after the scan from 187 MB to 139 MB (docs/BENCHMARKS.md, Reports).
// Hashes, digests, times and ids are unique per record, so they are left alone: pooling them costs a map entry and saves nothing.
import type { GateEvidence, ReleaseEvidence } from './promotion-records.ts';
import type { ComplianceParts, SecurityEvent } from './compliance.ts';

/** Longer strings (a free-text comment, a gate's long result) are rarely repeated word for word: not pooled. */
const MAX_POOLED_LENGTH = 256;
/** A pool never holds more (a log of ever-new values must not grow it without end): past this, strings are kept as they came. */
const MAX_POOLED = 1 << 20;

/** The first copy seen of each string. */
export class StringPool {
  private readonly map = new Map<string, string>();

  /** `s`, or the equal string seen first. */
  share<T extends string | undefined>(s: T): T {
    if (s === undefined || s.length > MAX_POOLED_LENGTH) return s;
    const seen = this.map.get(s);
    if (seen !== undefined) return seen as T;
    if (this.map.size < MAX_POOLED) this.map.set(s, s);
    return s;
  }

  /** Whether an equal string is pooled. */
  has(s: string): boolean {
    return this.map.has(s);
  }

  get size(): number {
    return this.map.size;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function shareGate(g: GateEvidence | undefined, pool: StringPool): void {
  if (!g) return;
  const m = g as Mutable<GateEvidence>;
  m.outcome = pool.share(g.outcome);
  if (typeof g.result === 'string') m.result = pool.share(g.result);
  if (g.errorCode !== undefined) m.errorCode = pool.share(g.errorCode);
}

function shareEvidence(e: ReleaseEvidence, pool: StringPool): void {
  const m = e as Mutable<ReleaseEvidence>;
  m.environment = pool.share(e.environment);
  if (e.from !== undefined) m.from = pool.share(e.from);
  m.repository = pool.share(e.repository);
  if (e.requester !== undefined) m.requester = pool.share(e.requester);
  m.outcome = pool.share(e.outcome);
  const tags = e.tags as string[];
  for (let i = 0; i < tags.length; i++) tags[i] = pool.share(tags[i]!);
  for (const a of e.approvers as Mutable<ReleaseEvidence['approvers'][number]>[]) {
    a.approver = pool.share(a.approver);
    a.decision = pool.share(a.decision);
    if (a.comment !== undefined) a.comment = pool.share(a.comment);
  }
  shareGate(e.scan, pool);
  shareGate(e.signature, pool);
  shareGate(e.test, pool);
  for (const r of e.records as Mutable<ReleaseEvidence['records'][number]>[]) {
    r.partition = pool.share(r.partition);
    r.action = pool.share(r.action);
    r.outcome = pool.share(r.outcome);
    r.actor = pool.share(r.actor);
  }
}

function shareEvent(e: SecurityEvent, pool: StringPool): void {
  const m = e as Mutable<SecurityEvent>;
  m.kind = pool.share(e.kind);
  m.actor = pool.share(e.actor);
  m.action = pool.share(e.action);
  if (e.repository !== undefined) m.repository = pool.share(e.repository);
  m.why = pool.share(e.why);
}

/**
 * Rewrites, in place, the repeated strings of a worker's parts (finished evidence, security events,
 * open runs' records) to the pool's copies, and returns the parts. Equal strings stay equal: the
 * report is the same, byte for byte.
 *
 * @example
 * worker.on('message', (m) => batches.push(shareStrings(m.batch, pool)));
 */
export function shareStrings(parts: ComplianceParts, pool: StringPool): ComplianceParts {
  for (const f of parts.finished) shareEvidence(f.evidence, pool);
  for (const s of parts.security) shareEvent(s.event, pool);
  for (const [, records] of parts.open)
    for (const r of records as Mutable<(typeof records)[number]>[]) {
      r.partition = pool.share(r.partition);
      r.action = pool.share(r.action);
      r.outcome = pool.share(r.outcome);
      r.actor = pool.share(r.actor);
      if (r.repository !== undefined) r.repository = pool.share(r.repository);
    }
  return parts;
}
