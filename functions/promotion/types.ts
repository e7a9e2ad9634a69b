// Data types of the promotion workflow: the execution input, its statuses, records, tag moves and history.
import type { GateResult } from '../gates/types.ts';

/** What starts a promotion (StartExecution input; the local stack's POST /promotions body). */
export interface PromotionInput {
  /** The execution's name; also the promotion's id everywhere (CLI, tables, audit). */
  readonly executionId: string;
  /** One correlation id per execution: every `promote.<step>` audit record carries it. */
  readonly correlationId: string;
  readonly repository: string;
  readonly tag: string;
  readonly from: string;
  readonly to: string;
  /** Who asked: `cli:<user>`, an IAM principal ARN, `webhook:github:<sender>`. */
  readonly requester: string;
  /** Identity the requester acts for (`--requested-by` on AWS); never lets the requester approve. */
  readonly onBehalfOf?: string;
  readonly reason?: string;
  /** `--override-freeze`: promote inside a freeze window; needs `reason`. */
  readonly overrideFreeze?: boolean;
  /** A rollback or webhook: refused by a hold (a manual `regman promote` is too, unless this is a rollback). */
  readonly trigger?: 'cli' | 'webhook' | 'rollback';
  /** ISO time of the request. */
  readonly requestedAt: string;
}

export const PROMOTION_STATUSES = ['RUNNING', 'WAITING_FOR_APPROVAL', 'SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'ROLLED_BACK'] as const;
export type PromotionStatus = (typeof PROMOTION_STATUSES)[number];

/** One tag in one target registry, and the digest it pointed to before this run (undefined: it did not exist). */
export interface TagMove {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
  readonly previous?: string;
  /** Whether the registry had the promoted digest before the run (a created tag on it cannot be removed on distribution without removing the manifest). */
  readonly digestPresentBefore: boolean;
}

/** What Validate resolves: the rest of the run uses exactly these. */
export interface ValidatedPromotion {
  readonly digest: string;
  readonly mediaType: string;
  /** Registry (config name) the image is read from: the `from` environment's first registry. */
  readonly sourceRegistry: string;
  /** The `to` environment's registries. */
  readonly targetRegistries: readonly string[];
  readonly envTag: string;
  readonly gates: { readonly scan: boolean; readonly signature: boolean; readonly tests: boolean; readonly approval: boolean };
  /** Seconds the approval waits (the edge's `expiresInHours`). */
  readonly approvalTimeoutSeconds: number;
  readonly freezeOverridden: boolean;
}

/** A promotion execution as the promotions table keeps it (what `regman promotions show` prints). */
export interface PromotionRecord {
  readonly executionId: string;
  readonly correlationId: string;
  readonly status: PromotionStatus;
  readonly repository: string;
  readonly tag: string;
  readonly from: string;
  readonly to: string;
  readonly requester: string;
  readonly onBehalfOf?: string;
  readonly reason?: string;
  readonly requestedAt: string;
  readonly updatedAt: string;
  readonly digest?: string;
  readonly envTag?: string;
  /** Step name → outcome, in order. */
  readonly steps: readonly { readonly step: string; readonly outcome: 'success' | 'failure' | 'skipped'; readonly time: string; readonly message?: string }[];
  readonly gates: readonly GateResult[];
  readonly approvers: readonly { readonly identity: string; readonly time: string; readonly channel: string; readonly comment?: string }[];
  /** Tags this run planned to write, with their previous digests (written before any tag moves). */
  readonly tagMoves: readonly TagMove[];
  /** Tags written, `registry/repository:tag`. */
  readonly tagsWritten: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
}

/** One digest promoted into an environment (the history rollback, soak and retention read). */
export interface PromotionHistoryEntry {
  readonly environment: string;
  readonly repository: string;
  readonly digest: string;
  readonly tag: string;
  readonly envTag?: string;
  readonly time: string;
  readonly executionId: string;
  readonly requester: string;
  readonly approvers: readonly string[];
  readonly gates: readonly { readonly gate: string; readonly passed: boolean; readonly summary: string }[];
  /** `promote` or `rollback`. */
  readonly kind: 'promote' | 'rollback';
}

export interface QuarantineRecord {
  readonly digest: string;
  readonly repository: string;
  readonly reason: string;
  readonly gate: string;
  readonly summary: string;
  readonly executionId: string;
  readonly time: string;
}

export interface HoldRecord {
  readonly environment: string;
  readonly repository: string;
  readonly reason: string;
  readonly by: string;
  readonly time: string;
  readonly digest?: string;
}
