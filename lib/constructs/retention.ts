// Retention (issue 5): the nightly sweep (Scheduler → Step Functions → list + sweep Lambdas) and pull statistics from CloudTrail.
import { Aws, Duration, Fn, Lazy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TableSpec } from '../../functions/dynamo/tables.ts';
import { grantRetentionAccess } from '../config-grants.ts';
import { acknowledgeNag } from '../nag.ts';
import type { RetentionAccess } from '../retention-scopes.ts';
import { BaseFunction } from './base-function.ts';
import type { RegistryTables } from './tables.ts';
import { Workflow } from './workflow.ts';

/** Comma-separated role ARNs whose BatchGetImage calls are not pulls (functions/retention/pull-stats.ts PULL_STATS_ENV). */
export const PULL_STATS_IGNORE_VARIABLE = 'REGMAN_PULL_STATS_IGNORE_PRINCIPALS';

/** Nightly at 03:00 UTC unless configured (context `retentionSchedule`). */
export const DEFAULT_RETENTION_SCHEDULE = 'cron(0 3 * * ? *)';

/** What a scheduled sweep does: plan and audit only (`dry-run`), or delete (`apply`, opt-in). */
export type RetentionMode = 'dry-run' | 'apply';

/** Handler sources (functions/handlers/retention-list.ts, retention-sweep.ts, pull-stats.ts). */
export interface RetentionEntries {
  readonly list: string;
  readonly sweep: string;
  readonly pullStats: string;
}

export interface RetentionProps {
  /** What the config's retention policies cover (lib/retention-scopes.ts). */
  readonly access: RetentionAccess;
  readonly tables: RegistryTables;
  /** The bundled config JSON (lib/config-bundle.ts). */
  readonly configFile: string;
  readonly entries: RetentionEntries;
  readonly depsLockFilePath: string;
  /** statemachines/retention-sweep.asl.json (absolute path). */
  readonly definitionFile: string;
  /** EventBridge Scheduler `cron(...)` or `rate(...)`. @default DEFAULT_RETENTION_SCHEDULE */
  readonly schedule?: string;
  /** `apply` deletes; anything else only plans. Deleting is opt-in. @default 'dry-run' */
  readonly mode?: RetentionMode;
  /** Count pulls from CloudTrail (needs an ECR registry under some policy). @default true */
  readonly pullStats?: boolean;
  /**
   * Roles whose BatchGetImage calls are regman's own reads (replicate, reconcile, large-image steps),
   * not pulls: REGMAN_PULL_STATS_IGNORE_PRINCIPALS. The sweep's own role is always added. @default none
   */
  readonly ignorePullsBy?: readonly iam.IRole[];
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
}

/**
 * The retention sweep. Path of a night's run: Scheduler (input `{"mode": …}`) → the retention-sweep
 * state machine → List (registries × repositories the policies cover) → Map of Sweep (one item per
 * repository; one failing does not stop the others) → summary. Pull counts arrive all day from
 * CloudTrail `BatchGetImage` events through an EventBridge rule into the pullStats table.
 */
