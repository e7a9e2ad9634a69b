// The hash chain, as pure functions: partition choice, sealing a record, the stored item layout, and checking a chain.
import { hash } from 'node:crypto';
import { fromWireValue, type WireItem } from '../dynamo/attribute-values.ts';
import { AUDIT_KEYS } from '../dynamo/tables.ts';
import { canonicalJsonOmitting } from './canonical-json.ts';
import { WireCanonicalizer } from './canonical-wire.ts';
import type { AuditHead, AuditRecord, ChainBreak, RecordFields, StoredAuditRecord } from './types.ts';

/** `prevHash` of the first record of every partition. */
export const GENESIS_HASH = '0'.repeat(64);
/** Chain partition of records that name no repository (e.g. a rejected event that did not parse). */
export const GLOBAL_PARTITION = 'global';
/** Partition key of the items that list the chain partitions (never a chain partition itself). */
export const PARTITION_REGISTRY_KEY = 'meta#partitions';
/**
 * Partition key of the head items: one per chain (`sk` = the chain partition) holding its newest
 * `headSeq`/`headHash`. They live outside the chain's own items, so deleting the newest records of a
 * chain leaves the head ahead of the chain's end, and `verify` reports it as `truncated`.
 */
export const HEADS_KEY = 'meta#heads';
/** Width of the zero-padded sequence number in the sort key: 10^12 records per partition. */
export const SEQ_WIDTH = 12;

/**
 * One chain per repository: appends for different repositories never contend, and a repository's
 * history is one unbroken, ordered chain.
 */
export function partitionFor(record: Pick<AuditRecord, 'repository'>): string {
  return record.repository === undefined ? GLOBAL_PARTITION : `repo#${record.repository}`;
}

/** `7` → `000000000007`, so string sort keys sort numerically. */
export function formatSeq(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq >= 10 ** SEQ_WIDTH) throw new RangeError(`Audit sequence number out of range: ${seq}`);
  return String(seq).padStart(SEQ_WIDTH, '0');
}

/** Sort key of the time indexes: `<time>#<partition>#<seq>`, ordered by time and unique. */
export function timeKeyOf(record: Pick<StoredAuditRecord, 'time' | 'partition' | 'seq'>): string {
  return `${record.time}#${record.partition}#${formatSeq(record.seq)}`;
}

/** One-shot `crypto.hash` (Node >= 20.12): no Hash object per record, which the verifier hashes a million of. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** sha256 of the canonical JSON of every field except `hash` itself (including `partition`, `seq`, `prevHash`). */
export function hashRecord(record: StoredAuditRecord | Omit<StoredAuditRecord, 'hash'>): string {
  return sha256Hex(canonicalJsonOmitting(record, 'hash'));
}

/** Places a normalised record at `seq` of `partition`, after the record whose hash is `prevHash`. */
export function sealRecord(record: AuditRecord, partition: string, seq: number, prevHash: string): StoredAuditRecord {
  const fields = { ...record, partition, seq, prevHash };
  return { ...fields, hash: hashRecord(fields) };
}

/** The stored item: the sealed record plus the derived key attributes (`pk`, `sk`, `timeKey`). */
export function toItem(record: StoredAuditRecord): Record<string, unknown> {
  return {
    ...record,
    [AUDIT_KEYS.partitionKey]: record.partition,
    [AUDIT_KEYS.sortKey]: formatSeq(record.seq),
    [AUDIT_KEYS.timeKey]: timeKeyOf(record),
  };
}

/** A stored record read back for verification, with the sequence number its key says it has. */
export interface ChainEntry {
  /** The record. A wire entry (`entryFromWire`) converts it only when this is read: `audit verify` never does. */
  readonly record: StoredAuditRecord;
  /** The sequence number from the sort key (which an edit of the `seq` attribute does not change). */
  readonly keySeq: number;
  /** Set when the derived keys disagree with the record's content (an edit of a key or index attribute). */
  readonly keyMismatch?: string;
  /** The partition key, set only when it differs from the record's `partition` (the chain the item is stored in). */
  readonly keyPartition?: string;
  /** The record's `partition`, `hash` and `prevHash` attributes, as stored: what the checker compares. */
  readonly partition: unknown;
  readonly hash: unknown;
  readonly prevHash: unknown;
  /** sha256 of the canonical JSON of every stored field but `hash` (what `hash` must be). */
  contentHash(): string;
  /** Some of the record's top-level fields, when the reader has them without converting the record (page-scanner.ts). */
  readonly fields?: RecordFields | undefined;
}

/** What checking one chain found: records that passed, the first break, and how many items it had. */
export interface ChainResult {
  readonly checked: number;
  readonly brk: ChainBreak | undefined;
  readonly seen: number;
}

