// createAdapter dispatches on kind; createAdapters builds one adapter per configured registry and shares one secret cache.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RegistryConfig } from '../../../functions/config/types.ts';
import type { RegistryAdapter } from '../../../functions/registries/adapter.ts';
import type { AdapterDeps } from '../../../functions/registries/deps.ts';

// The other kinds' modules are replaced by recorders: this test is about dispatch, and each kind has
// its own suite (test/integration/adapters/<kind>.test.ts).
const made: Array<{ kind: string; name: string; config: RegistryConfig; deps: AdapterDeps }> = [];
function recorder(kind: string) {
  return (name: string, config: RegistryConfig, deps: AdapterDeps) => {
    made.push({ kind, name, config, deps });
    return { name, kind: config.kind, host: `${kind}.test`, namespace: '', close: () => undefined } as unknown as RegistryAdapter;
  };
}
vi.mock('../../../functions/registries/ecr/adapter.ts', () => ({ createEcrAdapter: recorder('ecr') }));
vi.mock('../../../functions/registries/gar/adapter.ts', () => ({ createGarAdapter: recorder('gar'), createGcrAdapter: recorder('gcr') }));
vi.mock('../../../functions/registries/acr/adapter.ts', () => ({ createAcrAdapter: recorder('acr') }));
vi.mock('../../../functions/registries/dockerhub/adapter.ts', () => ({ createDockerHubAdapter: recorder('dockerhub') }));

const { createAdapter, createAdapters, closeAdapters } = await import('../../../functions/registries/factory.ts');
const { SecretsManagerResolver } = await import('../../../functions/registries/secrets.ts');

const common = { public: false } as const;
const REGISTRIES: Record<string, RegistryConfig> = {
  'ecr-main': { kind: 'ecr', region: 'eu-west-1', accountId: '123456789012', ...common },
  'gar-eu': { kind: 'gar', project: 'my-project-123', location: 'europe-west1', credentials: { secretName: 'gar/key' }, ...common },
  gcr: { kind: 'gcr', project: 'my-project-123', host: 'gcr.io', credentials: { secretName: 'gcr/key' }, ...common },
  'acr-prod': { kind: 'acr', name: 'myregistry', credentials: { secretName: 'acr/sp' }, ...common },
  hub: { kind: 'dockerhub', namespace: 'myorg', credentials: { env: 'HUB' }, ...common },
  harbor: { kind: 'oci', url: 'https://harbor.example.com:8443', insecure: false, credentials: { env: 'HARBOR' }, ...common },
};

describe('createAdapter', () => {
  beforeEach(() => {
    made.length = 0;
  });

  it.each([
    ['ecr-main', 'ecr'],
    ['gar-eu', 'gar'],
    ['gcr', 'gcr'],
    ['acr-prod', 'acr'],
    ['hub', 'dockerhub'],
  ])('hands %s to the %s module with its config and deps', (name, kind) => {
    // Prepare
    const deps: AdapterDeps = { userAgent: 'test-agent' };
    const config = REGISTRIES[name] as RegistryConfig;

    // Act
    const adapter = createAdapter(name, config, deps);

    // Assess
    expect(made).toEqual([{ kind, name, config, deps }]);
    expect(adapter.name).toBe(name);
  });

  it('builds a generic OCI adapter itself, on the URL\'s host, without contacting it', () => {
    const adapter = createAdapter('harbor', REGISTRIES.harbor as RegistryConfig, { env: {} });
    expect(adapter).toMatchObject({ name: 'harbor', kind: 'oci', host: 'harbor.example.com:8443', namespace: '' });
    expect(made).toEqual([]);
    adapter.close();
  });

  it('lets an endpoint override point the data plane elsewhere (tests)', () => {
    const adapter = createAdapter('harbor', REGISTRIES.harbor as RegistryConfig, {
      ociEndpoint: (host) => (host === 'harbor.example.com:8443' ? { host: '127.0.0.1:5999', plainHttp: true } : undefined),
    });
    expect(adapter.host).toBe('127.0.0.1:5999');
    expect(adapter.oci.host).toBe('127.0.0.1:5999');
    adapter.close();
  });
});

describe('createAdapters', () => {
  beforeEach(() => {
    made.length = 0;
  });

  it('builds every configured registry by name and gives them one shared SecretResolver', () => {
    const adapters = createAdapters({ registries: REGISTRIES }, { env: {} });

    expect([...adapters.keys()]).toEqual(Object.keys(REGISTRIES));
    const secrets = made.map((m) => m.deps.secrets);
    expect(secrets[0]).toBeInstanceOf(SecretsManagerResolver);
    expect(new Set(secrets).size).toBe(1);
    closeAdapters(adapters.values());
  });

  it('passes a given SecretResolver through unchanged', () => {
    const secrets = { getSecret: async () => 'x' };
    createAdapters({ registries: { hub: REGISTRIES.hub as RegistryConfig } }, { secrets });
    expect(made[0]?.deps.secrets).toBe(secrets);
  });

  it('closes every adapter even when one throws on close', () => {
    const closed: string[] = [];
    const adapters = ['a', 'b', 'c'].map((n) => ({
      close: () => {
        closed.push(n);
        if (n === 'a') throw new Error('stuck');
      },
    })) as unknown as RegistryAdapter[];
    closeAdapters(adapters);
    expect(closed).toEqual(['a', 'b', 'c']);
  });
});
