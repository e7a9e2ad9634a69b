// CDK assertions on the stack built from test/cdk/fixtures/replication.yaml: rule, DLQ, alarms, functions, tables, schedule.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SPECS, type TableSpec } from '../../functions/dynamo/tables.ts';
import { ENV } from '../../functions/env.ts';
import { buildTestApp } from './helpers.ts';

let template: Template;
beforeAll(async () => {
  ({ template } = await buildTestApp());
});

/** The logical id `<prefix><8 hex>` of the one resource of `type` (ids follow the construct path). */
const logicalIdOf = (type: string, prefix: string): string => {
  const found = Object.keys(template.findResources(type)).filter((id) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${found.length}`);
  return found[0] as string;
};

describe('push rule', () => {
  it('matches successful ECR pushes of the configured source account, region and repository prefixes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        account: ['111122223333'],
        region: ['eu-west-1'],
        detail: {
          'action-type': ['PUSH'],
          result: ['SUCCESS'],
          'repository-name': [{ prefix: 'base/' }, { prefix: 'team-a/' }, 'tools/builder'],
        },
      },
    });
  });

  it('targets the replicate function with retries, a maximum event age and the DLQ', () => {
    const replicate = logicalIdOf('AWS::Lambda::Function', 'ReplicationReplicateFunction');
    const dlq = logicalIdOf('AWS::SQS::Queue', 'ReplicationDeadLetterQueue');
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [replicate, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        }),
      ],
    });
  });
});

describe('dead-letter queue', () => {
  it('is encrypted and refuses non-TLS requests', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('receives the replicate function\'s failed asynchronous invocations after 2 retries', () => {
    const dlq = logicalIdOf('AWS::SQS::Queue', 'ReplicationDeadLetterQueue');
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalIdOf('AWS::Lambda::Function', 'ReplicationReplicateFunction') },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
  });

  it('alarms as soon as one message is visible', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf('AWS::SQS::Queue', 'ReplicationDeadLetterQueue'), 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on persistent replicate errors and on any reconcile error', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalIdOf('AWS::Lambda::Function', 'ReplicationReplicateFunction') } }],
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalIdOf('AWS::Lambda::Function', 'ReplicationReconcileFunction') } }],
      EvaluationPeriods: 1,
    });
  });

  it('alarms when failed events could not be written to the DLQ', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'DestinationDeliveryFailures' }) }) }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'InvocationsFailedToBeSentToDlq' }) }) }),
      ]),
    });
  });
});

describe('functions', () => {
  it.each(['Replicate', 'Reconcile'])('%s runs Node.js 22 on arm64 with X-Ray, source maps, Powertools and the bundled config', (name) => {
    const fn = template.findResources('AWS::Lambda::Function')[logicalIdOf('AWS::Lambda::Function', `Replication${name}Function`)];
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: logicalIdOf('AWS::Logs::LogGroup', `Replication${name}LogGroup`) } },
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: name.toLowerCase(),
          POWERTOOLS_METRICS_NAMESPACE: 'RegistryManager',
          REGMAN_CONFIG_PATH: '/var/task/regman.config.json',
          AUDIT_TABLE: { Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesAudit') },
          STATE_TABLE: { Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesReplicationState') },
        },
      },
    });
  });

  it('sets the variables the handlers read (functions/env.ts ENV)', () => {
    const variables = template.findResources('AWS::Lambda::Function')[logicalIdOf('AWS::Lambda::Function', 'ReplicationReplicateFunction')]
      ?.Properties.Environment.Variables as Record<string, unknown>;
    for (const name of [ENV.configPath, ENV.auditTable, ENV.idempotencyTable, ENV.stateTable]) expect(variables[name]).toBeDefined();
  });

  it('gives only replicate the idempotency table', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const env = (name: string) => functions[logicalIdOf('AWS::Lambda::Function', `Replication${name}Function`)]?.Properties.Environment.Variables;
    expect(env('Replicate').IDEMPOTENCY_TABLE).toEqual({ Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesIdempotency') });
    expect(env('Reconcile').IDEMPOTENCY_TABLE).toBeUndefined();
  });

  it('keeps each log group for a month (seven functions, the audit anchor\'s included, the replicate-large and replicate-deferred state machines)', () => {
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 9);
    template.resourceCountIs('AWS::Logs::LogGroup', 9);
  });
});

describe('tables', () => {
  const cases: [string, TableSpec][] = [
    ['TablesAudit', TABLE_SPECS.audit],
    ['TablesIdempotency', TABLE_SPECS.idempotency],
    ['TablesReplicationState', TABLE_SPECS.replicationState],
  ];

  it.each(cases)('%s matches its TABLE_SPECS entry (keys, GSIs, TTL, PITR, retention)', (path, spec) => {
    const id = logicalIdOf('AWS::DynamoDB::Table', path);
    const table = template.findResources('AWS::DynamoDB::Table')[id];
    const keySchema = (pk: { name: string }, sk?: { name: string }) => [
      { AttributeName: pk.name, KeyType: 'HASH' },
      ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : []),
    ];
    expect(table?.Properties.KeySchema).toEqual(keySchema(spec.partitionKey, spec.sortKey));
    expect(table?.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table?.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: spec.pointInTimeRecovery });
    expect(table?.Properties.TimeToLiveSpecification).toEqual(
      spec.timeToLiveAttribute ? { AttributeName: spec.timeToLiveAttribute, Enabled: true } : undefined,
    );
    const gsis = (table?.Properties.GlobalSecondaryIndexes ?? []) as Record<string, unknown>[];
    expect(gsis).toEqual(
      spec.globalSecondaryIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: index.projection.type },
      })),
    );
    expect(table?.DeletionPolicy).toBe(spec.retain ? 'Retain' : 'Delete');
    expect(table?.Properties.DeletionProtectionEnabled ?? false).toBe(spec.retain);
  });

  it('keeps the idempotency records\' TTL on `expiration`', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });
});

describe('reconcile schedule', () => {
  it('invokes reconcile hourly by default, through EventBridge Scheduler, with bounded retries', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalIdOf('AWS::Lambda::Function', 'ReplicationReconcileFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        Input: Match.serializedJson({
          id: '<aws.scheduler.execution-id>',
          source: 'regman.reconcile-schedule',
          scheduledTime: '<aws.scheduler.scheduled-time>',
        }),
      }),
    });
  });

  it('takes the schedule from the reconcileSchedule context', async () => {
    const { template: nightly } = await buildTestApp({ reconcileSchedule: 'cron(0 3 * * ? *)' });
    nightly.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
  });

  it('rejects a schedule that is not rate(...) or cron(...)', async () => {
    await expect(buildTestApp({ reconcileSchedule: 'every hour' })).rejects.toThrow(/reconcileSchedule "every hour" is not an EventBridge Scheduler/);
  });
});

describe('outputs', () => {
  it('exports what operators need: the audit table, the DLQ, both function names, the large-image state machine and the promotion tables', () => {
    // No promotion edge in this config: the promotion tables (for regman quarantine|hold) but no promotion state machine.
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual([
      'AuditAnchorBucketName',
      'AuditAnchorKeySecretArn',
      'AuditTableName',
      'DashboardName',
      'DeadLetterQueueUrl',
      'HoldsTableName',
      'LargeImageStateMachineArn',
      'PromotionsTableName',
      'QuarantineTableName',
      'ReconcileFunctionName',
      'ReplicateFunctionName',
    ]);
    template.hasOutput('AuditTableName', { Value: { Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesAudit') } });
  });
});

describe('a config without an ECR source', () => {
  it('has no push rule (nor a pull-stats rule: no ECR registry), and still reconciles and sweeps on schedule', async () => {
    const { template: local } = await buildTestApp({ config: 'config/local.yaml' });
    local.resourceCountIs('AWS::Events::Rule', 0);
    // Reconcile and sweep from the file's `schedules`, and the hourly audit anchor.
    local.resourceCountIs('AWS::Scheduler::Schedule', 3);
    local.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)' });
    local.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(5 minutes)' });
    local.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
  });
});
