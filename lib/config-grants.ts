// Least-privilege IAM for the replication functions, from the config: ECR repositories, secrets and roles it names, nothing else.
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { acknowledgeNag, acknowledgeWildcardResources } from './nag.ts';
import { hasSecretSuffix, type EcrRepositoryScope, type NameScope, type ReplicationAccess, type SecretScope } from './replication-scopes.ts';

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
  const stack = Stack.of(role);
  const add = (statement: iam.PolicyStatement) => role.addToPrincipalPolicy(statement);

  // Pull from SOURCE repositories only (the function's own role; a source reached through an
  // iamRole gets its rights from that role, see AssumeRegistryRoles).
  const sourceArns = access.sources.flatMap((s) => ecrRepositoryArns(stack, s));
  if (sourceArns.length > 0) {
    add(new iam.PolicyStatement({ sid: 'EcrPullSourceRepositories', actions: [...ECR_PULL_ACTIONS], resources: sourceArns }));
  }

  // Reconcile enumerates repositories to match patterns. DescribeRepositories without repository
  // names is authorized against `repository/*`, so a prefix ARN would deny it; it returns names and
  // settings only, no image data. Only for registries whose rules use a pattern (not exact names).
  const listed = options.listSourceRepositories ? access.sources.filter((s) => s.names.some((n) => 'prefix' in n)) : [];
  const listArns = listed.map((s) => ecrRepositoryArns(stack, { ...s, names: [{ prefix: '' }] })[0] as string);
  if (listArns.length > 0) {
    add(new iam.PolicyStatement({ sid: 'EcrListSourceRepositories', actions: ['ecr:DescribeRepositories'], resources: listArns }));
    acknowledgeWildcardResources(
      role,
      listArns,
      'ecr:DescribeRepositories without repositoryNames is authorized against repository/* of the registry; reconcile needs the ' +
        'names to match the rules\' patterns. The action returns repository metadata only (no image content).',
    );
  }

  // Push to TARGET repositories only, plus the reads a copy makes there before pushing.
  const targetArns = access.targets.flatMap((t) => ecrRepositoryArns(stack, t));
  if (targetArns.length > 0) {
    add(
      new iam.PolicyStatement({
        sid: 'EcrPushTargetRepositories',
        actions: [...new Set([...ECR_PUSH_ACTIONS, ...ECR_TARGET_READ_ACTIONS])],
        resources: targetArns,
      }),
    );
  }
  acknowledgeWildcardResources(
    role,
    [...sourceArns, ...targetArns],
    'Repository prefixes derived from the replication rules\' repository patterns (a glob or anchored regex becomes ' +
      '`repository/<literal prefix>*`): every repository a rule can match must be reachable, and nothing outside the prefix is.',
  );

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
