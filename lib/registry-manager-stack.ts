// The registry-manager stack: tables, the replication pipeline and its alarms, all derived from one validated config.
import { fileURLToPath } from 'node:url';
import { Annotations, CfnOutput, Stack, Stage, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { RegmanConfig } from '../functions/config/index.ts';
import { PROMOTION_TABLES_ENV } from '../functions/promotion/store.ts';
import { writeBundledConfig } from './config-bundle.ts';
import { Approvals, type ConsoleOidcOptions } from './constructs/approvals.ts';
import { AuditAnchors } from './constructs/audit-anchors.ts';
import { OperationsDashboard } from './constructs/dashboard.ts';
import { ReplicationDeferral } from './constructs/deferral.ts';
import { LargeImage } from './constructs/large-image.ts';
import { Observability, type WorkflowAlarm } from './constructs/observability.ts';
import { Promotion } from './constructs/promotion.ts';
import { Replication } from './constructs/replication.ts';
import { Retention } from './constructs/retention.ts';
import { RegistryTables } from './constructs/tables.ts';
import { Webhooks } from './constructs/webhooks.ts';
import { grantRetentionLockRead } from './promotion-grants.ts';
import { promotionAccess } from './promotion-scopes.ts';
import { replicationAccess } from './replication-scopes.ts';
import { reportAccess } from './report-scopes.ts';
import { retentionAccess } from './retention-scopes.ts';

/** Handlers are referenced by path only: lib/ never imports runtime code (docs/DESIGN.md). */
const projectFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
export const HANDLER_ENTRIES = {
  replicate: projectFile('functions/handlers/replicate.ts'),
  reconcile: projectFile('functions/handlers/reconcile.ts'),
  largeImagePlan: projectFile('functions/handlers/large-image-plan.ts'),
  largeImageCopyBlob: projectFile('functions/handlers/large-image-copy-blob.ts'),
  largeImagePublish: projectFile('functions/handlers/large-image-publish.ts'),
  largeImageRecord: projectFile('functions/handlers/large-image-record.ts'),
  retentionList: projectFile('functions/handlers/retention-list.ts'),
  retentionSweep: projectFile('functions/handlers/retention-sweep.ts'),
  pullStats: projectFile('functions/handlers/pull-stats.ts'),
  auditAnchor: projectFile('functions/handlers/audit-anchor.ts'),
  promotionValidate: projectFile('functions/handlers/promotion-validate.ts'),
  promotionScanGate: projectFile('functions/handlers/promotion-scan-gate.ts'),
  promotionSignatureGate: projectFile('functions/handlers/promotion-signature-gate.ts'),
  promotionTestsGate: projectFile('functions/handlers/promotion-tests-gate.ts'),
  promotionQuarantine: projectFile('functions/handlers/promotion-quarantine.ts'),
  promotionRequestApproval: projectFile('functions/handlers/promotion-request-approval.ts'),
  promotionApplyTags: projectFile('functions/handlers/promotion-apply-tags.ts'),
  promotionSync: projectFile('functions/handlers/promotion-sync.ts'),
  promotionRollback: projectFile('functions/handlers/promotion-rollback.ts'),
  promotionRecord: projectFile('functions/handlers/promotion-record.ts'),
  promotionRollbackEnvironment: projectFile('functions/handlers/promotion-rollback-environment.ts'),
  approvalsHttp: projectFile('functions/handlers/approvals-http.ts'),
  console: projectFile('functions/handlers/console.ts'),
  webhook: projectFile('functions/handlers/webhook.ts'),
} as const;
export type HandlerName = keyof typeof HANDLER_ENTRIES;
/** The ASL files (statemachines/), shared with the local stack. */
export const STATE_MACHINE_FILES = {
  replicateLarge: projectFile('statemachines/replicate-large.asl.json'),
  retentionSweep: projectFile('statemachines/retention-sweep.asl.json'),
  promotion: projectFile('statemachines/promotion.asl.json'),
  replicateDeferred: projectFile('statemachines/replicate-deferred.asl.json'),
} as const;
export const DEPS_LOCK_FILE = projectFile('package-lock.json');

export interface RegistryManagerStackProps extends StackProps {
  /** The validated config (functions/config loadConfig); synth never reads a config that did not validate. */
  readonly config: RegmanConfig;
  /** Folder for the bundled config JSON. @default the app's cloud assembly folder (cdk.out) */
  readonly configDir?: string;
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
  /** @see ReplicationProps.reconcileSchedule */
  readonly reconcileSchedule?: string;
  /** @see ObservabilityProps.alarmTopicArn */
  readonly alarmTopicArn?: string;
  /** Handler sources (tests point them elsewhere); each one not given is HANDLER_ENTRIES'. @default HANDLER_ENTRIES */
  readonly entries?: Partial<Readonly<Record<HandlerName, string>>>;
  /** @see RetentionProps.schedule */
  readonly retentionSchedule?: string;
  /** `true`: scheduled sweeps delete (`apply`); `false`: they only plan (`dry-run`). @default the config's `schedules.retentionMode` (dry-run) */
  readonly retentionApply?: boolean;
  /** @see ApprovalsProps.consoleOidc @default IAM authorization on the console pages */
  readonly consoleOidc?: ConsoleOidcOptions;
}

/**
 * Environment-agnostic (no account/region lookups): `cdk synth` runs offline, and the deploy
 * credentials pick the account and region.
 */
export class RegistryManagerStack extends Stack {
  readonly tables: RegistryTables;
  readonly replication: Replication;
  readonly observability: Observability;
  readonly largeImage: LargeImage;
  /** The replicate-deferred state machine: targets out of rate budget wait there. */
  readonly deferral: ReplicationDeferral;
  /** Undefined when the config has no retention policy. */
  readonly retention?: Retention;
  /** Undefined when the config has no promotion edge. */
  readonly promotion?: Promotion;
  /** Approvals and the web console; undefined when no promotion edge has an approval gate. */
  readonly approvals?: Approvals;
  /** The hourly signed anchor of every audit chain head (Object Lock bucket). */
  readonly auditAnchors: AuditAnchors;
  readonly dashboard: OperationsDashboard;
  /** The CI webhook endpoint, when an edge has `triggers`. */
  readonly webhooks?: Webhooks;

  constructor(scope: Construct, id: string, props: RegistryManagerStackProps) {
    super(scope, id, props);
    const access = replicationAccess(props.config);
    for (const name of access.localOnlyCredentials) {
      Annotations.of(this).addWarningV2(
        'regman:local-only-credentials',
        `Registry "${name}" is used by replication but its credentials (env / dockerConfig) exist only on a workstation; in Lambda use secretArn, secretName or iamRole.`,
      );
    }
    if (!access.pushEvents) {
      Annotations.of(this).addWarningV2(
        'regman:no-ecr-source',
        'No replication rule has an ECR source, so no push event can trigger replication; only the scheduled reconcile runs.',
      );
    }

    const configFile = writeBundledConfig(props.configDir ?? assemblyDir(this), this.stackName, props.config);
    this.tables = new RegistryTables(this, 'Tables');
    const entries: Record<HandlerName, string> = { ...HANDLER_ENTRIES, ...props.entries };
    this.replication = new Replication(this, 'Replication', {
      access,
      tables: this.tables,
      configFile,
      readQuarantine: props.config.replication.some((rule) => rule.protected === true),
      replicateEntry: entries.replicate,
      reconcileEntry: entries.reconcile,
      depsLockFilePath: DEPS_LOCK_FILE,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
      ...defined('reconcileSchedule', props.reconcileSchedule ?? props.config.schedules.reconcile),
    });

    // Large images fan out over the replicate-large state machine (docs/LARGE_IMAGES.md).
    this.largeImage = new LargeImage(this, 'LargeImage', {
      access,
      tables: this.tables,
      configFile,
      entries: {
        plan: entries.largeImagePlan,
        copyBlob: entries.largeImageCopyBlob,
        publish: entries.largeImagePublish,
        record: entries.largeImageRecord,
      },
      depsLockFilePath: DEPS_LOCK_FILE,
      definitionFile: STATE_MACHINE_FILES.replicateLarge,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
    });
    this.largeImage.allowStartFrom(this.replication.replicate);
    // Rate budgets: a target out of budget waits in the replicate-deferred state machine instead of failing.
    this.deferral = new ReplicationDeferral(this, 'Deferral', { replicate: this.replication.replicate, deadLetterQueue: this.replication.deadLetterQueue, definitionFile: STATE_MACHINE_FILES.replicateDeferred, ...(props.bundle !== undefined ? { requireDefinition: props.bundle } : {}) });

    if (props.config.retention.length > 0) this.retention = this.retentionSweep(props, entries, configFile);
    if (props.config.promotion.length > 0) this.promotion = this.promotionWorkflow(props, entries, configFile);
    // Approvals and the web console (docs/OPERATIONS.md#approvals-and-the-web-console); the promotion's RequestApproval binds to it as requester.
    if (props.config.promotion.some((edge) => edge.gates.approval)) {
      this.approvals = new Approvals(this, 'Approvals', {
        config: props.config,
        approvalsTable: this.tables.approvals,
        auditTable: this.tables.audit,
        configFile,
        entries: { approvals: entries.approvalsHttp, console: entries.console },
        depsLockFilePath: DEPS_LOCK_FILE,
        ...(props.consoleOidc ? { consoleOidc: props.consoleOidc } : {}),
        ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
      });
      const { PromotionRequestApprovalFunctionArn: requester, PromotionRecordFunctionArn: record } = this.promotion?.functions ?? {};
      // The report pages read the audit log, the pull statistics and every configured registry.
      this.approvals.bindReports(reportAccess(props.config), this.tables.pullStats);
      // The cost inventory reads manifests with BatchGetImage: not a pull that keeps an image alive.
      this.retention?.ignorePullsOf(this.approvals.console.role);
      if (this.promotion && requester && record) this.approvals.allowCompletingTasksOf(this.promotion.workflow.stateMachine).bindRequester(requester).bindCloser(record);
    }

    // CI webhooks start promotions the edges' triggers map (docs/PROMOTION_WORKFLOW.md "CI webhooks").
    if (this.promotion && props.config.promotion.some((edge) => edge.triggers.length > 0)) {
      this.webhooks = new Webhooks(this, 'Webhooks', {
        entry: entries.webhook,
        configFile,
        depsLockFilePath: DEPS_LOCK_FILE,
        stateMachine: this.promotion.workflow.stateMachine,
        auditTable: this.tables.audit,
        ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
      });
    }

    const workflows: WorkflowAlarm[] = [
      {
        id: 'LargeImageExecutionsFailed',
        stateMachine: this.largeImage.workflow.stateMachine,
        description:
          'regman: a large-image replication (replicate-large) failed, timed out or was aborted. Every target\'s outcome is in the audit ' +
          'log (action replicate); fix the cause and redrive the execution, it resumes (docs/LARGE_IMAGES.md#resuming).',
      },
    ];
    if (this.retention) {
      workflows.push({
        id: 'RetentionSweepExecutionsFailed',
        stateMachine: this.retention.workflow.stateMachine,
        description:
          'regman: the retention sweep execution failed, timed out or was aborted (one repository failing does not fail it). ' +
          'Check the execution history and the retention-list / retention-sweep logs (docs/OPERATIONS.md#retention-sweeps).',
      });
    }
    this.observability = new Observability(this, 'Observability', {
      replication: this.replication,
      workflows,
      deadLetterQueues: this.retention?.pullStats
        ? [
            {
              id: 'PullStatsDeadLetterMessages',
              queue: this.retention.pullStats.deadLetterQueue,
              description:
                'regman: CloudTrail pull events could not be counted; until replayed, those images look less pulled than they are to ' +
                'pull-based retention rules (docs/OPERATIONS.md#retention-sweeps).',
            },
          ]
        : [],
      ...(props.alarmTopicArn !== undefined ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });

    // The audit anchors and the operations dashboard (issue 11; docs/AUDIT.md, docs/OPERATIONS.md).
    this.auditAnchors = new AuditAnchors(this, 'AuditAnchors', {
      auditTable: this.tables.audit,
      entry: entries.auditAnchor,
      depsLockFilePath: DEPS_LOCK_FILE,
      configFile,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
    });
    this.dashboard = new OperationsDashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-operations`,
      deadLetterQueues: [
        { label: 'replication DLQ', queue: this.replication.deadLetterQueue },
        ...(this.retention?.pullStats ? [{ label: 'pull statistics DLQ', queue: this.retention.pullStats.deadLetterQueue }] : []),
      ],
      ...(this.promotion ? { promotion: this.promotion.workflow.stateMachine } : {}),
      anchorFunction: this.auditAnchors.anchor.function,
    });
    new CfnOutput(this, 'AuditAnchorBucketName', { value: this.auditAnchors.bucket.bucketName, description: 'The Object Lock bucket of the signed head anchors (regman audit verify --anchor-bucket)' });
    new CfnOutput(this, 'AuditAnchorKeySecretArn', { value: this.auditAnchors.keySecret.secretArn, description: 'Put the Ed25519 anchor signing key here once (docs/AUDIT.md#anchors)' });
    new CfnOutput(this, 'DashboardName', { value: `${this.stackName}-operations`, description: 'The CloudWatch operations dashboard' });

    // What operators and `regman audit --table` need after a deploy (docs/OPERATIONS.md).
    const outputs: Record<string, [string, string]> = {
      AuditTableName: [this.tables.audit.tableName, 'The audit log table (regman audit query|verify)'],
      DeadLetterQueueUrl: [this.replication.deadLetterQueue.queueUrl, 'Push events that failed every retry'],
      ReplicateFunctionName: [this.replication.replicate.function.functionName, 'Replays a dead-lettered event'],
      ReconcileFunctionName: [this.replication.reconcile.function.functionName, 'Runs a reconcile on demand'],
      LargeImageStateMachineArn: [this.largeImage.workflow.stateMachine.stateMachineArn, 'replicate-large: redrive a failed large-image copy'],
      ...(this.approvals
        ? {
            ConsoleUrl: [this.approvals.url, 'The web console; approval links point here'] as [string, string],
            ApprovalsTableName: [this.tables.approvals.tableName, 'REGMAN_APPROVALS_TABLE for regman approvals list|approve|reject'] as [string, string],
          }
        : {}),
      ...(this.retention
        ? {
            RetentionStateMachineArn: [
              this.retention.workflow.stateMachine.stateMachineArn,
              'Starts a retention sweep on demand (input {"mode": "dry-run"} or {"mode": "apply"})',
            ] as [string, string],
          }
        : {}),
      ...(this.webhooks ? { WebhookUrl: [this.webhooks.url, 'CI webhooks: <url>/github and <url>/gitlab, with the secret in WebhookSecretArn'] as [string, string], WebhookSecretArn: [this.webhooks.secret.secretArn, 'The shared webhook secret to set in GitHub / GitLab'] as [string, string] } : {}),
      PromotionsTableName: [this.tables.promotions.tableName, 'PROMOTIONS_TABLE for regman promote|promotions|rollback|hold'],
      QuarantineTableName: [this.tables.quarantine.tableName, 'QUARANTINE_TABLE for regman quarantine'],
      HoldsTableName: [this.tables.holds.tableName, 'HOLDS_TABLE for regman hold'],
      ...(this.promotion
        ? {
            PromotionStateMachineArn: [this.promotion.workflow.stateMachine.stateMachineArn, 'REGMAN_PROMOTION_STATE_MACHINE_ARN: regman promote starts it'] as [string, string],
            PromotionRollbackFunctionName: [this.promotion.rollbackEnvironment.function.functionName, 'REGMAN_PROMOTION_ROLLBACK_FUNCTION: regman rollback invokes it'] as [string, string],
          }
        : {}),
    };
    for (const [id, [value, description]] of Object.entries(outputs)) new CfnOutput(this, id, { value, description });
  }

  /** The promotion state machine and its functions, scoped to what the edges touch (docs/PROMOTION_WORKFLOW.md). */
  private promotionWorkflow(props: RegistryManagerStackProps, entries: Record<HandlerName, string>, configFile: string): Promotion {
    const access = promotionAccess(props.config);
    for (const name of access.localOnlyCredentials) {
      Annotations.of(this).addWarningV2(
        'regman:promotion-local-only-credentials',
        `Registry "${name}" is in a promotion environment but its credentials (env / dockerConfig) exist only on a workstation; in Lambda use secretArn, secretName or iamRole.`,
      );
    }
    return new Promotion(this, 'Promotion', {
      access,
      tables: this.tables,
      configFile,
      entries: {
        validate: entries.promotionValidate,
        scanGate: entries.promotionScanGate,
        signatureGate: entries.promotionSignatureGate,
        testsGate: entries.promotionTestsGate,
        quarantine: entries.promotionQuarantine,
        requestApproval: entries.promotionRequestApproval,
        applyTags: entries.promotionApplyTags,
        sync: entries.promotionSync,
        rollback: entries.promotionRollback,
        record: entries.promotionRecord,
        rollbackEnvironment: entries.promotionRollbackEnvironment,
      },
      depsLockFilePath: DEPS_LOCK_FILE,
      definitionFile: STATE_MACHINE_FILES.promotion,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
    });
  }

  /** The retention sweep over what the policies cover, and pull statistics when some covered registry is ECR. */
  private retentionSweep(props: RegistryManagerStackProps, entries: Record<HandlerName, string>, configFile: string): Retention {
    const access = retentionAccess(props.config);
    for (const name of access.localOnlyCredentials) {
      Annotations.of(this).addWarningV2(
        'regman:retention-local-only-credentials',
        `Registry "${name}" is covered by a retention policy but its credentials (env / dockerConfig) exist only on a workstation; in Lambda use secretArn, secretName or iamRole.`,
      );
    }
    const coversEcr = access.registries.some((name) => props.config.registries[name]?.kind === 'ecr');
    if (!this.tables.pullStats) {
      Annotations.of(this).addWarningV2(
        'regman:no-pull-stats-table',
        'TABLE_SPECS has no pullStats table: pull statistics are not collected, and pull-based retention rules see only ECR\'s lastRecordedPullTime.',
      );
    }
    const retention = new Retention(this, 'Retention', {
      access,
      tables: this.tables,
      configFile,
      entries: { list: entries.retentionList, sweep: entries.retentionSweep, pullStats: entries.pullStats },
      depsLockFilePath: DEPS_LOCK_FILE,
      definitionFile: STATE_MACHINE_FILES.retentionSweep,
      pullStats: coversEcr,
      ignorePullsBy: [
        this.replication.replicate.role,
        this.replication.reconcile.role,
        ...Object.values(this.largeImage.functions).map((fn) => fn.role),
      ],
      mode: (props.retentionApply ?? props.config.schedules.retentionMode === 'apply') ? 'apply' : 'dry-run',
      ...defined('schedule', props.retentionSchedule ?? props.config.schedules.retention),
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
    });
    // Retention never deletes what promotion put in place: the sweep reads the promotion locks.
    retention.sweep.function.addEnvironment(PROMOTION_TABLES_ENV.promotions, this.tables.promotions.tableName);
    grantRetentionLockRead(retention.sweep.role, this.tables.promotions);
    return retention;
  }
}

function assemblyDir(scope: Construct): string {
  const stage = Stage.of(scope);
  if (!stage) throw new Error('RegistryManagerStack must be created inside an App (or pass configDir)');
  return stage.outdir;
}

/**
 * `{ key: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). The schedules
 * use it: the CDK context (props) overrides the config's `schedules`; neither, the construct's default.
 */
function defined<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
