// CDK assertions on the large-image fan-out: four step functions, the replicate-large state machine, and each step's least privilege (negative tests).
import { readFileSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ECR_PULL_ACTIONS } from '../../lib/config-grants.ts';
import { STATE_MACHINE_FILES } from '../../lib/registry-manager-stack.ts';
import { buildTestApp, resourcesAllowing, statementsOfRole, type FlatStatement } from './helpers.ts';

const SOURCE = 'arn:<AWS::Partition>:ecr:eu-west-1:111122223333:repository/';
const MIRROR = 'arn:<AWS::Partition>:ecr:us-east-1:111122223333:repository/';
const SOURCES = [`${SOURCE}base/*`, `${SOURCE}team-a/*`, `${SOURCE}tools/builder`];
const TARGETS = [`${MIRROR}mirror/team-a/*`, `${MIRROR}mirror/tools/builder`];
const ACR_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:regman/acr-sp-AbCdEf';
const DOCKERHUB_SECRET = 'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:regman/dockerhub-??????';
const DR_ROLE = 'arn:aws:iam::444455556666:role/regman-replication';
const STEPS = ['Plan', 'CopyBlob', 'Publish', 'Record'] as const;

let template: Template;
const roles: Record<string, FlatStatement[]> = {};
beforeAll(async () => {
  ({ template } = await buildTestApp());
  for (const step of STEPS) roles[step] = statementsOfRole(template, `LargeImage${step}Role`);
});

