// CDK assertions on retention: the scheduled sweep state machine, pull statistics from CloudTrail, and the sweep's IAM (negative tests).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config/index.ts';
import type { TableSpec } from '../../functions/dynamo/tables.ts';
import { Retention } from '../../lib/constructs/retention.ts';
import { RegistryTables, pullStatsSpec, tableFromSpec } from '../../lib/constructs/tables.ts';
import { HANDLER_ENTRIES, STATE_MACHINE_FILES } from '../../lib/registry-manager-stack.ts';
import { retentionAccess } from '../../lib/retention-scopes.ts';
import { FIXTURE_CONFIG, RETENTION_CONFIG, buildTestApp, resourcesAllowing, statementsOfRole, type FlatStatement } from './helpers.ts';

const MAIN = 'arn:<AWS::Partition>:ecr:eu-west-1:111122223333:repository/';
const MIRROR = 'arn:<AWS::Partition>:ecr:us-east-1:111122223333:repository/';
const HARBOR_SECRET = 'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:regman/harbor-robot-??????';
const DR_ROLE = 'arn:aws:iam::444455556666:role/regman-retention';

let template: Template;
beforeAll(async () => {
  ({ template } = await buildTestApp({ config: RETENTION_CONFIG }));
});

const logicalIdIn = (t: Template, type: string, prefix: string): string => {
  const found = Object.keys(t.findResources(type)).filter((id) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${found.length}`);
  return found[0] as string;
};
const logicalIdOf = (type: string, prefix: string) => logicalIdIn(template, type, prefix);
const stateMachineId = () => logicalIdOf('AWS::StepFunctions::StateMachine', 'RetentionWorkflowStateMachine');

describe('the sweep state machine', () => {
  it('is STANDARD, from statemachines/retention-sweep.asl.json (or its placeholder before the file exists), with the list and sweep ARNs substituted', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      DefinitionSubstitutions: {
        RetentionListFunctionArn: { 'Fn::GetAtt': [logicalIdOf('AWS::Lambda::Function', 'RetentionListFunction'), 'Arn'] },
        RetentionSweepFunctionArn: { 'Fn::GetAtt': [logicalIdOf('AWS::Lambda::Function', 'RetentionSweepFunction'), 'Arn'] },
      },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      TracingConfiguration: { Enabled: true },
    });
  });

  it.runIf(existsSync(STATE_MACHINE_FILES.retentionSweep))('substitutes every ${…} placeholder the ASL file uses, and no other', () => {
    const used = [...new Set([...readFileSync(STATE_MACHINE_FILES.retentionSweep, 'utf8').matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]))].sort();
    const sm = template.findResources('AWS::StepFunctions::StateMachine')[stateMachineId()];
    expect(Object.keys(sm?.Properties.DefinitionSubstitutions as object).sort()).toEqual(used);
    expect(sm?.Properties.DefinitionS3Location).toBeDefined();
  });

  it('may invoke exactly the list and sweep functions', () => {
    const invocable = resourcesAllowing(statementsOfRole(template, 'RetentionWorkflowStateMachineRole'), 'lambda:InvokeFunction').sort();
    const ids = ['RetentionListFunction', 'RetentionSweepFunction'].map((p) => logicalIdOf('AWS::Lambda::Function', p));
    expect(invocable).toEqual(ids.flatMap((id) => [`<${id}.Arn>`, `<${id}.Arn>:*`]).sort());
  });

  it('alarms on a failed, timed-out or aborted execution', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('retention sweep'),
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsFailed', Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId() } }] }) }),
        }),
      ]),
    });
  });
});

describe('the schedule', () => {
  it('starts a DRY RUN nightly at 03:00 by default, through its own role', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      Target: Match.objectLike({
        Arn: { Ref: stateMachineId() },
        Input: Match.serializedJson({ mode: 'dry-run' }),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      }),
    });
    const statements = statementsOfRole(template, 'RetentionScheduleRole');
    expect(resourcesAllowing(statements, 'states:StartExecution')).toEqual([`<${stateMachineId()}>`]);
    expect(statements.flatMap((s) => s.actions)).toEqual(['states:StartExecution']);
  });

  it('takes the expression from the retentionSchedule context, and deletes only with retentionApply=true', async () => {
    // Act
    const { template: applied } = await buildTestApp({ config: RETENTION_CONFIG, retentionSchedule: 'cron(30 1 ? * SUN *)', retentionApply: 'true' });
    const { template: notApplied } = await buildTestApp({ config: RETENTION_CONFIG, retentionApply: 'yes' });

    // Assess
    applied.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 ? * SUN *)',
      Target: Match.objectLike({ Input: Match.serializedJson({ mode: 'apply' }) }),
    });
    notApplied.hasResourceProperties('AWS::Scheduler::Schedule', { Target: Match.objectLike({ Input: Match.serializedJson({ mode: 'dry-run' }) }) });
  });

  it("takes both schedules and the mode from the config's `schedules`, and lets the context override them", async () => {
    // Prepare: the retention fixture plus a schedules section.
    const dir = mkdtempSync(join(tmpdir(), 'regman-cdk-schedules-'));
    const config = join(dir, 'registries.yaml');
    writeFileSync(config, `${readFileSync(RETENTION_CONFIG, 'utf8')}\nschedules:\n  reconcile: rate(15 minutes)\n  retention: cron(0 2 ? * SAT *)\n  retentionMode: apply\n`);
    try {
      // Act
      const { template: fromConfig } = await buildTestApp({ config });
      const { template: overridden } = await buildTestApp({ config, retentionSchedule: 'cron(0 4 * * ? *)', retentionApply: 'false' });

      // Assess
      fromConfig.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(15 minutes)' });
      fromConfig.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 2 ? * SAT *)',
        Target: Match.objectLike({ Input: Match.serializedJson({ mode: 'apply' }) }),
      });
      overridden.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 4 * * ? *)',
        Target: Match.objectLike({ Input: Match.serializedJson({ mode: 'dry-run' }) }),
      });
      overridden.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(15 minutes)' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an expression that is not rate(...) or cron(...)', async () => {
    await expect(buildTestApp({ config: RETENTION_CONFIG, retentionSchedule: 'nightly' })).rejects.toThrow(/schedule "nightly" is not an EventBridge Scheduler/);
  });
});

describe('IAM of the sweep', () => {
  let sweep: FlatStatement[];
  let list: FlatStatement[];
  beforeAll(() => {
    sweep = statementsOfRole(template, 'RetentionSweepRole');
    list = statementsOfRole(template, 'RetentionListRole');
  });

  it('may delete (and read) images ONLY in the repositories a policy covers', () => {
    const covered = [`${MAIN}sandbox/*`, `${MAIN}team-a/*`];
    for (const action of ['ecr:BatchDeleteImage', 'ecr:ListImages', 'ecr:DescribeImages', 'ecr:BatchGetImage']) {
      expect(resourcesAllowing(sweep, action).sort()).toEqual(covered);
    }
  });

  it('has NO BatchDeleteImage on repositories no policy covers: other prefixes, the whole registry, an uncovered registry', () => {
    const deletable = resourcesAllowing(sweep, 'ecr:BatchDeleteImage');
    expect(deletable).not.toContain(`${MAIN}*`);
    expect(deletable).not.toContain('*');
    expect(deletable.filter((r) => r.startsWith(MIRROR))).toEqual([]);
    // ecr-dr is reached through its iamRole: the assumed role carries its rights, this role has none there.
    expect(deletable.filter((r) => r.includes(':444455556666:'))).toEqual([]);
    expect(resourcesAllowing(sweep, 'sts:AssumeRole')).toEqual([DR_ROLE]);
  });

  it('reads only the secrets of the registries it sweeps (harbor), not a replication-only registry\'s (dockerhub)', () => {
    for (const statements of [sweep, list]) {
      expect(resourcesAllowing(statements, 'secretsmanager:GetSecretValue')).toEqual([HARBOR_SECRET]);
    }
  });

  it('lists repositories of the covered registries in the list function only, and never deletes there', () => {
    expect(resourcesAllowing(list, 'ecr:DescribeRepositories')).toEqual([`${MAIN}*`]);
    expect(list.flatMap((s) => s.actions).filter((a) => a.startsWith('ecr:') && a !== 'ecr:DescribeRepositories')).toEqual([]);
    expect(resourcesAllowing(sweep, 'ecr:DescribeRepositories')).toEqual([]);
  });

  it('gets a registry login token (manifest HEAD/GET through the registry API) in the sweep only', () => {
    expect(resourcesAllowing(sweep, 'ecr:GetAuthorizationToken')).toEqual(['*']);
    expect(resourcesAllowing(list, 'ecr:GetAuthorizationToken')).toEqual([]);
  });

  it('appends to the audit log from the sweep only', () => {
    const auditWrites = (statements: FlatStatement[]) =>
      statements.filter((s) => s.actions.includes('dynamodb:PutItem') && s.resources.some((r) => /^<TablesAudit[0-9A-F]{8}\.Arn>$/.test(r)));
    expect(auditWrites(sweep)).toHaveLength(1);
    expect(auditWrites(list)).toEqual([]);
  });

  it('reads the promotion locks: PROMOTIONS_TABLE and Scan on that table only, no write', () => {
    const promotions = `<${logicalIdOf('AWS::DynamoDB::Table', 'TablesPromotions')}.Arn>`;
    expect(resourcesAllowing(sweep, 'dynamodb:Scan')).toEqual([promotions]);
    expect(sweep.filter((s) => s.resources.includes(promotions)).flatMap((s) => s.actions)).toEqual(['dynamodb:Scan']);
    expect(resourcesAllowing(list, 'dynamodb:Scan')).toEqual([]);
    const fn = template.findResources('AWS::Lambda::Function')[logicalIdOf('AWS::Lambda::Function', 'RetentionSweepFunction')];
    expect(fn?.Properties.Environment.Variables.PROMOTIONS_TABLE).toEqual({ Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesPromotions') });
  });

  it('gets NO share of Docker Hub\'s pull budget (state table, STATE_TABLE) when no policy covers a Docker Hub registry', () => {
    // dockerhub is a replication target only here (test/cdk/pull-budget-grants.test.ts has the positive case).
    for (const statements of [sweep, list]) expect(statements.filter((s) => s.resources.some((r) => r.includes('TablesReplicationState')))).toEqual([]);
    for (const fn of ['RetentionSweepFunction', 'RetentionListFunction']) {
      expect(template.findResources('AWS::Lambda::Function')[logicalIdOf('AWS::Lambda::Function', fn)]?.Properties.Environment.Variables.STATE_TABLE, fn).toBeUndefined();
    }
  });

  it('is the only role with BatchDeleteImage: replicate, reconcile, the large-image steps and the state machines have none', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const rolesWithDelete = Object.values(policies)
      .filter((p) => (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).some((s) => ([] as string[]).concat(s.Action).includes('ecr:BatchDeleteImage')))
      .flatMap((p) => (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref));
    expect(rolesWithDelete).toEqual([logicalIdOf('AWS::IAM::Role', 'RetentionSweepRole')]);
    expect(resourcesAllowing(statementsOfRole(template, 'ReplicationReplicateRole'), 'ecr:BatchDeleteImage')).toEqual([]);
  });
});

describe('a config without retention policies', () => {
  it('has no sweep: two state machines (replicate-large, replicate-deferred), two schedules (reconcile, audit anchors), no retention function', async () => {
    const { template: plain } = await buildTestApp({ config: FIXTURE_CONFIG });
    plain.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    const schedules = Object.keys(plain.findResources('AWS::Scheduler::Schedule')).sort();
    expect(schedules).toHaveLength(2);
    expect(schedules.some((id) => id.startsWith('ReplicationReconcile'))).toBe(true);
    expect(schedules.some((id) => id.startsWith('AuditAnchors'))).toBe(true);
    expect(Object.keys(plain.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('Retention'))).toEqual([]);
  });
});

// The pullStats spec is written alongside the retention handlers; the construct is tested with a
// stand-in of the agreed shape (pk/sk strings) so that these assertions hold either way.
const STAND_IN_PULL_STATS: TableSpec = {
  logicalName: 'PullStats',
  description: 'stand-in: pulls per digest per day',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [],
  pointInTimeRecovery: false,
  retain: false,
};

describe('pull statistics', () => {
  let pulls: Template;
  beforeAll(async () => {
    // Prepare: the Retention construct in a bare stack, with the pullStats table.
    const config = await loadConfig(RETENTION_CONFIG, { env: {} });
    const stack = new Stack(new App(), 'PullStatsTest');
    const tables = new RegistryTables(stack, 'Tables');
    const spec = pullStatsSpec() ?? STAND_IN_PULL_STATS;
    const pullStats = tables.pullStats ?? { table: tableFromSpec(stack, 'StandInPullStats', spec), spec };
    const retention = new Retention(stack, 'Retention', {
      access: retentionAccess(config),
      tables: Object.assign(Object.create(tables) as RegistryTables, { pullStats }),
      configFile: 'unused.json',
      entries: { list: HANDLER_ENTRIES.retentionList, sweep: HANDLER_ENTRIES.retentionSweep, pullStats: HANDLER_ENTRIES.pullStats },
      depsLockFilePath: 'package-lock.json',
      definitionFile: STATE_MACHINE_FILES.retentionSweep,
      bundle: false,
    });
    // A reader made after the retention (the console's reports): its manifest reads are not pulls either.
    retention.ignorePullsOf(new iam.Role(stack, 'LateReaderRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    pulls = Template.fromStack(stack);
  });

  it('routes CloudTrail BatchGetImage calls (and nothing else) to the pull-stats function', () => {
    pulls.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecr'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ecr.amazonaws.com'], eventName: ['BatchGetImage'] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalIdIn(pulls, 'AWS::Lambda::Function', 'RetentionPullStatsFunction'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdIn(pulls, 'AWS::SQS::Queue', 'RetentionPullStatsDeadLetterQueue'), 'Arn'] } },
        }),
      ],
    });
  });

  it('lets the pull-stats function add to the pullStats table (UpdateItem, PutItem of the event marker) and do nothing else', () => {
    const statements = statementsOfRole(pulls, 'RetentionPullStatsRole');
    const data = statements.flatMap((s) => s.actions).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:') && !a.startsWith('sqs:'));
    expect(data.sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // Never a read, a delete or a scan; no ECR, no secret.
    for (const action of ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:DeleteItem']) expect(resourcesAllowing(statements, action)).toEqual([]);
    const dlq = logicalIdIn(pulls, 'AWS::SQS::Queue', 'RetentionPullStatsDeadLetterQueue');
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('sqs:'))).flatMap((s) => s.resources)).toEqual([`<${dlq}.Arn>`]);
    expect(resourcesAllowing(statements, 'dynamodb:UpdateItem')).toHaveLength(1);
    expect(resourcesAllowing(statements, 'dynamodb:UpdateItem')[0]).toMatch(/PullStats[0-9A-F]{8}\.Arn>$/);
    const fn = pulls.findResources('AWS::Lambda::Function')[logicalIdIn(pulls, 'AWS::Lambda::Function', 'RetentionPullStatsFunction')];
    expect(fn?.Properties.Environment.Variables.PULL_STATS_TABLE).toBeDefined();
  });

  it('gives the sweep read access (Query/GetItem) to the counts, never UpdateItem', () => {
    const sweep = statementsOfRole(pulls, 'RetentionSweepRole');
    const onPulls = sweep.filter((s) => s.resources.some((r) => /PullStats[0-9A-F]{8}\.Arn>$/.test(r)));
    expect(onPulls.flatMap((s) => s.actions).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('does not count regman\'s own manifest reads: the sweep\'s role (and in the stack, every copying role) is ignored', () => {
    const fn = pulls.findResources('AWS::Lambda::Function')[logicalIdIn(pulls, 'AWS::Lambda::Function', 'RetentionPullStatsFunction')];
    const ignored = JSON.stringify(fn?.Properties.Environment.Variables.REGMAN_PULL_STATS_IGNORE_PRINCIPALS);
    expect(ignored).toContain(logicalIdIn(pulls, 'AWS::IAM::Role', 'RetentionSweepRole'));
    expect(ignored).toContain(logicalIdIn(pulls, 'AWS::IAM::Role', 'LateReaderRole'));
  });

  it.runIf(pullStatsSpec() !== undefined)('ignores the pulls of replicate, reconcile, the large-image steps and the sweep in the stack', () => {
    const fn = template.findResources('AWS::Lambda::Function')[logicalIdOf('AWS::Lambda::Function', 'RetentionPullStatsFunction')];
    const ignored = JSON.stringify(fn?.Properties.Environment.Variables.REGMAN_PULL_STATS_IGNORE_PRINCIPALS);
    for (const role of ['ReplicationReplicateRole', 'ReplicationReconcileRole', 'LargeImagePlanRole', 'LargeImageCopyBlobRole', 'LargeImagePublishRole', 'LargeImageRecordRole', 'RetentionSweepRole']) {
      expect(ignored).toContain(`"${logicalIdOf('AWS::IAM::Role', role)}","Arn"`);
    }
  });

  it.runIf(pullStatsSpec() !== undefined)('builds the stack\'s pullStats table from TABLE_SPECS.pullStats', () => {
    const spec = pullStatsSpec() as TableSpec;
    const table = template.findResources('AWS::DynamoDB::Table')[logicalIdOf('AWS::DynamoDB::Table', 'TablesPullStats')];
    expect(table?.Properties.KeySchema).toEqual([
      { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
      ...(spec.sortKey ? [{ AttributeName: spec.sortKey.name, KeyType: 'RANGE' }] : []),
    ]);
    template.resourceCountIs('AWS::Events::Rule', 2);
  });
});
