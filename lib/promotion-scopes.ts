// What the promotion functions may touch, derived from the validated config's promotion edges: source and target registries, keys, test runners.
//
// Pure data, no CDK: lib/promotion-grants.ts turns it into IAM statements. Promotion edges name
// environments, not repositories (any repository may be promoted), so an ECR registry's scope is all
// of its repositories; what narrows it is the SIDE: only a `from` environment's first registry is
// read as a source, only the `to` environments' registries are ever tagged or written.
import type { RegistryConfig, RegmanConfig } from '../functions/config/index.ts';
import { pullBudgetRegistries } from './pull-budget-scopes.ts';
import type { EcrRepositoryScope, SecretScope } from './replication-scopes.ts';

/** How a function reaches one set of registries: ECR with its own role, secrets, assumed roles. */
export interface PromotionRegistrySide {
  /** Registry names, sorted. */
  readonly registries: readonly string[];
  /** ECR registries reached with the function's own role (every repository: edges do not name repositories). */
  readonly ecr: readonly EcrRepositoryScope[];
  readonly secrets: readonly SecretScope[];
  readonly roles: readonly string[];
  /** Docker Hub registries with `rateLimit.pulls` (lib/pull-budget-scopes.ts): their pulls count in the shared budget. */
  readonly pullBudget: readonly string[];
}

/** Everything the promotion functions need. */
export interface PromotionAccess {
  /** The registry each edge reads from: its `from` environment's first registry (functions/promotion/validate.ts). */
  readonly sources: PromotionRegistrySide;
  /** Every registry of every edge's `to` environment: tagged (ApplyTags, Rollback) and written (Sync). */
  readonly targets: PromotionRegistrySide;
  /** Secrets Manager secrets holding signature gate public keys. */
  readonly signatureKeySecrets: readonly SecretScope[];
  /** `gates.tests.lambda` of the edges (names or ARNs, as written), sorted. */
  readonly testLambdas: readonly string[];
  /** `gates.tests.codebuild` project names of the edges, sorted. */
  readonly testProjects: readonly string[];
  /** The source registries of the edges that read ECR scan findings (`gates.scan.source: ecr`). */
  readonly ecrScanSources: PromotionRegistrySide;
  /** Registries promotion touches whose credentials only work on a workstation (`env`, `dockerConfig`). */
  readonly localOnlyCredentials: readonly string[];
}

function side(config: RegmanConfig, names: Iterable<string>): PromotionRegistrySide {
  const registries = [...new Set(names)].sort();
  const ecr: EcrRepositoryScope[] = [];
  const secrets: SecretScope[] = [];
  const roles = new Set<string>();
  for (const name of registries) {
    const r: RegistryConfig | undefined = config.registries[name];
    // validateConfig's cross-checks guarantee every environment's registries exist.
    if (!r) throw new Error(`internal: an environment names registry "${name}" that the config does not define`);
    const creds = r.credentials;
    if (r.kind === 'ecr' && creds?.iamRole === undefined) ecr.push({ registry: name, accountId: r.accountId, region: r.region, names: [{ prefix: '' }] });
    if (creds?.secretArn !== undefined) secrets.push({ registry: name, secretArn: creds.secretArn });
    if (creds?.secretName !== undefined) secrets.push({ registry: name, secretName: creds.secretName });
    if (creds?.iamRole !== undefined) roles.add(creds.iamRole);
  }
  return { registries, ecr, secrets, roles: [...roles].sort(), pullBudget: pullBudgetRegistries(config, registries) };
}

/**
 * What the promotion functions need, from the config's promotion edges only.
 *
 * @example
 * const access = promotionAccess(config);
 * access.targets.registries // ['acr-prod', 'ecr-dr', 'ecr-main', 'gar-eu', 'harbor']
 */
export function promotionAccess(config: RegmanConfig): PromotionAccess {
  const sources = new Set<string>();
  const targets = new Set<string>();
  const keySecrets: SecretScope[] = [];
  const lambdas = new Set<string>();
  const projects = new Set<string>();
  const scanSources = new Set<string>();
  for (const edge of config.promotion) {
    const from = config.environments[edge.from]?.registries[0];
    if (from !== undefined) sources.add(from);
    for (const r of config.environments[edge.to]?.registries ?? []) targets.add(r);
    for (const key of edge.gates.signature?.keys ?? []) {
      const id = `signature key ${key.id ?? key.secretName ?? key.secretArn ?? ''} (${edge.from} → ${edge.to})`;
      if (key.secretArn !== undefined) keySecrets.push({ registry: id, secretArn: key.secretArn });
      if (key.secretName !== undefined) keySecrets.push({ registry: id, secretName: key.secretName });
    }
    if (edge.gates.tests?.lambda !== undefined) lambdas.add(edge.gates.tests.lambda);
    if (edge.gates.tests?.codebuild !== undefined) projects.add(edge.gates.tests.codebuild);
    if (edge.gates.scan?.source === 'ecr' && from !== undefined) scanSources.add(from);
  }
  const localOnly = [...new Set([...sources, ...targets])].sort().filter((name) => {
    const creds = config.registries[name]?.credentials;
    return creds?.env !== undefined || creds?.dockerConfig !== undefined;
  });
  const uniqueSecrets = [...new Map(keySecrets.map((s) => [s.secretArn ?? `name:${s.secretName ?? ''}`, s])).values()];
  return {
    sources: side(config, sources),
    targets: side(config, targets),
    signatureKeySecrets: uniqueSecrets,
    testLambdas: [...lambdas].sort(),
    testProjects: [...projects].sort(),
    ecrScanSources: side(config, scanSources),
    localOnlyCredentials: localOnly,
  };
}
