// Benchmark data for the reports: a hash-chained audit log of N records written straight into a (dynalite) audit table, and a 100k-tag inventory.
import { createHash } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GENESIS_HASH, HEADS_KEY, PARTITION_REGISTRY_KEY, partitionFor, sealRecord, toItem } from '../functions/audit/chain.ts';
import { normalizeAuditRecord } from '../functions/audit/normalize.ts';
import type { AuditJson, AuditRecordInput } from '../functions/audit/types.ts';
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

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * A promotion's ids as the workflow makes them (bin/commands/promotion-backend.ts, local/promotions.ts,
 * functions/webhooks/sfn-starter.ts): the execution id `promo-<yyyyMMddHHmmss>-<8 hex>` of its start,
 * and a separate correlation id (a UUID), here derived from `seed` so every run writes the same log.
 */
export function promotionIds(seed: string, startMs: number): { executionId: string; correlationId: string } {
  const h = hex(`promotion-${seed}`);
  return {
    executionId: `promo-${new Date(startMs).toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${h.slice(0, 8)}`,
    correlationId: `${h.slice(8, 16)}-${h.slice(16, 20)}-4${h.slice(21, 24)}-a${h.slice(25, 28)}-${h.slice(28, 40)}`,
  };
}

/** The edge of a run into `env` (the workflow's `details.from` / `details.to`). */
const fromOf = (env: string): string => (env === 'prod' ? 'staging' : 'dev');

/**
 * One promotion run with a human approval, record for record as the workflow and the approvals engine
 * write them (functions/promotion/deps.ts `auditStep`, functions/approvals/service.ts; docs/REPORTS.md
 * "Promotion records"): every `promote.<step>` has the requester as actor, the run's correlation id and
 * `details.executionId`/`from`/`to`; the approvals records carry `details.requestId` (the execution id)
 * and `details.edge`. Promoted: validate, the three gates, request-approval, approval.request, one
 * approve per required approver (prod: 2, staging: 1), apply-tags, a sync to the environment's other
 * registry, record: 11 records into prod, 10 into staging. Rejected by the first approver: validate,
 * the gates, request-approval, approval.request, approval.reject, record (`rejected`): 8.
 */
