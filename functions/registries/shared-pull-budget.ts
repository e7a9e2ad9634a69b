// A pull budget shared across processes (Lambda invocations): Docker Hub counts pulls per account over a rolling
// window, not per process and not per calendar slot.
//
// Docker Hub: "The pull rate limit is calculated on a 6-hour basis", reported as `ratelimit-limit: 100;w=21600`
// and `ratelimit-remaining: 20;w=21600` (https://docs.docker.com/docker-hub/usage/pulls/, "View pull rate and
// limit"). No reset time is given: a pull stops counting one window after it was made, so quota comes back
// gradually. A fixed window (reset at 00:00, 06:00, …) lets a burst at 05:59 and another at 06:01 spend twice
// the limit inside six hours, which Hub answers with 429s; a rolling window does not.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { rollingTake, slotExpiry, type PullQuota } from './rolling-window.ts';

export { SLOTS_PER_WINDOW, rollingTake, slotMs, type PullQuota, type RollingDecision, type SlotCounts } from './rolling-window.ts';

/** What taking from the shared budget answered. */
export interface PullGrant {
  readonly granted: boolean;
  /** Pulls counted in the rolling window after the take (when granted), or at the refusal. */
  readonly used: number;
  /** When (epoch ms) enough earlier pulls have left the window for this take to fit: a refused take may succeed then. */
  readonly resetAt: number;
}

/** Counts pulls per credential over a rolling window where every invocation sees them. */
export interface SharedPullBudget {
  /** Takes `cost` pulls of `key` (registry host and account, never a secret) unless the pulls of the last window plus `cost` would exceed the quota. */
  take(key: string, cost: number, quota: PullQuota): Promise<PullGrant>;
}

export interface DynamoPullBudgetOptions {
  readonly docClient: DynamoDBDocumentClient;
  /** The replication-state table (its `budget#` items). */
  readonly tableName: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** Write conflicts (another invocation took in between) retried before the take is refused for a moment. @default 10 */
  readonly maxConflicts?: number;
}

/**
 * The shared budget on DynamoDB: one item per credential and window length, `pk = budget#<key>`,
 * `sk = rolling#<window seconds>`, holding the pulls per slot of the last window (`slots`, a map) and a
 * revision `rev`. A take reads the item (strongly consistent), drops the slots that left the window, and
 * writes the new counts only if `rev` is still the one it read (`attribute_not_exists(pk)` for the first
 * take): two invocations that read the same state cannot both spend the last pulls; the loser re-reads and
 * decides again. The item expires (TTL `expiresAt`) a day after its last pull left the window.
 *
 * Seed `rateLimit.pulls` below the real limit (or keep a `reserve`) when other clients share the account.
 *
 * @example
 * const shared = new DynamoPullBudget({ docClient, tableName: process.env.STATE_TABLE! });
 * const grant = await shared.take('registry-1.docker.io|ci', 1, { limit: 200, windowSeconds: 21600 });
 */
export class DynamoPullBudget implements SharedPullBudget {
  private readonly now: () => number;
  private readonly maxConflicts: number;

  constructor(private readonly options: DynamoPullBudgetOptions) {
    this.now = options.now ?? Date.now;
    this.maxConflicts = options.maxConflicts ?? 10;
  }

  async take(key: string, cost: number, quota: PullQuota): Promise<PullGrant> {
    const Key = { pk: `budget#${key}`, sk: `rolling#${quota.windowSeconds}` };
    for (let conflict = 0; ; conflict++) {
      const got = await this.options.docClient.send(new GetCommand({ TableName: this.options.tableName, Key, ConsistentRead: true }));
      const item = got.Item as { slots?: Record<string, number>; rev?: number } | undefined;
      const now = this.now();
      const decision = rollingTake(item?.slots ?? {}, cost, quota, now);
      if (!decision.granted) return { granted: false, used: decision.used, resetAt: decision.resetAt };
      const rev = item?.rev ?? 0;
      const lastExpiry = slotExpiry(Math.max(...Object.keys(decision.slots).map(Number)), quota.windowSeconds);
      try {
        await this.options.docClient.send(
          new PutCommand({
            TableName: this.options.tableName,
            Item: { ...Key, slots: decision.slots, rev: rev + 1, expiresAt: Math.ceil(lastExpiry / 1000) + 24 * 3600 },
            ...(item === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': rev } }),
          }),
        );
        return { granted: true, used: decision.used, resetAt: now };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException) && (err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
        // Contended beyond reason: refuse for a moment (the caller waits and asks again) rather than spend uncounted.
        if (conflict + 1 >= this.maxConflicts) return { granted: false, used: decision.used - cost, resetAt: now + 1000 };
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (conflict + 1)));
      }
    }
  }
}
