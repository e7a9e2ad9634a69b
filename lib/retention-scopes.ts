// What the retention sweep may touch, derived from the validated config: the registries and repositories some policy covers.
//
// Pure data, no CDK: lib/config-grants.ts turns it into IAM statements. As in replication-scopes.ts,
// every scope is a SUPERSET of what a policy can match (IAM must allow all of it) and as narrow as a
// literal prefix allows; a repository no policy covers gets nothing, above all no ecr:BatchDeleteImage.
import type { CredentialReference, RegistryConfig, RegmanConfig, RetentionPolicyConfig } from '../functions/config/index.ts';
import { pullBudgetRegistries } from './pull-budget-scopes.ts';
import { normalizeScopes, repositoryPatternScope, type EcrRepositoryScope, type NameScope, type SecretScope } from './replication-scopes.ts';

/** Everything the retention functions (list, sweep) need. */
export interface RetentionAccess {
  /** Registries some policy covers, sorted (the sweep touches these and no other). */
  readonly registries: readonly string[];
  /** ECR registries reached with the function's own role, with the repositories some policy covers. */
  readonly ecr: readonly EcrRepositoryScope[];
  /** Secrets of the covered registries (no other registry's secret). */
  readonly secrets: readonly SecretScope[];
  /** `credentials.iamRole` of covered ECR registries: the assumed role carries the ECR rights. */
  readonly roles: readonly string[];
  /** Covered registries whose credentials only work on a workstation (`env`, `dockerConfig`). */
  readonly localOnlyCredentials: readonly string[];
  /** Covered Docker Hub registries with `rateLimit.pulls` (lib/pull-budget-scopes.ts): the sweep's manifest reads count in the shared budget. */
  readonly pullBudget: readonly string[];
}

/**
 * The registries one policy covers: its `registries` plus the registries of its `environments` (the
 * union, a superset of either reading); every registry of the config when it names neither
 * (docs/CONFIGURATION.md: "all when no scope is given").
 *
 * @example
 * policyRegistries(config, { environments: ['dev'], ... }) // ['ecr-main']
 */
export function policyRegistries(config: RegmanConfig, policy: Pick<RetentionPolicyConfig, 'environments' | 'registries'>): string[] {
  if (policy.environments === undefined && policy.registries === undefined) return Object.keys(config.registries).sort();
  const names = new Set<string>(policy.registries ?? []);
  for (const env of policy.environments ?? []) for (const r of config.environments[env]?.registries ?? []) names.add(r);
  return [...names].sort();
}

/** The repositories one policy covers: its patterns' scopes, or every repository (`prefix: ''`) without `repositories`. */
export function policyRepositoryScopes(policy: Pick<RetentionPolicyConfig, 'repositories'>): NameScope[] {
  return normalizeScopes(policy.repositories === undefined ? [{ prefix: '' }] : policy.repositories.map(repositoryPatternScope));
}

/**
 * What the retention functions need, from the config's retention policies only.
 *
 * @example
 * const access = retentionAccess(config);
 * access.ecr[0] // { registry: 'ecr-main', accountId: '111122223333', region: 'eu-west-1', names: [{ prefix: 'team-' }] }
 */
export function retentionAccess(config: RegmanConfig): RetentionAccess {
  const byRegistry = new Map<string, NameScope[]>();
  for (const policy of config.retention) {
    const scopes = policyRepositoryScopes(policy);
    for (const name of policyRegistries(config, policy)) byRegistry.set(name, [...(byRegistry.get(name) ?? []), ...scopes]);
  }
  const registries = [...byRegistry.keys()].sort();
  const registry = (name: string): RegistryConfig => {
    const found = config.registries[name];
    // validateConfig's cross-checks guarantee every reference resolves.
    if (!found) throw new Error(`internal: a retention policy names registry "${name}" that the config does not define`);
    return found;
  };

  const ecr: EcrRepositoryScope[] = [];
  const secrets: SecretScope[] = [];
  const roles = new Set<string>();
  const localOnly: string[] = [];
  for (const name of registries) {
    const r = registry(name);
    const creds: CredentialReference | undefined = r.credentials;
    if (r.kind === 'ecr' && creds?.iamRole === undefined) {
      ecr.push({ registry: name, accountId: r.accountId, region: r.region, names: normalizeScopes(byRegistry.get(name) ?? []) });
    }
    if (creds?.secretArn !== undefined) secrets.push({ registry: name, secretArn: creds.secretArn });
    if (creds?.secretName !== undefined) secrets.push({ registry: name, secretName: creds.secretName });
    if (creds?.iamRole !== undefined) roles.add(creds.iamRole);
    if (creds?.env !== undefined || creds?.dockerConfig !== undefined) localOnly.push(name);
  }
  return { registries, ecr, secrets, roles: [...roles].sort(), localOnlyCredentials: localOnly, pullBudget: pullBudgetRegistries(config, registries) };
}
