// The replication domain's public API: event parsing, rule matching, replicate, reconcile, dead letters.
export { ReplicationError, ReplicationEventError, ReplicationFailedError, isReplicationError, type EventIssue, type ReplicationErrorCode } from './errors.ts';
export { parseImageActionEvent, imageActionEvent, eventIdOf, IMAGE_ACTION_SOURCE, IMAGE_ACTION_DETAIL_TYPE, type ImageActionEvent, type ImageActionType, type ImageActionResult } from './event.ts';
export {
  matchReplicationTargets, planReplication, targetRepositoryName, referrerTagSubject, selectReconcileTags, UNTAGGED_REASON,
  type ReplicationTargetMatch, type ReplicationPlan,
} from './rules.ts';
export { findSourceRegistry } from './source.ts';
export {
  replicateImage, relativeRepository,
  type ReplicationDeps, type ReplicationOutcome, type TargetOutcome, type ReplicationEvent, type ReplicateImageInput, type ReplicationCopyOptions,
} from './replicate.ts';
export { reconcile, type ReconcileOptions, type ReconcileReport, type ReconcileItem, type ReconcileError } from './reconcile.ts';
export { JsonlDeadLetterSink, listDeadLetters, drainDeadLetters, deliverWithRetries, type DeadLetterSink, type DeadLetterRecord, type DrainResult, type DeliverOptions } from './dlq.ts';
export { ReplicationMetric, silentLogger, noMetrics, errorCodeOf, errorMessageOf, type LoggerLike, type MetricsLike, type MetricUnitName } from './observability.ts';
export { planLargeImage, MAX_PLAN_BYTES, type LargeImageStepDeps } from './large/plan.ts';
export { copyPlannedBlob } from './large/copy-blob.ts';
export { publishManifests } from './large/publish.ts';
export { recordLargeImage } from './large/record.ts';
export { SfnFanoutStarter, largeImageExecutionName, largeImageInput, type FanoutStarter } from './large/image.ts';
export { fanOutIfLarge, FANOUT_ACTION } from './large/fanout.ts';
export type { ReplicationFanout } from './types.ts';
export { DEFAULT_FANOUT_POLICY, FANOUT_ENV, decideFanout, estimateCopy, fanoutLimitBytes, fanoutPolicyFromEnvironment, type FanoutPolicy, type FanoutDecision, type CopyEstimate } from './large/decision.ts';
export { LargeImageError, LargeImageErrorName, failureDetails, type LargeImageErrorCode } from './large/errors.ts';
export type * from './large/types.ts';
export { blocksApply, doneKey, eventTimeMs, type AppliedTag, type TagKey, type EventKey, type ReplicationStateStore, type RecordAppliedOptions } from './tag-state.ts';
export { DynamoReplicationState, type DynamoReplicationStateOptions } from './dynamo-state.ts';
export { auditInterruptedCopies, type AuditInterruptedOptions } from './interrupted.ts';
export type { InFlightCopy } from './tag-state.ts';
