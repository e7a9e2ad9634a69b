// CDK assertions on promotion: the state machine from the ASL (no ${…} left), the promotion tables, and each function's least-privilege IAM (negative cases).
import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SPECS, type TableSpec } from '../../functions/dynamo/tables.ts';
import { STATE_MACHINE_FILES } from '../../lib/registry-manager-stack.ts';
import { buildTestApp, resourcesAllowing, statementsOfRole, type FlatStatement } from './helpers.ts';

const PROMOTION_CONFIG = 'test/cdk/fixtures/promotion.yaml';
const DEV = 'arn:<AWS::Partition>:ecr:eu-west-1:111122223333:repository/*';
const STAGING = 'arn:<AWS::Partition>:ecr:eu-central-1:111122223333:repository/*';
const MIRROR = 'arn:<AWS::Partition>:ecr:us-west-2:111122223333:repository/';
const PROD_ROLE = 'arn:aws:iam::444455556666:role/regman-promotion';
const secret = (name: string) => `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????`;

/** The functions of the promotion construct (logical id prefix Promotion<Id>). */
const FUNCTIONS = ['Validate', 'ScanGate', 'SignatureGate', 'TestsGate', 'Quarantine', 'RequestApproval', 'ApplyTags', 'Sync', 'Rollback', 'Record', 'RollbackEnvironment'] as const;
type Fn = (typeof FUNCTIONS)[number];

let template: Template;
beforeAll(async () => {
  ({ template } = await buildTestApp({ config: PROMOTION_CONFIG }));
});

