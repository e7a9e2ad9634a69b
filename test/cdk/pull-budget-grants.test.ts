// CDK assertions: the promotion steps and the retention sweep that pull from a Docker Hub registry with rateLimit.pulls get
// the shared pull budget (GetItem/PutItem on the state table's `budget#` keys, STATE_TABLE); the others do not.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../functions/config/index.ts';
import { PROMOTION_STEP_PULLS, promotionStepSpendsPullBudget, type PromotionStep } from '../../lib/promotion-grants.ts';
import { promotionAccess } from '../../lib/promotion-scopes.ts';
import { pullBudgetRegistries } from '../../lib/pull-budget-scopes.ts';
import { retentionAccess } from '../../lib/retention-scopes.ts';
import { buildTestApp, statementsOfRole } from './helpers.ts';

const CONFIG = 'test/cdk/fixtures/dockerhub-pull-budget.yaml';
const BUDGETED = ['ApplyTags', 'Sync', 'Rollback', 'RollbackEnvironment'] as const;
const NOT_BUDGETED = ['Validate', 'ScanGate', 'SignatureGate', 'TestsGate', 'Quarantine', 'RequestApproval', 'Record'] as const;

let template: Template;
beforeAll(async () => {
  ({ template } = await buildTestApp({ config: CONFIG }));
});

const logicalId = (type: string, prefix: string): string => {
  const found = Object.keys(template.findResources(type)).filter((id) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${found.length}`);
  return found[0] as string;
};
const stateTable = () => logicalId('AWS::DynamoDB::Table', 'TablesReplicationState');
/** The raw statements of a role (conditions kept) that name the state table. */
const stateTableStatements = (rolePrefix: string) =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[])
    .filter((s) => JSON.stringify(s.Resource).includes(stateTable()));
const environmentOf = (fnPrefix: string) =>
  template.findResources('AWS::Lambda::Function')[logicalId('AWS::Lambda::Function', fnPrefix)]?.Properties.Environment.Variables as Record<string, unknown>;

/** The grant bindPullBudgetTable makes, and nothing more on the state table. */
function expectPullBudgetGrant(rolePrefix: string, fnPrefix: string): void {
  const statements = stateTableStatements(rolePrefix);
  expect(statements, rolePrefix).toHaveLength(1);
  expect([statements[0]!.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  expect(statements[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['budget#*'] } });
  expect(environmentOf(fnPrefix).STATE_TABLE).toEqual({ Ref: stateTable() });
}

function expectNoPullBudgetGrant(rolePrefix: string, fnPrefix: string): void {
  expect(stateTableStatements(rolePrefix), rolePrefix).toEqual([]);
  expect(environmentOf(fnPrefix).STATE_TABLE, fnPrefix).toBeUndefined();
}

describe('the shared Docker Hub pull budget in promotion and retention (a Hub registry with rateLimit.pulls promoted into and swept)', () => {
  it.each(BUDGETED)('Promotion %s pulls from the Hub target: budget# GetItem/PutItem on the state table and STATE_TABLE', (fn) => {
    expectPullBudgetGrant(`Promotion${fn}Role`, `Promotion${fn}Function`);
  });

  it.each(NOT_BUDGETED)('Promotion %s does NOT get the state table (it HEADs only, reads the ECR source, or touches no registry)', (fn) => {
    expectNoPullBudgetGrant(`Promotion${fn}Role`, `Promotion${fn}Function`);
  });

  it('the retention Sweep gets the grant; List (Hub\'s repository API, no pulls) does NOT', () => {
    expectPullBudgetGrant('RetentionSweepRole', 'RetentionSweepFunction');
    expectNoPullBudgetGrant('RetentionListRole', 'RetentionListFunction');
  });

  it('the budget statement grants nothing beyond budget# items (no Query, Update, Delete or Scan on the state table)', () => {
    for (const role of [...BUDGETED.map((f) => `Promotion${f}Role`), 'RetentionSweepRole']) {
      const actions = statementsOfRole(template, role).filter((s) => s.resources.some((r) => r.includes('TablesReplicationState'))).flatMap((s) => s.actions);
      expect(actions.sort(), role).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    }
  });
});

describe('which registries and steps spend from the shared pull budget', () => {
  it('is a Docker Hub registry with rateLimit.pulls, not one with requestsPerSecond only, nor another kind', () => {
    // Prepare
    const yaml = [
      'version: 1',
      'registries:',
      '  hub: { kind: dockerhub, namespace: acme, credentials: { secretName: hub }, rateLimit: { pulls: 100 } }',
      '  hub-paced: { kind: dockerhub, namespace: acme, credentials: { secretName: hub }, rateLimit: { requestsPerSecond: 5 } }',
      '  hub-free: { kind: dockerhub, namespace: acme, credentials: { secretName: hub } }',
      '  harbor: { kind: oci, url: "https://harbor.example", public: true, rateLimit: { requestsPerSecond: 5 } }',
      '',
    ].join('\n');
    const { config, errors } = validateConfig(yaml, 'inline.yaml');
    expect(errors).toEqual([]);

    // Act / Assess
    expect(pullBudgetRegistries(config!, ['harbor', 'hub-free', 'hub-paced', 'hub', 'hub'])).toEqual(['hub']);
  });

  it('follows the side a step pulls on: the gates and Sync on the source, the retagging steps and Sync on the target', async () => {
    // Prepare: the Hub registry is the target of dev → staging only.
    const config = await loadConfig(CONFIG, { env: {} });
    const access = promotionAccess(config);

    // Act
    const budgeted = (Object.keys(PROMOTION_STEP_PULLS) as PromotionStep[]).filter((step) => promotionStepSpendsPullBudget(access, step)).sort();

    // Assess
    expect(access.sources.pullBudget).toEqual([]);
    expect(access.targets.pullBudget).toEqual(['hub']);
    expect(budgeted).toEqual(['applyTags', 'rollback', 'rollbackEnvironment', 'sync']);
    // As a source (its environment promoted onward), the gates and Sync pull from it; Validate still only HEADs.
    const onward = validateConfig([
      'version: 1',
      'registries:',
      '  hub: { kind: dockerhub, namespace: acme, credentials: { secretName: hub }, rateLimit: { pulls: 100 } }',
      '  harbor: { kind: oci, url: "https://harbor.example", public: true }',
      'environments: { staging: { registries: [hub] }, prod: { registries: [harbor] } }',
      'promotion: [{ from: staging, to: prod }]',
      '',
    ].join('\n'), 'inline.yaml');
    expect(onward.errors).toEqual([]);
    const fromHub = promotionAccess(onward.config!);
    expect(fromHub.sources.pullBudget).toEqual(['hub']);
    expect(fromHub.targets.pullBudget).toEqual([]);
    expect((Object.keys(PROMOTION_STEP_PULLS) as PromotionStep[]).filter((step) => promotionStepSpendsPullBudget(fromHub, step)).sort()).toEqual(['scanGate', 'signatureGate', 'sync']);
    expect(retentionAccess(config).pullBudget).toEqual(['hub']);
  });
});
