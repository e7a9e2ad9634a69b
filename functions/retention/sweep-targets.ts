// Which retention policy of the config applies to which registry and repository (the sweep's fan-out list).
import { matchesAny } from '../config/patterns.ts';
import type { RegmanConfig, RetentionPolicyConfig } from '../config/types.ts';

/** One policy as it applies to one registry. */
export interface RegistryPolicy {
  readonly registry: string;
  readonly policyName: string;
  readonly config: RetentionPolicyConfig;
}

/** One unit of sweep work: a repository of a registry and the policy that governs it. */
export interface SweepItem {
  readonly registry: string;
  readonly repository: string;
  /** The retention policy's `name` in the config. */
  readonly policy: string;
}

/**
 * The registries a retention policy covers: its `registries`, plus the registries of its
 * `environments`; every configured registry when it names neither.
 */
export function registriesOfPolicy(config: Pick<RegmanConfig, 'registries' | 'environments'>, policy: RetentionPolicyConfig): string[] {
  if (policy.registries === undefined && policy.environments === undefined) return Object.keys(config.registries);
  const out = new Set<string>(policy.registries ?? []);
  for (const env of policy.environments ?? []) for (const r of config.environments[env]?.registries ?? []) out.add(r);
  return [...out].filter((r) => config.registries[r] !== undefined);
}

/** The policies of `registry`, in config order (the first whose repositories match a repository governs it). */
export function policiesForRegistry(config: Pick<RegmanConfig, 'registries' | 'environments' | 'retention'>, registry: string): RegistryPolicy[] {
  return config.retention
    .filter((p) => registriesOfPolicy(config, p).includes(registry))
    .map((p) => ({ registry, policyName: p.name, config: p }));
}

/** The config-level repository filter (globs or `/regex/`); no `repositories` matches every repository. */
export function policyCoversRepository(policy: RetentionPolicyConfig, repository: string): boolean {
  return policy.repositories === undefined || matchesAny(repository, policy.repositories);
}

/**
 * The policy that governs `repository` in `registry`: the first policy, in config order, that covers
 * the registry and whose `repositories` patterns match. Undefined when none does.
 *
 * @example
 * const governing = governingPolicy(config, 'ecr-prod', 'shop/api'); // { policyName: 'prod', config: {...} }
 */
export function governingPolicy(config: Pick<RegmanConfig, 'registries' | 'environments' | 'retention'>, registry: string, repository: string): RegistryPolicy | undefined {
  return policiesForRegistry(config, registry).find((p) => policyCoversRepository(p.config, repository));
}

export interface ListSweepItemsOptions {
  /** Only these registries. @default every registry some policy covers */
  readonly registries?: readonly string[];
  /** Lists a registry's repositories (the adapter's listRepositories). */
  readonly listRepositories: (registry: string) => Promise<string[]>;
}

/**
 * Every (registry, repository, policy) a sweep must visit, sorted. A registry no policy covers is not
 * listed at all (its repositories are never read).
 */
export async function listSweepItems(config: Pick<RegmanConfig, 'registries' | 'environments' | 'retention'>, options: ListSweepItemsOptions): Promise<SweepItem[]> {
  const wanted = options.registries ? new Set(options.registries) : undefined;
  const registries = Object.keys(config.registries).filter((r) => (!wanted || wanted.has(r)) && policiesForRegistry(config, r).length > 0);
  const items: SweepItem[] = [];
  for (const registry of registries.sort()) {
    for (const repository of (await options.listRepositories(registry)).sort()) {
      const governing = governingPolicy(config, registry, repository);
      if (governing) items.push({ registry, repository, policy: governing.policyName });
    }
  }
  return items;
}
