// Builds the adapter of a configured registry by its kind: the one place that knows every kind's module.
import type { RegistryConfig, RegmanConfig } from '../config/types.ts';
import type { RegistryAdapter } from './adapter.ts';
import type { AdapterDeps } from './deps.ts';
import { createAcrAdapter } from './acr/adapter.ts';
import { createDockerHubAdapter } from './dockerhub/adapter.ts';
import { createEcrAdapter } from './ecr/adapter.ts';
import { createGarAdapter, createGcrAdapter } from './gar/adapter.ts';
import { createOciAdapter } from './oci/adapter.ts';
import { SecretsManagerResolver } from './secrets.ts';
import { composeInterceptors, requestRateInterceptor, sharedTokenBucket } from './request-rate.ts';

/**
 * The adapter for one configured registry. Nothing is contacted and no secret is read until the
 * adapter is used.
 *
 * @example
 * const adapter = createAdapter('harbor', config.registries.harbor, { secrets });
 * const repos = await adapter.listRepositories();
 */
export function createAdapter(name: string, registry: RegistryConfig, baseDeps: AdapterDeps = {}): RegistryAdapter {
  // rateLimit.requestsPerSecond: one token bucket per registry name for the whole process. Docker Hub
  // keys its own per credential (its adapter reads the rate from the config).
  const rps = registry.rateLimit?.requestsPerSecond;
  const deps: AdapterDeps =
    rps === undefined || registry.kind === 'dockerhub'
      ? baseDeps
      : {
          ...baseDeps,
          ociOptions: {
            ...baseDeps.ociOptions,
            intercept: composeInterceptors(baseDeps.ociOptions?.intercept, requestRateInterceptor(() => sharedTokenBucket(`registry:${name}`, rps))),
          },
        };
  switch (registry.kind) {
    case 'ecr':
      return createEcrAdapter(name, registry, deps);
    case 'gar':
      return createGarAdapter(name, registry, deps);
    case 'gcr':
      return createGcrAdapter(name, registry, deps);
    case 'acr':
      return createAcrAdapter(name, registry, deps);
    case 'dockerhub':
      return createDockerHubAdapter(name, registry, deps);
    case 'oci':
      return createOciAdapter(name, registry, deps);
  }
}

/**
 * An adapter for every registry of a validated config, by name. The adapters share one
 * SecretResolver (so one TTL cache) unless `deps.secrets` is given.
 * Close them with `closeAdapters` when done.
 */
export function createAdapters(config: Pick<RegmanConfig, 'registries'>, deps: AdapterDeps = {}): Map<string, RegistryAdapter> {
  const shared: AdapterDeps = { ...deps, secrets: deps.secrets ?? new SecretsManagerResolver() };
  const out = new Map<string, RegistryAdapter>();
  for (const [name, registry] of Object.entries(config.registries)) out.set(name, createAdapter(name, registry, shared));
  return out;
}

/** Closes every adapter (sockets, timers); one failing to close does not keep the others open. */
export function closeAdapters(adapters: Iterable<RegistryAdapter>): void {
  for (const a of adapters) {
    try {
      a.close();
    } catch {
      // Closing is best effort: nothing useful can be done about a socket that will not close.
    }
  }
}
