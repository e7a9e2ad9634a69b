// Runs the sweep the config asks for: the policy governing each repository of a registry, the registry's price, pull stats.
import type { AuditLog } from '../audit/audit-log.ts';
import type { RegmanConfig } from '../config/types.ts';
import { storagePriceOf } from '../config/schema-pricing.ts';
import type { LockedDigests } from './types.ts';
import type { RegistryAdapter } from '../registries/adapter.ts';
import { RetentionError } from './errors.ts';
import type { PullStatsScope, PullStatsStore } from './pull-stats.ts';
import { sweepRegistry, type SweepEvent, type SweepMode, type SweepReport } from './sweep.ts';
import type { PushTimeSource } from './sweep-inventory.ts';
import { governingPolicy, listSweepItems, policiesForRegistry } from './sweep-targets.ts';

/** A registry or repository the config gives no retention policy: nothing to sweep. */
export class NoRetentionPolicyError extends RetentionError {
  constructor(message: string) {
    super(message, 'NO_POLICY');
    this.name = 'NoRetentionPolicyError';
  }
}

export interface RunRetentionSweepOptions {
  readonly config: Pick<RegmanConfig, 'registries' | 'environments' | 'retention'>;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  readonly registry: string;
  /** Only this repository. @default every repository a policy governs */
  readonly repository?: string;
  readonly mode: SweepMode;
  readonly force?: boolean;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly actor: string;
  readonly correlationId: string;
  readonly now?: Date;
  readonly lockedDigests?: LockedDigests;
  /** Pull counters; used for ECR registries (the counters are keyed by account and region). */
  readonly pullStats?: PullStatsStore;
  readonly pushTimes?: PushTimeSource;
  readonly concurrency?: number;
  readonly onEvent?: (event: SweepEvent) => void;
}

/** Where an ECR registry's pull counters live; undefined for other kinds (CloudTrail covers ECR only). */
export function pullStatsScopeOf(config: Pick<RegmanConfig, 'registries'>, registry: string): PullStatsScope | undefined {
  const r = config.registries[registry];
  return r?.kind === 'ecr' ? { registryId: r.accountId, region: r.region } : undefined;
}

/**
 * Sweeps `registry` (or one repository of it) with the policies the config's `retention` section
 * assigns: per repository, the first policy covering the registry (by `registries` or
 * `environments`) whose `repositories` patterns match, with its `maxDeleteShare`.
 *
 * @throws NoRetentionPolicyError when the registry is unknown or no policy governs it (or the repository).
 * @example
 * const reports = await runRetentionSweep({ config, adapters, registry: 'ecr-prod', mode: 'dry-run', audit, actor: 'cli:alice', correlationId });
 */
export async function runRetentionSweep(o: RunRetentionSweepOptions): Promise<SweepReport[]> {
  const adapter = o.adapters.get(o.registry);
  const registryConfig = o.config.registries[o.registry];
  if (!adapter || !registryConfig) {
    throw new NoRetentionPolicyError(`no registry named "${o.registry}" in the config (configured: ${Object.keys(o.config.registries).join(', ') || 'none'})`);
  }
  if (policiesForRegistry(o.config, o.registry).length === 0) {
    throw new NoRetentionPolicyError(`no retention policy covers registry "${o.registry}": add one to the config's retention section (registries or environments)`);
  }
  let repositories: string[];
  if (o.repository !== undefined) {
    if (!governingPolicy(o.config, o.registry, o.repository)) {
      throw new NoRetentionPolicyError(`no retention policy covers repository "${o.repository}" of registry "${o.registry}" (check the policies' repositories patterns)`);
    }
    repositories = [o.repository];
  } else {
    repositories = (await listSweepItems(o.config, { registries: [o.registry], listRepositories: () => adapter.listRepositories() })).map((i) => i.repository);
  }
  const items = repositories.map((repository) => {
    const governing = governingPolicy(o.config, o.registry, repository)!;
    return {
      repository,
      policyName: governing.policyName,
      policy: governing.config.policy,
      ...(governing.config.maxDeleteShare !== undefined ? { maxDeleteShare: governing.config.maxDeleteShare } : {}),
      ...(governing.config.untaggedGraceHours !== undefined ? { untaggedGraceHours: governing.config.untaggedGraceHours } : {}),
    };
  });
  const scope = pullStatsScopeOf(o.config, o.registry);
  return sweepRegistry({
    adapter,
    items,
    mode: o.mode,
    audit: o.audit,
    actor: o.actor,
    correlationId: o.correlationId,
    ...(o.now ? { now: o.now } : {}),
    ...(o.force ? { force: true } : {}),
    ...(o.lockedDigests ? { lockedDigests: o.lockedDigests } : {}),
    ...(o.pullStats && scope ? { pullStats: { store: o.pullStats, scope } } : {}),
    ...(o.pushTimes ? { pushTimes: o.pushTimes } : {}),
    ...(storagePriceOf(registryConfig) !== undefined ? { pricePerGbMonth: storagePriceOf(registryConfig) } : {}),
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
  });
}
