// Replication on push: the ECR push rule → replicate Lambda, its dead-letter queue, and the scheduled reconcile.
import { Aws, Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantReplicationAccess } from '../config-grants.ts';
import { acknowledgeNag, acknowledgeWildcardResources } from '../nag.ts';
import type { NameScope, PushEventFilter, ReplicationAccess } from '../replication-scopes.ts';
import { BaseFunction } from './base-function.ts';
import type { RegistryTables } from './tables.ts';

/** How often reconcile runs unless configured: hourly, so a DLQ'd push is repaired within the hour. */
export const DEFAULT_RECONCILE_SCHEDULE = 'rate(1 hour)';

export interface ReplicationProps {
  /** What the config's replication rules touch (lib/replication-scopes.ts). */
  readonly access: ReplicationAccess;
  readonly tables: RegistryTables;
  /** The bundled config JSON (lib/config-bundle.ts). */
  readonly configFile: string;
  /** A rule has `protected: true`: replicate and reconcile read the quarantine (GetItem) to skip quarantined digests. */
  readonly readQuarantine?: boolean;
  /** Handler sources: functions/handlers/replicate.ts and reconcile.ts. */
  readonly replicateEntry: string;
  readonly reconcileEntry: string;
  readonly depsLockFilePath: string;
  /**
   * An EventBridge Scheduler expression: `rate(1 hour)`, `cron(0 3 * * ? *)`, `at(...)` is not allowed.
   * @default DEFAULT_RECONCILE_SCHEDULE
   */
  readonly reconcileSchedule?: string;
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
  /** @default Duration.minutes(10) */
  readonly replicateTimeout?: Duration;
  /** @default Duration.minutes(15) */
  readonly reconcileTimeout?: Duration;
}

/**
 * The replication pipeline. Failure path of a push event:
 * EventBridge → (its own retries, for delivery failures) → replicate (Lambda's async retries, for
 * function errors) → the dead-letter queue, from either side. Reconcile repairs what the DLQ holds.
 */
export class Replication extends Construct {
  readonly replicate: BaseFunction;
  readonly reconcile: BaseFunction;
  readonly deadLetterQueue: sqs.Queue;
  /** Undefined when no rule has an ECR source: no push event could start one. */
  readonly pushRule?: events.Rule;
  readonly reconcileSchedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: ReplicationProps) {
    super(scope, id);
    const schedule = props.reconcileSchedule ?? DEFAULT_RECONCILE_SCHEDULE;
    if (!/^(rate|cron)\(.+\)$/.test(schedule)) {
      throw new Error(`Replication: reconcileSchedule "${schedule}" is not an EventBridge Scheduler rate(...) or cron(...) expression`);
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNag(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue IS the dead-letter queue (of the EventBridge target and of the replicate function\'s asynchronous invocations); ' +
        'a DLQ needs no DLQ of its own.',
    );

    const shared = {
      configFile: props.configFile,
      depsLockFilePath: props.depsLockFilePath,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
    };
    this.replicate = new BaseFunction(this, 'Replicate', {
      ...shared,
      entry: props.replicateEntry,
      description: 'Copies each ECR push to every matching target registry, one audit record per target',
      serviceName: 'replicate',
      timeout: props.replicateTimeout ?? Duration.minutes(10),
      // After Lambda's 2 retries, the event (with the error) goes to the DLQ.
      onFailure: new SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });
    this.replicate.bindAuditTable(props.tables.audit).bindIdempotencyTable(props.tables.idempotency).bindStateTable(props.tables.replicationState);

    this.reconcile = new BaseFunction(this, 'Reconcile', {
      ...shared,
      entry: props.reconcileEntry,
      description: 'Compares every replication source with its targets and copies what is missing or different',
      serviceName: 'reconcile',
      timeout: props.reconcileTimeout ?? Duration.minutes(15),
      // A failed run is not retried: the next scheduled run does the same work; the error alarm reports it.
      retryAttempts: 0,
    });
    this.reconcile.bindAuditTable(props.tables.audit).bindStateTable(props.tables.replicationState);

    if (props.readQuarantine) {
      this.replicate.readQuarantineTable(props.tables.quarantine);
      this.reconcile.readQuarantineTable(props.tables.quarantine);
    }
    grantReplicationAccess(this.replicate.role, props.access);
    // Who pushed: CloudTrail LookupEvents (functions/replication/pusher/) has no resource-level permissions.
    this.replicate.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudtrail:LookupEvents'], resources: ['*'] }));
    acknowledgeWildcardResources(this.replicate.role, ['*'], 'cloudtrail:LookupEvents supports no resource-level permissions (read-only; finds the PutImage record of the pusher).');
    grantReplicationAccess(this.reconcile.role, props.access, { listSourceRepositories: true });

    if (props.access.pushEvents) {
      this.pushRule = new events.Rule(this, 'PushRule', {
        description: 'ECR pushes to repositories that a replication rule sources',
        eventPattern: pushEventPattern(props.access.pushEvents),
      });
      this.pushRule.addTarget(
        new targets.LambdaFunction(this.replicate.function, {
          // EventBridge's own retries cover delivery failures (throttling, service errors), not function errors.
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.deadLetterQueue,
        }),
      );
    }

    // An own role for the schedule (instead of the stack-wide singleton LambdaInvoke would make), limited
    // to schedules of this account (confused-deputy guard), so its one finding is acknowledged here.
    const scheduleRole = new iam.Role(this, 'ReconcileScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'EventBridge Scheduler: invokes the reconcile function',
    });
    acknowledgeWildcardResources(
      scheduleRole,
      [`${this.reconcile.function.functionArn}:*`],
      'lambda:InvokeFunction on the reconcile function\'s versions and aliases (`<arn>:*`), as Function.grantInvoke grants; no other function.',
    );
    this.reconcileSchedule = new scheduler.Schedule(this, 'ReconcileSchedule', {
      description: 'Scheduled reconcile of every replication rule',
      schedule: scheduler.ScheduleExpression.expression(schedule),
      target: new LambdaInvoke(this.reconcile.function, {
        // The handler (functions/handlers/reconcile.ts) takes `id` as the correlation id and, without
        // `rules`, reconciles every rule.
        input: scheduler.ScheduleTargetInput.fromObject({
          id: scheduler.ContextAttribute.executionId,
          source: 'regman.reconcile-schedule',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
        role: scheduleRole,
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    });
  }
}

/**
 * The EventBridge pattern of a successful ECR push, narrowed to the configured source accounts, regions
 * and repositories (exact names, or `prefix` matching).
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 */
export function pushEventPattern(filter: PushEventFilter): events.EventPattern {
  return {
    source: ['aws.ecr'],
    detailType: ['ECR Image Action'],
    account: [...filter.accounts],
    region: [...filter.regions],
    detail: {
      'action-type': ['PUSH'],
      result: ['SUCCESS'],
      ...(filter.repositoryNames ? { 'repository-name': filter.repositoryNames.map(repositoryMatcher) } : {}),
    },
  };
}

function repositoryMatcher(scope: NameScope): string | { prefix: string } {
  return 'exact' in scope ? scope.exact : { prefix: scope.prefix };
}
