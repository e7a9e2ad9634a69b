// A replication config from an open OCI source to a Docker Hub target whose data plane is a real registry behind the
// fault proxy (which answers 429 on demand), with the Hub adapter's rate budget on a clock the test can move ahead.
// Shared by the deferral tests of the per-push path and of the large-image fan-out.
import { expect } from 'vitest';
import type { DockerhubRegistryConfig, RegmanConfig } from '../../functions/config/types.ts';
import { validateConfig } from '../../functions/config/validate-config.ts';
import { createDockerHubAdapter } from '../../functions/registries/dockerhub/adapter.ts';
import { createAdapters } from '../../functions/registries/factory.ts';
import { RateBudget } from '../../functions/registries/rate-budget.ts';
import type { FaultProxy } from './fault-proxy.ts';

export interface HubBehindProxy {
  readonly config: RegmanConfig;
  readonly adapters: ReturnType<typeof createAdapters>;
}

/** `repositories`: the rule's source patterns; `now`: the budget's clock (jumps ahead when a deferral's wait has "passed"). */
export function hubBehindProxy(sourceUrl: string, proxy: FaultProxy, options: { readonly repositories: string[]; readonly now: () => number; readonly file: string }): HubBehindProxy {
  const { config, errors } = validateConfig(
    JSON.stringify({
      version: 1,
      registries: {
        source: { kind: 'oci', url: sourceUrl, public: true },
        hub: { kind: 'dockerhub', namespace: 'acme', credentials: { env: 'HUB' } },
      },
      replication: [{ name: 'to-hub', source: 'source', repositories: options.repositories, tags: { include: ['v*'] }, targets: [{ registry: 'hub' }] }],
    }),
    options.file,
  );
  expect(errors).toEqual([]);
  const adapters = createAdapters({ registries: { source: config!.registries.source! } });
  adapters.set(
    'hub',
    createDockerHubAdapter('hub', config!.registries.hub as DockerhubRegistryConfig, {
      env: { HUB_USERNAME: 'alice', HUB_PASSWORD: 'pw' },
      ociEndpoint: () => ({ host: proxy.host, plainHttp: true }),
      hubApiUrl: 'http://127.0.0.1:9',
      rateBudget: new RateBudget({ now: options.now }),
    }),
  );
  return { config: config!, adapters };
}
