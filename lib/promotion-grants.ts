// Least-privilege IAM for each promotion function: the ECR actions, tables, secrets and test runners its step uses, nothing else.
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS, ECR_TARGET_READ_ACTIONS, ecrRepositoryArns, grantRegistryCredentials } from './config-grants.ts';
import { acknowledgeWildcardResources } from './nag.ts';
import type { PromotionAccess, PromotionRegistrySide } from './promotion-scopes.ts';

/** The promotion functions: one per Task state of statemachines/promotion.asl.json, plus `regman rollback`'s. */
export type PromotionStep =
  | 'validate'
  | 'scanGate'
  | 'signatureGate'
  | 'testsGate'
  | 'quarantine'
  | 'requestApproval'
  | 'applyTags'
  | 'sync'
  | 'rollback'
  | 'record'
  | 'rollbackEnvironment';

/** Reading a manifest by tag or digest through the registry API (HEAD/GET = ecr:BatchGetImage). */
const MANIFEST_READ = ['ecr:BatchGetImage'] as const;

/**
 * What each step does to the registries (functions/promotion/*.ts), and so may do:
 * - validate resolves the tag once in the source (manifest HEAD);
 * - the scan and signature gates read the image and its referrers (reports, `.sig` tags) from the source;
 *   only the scan gate reads ECR findings (added when an edge has `source: ecr`);
 * - applyTags HEADs every target tag, then retags with PutImage (no bytes move);
 * - sync copies source → target (blob ladder, manifests, both tags);
 * - rollback restores tags (PutImage) and removes a tag it created by deleting its manifest, only where the
 *   digest was not there before (BatchDeleteImage);
 * - rollbackEnvironment (`regman rollback`) retags an earlier promoted digest (PutImage);
 * - the others touch no registry.
 */
export const PROMOTION_STEP_ECR_ACTIONS: Record<PromotionStep, { readonly source: readonly string[]; readonly target: readonly string[] }> = {
  validate: { source: MANIFEST_READ, target: [] },
  scanGate: { source: ECR_PULL_ACTIONS, target: [] },
  signatureGate: { source: ECR_PULL_ACTIONS, target: [] },
  testsGate: { source: [], target: [] },
  quarantine: { source: [], target: [] },
  requestApproval: { source: [], target: [] },
  applyTags: { source: [], target: [...MANIFEST_READ, 'ecr:PutImage'] },
  sync: { source: ECR_PULL_ACTIONS, target: [...new Set([...ECR_PUSH_ACTIONS, ...ECR_TARGET_READ_ACTIONS])] },
  rollback: { source: [], target: [...MANIFEST_READ, 'ecr:PutImage', 'ecr:BatchDeleteImage'] },
  record: { source: [], target: [] },
  rollbackEnvironment: { source: [], target: [...MANIFEST_READ, 'ecr:PutImage'] },
};

/** The promotion tables a function may use. */
export interface PromotionTables {
  readonly promotions: dynamodb.ITable;
  readonly quarantine: dynamodb.ITable;
  readonly holds: dynamodb.ITable;
}

/** The execution record (functions/promotion/deps.ts loadRecord/updateRecord): read, then write the whole item. */
const RECORD = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

/**
 * DynamoDB actions per step and table (functions/promotion/store.ts): Validate reads history (Query),
 * quarantine and hold (GetItem); Record appends history (PutItem); Quarantine writes the quarantine item;
 * RequestApproval the minimal requester's `approval#` item; `regman rollback` reads history, appends to it
 * and sets the hold. No step may Scan, Update or Delete.
 */
export const PROMOTION_STEP_TABLE_ACTIONS: Record<PromotionStep, Partial<Record<keyof PromotionTables, readonly string[]>>> = {
  validate: { promotions: [...RECORD, 'dynamodb:Query'], quarantine: ['dynamodb:GetItem'], holds: ['dynamodb:GetItem'] },
  scanGate: { promotions: RECORD },
  signatureGate: { promotions: RECORD },
  testsGate: { promotions: RECORD },
  quarantine: { promotions: RECORD, quarantine: ['dynamodb:PutItem'] },
  requestApproval: { promotions: RECORD },
  applyTags: { promotions: RECORD },
  sync: {},
  rollback: { promotions: RECORD },
  record: { promotions: RECORD },
  rollbackEnvironment: { promotions: ['dynamodb:Query', 'dynamodb:PutItem'], holds: ['dynamodb:PutItem'] },
};

function narrow(side: PromotionRegistrySide, used: boolean): PromotionRegistrySide {
  return used ? side : { registries: [], ecr: [], secrets: [], roles: [], pullBudget: [] };
}

/**
 * The sides on which each step GETs manifests, which Docker Hub counts as pulls (HEADs are free,
 * https://docs.docker.com/docker-hub/usage/pulls/): the gates read the image and its referrers, Sync copies,
 * and every retag re-puts the manifest bytes it GETs by digest (the Docker Hub adapter's tagImage).
 * Validate only HEADs the tag; the others touch no registry.
 */
