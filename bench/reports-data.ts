// Benchmark data for the reports: a hash-chained audit log of N records written straight into a (dynalite) audit table, and a 100k-tag inventory.
import { createHash } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GENESIS_HASH, HEADS_KEY, PARTITION_REGISTRY_KEY, partitionFor, sealRecord, toItem } from '../functions/audit/chain.ts';
import { normalizeAuditRecord } from '../functions/audit/normalize.ts';
import type { AuditRecordInput } from '../functions/audit/types.ts';
import { AUDIT_KEYS } from '../functions/dynamo/tables.ts';
import type { Inventory, InventoryImage } from '../functions/retention/types.ts';

/** 10,000 repositories × 10 tags: the 100k-tag inventory the issue asks for. */
export const REPOSITORIES = 10_000;
export const TAGS_PER_REPOSITORY = 10;
/** The log covers the 30 days before this instant. */
export const PERIOD_END = Date.parse('2026-11-30T00:00:00Z');
export const PERIOD_DAYS = 30;
const DAY = 86_400_000;
const TARGETS = ['gar-eu', 'acr-west', 'hub'] as const;

/** mulberry32: deterministic, so every run writes and reads the same log. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const repositoryName = (r: number): string => `team-${r % 100}/service-${r}`;
const digestOf = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** One promotion run as the workflow records it (docs/REPORTS.md): 8 records under one execution id. */
function promotion(repository: string, digest: string, exec: string, time: (k: number) => string, env: string, rejected: boolean): AuditRecordInput[] {
  const base = { correlationId: exec, repository, digest, tags: ['v1.2.3'] };
  const details = { environment: env, from: env === 'prod' ? 'staging' : 'dev', executionId: exec };
  const step = (actor: string, action: string, outcome: 'success' | 'rejected', k: number, extra: Record<string, string | Record<string, number | boolean | string>> = {}): AuditRecordInput => ({
    ...base,
    actor,
    action,
    outcome,
    time: time(k),
    details: { ...details, ...extra },
  });
  return [
    step('cli:alice', 'promote.request', 'success', 0),
    step('system:promotion', 'promote.scan-gate', 'success', 1, { scan: { critical: 0, high: 1, medium: 3 } }),
    step('system:promotion', 'promote.signature-gate', 'success', 2, { signature: { verified: true, keyId: 'cosign-prod' } }),
    step('system:promotion', 'promote.test-gate', 'success', 3, { test: { kind: 'http', status: 'passed' } }),
    step('bob@example.com', 'promote.approval', rejected ? 'rejected' : 'success', 4, { comment: rejected ? 'not in the freeze' : 'LGTM' }),
    step('carol@example.com', 'promote.approval', 'success', 5, { comment: 'ok' }),
    step('system:promotion', 'promote.apply-tags', 'success', 6),
    step('system:promotion', 'promote.record', 'success', 7),
  ];
}

/**
 * The records of repository `r`, oldest first: mostly replication (one per target and push),
 * retention deletions and plans, CLI copies and syncs, and a promotion run every ~40 records.
 */
export function repositoryRecords(r: number, count: number, rand: () => number): AuditRecordInput[] {
  const repository = repositoryName(r);
  const start = PERIOD_END - PERIOD_DAYS * DAY;
  const step = (PERIOD_DAYS * DAY) / count;
  const out: AuditRecordInput[] = [];
  let i = 0;
  const timeAt = (k: number): string => new Date(start + Math.floor(k * step + rand() * step)).toISOString();
  while (out.length < count) {
    const digest = digestOf(`${r}/${i}`);
    const x = rand();
    if (x < 0.025 && count - out.length >= 8) {
      const k = out.length;
      const env = rand() < 0.5 ? 'prod' : 'staging';
      out.push(...promotion(repository, digest, `exec-${r}-${i}`, (j) => new Date(start + Math.floor((k + j) * step)).toISOString(), env, rand() < 0.1));
    } else {
      const time = timeAt(out.length);
      const bytes = Math.floor(rand() * 200_000_000);
      if (x < 0.7) {
        const target = TARGETS[Math.floor(rand() * TARGETS.length)]!;
        const failed = rand() < 0.02;
        out.push({ actor: 'event:aws.ecr', action: x < 0.65 ? 'replicate' : 'reconcile', outcome: failed ? 'failure' : 'success', correlationId: `evt-${r}-${i}`, repository, digest, tags: [`v1.${i}`], source: 'ecr-main', target, bytes, blobs: { uploaded: 3, mounted: 0, skipped: 4 }, durationMs: Math.floor(rand() * 5000), ...(failed ? { errorCode: 'UNAVAILABLE', errorMessage: `${target} answered 503` } : {}) });
      } else if (x < 0.8) {
        out.push({ actor: 'system:retention', action: 'retention.delete', outcome: 'success', correlationId: `sweep-${i}`, registry: 'ecr-main', repository, digest, bytes });
      } else if (x < 0.85) {
        out.push({ actor: 'system:retention', action: 'retention.plan', outcome: 'success', correlationId: `sweep-${i}`, registry: 'ecr-main', repository, details: { expire: 3, keep: 7 } });
      } else if (x < 0.95) {
        out.push({ actor: 'cli:dave', action: x < 0.9 ? 'copy' : 'sync', outcome: 'success', correlationId: `cli-${r}-${i}`, repository, digest, source: 'ecr-main', target: 'gar-eu', bytes });
      } else {
        out.push({ actor: 'system:promotion', action: 'promote.validate', outcome: 'rejected', correlationId: `exec-${r}-${i}-v`, repository, digest, errorCode: 'FREEZE_WINDOW', errorMessage: 'prod is frozen', details: { environment: 'prod' } });
      }
      out[out.length - 1] = { ...out[out.length - 1]!, time };
    }
    i += 1;
  }
  return out.slice(0, count);
}

