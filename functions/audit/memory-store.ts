// In-memory AuditStore for unit tests of the chain logic; same item layout and semantics as the DynamoDB store.
import { formatSeq, fromItem, toItem, type ChainEntry } from './chain.ts';
import type { AuditStore, StoreQuery } from './store.ts';
import type { AuditHead, StoredAuditRecord } from './types.ts';
import { AUDIT_KEYS } from '../dynamo/tables.ts';

/**
 * Keeps items in maps. `editItem` and `deleteItem` exist to simulate tampering in tests.
 *
 * @example
 * const log = new AuditLog(new InMemoryAuditStore());
 */
export class InMemoryAuditStore implements AuditStore {
  private readonly partitions = new Map<string, Map<string, Record<string, unknown>>>();
  private readonly registry = new Set<string>();
  private readonly heads = new Map<string, AuditHead>();

  async advanceHead(head: AuditHead): Promise<void> {
    const current = this.heads.get(head.partition);
    if (!current || current.seq < head.seq) this.heads.set(head.partition, { ...head });
  }

  async *listHeads(): AsyncIterable<AuditHead> {
    for (const h of [...this.heads.values()].sort((a, b) => (a.partition < b.partition ? -1 : 1))) yield { ...h };
  }

  /** Test helper: deletes a head item, as someone covering their tracks would. */
  deleteHead(partition: string): void {
    this.heads.delete(partition);
  }

  async latest(partition: string): Promise<StoredAuditRecord | undefined> {
    const items = this.partitions.get(partition);
    if (!items || items.size === 0) return undefined;
    const lastKey = [...items.keys()].sort().at(-1) as string;
    return fromItem(structuredClone(items.get(lastKey) as Record<string, unknown>)).record;
  }

  async putIfAbsent(record: StoredAuditRecord): Promise<boolean> {
    const items = this.partitions.get(record.partition) ?? new Map<string, Record<string, unknown>>();
    this.partitions.set(record.partition, items);
    const sk = formatSeq(record.seq);
    if (items.has(sk)) return false;
    items.set(sk, structuredClone(toItem(record)));
    return true;
  }

  async registerPartition(partition: string): Promise<void> {
    this.registry.add(partition);
  }

  async *listPartitions(): AsyncIterable<string> {
    yield* [...this.registry].sort();
  }

  async *discoverPartitions(): AsyncIterable<string> {
    for (const [partition, items] of this.partitions) if (items.size > 0) yield partition;
  }

  async *readPartition(partition: string): AsyncIterable<ChainEntry> {
    const items = this.partitions.get(partition) ?? new Map<string, Record<string, unknown>>();
    for (const key of [...items.keys()].sort()) yield fromItem(structuredClone(items.get(key) as Record<string, unknown>));
  }

  async *query(query: StoreQuery): AsyncIterable<StoredAuditRecord> {
    const matches: Record<string, unknown>[] = [];
    for (const items of this.partitions.values()) {
      for (const item of items.values()) {
        const timeKey = item[AUDIT_KEYS.timeKey] as string;
        const time = item.time as string;
        if (query.repository !== undefined && item.repository !== query.repository) continue;
        if (query.actor !== undefined && item.actor !== query.actor) continue;
        if (query.action !== undefined && item.action !== query.action) continue;
        if (query.correlationId !== undefined && item.correlationId !== query.correlationId) continue;
        if (query.since !== undefined && time < query.since) continue;
        if (query.until !== undefined && time >= query.until) continue;
        if (typeof timeKey === 'string') matches.push(item);
      }
    }
    matches.sort((a, b) => compare(a[AUDIT_KEYS.timeKey] as string, b[AUDIT_KEYS.timeKey] as string));
    if (query.order === 'newest-first') matches.reverse();
    for (const item of matches) yield fromItem(structuredClone(item)).record;
  }

  /** Test helper: changes attributes of a stored item in place, as someone with write access to the table could. */
  editItem(partition: string, seq: number, changes: Record<string, unknown>): void {
    const item = this.partitions.get(partition)?.get(formatSeq(seq));
    if (!item) throw new Error(`No audit item ${partition} #${seq}`);
    Object.assign(item, changes);
  }

  /** Test helper: deletes a stored item. */
  deleteItem(partition: string, seq: number): void {
    this.partitions.get(partition)?.delete(formatSeq(seq));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
