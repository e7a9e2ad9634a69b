// What the promotion steps need (config, adapters, audit, store, gates, approvals), the state they pass along, and shared helpers.
import type { PusherOf } from './pusher-of.ts';
import type { ApprovalDecision, ApprovalRequester } from '../approvals/requester.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditJson, AuditOutcome } from '../audit/types.ts';
import type { PromotionEdge, RegmanConfig } from '../config/types.ts';
import type { GateInput, GateResult } from '../gates/types.ts';
import type { RegistryAdapter } from '../registries/adapter.ts';
import { repositoryPath } from '../registries/sync.ts';
import type { CopyOptions } from '../oci/copy.ts';
import { PromotionError } from './errors.ts';
import type { PromotionStore } from './store.ts';
import type { PromotionInput, PromotionRecord, TagMove, ValidatedPromotion } from './types.ts';

/** A gate bound to its deps (registry, keys, runners): the edge's config is passed at call time. */
export type GateRunner = (input: GateInput, edge: PromotionEdge) => Promise<GateResult>;
export type GateName = 'scan' | 'signature' | 'tests';

export interface PromotionDeps {
  readonly config: Pick<RegmanConfig, 'registries' | 'environments' | 'promotion'>;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly store: PromotionStore;
  /** The gates this build runs (functions/gates/, wired in functions/promotion/gate-runners.ts). */
  readonly gates?: Readonly<Partial<Record<GateName, GateRunner>>>;
  /** The approvals requester (functions/approvals/). */
  readonly approvals?: ApprovalRequester;
  /** Who pushed a digest (functions/promotion/pusher-of.ts): refused as an approver. @default unknown */
  readonly pusherOf?: PusherOf;
  readonly copyOptions?: Pick<CopyOptions, 'retries' | 'retryDelayMs' | 'concurrency'>;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** What flows through the state machine: `$.input`, `$.run` (Validate), `$.gates`, `$.approval`, `$.tagging`, `$.sync`, `$.error`. */
export interface PromotionState {
  readonly input: PromotionInput;
  readonly run?: ValidatedPromotion;
  readonly gates?: Readonly<Partial<Record<GateName, GateResult>>>;
  readonly approval?: ApprovalDecision;
  readonly tagging?: { readonly moves: readonly TagMove[]; readonly written: readonly string[] };
  readonly sync?: readonly (SyncItemResult | SyncItemFailure)[];
  readonly error?: { readonly Error?: string; readonly Cause?: string };
  readonly rollback?: RollbackResult;
}

export interface SyncItemResult {
  readonly registry: string;
  readonly repository: string;
  readonly tags: readonly string[];
  readonly blobsUploaded: number;
  readonly bytesUploaded: number;
  readonly noop: boolean;
}

/** A Sync item that failed after its retries (the ASL's SyncRegistryFailed). */
export interface SyncItemFailure {
  readonly registry: string;
  readonly failed: true;
  readonly error: { readonly Error?: string; readonly Cause?: string };
}

export function isSyncFailure(item: SyncItemResult | SyncItemFailure): item is SyncItemFailure {
  return (item as SyncItemFailure).failed === true;
}

export interface RollbackResult {
  readonly restored: readonly string[];
  readonly removed: readonly string[];
  /** Tags that could not be undone, with why (e.g. distribution cannot remove a tag alone). */
  readonly left: readonly { readonly tag: string; readonly why: string }[];
  /** Set when the edge has `autoRollback: false`: why nothing was restored. */
  readonly skipped?: string;
}

export function nowOf(deps: Pick<PromotionDeps, 'now'>): Date {
  return deps.now?.() ?? new Date();
}

export function adapterOf(deps: Pick<PromotionDeps, 'adapters'>, name: string): RegistryAdapter {
  const adapter = deps.adapters.get(name);
  if (!adapter) throw new PromotionError('BAD_INPUT', `registry "${name}" is in an environment but has no adapter (is it in registries:?)`);
  return adapter;
}

export function pathIn(adapter: RegistryAdapter, repository: string): string {
  return repositoryPath(adapter, repository);
}

export function validated(state: PromotionState): ValidatedPromotion {
  if (!state.run) throw new PromotionError('BAD_INPUT', 'the state has no $.run: Validate did not run');
  return state.run;
}

/** `team/app:v1 (sha256:…)`: how messages name the image. */
export function imageName(input: Pick<PromotionInput, 'repository' | 'tag'>, digest?: string): string {
  return `${input.repository}:${input.tag}${digest ? `@${digest}` : ''}`;
}

/** One `promote.<step>` audit record with the execution's correlation id. */
export async function auditStep(
  deps: Pick<PromotionDeps, 'audit'>,
  input: PromotionInput,
  step: string,
  outcome: AuditOutcome,
  extra: {
    digest?: string;
    registry?: string;
    /** Registries bytes moved between, and how many (Sync): the cost and usage reports price and count them per pair like replication. */
    source?: string;
    target?: string;
    bytes?: number;
    tags?: readonly string[];
    errorCode?: string;
    errorMessage?: string;
    details?: Record<string, AuditJson>;
  } = {},
): Promise<void> {
  await deps.audit.append({
    actor: input.requester,
    action: `promote.${step}`,
    outcome,
    correlationId: input.correlationId,
    repository: input.repository,
    ...(extra.digest ? { digest: extra.digest } : {}),
    ...(extra.registry ? { registry: extra.registry } : {}),
    ...(extra.source ? { source: extra.source } : {}),
    ...(extra.target ? { target: extra.target } : {}),
    ...(extra.bytes !== undefined ? { bytes: extra.bytes } : {}),
    ...(extra.tags ? { tags: extra.tags } : {}),
    ...(extra.errorCode ? { errorCode: extra.errorCode } : {}),
    ...(extra.errorMessage ? { errorMessage: extra.errorMessage } : {}),
    details: { executionId: input.executionId, from: input.from, to: input.to, ...(extra.details ?? {}) },
  });
}

/** The execution's record, created from the input when no step has written it yet. */
export async function loadRecord(deps: Pick<PromotionDeps, 'store' | 'now'>, input: PromotionInput): Promise<PromotionRecord> {
  const existing = await deps.store.getExecution(input.executionId);
  if (existing) return existing;
  return {
    executionId: input.executionId,
    correlationId: input.correlationId,
    status: 'RUNNING',
    repository: input.repository,
    tag: input.tag,
    from: input.from,
    to: input.to,
    requester: input.requester,
    ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
    requestedAt: input.requestedAt,
    updatedAt: nowOf(deps).toISOString(),
    steps: [],
    gates: [],
    approvers: [],
    tagMoves: [],
    tagsWritten: [],
  };
}

/** Read, change, write the execution's record (steps run one at a time; the Map's items do not write it). */
export async function updateRecord(
  deps: Pick<PromotionDeps, 'store' | 'now'>,
  input: PromotionInput,
  change: (r: PromotionRecord) => Partial<PromotionRecord>,
  step?: { step: string; outcome: 'success' | 'failure' | 'skipped'; message?: string },
): Promise<PromotionRecord> {
  const current = await loadRecord(deps, input);
  const time = nowOf(deps).toISOString();
  const next: PromotionRecord = {
    ...current,
    ...change(current),
    updatedAt: time,
    steps: step ? [...current.steps, { ...step, time }] : current.steps,
  };
  await deps.store.putExecution(next);
  return next;
}
