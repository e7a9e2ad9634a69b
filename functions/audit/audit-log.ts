// The audit log: appends hash-chained records with conditional writes, queries them by index, verifies the chains.
import { setTimeout as sleep } from 'node:timers/promises';
import { detach } from './page-scanner.ts';
import { ChainChecker, GENESIS_HASH, type ChainEntry, type ChainResult, partitionFor, sealRecord, sha256Hex } from './chain.ts';
import { canonicalJson } from './canonical-json.ts';
import { AuditError } from './errors.ts';
import { normalizeAuditRecord } from './normalize.ts';
import type { AuditIndex, AuditStore, StoreQuery } from './store.ts';
import { parseTimeBound } from './time-bounds.ts';
import type { AuditHead, AuditQuery, AuditRecord, AuditRecordInput, ChainBreak, StoredAuditRecord, VerifyOptions, VerifyResult } from './types.ts';

export interface AuditLogOptions {
  /** Conditional-write attempts per append before `AUDIT_CONTENTION` (default 50). */
  readonly maxAttempts?: number;
  /** Backoff between attempts: full jitter over `min(maxDelayMs, baseDelayMs * 2^attempt)` (defaults 5 and 200). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Clock (tests). */
  readonly now?: () => Date;
  /** Random source in [0, 1) for the jitter (tests). */
  readonly random?: () => number;
}

/**
 * Appends, queries and verifies the audit log.
 *
 * @example
 * const log = new AuditLog(new DynamoAuditStore({ docClient, tableName }));
 * await log.append({ actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: event.id,
 *   repository: 'team/app', digest, source: 'ecr-main', target: 'gar-eu', bytes, blobs, durationMs });
 * const lastDay = await log.query({ repository: 'team/app', since: '24h' });
 * const { ok, firstBroken } = await log.verify();
 */
export class AuditLog {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => Date;
  private readonly random: () => number;

