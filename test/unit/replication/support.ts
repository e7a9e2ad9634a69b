// Test support for replication unit tests: a RegistryAdapter over the in-memory registry, a metrics recorder, a config.
import type { RegmanConfig } from '../../../functions/config/types.ts';
import type { ImageInfo, RegistryAdapter } from '../../../functions/registries/adapter.ts';
import { AnonymousCredentialProvider } from '../../../functions/registries/secrets.ts';
import type { MetricsLike, MetricUnitName } from '../../../functions/replication/observability.ts';
import { MemoryRegistry } from '../../helpers/memory-registry.ts';

/** A RegistryAdapter whose data plane is a MemoryRegistry; listing is catalog + tags (enough for reconcile). */
export function memoryAdapter(name: string, registry = new MemoryRegistry({ host: `${name}.test:5000` }), namespace = ''): RegistryAdapter & { registry: MemoryRegistry } {
  return {
    name,
    kind: 'oci',
    host: registry.host,
    namespace,
    oci: registry,
    registry,
    credentials: new AnonymousCredentialProvider(),
    ping: async () => undefined,
    listRepositories: async () => {
      const all = await registry.catalog();
      const prefix = namespace ? `${namespace}/` : '';
      return all.filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length));
    },
    listImages: async (): Promise<ImageInfo[]> => [],
    tagImage: async () => undefined,
    deleteImage: async () => undefined,
    close: () => undefined,
  };
}

export interface RecordedMetric {
  readonly name: string;
  readonly unit: MetricUnitName;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Records every data point. */
export class RecordingMetrics implements MetricsLike {
  readonly points: RecordedMetric[] = [];
  record(name: string, unit: MetricUnitName, value: number, dimensions: Readonly<Record<string, string>>): void {
    this.points.push({ name, unit, value, dimensions });
  }
  /** Value of `name` for `target` (last recorded). */
  value(name: string, target: string): number | undefined {
    return this.points.filter((p) => p.name === name && p.dimensions.target === target).at(-1)?.value;
  }
}

/** source → target-a (same name) and target-b (under mirror/), releases and latest only. */
export function replicationConfig(overrides: Partial<RegmanConfig['replication'][number]> = {}): RegmanConfig {
  return {
    version: 1,
    registries: {
      source: { kind: 'oci', url: 'http://127.0.0.1:5000', insecure: false, public: true },
      'target-a': { kind: 'oci', url: 'http://127.0.0.1:5001', insecure: false, public: true },
      'target-b': { kind: 'oci', url: 'http://127.0.0.1:5002', insecure: false, public: true },
    },
    environments: {},
    replication: [
      {
        name: 'mirror',
        source: 'source',
        repositories: ['**'],
        tags: { include: ['/^v\\d+(\\.\\d+)*$/', 'latest'], exclude: ['*-dirty'] },
        targets: [{ registry: 'target-a' }, { registry: 'target-b', repositoryPrefix: 'mirror' }],
        referrers: true,
        ...overrides,
      },
    ],
    promotion: [],
    retention: [],
  } as unknown as RegmanConfig;
}
