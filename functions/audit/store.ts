// The persistence interface of the audit log: conditional append, chain reads and indexed queries.
import type { ChainEntry } from './chain.ts';
import type { AuditHead, AuditOrder, StoredAuditRecord } from './types.ts';

/** Which access path a query uses: one of the GSIs, or a full scan ordered by time. */
export type AuditIndex = 'repository' | 'actor' | 'action' | 'time';

/** A query as the store receives it: the index to use, every filter to apply, and normalised ISO bounds. */
export interface StoreQuery {
  readonly index: AuditIndex;
  readonly repository?: string;
  readonly actor?: string;
  readonly action?: string;
  /** Filter only (no index): the run or event id that follows one operation through every record. */
  readonly correlationId?: string;
  /** Inclusive, `toISOString()` form. */
  readonly since?: string;
  /** Exclusive, `toISOString()` form. */
  readonly until?: string;
  /** `any`: in the order pages are read (a time scan is not sorted; index queries stay in time order). */
  readonly order: AuditOrder;
  /** How many records the caller still wants: a page-size hint only. */
  readonly limit?: number;
}

/**
 * Where audit records live. Implementations: `DynamoAuditStore` (DynamoDB or dynalite) and
 * `InMemoryAuditStore` (unit tests). Items use the layout of `toItem` in chain.ts.
 */
export interface AuditStore {
  /** The record with the highest sequence number of `partition` (a strongly consistent read). */
  latest(partition: string): Promise<StoredAuditRecord | undefined>;
  /** Writes the record unless its (partition, seq) exists; false when another appender got there first. */
  putIfAbsent(record: StoredAuditRecord): Promise<boolean>;
  /** Adds `partition` to the partition list (idempotent). Called before a partition's first record. */
  registerPartition(partition: string): Promise<void>;
  /** Partitions from the list (cheap). */
  listPartitions(): AsyncIterable<string>;
  /** Partitions found by reading every record (thorough: also finds partitions missing from the list). */
  discoverPartitions(): AsyncIterable<string>;
  /**
   * Moves `partition`'s head item forward to `head` (a conditional write: never backwards). Written
   * right after the record's own conditional put; DynamoDB could put both in one TransactWriteItems,
   * but dynalite has no transactions, so a crash between the two leaves the head one record behind
   * (which verify accepts, and the next append repairs), never ahead.
   */
  advanceHead(head: AuditHead): Promise<void>;
  /** Every head item. */
  listHeads(): AsyncIterable<AuditHead>;
  /** Every record of `partition` in sequence order. */
  readPartition(partition: string): AsyncIterable<ChainEntry>;
  /** Records matching every filter of `query`, in time order. */
  query(query: StoreQuery): AsyncIterable<StoredAuditRecord>;
  /**
   * Optional: every chain item of the table (no head or registry item) in pages, read by `segments`
   * parallel scan segments. Pages of different segments interleave; within a segment a partition's
   * items come in key order, which keeps the verifier's reorder buffer empty (it is correct in any order).
   */
  scanChains?(segments: number): AsyncIterable<readonly ChainEntry[]>;
  /**
   * Optional: an index query (not `time`) returning only `fields` of each record, a page at a time
   * (a ProjectionExpression). `AuditLog.pages` falls back to `query` and picks the fields.
   */
  queryFields?(query: StoreQuery, fields: readonly string[]): AsyncIterable<Record<string, unknown>[]>;
}