  constructor(
    private readonly store: AuditStore,
    options: AuditLogOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 50;
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 200;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  /**
   * Validates, redacts and appends one record at the end of its partition's chain. Reads the chain
   * head, seals the record at head+1 and writes it only if that sequence number is still free; on a
   * lost race, re-reads the head and tries again after a jittered backoff.
   *
   * @throws AuditError `AUDIT_RECORD_INVALID`, `AUDIT_CONTENTION` (retryable) or `AUDIT_STORE`.
   */
  async append(input: AuditRecordInput): Promise<StoredAuditRecord> {
    const record: AuditRecord = normalizeAuditRecord(input, this.now());
    const partition = partitionFor(record);
    for (let attempt = 0; attempt < this.maxAttempts; attempt += 1) {
      const head = await this.call(partition, () => this.store.latest(partition));
      // Registered before the first record is written, so the partition list never misses a chain.
      if (!head) await this.call(partition, () => this.store.registerPartition(partition));
      const sealed = sealRecord(record, partition, (head?.seq ?? 0) + 1, head?.hash ?? GENESIS_HASH);
      if (await this.call(partition, () => this.store.putIfAbsent(sealed))) {
        await this.call(partition, () => this.store.advanceHead({ partition, seq: sealed.seq, hash: sealed.hash, time: sealed.time }));
        return sealed;
      }
      const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempt, 16));
      await sleep(Math.floor(this.random() * ceiling));
    }
    throw new AuditError(`Audit append to ${partition} lost the conditional write ${this.maxAttempts} times: too many concurrent appenders`, {
      code: 'AUDIT_CONTENTION',
      retryable: true,
      partition,
    });
  }

  /**
   * Records matching every given filter, newest first unless `order: 'oldest-first'`. Uses the
   * byRepositoryTime, byActorTime or byActionTime index (in that preference) and reads every page;
   * without any of those filters it scans.
   */
  async query(query: AuditQuery = {}): Promise<StoredAuditRecord[]> {
    const out: StoredAuditRecord[] = [];
    for await (const record of this.iterate(query)) out.push(record);
    return out;
  }

  /** `query` as a stream: reads pages only as the caller consumes them. */
  async *iterate(query: AuditQuery = {}): AsyncIterable<StoredAuditRecord> {
    const storeQuery = this.toStoreQuery(query);
    if (storeQuery.limit === 0) return;
    let count = 0;
    try {
      for await (const record of this.store.query(storeQuery)) {
        yield record;
        count += 1;
        if (storeQuery.limit !== undefined && count >= storeQuery.limit) return;
      }
    } catch (err) {
      throw wrapStoreError(err, undefined);
    }
  }

  /**
   * `iterate` for reports that aggregate: only `fields` of each record (what the report reads; the
   * others are never sent), a page at a time, in the order the store reads them. Index queries go
   * to the store's `queryFields` when it has one (DynamoDB: a ProjectionExpression); otherwise the
   * whole records are read and the fields picked. The records are not whole, so nothing here can be
   * hashed or verified; a report that needs the chain's word uses `verify`.
   *
   * @example
   * for await (const page of log.pages({ action: 'replicate', since: '30d' }, ['bytes', 'source', 'target'])) for (const r of page) sum += r.bytes ?? 0;
   */
  async *pages<K extends keyof StoredAuditRecord>(query: AuditQuery, fields: readonly K[], options: { readonly pageSize?: number } = {}): AsyncIterable<Pick<StoredAuditRecord, K>[]> {
    const storeQuery = { ...this.toStoreQuery(query), order: query.order ?? 'any' } satisfies StoreQuery;
    if (storeQuery.limit !== undefined) throw new AuditError('Invalid audit query: pages reads a whole query, without limit', { code: 'AUDIT_QUERY_INVALID' });
    try {
      if (storeQuery.index !== 'time' && this.store.queryFields) {
        for await (const page of this.store.queryFields(storeQuery, fields)) yield page as Pick<StoredAuditRecord, K>[];
        return;
      }
      const size = options.pageSize ?? 1000;
      let page: Pick<StoredAuditRecord, K>[] = [];
      for await (const record of this.store.query(storeQuery)) {
        const picked = {} as Pick<StoredAuditRecord, K>;
        for (const f of fields) if (record[f] !== undefined) picked[f] = record[f];
        page.push(picked);
        if (page.length >= size) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    } catch (err) {
      throw wrapStoreError(err, undefined);
    }
  }

  /**
   * Recomputes every chain (or one): hashes, links, sequence gaps, and, given anchors from `head()`,
   * truncation and rewrites since they were taken. Reports the first break of each partition.
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const registered = new Set<string>();
    const all = new Set<string>();
    const anchors = new Map<string, AuditHead[]>();
    const addAnchor = (a: AuditHead): void => {
      if (options.partition !== undefined && a.partition !== options.partition) return;
      anchors.set(a.partition, [...(anchors.get(a.partition) ?? []), a]);
    };
    for (const a of options.anchors ?? []) addAnchor(a);
    try {
      if (options.useHeadItems !== false) for await (const h of this.store.listHeads()) addAnchor(h);
      if (options.partition !== undefined) {
        all.add(options.partition);
      } else {
        for await (const p of this.store.listPartitions()) {
          registered.add(p);
          all.add(p);
        }
        // The full scan below finds them itself.
        if (!this.store.scanChains && !options.scan) for await (const p of this.store.discoverPartitions()) all.add(p);
        for (const p of anchors.keys()) all.add(p);
      }
      const visit = options.visit;
      if (options.partition === undefined && options.scan) {
        const scanned = await options.scan(anchors);
        for (const p of scanned.keys()) all.add(p);
        const partitions = [...all].sort();
        return assemble(partitions, (p) => scanned.get(p) ?? new ChainChecker(p, anchors.get(p)).result(0), registered);
      }
      if (options.partition === undefined && this.store.scanChains) {
        const scanned = await verifyFromScan(this.store.scanChains(options.segments ?? 4), anchors, visit && ((entry) => visit(entry.record)));
        for (const p of scanned.keys()) all.add(p);
        const partitions = [...all].sort();
        return assemble(partitions, (p) => scanned.get(p) ?? new ChainChecker(p, anchors.get(p)).result(0), registered);
      }
      const partitions = [...all].sort();
      const results = await inParallel(partitions, options.concurrency ?? 8, async (partition) => {
        const checker = new ChainChecker(partition, anchors.get(partition));
        let seen = 0;
        let stopped = false;
        for await (const entry of this.store.readPartition(partition)) {
          seen += 1;
          visit?.(entry.record);
          if (!stopped && checker.check(entry)) {
            stopped = true;
            if (!visit) break;
          }
        }
        return checker.result(seen);
      });
      return assemble(partitions, (_, i) => results[i]!, registered);
    } catch (err) {
      throw wrapStoreError(err, options.partition);
    }
  }

  /**
   * The newest record of each registered partition (or one): what an operator anchors outside the
   * table (CloudWatch Logs, an S3 bucket with Object Lock) and later passes to `verify({ anchors })`.
   */
  async head(options: { readonly partition?: string } = {}): Promise<AuditHead[]> {
    try {
      const partitions: string[] = [];
      if (options.partition !== undefined) partitions.push(options.partition);
      else for await (const p of this.store.listPartitions()) partitions.push(p);
      const heads: AuditHead[] = [];
      for (const partition of partitions.sort()) {
        const latest = await this.store.latest(partition);
        if (latest) heads.push({ partition, seq: latest.seq, hash: latest.hash, time: latest.time });
      }
      return heads;
    } catch (err) {
      throw wrapStoreError(err, options.partition);
    }
  }

  private toStoreQuery(query: AuditQuery): StoreQuery {
    const now = this.now();
    const since = query.since === undefined ? undefined : parseTimeBound(query.since, now, 'since');
    const until = query.until === undefined ? undefined : parseTimeBound(query.until, now, 'until');
    if (since !== undefined && until !== undefined && since > until) {
      throw new AuditError(`Invalid audit query: since (${since}) is after until (${until})`, { code: 'AUDIT_QUERY_INVALID' });
    }
    if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 0)) {
      throw new AuditError(`Invalid audit query: limit must be a non-negative integer, got ${query.limit}`, { code: 'AUDIT_QUERY_INVALID' });
    }
    for (const field of ['repository', 'actor', 'action', 'correlationId'] as const) {
      if (query[field] === '') throw new AuditError(`Invalid audit query: ${field} is empty`, { code: 'AUDIT_QUERY_INVALID' });
    }
    return {
      index: chooseIndex(query),
      ...(query.repository !== undefined ? { repository: query.repository } : {}),
      ...(query.actor !== undefined ? { actor: query.actor } : {}),
      ...(query.action !== undefined ? { action: query.action } : {}),
      ...(query.correlationId !== undefined ? { correlationId: query.correlationId } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      order: query.order ?? 'newest-first',
    };
  }

  private async call<T>(partition: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw wrapStoreError(err, partition);
    }
  }
}

