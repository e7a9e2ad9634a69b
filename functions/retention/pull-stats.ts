// Pull statistics for retention: CloudTrail `BatchGetImage` events counted per digest (or tag) per UTC day in DynamoDB.
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../registries/map-limit.ts';
import { RetentionError } from './errors.ts';
import type { PullCount } from './types.ts';

/** Environment variables of the pull-stats handler and of sweeps that read the counters. */
export const PULL_STATS_ENV = {
  /** The pullStats table (TABLE_SPECS.pullStats). */
  table: 'PULL_STATS_TABLE',
  /** Comma-separated principal ARNs whose pulls are not counted (regman's own replicate and sweep roles). */
  ignorePrincipals: 'REGMAN_PULL_STATS_IGNORE_PRINCIPALS',
} as const;

/** Attribute names of the pullStats table (shared with TABLE_SPECS.pullStats). */
export const PULL_STATS_KEYS = { partitionKey: 'pk', sortKey: 'sk', count: 'pulls', expiresAt: 'expiresAt' } as const;

/** An event that is not a CloudTrail `BatchGetImage` record: rejected, never retried. */
export class PullStatsEventError extends RetentionError {
  constructor(message: string) {
    super(message, 'PULL_STATS_EVENT');
    this.name = 'PullStatsEventError';
  }
}

/** One `BatchGetImage` call, as CloudTrail recorded it. */
export interface BatchGetImagePull {
  readonly eventId: string;
  /** The registry (account) id the repository lives in. */
  readonly registryId: string;
  readonly region: string;
  readonly repository: string;
  /** Images asked for by digest. */
  readonly digests: readonly string[];
  /** Images asked for by tag (CloudTrail does not record the digest the tag resolved to). */
  readonly tags: readonly string[];
  /** ISO time of the call. */
  readonly time: string;
  /** Who pulled: the caller's ARN, when CloudTrail has one. */
  readonly actor: string | undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Reads a `BatchGetImage` call from an EventBridge "AWS API Call via CloudTrail" event (its `detail`
 * is the CloudTrail record) or from a bare CloudTrail record (e.g. read from an S3 trail).
 * `registryId` defaults to the recipient account (CloudTrail omits it when the caller did).
 *
 * @throws PullStatsEventError naming the missing field, or when the event is another API call.
 * @example
 * const pull = parseBatchGetImageEvent(event); // { repository: 'testrepo', tags: ['latest'], digests: [], ... }
 */
export function parseBatchGetImageEvent(event: unknown): BatchGetImagePull {
  const outer = asRecord(event);
  if (!outer) throw new PullStatsEventError('the event is not a JSON object');
  const record = asRecord(outer.detail) ?? outer;
  const name = str(record.eventName);
  if (name !== 'BatchGetImage') throw new PullStatsEventError(`eventName is ${name === undefined ? 'missing' : `"${name}"`}, expected "BatchGetImage"`);
  if (str(record.errorCode)) throw new PullStatsEventError(`the call failed (${String(record.errorCode)}): nothing was pulled`);
  const params = asRecord(record.requestParameters);
  const repository = str(params?.repositoryName);
  if (!repository) throw new PullStatsEventError('requestParameters.repositoryName is missing');
  const region = str(record.awsRegion) ?? str(outer.region);
  if (!region) throw new PullStatsEventError('awsRegion is missing');
  const registryId = str(params?.registryId) ?? str(record.recipientAccountId) ?? str(outer.account);
  if (!registryId) throw new PullStatsEventError('requestParameters.registryId and recipientAccountId are missing');
  const time = str(record.eventTime) ?? str(outer.time);
  if (!time || Number.isNaN(Date.parse(time))) throw new PullStatsEventError('eventTime is missing or not a time');
  const digests: string[] = [];
  const tags: string[] = [];
  for (const id of Array.isArray(params?.imageIds) ? params.imageIds : []) {
    const digest = str(asRecord(id)?.imageDigest);
    const tag = str(asRecord(id)?.imageTag);
    if (digest) digests.push(digest);
    else if (tag) tags.push(tag);
  }
  if (digests.length === 0 && tags.length === 0) throw new PullStatsEventError('requestParameters.imageIds names no image');
  const identity = asRecord(record.userIdentity);
  const actor = str(identity?.arn);
  const eventId = str(record.eventID) ?? str(outer.id) ?? `${time}#${repository}`;
  return { eventId, registryId, region, repository, digests: [...new Set(digests)], tags: [...new Set(tags)], time: new Date(time).toISOString(), actor };
}

/**
 * True when `actor` is one of `ignore`. An assumed-role session (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`)
 * matches its role (`arn:aws:iam::ACCT:role/NAME`, any path) and the session ARN itself.
 */
export function isIgnoredPrincipal(actor: string | undefined, ignore: readonly string[]): boolean {
  if (actor === undefined || ignore.length === 0) return false;
  if (ignore.includes(actor)) return true;
  const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(actor);
  if (!session) return false;
  const [, partition, account, role] = session;
  return ignore.some((arn) => {
    const m = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
    return m !== null && m[1] === partition && m[2] === account && m[3] === role;
  });
}

/** Where a repository's counters live: one registry (account) in one region. */
export interface PullStatsScope {
  readonly registryId: string;
  readonly region: string;
}

export interface PullsForOptions {
  /** @default now */
  readonly now?: Date;
  /** Current tags per digest: pulls counted by tag are added to the digest the tag names now. */
  readonly tags?: ReadonlyMap<string, readonly string[]>;
}

/** Counters of pulls per digest (or tag) per UTC day. */
export interface PullStatsStore {
  /** Adds `count` pulls of `ref` (a digest, or `tag:<tag>`) on `day` (YYYY-MM-DD), atomically. */
  increment(scope: PullStatsScope, repository: string, ref: string, day: string, count: number): Promise<void>;
  /**
   * Records that an event was counted; false when it already was (a duplicate delivery). Optional:
   * a store without it counts duplicates twice (more pulls, so retention keeps more: the safe side).
   */
  markEvent?(eventId: string): Promise<boolean>;
  /** Pulls of each digest over the last `sinceDays` UTC days (today included), for the inventory's `pulls`. */
  pullsFor(scope: PullStatsScope, repository: string, digests: readonly string[], sinceDays: number, options?: PullsForOptions): Promise<Map<string, PullCount[]>>;
}

/** `YYYY-MM-DD` (UTC) of an instant. */
export function utcDay(time: Date | string): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The first day of a window of `sinceDays` days ending today (UTC), as the planner counts it. */
export function windowStartDay(now: Date, sinceDays: number): string {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (Math.max(1, sinceDays) - 1) * 86_400_000);
  return utcDay(start);
}