export const PROMOTION_STEP_PULLS: Record<PromotionStep, { readonly source: boolean; readonly target: boolean }> = {
  validate: { source: false, target: false },
  scanGate: { source: true, target: false },
  signatureGate: { source: true, target: false },
  testsGate: { source: false, target: false },
  quarantine: { source: false, target: false },
  requestApproval: { source: false, target: false },
  applyTags: { source: false, target: true },
  sync: { source: true, target: true },
  rollback: { source: false, target: true },
  record: { source: false, target: false },
  rollbackEnvironment: { source: false, target: true },
};

/**
 * Whether the step pulls from a Docker Hub registry whose pulls the shared budget counts (`rateLimit.pulls`),
 * on a side it touches: only then does its function get the `budget#` grant (BaseFunction.bindPullBudgetTable).
 *
 * @example
 * if (promotionStepSpendsPullBudget(access, 'sync')) fn.bindPullBudgetTable(tables.replicationState);
 */
export function promotionStepSpendsPullBudget(access: PromotionAccess, step: PromotionStep): boolean {
  const pulls = PROMOTION_STEP_PULLS[step];
  return (pulls.source && access.sources.pullBudget.length > 0) || (pulls.target && access.targets.pullBudget.length > 0);
}

/**
 * Grants one promotion function what its step uses (the tables above, the ECR actions on the side it
 * touches, the credentials of exactly those registries, and for the gates their keys and runners), and
 * acknowledges the cdk-nag findings that are by design. Statements have stable `Sid`s.
 *
 * @example
 * grantPromotionStepAccess(applyTags.role, promotionAccess(config), 'applyTags', tables);
 */
export function grantPromotionStepAccess(role: iam.IRole & IConstruct, access: PromotionAccess, step: PromotionStep, tables: PromotionTables): void {
  const stack = Stack.of(role);
  const add = (statement: iam.PolicyStatement) => role.addToPrincipalPolicy(statement);

  for (const [key, actions] of Object.entries(PROMOTION_STEP_TABLE_ACTIONS[step]) as [keyof PromotionTables, readonly string[]][]) {
    add(new iam.PolicyStatement({ sid: `Promotion${key[0]!.toUpperCase()}${key.slice(1)}Table`, actions: [...actions], resources: [tables[key].tableArn] }));
  }

  const ecr = PROMOTION_STEP_ECR_ACTIONS[step];
  const sources = narrow(access.sources, ecr.source.length > 0);
  const targets = narrow(access.targets, ecr.target.length > 0);
  const sourceArns = sources.ecr.flatMap((s) => ecrRepositoryArns(stack, s));
  const targetArns = targets.ecr.flatMap((s) => ecrRepositoryArns(stack, s));
  if (sourceArns.length > 0) add(new iam.PolicyStatement({ sid: 'EcrPromotionSource', actions: [...ecr.source], resources: sourceArns }));
  // Findings only where an edge asks ECR for them (`gates.scan.source: ecr`), and only in the scan gate.
  const findingsArns = step === 'scanGate' ? access.ecrScanSources.ecr.flatMap((s) => ecrRepositoryArns(stack, s)) : [];
  if (findingsArns.length > 0) add(new iam.PolicyStatement({ sid: 'EcrScanFindings', actions: ['ecr:DescribeImageScanFindings'], resources: findingsArns }));
  if (targetArns.length > 0) add(new iam.PolicyStatement({ sid: 'EcrPromotionTarget', actions: [...ecr.target], resources: targetArns }));
  acknowledgeWildcardResources(
    role,
    [...sourceArns, ...targetArns],
    'Promotion edges name environments, not repositories: any repository of an environment\'s ECR registry may be promoted, so ' +
      'the scope is `repository/*` of exactly those registries, on the side this step touches (source reads, target writes).',
  );

  const signatureKeys = step === 'signatureGate' ? access.signatureKeySecrets : [];
  grantRegistryCredentials(role, {
    secrets: [...sources.secrets, ...targets.secrets, ...signatureKeys],
    roles: [...new Set([...sources.roles, ...targets.roles])],
    usesOwnEcrIdentity: sourceArns.length + targetArns.length > 0,
  });

  if (step === 'testsGate') grantTestRunners(role, access);
}

/** lambda:InvokeFunction on the configured test functions, CodeBuild StartBuild/BatchGetBuilds on the configured projects. */
function grantTestRunners(role: iam.IRole & IConstruct, access: PromotionAccess): void {
  const stack = Stack.of(role);
  if (access.testLambdas.length > 0) {
    const arns = access.testLambdas.map((fn) =>
      fn.startsWith('arn:') ? fn : Arn.format({ service: 'lambda', resource: 'function', resourceName: fn, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'InvokeTestFunctions', actions: ['lambda:InvokeFunction'], resources: arns }));
  }
  if (access.testProjects.length > 0) {
    const arns = access.testProjects.map((p) => Arn.format({ service: 'codebuild', resource: 'project', resourceName: p }, stack));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'RunTestProjects', actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'], resources: arns }));
  }
}

/** The sweep's read of promotion locks: Scan of the promotions table's `hist#` items (functions/promotion/retention-locks.ts). */
export function grantRetentionLockRead(role: iam.IRole & IConstruct, promotions: dynamodb.ITable): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PromotionLocksRead', actions: ['dynamodb:Scan'], resources: [promotions.tableArn] }));
}
