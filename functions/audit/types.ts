// Data types of the audit log: the record callers append, the sealed (hash-chained) record, queries and verify results.

/** Outcome of the audited operation. */
export type AuditOutcome = 'success' | 'failure' | 'rejected' | 'skipped';

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'rejected', 'skipped'];

/**
 * What was done. Dotted lower-case names; the known ones are listed for completion, any name matching
 * `^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$` is accepted so new operations need no change here.
 */
export type AuditAction =
  | 'replicate'
  | 'reconcile'
  | 'copy'
  | 'retention.delete'
  | 'retention.plan'
  | `promote.${string}`
  | 'event.rejected'
  | (string & {});

/** Blob counts of a copy: pushed, cross-repo mounted, and already present on the target. */
export interface AuditBlobCounts {
  readonly uploaded: number;
  readonly mounted: number;
  readonly skipped: number;
}

/** JSON values allowed in `details`. */
export type AuditJson = string | number | boolean | null | readonly AuditJson[] | { readonly [key: string]: AuditJson };

/** One audited operation, as appended by a caller. */
export interface AuditRecord {
  /** Who: an IAM principal ARN, `event:<source>`, `cli:<user>`, `system:reconcile`, ... */
  readonly actor: string;
  readonly action: AuditAction;
  readonly outcome: AuditOutcome;
  /** The EventBridge event id, or the id the CLI generated; follows the work through every log line. */
  readonly correlationId: string;
  /** When the operation finished, ISO 8601 (normalised to `toISOString()` form, UTC with milliseconds). */
  readonly time: string;
  /** The registry acted on, for single-registry operations (retention, promotion tags). */
  readonly registry?: string;
  /** Source registry name or reference of a copy. */
  readonly source?: string;
  /** Target registry name or reference of a copy. */
  readonly target?: string;
  readonly repository?: string;
  readonly digest?: string;
  readonly tags?: readonly string[];
  readonly bytes?: number;
  readonly blobs?: AuditBlobCounts;
  readonly durationMs?: number;
  /** Machine-readable error code (e.g. an `OciErrorCode`). */
  readonly errorCode?: string;
  /** Human-readable error; redacted again on append, truncated to 2 KiB. */
  readonly errorMessage?: string;
  /** Small free-form JSON (at most 4 KiB canonical); larger values are replaced by a marker. */
  readonly details?: { readonly [key: string]: AuditJson };
}

/** What `append` accepts: `time` defaults to now. */
export type AuditRecordInput = Omit<AuditRecord, 'time'> & { readonly time?: string | Date };

/** A record as stored: the caller's fields plus its place in the hash chain. */
export interface StoredAuditRecord extends AuditRecord {
  /** Chain partition: `repo#<repository>`, or `global` for records without a repository. */
  readonly partition: string;
  /** 1, 2, 3, ... within the partition, without gaps. */
  readonly seq: number;
  /** `hash` of the previous record of the partition; 64 zeros for seq 1. */
  readonly prevHash: string;
  /** sha256 (hex) of the canonical JSON of every other field of this record. */
  readonly hash: string;
}

/** Time order of query results; `any` streams without sorting. */
export type AuditOrder = 'newest-first' | 'oldest-first' | 'any';

/** Filters of `AuditLog.query`. All given filters must match. */
export interface AuditQuery {
  readonly repository?: string;
  readonly actor?: string;
  readonly action?: string;
  /** Only records of this run or event (`regman audit query --correlation-id`). */
  readonly correlationId?: string;
  /** Inclusive lower bound: a Date, an ISO time, or a relative duration before now such as `30m`, `24h`, `7d`. */
  readonly since?: string | Date;
  /** Exclusive upper bound, same forms as `since`. */
  readonly until?: string | Date;
  /** Stop after this many records. */
  readonly limit?: number;
  /**
   * Default `newest-first`. `any`: the order the store reads them in, so a query without an index
   * streams page by page instead of sorting the whole period in memory (reports that aggregate).
   */
  readonly order?: AuditOrder;
}

/** Why a chain is broken at a record. */
export type ChainBreakReason =
  /** The record's content no longer hashes to its stored `hash` (or its keys disagree with its content). */
  | 'hash-mismatch'
  /** The record's `prevHash` is not the previous record's `hash`. */
  | 'prev-mismatch'
  /** A sequence number is missing (a deleted record, or records before the first one kept). */
  | 'gap'
  /** An anchored head is past the current end of the chain: newest records were removed. */
  | 'truncated'
  /** The record at an anchored sequence number has a different hash than was anchored: the chain was rewritten. */
  | 'anchor-mismatch';

export interface ChainBreak {
  readonly partition: string;
  readonly seq: number;
  readonly reason: ChainBreakReason;
  readonly detail: string;
}

/** The newest record of one partition: what an operator anchors outside DynamoDB. */
export interface AuditHead {
  readonly partition: string;
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
}

export interface VerifyOptions {
  /** Only this chain partition (e.g. `repo#team/app`); all partitions when omitted. */
  readonly partition?: string;
  /** Heads recorded earlier by `head()` (from CloudWatch Logs, an object-locked S3 object, ...): detects truncation and rewrites. */
  readonly anchors?: readonly AuditHead[];
  /** Also check against the head items the log keeps (default true). */
  readonly useHeadItems?: boolean;
  /**
   * Called with every record read, in no particular order (chains are read several at a time), and
   * also for the records after a chain's first break: a report can aggregate in the same pass.
   */
  readonly visit?: (record: StoredAuditRecord) => void;
  /** Chains read at a time (default 8) when verify reads chain by chain (one partition, or a store without `scanChains`): bound by round trips. */
  readonly concurrency?: number;
  /** Parallel scan segments when the store reads every chain in one Scan (default 4). */
  readonly segments?: number;
  /**
   * Checks every chain in one pass of its own instead of the store's `scanChains` (the CLI's
   * worker-thread Scan, functions/reports/parallel-audit-scan.ts), given the anchors by partition;
   * returns each chain's result (chain.ts ChainResult). Used when no `partition` is given; `visit` is not called then.
   */
  readonly scan?: (anchors: ReadonlyMap<string, AuditHead[]>) => Promise<ReadonlyMap<string, { readonly checked: number; readonly brk: ChainBreak | undefined; readonly seen: number }>>;
}

export interface VerifyResult {
  /** True when no partition is broken. */
  readonly ok: boolean;
  /** Records checked. */
  readonly checked: number;
  /** Partitions checked, sorted. */
  readonly partitions: readonly string[];
  /** The first break in partition order, then sequence order. */
  readonly firstBroken?: ChainBreak;
  /** The first break of each broken partition. */
  readonly broken: readonly ChainBreak[];
  /** Partitions registered but without any record (a crashed first append, or every record deleted). */
  readonly emptyPartitions: readonly string[];
}

/** A stored record's top-level fields that counting readers need, read without converting the record (functions/audit/page-scanner.ts). */
export interface RecordFields {
  readonly time: string;
  readonly seq: number;
  readonly action: string;
  /** As stored: an edited record may hold any string. */
  readonly outcome: string;
  readonly actor: string;
  readonly repository?: string;
  readonly errorCode?: string;
}
