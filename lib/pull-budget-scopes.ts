// Which registries spend from the Docker Hub pull budget every invocation shares (functions/registries/shared-pull-budget.ts).
//
// Pure data, no CDK. The Docker Hub adapter takes from the shared budget only when its config sets
// `rateLimit.pulls` (functions/registries/dockerhub/adapter.ts), and the schema refuses `pulls` on any
// other kind: a function that reaches none of these registries gets no `budget#` grant and no STATE_TABLE.
import type { RegistryConfig, RegmanConfig } from '../functions/config/index.ts';

/** True when the registry's adapter spends from the shared pull budget (Docker Hub with `rateLimit.pulls`). */
export function spendsSharedPullBudget(registry: RegistryConfig | undefined): boolean {
  return registry?.kind === 'dockerhub' && registry.rateLimit?.pulls !== undefined;
}

/**
 * The names among `names` whose adapter spends from the shared pull budget, sorted.
 *
 * @example
 * pullBudgetRegistries(config, ['ecr-main', 'dockerhub']) // ['dockerhub'] when dockerhub sets rateLimit.pulls
 */
export function pullBudgetRegistries(config: Pick<RegmanConfig, 'registries'>, names: Iterable<string>): string[] {
  return [...new Set(names)].filter((name) => spendsSharedPullBudget(config.registries[name])).sort();
}