/** Assembled in partition order, so the result does not depend on which chain finished first. */
function assemble(partitions: string[], resultOf: (partition: string, i: number) => ChainResult, registered: ReadonlySet<string>): VerifyResult {
  const broken: ChainBreak[] = [];
  const emptyPartitions: string[] = [];
  let checked = 0;
  partitions.forEach((partition, i) => {
    const { checked: n, brk, seen } = resultOf(partition, i);
    checked += n;
    if (brk) broken.push(brk);
    else if (seen === 0 && registered.has(partition)) emptyPartitions.push(partition);
  });
  return { ok: broken.length === 0, checked, partitions, broken, emptyPartitions, ...(broken[0] ? { firstBroken: broken[0] } : {}) };
}

/**
 * Checks every chain from one pass over scan pages, which hold many chains interleaved. A chain's
 * entries normally arrive in key order; one that arrives early waits in a per-chain buffer until its
 * predecessors have been checked, and whatever still waits at the end is fed in key order (the
 * checker then reports the gap), so the result is that of reading each chain by itself.
 */
export async function verifyFromScan(
  pages: AsyncIterable<readonly ChainEntry[]>,
  anchors: ReadonlyMap<string, AuditHead[]>,
  visit: ((entry: ChainEntry) => void) | undefined,
): Promise<Map<string, ChainResult>> {
  interface State {
    readonly checker: ChainChecker;
    seen: number;
    stopped: boolean;
    pending?: Map<number, ChainEntry>;
    /** Entries whose sort key is not a number (edited by hand): they sort last. */
    odd?: ChainEntry[];
  }
  const states = new Map<string, State>();
  const feed = (s: State, entry: ChainEntry): void => {
    if (!s.stopped && s.checker.check(entry)) s.stopped = true;
  };
  for await (const page of pages) {
    for (const entry of page) {
      // The key, not the attribute, names the chain: fromItem flags a disagreement as keyMismatch (and sets keyPartition).
      const key = entry.keyPartition ?? (entry.partition as string);
      let s = states.get(key);
      if (!s) {
        // Kept to the end: a scanned entry's partition is a slice of its page, which it would keep alive.
        const partition = detach(key);
        states.set(partition, (s = { checker: new ChainChecker(partition, anchors.get(key)), seen: 0, stopped: false }));
      }
      s.seen += 1;
      visit?.(entry);
      if (s.stopped) continue;
      if (entry.keySeq !== s.checker.checked + 1) {
        if (Number.isNaN(entry.keySeq)) (s.odd ??= []).push(entry);
        else (s.pending ??= new Map()).set(entry.keySeq, entry);
        continue;
      }
      feed(s, entry);
      for (let next = s.pending?.get(s.checker.checked + 1); next && !s.stopped; next = s.pending?.get(s.checker.checked + 1)) {
        s.pending!.delete(next.keySeq);
        feed(s, next);
      }
    }
  }
  const out = new Map<string, ChainResult>();
  for (const [partition, s] of states) {
    const rest = [...(s.pending?.values() ?? [])].sort((a, b) => a.keySeq - b.keySeq).concat(s.odd ?? []);
    for (const entry of rest) if (!s.stopped) feed(s, entry);
    out.set(partition, s.checker.result(s.seen));
  }
  return out;
}