/** Records without a repository (the `global` chain): rejected events and webhook requests with bad signatures. */
function globalRecords(count: number, rand: () => number): AuditRecordInput[] {
  const start = PERIOD_END - PERIOD_DAYS * DAY;
  return Array.from({ length: count }, (_, i) => {
    const time = new Date(start + Math.floor(((i + rand()) * PERIOD_DAYS * DAY) / count)).toISOString();
    return i % 2 === 0
      ? { actor: 'event:aws.ecr', action: 'event.rejected', outcome: 'rejected', correlationId: `bad-${i}`, errorCode: 'EVENT_INVALID', errorMessage: 'detail.image-digest missing', time }
      : { actor: 'webhook:github', action: 'webhook.request', outcome: 'rejected', correlationId: `wh-${i}`, errorCode: 'BAD_SIGNATURE', errorMessage: 'X-Hub-Signature-256 does not match', time };
  });
}

/** One chain as stored: its record items (seq order), its partition-list item and its head item. */
export interface ChainItems {
  readonly partition: string;
  readonly records: Record<string, unknown>[];
  readonly registration: Record<string, unknown>;
  readonly head: Record<string, unknown>;
}

/**
 * The log of `total` records as sealed items, one chain at a time, exactly as AuditLog.append leaves
 * them (records, head items, the partition list): `repositories` chains of equal length and a
 * `global` chain of rejected events and bad webhook signatures.
 */
export function* auditChains(total: number, repositories: number = REPOSITORIES): Generator<ChainItems> {
  const rand = prng(7);
  const globalCount = Math.min(2000, Math.floor(total / 500));
  const perRepo = Math.floor((total - globalCount) / repositories);
  const extra = total - globalCount - perRepo * repositories;
  const chain = (partition: string, inputs: AuditRecordInput[]): ChainItems => {
    let prev = GENESIS_HASH;
    let seq = 0;
    const records = inputs.map((input) => {
      const sealed = sealRecord(normalizeAuditRecord(input), partition, ++seq, prev);
      prev = sealed.hash;
      return toItem(sealed);
    });
    const last = records.at(-1)!;
    return {
      partition,
      records,
      registration: { [AUDIT_KEYS.partitionKey]: PARTITION_REGISTRY_KEY, [AUDIT_KEYS.sortKey]: partition, registeredAt: records[0]!.time },
      head: { [AUDIT_KEYS.partitionKey]: HEADS_KEY, [AUDIT_KEYS.sortKey]: partition, headSeq: last.seq, headHash: last.hash, headTime: last.time },
    };
  };
  for (let r = 0; r < repositories; r++) {
    const count = perRepo + (r < extra ? 1 : 0);
    if (count > 0) yield chain(partitionFor({ repository: repositoryName(r) }), repositoryRecords(r, count, rand));
  }
  if (globalCount > 0) yield chain('global', globalRecords(globalCount, rand));
}

/** Writes the log of `auditChains` with BatchWriteItem, 25 items per request, `concurrency` requests in flight. */
export async function writeAuditLog(docClient: DynamoDBDocumentClient, tableName: string, total: number, repositories: number, log: (s: string) => void, concurrency = 8): Promise<void> {
  let queue: Record<string, unknown>[] = [];
  const inFlight = new Set<Promise<void>>();
  let written = 0;
  const t0 = performance.now();
  const send = async (items: Record<string, unknown>[]): Promise<void> => {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const out = await docClient.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
    written += items.length;
    if (written % 10_000 < 25) log(`reports: wrote ${written} items to dynalite (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  };
  const put = async (item: Record<string, unknown>): Promise<void> => {
    queue.push(item);
    if (queue.length < 25) return;
    const batch = queue;
    queue = [];
    const p = send(batch).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  };
  for (const c of auditChains(total, repositories)) for (const item of [c.registration, ...c.records, c.head]) await put(item);
  if (queue.length > 0) await send(queue);
  await Promise.all(inFlight);
}

/**
 * The inventory of the cost report: 10,000 repositories × 10 tags over two registries (ECR and
 * Artifact Registry), each image 2 shared base layers (20 bases) plus one layer of its own.
 */
export function costInventory(registryIndex: number): Inventory[] {
  const rand = prng(11 + registryIndex);
  const bases = Array.from({ length: 20 }, (_, b) => [
    { digest: digestOf(`base-${b}-0`), size: 30_000_000 },
    { digest: digestOf(`base-${b}-1`), size: 2_000_000 },
  ]);
  const inventories: Inventory[] = [];
  for (let r = registryIndex; r < REPOSITORIES; r += 2) {
    const images: InventoryImage[] = [];
    for (let t = 0; t < TAGS_PER_REPOSITORY; t++) {
      const days = rand() * 200;
      images.push({
        digest: digestOf(`img-${r}-${t}`),
        tags: [`v1.${t}`],
        pushedAt: new Date(PERIOD_END - days * DAY).toISOString(),
        lastPulledAt: rand() < 0.5 ? new Date(PERIOD_END - days * rand() * DAY).toISOString() : null,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        blobs: [...bases[r % bases.length]!, { digest: digestOf(`layer-${r}-${t}`), size: Math.floor(rand() * 50_000_000) }],
      });
    }
    inventories.push({ repository: repositoryName(r), images });
  }
  return inventories;
}