export class Retention extends Construct {
  readonly list: BaseFunction;
  readonly sweep: BaseFunction;
  readonly workflow: Workflow;
  readonly schedule: scheduler.Schedule;
  readonly mode: RetentionMode;
  /** Undefined when TABLE_SPECS has no pullStats table yet, or `pullStats: false`. */
  readonly pullStats?: { readonly function: BaseFunction; readonly rule: events.Rule; readonly deadLetterQueue: sqs.Queue };
  /** Roles whose BatchGetImage is not a pull (REGMAN_PULL_STATS_IGNORE_PRINCIPALS, resolved at synth). */
  private readonly ignoredPullers: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: RetentionProps) {
    super(scope, id);
    const schedule = props.schedule ?? DEFAULT_RETENTION_SCHEDULE;
    if (!/^(rate|cron)\(.+\)$/.test(schedule)) {
      throw new Error(`Retention: schedule "${schedule}" is not an EventBridge Scheduler rate(...) or cron(...) expression`);
    }
    this.mode = props.mode ?? 'dry-run';

    const shared = {
      configFile: props.configFile,
      depsLockFilePath: props.depsLockFilePath,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
    };
    const pullStatsTable = props.tables.pullStats;

    this.list = new BaseFunction(this, 'List', {
      ...shared,
      entry: props.entries.list,
      description: 'Retention: lists the registries and repositories the policies cover, one Map item each',
      serviceName: 'retention-list',
      timeout: Duration.minutes(5),
      // Invoked synchronously by Step Functions, which retries per the ASL.
      retryAttempts: 0,
    });
    // The deps factory requires AUDIT_TABLE; listing appends nothing.
    this.list.nameAuditTable(props.tables.audit);
    grantRetentionAccess(this.list.role, props.access, 'list');

    this.sweep = new BaseFunction(this, 'Sweep', {
      ...shared,
      entry: props.entries.sweep,
      description: 'Retention: plans one repository and, in apply mode, deletes what the policy expires (audited)',
      serviceName: 'retention-sweep',
      timeout: Duration.minutes(15),
      retryAttempts: 0,
    });
    this.sweep.bindAuditTable(props.tables.audit);
    if (pullStatsTable) this.sweep.bindPullStatsTable(pullStatsTable.table, pullStatsTable.spec, 'read');
    grantRetentionAccess(this.sweep.role, props.access, 'sweep');
    // The sweep reads manifests (Docker Hub pulls) to build its inventory: with a covered Docker Hub registry that
    // sets `rateLimit.pulls` it spends from the pull budget every invocation shares (`budget#` items), as replicate
    // does. List only calls Hub's repository API, which is not a pull: it gets nothing.
    if (props.access.pullBudget.length > 0) this.sweep.bindPullBudgetTable(props.tables.replicationState);

    this.workflow = new Workflow(this, 'Workflow', {
      definitionFile: props.definitionFile,
      description: 'regman retention sweep: list the covered repositories, sweep each (Map), summarize (docs/RETENTION.md)',
      functions: { RetentionListFunctionArn: this.list, RetentionSweepFunctionArn: this.sweep },
      requireDefinition: props.bundle ?? true,
    });

    // An own role for the schedule, limited to schedules of this account (confused-deputy guard);
    // StepFunctionsStartExecution grants it states:StartExecution on this state machine only.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'EventBridge Scheduler: starts the retention sweep state machine',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Retention sweep of every policy (${this.mode}${this.mode === 'dry-run' ? ': plans and audits, deletes nothing' : ': deletes'})`,
      schedule: scheduler.ScheduleExpression.expression(schedule),
      target: new StepFunctionsStartExecution(this.workflow.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ mode: this.mode }),
        role: scheduleRole,
        // A missed night is retried within the hour; the next night runs anyway.
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    });

    if (pullStatsTable && (props.pullStats ?? true)) this.pullStats = this.pullStatsPipeline(props, shared, pullStatsTable);
  }

  /** Also leaves out `role`'s reads (a function made after the retention, such as the console's reports) from the pull counts. */
  ignorePullsOf(role: iam.IRole): this {
    this.ignoredPullers.push(role);
    return this;
  }

  /** CloudTrail BatchGetImage → EventBridge rule → pull-stats Lambda (UpdateItem on the pullStats table only). */
  private pullStatsPipeline(
    props: RetentionProps,
    shared: { configFile: string; depsLockFilePath: string; bundle?: boolean },
    pullStatsTable: { readonly table: dynamodb.Table; readonly spec: TableSpec },
  ): NonNullable<Retention['pullStats']> {
    const deadLetterQueue = new sqs.Queue(this, 'PullStatsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNag(
      deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue IS the dead-letter queue of the pull-stats rule target and function; a DLQ needs no DLQ of its own.',
    );
    const fn = new BaseFunction(this, 'PullStats', {
      ...shared,
      entry: props.entries.pullStats,
      description: 'Counts ECR pulls (CloudTrail BatchGetImage) per digest per day for retention\'s pull rules',
      serviceName: 'pull-stats',
      timeout: Duration.seconds(30),
      memorySize: 256,
      // A lost count makes an image look less used than it is: failed events are kept for a replay.
      onFailure: new SqsDestination(deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });
    fn.bindPullStatsTable(pullStatsTable.table, pullStatsTable.spec, 'count');
    // Reading manifests with BatchGetImage shows in CloudTrail like a pull (functions/registries/ecr.ts):
    // regman's own reads must not keep images alive.
    this.ignoredPullers.push(...(props.ignorePullsBy ?? []), this.sweep.role);
    fn.function.addEnvironment(PULL_STATS_IGNORE_VARIABLE, Lazy.string({ produce: () => Fn.join(',', this.ignoredPullers.map((r) => r.roleArn)) }));

    const rule = new events.Rule(this, 'PullStatsRule', {
      description: 'ECR image pulls recorded by CloudTrail (BatchGetImage), counted per digest per day',
      eventPattern: PULL_EVENT_PATTERN,
    });
    rule.addTarget(new targets.LambdaFunction(fn.function, { retryAttempts: 4, maxEventAge: Duration.hours(2), deadLetterQueue }));
    return { function: fn, rule, deadLetterQueue };
  }
}

/**
 * CloudTrail's record of an ECR pull, as EventBridge delivers it (needs a trail, or CloudTrail's default
 * management-event history, in the registry's account and region).
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
 */
export const PULL_EVENT_PATTERN: events.EventPattern = {
  source: ['aws.ecr'],
  detailType: ['AWS API Call via CloudTrail'],
  detail: { eventSource: ['ecr.amazonaws.com'], eventName: ['BatchGetImage'] },
};