/** `fn` over `items` with at most `limit` in flight; results in input order. */
async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Most selective index first: a repository has fewer records than an actor, an actor fewer than an action. */
export function chooseIndex(query: Pick<AuditQuery, 'repository' | 'actor' | 'action'>): AuditIndex {
  if (query.repository !== undefined) return 'repository';
  if (query.actor !== undefined) return 'actor';
  if (query.action !== undefined) return 'action';
  return 'time';
}

/** One value summarising a set of heads, short enough to log or to put in an object-locked S3 object name. */
export function headsDigest(heads: readonly AuditHead[]): string {
  return `sha256:${sha256Hex(canonicalJson(heads.map((h) => ({ ...h }))))}`;
}

const NOT_RETRYABLE = new Set(['ValidationException', 'ResourceNotFoundException', 'AccessDeniedException', 'UnrecognizedClientException']);

function wrapStoreError(err: unknown, partition: string | undefined): unknown {
  if (err instanceof AuditError) return err;
  const name = typeof err === 'object' && err !== null ? String((err as { name?: unknown }).name) : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  return new AuditError(`Audit store failed${partition ? ` on ${partition}` : ''}: ${name}: ${message}`, {
    code: 'AUDIT_STORE',
    retryable: !NOT_RETRYABLE.has(name),
    cause: err,
    ...(partition !== undefined ? { partition } : {}),
  });
}