export function promotionRun(repository: string, digest: string, seed: string, time: (k: number) => string, env: string, rejected: boolean, bytes: number): AuditRecordInput[] {
  const ids = promotionIds(seed, Date.parse(time(0)));
  const from = fromOf(env);
  const tag = 'v1.2.3';
  const envTag = `${env}-${tag}-${time(0).slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
  const requester = 'cli:alice';
  const approvers = env === 'prod' ? ['bob@example.com', 'carol@example.com'] : ['bob@example.com'];
  const out: AuditRecordInput[] = [];
  const step = (action: string, outcome: AuditRecordInput['outcome'], extra: Partial<AuditRecordInput> & { details?: Record<string, AuditJson> } = {}): void => {
    const { details, ...rest } = extra;
    out.push({ actor: requester, action: `promote.${action}`, outcome, correlationId: ids.correlationId, repository, digest, time: time(out.length), ...rest, details: { executionId: ids.executionId, from, to: env, ...details } });
  };
  const approval = (actor: string, action: string, details: Record<string, AuditJson>): void => {
    out.push({ actor, action, outcome: 'success', correlationId: ids.correlationId, repository, digest, tags: [tag], time: time(out.length), details: { requestId: ids.executionId, executionId: ids.executionId, edge: `${from}->${env}`, ...details } });
  };
  step('validate', 'success', { registry: 'ecr-main', tags: [tag], details: { freezeOverridden: false } });
  step('scan', 'success', { registry: 'ecr-main', details: { summary: '0 critical, 1 high, 3 medium (1 allowlisted)' } });
  step('signature', 'success', { registry: 'ecr-main', details: { summary: 'signed by cosign-prod (cosign)' } });
  step('tests', 'success', { registry: 'ecr-main', details: { summary: 'HTTP hook https://ci.example.com/regman passed (https://ci.example.com/runs/1)', url: 'https://ci.example.com/runs/1' } });
  step('request-approval', 'success', { details: { requestId: ids.executionId, expiresAt: time(100) } });
  approval(requester, 'approval.request', { approvers: ['bob@example.com', 'carol@example.com', 'dave@example.com'], required: approvers.length });
  if (rejected) {
    approval('bob@example.com', 'approval.reject', { channel: 'web', comment: 'not in the freeze', link: hex(`link-${seed}-bob`).slice(0, 16) });
    step('record', 'rejected', { tags: [], errorCode: 'ApprovalRejected', errorMessage: 'not in the freeze (rejected by bob@example.com via web)', details: { status: 'REJECTED', approvers: [], gates: ['scan: passed', 'signature: passed', 'tests: passed'] } });
    return out;
  }
  for (const a of approvers) approval(a, 'approval.approve', { channel: a.startsWith('bob') ? 'web' : 'slack', comment: a.startsWith('bob') ? 'LGTM' : 'ok', link: hex(`link-${seed}-${a}`).slice(0, 16) });
  step('apply-tags', 'success', { registry: 'ecr-main', tags: [tag, envTag], details: { previous: `${tag}=none, ${envTag}=none` } });
  step('sync', 'success', { registry: 'gar-eu', source: 'ecr-main', target: 'gar-eu', bytes, tags: [tag, envTag], details: { blobsUploaded: 1, bytesUploaded: bytes, referrers: 2 } });
  step('record', 'success', { tags: [`ecr-main/${repository}:${tag}`, `ecr-main/${repository}:${envTag}`, `gar-eu/${repository}:${tag}`, `gar-eu/${repository}:${envTag}`], details: { status: 'SUCCEEDED', approvers, gates: ['scan: passed', 'signature: passed', 'tests: passed'] } });
  return out;
}

/** A run refused at Validate by a freeze window: `promote.validate` rejected (FROZEN), then RecordFailure's `promote.record`. */
export function frozenRun(repository: string, digest: string, seed: string, time: (k: number) => string): AuditRecordInput[] {
  const ids = promotionIds(seed, Date.parse(time(0)));
  const details = { executionId: ids.executionId, from: 'staging', to: 'prod' };
  const message = `prod is frozen from 2026-11-20T00:00:00Z to 2026-12-01T00:00:00Z (change freeze): ${repository}:v1.2.3 was not promoted; to promote anyway: --override-freeze --reason …`;
  const base = { actor: 'cli:alice', correlationId: ids.correlationId, repository, digest, errorCode: 'FROZEN', errorMessage: message };
  return [
    { ...base, action: 'promote.validate', outcome: 'rejected', tags: ['v1.2.3'], time: time(0), details },
    { ...base, action: 'promote.record', outcome: 'failure', tags: [], time: time(1), details: { ...details, status: 'FAILED', approvers: [], gates: [] } },
  ];
}

/**
 * The records of repository `r`, oldest first: mostly replication (one per target and push),
 * retention deletions and plans, CLI copies and syncs, a promotion run every ~40 records
 * (`promotionRun`) and a run a freeze window refused (`frozenRun`) every ~20.
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
    const k = out.length;
    // A run's records one `step` apart from its start, in order.
    const runTime = (j: number): string => new Date(start + Math.floor((k + j) * step)).toISOString();
    if (x < 0.025 && count - out.length >= 11) {
      const env = rand() < 0.5 ? 'prod' : 'staging';
      out.push(...promotionRun(repository, digest, `${r}-${i}`, runTime, env, rand() < 0.1, Math.floor(rand() * 200_000_000)));
    } else if (x >= 0.95 && count - out.length >= 2) {
      out.push(...frozenRun(repository, digest, `${r}-${i}-v`, runTime));
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
      } else {
        out.push({ actor: 'cli:dave', action: x < 0.9 ? 'copy' : 'sync', outcome: 'success', correlationId: `cli-${r}-${i}`, repository, digest, source: 'ecr-main', target: 'gar-eu', bytes });
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