/** `<registryId>/<region>/<repository>#<ref>`. */
export function pullStatsKey(scope: PullStatsScope, repository: string, ref: string): string {
  return `${scope.registryId}/${scope.region}/${repository}#${ref}`;
}

export interface RecordPullsOptions {
  /** Principal ARNs whose pulls are not counted (regman's own roles read manifests with BatchGetImage). */
  readonly ignorePrincipals?: readonly string[];
}

export type RecordPullsResult =
  | { readonly status: 'counted'; readonly refs: readonly string[]; readonly day: string }
  | { readonly status: 'ignored'; readonly reason: string };

/**
 * Counts one `BatchGetImage` call: one pull per image id asked for, on the call's UTC day.
 *
 * @example
 * await recordBatchGetImage(store, parseBatchGetImageEvent(event), { ignorePrincipals: [replicateRoleArn] });
 */
export async function recordBatchGetImage(store: PullStatsStore, pull: BatchGetImagePull, options: RecordPullsOptions = {}): Promise<RecordPullsResult> {
  if (isIgnoredPrincipal(pull.actor, options.ignorePrincipals ?? [])) return { status: 'ignored', reason: `pulled by ${pull.actor}, an ignored principal` };
  if (store.markEvent && !(await store.markEvent(pull.eventId))) return { status: 'ignored', reason: `event ${pull.eventId} was already counted` };
  const day = utcDay(pull.time);
  const refs = [...pull.digests, ...pull.tags.map((t) => `tag:${t}`)];
  for (const ref of refs) await store.increment(pull, pull.repository, ref, day, 1);
  return { status: 'counted', refs, day };
}

/** Sums counters by day: digest counters plus the counters of the tags the digest has now. */
async function collect(
  read: (ref: string) => Promise<PullCount[]>,
  digests: readonly string[],
  options: PullsForOptions,
): Promise<Map<string, PullCount[]>> {
  const out = new Map<string, PullCount[]>();
  await mapLimit([...digests], 8, async (digest) => {
    const refs = [digest, ...(options.tags?.get(digest) ?? []).map((t) => `tag:${t}`)];
    const byDay = new Map<string, number>();
    for (const ref of refs) for (const p of await read(ref)) byDay.set(p.day, (byDay.get(p.day) ?? 0) + p.count);
    out.set(digest, [...byDay].sort(([a], [b]) => a.localeCompare(b)).map(([day, count]) => ({ day, count })));
  });
  return out;
}

/** Counters in memory (tests, and `regman retention run` without a table). */
export class InMemoryPullStatsStore implements PullStatsStore {
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly events = new Set<string>();

