// Least-privilege IAM for the replication functions, from the config: ECR repositories, secrets and roles it names, nothing else.
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { acknowledgeNag, acknowledgeWildcardResources } from './nag.ts';
import {
  hasSecretSuffix,
  narrowReplicationAccess,
  type EcrRepositoryScope,
  type NameScope,
  type ReplicationAccess,
  type SecretScope,
} from './replication-scopes.ts';
import type { RetentionAccess } from './retention-scopes.ts';

/**
 * Reading an image from ECR through the registry API: manifest GET/HEAD (BatchGetImage), blob GET
 * (GetDownloadUrlForLayer), blob HEAD (BatchCheckLayerAvailability), and the listings reconcile uses.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-pull.html
 */
export const ECR_PULL_ACTIONS = [
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability',
  'ecr:DescribeImages',
  'ecr:ListImages',
] as const;

/** Pushing blobs and manifests. https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html */
export const ECR_PUSH_ACTIONS = [
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:BatchCheckLayerAvailability',
] as const;

/**
 * What a copy reads on its TARGET: the manifest HEAD that skips an image already there and checks the
 * tag before it is moved (BatchGetImage), and reconcile's tag listing (DescribeImages, ListImages).
 * Blob downloads (GetDownloadUrlForLayer) are not needed on a target.
 */
export const ECR_TARGET_READ_ACTIONS = ['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:ListImages'] as const;

/** `arn:<partition>:ecr:<region>:<account>:repository/<name or prefix*>` for each name scope. */
export function ecrRepositoryArns(stack: Stack, scope: EcrRepositoryScope): string[] {
  return scope.names.map((name: NameScope) =>
    Arn.format(
      {
        service: 'ecr',
        region: scope.region,
        account: scope.accountId,
        resource: 'repository',
        resourceName: 'exact' in name ? name.exact : `${name.prefix}*`,
      },
      stack,
    ),
  );
}

/**
 * The ARN pattern of a named secret. Secrets Manager appends `-` and 6 random characters to every
 * secret's ARN, so a name maps to `secret:<name>-??????` (exactly six, not `*`: `*` would also match
 * `<name>-other`). https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
 */
