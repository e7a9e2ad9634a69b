// The shapes replication passes around: its dependencies, progress events and outcomes (shared by the per-push and fan-out paths).
import type { QuarantineLookup } from './quarantine-guard.ts';
import type { PusherLookup } from './pusher/pusher.ts';
import type { AuditLog } from '../audit/index.ts';
import type { RegmanConfig } from '../config/types.ts';
import type { CopyEvent, CopyOptions } from '../oci/copy.ts';
import type { RegistryAdapter } from '../registries/adapter.ts';
import type { ImageActionEvent } from './event.ts';
import type { FanoutPolicy } from './large/decision.ts';
import type { FanoutStarter } from './large/image.ts';
import type { LoggerLike, MetricsLike } from './observability.ts';
import type { ReplicationStateStore } from './tag-state.ts';
import type { BlobProgressStore } from './blob-progress.ts';
import type { DeferralQueue } from './deferral.ts';
import type { TargetOutcome } from './target-outcome.ts';

export type { TargetOutcome } from './target-outcome.ts';

/** Copy engine settings a deployment may tune; the rest come from the rule. */
export type ReplicationCopyOptions = Pick<CopyOptions, 'concurrency' | 'retries' | 'retryDelayMs' | 'chunkThreshold' | 'chunkSize' | 'signal'>;

/** What replication needs from outside: config, registries, the audit log, and observability. */
export interface ReplicationDeps {
  readonly config: RegmanConfig;
  /** Adapters by registry name (createAdapters). */
  readonly adapters: Map<string, RegistryAdapter>;
  readonly audit: AuditLog;
  readonly logger?: LoggerLike;
  readonly metrics?: MetricsLike;
  /** Clock of the audit records. @default the audit log's */
  readonly now?: () => Date;
  /** Progress, as data (the local stack prints it). A throwing listener is ignored. */
  readonly onEvent?: (event: ReplicationEvent) => void;
  /** Targets copied at once. @default 4 */
  readonly targetConcurrency?: number;
  readonly copyOptions?: ReplicationCopyOptions;
  /**
   * Large images: when set, an image whose missing bytes exceed this invocation's budget is handed to
   * the replicate-large state machine instead of being copied here (docs/LARGE_IMAGES.md).
   * @default none (always inline)
   */
  readonly fanout?: ReplicationFanout;
  /**
   * The replication-state table: the newest event applied per (target, repository, tag), so an older
   * event never moves a tag back even when the source is unreachable, and the targets an event already
   * finished, so its retry runs only what failed. @default none (only the source check guards tags)
   */
  readonly state?: ReplicationStateStore;
  /**
   * Resumable copies: the blobs of each image verified at each target (`blobs#` records of the
   * replication-state table). A copy that dies leaves them; its retry (Lambda, reconcile, the
   * large-image Map) skips them without a HEAD. @default none (a retry HEADs every blob)
   */
  readonly blobProgress?: BlobProgressStore;
  /**
   * Rate budgets: a target out of budget (Docker Hub's pull limit; a 429 asking for longer than a copy
   * waits) is deferred here with the delay the registry gave, audited `replicate.deferred`, instead of
   * failing into retries and the DLQ. @default none (such a target fails)
   */
  readonly deferrals?: DeferralQueue;
  /**
   * Who pushed: the CloudTrail PutImage record's principal, named in each replication record's
   * `details.pushedBy` (or `{ unknown: true, reason }`). @default none (the local stack has no CloudTrail)
   */
  readonly pusher?: PusherLookup;
  /**
   * The quarantine (the promotion store's table): rules with `protected: true` skip a quarantined
   * digest, audited. @default none (a protected rule then fails its targets: it never copies blind)
   */
  readonly quarantine?: QuarantineLookup;
}

/** Progress of a replication or a reconcile. */
export type ReplicationEvent =
  | { readonly type: 'skipped'; readonly correlationId: string; readonly repository: string; readonly digest: string; readonly reason: string }
  | { readonly type: 'target-started'; readonly correlationId: string; readonly target: string; readonly repository: string; readonly tag: string }
  | { readonly type: 'target-finished'; readonly correlationId: string; readonly outcome: TargetOutcome }
  | { readonly type: 'copy'; readonly correlationId: string; readonly target: string; readonly event: CopyEvent };

export interface ReplicationOutcome {
  /**
   * - `replicated`: every target succeeded or was skipped, at least one copied;
   * - `skipped`: nothing to do (`reason` says why);
   * - `partial` / `failed`: some / all targets failed (replicateImage then throws);
   * - `deferred`: too large for this invocation, fanned out to the state machine (`execution`), or
   *   some targets out of rate budget re-queued (their `retryAt`) while the others succeeded.
   */
  readonly status: 'replicated' | 'skipped' | 'partial' | 'failed' | 'deferred';
  readonly reason?: string;
  readonly correlationId: string;
  readonly source: string;
  readonly repository: string;
  readonly digest: string;
  readonly tag?: string;
  readonly targets: TargetOutcome[];
  /** The large-image execution of a `deferred` outcome. */
  readonly execution?: { readonly executionName: string; readonly executionArn?: string };
}

export interface ReplicateImageInput {
  readonly event: ImageActionEvent;
  /** Registry name of the event's source in the config. */
  readonly sourceRegistry: string;
  /** The EventBridge event id: written into every audit record and log line. */
  readonly correlationId: string;
  /** Who caused the work, e.g. `event:aws.ecr`. */
  readonly actor: string;
  /** Set when a deferral queue delivered the event back: these targets (doneKeys) run again. */
  readonly deferred?: { readonly deferrals: number; readonly targets: readonly string[] };
}

export interface ReplicationFanout {
  readonly starter: FanoutStarter;
  /** @default DEFAULT_FANOUT_POLICY (2 GiB, 50 MiB/s, 0.5) */
  readonly policy?: FanoutPolicy;
  /** Milliseconds left in this invocation (the handler sets the Lambda context's). */
  readonly remainingTimeMs?: () => number;
}