  async increment(scope: PullStatsScope, repository: string, ref: string, day: string, count: number): Promise<void> {
    const key = pullStatsKey(scope, repository, ref);
    const days = this.counts.get(key) ?? new Map<string, number>();
    days.set(day, (days.get(day) ?? 0) + count);
    this.counts.set(key, days);
  }

  async markEvent(eventId: string): Promise<boolean> {
    if (this.events.has(eventId)) return false;
    this.events.add(eventId);
    return true;
  }

  async pullsFor(scope: PullStatsScope, repository: string, digests: readonly string[], sinceDays: number, options: PullsForOptions = {}): Promise<Map<string, PullCount[]>> {
    const from = windowStartDay(options.now ?? new Date(), sinceDays);
    return collect(async (ref) => [...(this.counts.get(pullStatsKey(scope, repository, ref)) ?? [])].filter(([day]) => day >= from).map(([day, count]) => ({ day, count })), digests, options);
  }
}

export interface DynamoPullStatsStoreOptions {
  readonly docClient: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Days a counter (and an event marker) is kept before TTL removes it. @default 400 */
  readonly retainDays?: number;
}

/**
 * Counters in the pullStats table: pk `<registryId>/<region>/<repository>#<digest|tag:…>`, sk the UTC
 * day, `pulls` incremented with `UpdateItem ADD` (atomic, so concurrent invocations never lose a
 * count). Duplicate deliveries are caught by an `event#<eventID>` marker written with
 * `attribute_not_exists` (dynalite has no transactions: the marker and the count are two writes; if the
 * count fails after the marker, the retry skips it and one pull is lost).
 *
 * @example
 * const store = new DynamoPullStatsStore({ docClient, tableName: env.required(PULL_STATS_ENV.table) });
 */
export class DynamoPullStatsStore implements PullStatsStore {
  private readonly retainDays: number;

  constructor(private readonly options: DynamoPullStatsStoreOptions) {
    this.retainDays = options.retainDays ?? 400;
  }

  private expiresAt(): number {
    return Math.floor(Date.now() / 1000) + this.retainDays * 86_400;
  }

  async increment(scope: PullStatsScope, repository: string, ref: string, day: string, count: number): Promise<void> {
    await this.options.docClient.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { [PULL_STATS_KEYS.partitionKey]: pullStatsKey(scope, repository, ref), [PULL_STATS_KEYS.sortKey]: day },
        UpdateExpression: 'ADD #pulls :n SET #exp = :exp',
        ExpressionAttributeNames: { '#pulls': PULL_STATS_KEYS.count, '#exp': PULL_STATS_KEYS.expiresAt },
        ExpressionAttributeValues: { ':n': count, ':exp': this.expiresAt() },
      }),
    );
  }

  async markEvent(eventId: string): Promise<boolean> {
    try {
      await this.options.docClient.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { [PULL_STATS_KEYS.partitionKey]: `event#${eventId}`, [PULL_STATS_KEYS.sortKey]: 'counted', [PULL_STATS_KEYS.expiresAt]: Math.floor(Date.now() / 1000) + 7 * 86_400 },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PULL_STATS_KEYS.partitionKey },
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /** Whether an event was counted (tests). */
  async wasCounted(eventId: string): Promise<boolean> {
    const out = await this.options.docClient.send(
      new GetCommand({ TableName: this.options.tableName, Key: { [PULL_STATS_KEYS.partitionKey]: `event#${eventId}`, [PULL_STATS_KEYS.sortKey]: 'counted' } }),
    );
    return out.Item !== undefined;
  }

  async pullsFor(scope: PullStatsScope, repository: string, digests: readonly string[], sinceDays: number, options: PullsForOptions = {}): Promise<Map<string, PullCount[]>> {
    const from = windowStartDay(options.now ?? new Date(), sinceDays);
    return collect(async (ref) => {
      const out: PullCount[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.options.docClient.send(
          new QueryCommand({
            TableName: this.options.tableName,
            KeyConditionExpression: '#pk = :pk AND #sk >= :from',
            ExpressionAttributeNames: { '#pk': PULL_STATS_KEYS.partitionKey, '#sk': PULL_STATS_KEYS.sortKey },
            ExpressionAttributeValues: { ':pk': pullStatsKey(scope, repository, ref), ':from': from },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) out.push({ day: String(item[PULL_STATS_KEYS.sortKey]), count: Number(item[PULL_STATS_KEYS.count] ?? 0) });
        start = page.LastEvaluatedKey;
      } while (start);
      return out;
    }, digests, options);
  }
}