const logicalId = (type: string, prefix: string): string => {
  const found = Object.keys(template.findResources(type)).filter((id) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${found.length}`);
  return found[0] as string;
};
const statements = (fn: Fn): FlatStatement[] => statementsOfRole(template, `Promotion${fn}Role`);
const allows = (fn: Fn, action: string): string[] => resourcesAllowing(statements(fn), action).sort();
const actionsOf = (fn: Fn): string[] => [...new Set(statements(fn).flatMap((s) => s.actions))];
const tableArn = (id: string) => `<${logicalId('AWS::DynamoDB::Table', `Tables${id}`)}.Arn>`;

describe('the promotion state machine', () => {
  it('substitutes every ${…} placeholder of statemachines/promotion.asl.json with a function ARN, leaving none', () => {
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).find((r) =>
      Object.keys((r.Properties.DefinitionSubstitutions ?? {}) as object).includes('PromotionValidateFunctionArn'),
    );
    const substitutions = sm?.Properties.DefinitionSubstitutions as Record<string, { 'Fn::GetAtt': [string, string] }>;
    const asl = readFileSync(STATE_MACHINE_FILES.promotion, 'utf8');
    const used = [...new Set([...asl.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]))].sort();
    expect(Object.keys(substitutions).sort()).toEqual(used);
    // What CloudFormation does at deploy time: replace each ${key}; nothing may be left.
    let definition = asl;
    for (const [key, value] of Object.entries(substitutions)) {
      expect(value['Fn::GetAtt'][1]).toBe('Arn');
      definition = definition.split(`\${${key}}`).join(`arn:aws:lambda:eu-west-1:111122223333:function:${value['Fn::GetAtt'][0]}`);
    }
    expect(definition).not.toMatch(/\$\{/);
    expect(JSON.parse(definition).States.RequestApproval.Parameters.FunctionName).toMatch(/function:PromotionRequestApprovalFunction/);
    expect(sm?.Properties.StateMachineType).toBe('STANDARD');
  });

  it('may invoke exactly its ten task functions (not regman rollback\'s, not the test Lambda)', () => {
    const invocable = resourcesAllowing(statementsOfRole(template, 'PromotionWorkflowStateMachineRole'), 'lambda:InvokeFunction').sort();
    const ids = FUNCTIONS.filter((f) => f !== 'RollbackEnvironment').map((f) => logicalId('AWS::Lambda::Function', `Promotion${f}Function`));
    expect(invocable).toEqual(ids.flatMap((id) => [`<${id}.Arn>`, `<${id}.Arn>:*`]).sort());
  });
});

describe('the promotion tables', () => {
  const cases: [string, TableSpec][] = [['Promotions', TABLE_SPECS.promotions], ['Quarantine', TABLE_SPECS.quarantine], ['Holds', TABLE_SPECS.holds]];
  it.each(cases)('%s has the keys of TABLE_SPECS, point-in-time recovery, encryption, and survives cdk destroy', (id, spec) => {
    const table = template.findResources('AWS::DynamoDB::Table')[logicalId('AWS::DynamoDB::Table', `Tables${id}`)];
    const keys = [{ AttributeName: spec.partitionKey.name, KeyType: 'HASH' }, ...(spec.sortKey ? [{ AttributeName: spec.sortKey.name, KeyType: 'RANGE' }] : [])];
    expect(table?.Properties.KeySchema).toEqual(keys);
    expect(table?.Properties.GlobalSecondaryIndexes ?? []).toHaveLength(spec.globalSecondaryIndexes.length);
    expect(table?.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table?.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table?.DeletionPolicy).toBe('Retain');
  });
});

describe('least privilege per promotion function', () => {
  it('reads ECR scan findings in the scan gate only, on the source of the edge with `source: ecr` only', () => {
    expect(allows('ScanGate', 'ecr:DescribeImageScanFindings')).toEqual([DEV]);
    for (const fn of FUNCTIONS.filter((f) => f !== 'ScanGate')) expect(actionsOf(fn), fn).not.toContain('ecr:DescribeImageScanFindings');
  });

  it('lets no promotion function complete a task token (states:SendTask*)', () => {
    for (const fn of FUNCTIONS) expect(actionsOf(fn).filter((a) => a.startsWith('states:')), fn).toEqual([]);
  });

  it('writes tags only in the target environments\' ECR repositories, and only from the tagging steps', () => {
    for (const fn of ['ApplyTags', 'Sync', 'Rollback', 'RollbackEnvironment'] as const) expect(allows(fn, 'ecr:PutImage'), fn).toEqual([STAGING]);
    for (const fn of ['Validate', 'ScanGate', 'SignatureGate', 'TestsGate', 'Quarantine', 'RequestApproval', 'Record'] as const) {
      expect(actionsOf(fn).filter((a) => a.startsWith('ecr:') && a !== 'ecr:GetAuthorizationToken' && !['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:DescribeImages', 'ecr:ListImages', 'ecr:DescribeImageScanFindings'].includes(a)), fn).toEqual([]);
    }
    expect(allows('Rollback', 'ecr:BatchDeleteImage')).toEqual([STAGING]);
    expect(allows('ApplyTags', 'ecr:BatchDeleteImage')).toEqual([]);
  });

  it('reads the source only where a step reads it, and never a registry outside the environments', () => {
    // Sources: each edge's `from` environment's first registry (ecr-dev, ecr-staging).
    expect(allows('Validate', 'ecr:BatchGetImage')).toEqual([STAGING, DEV]);
    expect(allows('Validate', 'ecr:GetDownloadUrlForLayer')).toEqual([]);
    expect(allows('Sync', 'ecr:GetDownloadUrlForLayer')).toEqual([STAGING, DEV]);
    expect(allows('Sync', 'ecr:BatchGetImage')).toEqual([STAGING, STAGING, DEV].sort());
    for (const fn of FUNCTIONS) for (const s of statements(fn)) for (const r of s.resources) expect(r.startsWith(MIRROR), `${fn}: ${r}`).toBe(false);
    expect(actionsOf('TestsGate').filter((a) => a.startsWith('ecr:'))).toEqual([]);
  });

  it('gives the registry credentials to the steps that touch those registries, and the signature keys to the signature gate only', () => {
    expect(allows('Sync', 'secretsmanager:GetSecretValue')).toEqual([secret('regman/gar'), secret('regman/harbor-robot')]);
    expect(allows('Sync', 'sts:AssumeRole')).toEqual([PROD_ROLE]);
    expect(allows('Validate', 'secretsmanager:GetSecretValue')).toEqual([]);
    expect(allows('Validate', 'sts:AssumeRole')).toEqual([]);
    expect(allows('SignatureGate', 'secretsmanager:GetSecretValue')).toEqual([secret('regman/cosign-pub')]);
    expect(allows('ScanGate', 'secretsmanager:GetSecretValue')).toEqual([]);
    for (const fn of FUNCTIONS) expect(allows(fn, 'secretsmanager:GetSecretValue'), fn).not.toContain(secret('regman/dockerhub'));
  });

  it('lets the tests gate run exactly the configured test Lambda and CodeBuild project', () => {
    expect(allows('TestsGate', 'lambda:InvokeFunction')).toEqual(['arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:smoke-tests']);
    expect(allows('TestsGate', 'codebuild:StartBuild')).toEqual(['arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:project/acme-integration-tests']);
    expect(allows('Validate', 'lambda:InvokeFunction')).toEqual([]);
  });

  it('uses the promotion tables per step: no Scan, no Delete; quarantine and holds written only where they are set', () => {
    const [promotions, quarantine, holds] = [tableArn('Promotions'), tableArn('Quarantine'), tableArn('Holds')];
    for (const fn of FUNCTIONS) {
      const onTables = statements(fn).filter((s) => s.resources.some((r) => [promotions, quarantine, holds].includes(r)));
      expect(onTables.flatMap((s) => s.actions).filter((a) => /Scan|Delete|UpdateItem/.test(a)), fn).toEqual([]);
    }
    expect(allows('Quarantine', 'dynamodb:PutItem')).toContain(quarantine);
    expect(allows('Validate', 'dynamodb:GetItem')).toEqual(expect.arrayContaining([quarantine, holds]));
    expect(allows('Validate', 'dynamodb:PutItem')).not.toContain(quarantine);
    expect(allows('RollbackEnvironment', 'dynamodb:PutItem')).toEqual(expect.arrayContaining([holds, promotions]));
    expect(allows('Sync', 'dynamodb:PutItem').filter((r) => [promotions, quarantine, holds].includes(r))).toEqual([]);
    expect(allows('Record', 'dynamodb:PutItem')).not.toContain(holds);
  });

  it('names the three promotion tables and the audit table to every function', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    for (const fn of FUNCTIONS) {
      const vars = functions[logicalId('AWS::Lambda::Function', `Promotion${fn}Function`)]?.Properties.Environment.Variables as Record<string, unknown>;
      expect(Object.keys(vars), fn).toEqual(expect.arrayContaining(['PROMOTIONS_TABLE', 'QUARANTINE_TABLE', 'HOLDS_TABLE', 'AUDIT_TABLE']));
    }
  });

  it('gives NO function the state table (Docker Hub\'s shared pull budget) when no promotion environment has Docker Hub', () => {
    // The fixture's dockerhub is a replication target only (test/cdk/pull-budget-grants.test.ts has the positive case).
    const functions = template.findResources('AWS::Lambda::Function');
    for (const fn of FUNCTIONS) {
      expect(statements(fn).filter((s) => s.resources.some((r) => r.includes('TablesReplicationState'))), fn).toEqual([]);
      expect(functions[logicalId('AWS::Lambda::Function', `Promotion${fn}Function`)]?.Properties.Environment.Variables.STATE_TABLE, fn).toBeUndefined();
    }
  });

  it('outputs what the CLI needs on AWS', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toEqual(expect.arrayContaining(['PromotionStateMachineArn', 'PromotionRollbackFunctionName', 'PromotionsTableName', 'QuarantineTableName', 'HoldsTableName']));
  });
});

describe('replication rules with protected: true', () => {
  it('let replicate and reconcile read quarantine records by digest (GetItem, nothing else) and name the table', () => {
    const quarantine = tableArn('Quarantine');
    for (const role of ['ReplicationReplicateRole', 'ReplicationReconcileRole']) {
      const onQuarantine = statementsOfRole(template, role).filter((s) => s.resources.some((r) => r.startsWith(quarantine)));
      expect(onQuarantine.flatMap((s) => s.actions)).toEqual(['dynamodb:GetItem']);
    }
    const replicate = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('ReplicationReplicateFunction'))?.[1];
    const variables = (replicate?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.QUARANTINE_TABLE).toEqual({ Ref: tableArn('Quarantine').slice(1, -'.Arn>'.length) });
  });
});
