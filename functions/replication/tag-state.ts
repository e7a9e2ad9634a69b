// What replication remembers between events: per (target, repository, tag) the newest event applied, and per event the targets already done.
import type { TargetOutcome } from './target-outcome.ts';

/** Where a tag lives at a target. */
export interface TagKey {
  readonly target: string;
  /** OCI repository path at the target. */
  readonly repository: string;
  readonly tag: string;
}

/** The newest event whose digest was published under a tag at a target. */
export interface AppliedTag {
  /** Event time, epoch milliseconds (EventBridge times have second precision). */
  readonly eventTime: number;
  /** The source digest the event named. */
  readonly digest: string;
  readonly correlationId: string;
}

export interface RecordAppliedOptions {
  /**
   * The source confirmed (just now) that the tag names this digest: an equal event time with another
   * digest may then be overwritten (two pushes within one second). Without confirmation (the source
   * is unreachable) only a strictly newer event, or the same digest, may.
   */
  readonly sourceConfirmed: boolean;
}

/** The key of a target within an event's done set: a rule may write one registry, two rules may share it. */
export function doneKey(rule: string, target: string): string {
  return `${rule}#${target}`;
}

/** One event's targets (its retries share the EventBridge event id). */
export interface EventKey {
  readonly correlationId: string;
  readonly digest: string;
}

/** A target copy under way: written when it starts, removed when it ends; one left behind was interrupted. */
export interface InFlightCopy {
  readonly correlationId: string;
  readonly rule: string;
  readonly source: string;
  readonly target: string;
  /** Source OCI repository path. */
  readonly repository: string;
  readonly targetRepository: string;
  readonly digest: string;
  readonly tag: string;
  /** ISO time the copy started. */
  readonly startedAt: string;
}

/**
 * Replication state in the replication-state table. Writes are conditional (dynalite has no
 * transactions), so two events racing for one tag cannot both win.
 */
export interface ReplicationStateStore {
  lastApplied(key: TagKey): Promise<AppliedTag | undefined>;
  /**
   * Records `applied` unless a newer event (see {@link blocksApply}) is recorded: then returns that
   * record and writes nothing. Undefined: recorded.
   */
  recordApplied(key: TagKey, applied: AppliedTag, options: RecordAppliedOptions): Promise<AppliedTag | undefined>;
  /** Outcomes of the targets an earlier attempt of this event finished (replicated or skipped), by doneKey. */
  targetsDone(event: EventKey): Promise<Map<string, TargetOutcome>>;
  markTargetDone(event: EventKey, outcome: TargetOutcome): Promise<void>;
  copyStarted(copy: InFlightCopy): Promise<void>;
  copyEnded(copy: Pick<InFlightCopy, 'correlationId' | 'rule' | 'target'>): Promise<void>;
  /** Copies started and never ended (the process died, or one is running now). */
  copiesInFlight(): Promise<InFlightCopy[]>;
}

/**
 * True when `recorded` (the newest applied event) forbids publishing `incoming`: it is newer, or as
 * old with another digest and the source did not confirm `incoming`. The same digest never blocks:
 * publishing it again moves nothing.
 *
 * @example
 * blocksApply({ eventTime: 2000, digest: 'B', correlationId: 'b' }, { eventTime: 1000, digest: 'A', correlationId: 'a' }, { sourceConfirmed: true }); // true
 */
export function blocksApply(recorded: AppliedTag | undefined, incoming: AppliedTag, options: RecordAppliedOptions): boolean {
  if (recorded === undefined || recorded.digest === incoming.digest) return false;
  if (recorded.eventTime > incoming.eventTime) return true;
  return recorded.eventTime === incoming.eventTime && !options.sourceConfirmed;
}

/** Epoch milliseconds of an event's ISO time; 0 (older than anything) when unreadable. */
export function eventTimeMs(time: string): number {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : ms;
}