export function secretArn(stack: Stack, secret: SecretScope): string {
  if (secret.secretArn !== undefined) {
    // A complete ARN is used as written; a partial ARN (no random suffix) gets the `-??????` pattern.
    return hasSecretSuffix(secret.secretArn) ? secret.secretArn : `${secret.secretArn}-??????`;
  }
  return Arn.format(
    { service: 'secretsmanager', resource: 'secret', resourceName: `${secret.secretName ?? ''}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
    stack,
  );
}

/**
 * Grants a replication function exactly what the config's replication rules need, and acknowledges
 * the cdk-nag findings that are by design (each with its reason). Statements have stable `Sid`s.
 *
 * @example
 * grantReplicationAccess(replicate.role, replicationAccess(config));
 */
export interface ReplicationGrantOptions {
  /**
   * Also allow ecr:DescribeRepositories on the source registries, to enumerate the repositories a
   * rule's pattern matches (reconcile). @default false
   */
  readonly listSourceRepositories?: boolean;
}

export function grantReplicationAccess(role: iam.IRole & IConstruct, access: ReplicationAccess, options: ReplicationGrantOptions = {}): void {
  grantCopyAccess(role, access, { source: ECR_PULL_ACTIONS, target: [...new Set([...ECR_PUSH_ACTIONS, ...ECR_TARGET_READ_ACTIONS])] }, options);
}

/** The ECR actions a function may take on the source and on the target repositories of a copy. */
export interface CopyActions {
  readonly source: readonly string[];
  readonly target: readonly string[];
}

/** Pushing blobs only (no manifest, no tag): the CopyBlob step. https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html */
export const ECR_BLOB_PUSH_ACTIONS = [
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:BatchCheckLayerAvailability',
] as const;

/** The steps of the replicate-large state machine (statemachines/replicate-large.asl.json). */
export type LargeImageStep = 'plan' | 'copyBlob' | 'publish' | 'record';

/**
 * What each large-image step does to the registries (functions/replication/large-*.ts), and so may do:
 * - plan: reads the source graph (manifests, tag list for referrer tags): source pull only;
 * - copyBlob: the blob ladder (target HEAD, mount, GET → chunked PUT): source pull, target blob push,
 *   never a manifest (no PutImage);
 * - publish: HEADs each blob and manifest at the target, re-reads manifests from the source by digest
 *   (BatchGetImage; no blob download), pushes manifests and the tag (PutImage);
 * - record: HEADs the tag at each target (BatchGetImage), nothing at the source.
 */
export const LARGE_IMAGE_STEP_ACTIONS: Record<LargeImageStep, CopyActions> = {
  plan: { source: ECR_PULL_ACTIONS, target: [] },
  copyBlob: { source: ECR_PULL_ACTIONS, target: ECR_BLOB_PUSH_ACTIONS },
  publish: { source: ['ecr:BatchGetImage'], target: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:PutImage'] },
  record: { source: [], target: ['ecr:BatchGetImage'] },
};

/**
 * Grants one large-image step what it does (LARGE_IMAGE_STEP_ACTIONS) on the replication rules'
 * repositories, and the secrets and roles of the registries on the sides it touches only.
 *
 * @example
 * grantLargeImageStepAccess(copyBlob.role, replicationAccess(config), 'copyBlob');
 */
export function grantLargeImageStepAccess(role: iam.IRole & IConstruct, access: ReplicationAccess, step: LargeImageStep): void {
  const actions = LARGE_IMAGE_STEP_ACTIONS[step];
  grantCopyAccess(role, narrowReplicationAccess(access, { sources: actions.source.length > 0, targets: actions.target.length > 0 }), actions);
}

/** Source and target ECR statements, then the credentials (token, secrets, roles) of `access`. */
function grantCopyAccess(role: iam.IRole & IConstruct, access: ReplicationAccess, actions: CopyActions, options: ReplicationGrantOptions = {}): void {
  const stack = Stack.of(role);
  const add = (statement: iam.PolicyStatement) => role.addToPrincipalPolicy(statement);

  // Pull from SOURCE repositories only (the function's own role; a source reached through an
  // iamRole gets its rights from that role, see AssumeRegistryRoles).
  const sourceArns = actions.source.length > 0 ? access.sources.flatMap((s) => ecrRepositoryArns(stack, s)) : [];
  if (sourceArns.length > 0) {
    add(new iam.PolicyStatement({ sid: 'EcrPullSourceRepositories', actions: [...actions.source], resources: sourceArns }));
  }

  // Reconcile enumerates repositories to match patterns. DescribeRepositories without repository
  // names is authorized against `repository/*`, so a prefix ARN would deny it; it returns names and
  // settings only, no image data. Only for registries whose rules use a pattern (not exact names).
  const listed = options.listSourceRepositories ? access.sources.filter((s) => s.names.some((n) => 'prefix' in n)) : [];
  grantListRepositories(role, listed, 'EcrListSourceRepositories', 'reconcile needs the names to match the rules\' patterns');

  // Push to TARGET repositories only, plus the reads a copy makes there before pushing.
  const targetArns = actions.target.length > 0 ? access.targets.flatMap((t) => ecrRepositoryArns(stack, t)) : [];
  if (targetArns.length > 0) {
    add(new iam.PolicyStatement({ sid: 'EcrPushTargetRepositories', actions: [...actions.target], resources: targetArns }));
  }
  acknowledgeWildcardResources(
    role,
    [...sourceArns, ...targetArns],
    'Repository prefixes derived from the replication rules\' repository patterns (a glob or anchored regex becomes ' +
      '`repository/<literal prefix>*`): every repository a rule can match must be reachable, and nothing outside the prefix is.',
  );
  grantRegistryCredentials(role, access);
}

/**
 * ecr:DescribeRepositories on `repository/*` of each registry: listing without repository names is
 * authorized against `repository/*`, so a prefix ARN would deny it. It returns metadata only.
 */
function grantListRepositories(role: iam.IRole & IConstruct, registries: readonly EcrRepositoryScope[], sid: string, why: string): void {
  const listArns = registries.map((s) => ecrRepositoryArns(Stack.of(role), { ...s, names: [{ prefix: '' }] })[0] as string);
  if (listArns.length === 0) return;
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: ['ecr:DescribeRepositories'], resources: listArns }));
  acknowledgeWildcardResources(
    role,
    listArns,
    `ecr:DescribeRepositories without repositoryNames is authorized against repository/* of the registry; ${why}. ` +
      'The action returns repository metadata only (no image content).',
  );
}

/** How a function reaches registries: its own ECR identity, Secrets Manager secrets, assumed roles. */
export interface RegistryCredentialAccess {
  readonly secrets: readonly SecretScope[];
  readonly roles: readonly string[];
  readonly usesOwnEcrIdentity: boolean;
}