/**
 * Reads an item back. Every attribute other than the derived keys is kept, so an attribute added by
 * hand changes the recomputed hash.
 */
export function fromItem(item: Record<string, unknown>): ChainEntry {
  // A loop rather than a rest pattern with computed keys, which V8 runs far slower (a million items per verify).
  const rest: Record<string, unknown> = {};
  for (const k in item) if (k !== AUDIT_KEYS.partitionKey && k !== AUDIT_KEYS.sortKey && k !== AUDIT_KEYS.timeKey) rest[k] = item[k];
  const record = rest as unknown as StoredAuditRecord;
  return new RecordEntry(record, keysOf(item[AUDIT_KEYS.partitionKey], item[AUDIT_KEYS.sortKey], item[AUDIT_KEYS.timeKey], record));
}

/** The wire names the hash does not cover: the derived keys and `hash` itself. */
export const NOT_HASHED = [AUDIT_KEYS.partitionKey, AUDIT_KEYS.sortKey, AUDIT_KEYS.timeKey, 'hash'];
const wireCanonical = new WireCanonicalizer(NOT_HASHED);

/**
 * `fromItem` of an item still in DynamoDB's wire JSON (the lean Scan reader), without converting it:
 * the key checks read five attributes, the hash is taken of the canonical JSON written straight from
 * the wire values (canonical-wire.ts), and the record is converted, as the document client would
 * convert it, only if `record` is read (the compliance report reads it; `audit verify` does not).
 */
export function entryFromWire(item: WireItem): ChainEntry {
  return new WireEntry(item);
}

/** The stored record of a wire item: every attribute but the derived keys, converted as the document client converts it. */
export function recordOfWireItem(item: WireItem): StoredAuditRecord {
  const rest: Record<string, unknown> = {};
  for (const k in item) {
    if (k === AUDIT_KEYS.partitionKey || k === AUDIT_KEYS.sortKey || k === AUDIT_KEYS.timeKey) continue;
    // An attribute named `__proto__` (which the hash covers) stays an attribute, never the record's prototype (as fromWireItem).
    if (k === '__proto__') Object.defineProperty(rest, k, { value: fromWireValue(item[k]!), enumerable: true, writable: true, configurable: true });
    else rest[k] = fromWireValue(item[k]!);
  }
  return rest as unknown as StoredAuditRecord;
}

/** The three key checks of an entry: what its pk, sk and timeKey say against its partition, seq and time. */
export interface EntryKeys {
  readonly keySeq: number;
  readonly keyMismatch: string | undefined;
  readonly keyPartition: string | undefined;
}

export function keysOf(pk: unknown, sk: unknown, timeKey: unknown, record: Pick<StoredAuditRecord, 'partition' | 'seq' | 'time'>): EntryKeys {
  const keySeq = Number(sk);
  if (pk !== record.partition) return { keySeq, keyMismatch: `key ${String(pk)} but partition ${String(record.partition)}`, keyPartition: String(pk) };
  if (typeof record.seq !== 'number' || sk !== formatSeqSafe(record.seq)) return { keySeq, keyMismatch: `sort key ${String(sk)} but seq ${String(record.seq)}`, keyPartition: undefined };
  if (timeKey !== timeKeyOf(record)) return { keySeq, keyMismatch: `index key ${String(timeKey)} does not match the record`, keyPartition: undefined };
  return { keySeq, keyMismatch: undefined, keyPartition: undefined };
}

/** What every kind of entry holds of its key checks (the optional ones only when set). */
export abstract class KeyedEntry {
  readonly keySeq: number;
  readonly keyMismatch?: string;
  readonly keyPartition?: string;
  constructor(keys: EntryKeys) {
    this.keySeq = keys.keySeq;
    if (keys.keyMismatch !== undefined) this.keyMismatch = keys.keyMismatch;
    if (keys.keyPartition !== undefined) this.keyPartition = keys.keyPartition;
  }
}

/** An entry of a converted record (the SDK readers, the memory store). */
class RecordEntry extends KeyedEntry implements ChainEntry {
  constructor(
    readonly record: StoredAuditRecord,
    keys: EntryKeys,
  ) {
    super(keys);
  }
  get partition(): unknown {
    return this.record.partition;
  }
  get hash(): unknown {
    return this.record.hash;
  }
  get prevHash(): unknown {
    return this.record.prevHash;
  }
  contentHash(): string {
    return hashRecord(this.record);
  }
}

/** An entry of a wire item: the record converted on first read. */
class WireEntry extends KeyedEntry implements ChainEntry {
  readonly partition: unknown;
  readonly hash: unknown;
  readonly prevHash: unknown;
  readonly #item: WireItem;
  #record: StoredAuditRecord | undefined;

