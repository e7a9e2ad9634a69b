// Finds the configured registry an ECR event came from, by the event's account and region.
import type { RegmanConfig } from '../config/types.ts';

/**
 * The name of the ECR registry in `config` with this account id and region, or undefined when the
 * config has none (the event is then rejected: nothing is known about where it came from).
 *
 * @example
 * findSourceRegistry(config, event.account, event.region) // 'ecr-main'
 */
export function findSourceRegistry(config: Pick<RegmanConfig, 'registries'>, account: string, region: string): string | undefined {
  for (const [name, registry] of Object.entries(config.registries)) {
    if (registry.kind === 'ecr' && registry.accountId === account && registry.region === region) return name;
  }
  return undefined;
}