/** The logical id `<prefix><8 hex>` of the one resource of `type`. */
const logicalIdOf = (type: string, prefix: string): string => {
  const found = Object.keys(template.findResources(type)).filter((id) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${found.length}`);
  return found[0] as string;
};
const functionId = (step: string) => logicalIdOf('AWS::Lambda::Function', `LargeImage${step}Function`);
const stateMachineId = () => logicalIdOf('AWS::StepFunctions::StateMachine', 'LargeImageWorkflowStateMachine');
const ecrActions = (statements: readonly FlatStatement[]) => statements.flatMap((s) => s.actions).filter((a) => a.startsWith('ecr:'));

describe('the step functions', () => {
  it.each([
    ['Plan', 300, 'large-image-plan'],
    ['CopyBlob', 900, 'large-image-copy-blob'],
    ['Publish', 600, 'large-image-publish'],
    ['Record', 60, 'large-image-record'],
  ])('%s: Node.js 22 arm64, X-Ray, %i s, the bundled config and AUDIT_TABLE', (step, timeout, service) => {
    const fn = template.findResources('AWS::Lambda::Function')[functionId(step)];
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: timeout,
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: service,
          REGMAN_CONFIG_PATH: '/var/task/regman.config.json',
          AUDIT_TABLE: { Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesAudit') },
        },
      },
    });
    // Only replicate decides to fan out; a step never starts another execution.
    expect(fn?.Properties.Environment.Variables.REGMAN_LARGE_IMAGE_STATE_MACHINE_ARN).toBeUndefined();
  });
});

describe('the replicate-large state machine', () => {
  it('is a STANDARD state machine from the ASL file, its four Task ARNs substituted', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      DefinitionS3Location: Match.objectLike({ Bucket: Match.anyValue(), Key: Match.stringLikeRegexp('\\.json$') }),
      DefinitionSubstitutions: {
        LargeImagePlanFunctionArn: { 'Fn::GetAtt': [functionId('Plan'), 'Arn'] },
        LargeImageCopyBlobFunctionArn: { 'Fn::GetAtt': [functionId('CopyBlob'), 'Arn'] },
        LargeImagePublishFunctionArn: { 'Fn::GetAtt': [functionId('Publish'), 'Arn'] },
        LargeImageRecordFunctionArn: { 'Fn::GetAtt': [functionId('Record'), 'Arn'] },
      },
    });
  });

  it('substitutes every ${…} placeholder the ASL file uses, and no other', () => {
    // Prepare
    const asl = readFileSync(STATE_MACHINE_FILES.replicateLarge, 'utf8');
    const used = [...new Set([...asl.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]))].sort();

    // Act
    const sm = template.findResources('AWS::StepFunctions::StateMachine')[stateMachineId()];

    // Assess
    expect(Object.keys(sm?.Properties.DefinitionSubstitutions as object).sort()).toEqual(used);
  });

  it('logs every event with execution data to its own log group, and is traced', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionSubstitutions: Match.objectLike({ LargeImagePlanFunctionArn: Match.anyValue() }),
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logicalIdOf('AWS::Logs::LogGroup', 'LargeImageWorkflowLogGroup'), 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('may invoke exactly the four step functions (and their versions), no other function', () => {
    const statements = statementsOfRole(template, 'LargeImageWorkflowStateMachineRole');
    const invocable = resourcesAllowing(statements, 'lambda:InvokeFunction').sort();
    const expected = STEPS.flatMap((s) => [`<${functionId(s)}.Arn>`, `<${functionId(s)}.Arn>:*`]).sort();
    expect(invocable).toEqual(expected);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('lambda:'))).toEqual(
      expect.arrayContaining(['lambda:InvokeFunction']),
    );
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('ecr:') || a.startsWith('dynamodb:') || a.startsWith('secretsmanager:'))).toEqual([]);
  });
});

describe('the replicate function', () => {
  it('knows the state machine (REGMAN_LARGE_IMAGE_STATE_MACHINE_ARN) and may start executions of it only', () => {
    const replicate = template.findResources('AWS::Lambda::Function')[logicalIdOf('AWS::Lambda::Function', 'ReplicationReplicateFunction')];
    expect(replicate?.Properties.Environment.Variables.REGMAN_LARGE_IMAGE_STATE_MACHINE_ARN).toEqual({ Ref: stateMachineId() });
    const statements = statementsOfRole(template, 'ReplicationReplicateRole');
    // The large-image state machine, and the replicate-deferred one by its fixed name (test/cdk/deferral.test.ts).
    expect(resourcesAllowing(statements, 'states:StartExecution').filter((r) => !r.includes('replicate-deferred'))).toEqual([`<${stateMachineId()}>`]);
    expect([...new Set(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('states:')))]).toEqual(['states:StartExecution']);
  });

  it('is the only one: reconcile and the steps cannot start it', () => {
    for (const statements of [statementsOfRole(template, 'ReplicationReconcileRole'), ...STEPS.map((s) => roles[s] as FlatStatement[])]) {
      expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('states:'))).toEqual([]);
    }
  });
});

describe('least privilege per step', () => {
  it('Plan pulls from the sources, and touches no target: no push, no target secret, no target role', () => {
    const plan = roles.Plan as FlatStatement[];
    for (const action of ECR_PULL_ACTIONS) expect(resourcesAllowing(plan, action).sort()).toEqual(SOURCES);
    expect(plan.flatMap((s) => s.resources).filter((r) => r.startsWith(MIRROR))).toEqual([]);
    expect(ecrActions(plan).filter((a) => ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'].includes(a))).toEqual([]);
    expect(resourcesAllowing(plan, 'secretsmanager:GetSecretValue')).toEqual([]);
    expect(resourcesAllowing(plan, 'sts:AssumeRole')).toEqual([]);
  });

  it('CopyBlob pulls from the sources and pushes blobs to the targets, but can NOT put a manifest or tag', () => {
    const copy = roles.CopyBlob as FlatStatement[];
    expect(resourcesAllowing(copy, 'ecr:GetDownloadUrlForLayer').sort()).toEqual(SOURCES);
    for (const action of ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload']) {
      expect(resourcesAllowing(copy, action).sort()).toEqual(TARGETS);
    }
    expect(resourcesAllowing(copy, 'ecr:PutImage')).toEqual([]);
    expect(resourcesAllowing(copy, 'ecr:BatchDeleteImage')).toEqual([]);
    expect(resourcesAllowing(copy, 'secretsmanager:GetSecretValue').sort()).toEqual([ACR_SECRET, DOCKERHUB_SECRET].sort());
    expect(resourcesAllowing(copy, 'sts:AssumeRole')).toEqual([DR_ROLE]);
  });

  it('Publish HEADs and puts manifests at the targets and re-reads manifests at the sources, but uploads no blob and downloads none', () => {
    const publish = roles.Publish as FlatStatement[];
    expect(resourcesAllowing(publish, 'ecr:PutImage').sort()).toEqual(TARGETS);
    expect(resourcesAllowing(publish, 'ecr:BatchGetImage').sort()).toEqual([...SOURCES, ...TARGETS].sort());
    expect(resourcesAllowing(publish, 'ecr:BatchCheckLayerAvailability').sort()).toEqual(TARGETS);
    for (const action of ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:GetDownloadUrlForLayer']) {
      expect(resourcesAllowing(publish, action)).toEqual([]);
    }
    expect(resourcesAllowing(publish, 'ecr:PutImage').filter((r) => r.startsWith(SOURCE))).toEqual([]);
  });

  it('Record only HEADs the targets and appends to the audit log: it can NOT push, nor read the sources', () => {
    const record = roles.Record as FlatStatement[];
    expect(ecrActions(record).filter((a) => a !== 'ecr:GetAuthorizationToken').sort()).toEqual(['ecr:BatchGetImage']);
    expect(resourcesAllowing(record, 'ecr:BatchGetImage').sort()).toEqual(TARGETS);
    expect(resourcesAllowing(record, 'secretsmanager:GetSecretValue').sort()).toEqual([ACR_SECRET, DOCKERHUB_SECRET].sort());
    const audit = record.filter((s) => s.resources.some((r) => /^<TablesAudit[0-9A-F]{8}\.Arn>$/.test(r)));
    expect(audit.flatMap((s) => s.actions).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
  });

  it('Plan and Publish spend from the shared pull budget: GetItem/PutItem on the state table, on budget# keys only, and STATE_TABLE', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    for (const step of ['Plan', 'Publish'] as const) {
      const statements = roles[step] as FlatStatement[];
      expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
      const onState = statements.filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
      expect(onState.flatMap((s) => s.resources)).toEqual([`<${logicalIdOf('AWS::DynamoDB::Table', 'TablesReplicationState')}.Arn>`]);
      // The raw statement carries the LeadingKeys condition (FlatStatement drops conditions).
      const raw = policies
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(`LargeImage${step}Role`))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Condition?: unknown }[])
        .filter((st) => [st.Action].flat().includes('dynamodb:PutItem'));
      expect(raw).toHaveLength(1);
      expect(raw[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['budget#*'] } });
      const fn = template.findResources('AWS::Lambda::Function')[functionId(step)];
      expect(fn?.Properties.Environment.Variables.STATE_TABLE).toEqual({ Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesReplicationState') });
    }
  });

  it('only Record may write the audit log; CopyBlob touches the state table for blob progress only (Query and BatchWriteItem); none the idempotency table', () => {
    const copy = roles.CopyBlob as FlatStatement[];
    const onState = copy.filter((s) => s.resources.some((r) => r.includes('TablesReplicationState')));
    expect(onState.flatMap((s) => s.actions).sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Query']);
    expect(copy.flatMap((s) => s.actions).filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Query']);
    const copyFn = template.findResources('AWS::Lambda::Function')[functionId('CopyBlob')];
    expect(copyFn?.Properties.Environment.Variables.STATE_TABLE).toEqual({ Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesReplicationState') });
    for (const step of STEPS) {
      const resources = (roles[step] as FlatStatement[]).flatMap((s) => s.resources);
      expect(resources.filter((r) => r.includes('TablesIdempotency') || (step === 'Record' && r.includes('TablesReplicationState')))).toEqual([]);
    }
  });

  it('never allows a wildcard action, nor "*" beyond the token and X-Ray', () => {
    for (const step of STEPS) {
      const statements = roles[step] as FlatStatement[];
      expect(statements.flatMap((s) => s.actions).filter((a) => a.includes('*'))).toEqual([]);
      const onStar = statements.filter((s) => s.resources.includes('*')).flatMap((s) => s.actions).sort();
      expect(onStar).toEqual(['ecr:GetAuthorizationToken', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });
});

describe('alarm', () => {
  it('fires on one failed, timed-out or aborted execution', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('replicate-large'),
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ExecutionsFailed', Namespace: 'AWS/States', Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId() } }] }),
          }),
        }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsTimedOut' }) }) }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsAborted' }) }) }),
      ]),
    });
  });
});