  constructor(item: WireItem) {
    const attr = (name: string): unknown => (item[name] === undefined ? undefined : fromWireValue(item[name]));
    const partition = attr('partition');
    super(keysOf(attr(AUDIT_KEYS.partitionKey), attr(AUDIT_KEYS.sortKey), attr(AUDIT_KEYS.timeKey), { partition, seq: attr('seq'), time: attr('time') } as Pick<StoredAuditRecord, 'partition' | 'seq' | 'time'>));
    this.#item = item;
    this.partition = partition;
    this.hash = attr('hash');
    this.prevHash = attr('prevHash');
  }

  get record(): StoredAuditRecord {
    return (this.#record ??= recordOfWireItem(this.#item));
  }

  contentHash(): string {
    const canonical = wireCanonical.serialise(this.#item);
    // undefined: a value only the conversion and canonicalJson can serialise or refuse (their error is the verifier's).
    return canonical === undefined ? hashRecord(this.record) : sha256Hex(canonical);
  }
}

function formatSeqSafe(seq: number): string | undefined {
  try {
    return formatSeq(seq);
  } catch {
    return undefined;
  }
}

/**
 * Checks one partition's records, fed in sort-key order. Reports the first break only: after a break,
 * later links prove nothing about the records before it.
 *
 * @example
 * const checker = new ChainChecker('repo#app');
 * for (const entry of entries) if (checker.check(entry)) break;
 * const broken = checker.broken ?? checker.finish();
 */
export class ChainChecker {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private firstBreak: ChainBreak | undefined;

  private readonly anchors: readonly AuditHead[];

  /** `anchor`: heads taken earlier (an anchor file, the head item); each is checked, the highest bounds the chain's end. */
  constructor(
    readonly partition: string,
    anchor?: AuditHead | readonly AuditHead[],
  ) {
    this.anchors = anchor === undefined ? [] : Array.isArray(anchor) ? anchor : [anchor as AuditHead];
  }

  /** Records that passed. */
  get checked(): number {
    return this.expectedSeq - 1;
  }

  get broken(): ChainBreak | undefined {
    return this.firstBreak;
  }

  /** Checks the next record; returns the break it reveals, if any. */
  check(entry: ChainEntry): ChainBreak | undefined {
    if (this.firstBreak) return this.firstBreak;
    const { keySeq } = entry;
    if (entry.keyMismatch !== undefined) return this.fail(keySeq, 'hash-mismatch', entry.keyMismatch);
    if (keySeq > this.expectedSeq) {
      const missing = keySeq - this.expectedSeq === 1 ? `seq ${this.expectedSeq} is missing` : `seqs ${this.expectedSeq}..${keySeq - 1} are missing`;
      return this.fail(this.expectedSeq, 'gap', missing);
    }
    if (keySeq < this.expectedSeq) return this.fail(keySeq, 'hash-mismatch', `seq ${keySeq} appears after seq ${this.expectedSeq - 1}`);
    const recomputed = entry.contentHash();
    const stored = entry.hash;
    if (recomputed !== stored) return this.fail(keySeq, 'hash-mismatch', `stored hash ${String(stored)} but content hashes to ${recomputed}`);
    if (entry.prevHash !== this.prevHash) return this.fail(keySeq, 'prev-mismatch', `prevHash ${String(entry.prevHash)} but seq ${keySeq - 1} has hash ${this.prevHash}`);
    const rewritten = this.anchors.find((a) => a.seq === keySeq && a.hash !== stored);
    if (rewritten) return this.fail(keySeq, 'anchor-mismatch', `anchored hash ${rewritten.hash} but the chain now has ${recomputed}`);
    this.expectedSeq += 1;
    this.prevHash = recomputed;
    return undefined;
  }

  /** `finish()` with the counts, for a chain that had `seen` items. */
  result(seen: number): ChainResult {
    return { checked: this.checked, brk: this.finish(), seen };
  }

  /** Call after the last record: checks the chain still reaches the anchored head. */
  finish(): ChainBreak | undefined {
    if (this.firstBreak) return this.firstBreak;
    const highest = this.anchors.reduce<AuditHead | undefined>((best, a) => (best === undefined || a.seq > best.seq ? a : best), undefined);
    if (highest && highest.seq >= this.expectedSeq) {
      const missing = highest.seq - this.expectedSeq + 1;
      return this.fail(
        this.expectedSeq,
        'truncated',
        `anchored head is seq ${highest.seq} (${highest.time}) but the chain ends at seq ${this.expectedSeq - 1}: the newest ${missing} record${missing === 1 ? ' was' : 's were'} deleted`,
      );
    }
    return undefined;
  }

  private fail(seq: number, reason: ChainBreak['reason'], detail: string): ChainBreak {
    this.firstBreak = { partition: this.partition, seq, reason, detail };
    return this.firstBreak;
  }
}