/** ecr:GetAuthorizationToken (when needed), GetSecretValue on exactly the given secrets, sts:AssumeRole on exactly the given roles. */
export function grantRegistryCredentials(role: iam.IRole & IConstruct, access: RegistryCredentialAccess): void {
  const stack = Stack.of(role);
  const add = (statement: iam.PolicyStatement) => role.addToPrincipalPolicy(statement);
  // ecr:GetAuthorizationToken has no resource-level permissions: AWS only accepts "*" for it.
  // https://docs.aws.amazon.com/AmazonECR/latest/userguide/security_iam_id-based-policy-examples.html
  // Only needed when some ECR registry is reached with this role (not through an assumed role).
  if (access.usesOwnEcrIdentity) {
    add(new iam.PolicyStatement({ sid: 'EcrAuthorizationToken', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    acknowledgeNag(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken supports no resource-level permission (AWS requires Resource "*"); it grants a registry ' +
        'login token only, and every repository action is scoped separately by ARN.',
    );
  }

  // Exactly the secrets of the registries that replication rules use; none when no rule needs one.
  const secretArns = access.secrets.map((s) => secretArn(stack, s));
  if (secretArns.length > 0) {
    add(new iam.PolicyStatement({ sid: 'ReadRegistrySecrets', actions: ['secretsmanager:GetSecretValue'], resources: secretArns }));
    acknowledgeWildcardResources(
      role,
      secretArns,
      'Secrets Manager appends a random 6-character suffix to each secret ARN; `-??????` matches exactly that suffix of the ' +
        'one secret the config names (never `*`).',
    );
  }

  // Cross-account / cross-region ECR registries name a role to assume; that role holds their ECR rights.
  if (access.roles.length > 0) {
    add(new iam.PolicyStatement({ sid: 'AssumeRegistryRoles', actions: ['sts:AssumeRole'], resources: [...access.roles] }));
  }
}

/**
 * What the retention sweep reads in a repository to plan: the image ids and tags (ListImages), push and
 * pull times (DescribeImages), the manifests for the graph (BatchGetImage).
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListImages.html
 */
export const ECR_RETENTION_READ_ACTIONS = ['ecr:ListImages', 'ecr:DescribeImages', 'ecr:BatchGetImage'] as const;

/** Which retention function a grant is for. */
export type RetentionFunction = 'list' | 'sweep';

/**
 * Grants a retention function exactly what the config's retention policies cover:
 * - `list` enumerates the repositories of each covered registry (DescribeRepositories on
 *   `repository/*`, metadata only) to fan the sweep out; it reads no image and deletes nothing;
 * - `sweep` reads images (ECR_RETENTION_READ_ACTIONS) and deletes them (ecr:BatchDeleteImage) ONLY in
 *   `repository/<prefix>*` of the covered repositories; a repository no policy covers gets nothing.
 * Both read the secrets and assume the roles of the covered registries only. The list function's
 * DescribeRepositories is an ECR API call (no registry-API login); the sweep also HEADs/GETs manifests
 * through the registry API (the kept-tag check, unlisted manifests), so it gets ecr:GetAuthorizationToken.
 *
 * @example
 * grantRetentionAccess(sweep.role, retentionAccess(config), 'sweep');
 */
export function grantRetentionAccess(role: iam.IRole & IConstruct, access: RetentionAccess, fn: RetentionFunction): void {
  if (fn === 'list') {
    grantListRepositories(role, access.ecr, 'EcrListRetentionRepositories', 'the sweep lists the names to match the policies\' patterns');
  } else {
    const arns = access.ecr.flatMap((s) => ecrRepositoryArns(Stack.of(role), s));
    if (arns.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'EcrSweepRetentionRepositories', actions: [...ECR_RETENTION_READ_ACTIONS, 'ecr:BatchDeleteImage'], resources: arns }),
      );
      acknowledgeWildcardResources(
        role,
        arns,
        'Repository prefixes derived from the retention policies\' repository patterns (`repository/<literal prefix>*`, or ' +
          '`repository/*` for a policy without patterns): the sweep may read and delete in every repository a policy covers, and nowhere else.',
      );
    }
  }
  grantRegistryCredentials(role, { secrets: access.secrets, roles: access.roles, usesOwnEcrIdentity: fn === 'sweep' && access.ecr.length > 0 });
}
