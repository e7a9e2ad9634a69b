// A pull budget shared across processes (Lambda invocations): Docker Hub counts pulls per account per window, not per process.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The quota of one credential, from `rateLimit.pulls` per `rateLimit.windowHours`. */
export interface PullQuota {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** What taking from the shared budget answered. */
export interface PullGrant {
  readonly granted: boolean;
  /** Pulls counted in this window after the take (when granted), or at the refusal (at least the limit). */
  readonly used: number;
  /** When this window ends (epoch ms): a refused take may succeed then. */
  readonly resetAt: number;
}

/** Counts pulls per credential and window where every invocation sees them. */
export interface SharedPullBudget {
  /** Takes `cost` pulls of `key` (registry host and account, never a secret) in the current window, unless that would exceed the quota. */
  take(key: string, cost: number, quota: PullQuota): Promise<PullGrant>;
}

/** The window of `nowMs`: fixed windows aligned to the epoch. */
export function pullWindow(nowMs: number, windowSeconds: number): { start: number; end: number } {
  const w = windowSeconds * 1000;
  const start = Math.floor(nowMs / w) * w;
  return { start, end: start + w };
}

export interface DynamoPullBudgetOptions {
  readonly docClient: DynamoDBDocumentClient;
  /** The replication-state table (its `budget#` items). */
  readonly tableName: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * The shared budget on DynamoDB: one item per credential and window, `pk = budget#<key>`,
 * `sk = <window start, epoch seconds>`, `used` (N) raised by a conditional `ADD`: the take succeeds
 * only while `used + cost <= limit`, so concurrent invocations can never spend more than the quota
 * between them. Items expire (TTL `expiresAt`) a day after their window.
 *
 * Docker Hub's window is rolling; fixed windows are the approximation a counter can hold. Seed
 * `rateLimit.pulls` below the real limit (or keep a `reserve`) when other clients share the account.
 *
 * @example
 * const shared = new DynamoPullBudget({ docClient, tableName: process.env.STATE_TABLE! });
 * const grant = await shared.take('registry-1.docker.io|ci', 1, { limit: 200, windowSeconds: 21600 });
 */
export class DynamoPullBudget implements SharedPullBudget {
  private readonly now: () => number;

  constructor(private readonly options: DynamoPullBudgetOptions) {
    this.now = options.now ?? Date.now;
  }

  async take(key: string, cost: number, quota: PullQuota): Promise<PullGrant> {
    const { start, end } = pullWindow(this.now(), quota.windowSeconds);
    const Key = { pk: `budget#${key}`, sk: String(Math.floor(start / 1000)) };
    try {
      const out = await this.options.docClient.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key,
          UpdateExpression: 'ADD used :c SET expiresAt = :e',
          ConditionExpression: 'attribute_not_exists(used) OR used <= :max',
          ExpressionAttributeValues: { ':c': cost, ':max': quota.limit - cost, ':e': Math.floor(end / 1000) + 24 * 3600 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { granted: true, used: Number(out.Attributes?.used ?? cost), resetAt: end };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) && (err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      return { granted: false, used: quota.limit, resetAt: end };
    }
  }
}
