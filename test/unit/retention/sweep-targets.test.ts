// Which policy governs which registry and repository, the saving estimate, and the sweep's safety-net set.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../functions/config/index.ts';
import { planRetention } from '../../../functions/retention/planner.ts';
import { monthlySaving, protectedDigests } from '../../../functions/retention/sweep.ts';
import { governingPolicy, listSweepItems, registriesOfPolicy } from '../../../functions/retention/sweep-targets.ts';
import { parseInventory, parsePolicy } from '../../../functions/retention/index.ts';

const CONFIG = `
version: 1
registries:
  dev-a: { kind: oci, url: 'http://127.0.0.1:5001', public: true }
  dev-b: { kind: oci, url: 'http://127.0.0.1:5002', public: true }
  prod: { kind: oci, url: 'http://127.0.0.1:5003', public: true, storagePricePerGbMonth: 0.1 }
  other: { kind: oci, url: 'http://127.0.0.1:5004', public: true }
environments:
  dev: { registries: [dev-a, dev-b] }
  prod: { registries: [prod] }
retention:
  - name: prod-legacy
    environments: [prod]
    repositories: ['legacy/**']
    rules: { delete: { untagged: true } }
  - name: prod
    environments: [prod]
    rules: { delete: { olderThanDays: 90 }, keep: { last: 10 } }
  - name: dev
    environments: [dev]
    registries: [other]
    repositories: ['team/*', '/^tools-/']
    rules: { delete: { olderThanDays: 14 } }
`;

function config() {
  const result = validateConfig(CONFIG, 'test.yaml', { env: {} });
  if (!result.config) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

describe('sweep targets', () => {
  it('a policy covers its registries plus its environments\' registries', () => {
    const c = config();
    expect(registriesOfPolicy(c, c.retention[2]!).sort()).toEqual(['dev-a', 'dev-b', 'other']);
    expect(registriesOfPolicy(c, c.retention[1]!)).toEqual(['prod']);
  });

  it.each([
    ['prod', 'legacy/app', 'prod-legacy'],
    ['prod', 'shop/api', 'prod'],
    ['dev-a', 'team/app', 'dev'],
    ['dev-b', 'tools-lint', 'dev'],
    ['dev-a', 'team/app/nested', undefined],
    ['other', 'shop/api', undefined],
  ])('%s %s → %s (first matching policy in config order)', (registry, repository, policy) => {
    expect(governingPolicy(config(), registry, repository)?.policyName).toBe(policy);
  });

  it('lists only governed repositories of covered registries, sorted, and never lists an uncovered registry', async () => {
    const asked: string[] = [];
    const items = await listSweepItems(config(), {
      listRepositories: async (r) => {
        asked.push(r);
        return { 'dev-a': ['team/b', 'team/a', 'misc'], 'dev-b': ['tools-x'], prod: ['legacy/x', 'shop/api'], other: ['team/z'] }[r] ?? [];
      },
    });
    expect(items).toEqual([
      { registry: 'dev-a', repository: 'team/a', policy: 'dev' },
      { registry: 'dev-a', repository: 'team/b', policy: 'dev' },
      { registry: 'dev-b', repository: 'tools-x', policy: 'dev' },
      { registry: 'other', repository: 'team/z', policy: 'dev' },
      { registry: 'prod', repository: 'legacy/x', policy: 'prod-legacy' },
      { registry: 'prod', repository: 'shop/api', policy: 'prod' },
    ]);
    const onlyProd = await listSweepItems(config(), { registries: ['prod'], listRepositories: async () => ['a'] });
    expect(onlyProd).toEqual([{ registry: 'prod', repository: 'a', policy: 'prod' }]);
    expect(asked.sort()).toEqual(['dev-a', 'dev-b', 'other', 'prod']);
  });
});

describe('monthlySaving', () => {
  it('prices GiB-months to the cent, and is null without a price', () => {
    expect(monthlySaving(10 * 1024 ** 3, 0.1)).toBe(1);
    expect(monthlySaving(1024 ** 3 / 3, 0.1)).toBe(0.03);
    expect(monthlySaving(1024 ** 3, undefined)).toBeNull();
  });
});

describe('protectedDigests', () => {
  it('holds every kept digest, the children of kept indexes and the subjects of kept referrers', () => {
    const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
    const inventory = parseInventory({
      repository: 'app',
      images: [
        { digest: d(1), tags: ['v1'], pushedAt: '2024-01-01T00:00:00Z', manifests: [d(2), d(3)] },
        { digest: d(2), pushedAt: '2024-01-01T00:00:00Z' },
        { digest: d(3), pushedAt: '2024-01-01T00:00:00Z' },
        { digest: d(4), tags: ['old'], pushedAt: '2020-01-01T00:00:00Z' },
        { digest: d(5), pushedAt: '2020-01-01T00:00:00Z', subject: d(4) },
      ],
    });
    const plan = planRetention(inventory, parsePolicy({ delete: { olderThanDays: 30 }, keep: { tags: ['v*'] } }), { now: '2024-06-01T00:00:00Z', force: true });
    expect([...protectedDigests(inventory, plan)].sort()).toEqual([d(1), d(2), d(3)]);
    expect(plan.deleteOrder).toEqual([d(5), d(4)]);
  });
});
